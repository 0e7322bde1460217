/**
 * db-writer (docs/designs.md §3, account A): writes a batch of users into the PostgreSQL database in account B, reached
 * through the Transit Gateway (DB_ACCESS=pg) or through the Aurora Data API (DB_ACCESS=data-api). The usual recipe's
 * "create a users table and insert a row", done properly:
 *
 * - the schema is created and migrated by the function on its first cold start against a database, once, even
 *   when several cold starts race (./schema.ts);
 * - a batch is written in one transaction and is idempotent by the caller's `batchId`: a rerun inserts nothing and
 *   returns the first run's counts; a user whose externalId is already stored is left alone (./write.ts);
 * - on the pg path: TLS verified against the RDS CA bundle, one connection per container reused across warm
 *   invocations, a 3 s connect deadline whose error names the route or security group to check
 *   (functions/shared/db/pg.ts).
 *
 * Event:   {"batchId": "crm-2026-11-21-7", "users": [{"externalId": "c-1", "email": "a@example.com", "name": "A", ...}]}
 *          (further user fields are stored as jsonb `attributes`; see ./event.ts)
 * Returns: {"batchId", "inserted", "alreadyPresent", "replayed", "durationMs"}
 *
 * Environment: the DB_* contract of functions/shared/db/index.ts (DB_ACCESS, DB_NAME, DB_SECRET_ARN; DB_HOST,
 * DB_PORT, DB_CONNECT_TIMEOUT_MS, DB_SECRET_REGION for pg; DB_CLUSTER_ARN for the Data API), LOG_LEVEL (info).
 *
 * Network flows (pg): TCP 5432 to the database VPC's CIDR (10.1.0.0/16) through the Transit Gateway, TCP 443 to
 * Secrets Manager (interface endpoint or NAT) for the credentials. Data API: TCP 443 to rds-data (NAT or an
 * rds-data interface endpoint); no path to the database itself.
 * IAM: secretsmanager:GetSecretValue on DB_SECRET_ARN (+ kms:Decrypt on its key); data-api adds rds-data:
 * ExecuteStatement, BatchExecuteStatement, BeginTransaction, CommitTransaction, RollbackTransaction on the cluster.
 */
import { databaseFromEnv } from "../shared/db/index";
import { DbError } from "../shared/db/errors";
import type { SqlDatabase } from "../shared/db/types";
import { logLevelVar } from "../shared/env-mini";
import { createLogger, errorFields, Logger, LogLevel } from "../shared/log";
import { WriterError } from "./errors";
import { parseEvent, ParseTimings } from "./event";
import { ensureSchema, SchemaState } from "./schema";
import type { WriteSummary } from "./types";
import { writeBatch, WriteTimings } from "./write";

export type { WriteSummary } from "./types";

/** The part of the Lambda context the handler uses. */
export interface LambdaContextLike {
  awsRequestId?: string;
}

// Kept for the life of the container: the connection (and the secret read to open it) and the schema check.
let level: LogLevel | undefined;
let db: SqlDatabase | undefined;
let schema: Promise<SchemaState> | undefined;

export async function handler(event: unknown, context?: LambdaContextLike): Promise<WriteSummary> {
  const started = Date.now();
  let log: Logger = createLogger("info", { requestId: context?.awsRequestId });
  let batch;
  const parsing = {} as ParseTimings;
  try {
    level ??= parseLogLevel();
    log = createLogger(level, { requestId: context?.awsRequestId });
    db ??= databaseFromEnv(process.env, {
      log: createLogger(level, { component: "db" }),
      applicationName: "db-writer",
    });
    batch = parseEvent(event, parsing);
  } catch (err) {
    log.error("db-writer cannot start", errorFields(err));
    throw err;
  }
  log = createLogger(level, { requestId: context?.awsRequestId, batchId: batch.batchId });
  const database = db;
  try {
    // One schema check per container; a failed one is tried again by the next invocation.
    const check = (schema ??= ensureSchema(database, log));
    check.catch(() => {
      if (schema === check) schema = undefined;
    });
    await check;
    const writing = {} as WriteTimings;
    const result = await writeBatch(database, batch, writing);
    const summary: WriteSummary = { batchId: batch.batchId, ...result, durationMs: Date.now() - started };
    log.info(result.replayed ? "batch already written; nothing inserted" : "batch written", {
      access: database.kind,
      received: batch.users.length,
      ...summary,
      // Where the time went (ms): reading the event, then the transaction's steps.
      timings: { ...roundAll(parsing), ...roundAll(writing) },
    });
    return summary;
  } catch (err) {
    const retry =
      err instanceof DbError &&
      (err.kind === "connection-lost" ||
        err.kind === "commit-unknown" ||
        err.kind === "unreachable" ||
        err.kind === "timeout" ||
        err.kind === "data-api")
        ? "invoke again with the same event: the batch is idempotent"
        : undefined;
    log.error("batch not written", {
      ...errorFields(err),
      access: database.kind,
      received: batch.users.length,
      durationMs: Date.now() - started,
      ...(retry ? { retry } : {}),
    });
    throw err;
  }
}

function roundAll(o: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) out[k] = typeof v === "number" ? Math.round(v * 10) / 10 : v;
  return out;
}

function parseLogLevel(): LogLevel {
  const r = logLevelVar().safeParse(process.env.LOG_LEVEL);
  if (!r.success) throw new WriterError("config", r.error.issues.map((i) => i.message).join("; "));
  return r.data;
}
