/**
 * One access interface for PostgreSQL, two implementations: `pg` over TLS (through the Transit
 * Gateway) and Aurora's Data API (`@aws-sdk/client-rds-data`, no VPC path needed). Handlers code
 * against this and config picks the implementation.
 *
 * SQL uses named placeholders `:name` (the Data API's syntax); the pg implementation rewrites them
 * to `$n`, leaving `::type` casts and quoted text alone.
 */
export type SqlScalar = string | number | boolean | null;

/** Types a parameter can be declared as (Data API `typeHint`s and pg casts follow from them). */
export type SqlType = "text" | "integer" | "bigint" | "numeric" | "double" | "boolean" | "timestamp" | "date" | "uuid" | "json";

/** A parameter with an explicit type, for values the driver cannot infer (uuid, json, timestamps, decimals). */
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
  query<T extends Record<string, unknown> = Record<string, unknown>>(sql: string, params?: SqlParams): Promise<QueryResult<T>>;
  /** Runs one statement once per parameter set (Data API BatchExecuteStatement); returns rows affected in total. */
  batch(sql: string, paramSets: SqlParams[]): Promise<number>;
}

export interface SqlDatabase extends SqlExecutor {
  readonly kind: "pg" | "data-api";
  /** Runs `fn` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  /** Releases the connection (tests and benchmarks; handlers keep it for warm invocations). */
  close(): Promise<void>;
}
