/**
 * The handler's configuration: environment variables only, validated once per cold start. Every problem is reported
 * in one error that names the variable and says what to put in it.
 */
import * as z from "zod";
import { SyncError } from "./errors";
import type { LogLevel } from "../shared/log";
import { integer, logLevel, required, retryPolicy, retryVariables } from "../shared/env";
import type { RetryPolicy } from "../shared/retry";

export interface SyncConfig {
  baseUrl: string;
  appId: number;
  guestSpaceId?: number;
  /** Record condition without order by / limit / offset ("" = every record). */
  condition: string;
  tokenSecretId: string;
  allowlistHint: string;
  /** DynamoDB table holding the position a stopped run resumes from (partition key "id", String). */
  checkpointTable: string;
  /** KINTONE_TRANSFORM_OPTIONS, JSON-parsed (undefined when unset), before the transform's own validation. */
  transformOptions: unknown;
  retry: RetryPolicy;
  timeoutMs: number;
  /** Stop reading this long before the Lambda timeout, so the pending writes can still be flushed. */
  deadlineMarginMs: number;
  logLevel: LogLevel;
}

const KINTONE_HOSTS = [".cybozu.com", ".kintone.com", ".cybozu.cn"];

const envSchema = z.object({
  KINTONE_BASE_URL: required(
    "KINTONE_BASE_URL",
    "set it to your kintone domain, e.g. https://example.cybozu.com",
  ).superRefine((v, ctx) => {
    const problem = baseUrlProblem(v);
    if (problem) ctx.addIssue({ code: "custom", message: `KINTONE_BASE_URL ${problem}; got "${v}"` });
  }),
  KINTONE_APP_ID: required(
    "KINTONE_APP_ID",
    "set it to the app's ID, the number in https://<sub>.cybozu.com/k/<ID>/",
  ).refine((v) => /^[1-9]\d*$/.test(v), {
    error: (iss) =>
      `KINTONE_APP_ID must be the app's numeric ID (the number in https://<sub>.cybozu.com/k/<ID>/); got "${String(iss.input)}"`,
  }),
  KINTONE_GUEST_SPACE_ID: z
    .string()
    .trim()
    .optional()
    .refine((v) => v === undefined || v === "" || /^[1-9]\d*$/.test(v), {
      error: (iss) =>
        `KINTONE_GUEST_SPACE_ID must be the guest space's numeric ID, or unset for apps outside guest spaces; got "${String(iss.input)}"`,
    }),
  KINTONE_QUERY: z
    .string()
    .optional()
    .superRefine((v, ctx) => {
      const problem = v === undefined ? undefined : queryProblem(v);
      if (problem) ctx.addIssue({ code: "custom", message: `KINTONE_QUERY ${problem}` });
    }),
  KINTONE_TOKEN_SECRET_ID: required(
    "KINTONE_TOKEN_SECRET_ID",
    "set it to the name or ARN of the Secrets Manager secret whose SecretString is the app's API token",
  ),
  KINTONE_ALLOWLIST_HINT: required(
    "KINTONE_ALLOWLIST_HINT",
    'set it to where the egress IPs to allowlist are found, e.g. stack output "egressIps" of stack dev',
  ),
  KINTONE_CHECKPOINT_TABLE: required(
    "KINTONE_CHECKPOINT_TABLE",
    'set it to the name of the DynamoDB table (partition key "id", String) where a run stopped by its time budget leaves the position the next run resumes from',
  ).refine((v) => /^[A-Za-z0-9_.-]{3,255}$/.test(v), {
    error: (iss) =>
      `KINTONE_CHECKPOINT_TABLE must be a DynamoDB table name (3-255 of A-Z a-z 0-9 _ . -); got "${String(iss.input)}"`,
  }),
  KINTONE_TRANSFORM_OPTIONS: z.string().optional(),
  ...retryVariables("KINTONE_", "attempts per request, the first included", {
    maxAttempts: 5,
    baseMs: 500,
    maxMs: 20_000,
  }),
  KINTONE_TIMEOUT_MS: integer("KINTONE_TIMEOUT_MS", "socket timeout of one request", 1_000, 300_000, 30_000),
  KINTONE_DEADLINE_MARGIN_MS: integer(
    "KINTONE_DEADLINE_MARGIN_MS",
    "time kept in reserve before the Lambda timeout",
    0,
    600_000,
    30_000,
  ),
  LOG_LEVEL: logLevel,
});

/** Reads and validates the environment; throws one `SyncError("config")` listing every problem. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): SyncConfig {
  const parsed = envSchema.safeParse(env);
  const problems = parsed.success ? [] : parsed.error.issues.map((i) => i.message);
  let transformOptions: unknown;
  const rawOptions = env.KINTONE_TRANSFORM_OPTIONS;
  if (rawOptions !== undefined && rawOptions.trim() !== "") {
    try {
      transformOptions = JSON.parse(rawOptions);
    } catch (e) {
      problems.push(`KINTONE_TRANSFORM_OPTIONS is not valid JSON (${(e as Error).message})`);
    }
  }
  if (!parsed.success || problems.length > 0) throw configError(problems);
  const v = parsed.data;
  return {
    baseUrl: new URL(v.KINTONE_BASE_URL).origin,
    appId: Number(v.KINTONE_APP_ID),
    guestSpaceId: v.KINTONE_GUEST_SPACE_ID ? Number(v.KINTONE_GUEST_SPACE_ID) : undefined,
    condition: (v.KINTONE_QUERY ?? "").trim(),
    tokenSecretId: v.KINTONE_TOKEN_SECRET_ID,
    allowlistHint: v.KINTONE_ALLOWLIST_HINT,
    checkpointTable: v.KINTONE_CHECKPOINT_TABLE,
    transformOptions,
    retry: retryPolicy("KINTONE_", v),
    timeoutMs: v.KINTONE_TIMEOUT_MS,
    deadlineMarginMs: v.KINTONE_DEADLINE_MARGIN_MS,
    logLevel: v.LOG_LEVEL,
  };
}

export function configError(problems: string[]): SyncError {
  return new SyncError("config", `kintone-sync is misconfigured: ${problems.join("; ")}.`);
}

function baseUrlProblem(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return "is not a URL: set it to your kintone domain, e.g. https://example.cybozu.com";
  }
  if (url.pathname !== "/" || url.search || url.hash || url.username) {
    return "must be the domain only, without a path, query or credentials (e.g. https://example.cybozu.com)";
  }
  if (
    url.protocol === "https:" &&
    KINTONE_HOSTS.some((h) => url.hostname.endsWith(h) && url.hostname.length > h.length)
  ) {
    return undefined;
  }
  // Plain http is only for the fake kintone that tests run on the loopback interface.
  if (url.protocol === "http:" && (url.hostname === "127.0.0.1" || url.hostname === "localhost")) return undefined;
  return (
    "must be your kintone domain, https://<subdomain>.cybozu.com (or .kintone.com / .cybozu.cn), e.g. " +
    "https://example.cybozu.com; plain http is accepted only for 127.0.0.1 (tests)"
  );
}

/**
 * The handler appends `and $id > N order by $id asc limit 500` itself, so the condition must not sort or page.
 * String literals are blanked first, so `title like "limit"` is fine.
 */
export function queryProblem(query: string): string | undefined {
  const code = query.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  const clause = /\b(order\s+by|limit|offset)\b/i.exec(code);
  if (clause) {
    return (
      `must be a record condition only, without "${clause[1].toLowerCase().replace(/\s+/, " ")}": the sync reads ` +
      `in $id order, 500 records per request, by itself (e.g. KINTONE_QUERY='status in ("open")')`
    );
  }
  if (/"/.test(code.replace(/""/g, ""))) return "has an unterminated string literal";
  return undefined;
}
