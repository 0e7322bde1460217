/**
 * PostgreSQL access for the connector, on the kit's shared `PgDatabase` (../shared/db/pg.ts): one connection per
 * (secret, host, port, database), kept across warm invocations and replaced when it drops; TLS always on and
 * verified against the RDS certificate authorities (plus PG_EXTRA_CA_FILE when set); a short connect deadline; a
 * server-side statement timeout; session in UTC. Each request runs in one READ ONLY transaction, so nothing the
 * connector runs can write, whatever the database user may do, and metadata and rows come from one snapshot.
 *
 * The shared layer's errors (DbError kinds) become protocol errors here, with messages in the connector's terms:
 * the connection's settings and credentials in AppFlow, not a function's environment variables.
 */
import { DbError } from "../shared/db/errors";
import { PgDatabase } from "../shared/db/pg";
import type { SqlParams, SqlScalar } from "../shared/db/types";
import type { Logger } from "../shared/log";
import type { ConnectorConfig } from "./config";
import { ConnectorError } from "./protocol";
import { forgetCredentials, getCredentials } from "./secrets";
import type { DbTarget } from "./settings";

/** A request's view of the database: statements inside its read-only transaction. */
export interface Db {
  query<T extends Record<string, unknown>>(sql: string, params?: SqlParams): Promise<T[]>;
  readonly target: DbTarget;
  /** Identifies the connection (and its metadata cache): secret ARN + endpoint. */
  readonly key: string;
}

/** Named bind parameters (`:p1`, `:p2`, …) collected while a statement is built. */
export class Binds {
  readonly values: Record<string, SqlScalar> = {};
  private n = 0;
  add(v: SqlScalar): string {
    const name = `p${++this.n}`;
    this.values[name] = v;
    return `:${name}`;
  }
}

const databases = new Map<string, PgDatabase>();

export function dbKey(secretArn: string, t: DbTarget): string {
  return `${secretArn}|${t.host}|${t.port}|${t.database}`;
}

function databaseFor(secretArn: string, target: DbTarget, cfg: ConnectorConfig, log: Logger): PgDatabase {
  const key = dbKey(secretArn, target);
  let db = databases.get(key);
  if (!db) {
    db = new PgDatabase({
      host: target.host,
      port: target.port,
      database: target.database,
      // Read at connect time; a refused password is read again once (a corrected or rotated one works at once).
      credentials: {
        get: async () => {
          const c = await getCredentials(secretArn, cfg);
          return { user: c.username, password: c.password };
        },
        invalidate: () => forgetCredentials(secretArn),
      },
      connectTimeoutMs: cfg.pgConnectTimeoutMs,
      statementTimeoutMs: cfg.pgStatementTimeoutMs,
      extraCaPem: cfg.extraCa,
      extraCaSource: "PG_EXTRA_CA_FILE",
      applicationName: "vpc-lambda-kit-appflow-connector",
      log,
    });
    databases.set(key, db);
  }
  return db;
}

/**
 * Runs `fn` in a READ ONLY transaction on the connection for this secret and endpoint. The credentials are read
 * first, so a Secrets Manager failure is reported as such, before any database error could hide it.
 */
export async function withReadOnly<T>(
  secretArn: string,
  target: DbTarget,
  cfg: ConnectorConfig,
  log: Logger,
  fn: (db: Db) => Promise<T>,
): Promise<T> {
  await getCredentials(secretArn, cfg);
  const pg = databaseFor(secretArn, target, cfg, log);
  try {
    return await pg.transaction(async (tx) => {
      await tx.query("SET TRANSACTION READ ONLY");
      return fn({
        target,
        key: dbKey(secretArn, target),
        query: async <R extends Record<string, unknown>>(sql: string, params?: SqlParams) =>
          (await tx.query<R>(sql, params)).rows,
      });
    });
  } catch (err) {
    const e = dbError(err, target, cfg);
    if (e.code === "InvalidCredentials") {
      forgetCredentials(secretArn);
      databases.delete(dbKey(secretArn, target));
      await pg.close();
    }
    throw e;
  }
}

/** Closes every connection (tests and benchmarks; the Lambda runtime keeps them for warm invocations). */
export async function closeAll(): Promise<void> {
  const all = [...databases.values()];
  databases.clear();
  await Promise.all(all.map((d) => d.close()));
}

/** The part of a DbError message before the shared layer's SQL preview. */
function reason(message: string): string {
  const i = message.indexOf(" (SQLSTATE");
  return i > 0 ? message.slice(0, i) : message;
}

/**
 * The protocol error for a database failure: refused credentials → InvalidCredentials; a bad value in the request
 * (SQLSTATE class 22) or a query the request made impossible (42) → InvalidArgument; missing privileges →
 * AccessDenied; statement timeout → RequestTimeout; no network path → a message naming the rules and routes.
 */
export function dbError(err: unknown, target: DbTarget, cfg: ConnectorConfig): ConnectorError {
  if (err instanceof ConnectorError) return err;
  const where = `${target.host}:${target.port}/${target.database}`;
  const path =
    `the function's security group must allow TCP ${target.port} out to the database (its security group, or the data VPC's CIDR across the ` +
    "Transit Gateway), the database's security group must admit it from the function's security group (or the network VPC's CIDR), and the " +
    "function's subnets need a route to the database's VPC";
  if (!(err instanceof DbError)) {
    return new ConnectorError(
      "UnknownError",
      `PostgreSQL at ${where} failed: ${(err as Error)?.message ?? String(err)}`,
    );
  }
  const code = err.code ?? "";
  switch (err.kind) {
    case "auth":
      if (code === "28P01" || code === "28000") {
        return new ConnectorError(
          "InvalidCredentials",
          `PostgreSQL at ${where} refused the connection's credentials (${code}); fix the user name or password of the AppFlow connection`,
        );
      }
      if (code === "3D000")
        return new ConnectorError(
          "InvalidArgument",
          `database "${target.database}" does not exist on ${target.host}:${target.port}; fix the connection's database setting`,
          undefined,
          { database: "no such database" },
        );
      return new ConnectorError("ClientError", `PostgreSQL at ${where} refused the connection (${code})`);
    case "unreachable":
      if (code === "ECONNREFUSED")
        return new ConnectorError(
          "ServiceUnavailable",
          `nothing accepts connections at ${target.host}:${target.port} (ECONNREFUSED); check the connection's host and port settings and that the cluster is available`,
          30,
        );
      if (code === "ENOTFOUND" || code === "EAI_AGAIN")
        return new ConnectorError(
          "ClientError",
          `database host ${target.host} does not resolve (${code}); use the cluster endpoint name exactly as RDS reports it, and keep the VPC's DNS resolution on`,
        );
      if (code === "53300")
        return new ConnectorError(
          "ServiceUnavailable",
          `PostgreSQL at ${where} has no free connection slots (53300)`,
          30,
        );
      if (code === "ETIMEDOUT" || code === "EHOSTUNREACH" || code === "ENETUNREACH") {
        return new ConnectorError(
          "RequestTimeout",
          `no answer from PostgreSQL at ${target.host}:${target.port} within ${cfg.pgConnectTimeoutMs} ms (${code}): ${path}`,
          10,
        );
      }
      return new ConnectorError(
        "ServiceUnavailable",
        `could not connect to PostgreSQL at ${where} (${code || "network"}); ${path}`,
        10,
      );
    case "tls":
      if (code === "NO_SSL")
        return new ConnectorError(
          "ClientError",
          `${target.host}:${target.port} does not offer TLS; the connector only connects with verified TLS`,
        );
      if (code === "ERR_TLS_CERT_ALTNAME_INVALID")
        return new ConnectorError(
          "ClientError",
          `TLS verification of ${target.host} failed (${code}): its certificate does not name "${target.host}"; use the cluster endpoint name RDS reports, not an IP address or a CNAME`,
        );
      return new ConnectorError(
        "ClientError",
        `TLS verification of ${target.host} failed (${code}): the server's certificate does not chain to the RDS certificate authorities; the connector only talks to RDS/Aurora endpoints with verified TLS`,
      );
    case "timeout":
      return new ConnectorError(
        "RequestTimeout",
        `a query on ${where} ran longer than PG_STATEMENT_TIMEOUT_MS=${cfg.pgStatementTimeoutMs} ms and was cancelled; ask for fewer rows per page or index the filtered fields`,
        5,
      );
    case "connection-lost":
    case "commit-unknown":
      return new ConnectorError(
        "ServiceUnavailable",
        `the connection to ${where} was lost (${reason(err.message)}); the request can be repeated`,
        5,
      );
    case "query":
      if (code === "42501")
        return new ConnectorError(
          "AccessDenied",
          `the connection's user may not read this on ${where} (${reason(err.message)}); GRANT USAGE ON SCHEMA and SELECT on its tables`,
        );
      if (code.startsWith("22"))
        return new ConnectorError(
          "InvalidArgument",
          `a value in the request is not valid for its field: ${reason(err.message)}`,
        );
      if (code.startsWith("42"))
        return new ConnectorError(
          "InvalidArgument",
          `PostgreSQL rejected the query built from the request: ${reason(err.message)}`,
        );
      if (code === "57014")
        return new ConnectorError("RequestTimeout", `a query on ${where} was cancelled (${reason(err.message)})`, 5);
      return new ConnectorError("ServerError", `PostgreSQL at ${where} failed: ${reason(err.message)}`);
    default:
      return new ConnectorError("ServerError", `PostgreSQL at ${where} failed: ${reason(err.message)}`);
  }
}

/** A quoted SQL identifier. */
export function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
