/**
 * The only error type the handler throws: `kind` for code and alarms, a message a person can act on. Messages name
 * the environment variable or AWS piece to fix; they never contain a secret (header values, tokens).
 */

/** How reaching the SaaS through the proxy tier fails; the Athena connector reports the same kinds. */
export type SaasFailureKind =
  /** A Secrets Manager secret could not be read or has the wrong shape. */
  | "secret"
  /** Squid answered the CONNECT with 403: header secret or domain whitelist. */
  | "proxy-refused"
  /** No TCP connection to the proxy, or no answer to the CONNECT. */
  | "proxy-unreachable"
  /** The proxy answered, but could not reach the SaaS (502/503/504 to the CONNECT) or failed otherwise. */
  | "proxy"
  /** The SaaS's certificate did not verify. */
  | "tls"
  /** The SaaS refused the credential (401/403). */
  | "auth"
  /** Any other SaaS failure (4xx, 5xx after retries, broken JSON, a reset connection). */
  | "saas"
  /** The SaaS answered, but not in the shape SAAS_PAGINATION / SAAS_RECORDS_PATH describe. */
  | "data";

export type ExportErrorKind =
  /** An environment variable is missing or invalid. */
  | "config"
  /** The invocation event is invalid (e.g. a malformed backfill date). */
  | "event"
  | SaasFailureKind
  /** An S3 call failed. */
  | "s3"
  /** The run would not finish inside the Lambda timeout. */
  | "timeout"
  /** The run read to the end but was not published: too small against the previous export, or an anomalous end. */
  | "refused";

export class ExportError extends Error {
  override readonly name = "SaasExportError";
  constructor(
    readonly kind: ExportErrorKind,
    message: string,
    /** HTTP status involved, when there was one. */
    readonly status?: number,
  ) {
    super(message);
  }
}
