/**
 * Types shared by the kintone-sync handler and the transform modules it is bundled with.
 * A transform module (the shipped `transform.ts`, or your own file aliased as
 * `kintone-sync-transform` through `kintoneSyncBundleOptions(file)`) exports `transform` and, optionally,
 * `parseOptions` and `fields`; see `TransformModule`.
 */

/** One field of a kintone record as the REST API returns it: `{type, value}`. */
export interface FieldValue {
  /** kintone field type, e.g. SINGLE_LINE_TEXT, NUMBER, DATE, CHECK_BOX, __ID__, __REVISION__. */
  type?: string;
  /** The value in kintone's JSON form: strings for text/number/date, arrays for multi-choice, objects for users… */
  value: unknown;
}

/** A record as returned by GET /k/v1/records.json, keyed by field code (including `$id` and `$revision`). */
export type KintoneRecord = Record<string, FieldValue>;

/** What a transform returns: the fields to set, keyed by field code. Fields equal to the current value are not written. */
export type RecordUpdate = Record<string, { value: unknown }>;

/** The contract of the module resolved for the specifier `kintone-sync-transform`. */
export interface TransformModule<Options = unknown> {
  /**
   * Validates `KINTONE_TRANSFORM_OPTIONS` (already JSON-parsed; `undefined` when the variable is unset) once per
   * cold start. Throw an Error whose message says what to change; it is reported naming the variable.
   * Default: the raw value is passed through.
   */
  parseOptions?(raw: unknown): Options;
  /**
   * Field codes the transform reads or writes, so that only those are fetched (`$id` and `$revision` are
   * always added). Return `undefined` to fetch every field. Default: every field.
   */
  fields?(options: Options): string[] | undefined;
  /**
   * Returns the fields to update for one record. Must be deterministic and idempotent (applying it to its own
   * output changes nothing): a record whose output changes again on a second application is skipped and reported,
   * because it would otherwise be rewritten on every run and burn the app's daily API budget.
   */
  transform(record: KintoneRecord, options: Options): RecordUpdate | Promise<RecordUpdate>;
}

/** The per-run summary the handler returns and logs. */
export interface SyncSummary {
  /** App synced. */
  appId: number;
  /** Records read (every page, every field requested). */
  read: number;
  /** Records whose transform output differed from their current values. */
  changed: number;
  /** Records written (their new values are in kintone now). */
  written: number;
  /** Records not written because someone changed them after we read them (revision mismatch); retried next run. */
  conflicts: number;
  /** `$id`s of the conflicting records. */
  conflictIds: string[];
  /** Records deleted between our read and our write. */
  vanished: number;
  /** Records whose new values kintone refused (validation: required field, option not in the list…); left as they were. */
  rejected: number;
  /** `$id`s of the refused records (the first 100). */
  rejectedIds: string[];
  /** Records skipped because the transform is not idempotent for them (see `TransformModule.transform`). */
  unstable: number;
  /** `$id`s of the skipped records (the first 100). */
  unstableIds: string[];
  /** HTTP requests sent to kintone, retries included: what the app's daily API budget is charged. */
  apiCalls: number;
  /** The same, by purpose. `recheck` = revision look-ups after a bulk update was refused. */
  apiCallsByKind: { read: number; write: number; recheck: number };
  /** Requests repeated after a 429, a 5xx or a network error. */
  retries: number;
  /** Pages of up to 500 records read. */
  pages: number;
  /** False when the run stopped early to stay inside the Lambda timeout; the next run carries on from `lastId`. */
  complete: boolean;
  /** The run read records with `$id` greater than this (the position saved by the run before). */
  startedAfterId: number;
  /** Every record up to this `$id` is settled; an incomplete run saves it as the next run's start. */
  lastId: number;
  /** What happened to the saved position: "saved" (next run resumes at `lastId`, or at 0 after a complete pass), or
   * "superseded" (a run that overlapped this one saved first; this run's position was not stored). */
  position?: "saved" | "superseded";
  /** Wall-clock duration of the run. */
  durationMs: number;
}
