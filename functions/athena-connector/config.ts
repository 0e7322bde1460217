/**
 * The connector's environment, validated once per cold start; every problem in one error naming the variable.
 * The proxy and SaaS variables mean exactly what they mean for saas-export (functions/saas-export/index.ts).
 */
import * as fs from "fs";
import * as z from "zod/mini";
import {
  proxyHeaderNameProblem,
  proxyUrl as parseProxyUrl,
  SAAS_DEADLINES,
  saasMaxPages,
} from "../saas-export/settings";
import * as vars from "../shared/env-mini";
import type { LogLevel } from "../shared/log";
import type { RetryPolicy } from "../shared/retry";
import { ConnectorError } from "./errors";
import { NAME, parseTables, Table } from "./tables";

export interface ConnectorConfig {
  proxyUrl: string;
  proxyHeaderName: string;
  proxyHeaderSecretId: string;
  authSecretId?: string;
  extraCa?: string;
  /** The one schema (database) the catalog shows. */
  schemaName: string;
  tables: Table[];
  spillBucket: string;
  /** "" or ends with "/". */
  spillPrefix: string;
  /** Largest Arrow record batch returned inline (before base64); larger results spill. */
  inlineMaxBytes: number;
  /** Target size of one spilled block. */
  spillBlockBytes: number;
  timeoutMs: number;
  proxyConnectTimeoutMs: number;
  retry: RetryPolicy;
  maxPages: number;
  logLevel: LogLevel;
}

const MiB = 1024 * 1024;

const schema = z.object({
  PROXY_URL: vars.requiredVar(
    "PROXY_URL",
    "set it to the proxy tier's load balancer, e.g. http://internal-egress-proxy-123.ap-northeast-1.elb.amazonaws.com:3128",
  ),
  PROXY_HEADER_NAME: vars.requiredVar(
    "PROXY_HEADER_NAME",
    "set it to the secret header Squid requires on CONNECT (the proxy tier's headerName), e.g. X-Lambda-Proxy-Token",
  ),
  PROXY_HEADER_SECRET_ID: vars.requiredVar(
    "PROXY_HEADER_SECRET_ID",
    "set it to the Secrets Manager secret whose SecretString is the proxy header's value",
  ),
  SAAS_AUTH_SECRET_ID: vars.optionalTrimmed(),
  SAAS_CA_FILE: vars.optionalTrimmed(),
  ATHENA_TABLES: vars.requiredVar(
    "ATHENA_TABLES",
    "set it to the JSON array of table definitions (athenaConnector.tables)",
  ),
  SCHEMA_NAME: vars.optionalTrimmed(),
  SPILL_BUCKET: vars.requiredVar("SPILL_BUCKET", "set it to the name of the spill bucket large results are written to"),
  SPILL_PREFIX: z.optional(z.string()),
  INLINE_MAX_BYTES: vars.integerVar(
    "INLINE_MAX_BYTES",
    "largest result returned inline; Lambda's response limit is 6 MB and base64 adds a third",
    1_024,
    4 * MiB,
    4 * MiB - 64 * 1024,
  ),
  SPILL_BLOCK_BYTES: vars.integerVar(
    "SPILL_BLOCK_BYTES",
    "target size of one spilled block",
    64 * 1024,
    256 * MiB,
    16 * MiB,
  ),
  ...SAAS_DEADLINES,
  ...vars.retryVariables("", "attempts per SaaS request, the first included", {
    maxAttempts: 3,
    baseMs: 300,
    maxMs: 5_000,
  }),
  SAAS_MAX_PAGES: saasMaxPages("pages one split reads before it fails instead of looping forever"),
  LOG_LEVEL: vars.logLevelVar(),
});

export function loadConfig(env: NodeJS.ProcessEnv = process.env): ConnectorConfig {
  const r = schema.safeParse(env);
  const problems = r.success ? [] : r.error.issues.map((i) => i.message);
  if (!r.success) throw configError(problems);
  const v = r.data;
  const proxy = parseProxyUrl(v.PROXY_URL);
  if (typeof proxy !== "string") problems.push(`PROXY_URL ${proxy.problem}`);
  const headerName = proxyHeaderNameProblem(v.PROXY_HEADER_NAME);
  if (headerName) problems.push(headerName);
  let tables: Table[] = [];
  try {
    const parsed = parseTables(JSON.parse(v.ATHENA_TABLES), "ATHENA_TABLES");
    problems.push(...parsed.problems);
    tables = parsed.tables;
  } catch (e) {
    problems.push(`ATHENA_TABLES is not JSON (${(e as Error).message}): set it to the JSON array of table definitions`);
  }
  const schemaName = v.SCHEMA_NAME || "saas";
  if (!NAME.test(schemaName))
    problems.push(
      `SCHEMA_NAME "${schemaName}" must be lower case letters, digits and '_' (Athena lower-cases database names)`,
    );
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(v.SPILL_BUCKET))
    problems.push(`SPILL_BUCKET must be an S3 bucket name; got "${v.SPILL_BUCKET}"`);
  const spillPrefix = v.SPILL_PREFIX ?? "athena-spill/";
  if (spillPrefix !== "" && (!spillPrefix.endsWith("/") || spillPrefix.startsWith("/") || spillPrefix.includes("//"))) {
    problems.push(
      `SPILL_PREFIX must be "" or a key prefix ending in '/', without a leading '/', e.g. athena-spill/; got "${spillPrefix}"`,
    );
  }
  problems.push(...vars.retryOrderProblems("", v));
  let extraCa: string | undefined;
  if (v.SAAS_CA_FILE) {
    try {
      extraCa = fs.readFileSync(v.SAAS_CA_FILE, "utf8");
    } catch (e) {
      problems.push(
        `SAAS_CA_FILE ${v.SAAS_CA_FILE} cannot be read (${(e as NodeJS.ErrnoException).code}): unset it (it is for tests with a private CA)`,
      );
    }
  }
  if (problems.length > 0) throw configError(problems);
  return {
    proxyUrl: proxy as string,
    proxyHeaderName: v.PROXY_HEADER_NAME,
    proxyHeaderSecretId: v.PROXY_HEADER_SECRET_ID,
    authSecretId: v.SAAS_AUTH_SECRET_ID || undefined,
    extraCa,
    schemaName,
    tables,
    spillBucket: v.SPILL_BUCKET,
    spillPrefix,
    inlineMaxBytes: v.INLINE_MAX_BYTES,
    spillBlockBytes: v.SPILL_BLOCK_BYTES,
    timeoutMs: v.SAAS_TIMEOUT_MS,
    proxyConnectTimeoutMs: v.PROXY_CONNECT_TIMEOUT_MS,
    retry: vars.retryPolicy("", v),
    maxPages: v.SAAS_MAX_PAGES,
    logLevel: v.LOG_LEVEL,
  };
}

export function configError(problems: string[]): ConnectorError {
  return new ConnectorError("config", `athena-connector is misconfigured: ${problems.join("; ")}.`);
}
