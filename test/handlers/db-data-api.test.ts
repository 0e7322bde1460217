/**
 * The Aurora Data API access path and the `:name` placeholder rewriting.
 *
 * - named parameters: the scanner that both paths share, and the typed-value mapping of each path;
 * - DataApiDatabase with `aws-sdk-client-mock`: the exact statement shapes sent, typed parameters, batch chunking,
 *   commit on success and rollback on error, the retry policy (resume from 0 ACU yes, statement timeout no);
 * - db-writer as deployed (its bundle) with DB_ACCESS=data-api, its RDS Data API client mocked so that every call
 *   runs on a real PostgreSQL (one pg connection per Data API transaction), so the rows, the counts and the
 *   rollback are the database's, not the mock's.
 */
import {
  BatchExecuteStatementCommand,
  BeginTransactionCommand,
  CommitTransactionCommand,
  DatabaseErrorException,
  DatabaseResumingException,
  DatabaseUnavailableException,
  ExecuteStatementCommand,
  RDSDataClient,
  RollbackTransactionCommand,
  StatementTimeoutException,
} from "@aws-sdk/client-rds-data";
import { mockClient } from "aws-sdk-client-mock";
import { Client } from "pg";
import type { WriteSummary } from "../../functions/db-writer/index";
import { DataApiDatabase, toSqlParameter } from "../../functions/shared/db/data-api";
import { DbError } from "../../functions/shared/db/errors";
import { placeholderNames, rewriteNamed, toPositional } from "../../functions/shared/db/named-params";
import { loadBundledHandler } from "../support/bundled";
import { captureJsonLogs } from "../support/log-capture";
import { PgServer, startPostgres } from "../support/postgres";
import { DataApiCall, DataApiOnPostgres, mockDataApiOnPostgres } from "../fakes/data-api-on-postgres";

const CLUSTER = "arn:aws:rds:ap-northeast-1:222222222222:cluster:app-db";
const SECRET = "arn:aws:secretsmanager:ap-northeast-1:222222222222:secret:rds!cluster-abc-AbCdEf";
const meta = { $metadata: {} };

describe("named parameters", () => {
  test("only real placeholders are rewritten: casts, strings, identifiers, dollar quotes and comments are left alone", () => {
    const sql = [
      "SELECT :a::int, ':b', E'it\\'s :c', 'it''s :d', \"col:e\", \"a\"\"b:f\",",
      " $$ :g $$, $fn$ body :h $fn$, foo$bar, $1,",
      " :a -- :i",
      " /* :j /* nested :k */ still :l */ :m_2, x::text, :NoSpace",
    ].join("\n");
    const r = rewriteNamed(sql, (name, i) => `[${i}:${name}]`);
    expect(r.names).toEqual(["a", "m_2", "NoSpace"]);
    expect(r.text).toBe(
      [
        "SELECT [0:a]::int, ':b', E'it\\'s :c', 'it''s :d', \"col:e\", \"a\"\"b:f\",",
        " $$ :g $$, $fn$ body :h $fn$, foo$bar, $1,",
        " [0:a] -- :i",
        " /* :j /* nested :k */ still :l */ [1:m_2], x::text, [2:NoSpace]",
      ].join("\n"),
    );
  });

  test("an unterminated string or comment swallows the rest, as the server would read it", () => {
    expect(placeholderNames("SELECT :a, 'open :b")).toEqual(["a"]);
    expect(placeholderNames("SELECT :a /* open :b")).toEqual(["a"]);
    expect(placeholderNames("SELECT $x$ :b")).toEqual([]);
  });

  test("pg: :name becomes $n once per name, and a typed value gets a cast", () => {
    const at = new Date("2026-11-21T09:30:00.123Z");
    const r = toPositional("INSERT INTO t VALUES (:id, :doc, :at, :day, :amount, :id, :n, :flag, :plain, :none)", {
      id: { type: "uuid", value: "6f1c1c2e-7c53-4a53-9d3e-1df0a2b0c0de" },
      doc: { type: "json", value: { a: [1, "x"] } },
      at: { type: "timestamp", value: at },
      day: { type: "date", value: at },
      amount: { type: "numeric", value: "12.50" },
      n: 7,
      flag: true,
      plain: "text",
      none: null,
      unused: "ignored",
    });
    expect(r.text).toBe(
      "INSERT INTO t VALUES ($1::uuid, $2::jsonb, $3::timestamptz, $4::date, $5::numeric, $1::uuid, $6, $7, $8, $9)",
    );
    expect(r.values).toEqual([
      "6f1c1c2e-7c53-4a53-9d3e-1df0a2b0c0de",
      '{"a":[1,"x"]}',
      "2026-11-21T09:30:00.123Z",
      "2026-11-21",
      "12.50",
      7,
      true,
      "text",
      null,
    ]);
  });

  test("a placeholder without a value is an error naming it and the names given", () => {
    expect(() => toPositional("SELECT :userId", { userid: 1 })).toThrow(
      new DbError(
        "query",
        "the statement uses :userId but no value was given for it (names are case-sensitive; given: :userid): SELECT :userId",
      ),
    );
  });

  /** [placeholder, value, the Field the Data API expects, its typeHint if any]. */
  const FIELDS: [name: string, value: Parameters<typeof toSqlParameter>[1], field: object, typeHint?: string][] = [
    ["s", "x", { stringValue: "x" }],
    ["n", 42, { longValue: 42 }],
    ["d", 1.5, { doubleValue: 1.5 }],
    ["b", false, { booleanValue: false }],
    ["z", null, { isNull: true }],
    ["t", new Date("2026-11-21T09:30:00.123Z"), { stringValue: "2026-11-21 09:30:00.123" }, "TIMESTAMP"],
    [
      "u",
      { type: "uuid", value: "6f1c1c2e-7c53-4a53-9d3e-1df0a2b0c0de" },
      { stringValue: "6f1c1c2e-7c53-4a53-9d3e-1df0a2b0c0de" },
      "UUID",
    ],
    ["j", { type: "json", value: { a: 1 } }, { stringValue: '{"a":1}' }, "JSON"],
    ["j2", { type: "json", value: "[1,2]" }, { stringValue: "[1,2]" }, "JSON"],
    ["day", { type: "date", value: "2026-11-21" }, { stringValue: "2026-11-21" }, "DATE"],
    [
      "ts",
      { type: "timestamp", value: "2026-11-21T00:00:00Z" },
      { stringValue: "2026-11-21 00:00:00.000" },
      "TIMESTAMP",
    ],
    ["m", { type: "numeric", value: 12.5 }, { stringValue: "12.5" }, "DECIMAL"],
    ["big", { type: "bigint", value: "9007199254740993" }, { stringValue: "9007199254740993" }, "DECIMAL"],
    ["small", { type: "bigint", value: "42" }, { longValue: 42 }],
    ["tn", { type: "uuid", value: null }, { isNull: true }],
  ];

  // Every row padded to four cells: jest would pass a row's missing last cell as a done callback.
  test.each(FIELDS.map(([name, value, field, typeHint]) => [name, value, field, typeHint] as const))(
    "Data API: :%s = %p becomes the Field and typeHint the API expects",
    (name, value, field, typeHint) => {
      expect(toSqlParameter(name, value)).toEqual({ name, value: field, ...(typeHint ? { typeHint } : {}) });
    },
  );

  test("Data API: a value no SQL column can hold is refused", () => {
    expect(() => toSqlParameter("inf", Infinity)).toThrow("parameter :inf is Infinity, which no SQL column can hold");
  });
});

describe("DataApiDatabase", () => {
  const rds = mockClient(RDSDataClient);
  const newDb = (extra: Partial<ConstructorParameters<typeof DataApiDatabase>[0]> = {}) =>
    new DataApiDatabase({
      resourceArn: CLUSTER,
      secretArn: SECRET,
      database: "app",
      client: new RDSDataClient({
        region: "ap-northeast-1",
        credentials: { accessKeyId: "AKIAFAKE", secretAccessKey: "fake" },
      }),
      retry: { maxAttempts: 4, baseMs: 1, maxMs: 2 },
      ...extra,
    });

  beforeEach(() => rds.reset());

  /** The transaction `transactionId` ended once, committed or rolled back as `how` says, and never the other way. */
  function expectEnded(how: "commit" | "rollback", transactionId: string): void {
    const commits = rds.commandCalls(CommitTransactionCommand).map((c) => c.args[0].input);
    const rollbacks = rds.commandCalls(RollbackTransactionCommand).map((c) => c.args[0].input);
    expect(how === "commit" ? [commits, rollbacks] : [rollbacks, commits]).toEqual([
      [{ resourceArn: CLUSTER, secretArn: SECRET, transactionId }],
      [],
    ]);
  }

  test("a query is one ExecuteStatement with typed parameters for the placeholders it uses, rows from JSON", async () => {
    rds
      .on(ExecuteStatementCommand)
      .resolves({ formattedRecords: '[{"id":"6f1c","n":2}]', numberOfRecordsUpdated: 0, ...meta });
    const db = newDb();
    const r = await db.query("SELECT id, n FROM t WHERE id = :id AND created_at < :before", {
      id: { type: "uuid", value: "6f1c" },
      before: new Date("2026-11-21T00:00:00Z"),
      notUsed: 1,
    });
    expect(r).toEqual({ rows: [{ id: "6f1c", n: 2 }], rowCount: 1 });
    expect(rds.commandCalls(ExecuteStatementCommand).map((c) => c.args[0].input)).toEqual([
      {
        resourceArn: CLUSTER,
        secretArn: SECRET,
        database: "app",
        sql: "SELECT id, n FROM t WHERE id = :id AND created_at < :before",
        parameters: [
          { name: "id", value: { stringValue: "6f1c" }, typeHint: "UUID" },
          { name: "before", value: { stringValue: "2026-11-21 00:00:00.000" }, typeHint: "TIMESTAMP" },
        ],
        formatRecordsAs: "JSON",
      },
    ]);
  });

  test("an update reports the rows it changed", async () => {
    rds.on(ExecuteStatementCommand).resolves({ numberOfRecordsUpdated: 3, ...meta });
    await expect(newDb().query("UPDATE t SET n = n + 1")).resolves.toEqual({ rows: [], rowCount: 3 });
    expect(rds.commandCalls(ExecuteStatementCommand)[0].args[0].input).not.toHaveProperty("parameters");
  });

  test("a transaction that resolves is committed, every statement carrying its transaction id", async () => {
    rds.on(BeginTransactionCommand).resolves({ transactionId: "tx-1", ...meta });
    rds.on(ExecuteStatementCommand).resolves({ numberOfRecordsUpdated: 1, ...meta });
    rds.on(CommitTransactionCommand).resolves({ transactionStatus: "Transaction Committed", ...meta });
    const db = newDb();
    const out = await db.transaction(async (tx) => {
      await tx.query("INSERT INTO t (a) VALUES (:a)", { a: 1 });
      await tx.query("INSERT INTO t (a) VALUES (:a)", { a: 2 });
      return "done";
    });
    expect(out).toBe("done");
    expect(rds.commandCalls(BeginTransactionCommand).map((c) => c.args[0].input)).toEqual([
      { resourceArn: CLUSTER, secretArn: SECRET, database: "app" },
    ]);
    expect(rds.commandCalls(ExecuteStatementCommand).map((c) => c.args[0].input.transactionId)).toEqual([
      "tx-1",
      "tx-1",
    ]);
    expectEnded("commit", "tx-1");
  });

  test("a failing statement rolls the transaction back and surfaces the SQLSTATE", async () => {
    rds.on(BeginTransactionCommand).resolves({ transactionId: "tx-2", ...meta });
    rds
      .on(ExecuteStatementCommand)
      .resolvesOnce({ numberOfRecordsUpdated: 1, ...meta })
      .rejectsOnce(
        new DatabaseErrorException({
          message: 'ERROR: duplicate key value violates unique constraint "t_pkey"; SQLState: 23505',
          ...meta,
        }),
      );
    rds.on(RollbackTransactionCommand).resolves({ transactionStatus: "Rollback Complete", ...meta });
    const db = newDb();
    const err = await db
      .transaction(async (tx) => {
        await tx.query("INSERT INTO t (a) VALUES (:a)", { a: 1 });
        await tx.query("INSERT INTO t (a) VALUES (:a)", { a: 1 });
      })
      .catch((e: DbError) => e);
    expect(err).toBeInstanceOf(DbError);
    expect((err as DbError).kind).toBe("query");
    expect((err as DbError).code).toBe("23505");
    expect((err as DbError).message).toBe(
      'ERROR: duplicate key value violates unique constraint "t_pkey"; SQLState: 23505: INSERT INTO t (a) VALUES (:a)',
    );
    expectEnded("rollback", "tx-2");
  });

  test("an error thrown by the caller's code rolls back too, and the transaction refuses later statements", async () => {
    rds.on(BeginTransactionCommand).resolves({ transactionId: "tx-3", ...meta });
    rds.on(ExecuteStatementCommand).resolves({ numberOfRecordsUpdated: 1, ...meta });
    rds.on(RollbackTransactionCommand).resolves({ ...meta });
    let leaked: { query: (s: string) => Promise<unknown> } | undefined;
    await expect(
      newDb().transaction(async (tx) => {
        leaked = tx;
        await tx.query("INSERT INTO t (a) VALUES (1)");
        throw new Error("validation failed");
      }),
    ).rejects.toThrow("validation failed");
    expectEnded("rollback", "tx-3");
    await expect(leaked!.query("SELECT 1")).rejects.toThrow("this transaction has already ended");
  });

  test("statements of one transaction never overlap, even when the caller starts them together", async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    rds.on(BeginTransactionCommand).resolves({ transactionId: "tx-4", ...meta });
    rds.on(ExecuteStatementCommand).callsFake(async () => {
      maxInFlight = Math.max(maxInFlight, ++inFlight);
      await new Promise((r) => setTimeout(r, 5));
      inFlight--;
      return { numberOfRecordsUpdated: 1 };
    });
    rds.on(CommitTransactionCommand).resolves({ ...meta });
    await newDb().transaction((tx) =>
      Promise.all([1, 2, 3, 4].map((a) => tx.query("INSERT INTO t (a) VALUES (:a)", { a }))),
    );
    expect(maxInFlight).toBe(1);
    expect(rds.commandCalls(ExecuteStatementCommand).map((c) => c.args[0].input.parameters)).toEqual(
      [1, 2, 3, 4].map((a) => [{ name: "a", value: { longValue: a } }]),
    );
  });

  test("batch: BatchExecuteStatement in chunks of at most 1000 sets, inside one transaction", async () => {
    rds.on(BeginTransactionCommand).resolves({ transactionId: "tx-5", ...meta });
    rds.on(BatchExecuteStatementCommand).resolves({ updateResults: [], ...meta });
    rds.on(CommitTransactionCommand).resolves({ ...meta });
    const sets = Array.from({ length: 2_500 }, (_, i) => ({
      id: `u${i}`,
      doc: { type: "json" as const, value: { i } },
    }));
    await expect(newDb().batch("INSERT INTO t (id, doc) VALUES (:id, :doc)", sets)).resolves.toBe(2_500);
    const calls = rds.commandCalls(BatchExecuteStatementCommand).map((c) => c.args[0].input);
    expect(calls.map((c) => c.parameterSets!.length)).toEqual([1000, 1000, 500]);
    expect(
      calls.every(
        (c) =>
          c.transactionId === "tx-5" && c.sql === "INSERT INTO t (id, doc) VALUES (:id, :doc)" && c.database === "app",
      ),
    ).toBe(true);
    expect(calls[2].parameterSets![499]).toEqual([
      { name: "id", value: { stringValue: "u2499" } },
      { name: "doc", value: { stringValue: '{"i":2499}' }, typeHint: "JSON" },
    ]);
    expectEnded("commit", "tx-5");
  });

  test("batch: chunks also stay under the request size, and a set too big for any request is refused", () => {
    const db = newDb({ maxRequestBytes: 4_096 });
    const sets = Array.from({ length: 40 }, (_, i) => ({ v: "x".repeat(200), i }));
    const chunks = db.chunks("INSERT INTO t (v, i) VALUES (:v, :i)", sets);
    expect(chunks.flat()).toHaveLength(40);
    for (const c of chunks) expect(Buffer.byteLength(JSON.stringify(c))).toBeLessThan(4_096);
    expect(chunks.length).toBeGreaterThan(2);
    expect(() => db.chunks("INSERT INTO t (v) VALUES (:v)", [{ v: "y".repeat(5_000) }])).toThrow(
      /parameter set 0 alone is \d+ bytes, more than one Data API request may carry \(4096\)/,
    );
  });

  test("a cluster resuming from 0 ACU is waited for: DatabaseResumingException is retried", async () => {
    rds
      .on(ExecuteStatementCommand)
      .rejectsOnce(
        new DatabaseResumingException({
          message: "The Aurora DB instance db-1 is resuming after being auto-paused.",
          ...meta,
        }),
      )
      .rejectsOnce(
        new DatabaseResumingException({
          message: "The Aurora DB instance db-1 is resuming after being auto-paused.",
          ...meta,
        }),
      )
      .resolves({ formattedRecords: '[{"ok":1}]', ...meta });
    await expect(newDb().query("SELECT 1 AS ok")).resolves.toEqual({ rows: [{ ok: 1 }], rowCount: 1 });
    expect(rds.commandCalls(ExecuteStatementCommand)).toHaveLength(3);
  });

  test.each<[string, string, Error, string, string | RegExp, number]>([
    [
      "a resume that outlasts the retries says so",
      "SELECT 1",
      new DatabaseResumingException({ message: "resuming", ...meta }),
      "data-api",
      `the Aurora cluster ${CLUSTER} was still resuming from 0 ACU after 4 attempts: invoke again, or keep a minimum capacity above 0 ACU`,
      4,
    ],
    [
      "a statement timeout is not repeated",
      "INSERT INTO t SELECT * FROM big",
      new StatementTimeoutException({ message: "Request timed out", ...meta }),
      "timeout",
      /^the statement ran longer than the Data API's 45 s limit and was cancelled .*send smaller batches, or use DB_ACCESS=pg/,
      1,
    ],
  ])("%s", async (_what, sql, answer, kind, message, attempts) => {
    rds.on(ExecuteStatementCommand).rejects(answer);
    const err = (await newDb()
      .query(sql)
      .catch((e) => e)) as DbError;
    expect(err.kind).toBe(kind);
    expect(err.message).toEqual(typeof message === "string" ? message : expect.stringMatching(message));
    expect(rds.commandCalls(ExecuteStatementCommand)).toHaveLength(attempts);
  });

  test("an unavailable writer is retried outside a transaction but not inside one", async () => {
    const unavailable = () => new DatabaseUnavailableException({ message: "writer unavailable", ...meta });
    rds
      .on(ExecuteStatementCommand)
      .rejectsOnce(unavailable())
      .resolves({ numberOfRecordsUpdated: 1, ...meta });
    await expect(newDb().query("INSERT INTO t VALUES (1)")).resolves.toEqual({ rows: [], rowCount: 1 });
    expect(rds.commandCalls(ExecuteStatementCommand)).toHaveLength(2);

    rds.reset();
    rds.on(BeginTransactionCommand).resolves({ transactionId: "tx-6", ...meta });
    rds.on(ExecuteStatementCommand).rejects(unavailable());
    rds.on(RollbackTransactionCommand).resolves({ ...meta });
    const err = (await newDb()
      .transaction((tx) => tx.query("INSERT INTO t VALUES (1)"))
      .catch((e) => e)) as DbError;
    expect(err.message).toMatch(/was unavailable after 1 attempts/);
    expect(rds.commandCalls(ExecuteStatementCommand)).toHaveLength(1);
    expectEnded("rollback", "tx-6");
  });
});

describe("db-writer over the Data API (answered by a real PostgreSQL)", () => {
  type Handler = (event: unknown) => Promise<WriteSummary>;
  let pg: PgServer;
  const savedEnv = { ...process.env };
  let calls: DataApiCall[] = [];
  let failBatchCall: number | undefined;
  const dataApis: DataApiOnPostgres[] = [];

  function coldStart(): Handler {
    let mod: { handler: Handler } | undefined;
    jest.isolateModules(() => {
      const dataApi = mockDataApiOnPostgres({
        pgConfig: pg.pgConfig({ database: "dataapi" }),
        onCall: (call) => {
          calls.push(call);
          const batches = calls.filter((x) => x.op === "BatchExecuteStatement").length;
          if (call.op === "BatchExecuteStatement" && batches === failBatchCall)
            throw new DatabaseErrorException({ message: "ERROR: simulated failure of this call", ...meta });
        },
      });
      dataApis.push(dataApi);
      mod = loadBundledHandler<{ handler: Handler }>("db-writer", { dbAccess: "data-api" });
    });
    return mod!.handler;
  }

  const users = (n: number, prefix: string) =>
    Array.from({ length: n }, (_, i) => ({
      externalId: `${prefix}${i}`,
      email: `${prefix}${i}@example.com`,
      name: `User ${i}`,
      ...(i % 2 ? { plan: "pro" } : {}),
    }));
  const appSql = async (text: string) => {
    const c = new Client(pg.pgConfig({ database: "dataapi" }) as never);
    await c.connect();
    try {
      return (await c.query(text)).rows;
    } finally {
      await c.end();
    }
  };

  beforeAll(async () => {
    pg = await startPostgres();
    await pg.sql("CREATE DATABASE dataapi");
    Object.assign(process.env, {
      DB_ACCESS: "data-api",
      DB_CLUSTER_ARN: CLUSTER,
      DB_SECRET_ARN: SECRET,
      DB_NAME: "dataapi",
      LOG_LEVEL: "warn",
      AWS_REGION: "ap-northeast-1",
      AWS_ACCESS_KEY_ID: "AKIAFAKEFAKEFAKEFAKE",
      AWS_SECRET_ACCESS_KEY: "fake",
      AWS_EC2_METADATA_DISABLED: "true",
    });
    for (const k of ["DB_HOST", "DB_PORT", "DB_TLS_CA_PEM_FILE"]) delete process.env[k];
  });

  afterAll(async () => {
    process.env = { ...savedEnv };
    for (const dataApi of dataApis) await dataApi.close();
    await pg?.stop();
  });

  beforeEach(() => {
    calls = [];
    failBatchCall = undefined;
    captureJsonLogs();
  });

  afterEach(() => jest.restoreAllMocks());

  test("creates the schema, then writes 2,500 users with BatchExecuteStatement chunks in one transaction", async () => {
    const h = coldStart();
    await h({ batchId: "seed", users: users(100, "u-") });
    calls = [];
    const res = await h({ batchId: "da-1", users: users(2_500, "u-") });
    expect(res).toMatchObject({ batchId: "da-1", inserted: 2_400, alreadyPresent: 100, replayed: false });

    expect(calls.map((c) => c.op)).toEqual([
      "BeginTransaction",
      "ExecuteStatement", // claim the batch id
      "BatchExecuteStatement",
      "BatchExecuteStatement",
      "BatchExecuteStatement",
      "ExecuteStatement", // count the rows this batch added
      "ExecuteStatement", // record the counts
      "CommitTransaction",
    ]);
    const txId = calls[1].input.transactionId;
    expect(txId).toBeDefined();
    expect(
      calls
        .slice(1, 7)
        .every(
          (c) => c.input.transactionId === txId && c.input.resourceArn === CLUSTER && c.input.secretArn === SECRET,
        ),
    ).toBe(true);
    const batches = calls.filter((c) => c.op === "BatchExecuteStatement");
    expect(batches.map((b) => b.input.parameterSets.length)).toEqual([1000, 1000, 500]);
    expect(batches[0].input.sql).toMatch(
      /^INSERT INTO users \(external_id, email, name, attributes, batch_id\) VALUES \(:externalId, :email, :name, :attributes, :batchId\)\s+ON CONFLICT \(external_id\) DO NOTHING$/,
    );
    expect(batches[0].input.parameterSets[1]).toEqual([
      { name: "externalId", value: { stringValue: "u-1" } },
      { name: "email", value: { stringValue: "u-1@example.com" } },
      { name: "name", value: { stringValue: "User 1" } },
      { name: "attributes", value: { stringValue: '{"plan":"pro"}' }, typeHint: "JSON" },
      { name: "batchId", value: { stringValue: "da-1" } },
    ]);
    expect(await appSql("SELECT batch_id, count(*)::int AS n FROM users GROUP BY 1 ORDER BY 1")).toEqual([
      { batch_id: "da-1", n: 2_400 },
      { batch_id: "seed", n: 100 },
    ]);
    expect(await appSql("SELECT attributes FROM users WHERE external_id = 'u-2401'")).toEqual([
      { attributes: { plan: "pro" } },
    ]);
    expect(await appSql("SELECT component, version FROM schema_migrations")).toEqual([
      { component: "db-writer", version: 1 },
    ]);
  });

  test("a rerun inserts nothing and returns the recorded counts", async () => {
    const h = coldStart();
    calls = [];
    await expect(h({ batchId: "da-1", users: users(2_500, "u-") })).resolves.toMatchObject({
      inserted: 2_400,
      alreadyPresent: 100,
      replayed: true,
    });
    expect(calls.map((c) => c.op)).toEqual([
      "ExecuteStatement", // schema_migrations present?
      "ExecuteStatement", // its version
      "BeginTransaction",
      "ExecuteStatement", // claim: taken
      "ExecuteStatement", // the recorded counts
      "CommitTransaction",
    ]);
  });

  test("a failure in the middle of the batch rolls the whole batch back", async () => {
    const h = coldStart();
    failBatchCall = 2;
    const err = (await h({ batchId: "da-2", users: users(2_500, "v-") }).catch((e) => e)) as DbError;
    expect(err.kind).toBe("query");
    expect(err.message).toMatch(/^ERROR: simulated failure of this call: INSERT INTO users/);
    expect(calls.map((c) => c.op).slice(-3)).toEqual([
      "BatchExecuteStatement",
      "BatchExecuteStatement",
      "RollbackTransaction",
    ]);
    expect(calls.some((c) => c.op === "CommitTransaction")).toBe(false);
    expect(await appSql("SELECT count(*)::int AS n FROM users WHERE batch_id = 'da-2'")).toEqual([{ n: 0 }]);
    expect(await appSql("SELECT count(*)::int AS n FROM user_batches WHERE batch_id = 'da-2'")).toEqual([{ n: 0 }]);

    failBatchCall = undefined;
    await expect(h({ batchId: "da-2", users: users(2_500, "v-") })).resolves.toMatchObject({
      inserted: 2_500,
      replayed: false,
    });
  });
});
