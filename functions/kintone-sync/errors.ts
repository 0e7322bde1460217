/**
 * What a failed kintone request means, and the sentence a user can act on.
 *
 * Sources for the response shapes (kintone publishes no error-code list, so codes are matched where known and the
 * HTTP status decides otherwise):
 * - API errors are JSON `{code, id, message, errors?}` (cybozu.dev, "kintone REST API overview"); a failed
 *   bulkRequest answers with the failing request's status and `{results: [{}, …, {code, id, message}, …]}`
 *   (@kintone/rest-api-client `KintoneRestAPIError` reads `bulkRequestIndex` from that shape).
 * - Wrong token: `GAIA_IA02` "The specified API token does not match the API token generated via an app.", HTTP 520
 *   on current kintone (400 on older releases), as asserted by kintone/cli-kintone's feature tests. Missing or
 *   unusable credentials: 401 `CB_AU01` / `CB_WA01`.
 * - Token without the needed permission: 403 `GAIA_NO01` "Using this API token, you cannot run the specified API."
 *   (same cli-kintone tests).
 * - Revision mismatch: 409 `GAIA_CO02` "The revision is not the latest…"; record gone: 404 `GAIA_RE01`.
 * - IP address restriction (cybozu.com Access Control; get.kintone.help "IP Address Restrictions", article 02045,
 *   describes the setting but not the response): the check belongs to the cybozu.com platform in front of kintone
 *   and runs before any credential is looked at. Cybozu publishes no body for it; what is reported publicly is an
 *   HTTP 403 access-denied page (HTML), or, where "Basic authentication for other addresses" is configured, a 401
 *   challenge page — kintone.proxy() callers from a non-allowlisted address get "認証が必要です"
 *   (qiita.com/sy250f/items/50cbfc84fbf5988b2d38). kintone's own API 401/403 answers always carry a JSON body with
 *   a code (CB_AU01, GAIA_NO01, …), so a 401/403 whose body is not kintone JSON is reported as an allowlist
 *   rejection. @kintone/rest-api-client turns non-JSON bodies into `Error("<status>: <statusText>")`, which is what
 *   `describeFailure` recognises. Should cybozu.com answer with a JSON 403 of some other code, the error names the
 *   status and code and still points at the allowlist.
 */
import { KintoneTransportError } from "./stand-ins/http";

/** A kintone request failure reduced to facts; it never holds request headers (the token travels in one). */
export interface KintoneFailure {
  /** `network` = no HTTP response at all (reset, refused, timeout, DNS). */
  transport: "network" | "http";
  status?: number;
  /** kintone error code (`GAIA_CO02`) or, for network failures, the socket error code (`ECONNRESET`). */
  code?: string;
  message: string;
  /** kintone's per-field error map, e.g. `{"records[3].revision": {messages: [...]}}`. */
  errors?: unknown;
  /** For a failed bulkRequest: which of its requests failed. */
  bulkRequestIndex?: number;
  /** True when the body was a kintone JSON error object. */
  json: boolean;
  /** From a Retry-After header, when there was one. */
  retryAfterMs?: number;
}

export type SyncErrorKind =
  "config" | "secret" | "ip-restricted" | "token" | "permission" | "network" | "kintone" | "transform" | "checkpoint";

/** The only error type the handler throws: a message to act on, and facts for code (no headers, no token). */
export class SyncError extends Error {
  override readonly name = "KintoneSyncError";
  constructor(
    readonly kind: SyncErrorKind,
    message: string,
    readonly failure?: KintoneFailure,
  ) {
    super(message);
  }
}

const NETWORK_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ECONNABORTED",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENETDOWN",
  "ERR_NETWORK",
  "ERR_SOCKET_CONNECTION_TIMEOUT",
  "UND_ERR_SOCKET",
]);

/**
 * Reduces whatever @kintone/rest-api-client (or the HTTP layer underneath it: ./stand-ins/http.ts in the bundle,
 * axios when the sources run unbundled) threw; undefined if it is not a request failure.
 */
export function describeFailure(err: unknown): KintoneFailure | undefined {
  if (!(err instanceof Error)) return undefined;
  if (err instanceof KintoneTransportError) {
    return { transport: "network", code: err.code, message: err.message, json: false };
  }
  const e = err as Error & Record<string, unknown>;
  if (e.name === "KintoneRestAPIError" && typeof e.status === "number") {
    const headers = (e.headers ?? {}) as Record<string, unknown>;
    return {
      transport: "http",
      status: e.status,
      code: typeof e.code === "string" ? e.code : undefined,
      // The client formats the message as "[status] [code] message (id)"; keep kintone's own sentence.
      message: /^\[\d+\] \[[^\]]*\] ([\s\S]*?)(?: \([^()]*\))?$/.exec(e.message)?.[1] ?? e.message,
      errors: e.errors,
      bulkRequestIndex: typeof e.bulkRequestIndex === "number" ? e.bulkRequestIndex : undefined,
      json: true,
      retryAfterMs: parseRetryAfter(headers["retry-after"]),
    };
  }
  if (e.isAxiosError === true || (typeof e.code === "string" && NETWORK_CODES.has(e.code))) {
    const response = e.response as { status?: number } | undefined;
    if (response && typeof response.status === "number") {
      return { transport: "http", status: response.status, message: `HTTP ${response.status}`, json: false };
    }
    return {
      transport: "network",
      code: typeof e.code === "string" ? e.code : undefined,
      message: e.message,
      json: false,
    };
  }
  // The client's rendering of a response whose body was not JSON: `${status}: ${statusText}`.
  const m = /^(\d{3}): ?(.*)$/.exec(e.message);
  if (m) return { transport: "http", status: Number(m[1]), message: e.message, json: false };
  return undefined;
}

function parseRetryAfter(v: unknown): number | undefined {
  const n = Number(v);
  return typeof v === "string" && Number.isFinite(n) && n >= 0 ? n * 1000 : undefined;
}

/** kintone codes for a database briefly locked by another operation: worth another try. */
const TRANSIENT_CODES = new Set(["GAIA_DA02", "GAIA_LT01"]);

/** 429, 5xx (not kintone's 520, which carries application errors such as a wrong token) and network failures. */
export function isRetryable(f: KintoneFailure): boolean {
  if (f.transport === "network") return true;
  if (f.code && TRANSIENT_CODES.has(f.code)) return true;
  return f.status === 429 || f.status === 500 || f.status === 502 || f.status === 503 || f.status === 504;
}

const TOKEN_CODES = new Set(["GAIA_IA02", "GAIA_IA03", "CB_AU01", "CB_WA01"]);
const ACCESS_DENIED_CODES = new Set(["GAIA_NO01", "CB_NO02"]);

/** Where the request was going and what to name in a message. */
export interface FailureContext {
  baseUrl: string;
  appId: number;
  secretId: string;
  allowlistHint: string;
  /** What was being attempted, e.g. "read records". */
  operation: string;
  attempts: number;
}

/** Turns a final (not retried any more) failure into the error the handler throws. */
export function explainFailure(f: KintoneFailure, ctx: FailureContext): SyncError {
  const what = f.code ? `${f.status ?? ""} ${f.code}`.trim() : `HTTP ${f.status}`;
  if (f.transport === "network") {
    return new SyncError(
      "network",
      `could not reach kintone at ${ctx.baseUrl} to ${ctx.operation} after ${ctx.attempts} attempt(s) ` +
        `(${f.code ?? "network error"}: ${f.message}). A VPC function reaches the internet only through the NAT ` +
        `gateway its private subnets route 0.0.0.0/0 to: check that route, the NAT gateway and the security group's ` +
        `outbound HTTPS (443).`,
      f,
    );
  }
  if (!f.json && (f.status === 403 || f.status === 401)) {
    return new SyncError(
      "ip-restricted",
      `kintone at ${ctx.baseUrl} rejected the request with HTTP ${f.status} and a non-API (HTML) page before ` +
        `checking the API token: the request came from a source address that is not on the domain's IP ` +
        `allowlist (kintone Users & System Administration > Access Control > IP Address Restrictions). ` +
        `Allowlist this function's egress addresses: ${ctx.allowlistHint}. Also check that the function runs in the ` +
        `private subnets whose default route goes through that NAT gateway.`,
      f,
    );
  }
  if (f.code && ACCESS_DENIED_CODES.has(f.code)) {
    return new SyncError(
      "permission",
      `the API token in Secrets Manager secret "${ctx.secretId}" may not ${ctx.operation} in app ${ctx.appId} ` +
        `(${what}: ${f.message}). In kintone, open the app's Settings > API Token, grant the token "View records" ` +
        `(to read) and "Edit records" (to write back), save, and click "Update App".`,
      f,
    );
  }
  if ((f.code && TOKEN_CODES.has(f.code)) || f.status === 401) {
    return new SyncError(
      "token",
      `kintone rejected the API token read from Secrets Manager secret "${ctx.secretId}" (${what}: ${f.message}). ` +
        `Put a valid API token of app ${ctx.appId} into that secret's SecretString (kintone: the app's Settings > ` +
        `API Token; a new token works only after "Update App"; several tokens may be comma-separated).`,
      f,
    );
  }
  const retried = ctx.attempts > 1 ? ` (gave up after ${ctx.attempts} attempts)` : "";
  const forbidden =
    f.status === 403
      ? `. If the domain restricts source IP addresses, check that this function's egress addresses are allowlisted: ${ctx.allowlistHint}`
      : "";
  return new SyncError(
    "kintone",
    `kintone could not ${ctx.operation} in app ${ctx.appId}: ${what}: ${f.message}${retried}${forbidden}`,
    f,
  );
}
