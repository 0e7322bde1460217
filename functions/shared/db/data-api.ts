/**
 * PostgreSQL through Aurora's Data API (`@aws-sdk/client-rds-data`): HTTPS to the regional rds-data endpoint, no
 * VPC path to the database, no driver, the credentials secret read by the service itself.
 *
 * - query → ExecuteStatement with typed SqlParameters (typeHint UUID/JSON/TIMESTAMP/DATE/DECIMAL where the value
 *   needs one) and formatRecordsAs JSON, so rows come back as plain objects.
 * - batch → BatchExecuteStatement, chunked to stay under the API's limits (a 4 MiB request; sets per call capped
 *   so one call stays well inside the 45 s statement limit), inside a transaction.
 * - transaction → BeginTransaction / CommitTransaction, RollbackTransaction when `fn` throws. Calls inside one
 *   transaction are serialised: the Data API rejects a second call while one is running.
 *
 * Retries (ours; the SDK's own are off because it would repeat a statement whose outcome is unknown):
 * - DatabaseResumingException: an Aurora Serverless v2 cluster paused at 0 ACU; the call itself starts the resume
 *   and ran nothing, so it is repeated with backoff (resuming takes seconds to tens of seconds).
 * - DatabaseUnavailableException, throttling, 5xx and network failures: repeated only where repeating cannot
 *   apply work twice: BeginTransaction and RollbackTransaction, and statements outside a transaction when the
 *   service says the database was unavailable (nothing ran).
 * - StatementTimeoutException is never repeated: the statement ran for the Data API's 45 s and was cancelled, a
 *   repeat would do the same, and inside a transaction the transaction is lost with it.
 */
import {
  BatchExecuteStatementCommand,
  BeginTransactionCommand,
  CommitTransactionCommand,
  ExecuteStatementCommand,
  RDSDataClient,
  RollbackTransactionCommand,
  SqlParameter,
  TypeHint,
} from "@aws-sdk/client-rds-data";
import { DbError } from "./errors";
import { isoDate, isTypedValue, paramValue, placeholderNames, preview } from "./named-params";
import type { QueryResult, SqlDatabase, SqlExecutor, SqlParams, SqlType } from "./types";
import type { Logger } from "../log";
import { backoffMs, RetryPolicy, sleep } from "../retry";

export interface DataApiDatabaseOptions {
  /** ARN of the Aurora cluster (arn:aws:rds:<region>:<account>:cluster:<name>). */
  resourceArn: string;
  /** ARN of the secret holding the credentials; the Data API reads it with the caller's permissions. */
  secretArn: string;
  /** Database name. */
  database: string;
  /** An existing client (tests). Default: a client for the cluster's region with 60 s request timeout. */
  client?: RDSDataClient;
  /** Retries of DatabaseResumingException and the other safe cases. Default 8 attempts, 1 s doubling to 10 s. */
  retry?: RetryPolicy;
  /** Parameter sets per BatchExecuteStatement call. Default 1000. */
  maxBatchSets?: number;
  /** Bytes of one request's JSON body at most (the API allows 4 MiB including headers). Default 3.5 MiB. */
  maxRequestBytes?: number;
  /** Retries and rollbacks. Default: silent. */
  log?: Logger;
}

type Op =
  "ExecuteStatement" | "BatchExecuteStatement" | "BeginTransaction" | "CommitTransaction" | "RollbackTransaction";

const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 8, baseMs: 1_000, maxMs: 10_000 };
const MiB = 1024 * 1024;

export class DataApiDatabase implements SqlDatabase {
  readonly kind = "data-api" as const;
  readonly client: RDSDataClient;
  private readonly opts: DataApiDatabaseOptions;
  private readonly retry: RetryPolicy;
  /** Calls sent, by operation (tests and benchmarks). */
  readonly calls: Record<Op, number> = {
    ExecuteStatement: 0,
    BatchExecuteStatement: 0,
    BeginTransaction: 0,
    CommitTransaction: 0,
    RollbackTransaction: 0,
  };

  constructor(opts: DataApiDatabaseOptions) {
    this.opts = opts;
    this.retry = opts.retry ?? DEFAULT_RETRY;
    const region = /^arn:aws[a-z-]*:rds:([a-z0-9-]+):/.exec(opts.resourceArn)?.[1];
    // The Data API cancels a statement at 45 s; the HTTP timeout must outlast it or the answer is lost.
    this.client =
      opts.client ??
      new RDSDataClient({
        ...(region ? { region } : {}),
        maxAttempts: 1,
        requestHandler: { connectionTimeout: 5_000, requestTimeout: 60_000 },
      });
  }

  query<T extends Record<string, unknown> = Record<string, unknown>>(
    sql: string,
    params?: SqlParams,
  ): Promise<QueryResult<T>> {
    return this.execute<T>(sql, params, undefined);
  }

  batch(sql: string, paramSets: SqlParams[]): Promise<number> {
    if (paramSets.length === 0) return Promise.resolve(0);
    return this.transaction((tx) => tx.batch(sql, paramSets));
  }

  async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    const begun = await this.send("BeginTransaction", () => new BeginTransactionCommand(this.target()), {
      safeToRepeat: true,
    });
    const transactionId = begun.transactionId;
    if (!transactionId) throw new DbError("data-api", "BeginTransaction returned no transactionId");
    const tx = new DataApiTransaction(this, transactionId);
    let result: T;
    try {
      result = await fn(tx);
    } catch (err) {
      tx.finished = true;
      await tx.idle();
      await this.rollback(transactionId, err);
      throw err;
    }
    tx.finished = true;
    await tx.idle();
    try {
      await this.send("CommitTransaction", () => new CommitTransactionCommand(this.transactionTarget(transactionId)), {
        safeToRepeat: false,
      });
    } catch (err) {
      if (err instanceof DbError && err.kind === "data-api" && /network|timeout|socket|ECONN/i.test(err.message)) {
        throw new DbError(
          "commit-unknown",
          `CommitTransaction got no answer (${err.message}): the transaction may or may not have been committed; repeat only idempotent work`,
        );
      }
      throw err;
    }
    return result;
  }

  async close(): Promise<void> {
    this.client.destroy();
  }

  private async rollback(transactionId: string, cause: unknown): Promise<void> {
    try {
      await this.send(
        "RollbackTransaction",
        () => new RollbackTransactionCommand(this.transactionTarget(transactionId)),
        {
          safeToRepeat: true,
        },
      );
    } catch (err) {
      // The transaction may already be gone (aborted by the failed statement, or expired); it is rolled back then.
      this.opts.log?.warn("RollbackTransaction failed; the Data API rolls the transaction back when it expires", {
        error: (err as Error).message,
        cause: (cause as Error)?.message,
      });
    }
  }

  /** One statement; `transactionId` when inside a transaction. */
  async execute<T>(
    sql: string,
    params: SqlParams | undefined,
    transactionId: string | undefined,
  ): Promise<QueryResult<T>> {
    const parameters = toSqlParameters(sql, params);
    const res = await this.send(
      "ExecuteStatement",
      () =>
        new ExecuteStatementCommand({
          ...this.target(),
          sql,
          ...(parameters.length > 0 ? { parameters } : {}),
          ...(transactionId ? { transactionId } : {}),
          formatRecordsAs: "JSON",
        }),
      { safeToRepeat: false, inTransaction: transactionId !== undefined, sql },
    );
    let rows: T[] = [];
    if (res.formattedRecords) {
      try {
        rows = JSON.parse(res.formattedRecords) as T[];
      } catch {
        throw new DbError("data-api", `ExecuteStatement returned formattedRecords that are not JSON: ${preview(sql)}`);
      }
    }
    return { rows, rowCount: Math.max(rows.length, res.numberOfRecordsUpdated ?? 0) };
  }

  /** BatchExecuteStatement in chunks; must run inside a transaction so the chunks commit together. */
  async executeBatch(sql: string, paramSets: SqlParams[], transactionId: string): Promise<number> {
    for (const chunk of this.chunks(sql, paramSets)) {
      await this.send(
        "BatchExecuteStatement",
        () => new BatchExecuteStatementCommand({ ...this.target(), sql, parameterSets: chunk, transactionId }),
        { safeToRepeat: false, inTransaction: true, sql },
      );
    }
    return paramSets.length;
  }

  /** Parameter sets split so that each call stays under the request size and the sets-per-call cap. */
  chunks(sql: string, paramSets: SqlParams[]): SqlParameter[][][] {
    const maxSets = this.opts.maxBatchSets ?? 1000;
    const maxBytes = this.opts.maxRequestBytes ?? 3.5 * MiB;
    // The fixed part of a request: ARNs, database, SQL and a transaction id of the longest size the API returns.
    const base = Buffer.byteLength(JSON.stringify({ ...this.target(), sql, transactionId: "x".repeat(192) })) + 64;
    const out: SqlParameter[][][] = [];
    let current: SqlParameter[][] = [];
    let bytes = base;
    paramSets.forEach((params, i) => {
      const set = toSqlParameters(sql, params);
      const size = Buffer.byteLength(JSON.stringify(set)) + 1;
      if (base + size > maxBytes) {
        throw new DbError(
          "query",
          `parameter set ${i} alone is ${size} bytes, more than one Data API request may carry (${maxBytes}): store large values another way`,
        );
      }
      if (current.length >= maxSets || bytes + size > maxBytes) {
        out.push(current);
        current = [];
        bytes = base;
      }
      current.push(set);
      bytes += size;
    });
    if (current.length > 0) out.push(current);
    return out;
  }

  /** What a statement or BeginTransaction names: the cluster, the secret and the database. */
  private target() {
    return { resourceArn: this.opts.resourceArn, secretArn: this.opts.secretArn, database: this.opts.database };
  }

  /** What ending a transaction names: the cluster, the secret and the transaction. */
  private transactionTarget(transactionId: string) {
    return { resourceArn: this.opts.resourceArn, secretArn: this.opts.secretArn, transactionId };
  }

  private async send<R>(
    op: Op,
    make: () => { input: unknown },
    how: { safeToRepeat: boolean; inTransaction?: boolean; sql?: string },
  ): Promise<R & { transactionId?: string; formattedRecords?: string; numberOfRecordsUpdated?: number }> {
    for (let attempt = 1; ; attempt++) {
      try {
        this.calls[op]++;
        // One send for five command types; the result is typed by the caller.
        return (await (this.client as unknown as { send(c: unknown): Promise<unknown> }).send(make())) as never;
      } catch (err) {
        const name = (err as { name?: string })?.name ?? "Error";
        const resuming =
          name === "DatabaseResumingException" ||
          (name === "BadRequestException" && /Communications link failure|resum/i.test((err as Error).message));
        const unavailable = name === "DatabaseUnavailableException";
        const transient =
          unavailable ||
          /Throttl|ServiceUnavailable|InternalServerError|TimeoutError|ECONNRESET|socket hang up|NetworkingError/i.test(
            `${name} ${(err as Error).message}`,
          );
        const retryable =
          resuming ||
          (how.safeToRepeat && transient) ||
          (!how.inTransaction && unavailable && op === "ExecuteStatement");
        if (!retryable || attempt >= this.retry.maxAttempts) throw dataApiError(err, op, this.opts, attempt, how.sql);
        const wait = backoffMs(attempt, this.retry);
        this.opts.log?.warn(resuming ? "Aurora is resuming from 0 ACU; retrying" : "Data API call failed; retrying", {
          op,
          errorName: name,
          attempt,
          waitMs: Math.round(wait),
        });
        await sleep(wait);
      }
    }
  }
}

class DataApiTransaction implements SqlExecutor {
  finished = false;
  private tail: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly db: DataApiDatabase,
    private readonly transactionId: string,
  ) {}

  query<T extends Record<string, unknown> = Record<string, unknown>>(
    sql: string,
    params?: SqlParams,
  ): Promise<QueryResult<T>> {
    return this.serial(() => this.db.execute<T>(sql, params, this.transactionId));
  }

  batch(sql: string, paramSets: SqlParams[]): Promise<number> {
    return this.serial(() =>
      paramSets.length === 0 ? Promise.resolve(0) : this.db.executeBatch(sql, paramSets, this.transactionId),
    );
  }

  /** Resolves when no call of this transaction is running. */
  async idle(): Promise<void> {
    await this.tail.catch(() => undefined);
  }

  private serial<R>(op: () => Promise<R>): Promise<R> {
    if (this.finished)
      return Promise.reject(
        new DbError(
          "query",
          "this transaction has already ended: statements after commit or rollback would run outside it",
        ),
      );
    const run = this.tail.catch(() => undefined).then(op);
    this.tail = run;
    return run;
  }
}

const TYPE_HINTS: Partial<Record<SqlType, TypeHint>> = {
  uuid: "UUID",
  json: "JSON",
  timestamp: "TIMESTAMP",
  date: "DATE",
  numeric: "DECIMAL",
};

/** The Data API parameters for the placeholders `sql` uses (and only those), or a DbError naming a missing one. */
export function toSqlParameters(sql: string, params: SqlParams | undefined): SqlParameter[] {
  return placeholderNames(sql).map((name) => toSqlParameter(name, paramValue(params, name, sql)));
}

export function toSqlParameter(name: string, v: SqlParams[string]): SqlParameter {
  if (v === null) return { name, value: { isNull: true } };
  if (typeof v === "string") return { name, value: { stringValue: v } };
  if (typeof v === "boolean") return { name, value: { booleanValue: v } };
  if (typeof v === "number") return { name, value: numberField(name, v) };
  if (v instanceof Date) return { name, value: { stringValue: dataApiTimestamp(name, v) }, typeHint: "TIMESTAMP" };
  if (!isTypedValue(v))
    throw new DbError("query", `parameter :${name} is an object: declare it as { type: "json", value } to send JSON`);
  const value = v.value;
  if (value === null || value === undefined) return { name, value: { isNull: true } };
  const hint = TYPE_HINTS[v.type];
  switch (v.type) {
    case "text":
      return { name, value: { stringValue: String(value) } };
    case "boolean":
      if (typeof value !== "boolean")
        throw new DbError("query", `parameter :${name} is declared boolean but holds ${typeof value}`);
      return { name, value: { booleanValue: value } };
    case "double":
      return { name, value: { doubleValue: Number(value) } };
    case "integer":
    case "bigint": {
      const n = typeof value === "number" ? value : Number(String(value));
      if (Number.isSafeInteger(n)) return { name, value: { longValue: n } };
      // Beyond 2^53 a JS number loses digits: send the decimal text, which PostgreSQL assigns to bigint exactly.
      if (typeof value === "string" && /^-?\d+$/.test(value))
        return { name, value: { stringValue: value }, typeHint: "DECIMAL" };
      throw new DbError(
        "query",
        `parameter :${name} is declared ${v.type} but ${JSON.stringify(value)} is not an integer`,
      );
    }
    case "numeric":
      return { name, value: { stringValue: String(value) }, typeHint: hint };
    case "json":
      return {
        name,
        value: { stringValue: typeof value === "string" ? value : JSON.stringify(value) },
        typeHint: hint,
      };
    case "timestamp":
      return {
        name,
        value: { stringValue: dataApiTimestamp(name, value instanceof Date ? value : String(value)) },
        typeHint: hint,
      };
    case "date":
      return { name, value: { stringValue: value instanceof Date ? isoDate(value) : String(value) }, typeHint: hint };
    case "uuid":
      return { name, value: { stringValue: String(value) }, typeHint: hint };
    default:
      throw new DbError("query", `parameter :${name} has unknown type "${(v as { type: string }).type}"`);
  }
}

function numberField(name: string, n: number): SqlParameter["value"] {
  if (!Number.isFinite(n)) throw new DbError("query", `parameter :${name} is ${n}, which no SQL column can hold`);
  return Number.isSafeInteger(n) ? { longValue: n } : { doubleValue: n };
}

/** The TIMESTAMP typeHint's format, YYYY-MM-DD HH:MM:SS[.FFF], in UTC (the session time zone of Aurora). */
export function dataApiTimestamp(name: string, v: Date | string): string {
  if (typeof v === "string" && /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,6})?$/.test(v)) return v;
  const d = v instanceof Date ? v : new Date(v);
  if (Number.isNaN(d.getTime()))
    throw new DbError("query", `parameter :${name} is not a timestamp: ${JSON.stringify(v)}`);
  return d.toISOString().replace("T", " ").replace("Z", "");
}

function dataApiError(
  err: unknown,
  op: Op,
  opts: DataApiDatabaseOptions,
  attempts: number,
  sql: string | undefined,
): DbError {
  const e = err as { name?: string; message?: string };
  const name = e?.name ?? "Error";
  const message = e?.message ?? String(err);
  const stmt = sql ? `: ${preview(sql)}` : "";
  const cluster = opts.resourceArn;
  switch (name) {
    case "DatabaseResumingException":
      return new DbError(
        "data-api",
        `the Aurora cluster ${cluster} was still resuming from 0 ACU after ${attempts} attempts: invoke again, or keep a minimum capacity above 0 ACU`,
        name,
      );
    case "StatementTimeoutException":
      return new DbError(
        "timeout",
        `the statement ran longer than the Data API's 45 s limit and was cancelled (nothing it did is kept${op === "ExecuteStatement" || op === "BatchExecuteStatement" ? "; an open transaction is lost with it" : ""}): ` +
          `send smaller batches, or use DB_ACCESS=pg for long statements${stmt}`,
        name,
      );
    case "HttpEndpointNotEnabledException":
      return new DbError(
        "data-api",
        `the Data API is not enabled on ${cluster}: enable it on the cluster (EnableHttpEndpoint / enableHttpEndpoint: true)`,
        name,
      );
    case "AccessDeniedException":
    case "ForbiddenException":
      return new DbError(
        "data-api",
        `the function's role may not call rds-data:${op} on ${cluster} or read its secret (${name}: ${message}): allow rds-data:ExecuteStatement, BatchExecuteStatement, ` +
          `BeginTransaction, CommitTransaction and RollbackTransaction on the cluster ARN, and secretsmanager:GetSecretValue on ${opts.secretArn}`,
        name,
      );
    case "InvalidSecretException":
    case "SecretsErrorException":
      return new DbError(
        "data-api",
        `the Data API could not use secret ${opts.secretArn} (${name}: ${message}): DB_SECRET_ARN must be the cluster's credentials secret`,
        name,
      );
    case "DatabaseNotFoundException":
      return new DbError(
        "data-api",
        `${cluster} or database "${opts.database}" was not found (${message}): check DB_CLUSTER_ARN and DB_NAME`,
        name,
      );
    case "TransactionNotFoundException":
      return new DbError(
        "data-api",
        `the Data API transaction is gone (${message}): it expired (3 minutes without a call) or a failed statement had aborted it${stmt}`,
        name,
      );
    case "DatabaseUnavailableException":
      return new DbError(
        "data-api",
        `the writer of ${cluster} was unavailable after ${attempts} attempts (failover or maintenance): invoke again`,
        name,
      );
    case "BadRequestException":
    case "DatabaseErrorException": {
      const state = /SQLState: ?([0-9A-Z]{5})/i.exec(message)?.[1];
      return new DbError("query", `${message.replace(/\s+/g, " ").trim()}${stmt}`, state ?? name);
    }
    default:
      return new DbError("data-api", `rds-data:${op} failed (${name}: ${message})${stmt}`, name);
  }
}
