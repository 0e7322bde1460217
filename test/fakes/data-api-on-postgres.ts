/**
 * The RDS Data API answered by a real PostgreSQL, for the handler tests of the data-api access path. The bundle's
 * RDSDataClient is mocked with aws-sdk-client-mock, and every call runs on PostgreSQL the way the service runs it:
 *   - BeginTransaction opens a connection of its own and BEGINs; CommitTransaction / RollbackTransaction end it;
 *   - ExecuteStatement (in its transaction, or on one shared connection without one) and BatchExecuteStatement bind
 *     the `:name` parameters from their typed values (a typeHint becomes a cast) and answer in the service's shapes:
 *     `formattedRecords` when formatRecordsAs is JSON, one empty result per parameter set for a batch;
 *   - a statement PostgreSQL refuses answers DatabaseErrorException "ERROR: <message>; SQLState: <code>".
 * The SQL is proven on both access paths this way; the mock never answers from canned rows.
 *
 * Call it inside `jest.isolateModules`, before the bundle is loaded: it mocks the client class of that module
 * registry, which is the one the bundle requires.
 */
import { Client, ClientConfig } from "pg";

export interface DataApiCall {
  op: string;
  input: Record<string, any>;
}

export interface DataApiOnPostgresOptions {
  /** Connection settings of the database the Data API serves (PgServer.pgConfig). */
  pgConfig: Record<string, unknown>;
  /** Sees each call before it runs (to record it); an error thrown here is the call's answer. */
  onCall(call: DataApiCall): void;
}

export interface DataApiOnPostgres {
  /** Ends the connections it still holds (open transactions, the shared one). */
  close(): Promise<void>;
}

interface Parameter {
  name: string;
  value: { isNull?: boolean; stringValue?: string; longValue?: number; doubleValue?: number; booleanValue?: boolean };
  typeHint?: string;
}

const CASTS: Record<string, string> = {
  UUID: "uuid",
  JSON: "json",
  DATE: "date",
  TIMESTAMP: "timestamp",
  DECIMAL: "numeric",
  TIME: "time",
};

/**
 * `:name` placeholders → `$n` (one per name, a typeHint cast added), leaving '…' and "…" text and `::casts` alone.
 * Written apart from functions/shared/db/named-params.ts on purpose: the fake must not share the code it checks.
 */
function bind(sql: string, parameters: Parameter[] = []): { text: string; values: unknown[] } {
  const byName = new Map(parameters.map((p) => [p.name, p]));
  const values: unknown[] = [];
  const index = new Map<string, number>();
  let out = "";
  for (let i = 0; i < sql.length; i++) {
    const c = sql[i];
    if (c === "'" || c === '"') {
      const end = sql.indexOf(c, i + 1);
      out += sql.slice(i, end + 1);
      i = end;
      continue;
    }
    const m =
      c === ":" && sql[i + 1] !== ":" && sql[i - 1] !== ":" ? /^:([A-Za-z_][A-Za-z0-9_]*)/.exec(sql.slice(i)) : null;
    if (!m) {
      out += c;
      continue;
    }
    const p = byName.get(m[1]);
    if (!p) throw new Error(`No value specified for parameter: ${m[1]}`);
    if (!index.has(m[1])) {
      const v = p.value;
      values.push(v.isNull ? null : (v.stringValue ?? v.longValue ?? v.doubleValue ?? v.booleanValue));
      index.set(m[1], values.length);
    }
    out += `$${index.get(m[1])}${p.typeHint ? `::${CASTS[p.typeHint]}` : ""}`;
    i += m[0].length - 1;
  }
  return { text: out, values };
}

export function mockDataApiOnPostgres(o: DataApiOnPostgresOptions): DataApiOnPostgres {
  // The module registry's own copies (jest.isolateModules): the ones the bundle will require.
  const rds = require("@aws-sdk/client-rds-data") as typeof import("@aws-sdk/client-rds-data");
  const { mockClient } = require("aws-sdk-client-mock") as typeof import("aws-sdk-client-mock");
  const meta = { $metadata: {} };
  const mock = mockClient(rds.RDSDataClient);
  const transactions = new Map<string, Client>();
  let txCount = 0;
  let shared: Promise<Client> | undefined;

  const connect = async () => {
    const c = new Client(o.pgConfig as ClientConfig);
    c.on("error", () => undefined); // a server restart: the statement that uses it fails
    await c.connect();
    return c;
  };
  const transaction = (input: Record<string, any>): Client => {
    const c = transactions.get(input.transactionId);
    if (!c) throw new rds.TransactionNotFoundException({ message: "Transaction not found", ...meta });
    return c;
  };
  /** The statement's transaction, or the shared connection (replaced once the server dropped it). */
  const clientFor = async (input: Record<string, any>): Promise<Client> =>
    input.transactionId
      ? transaction(input)
      : await (shared ??= connect().then((c) => c.on("error", () => (shared = undefined))));
  const run = async (c: Client, sql: string, parameters?: Parameter[]) => {
    let bound: ReturnType<typeof bind>;
    try {
      bound = bind(sql, parameters);
    } catch (e) {
      throw new rds.BadRequestException({ message: (e as Error).message, ...meta });
    }
    const { text, values } = bound;
    try {
      return await c.query(text, values);
    } catch (e) {
      const pe = e as { message: string; code?: string };
      throw new rds.DatabaseErrorException({ message: `ERROR: ${pe.message}; SQLState: ${pe.code}`, ...meta });
    }
  };

  mock.on(rds.BeginTransactionCommand).callsFake(async (input: Record<string, any>) => {
    o.onCall({ op: "BeginTransaction", input });
    const c = await connect();
    await c.query("BEGIN");
    const id = `tx-${++txCount}-${Math.random().toString(16).slice(2)}`;
    transactions.set(id, c);
    return { transactionId: id };
  });
  for (const [Command, op, sql, transactionStatus] of [
    [rds.CommitTransactionCommand, "CommitTransaction", "COMMIT", "Transaction Committed"],
    [rds.RollbackTransactionCommand, "RollbackTransaction", "ROLLBACK", "Rollback Complete"],
  ] as const) {
    mock.on(Command).callsFake(async (input: Record<string, any>) => {
      o.onCall({ op, input });
      const c = transaction(input);
      transactions.delete(input.transactionId);
      try {
        await c.query(sql);
      } finally {
        await c.end();
      }
      return { transactionStatus };
    });
  }
  mock.on(rds.ExecuteStatementCommand).callsFake(async (input: Record<string, any>) => {
    o.onCall({ op: "ExecuteStatement", input });
    const r = await run(await clientFor(input), input.sql, input.parameters);
    return r.fields.length > 0 && input.formatRecordsAs === "JSON"
      ? { formattedRecords: JSON.stringify(r.rows), numberOfRecordsUpdated: 0 }
      : { numberOfRecordsUpdated: r.rowCount ?? 0 };
  });
  mock.on(rds.BatchExecuteStatementCommand).callsFake(async (input: Record<string, any>) => {
    o.onCall({ op: "BatchExecuteStatement", input });
    const c = await clientFor(input);
    for (const set of input.parameterSets) await run(c, input.sql, set);
    // What the service answers for PostgreSQL: one empty result per set, no counts.
    return { updateResults: input.parameterSets.map(() => ({ generatedFields: [] })) };
  });

  return {
    async close() {
      const open = [...transactions.values()];
      transactions.clear();
      for (const c of open) await c.end().catch(() => undefined);
      const s = shared;
      shared = undefined;
      await (await s)?.end().catch(() => undefined);
    },
  };
}
