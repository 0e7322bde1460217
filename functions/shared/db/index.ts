/**
 * `databaseFromEnv()`: the access path and its settings from the function's environment, every problem reported
 * at once. The variable names are a contract with the stacks that set them (stacks/features/db-writer.ts); do not
 * rename them.
 *
 *   DB_ACCESS              pg | data-api
 *   DB_NAME                database name (both paths)
 *   DB_SECRET_ARN          credentials secret, JSON {"username","password"} (both paths: pg reads it itself, the
 *                          Data API reads it on the caller's behalf)
 *   pg:
 *   DB_HOST                cluster (writer) endpoint; the TLS certificate is checked against this name
 *   DB_PORT                default 5432
 *   DB_CONNECT_TIMEOUT_MS  default 3000 (100–60000): TCP + TLS + authentication
 *   DB_SECRET_REGION       optional: the secret's region when DB_SECRET_ARN is a name, not an ARN
 *   DB_STATEMENT_TIMEOUT_MS optional, default 60000 (0 = none)
 *   DB_TLS_CA_PEM_FILE     optional: a PEM CA trusted in addition to the RDS bundle, for a non-RDS server (tests)
 *   data-api:
 *   DB_CLUSTER_ARN         arn:aws:rds:<region>:<account>:cluster:<id>
 */
import * as fs from "fs";
import * as z from "zod/mini";
import { DbError } from "./errors";
import type { SqlDatabase } from "./types";
import { integerVar as integer, requiredVar as required } from "../env-mini";
import type { Logger } from "../log";

export { DbError } from "./errors";
export type { DbErrorKind } from "./errors";
export type { PgDatabase, PgExecutor, PgDatabaseOptions, PgCredentials, CredentialsSource } from "./pg";
export type { DataApiDatabase, DataApiDatabaseOptions } from "./data-api";
export type { SecretCredentials } from "./credentials";
export type * from "./types";

/*
 * The two access paths are required here, not imported, so that a bundle built for one path (components/bundle.ts,
 * `dbAccess`) holds only that path: the bundler replaces VLK_BUNDLE_DB_ACCESS with a constant and drops the other
 * branch with its modules (the pg driver, the RDS CA bundle and the Secrets Manager client, or the RDS Data API
 * client). Both load when the module loads, as imports would, so a container pays for them once, at init.
 * Unbundled (tests) the variable is unset and both paths are there.
 */

const pgPath:
  | {
      PgDatabase: typeof import("./pg").PgDatabase;
      SecretCredentials: typeof import("./credentials").SecretCredentials;
    }
  | undefined =
  process.env.VLK_BUNDLE_DB_ACCESS === "data-api"
    ? undefined
    : { PgDatabase: require("./pg").PgDatabase, SecretCredentials: require("./credentials").SecretCredentials };
const dataApiPath: { DataApiDatabase: typeof import("./data-api").DataApiDatabase } | undefined =
  process.env.VLK_BUNDLE_DB_ACCESS === "pg" ? undefined : { DataApiDatabase: require("./data-api").DataApiDatabase };

/** The access path this code was bundled for, or undefined when it holds both. */
export function bundledDbAccess(): "pg" | "data-api" | undefined {
  return !pgPath ? "data-api" : !dataApiPath ? "pg" : undefined;
}

const optional = z.optional(z.string().check(z.trim()));

const common = z.object({
  DB_ACCESS: z
    .string({
      error: (iss) =>
        iss.input === undefined
          ? "DB_ACCESS is not set: set it to pg (a TLS connection through the Transit Gateway) or data-api (the Aurora Data API)"
          : "DB_ACCESS must be a string",
    })
    .check(
      z.trim(),
      z.refine((v) => v === "pg" || v === "data-api", {
        error: (iss) => `DB_ACCESS must be pg or data-api; got "${String(iss.input)}"`,
      }),
    ),
  DB_NAME: required("DB_NAME", "the database name, e.g. app"),
  DB_SECRET_ARN: required(
    "DB_SECRET_ARN",
    'the ARN of the secret holding {"username","password"} (the cluster\'s managed master secret)',
  ),
});

const pgEnv = z.object({
  DB_HOST: required(
    "DB_HOST",
    "the cluster's writer endpoint, e.g. mydb.cluster-abc123.ap-northeast-1.rds.amazonaws.com",
  ),
  DB_PORT: integer("DB_PORT", "the PostgreSQL port", 1, 65_535, 5432),
  DB_CONNECT_TIMEOUT_MS: integer(
    "DB_CONNECT_TIMEOUT_MS",
    "deadline for TCP, TLS and authentication",
    100,
    60_000,
    3_000,
  ),
  DB_STATEMENT_TIMEOUT_MS: integer(
    "DB_STATEMENT_TIMEOUT_MS",
    "server-side statement_timeout; 0 = none",
    0,
    3_600_000,
    60_000,
  ),
  DB_SECRET_REGION: z.optional(
    z.string().check(
      z.trim(),
      z.refine((v) => !v || /^[a-z]{2}(-[a-z]+)+-\d$/.test(v), {
        error: (iss) => `DB_SECRET_REGION must be a region name such as ap-northeast-1; got "${String(iss.input)}"`,
      }),
    ),
  ),
  DB_TLS_CA_PEM_FILE: optional,
});

const dataApiEnv = z.object({
  DB_CLUSTER_ARN: required(
    "DB_CLUSTER_ARN",
    "the Aurora cluster's ARN, arn:aws:rds:<region>:<account>:cluster:<id>",
  ).check(
    z.refine((v) => /^arn:aws[a-z-]*:rds:[a-z0-9-]+:\d{12}:cluster:[A-Za-z0-9-]+$/.test(v), {
      error: (iss) =>
        `DB_CLUSTER_ARN must be a cluster ARN, arn:aws:rds:<region>:<account>:cluster:<id>; got "${String(iss.input)}"`,
    }),
  ),
});

export interface DatabaseFromEnvOptions {
  /** Connection events and Data API retries. */
  log?: Logger;
  /** application_name on the pg path (pg_stat_activity). Default "vpc-lambda-kit". */
  applicationName?: string;
}

/** Reads and checks the DB_* variables and returns the access path they choose; throws one DbError("config") listing every problem. */
export function databaseFromEnv(env: NodeJS.ProcessEnv = process.env, opts: DatabaseFromEnvOptions = {}): SqlDatabase {
  const problems: string[] = [];
  const base = common.safeParse(env);
  if (!base.success) problems.push(...base.error.issues.map((i) => i.message));
  const access = env.DB_ACCESS?.trim();
  const built = bundledDbAccess();
  if (built && (access === "pg" || access === "data-api") && access !== built) {
    throw configError([
      `DB_ACCESS is ${access}, but this function was bundled for ${built} only: set DB_ACCESS=${built}, or redeploy so the bundle is built for ${access}`,
    ]);
  }
  if (access === "data-api" && dataApiPath) {
    const d = dataApiEnv.safeParse(env);
    if (!d.success) problems.push(...d.error.issues.map((i) => i.message));
    if (base.success && !/^arn:aws[a-z-]*:secretsmanager:/.test(base.data.DB_SECRET_ARN)) {
      problems.push(
        "DB_SECRET_ARN must be the secret's full ARN for the Data API (arn:aws:secretsmanager:<region>:<account>:secret:<name>)",
      );
    }
    if (problems.length > 0 || !base.success || !d.success) throw configError(problems);
    return new dataApiPath.DataApiDatabase({
      resourceArn: d.data.DB_CLUSTER_ARN,
      secretArn: base.data.DB_SECRET_ARN,
      database: base.data.DB_NAME,
      log: opts.log,
    });
  }
  // Unset or invalid DB_ACCESS: report the pg variables too, so one run lists everything.
  const p = pgEnv.safeParse(env);
  if (!p.success) problems.push(...p.error.issues.map((i) => i.message));
  let extraCaPem: string | undefined;
  const caFile = p.success ? p.data.DB_TLS_CA_PEM_FILE || undefined : undefined;
  if (caFile) {
    try {
      extraCaPem = fs.readFileSync(caFile, "utf8");
      if (!extraCaPem.includes("-----BEGIN CERTIFICATE-----"))
        problems.push(
          `DB_TLS_CA_PEM_FILE ${caFile} holds no PEM certificate: point it at the CA's certificate in PEM form, or unset it`,
        );
    } catch (e) {
      problems.push(
        `DB_TLS_CA_PEM_FILE ${caFile} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}): unset it (RDS needs no extra CA) or ship the file with the function`,
      );
    }
  }
  if (problems.length > 0 || !base.success || !p.success || !pgPath) throw configError(problems);
  const { PgDatabase, SecretCredentials } = pgPath;
  return new PgDatabase({
    host: p.data.DB_HOST,
    port: p.data.DB_PORT,
    database: base.data.DB_NAME,
    credentials: new SecretCredentials(base.data.DB_SECRET_ARN, p.data.DB_SECRET_REGION || undefined),
    connectTimeoutMs: p.data.DB_CONNECT_TIMEOUT_MS,
    statementTimeoutMs: p.data.DB_STATEMENT_TIMEOUT_MS,
    extraCaPem,
    extraCaSource: caFile ? `DB_TLS_CA_PEM_FILE (${caFile})` : undefined,
    applicationName: opts.applicationName,
    log: opts.log,
  });
}

function configError(problems: string[]): DbError {
  return new DbError("config", `the database settings are invalid: ${problems.join("; ")}.`);
}
