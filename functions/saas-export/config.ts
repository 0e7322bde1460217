/**
 * The handler's configuration: environment variables only, validated once per cold start. Every problem is reported
 * in one error that names the variable and says what to put in it. The contract is listed in ./index.ts.
 */
import * as fs from "fs";
import * as z from "zod/mini";
import { ExportError } from "./errors";
import { JsonPath, parseJsonPath } from "./json-path";
import {
  Pagination,
  pagination,
  proxyHeaderNameProblem,
  proxyUrl,
  SAAS_DEADLINES,
  saasMaxPages,
  saasUrl,
} from "./settings";
import type { LogLevel } from "../shared/log";
import {
  integerVar,
  logLevelVar,
  optionalTrimmed,
  requiredVar,
  retryOrderProblems,
  retryPolicy,
  retryVariables,
} from "../shared/env-mini";
import type { RetryPolicy } from "../shared/retry";

export interface ExportConfig {
  /** `http://<host>:<port>`, no trailing slash. */
  proxyUrl: string;
  proxyHeaderName: string;
  proxyHeaderSecretId: string;
  saasUrl: URL;
  authSecretId?: string;
  pagination: Pagination;
  recordsPath: JsonPath;
  bucket: string;
  /** "" or ends with "/". */
  prefix: string;
  /** PEM text of SAAS_CA_FILE: trusted in addition to Node's public roots. */
  extraCa?: string;
  caFile?: string;
  timeoutMs: number;
  proxyConnectTimeoutMs: number;
  retry: RetryPolicy;
  maxPages: number;
  partMaxBytes: number;
  partMaxRecords: number;
  deadlineMarginMs: number;
  /** Publish a run only if it has at least this share of the records published before it (0 = never compare). */
  publishMinShare: number;
  /** SAAS_EMPTY_LAST_PAGE=normal: an empty last page is how this SaaS ends, not an anomaly. */
  emptyLastPageIsNormal: boolean;
  logLevel: LogLevel;
}

/** A custom issue with `message`, for a transform or refinement to add. */
const custom = (payload: { issues: unknown[]; value: unknown }, message: string) =>
  payload.issues.push({ code: "custom", message, input: payload.value });

/** Parses with `parse`, which returns the value or a problem sentence (appended to the variable's name). */
const parsed = <T>(name: string, what: string, parse: (v: string) => T | { problem: string }) =>
  z.pipe(
    requiredVar(name, what),
    z.transform((v: string, payload) => {
      const r = parse(v);
      if (r !== null && typeof r === "object" && "problem" in (r as object)) {
        custom(payload, `${name} ${(r as { problem: string }).problem}`);
        return z.NEVER;
      }
      return r as T;
    }),
  );

/** Headers a proxy consumes or rewrites itself; Squid's req_header ACL could never match them reliably. */
const RESERVED_PROXY_HEADERS = new Set([
  "host",
  "connection",
  "proxy-connection",
  "proxy-authorization",
  "content-length",
  "transfer-encoding",
  "via",
  "x-forwarded-for",
  "forwarded",
]);

const MiB = 1024 * 1024;

const envSchema = z.object({
  PROXY_URL: parsed(
    "PROXY_URL",
    "set it to the proxy tier's load balancer, e.g. http://internal-egress-proxy-123.ap-northeast-1.elb.amazonaws.com:3128",
    proxyUrl,
  ),
  PROXY_HEADER_NAME: requiredVar(
    "PROXY_HEADER_NAME",
    "set it to the secret header Squid requires (the proxy tier's headerName), e.g. X-Lambda-Proxy-Token",
  ).check(
    z.superRefine((v, ctx) => {
      const shape = proxyHeaderNameProblem(v);
      if (shape) {
        ctx.addIssue({ code: "custom", message: shape });
      } else if (RESERVED_PROXY_HEADERS.has(v.toLowerCase())) {
        ctx.addIssue({
          code: "custom",
          message: `PROXY_HEADER_NAME "${v}" is a standard header the proxy handles itself: use a dedicated one, e.g. X-Lambda-Proxy-Token`,
        });
      }
    }),
  ),
  PROXY_HEADER_SECRET_ID: requiredVar(
    "PROXY_HEADER_SECRET_ID",
    "set it to the name or ARN of the Secrets Manager secret whose SecretString is the proxy header's value",
  ),
  SAAS_URL: parsed(
    "SAAS_URL",
    "set it to the https URL of the first page, e.g. https://api.example.com/v1/items?limit=500",
    saasUrl,
  ),
  SAAS_AUTH_SECRET_ID: optionalTrimmed(),
  SAAS_PAGINATION: parsed(
    "SAAS_PAGINATION",
    "set it to none, link, cursor:<path of the next cursor>:<query parameter> or page:<query parameter>",
    pagination,
  ),
  SAAS_RECORDS_PATH: parsed(
    "SAAS_RECORDS_PATH",
    "set it to where each page holds its array of records, e.g. data.items (or $ for a bare array)",
    (v) => {
      const p = parseJsonPath(v);
      return typeof p === "string" ? { problem: p } : p;
    },
  ),
  BUCKET: parsed("BUCKET", "set it to the name of the S3 bucket the export writes to", (v) =>
    /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(v) && !/\.\.|^\d+\.\d+\.\d+\.\d+$/.test(v)
      ? v
      : {
          problem: `must be an S3 bucket name (3-63 lower-case letters, digits, '.' and '-'; not an ARN or s3:// URL); got "${v}"`,
        },
  ),
  PREFIX: z.pipe(
    z.string({
      error: "PREFIX is not set: set it to the key prefix of the export's table, ending in '/', e.g. raw/saas/",
    }),
    z.transform((v: string, payload) => {
      const problem = prefixProblem(v);
      if (problem) {
        custom(payload, `PREFIX ${problem}; got "${v}"`);
        return z.NEVER;
      }
      return v;
    }),
  ),
  SAAS_CA_FILE: optionalTrimmed(),
  ...SAAS_DEADLINES,
  ...retryVariables("", "attempts per SaaS or S3 request, the first included", {
    maxAttempts: 5,
    baseMs: 500,
    maxMs: 20_000,
  }),
  SAAS_MAX_PAGES: saasMaxPages("pages after which the export fails instead of looping forever"),
  PART_MAX_BYTES: integerVar(
    "PART_MAX_BYTES",
    "size at which a part object is closed; at most two are held in memory",
    1_024,
    1_024 * MiB,
    32 * MiB,
  ),
  PART_MAX_RECORDS: integerVar(
    "PART_MAX_RECORDS",
    "records at which a part object is closed",
    1,
    100_000_000,
    1_000_000,
  ),
  DEADLINE_MARGIN_MS: integerVar(
    "DEADLINE_MARGIN_MS",
    "time before the Lambda timeout at which the export gives up cleanly",
    0,
    600_000,
    10_000,
  ),
  PUBLISH_MIN_SHARE: z.pipe(
    optionalTrimmed(),
    z.transform((v: string | undefined, payload) => {
      if (v === undefined || v === "") return 0.9;
      const n = Number(v);
      if (!/^\d*\.?\d+$/.test(v) || !(n >= 0 && n <= 1)) {
        custom(
          payload,
          `PUBLISH_MIN_SHARE must be a number from 0 to 1 (the share of the previously published records a run needs to be published; 0 turns the check off); got "${v}"`,
        );
        return z.NEVER;
      }
      return n;
    }),
  ),
  SAAS_EMPTY_LAST_PAGE: optionalTrimmed().check(
    z.refine((v) => v === undefined || v === "" || v === "anomaly" || v === "normal", {
      error: (iss) =>
        `SAAS_EMPTY_LAST_PAGE must be "anomaly" (default: an empty last page after a non-empty one refuses publication) or "normal"; got "${String(iss.input)}"`,
    }),
  ),
  LOG_LEVEL: logLevelVar(),
});

/** Reads and validates the environment; throws one `ExportError("config")` listing every problem. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): ExportConfig {
  const result = envSchema.safeParse(env);
  const problems = result.success ? [] : result.error.issues.map((i) => i.message);
  let extraCa: string | undefined;
  const caFile = env.SAAS_CA_FILE?.trim() || undefined;
  if (caFile) {
    try {
      extraCa = fs.readFileSync(caFile, "utf8");
      if (!extraCa.includes("-----BEGIN CERTIFICATE-----"))
        problems.push(
          `SAAS_CA_FILE ${caFile} holds no PEM certificate: point it at a CA bundle in PEM form, or unset it`,
        );
    } catch (e) {
      problems.push(
        `SAAS_CA_FILE ${caFile} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}): unset it (it is for tests with a private CA) or ship the file with the function`,
      );
    }
  }
  if (result.success) problems.push(...retryOrderProblems("", result.data));
  if (!result.success || problems.length > 0) throw configError(problems);
  const v = result.data;
  return {
    proxyUrl: v.PROXY_URL,
    proxyHeaderName: v.PROXY_HEADER_NAME,
    proxyHeaderSecretId: v.PROXY_HEADER_SECRET_ID,
    saasUrl: v.SAAS_URL,
    authSecretId: v.SAAS_AUTH_SECRET_ID || undefined,
    pagination: v.SAAS_PAGINATION,
    recordsPath: v.SAAS_RECORDS_PATH,
    bucket: v.BUCKET,
    prefix: v.PREFIX,
    extraCa,
    caFile,
    timeoutMs: v.SAAS_TIMEOUT_MS,
    proxyConnectTimeoutMs: v.PROXY_CONNECT_TIMEOUT_MS,
    retry: retryPolicy("", v),
    maxPages: v.SAAS_MAX_PAGES,
    partMaxBytes: v.PART_MAX_BYTES,
    partMaxRecords: v.PART_MAX_RECORDS,
    deadlineMarginMs: v.DEADLINE_MARGIN_MS,
    publishMinShare: v.PUBLISH_MIN_SHARE,
    emptyLastPageIsNormal: v.SAAS_EMPTY_LAST_PAGE === "normal",
    logLevel: v.LOG_LEVEL,
  };
}

export function configError(problems: string[]): ExportError {
  return new ExportError("config", `saas-export is misconfigured: ${problems.join("; ")}.`);
}

function prefixProblem(v: string): string | undefined {
  if (v === "") return undefined;
  if (v.startsWith("/")) return "must not start with '/' (S3 keys have no leading slash), e.g. raw/saas/";
  if (v.startsWith("s3://"))
    return "is a key prefix, not an s3:// URL: put the bucket in BUCKET and e.g. raw/saas/ here";
  if (!v.endsWith("/")) return "must end with '/' so the partitions are folders under it, e.g. raw/saas/";
  if (v.includes("//")) return "must not contain '//'";
  if (/(^|\/)dt=/.test(v)) return "must stop above the dt=YYYY-MM-DD partition folders, which the export adds itself";
  if (/[\x00-\x1f\x7f]/.test(v)) return "must not contain control characters";
  return undefined;
}

/** The pagination rule of SAAS_PAGINATION, for config validation before deployment. */
export { pagination as parsePagination };
