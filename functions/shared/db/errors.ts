/**
 * The one error type of the database layer. `kind` is for code and alarms; the message is for a person and names
 * what to fix (an environment variable, a route, a security group rule, an IAM statement). Messages never contain
 * credentials or parameter values.
 */

export type DbErrorKind =
  /** An environment variable or option is missing or invalid. */
  | "config"
  /** The credentials secret could not be read or has the wrong shape. */
  | "secret"
  /** No TCP connection: timeout, refusal, DNS, no route. */
  | "unreachable"
  /** TLS failed: the certificate did not verify, or the server refused TLS. */
  | "tls"
  /** The server refused the credentials or the database name. */
  | "auth"
  /** The connection dropped while a statement or the transaction was in flight (the transaction was rolled back). */
  | "connection-lost"
  /** The connection dropped while COMMIT was in flight: the transaction may or may not have been committed. */
  | "commit-unknown"
  /** A statement ran longer than the configured or the Data API's limit and was cancelled. */
  | "timeout"
  /** The server rejected a statement (syntax, constraint, missing table, a missing parameter value…). */
  | "query"
  /** An Aurora Data API call failed for a reason other than the SQL (access, endpoint, resume, transaction). */
  | "data-api";

export class DbError extends Error {
  override readonly name = "DbError";
  /** PostgreSQL SQLSTATE (e.g. 23505) when the server sent one, else the Node/AWS error code. */
  readonly code?: string;
  constructor(
    readonly kind: DbErrorKind,
    message: string,
    code?: string,
  ) {
    super(message);
    if (code !== undefined) this.code = code;
  }
}
