/**
 * A batch in one transaction, idempotently.
 *
 * 1. Claim the batch id: `INSERT INTO user_batches … ON CONFLICT DO NOTHING RETURNING`. No row back means the id
 *    was written before (or is being written right now: the insert waits for that transaction and then sees its
 *    row), so the recorded counts are returned and nothing is inserted. A different set of users under a used id
 *    is refused (the payload's sha256 is recorded with it).
 * 2. Insert the users with `ON CONFLICT (external_id) DO NOTHING`: a user some earlier batch stored stays as it was
 *    and counts as alreadyPresent.
 *      pg:       when none of the batch's externalIds is stored yet (one indexed lookup of them all), COPY straight
 *                into users under a savepoint: the fastest way in (bench/db-writer.bench.ts). Should another
 *                transaction store one of them meanwhile, COPY fails on the unique key, the savepoint undoes it and
 *                the general path runs: COPY into a session temp table, then one INSERT … SELECT … ON CONFLICT DO
 *                NOTHING. A batch that overlaps stored users takes the general path directly.
 *      data-api: BatchExecuteStatement in chunks (no COPY, no array parameters there), then a count of the rows
 *                carrying this batch id, since the Data API reports no per-row counts for PostgreSQL
 * 3. Record the counts on the batch row, commit. A crash anywhere before COMMIT leaves nothing: no batch row, no
 *    users; the caller's retry writes the batch in full.
 */
import type { PgExecutor } from "../shared/db/pg";
import type { SqlDatabase, SqlExecutor } from "../shared/db/types";
import { WriterError } from "./errors";
import type { Batch } from "./types";

export interface WriteResult {
  inserted: number;
  alreadyPresent: number;
  replayed: boolean;
}

const INCOMING = "db_writer_incoming";

export async function writeBatch(db: SqlDatabase, batch: Batch): Promise<WriteResult> {
  const received = batch.users.length;
  return db.transaction(async (tx) => {
    const claim = await tx.query(
      `INSERT INTO user_batches (batch_id, payload_sha256, received) VALUES (:batchId, :sha, :received)
       ON CONFLICT (batch_id) DO NOTHING RETURNING batch_id`,
      { batchId: batch.batchId, sha: batch.sha256, received },
    );
    if (claim.rowCount === 0) return replay(tx, batch);
    const inserted = isPgExecutor(db, tx) ? await insertWithCopy(tx, batch) : await insertWithBatch(tx, batch);
    const alreadyPresent = received - inserted;
    await tx.query(
      `UPDATE user_batches SET inserted = :inserted, already_present = :alreadyPresent WHERE batch_id = :batchId`,
      {
        inserted,
        alreadyPresent,
        batchId: batch.batchId,
      },
    );
    return { inserted, alreadyPresent, replayed: false };
  });
}

function isPgExecutor(db: SqlDatabase, tx: SqlExecutor): tx is PgExecutor {
  return db.kind === "pg" && typeof (tx as Partial<PgExecutor>).copyInto === "function";
}

const COLUMNS = ["external_id", "email", "name", "attributes"];
const UNIQUE_VIOLATION = "23505";

async function insertWithCopy(tx: PgExecutor, batch: Batch): Promise<number> {
  const stored = await tx.query(
    `SELECT 1 FROM jsonb_array_elements_text(:ids) AS b(external_id) JOIN users u ON u.external_id = b.external_id LIMIT 1`,
    { ids: { type: "json", value: JSON.stringify(batch.users.map((u) => u.externalId)) } },
  );
  if (stored.rowCount === 0) {
    await tx.query(`SAVEPOINT db_writer_copy`);
    try {
      const n = await tx.copyInto(
        "users",
        [...COLUMNS, "batch_id"],
        batch.users.map((u) => [u.externalId, u.email, u.name, u.attributesJson, batch.batchId]),
      );
      await tx.query(`RELEASE SAVEPOINT db_writer_copy`);
      return n;
    } catch (err) {
      if ((err as { code?: string }).code !== UNIQUE_VIOLATION) throw err;
      // A concurrent batch stored one of these users after the lookup: fall through to the general path.
      await tx.query(`ROLLBACK TO SAVEPOINT db_writer_copy`);
    }
  }
  return insertThroughTempTable(tx, batch);
}

async function insertThroughTempTable(tx: PgExecutor, batch: Batch): Promise<number> {
  // Created once per connection (IF NOT EXISTS is a no-op afterwards) and emptied at every commit, so warm
  // invocations add no catalog churn.
  await tx.query(
    `CREATE TEMP TABLE IF NOT EXISTS ${INCOMING} (external_id text, email text, name text, attributes jsonb) ON COMMIT DELETE ROWS`,
  );
  await tx.copyInto(
    INCOMING,
    COLUMNS,
    batch.users.map((u) => [u.externalId, u.email, u.name, u.attributesJson]),
  );
  const r = await tx.query(
    `INSERT INTO users (external_id, email, name, attributes, batch_id)
     SELECT external_id, email, name, attributes, :batchId FROM ${INCOMING}
     ON CONFLICT (external_id) DO NOTHING`,
    { batchId: batch.batchId },
  );
  return r.rowCount;
}

async function insertWithBatch(tx: SqlExecutor, batch: Batch): Promise<number> {
  await tx.batch(
    `INSERT INTO users (external_id, email, name, attributes, batch_id) VALUES (:externalId, :email, :name, :attributes, :batchId)
     ON CONFLICT (external_id) DO NOTHING`,
    batch.users.map((u) => ({
      externalId: u.externalId,
      email: u.email,
      name: u.name,
      attributes: { type: "json" as const, value: u.attributesJson },
      batchId: batch.batchId,
    })),
  );
  // Users an earlier batch stored keep that batch's id, so this counts exactly the rows this batch added.
  const r = await tx.query<{ n: number }>(`SELECT count(*)::int AS n FROM users WHERE batch_id = :batchId`, {
    batchId: batch.batchId,
  });
  return Number(r.rows[0]?.n ?? 0);
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
  if (!row || row.inserted === null || row.already_present === null) {
    throw new WriterError(
      "schema",
      `batch "${batch.batchId}" is recorded in user_batches without its counts: the row was not written by this function`,
    );
  }
  if (row.payload_sha256 !== batch.sha256) {
    throw new WriterError(
      "conflict",
      `batch "${batch.batchId}" was already written with different users (${row.received} users, payload sha256 ${row.payload_sha256.slice(0, 12)}…; ` +
        `this event: ${batch.users.length} users, ${batch.sha256.slice(0, 12)}…): a batchId names one set of users; send changed users under a new batchId`,
    );
  }
  return { inserted: Number(row.inserted), alreadyPresent: Number(row.already_present), replayed: true };
}
