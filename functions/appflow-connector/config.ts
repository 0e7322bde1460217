/**
 * The function's own configuration: environment variables only, none of them secret, validated once per cold start.
 * Database credentials never come from here: they are read from the connection's Secrets Manager secret, whose ARN
 * AppFlow passes in every request.
 */
import * as fs from "fs";
import type { LogLevel } from "../shared/log";
import { ConnectorError } from "./protocol";

/** Lambda's synchronous response limit (6 MB); a page is cut below RESPONSE_MAX_BYTES, which must stay under it. */
export const LAMBDA_RESPONSE_LIMIT_BYTES = 6 * 1024 * 1024;

export interface ConnectorConfig {
  logLevel: LogLevel;
  /** TCP + TLS + authentication to PostgreSQL. */
  pgConnectTimeoutMs: number;
  /** statement_timeout of every query, so a slow query fails with a message before the Lambda timeout. */
  pgStatementTimeoutMs: number;
  /** Secrets Manager: TCP connect, and the whole request. Short on purpose (see ./secrets.ts). */
  secretsConnectTimeoutMs: number;
  secretsRequestTimeoutMs: number;
  secretsMaxAttempts: number;
  /** A page of QueryData records stops before its response would exceed this many bytes. */
  responseMaxBytes: number;
  /** Upper bound on rows per page whatever maxResults asks for. */
  maxPageRows: number;
  /** How long table metadata is reused within a warm container. */
  metadataCacheMs: number;
  /** When set, the only database host names (lower case) a connection profile may name. */
  allowedHosts?: string[];
  /** PEM of PG_EXTRA_CA_FILE, trusted besides the RDS CAs (tests: the throwaway CA of the local PostgreSQL). */
  extraCa?: string;
}

/** An integer variable in [min, max], `dflt` when unset or empty; problems are reported, not thrown one by one. */
function integer(
  env: NodeJS.ProcessEnv,
  report: (problem: string) => void,
  name: string,
  what: string,
  min: number,
  max: number,
  dflt: number,
): number {
  const v = env[name]?.trim();
  if (v === undefined || v === "") return dflt;
  if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) {
    report(`${name} must be an integer from ${min} to ${max} (${what}); got "${v}"`);
    return dflt;
  }
  return Number(v);
}

/** Reads and checks the environment (no zod here: it would be a quarter of the bundle); throws on any problem. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): ConnectorConfig {
  const { config, problems } = loadConfigParts(env);
  const all = Object.values(problems);
  if (all.length > 0)
    throw new ConnectorError("ServerError", `the connector function is misconfigured: ${all.join("; ")}`);
  return config;
}

/**
 * Every variable checked on its own: the configuration with defaults in place of the bad values, and the problems
 * keyed by variable, so that a request needing none of the bad variables (DescribeConnectorConfiguration, which
 * AppFlow calls to register the connector) is still answered, and one that needs them fails naming them.
 */
export function loadConfigParts(env: NodeJS.ProcessEnv = process.env): {
  config: ConnectorConfig;
  problems: Record<string, string>;
} {
  const byVariable: Record<string, string> = {};
  // Every message starts with the variable's name.
  const problems = { push: (message: string) => void (byVariable[/^[A-Z_]+/.exec(message)![0]] = message) };
  const int = (name: string, what: string, min: number, max: number, dflt: number) =>
    integer(env, problems.push, name, what, min, max, dflt);
  let level = (env.LOG_LEVEL ?? "info").trim().toLowerCase() || "info";
  if (!["debug", "info", "warn", "error"].includes(level)) {
    problems.push(`LOG_LEVEL must be one of debug, info, warn, error; got "${env.LOG_LEVEL}"`);
    level = "info";
  }
  const e = {
    PG_CONNECT_TIMEOUT_MS: int("PG_CONNECT_TIMEOUT_MS", "TCP, TLS and login to PostgreSQL", 500, 60_000, 5_000),
    PG_STATEMENT_TIMEOUT_MS: int(
      "PG_STATEMENT_TIMEOUT_MS",
      "statement_timeout per query; keep it below the function timeout",
      1_000,
      900_000,
      25_000,
    ),
    SECRETS_CONNECT_TIMEOUT_MS: int("SECRETS_CONNECT_TIMEOUT_MS", "TCP connect to Secrets Manager", 200, 30_000, 2_000),
    SECRETS_REQUEST_TIMEOUT_MS: int("SECRETS_REQUEST_TIMEOUT_MS", "one GetSecretValue request", 500, 60_000, 3_000),
    SECRETS_MAX_ATTEMPTS: int("SECRETS_MAX_ATTEMPTS", "GetSecretValue attempts, the first included", 1, 5, 2),
    RESPONSE_MAX_BYTES: int(
      "RESPONSE_MAX_BYTES",
      `response size a page stays under; Lambda's limit is ${LAMBDA_RESPONSE_LIMIT_BYTES}`,
      10_000,
      LAMBDA_RESPONSE_LIMIT_BYTES - 64 * 1024,
      5_500_000,
    ),
    MAX_PAGE_ROWS: int("MAX_PAGE_ROWS", "rows per QueryData page at most", 1, 100_000, 10_000),
    METADATA_CACHE_SECONDS: int("METADATA_CACHE_SECONDS", "reuse of table metadata in a warm container", 0, 3_600, 60),
    ALLOWED_DB_HOSTS: env.ALLOWED_DB_HOSTS,
    PG_EXTRA_CA_FILE: env.PG_EXTRA_CA_FILE,
  };
  let extraCa: string | undefined;
  if (e.PG_EXTRA_CA_FILE && e.PG_EXTRA_CA_FILE.trim() !== "") {
    try {
      extraCa = fs.readFileSync(e.PG_EXTRA_CA_FILE.trim(), "utf8");
      if (!extraCa.includes("-----BEGIN CERTIFICATE-----")) {
        problems.push(`PG_EXTRA_CA_FILE ${e.PG_EXTRA_CA_FILE} holds no PEM certificate`);
        extraCa = undefined;
      }
    } catch (err) {
      problems.push(
        `PG_EXTRA_CA_FILE ${e.PG_EXTRA_CA_FILE} cannot be read (${(err as Error).message}); unset it (RDS CAs are built in) or point it at a PEM file in the bundle`,
      );
    }
  }
  const hosts = (e.ALLOWED_DB_HOSTS ?? "")
    .split(",")
    .map((h) => h.trim().toLowerCase())
    .filter((h) => h !== "");
  return {
    problems: byVariable,
    config: {
      logLevel: level as LogLevel,
      pgConnectTimeoutMs: e.PG_CONNECT_TIMEOUT_MS,
      pgStatementTimeoutMs: e.PG_STATEMENT_TIMEOUT_MS,
      secretsConnectTimeoutMs: e.SECRETS_CONNECT_TIMEOUT_MS,
      secretsRequestTimeoutMs: e.SECRETS_REQUEST_TIMEOUT_MS,
      secretsMaxAttempts: e.SECRETS_MAX_ATTEMPTS,
      responseMaxBytes: e.RESPONSE_MAX_BYTES,
      maxPageRows: e.MAX_PAGE_ROWS,
      metadataCacheMs: e.METADATA_CACHE_SECONDS * 1000,
      allowedHosts: hosts.length > 0 ? hosts : undefined,
      extraCa,
    },
  };
}
