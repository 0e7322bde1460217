/**
 * Errors of db-writer itself; database failures arrive as DbError (functions/shared/db/errors.ts) and pass through.
 * Messages name what to fix and never contain user data beyond the batch id and field paths.
 */

export type WriterErrorKind =
  /** LOG_LEVEL or another setting of the handler is invalid. */
  | "config"
  /** The invocation event is not a valid batch. */
  | "event"
  /** The batch id was already used for a different set of users. */
  | "conflict"
  /** The database holds something the writer did not create (e.g. a foreign `users` table). */
  | "schema";

export class WriterError extends Error {
  override readonly name = "DbWriterError";
  constructor(
    readonly kind: WriterErrorKind,
    message: string,
  ) {
    super(message);
  }
}
