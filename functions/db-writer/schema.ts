/**
 * The writer's schema, created and migrated by the function itself on its first cold start against a database.
 *
 * `schema_migrations (component, version)` records what was applied; `component` lets other functions sharing the
 * database keep their own versions in the same table. A cold start first reads it without a lock (the common case:
 * nothing to do, one round trip). Only when something is missing does it take a transaction-scoped advisory lock,
 * read again, and apply the missing migrations in that same transaction, so concurrent cold starts against a new
 * database apply each migration exactly once and a crash mid-migration leaves nothing half-applied (PostgreSQL
 * DDL is transactional). One statement per call: the Data API takes no multi-statement strings.
 */
import { DbError } from "../shared/db/errors";
import type { SqlDatabase, SqlExecutor } from "../shared/db/types";
import type { Logger } from "../shared/log";
import { WriterError } from "./errors";

export const COMPONENT = "db-writer";

export interface Migration {
  version: number;
  name: string;
  statements: string[];
}

export const MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: "users and user_batches",
    statements: [
      // One row per batch id ever written: the idempotency record. Counts are set in the batch's own transaction.
      `CREATE TABLE user_batches (
        batch_id text PRIMARY KEY,
        payload_sha256 text NOT NULL,
        received integer NOT NULL,
        inserted integer,
        already_present integer,
        created_at timestamptz NOT NULL DEFAULT now()
      )`,
      // The usual recipe's users table; external_id is the per-user idempotency key.
      `CREATE TABLE users (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        external_id text NOT NULL,
        email text NOT NULL,
        name text NOT NULL,
        attributes jsonb NOT NULL DEFAULT '{}'::jsonb,
        batch_id text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT users_external_id_key UNIQUE (external_id)
      )`,
      // "Which users did batch X add" (and the Data API path's count of them).
      `CREATE INDEX users_batch_id_idx ON users (batch_id)`,
    ],
  },
];

export const LATEST = Math.max(...MIGRATIONS.map((m) => m.version));

export interface SchemaState {
  /** Versions applied by this call (empty when the schema was already current). */
  applied: number[];
  version: number;
}

export async function ensureSchema(db: SqlDatabase, log: Logger): Promise<SchemaState> {
  const current = await appliedVersion(db);
  if (current >= LATEST) {
    log.debug("schema up to date", { component: COMPONENT, version: current });
    return { applied: [], version: current };
  }
  const applied = await db.transaction(async (tx) => {
    // hashtext() gives a stable int4 key from a readable name; xact-scoped, so it is released at commit/rollback.
    await tx.query(`SELECT pg_advisory_xact_lock(hashtext('vpc-lambda-kit:schema_migrations'))`);
    await tx.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      component text NOT NULL,
      version integer NOT NULL,
      name text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (component, version)
    )`);
    const done = new Set(
      (
        await tx.query<{ version: number }>(`SELECT version FROM schema_migrations WHERE component = :component`, {
          component: COMPONENT,
        })
      ).rows.map((r) => Number(r.version)),
    );
    const now: number[] = [];
    for (const m of MIGRATIONS) {
      if (done.has(m.version)) continue;
      for (const sql of m.statements) await runMigrationStatement(tx, sql, m);
      await tx.query(`INSERT INTO schema_migrations (component, version, name) VALUES (:component, :version, :name)`, {
        component: COMPONENT,
        version: m.version,
        name: m.name,
      });
      now.push(m.version);
    }
    return now;
  });
  if (applied.length > 0) log.info("schema migrated", { component: COMPONENT, applied, version: LATEST });
  else log.debug("schema migrated concurrently by another cold start", { component: COMPONENT, version: LATEST });
  return { applied, version: LATEST };
}

async function appliedVersion(db: SqlDatabase): Promise<number> {
  const present = await db.query<{ present: boolean }>(
    `SELECT to_regclass('schema_migrations') IS NOT NULL AS present`,
  );
  if (!present.rows[0]?.present) return 0;
  const r = await db.query<{ version: number }>(
    `SELECT coalesce(max(version), 0)::int AS version FROM schema_migrations WHERE component = :component`,
    { component: COMPONENT },
  );
  return Number(r.rows[0]?.version ?? 0);
}

async function runMigrationStatement(tx: SqlExecutor, sql: string, m: Migration): Promise<void> {
  try {
    await tx.query(sql);
  } catch (err) {
    if (err instanceof DbError && err.code === "42P07") {
      throw new WriterError(
        "schema",
        `migration ${m.version} (${m.name}) found a table or index it was about to create already there, without a schema_migrations record (${err.message}): ` +
          "another application owns it. Point DB_NAME at a database of its own, or move the existing table aside.",
      );
    }
    throw err;
  }
}
