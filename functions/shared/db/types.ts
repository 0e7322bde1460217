/**
 * One access interface for PostgreSQL, two implementations: `pg` over TLS (through the Transit
 * Gateway; ./pg.ts) and Aurora's Data API (`@aws-sdk/client-rds-data`, no VPC path needed; ./data-api.ts).
 * Handlers code against this and config picks the implementation (`databaseFromEnv()` in ./index.ts).
 *
 * SQL uses named placeholders `:name` (the Data API's syntax); the pg implementation rewrites them
 * to `$n`, leaving `::type` casts, quoted text, dollar-quoted bodies and comments alone (./named-params.ts).
 * One statement per call: the Data API runs no multi-statement strings, so neither path is asked to.
 *
 * Parameter values: string, number (an integer is sent as one, else as a double), boolean, null, Date (a
 * timestamp), or `{ type, value }` for what a driver cannot infer: uuid, json, timestamp, date, numeric, bigint.
 *
 * Result values differ a little between the paths, as the drivers do: pg returns timestamptz/timestamp/date
 * columns as Date, the Data API as strings; numeric is a string on both; bigint is a number when it is a safe
 * integer and a string otherwise on both. Cast in SQL (`::text`, `::int`) when a handler needs one shape.
 */
export type SqlScalar = string | number | boolean | null;

/** Types a parameter can be declared as (Data API `typeHint`s and pg casts follow from them). */
export type SqlType =
  "text" | "integer" | "bigint" | "numeric" | "double" | "boolean" | "timestamp" | "date" | "uuid" | "json";

/**
 * A parameter with an explicit type, for values the driver cannot infer (uuid, json, timestamps, decimals).
 * json: a string is taken as JSON text already, anything else is serialised. timestamp: a Date, or a string
 * PostgreSQL reads as one. date: a Date (its UTC day) or YYYY-MM-DD. numeric/bigint: a number or a decimal string.
 */
export interface TypedValue {
  type: SqlType;
  value: SqlScalar | Date | object;
}

export type SqlParams = Record<string, SqlScalar | Date | TypedValue>;

export interface QueryResult<T> {
  rows: T[];
  /** Rows returned or affected. */
  rowCount: number;
}

export interface SqlExecutor {
  /** Runs one statement. Rows come back as plain objects keyed by column name. */
  query<T extends Record<string, unknown> = Record<string, unknown>>(
    sql: string,
    params?: SqlParams,
  ): Promise<QueryResult<T>>;
  /**
   * Runs one statement once per parameter set (Data API BatchExecuteStatement), atomically: inside a transaction
   * as part of it, outside one in a transaction of its own. Returns rows affected in total on pg; the Data API
   * reports no per-set counts for PostgreSQL, so there it returns the number of parameter sets run. Count with a
   * query when the exact number matters.
   */
  batch(sql: string, paramSets: SqlParams[]): Promise<number>;
}

export interface SqlDatabase extends SqlExecutor {
  readonly kind: "pg" | "data-api";
  /**
   * Runs `fn` in one transaction: committed when it resolves, rolled back when it throws. Use only `tx` inside
   * `fn`; the pg path refuses calls on the database itself while a transaction is open, because they would
   * share its one connection.
   */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  /** Releases the connection (tests and benchmarks; handlers keep it for warm invocations). */
  close(): Promise<void>;
}
