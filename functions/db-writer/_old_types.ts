/** One user of a batch as the writer stores it: the named fields, everything else in `attributes`. */
export interface UserRow {
  externalId: string;
  email: string;
  name: string;
  /** Every other field of the event's user object (stored as jsonb). */
  attributes: Record<string, unknown>;
  /** `attributes` as canonical JSON (keys sorted): hashed, and stored as is. */
  attributesJson: string;
}

export interface Batch {
  batchId: string;
  users: UserRow[];
  /** sha256 of the users in canonical JSON: a rerun must carry the same users. */
  sha256: string;
}

/** What the handler returns. */
export interface WriteSummary {
  batchId: string;
  /** Users this batch added (on a replay: what the first run added). */
  inserted: number;
  /** Users of this batch whose externalId was already stored by an earlier batch. */
  alreadyPresent: number;
  /** True when the batch id had already been written: nothing was inserted this time. */
  replayed: boolean;
  durationMs: number;
}
