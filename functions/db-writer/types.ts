/** One user of a batch as the writer stores it: the named fields (trimmed), everything else in `attributes`. */
export interface UserRow {
  externalId: string;
  email: string;
  name: string;
  /** The user object as the event holds it (checked); its other fields are the attributes. */
  source: Readonly<Record<string, unknown>>;
  /**
   * Those other fields as canonical JSON (keys sorted): stored as jsonb, and hashed. Made on first use, while the
   * users stream to the database (event.ts `attributesJson`).
   */
  attributesJson: string | undefined;
}

/** A checked event. Its payload hash (event.ts `PayloadHasher`) is taken while it is written. */
export interface Batch {
  batchId: string;
  users: UserRow[];
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
