/**
 * A batch in one transaction, idempotently.
 *
 * 1. Claim the batch id: `INSERT INTO user_batches … ON CONFLICT DO NOTHING RETURNING`. No row back means the id
 *    was written before (or is being written right now: the insert waits for that transaction and then sees its
 *    row), so the recorded counts are returned and nothing is inserted. A different set of users under a used id
 *    is refused: the payload's sha256 is recorded with the id and compared on every rerun.
 * 2. Insert the users with `ON CONFLICT (external_id) DO NOTHING` semantics: a user some earlier batch stored stays
 *    as it was and counts as alreadyPresent.
 *      pg:       unless a probe finds some of the batch's users already stored (up to PROBE ids spread over the
 *                batch, one indexed lookup), COPY straight into users under a savepoint: the fastest way in
 *                (bench/db-writer.bench.ts). Should a user be stored after all (one the probe did not look at, or
 *                one another transaction stored meanwhile), COPY fails on the unique key, the savepoint undoes it
 *                and the general path runs: COPY into a session temp table, then one INSERT … SELECT … ON
 *                CONFLICT DO NOTHING. A batch the probe finds overlapping takes the general path directly.
 *                The users' attributes JSON and the payload hash are made while the rows stream (event.ts
 *                PayloadHasher), so that work overlaps the server's.
 *      data-api: BatchExecuteStatement in chunks (no COPY, no array parameters there), then a count of the rows
 *                carrying this batch id, since the Data API reports no per-row counts for PostgreSQL
 * 3. Record the payload hash and the counts on the batch row, commit. The claim wrote the row with an empty hash;
 *    no other session can read it before this commit (a concurrent claim of the same id waits for it), so every
 *    committed batch row carries its hash. A crash anywhere before COMMIT leaves nothing: no batch row, no users;
 *    the caller's retry writes the batch in full.
 */
import type { PgExecutor } from "../shared/db/pg";
import type { SqlDatabase, SqlExecutor } from "../shared/db/types";
import { WriterError } from "./errors";
import { attributesJson, payloadHash, PayloadHasher } from "./event";
import type { Batch, UserRow } from "./types";

export interface WriteResult {
  inserted: number;
  alreadyPresent: number;
  replayed: boolean;
}

/** Where writeBatch spent its time, in milliseconds (logged with every batch; the benchmark prints it). */
export interface WriteTimings {
  /** BEGIN and the batch claim (for a replay also the hash and the read of the recorded counts). */
  claimMs: number;
  /** The probe for already stored users (pg). */
  probeMs: number;
  /**
   * Moving the users in: COPY (pg) or BatchExecuteStatement (Data API), with the fallback if it ran. On the pg
   * path this includes making the attributes JSON and the payload hash, which happen as the rows stream (timing
   * each row would cost more than it tells; bench/db-writer.bench.ts measures that part on its own).
   */
  insertMs: number;
  /** Recording the hash and counts, and COMMIT. */
  commitMs: number;
  /** How the users went in. */
  path: "copy" | "copy-fallback" | "temp" | "batch" | "replay";
}

const INCOMING = "db_writer_incoming";
/** Ids the pg path probes for before trying COPY straight into users. */
export const PROBE = 64;

export async function writeBatch(db: SqlDatabase, batch: Batch, timings?: WriteTimings): Promise<WriteResult> {
  const received = batch.users.length;
  const t = timings ?? ({} as WriteTimings);
  Object.assign(t, { claimMs: 0, probeMs: 0, insertMs: 0, commitMs: 0 });
  let mark = performance.now();
  const lap = (): number => {
    const now = performance.now();
    const ms = now - mark;
    mark = now;
    return ms;
  };
  const result = await db.transaction(async (tx) => {
    // The hash is recorded in step 3 (see the file comment); '' stands in until then, inside this transaction.
    const claim = await tx.query(
      `INSERT INTO user_batches (batch_id, payload_sha256, received) VALUES (:batchId, '', :received)
       ON CONFLICT (batch_id) DO NOTHING RETURNING batch_id`,
      { batchId: batch.batchId, received },
    );
    if (claim.rowCount === 0) {
      t.path = "replay";
      const r = await replay(tx, batch);
      t.claimMs = lap();
      return r;
    }
    t.claimMs = lap();
    const { inserted, sha256 } = isPgExecutor(db, tx)
      ? await insertWithCopy(tx, batch, t, lap)
      : await insertWithBatch(tx, batch, t, lap);
    const alreadyPresent = received - inserted;
    await tx.query(
      `UPDATE user_batches SET payload_sha256 = :sha, inserted = :inserted, already_present = :alreadyPresent
       WHERE batch_id = :batchId`,
      { sha: sha256, inserted, alreadyPresent, batchId: batch.batchId },
    );
    return { inserted, alreadyPresent, replayed: false };
  });
  t.commitMs = lap();
  return result;
}

function isPgExecutor(db: SqlDatabase, tx: SqlExecutor): tx is PgExecutor {
  return db.kind === "pg" && typeof (tx as Partial<PgExecutor>).copyInto === "function";
}

const COLUMNS = ["external_id", "email", "name", "attributes"];
const UNIQUE_VIOLATION = "23505";

interface Inserted {
  inserted: number;
  sha256: string;
}

/** Up to PROBE of the batch's ids, evenly spread (all of them in a small batch). */
function probeIds(users: UserRow[]): string[] {
  const n = users.length;
  if (n <= PROBE) return users.map((u) => u.externalId);
  const ids: string[] = [];
  for (let k = 0; k < PROBE; k++) ids.push(users[Math.floor((k * (n - 1)) / (PROBE - 1))].externalId);
  return ids;
}

/**
 * The rows COPY sends, in event order, each user's attributes JSON made and hashed as it is pulled. `hasher`
 * holds the payload hash once every row has been pulled.
 */
function* streamRows(
  batch: Batch,
  hasher: PayloadHasher,
  withBatchId: boolean,
): Generator<ReadonlyArray<string | null>> {
  for (const u of batch.users) {
    const attrs = hasher.add(u);
    yield withBatchId ? [u.externalId, u.email, u.name, attrs, batch.batchId] : [u.externalId, u.email, u.name, attrs];
  }
}

/** The hash of a hasher that saw every user, else of the whole batch again (should a stream stop short). */
function digestOf(hasher: PayloadHasher, batch: Batch): string {
  return hasher.count === batch.users.length ? hasher.digest() : payloadHash(batch);
}

async function insertWithCopy(tx: PgExecutor, batch: Batch, t: WriteTimings, lap: () => number): Promise<Inserted> {
  const stored = await tx.query(
    `SELECT 1 FROM jsonb_array_elements_text(:ids) AS b(external_id) JOIN users u ON u.external_id = b.external_id LIMIT 1`,
    { ids: { type: "json", value: JSON.stringify(probeIds(batch.users)) } },
  );
  t.probeMs = lap();
  t.path = "temp";
  if (stored.rowCount === 0) {
    await tx.query(`SAVEPOINT db_writer_copy`);
    const hasher = new PayloadHasher();
    try {
      const inserted = await tx.copyInto("users", [...COLUMNS, "batch_id"], streamRows(batch, hasher, true));
      await tx.query(`RELEASE SAVEPOINT db_writer_copy`);
      t.path = "copy";
      const sha256 = digestOf(hasher, batch);
      t.insertMs = lap();
      return { inserted, sha256 };
    } catch (err) {
      if ((err as { code?: string }).code !== UNIQUE_VIOLATION) throw err;
      // A user stored before this batch (one the probe missed) or by a concurrent one: take the general path.
      await tx.query(`ROLLBACK TO SAVEPOINT db_writer_copy`);
      t.path = "copy-fallback";
    }
  }
  const r = await insertThroughTempTable(tx, batch);
  t.insertMs = lap();
  return r;
}

async function insertThroughTempTable(tx: PgExecutor, batch: Batch): Promise<Inserted> {
  // Created once per connection (IF NOT EXISTS is a no-op afterwards) and emptied at every commit, so warm
  // invocations add no catalog churn.
  await tx.query(
    `CREATE TEMP TABLE IF NOT EXISTS ${INCOMING} (external_id text, email text, name text, attributes jsonb) ON COMMIT DELETE ROWS`,
  );
  const hasher = new PayloadHasher();
  await tx.copyInto(INCOMING, COLUMNS, streamRows(batch, hasher, false));
  const sha256 = digestOf(hasher, batch);
  const r = await tx.query(
    `INSERT INTO users (external_id, email, name, attributes, batch_id)
     SELECT external_id, email, name, attributes, :batchId FROM ${INCOMING}
     ON CONFLICT (external_id) DO NOTHING`,
    { batchId: batch.batchId },
  );
  return { inserted: r.rowCount, sha256 };
}

async function insertWithBatch(tx: SqlExecutor, batch: Batch, t: WriteTimings, lap: () => number): Promise<Inserted> {
  t.path = "batch";
  const sha256 = payloadHash(batch);
  await tx.batch(
    `INSERT INTO users (external_id, email, name, attributes, batch_id) VALUES (:externalId, :email, :name, :attributes, :batchId)
     ON CONFLICT (external_id) DO NOTHING`,
    batch.users.map((u) => ({
      externalId: u.externalId,
      email: u.email,
      name: u.name,
      attributes: { type: "json" as const, value: attributesJson(u) },
      batchId: batch.batchId,
    })),
  );
  // Users an earlier batch stored keep that batch's id, so this counts exactly the rows this batch added.
  const r = await tx.query<{ n: number }>(`SELECT count(*)::int AS n FROM users WHERE batch_id = :batchId`, {
    batchId: batch.batchId,
  });
  t.insertMs = lap();
  return { inserted: Number(r.rows[0]?.n ?? 0), sha256 };
}

async function replay(tx: SqlExecutor, batch: Batch): Promise<WriteResult> {
  const r = await tx.query<{
    payload_sha256: string;
    received: number;
    inserted: number | null;
    already_present: number | null;
  }>(`SELECT payload_sha256, received, inserted, already_present FROM user_batches WHERE batch_id = :batchId`, {
    batchId: batch.batchId,
  });
  const row = r.rows[0];
  if (!row || row.inserted === null || row.already_present === null || row.payload_sha256 === "") {
    throw new WriterError(
      "schema",
      `batch "${batch.batchId}" is recorded in user_batches without its counts: the row was not written by this function`,
    );
  }
  const sha256 = payloadHash(batch);
  if (row.payload_sha256 !== sha256) {
    throw new WriterError(
      "conflict",
      `batch "${batch.batchId}" was already written with different users (${row.received} users, payload sha256 ${row.payload_sha256.slice(0, 12)}…; ` +
        `this event: ${batch.users.length} users, ${sha256.slice(0, 12)}…): a batchId names one set of users; send changed users under a new batchId`,
    );
  }
  return { inserted: Number(row.inserted), alreadyPresent: Number(row.already_present), replayed: true };
}
