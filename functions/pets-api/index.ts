/**
 * pets-api: the usual recipe's sample service behind the private API Gateway (docs/designs.md §5), done properly.
 * A Lambda proxy (REST v1) handler for GET /pets (paginated), GET /pets/{id} and POST /pets; see ./app.ts
 * for the contract and ./store.ts for the table.
 *
 * Storage: the environment's PostgreSQL through the shared access layer (functions/shared/db), chosen
 * by DB_ACCESS:
 *   data-api  Aurora's Data API over HTTPS (DB_CLUSTER_ARN, DB_SECRET_ARN, DB_NAME): no VPC path to the
 *             database, so the function needs no VPC at all; IAM: rds-data statements on that cluster
 *             and secretsmanager:GetSecretValue on that secret.
 *   pg        TCP 5432 over TLS (DB_HOST, DB_PORT, DB_NAME, DB_SECRET_ARN): a VPC function with a route
 *             (Transit Gateway) and security-group path to the database, plus Secrets Manager.
 * LOG_LEVEL (info) controls the JSON logs. No credentials are in the environment: only the secret's ARN.
 *
 * The schema is migrated once per cold start (idempotent, under an advisory lock). A failed start
 * (database unreachable) answers 503 and is retried on the next request instead of sticking.
 */
import * as z from "zod/mini";
import { databaseFromEnv } from "../shared/db";
import type { SqlDatabase } from "../shared/db/types";
import { logLevelVar } from "../shared/env-mini";
import { createLogger, errorFields, Logger } from "../shared/log";
import { PetsApp } from "./app";
import { errorResponse, RestProxyEvent, RestProxyResult } from "./http";
import { migrate, PetStore } from "./store";

export type { RestProxyEvent, RestProxyResult } from "./http";
export type { Pet } from "./store";

export interface LambdaContextLike {
  awsRequestId?: string;
}

interface Started {
  app: PetsApp;
  db: SqlDatabase;
}

let started: Promise<Started> | undefined;
let log: Logger = createLogger("info", { fn: "pets-api" });

async function start(): Promise<Started> {
  const env = z.object({ LOG_LEVEL: logLevelVar() }).safeParse(process.env);
  if (!env.success) throw new Error(`pets-api is misconfigured: ${env.error.issues.map((i) => i.message).join("; ")}`);
  log = createLogger(env.data.LOG_LEVEL, { fn: "pets-api" });
  const db = databaseFromEnv();
  const t0 = Date.now();
  try {
    const applied = await migrate(db);
    log.info("pets schema ready", { access: db.kind, applied, ms: Date.now() - t0 });
  } catch (err) {
    await db.close().catch(() => undefined);
    throw err;
  }
  return { app: new PetsApp(new PetStore(db), log), db };
}

export async function handler(event: RestProxyEvent, context?: LambdaContextLike): Promise<RestProxyResult> {
  const requestId = event?.requestContext?.requestId ?? context?.awsRequestId;
  if (!event || typeof event.httpMethod !== "string") {
    return errorResponse(400, {
      error: "ValidationError",
      message: "not an API Gateway REST proxy event (no httpMethod)",
      field: "httpMethod",
      requestId,
    });
  }
  let current: Started;
  try {
    started ??= start();
    current = await started;
  } catch (err) {
    started = undefined;
    log.error("pets-api cannot start", { requestId, ...errorFields(err) });
    return errorResponse(
      503,
      { error: "ServiceUnavailable", message: "the pets store is not reachable right now; retry later", requestId },
      { "retry-after": "1" },
    );
  }
  return current.app.handle(event);
}

/** Closes the database connection (tests and benchmarks; Lambda keeps it for warm invocations). */
export async function shutdown(): Promise<void> {
  const s = started;
  started = undefined;
  if (!s) return;
  const { db } = await s.catch(() => ({ db: undefined }));
  await db?.close();
}
