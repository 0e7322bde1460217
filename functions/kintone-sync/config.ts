/**
 * The handler's configuration: environment variables only, validated once per cold start. Every problem is reported
 * in one error that names the variable and says what to put in it.
 */
import { SyncError } from "./errors";
import { integerCheck, integerOrDefault, logLevelCheck, requiredTypeError } from "../shared/env-checks";
import type { LogLevel } from "../shared/log";
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

/** Reads and validates the environment; throws one `SyncError("config")` listing every problem. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): SyncConfig {
  // Plain checks rather than a schema library: building schemas at import was a third of the bundle's cold init
  // (README "Benchmarks"). Every variable is checked, in this order, so that one error lists every problem.
  const problems: string[] = [];
  const vars = new EnvReader(env, problems);
  const baseUrl = vars.required("KINTONE_BASE_URL", "set it to your kintone domain, e.g. https://example.cybozu.com");
  if (baseUrl !== undefined) {
    const problem = baseUrlProblem(baseUrl);
    if (problem) problems.push(`KINTONE_BASE_URL ${problem}; got "${baseUrl}"`);
  }
  const appId = vars.required(
    "KINTONE_APP_ID",
    "set it to the app's ID, the number in https://<sub>.cybozu.com/k/<ID>/",
  );
  if (appId !== undefined && !ID.test(appId)) {
    problems.push(
      `KINTONE_APP_ID must be the app's numeric ID (the number in https://<sub>.cybozu.com/k/<ID>/); got "${appId}"`,
    );
  }
  const guestSpaceId = env.KINTONE_GUEST_SPACE_ID?.trim();
  if (guestSpaceId && !ID.test(guestSpaceId)) {
    problems.push(
      `KINTONE_GUEST_SPACE_ID must be the guest space's numeric ID, or unset for apps outside guest spaces; got "${guestSpaceId}"`,
    );
  }
  const query = env.KINTONE_QUERY;
  const queryIssue = query === undefined ? undefined : queryProblem(query);
  if (queryIssue) problems.push(`KINTONE_QUERY ${queryIssue}`);
  const tokenSecretId = vars.required(
    "KINTONE_TOKEN_SECRET_ID",
    "set it to the name or ARN of the Secrets Manager secret whose SecretString is the app's API token",
  );
  const allowlistHint = vars.required(
    "KINTONE_ALLOWLIST_HINT",
    'set it to where the egress IPs to allowlist are found, e.g. stack output "egressIps" of stack dev',
  );
  const checkpointTable = vars.required(
    "KINTONE_CHECKPOINT_TABLE",
    'set it to the name of the DynamoDB table (partition key "id", String) where a run stopped by its time budget leaves the position the next run resumes from',
  );
  if (checkpointTable !== undefined && !/^[A-Za-z0-9_.-]{3,255}$/.test(checkpointTable)) {
    problems.push(
      `KINTONE_CHECKPOINT_TABLE must be a DynamoDB table name (3-255 of A-Z a-z 0-9 _ . -); got "${checkpointTable}"`,
    );
  }
  const retry: RetryPolicy = {
    maxAttempts: vars.integer("KINTONE_RETRY_MAX_ATTEMPTS", "attempts per request, the first included", 1, 10, 5),
    baseMs: vars.integer("KINTONE_RETRY_BASE_MS", "backoff before the first retry, doubling after", 0, 60_000, 500),
    maxMs: vars.integer("KINTONE_RETRY_MAX_MS", "longest single backoff", 0, 300_000, 20_000),
  };
  const timeoutMs = vars.integer("KINTONE_TIMEOUT_MS", "socket timeout of one request", 1_000, 300_000, 30_000);
  const deadlineMarginMs = vars.integer(
    "KINTONE_DEADLINE_MARGIN_MS",
    "time kept in reserve before the Lambda timeout",
    0,
    600_000,
    30_000,
  );
  const logLevel = vars.logLevel();
  let transformOptions: unknown;
  const rawOptions = env.KINTONE_TRANSFORM_OPTIONS;
  if (rawOptions !== undefined && rawOptions.trim() !== "") {
    try {
      transformOptions = JSON.parse(rawOptions);
    } catch (e) {
      problems.push(`KINTONE_TRANSFORM_OPTIONS is not valid JSON (${(e as Error).message})`);
    }
  }
  if (problems.length > 0) throw configError(problems);
  return {
    baseUrl: new URL(baseUrl!).origin,
    appId: Number(appId),
    guestSpaceId: guestSpaceId ? Number(guestSpaceId) : undefined,
    condition: (query ?? "").trim(),
    tokenSecretId: tokenSecretId!,
    allowlistHint: allowlistHint!,
    checkpointTable: checkpointTable!,
    transformOptions,
    retry,
    timeoutMs,
    deadlineMarginMs,
    logLevel,
  };
}

const ID = /^[1-9]\d*$/;

/** Environment variables read with the kit's messages: each names the variable and what to put in it. */
class EnvReader {
  constructor(
    private readonly env: NodeJS.ProcessEnv,
    private readonly problems: string[],
  ) {}

  /** A required variable, trimmed; undefined when unset (an empty value is reported but still checked further). */
  required(name: string, what: string): string | undefined {
    const v: unknown = this.env[name];
    if (typeof v !== "string") {
      this.problems.push(requiredTypeError(name, what)({ input: v }));
      return undefined;
    }
    const s = v.trim();
    if (s === "") this.problems.push(`${name} is empty: ${what}`);
    return s;
  }

  /** An optional integer in [min, max]; `dflt` when unset or empty. */
  integer(name: string, what: string, min: number, max: number, dflt: number): number {
    const v = this.env[name]?.trim();
    const check = integerCheck(name, what, min, max);
    if (v !== undefined && !check.ok(v)) {
      this.problems.push(check.error({ input: v }));
      return dflt;
    }
    return integerOrDefault(dflt)(v);
  }

  /** LOG_LEVEL: debug, info (default), warn or error. */
  logLevel(): LogLevel {
    const v = this.env.LOG_LEVEL;
    if (v !== undefined && !logLevelCheck.ok(v)) {
      this.problems.push(logLevelCheck.error({ input: v }));
      return "info";
    }
    return logLevelCheck.value(v);
  }
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
