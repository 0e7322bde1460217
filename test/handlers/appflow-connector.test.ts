/**
 * appflow-connector as deployed (the esbuild bundle) against a real PostgreSQL 15 over verified TLS, reading the
 * connection's credentials from a fake Secrets Manager. Requests come from test/fixtures/appflow/*.json, written from
 * the shapes the AppFlow Custom Connector SDK documents (Python custom_connector_sdk requests.py / context.py /
 * auth.py, Java model/*Request); `${SECRET_ARN}`, `${HOST}`, `${PORT}` and `${DATABASE}` are filled in here.
 */
import * as fs from "fs";
import * as path from "path";
import { loadBundledHandler } from "../support/bundled";
import { recordBundleConnections, testBundleConnectionsDeclared } from "../support/handler-connections";
import { captureJsonLogs } from "../support/log-capture";
import { freePort, PgServer, startPostgres } from "../support/postgres";
import { FakeSecretsManager } from "../fakes/secrets-manager";

jest.setTimeout(60_000);

type Response = Record<string, any> & {
  isSuccess: boolean;
  errorDetails?: { errorCode: string; errorMessage: string };
};
interface Container {
  handler: (event: unknown, context?: { awsRequestId?: string }) => Promise<Response>;
  shutdown: () => Promise<void>;
}

const READER = "appflow_reader";
const READER_PASSWORD = "r3ader-Pa55word-for-tests";
const WRONG_PASSWORD = "definitely-not-the-password";
const GOOD_SECRET = "appflow!123456789012-pg-connector-profile";
const BAD_SECRET = "appflow!123456789012-pg-connector-badprofile";
const FIXTURES = path.join(__dirname, "..", "fixtures", "appflow");
const BIG = 9007199254740991n; // 2^53 - 1: ids above it lose precision as JavaScript numbers

const connections = recordBundleConnections();
/** Ports the suite's connector profiles name for the database (its PostgreSQL, a closed port). */
const profilePorts = new Set<number>();
let pg: PgServer;
let secrets: FakeSecretsManager;
let goodArn: string;
let badArn: string;
let main: Container;
const containers: Container[] = [];
const savedEnv = { ...process.env };
const allLogs: string[] = [];
let logs: string[] = [];

function baseEnv(): Record<string, string> {
  return {
    AWS_REGION: "ap-northeast-1",
    AWS_ACCESS_KEY_ID: "test",
    AWS_SECRET_ACCESS_KEY: "test",
    AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.url,
    PG_EXTRA_CA_FILE: pg.caFile,
    LOG_LEVEL: "info",
  };
}

/** A fresh Lambda container with `env` (undefined removes a variable). */
function coldStart(env: Record<string, string | undefined> = {}): Container {
  // Each container sees exactly the base environment plus its own changes, whatever earlier tests set.
  const merged: Record<string, string | undefined> = { ...savedEnv, ...baseEnv(), ...env };
  process.env = Object.fromEntries(Object.entries(merged).filter((e): e is [string, string] => e[1] !== undefined));
  let mod: Container | undefined;
  jest.isolateModules(() => {
    mod = loadBundledHandler<Container>("appflow-connector");
  });
  containers.push(mod!);
  return mod!;
}

/** A fixture with its placeholders filled in, then `patch` merged over the top level. */
function fixture(
  name: string,
  patch: Record<string, unknown> = {},
  vars: Record<string, string> = {},
): Record<string, any> {
  const values: Record<string, string> = {
    SECRET_ARN: goodArn,
    HOST: "localhost",
    PORT: String(pg.port),
    DATABASE: "shop",
    ...vars,
  };
  const text = fs
    .readFileSync(path.join(FIXTURES, `${name}.json`), "utf8")
    .replace(/\$\{([A-Z_]+)\}/g, (_, k: string) => {
      if (!(k in values)) throw new Error(`fixture ${name} uses \${${k}}, which the test does not fill in`);
      return values[k];
    });
  return { ...(JSON.parse(text) as Record<string, unknown>), ...patch };
}

function query(entity: string, extra: Record<string, unknown> = {}): Record<string, any> {
  const q = fixture("query-data", { entityIdentifier: entity, ...extra });
  for (const k of ["selectedFieldNames", "filterExpression", "maxResults", "nextToken"]) if (!(k in extra)) delete q[k];
  return q;
}

/** Every page of a query, following nextToken; fails on an error response. */
async function pages(c: Container, entity: string, extra: Record<string, unknown> = {}): Promise<string[][]> {
  const out: string[][] = [];
  let nextToken: string | undefined;
  for (let i = 0; i < 1000; i++) {
    const r = await c.handler(query(entity, { ...extra, ...(nextToken ? { nextToken } : {}) }));
    expect(r.errorDetails).toBeUndefined();
    expect(r.isSuccess).toBe(true);
    out.push(r.records);
    nextToken = r.nextToken ?? undefined;
    if (!nextToken) return out;
  }
  throw new Error("more than 1000 pages");
}

/** The exact `id` digits of each record (JSON.parse would round ids above 2^53). */
function ids(records: string[]): string[] {
  return records.map((r) => {
    const m = /"id":(-?\d+)/.exec(r);
    if (!m) throw new Error(`record without id: ${r}`);
    return m[1];
  });
}

async function filtered(filterExpression: string, maxResults = 4): Promise<string[]> {
  return ids((await pages(main, "customers", { filterExpression, maxResults, selectedFieldNames: ["id"] })).flat());
}

/** The same condition evaluated by PostgreSQL directly, as the superuser. */
async function expected(where: string, params: unknown[] = []): Promise<string[]> {
  return (await pg.sql(`SELECT id::text AS id FROM sales.customers WHERE ${where} ORDER BY id`, params)).map(
    (r) => r.id as string,
  );
}

function expectError(r: Response, code: string, message?: RegExp): void {
  expect(r.isSuccess).toBe(false);
  expect(r.errorDetails?.errorCode).toBe(code);
  if (message) expect(r.errorDetails?.errorMessage).toMatch(message);
}

beforeAll(async () => {
  pg = await startPostgres();
  profilePorts.add(pg.port);
  secrets = new FakeSecretsManager();
  await secrets.start();
  goodArn = secrets.setSecret(GOOD_SECRET, JSON.stringify({ username: READER, password: READER_PASSWORD }));
  badArn = secrets.setSecret(BAD_SECRET, JSON.stringify({ username: READER, password: WRONG_PASSWORD }));
  await pg.sql("CREATE DATABASE shop");
  const shop = async (sql: string) => {
    const { Client } = await import("pg");
    const c = new Client(pg.pgConfig({ database: "shop" }) as never);
    await c.connect();
    try {
      await c.query(sql);
    } finally {
      await c.end();
    }
  };
  await shop(`
    CREATE ROLE ${READER} LOGIN PASSWORD '${READER_PASSWORD}';
    CREATE SCHEMA sales;
    CREATE TABLE sales.customers (
      id bigint PRIMARY KEY, name text NOT NULL, email varchar(100), active boolean NOT NULL, score numeric(10,2),
      created_at timestamptz NOT NULL, birthday date, tags text[], profile jsonb, avatar bytea);
    COMMENT ON TABLE sales.customers IS 'Customers of the shop';
    COMMENT ON COLUMN sales.customers.email IS 'Contact address';
    INSERT INTO sales.customers
      SELECT ${BIG} + i,
             CASE WHEN i = 3 THEN 'O''Brien "q" \\ back' WHEN i = 4 THEN 'Ünïcödé 日本語' ELSE 'Customer ' || i END,
             CASE WHEN i % 5 = 0 THEN NULL ELSE 'c' || i || '@example.com' END,
             i % 2 = 0,
             CASE WHEN i = 7 THEN NULL ELSE i * 3.5 END,
             timestamptz '2024-01-01 00:00:00+00' + make_interval(days => i),
             date '1990-01-01' + i * 30,
             ARRAY['t' || (i % 3)],
             jsonb_build_object('tier', i % 3),
             '\\x00ff'::bytea
        FROM generate_series(0, 29) AS i;
    CREATE TABLE sales.order_lines (order_id int, line_no int, sku text NOT NULL, qty int NOT NULL, PRIMARY KEY (order_id, line_no));
    INSERT INTO sales.order_lines SELECT o, l, 'SKU-' || o || '-' || l, o * l FROM generate_series(1, 10) o, generate_series(1, 3) l;
    CREATE TABLE sales.audit_log (at timestamptz NOT NULL, message text NOT NULL);
    INSERT INTO sales.audit_log SELECT now(), 'event ' || i FROM generate_series(1, 12) i;
    CREATE TABLE sales.documents (id int PRIMARY KEY, body text NOT NULL);
    INSERT INTO sales.documents SELECT i, repeat(chr(97 + i % 26), 1500) || '"\\' FROM generate_series(1, 40) i;
    CREATE TABLE sales.measurements (id bigint, taken date, value double precision, PRIMARY KEY (id, taken)) PARTITION BY RANGE (taken);
    CREATE TABLE sales.measurements_2024 PARTITION OF sales.measurements FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
    CREATE TABLE sales.measurements_2025 PARTITION OF sales.measurements FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
    INSERT INTO sales.measurements VALUES (1, '2024-06-01', 1.5), (2, '2025-06-01', 2.5);
    CREATE TABLE sales.secret_table (id int PRIMARY KEY);
    CREATE VIEW sales.active_customers AS SELECT * FROM sales.customers WHERE active;
    CREATE TABLE public.other_table (id int PRIMARY KEY);
    GRANT USAGE ON SCHEMA sales TO ${READER};
    GRANT SELECT ON ALL TABLES IN SCHEMA sales TO ${READER};
    REVOKE SELECT ON sales.secret_table FROM ${READER};
  `);
  // The superuser's helper connects to "postgres"; point it at the shop database from here on.
  const original = pg.pgConfig.bind(pg);
  pg.pgConfig = (overrides = {}) => original({ database: "shop", ...overrides });
  main = coldStart();
});

afterAll(async () => {
  for (const c of containers) await c.shutdown();
  await secrets?.stop();
  await pg?.stop();
  process.env = savedEnv;
  // No log line of any test carried a password.
  const text = allLogs.join("\n");
  expect(text).not.toContain(READER_PASSWORD);
  expect(text).not.toContain(WRONG_PASSWORD);
  expect(text).not.toContain(pg?.password ?? "test-only-password");
});

beforeEach(() => {
  logs = captureJsonLogs();
});

afterEach(() => {
  allLogs.push(...logs);
  jest.restoreAllMocks();
});

describe("connector configuration and settings", () => {
  test("DescribeConnectorConfiguration declares a PostgreSQL source with username/password auth and profile settings", async () => {
    const r = await main.handler(fixture("describe-connector-configuration"));
    expect(r.isSuccess).toBe(true);
    expect(r).toMatchObject({ connectorModes: ["SOURCE"], supportedApiVersions: ["v1"], supportedWriteOperations: [] });
    expect(r.authenticationConfig).toMatchObject({
      isBasicAuthSupported: true,
      isCustomAuthSupported: true,
      isOAuth2Supported: false,
      isApiKeyAuthSupported: false,
    });
    const custom = r.authenticationConfig.customAuthConfig[0];
    expect(custom.authenticationType).toBe("PostgresPassword");
    expect(
      custom.authParameters.map((p: { key: string; sensitiveField: boolean }) => [p.key, p.sensitiveField]),
    ).toEqual([
      ["username", false],
      ["password", true],
    ]);
    expect(
      r.connectorRuntimeSetting.map((s: { key: string; scope: string; required: boolean }) => [
        s.key,
        s.scope,
        s.required,
      ]),
    ).toEqual([
      ["host", "CONNECTOR_PROFILE", true],
      ["port", "CONNECTOR_PROFILE", false],
      ["database", "CONNECTOR_PROFILE", true],
      ["schema", "CONNECTOR_PROFILE", false],
    ]);
    expect(r.operatorsSupported).toEqual(
      expect.arrayContaining([
        "PROJECTION",
        "EQUAL_TO",
        "NOT_EQUAL_TO",
        "LESS_THAN",
        "GREATER_THAN",
        "BETWEEN",
        "CONTAINS",
      ]),
    );
  });

  test("ValidateConnectorRuntimeSettings accepts the profile's host, port, database and schema", async () => {
    const r = await main.handler(fixture("validate-connector-runtime-settings"));
    expect(r).toMatchObject({ isSuccess: true });
  });

  test("ValidateConnectorRuntimeSettings names each invalid or missing setting", async () => {
    const r = await main.handler(fixture("validate-connector-runtime-settings-invalid"));
    expectError(r, "InvalidArgument");
    expect(Object.keys(r.errorsByInputField).sort()).toEqual(["database", "host", "port"]);
    expect(r.errorsByInputField.host).toMatch(/not a bare host name/);
    expect(r.errorsByInputField.port).toMatch(/not a TCP port/);
  });

  test("with ALLOWED_DB_HOSTS set, a profile naming any other host is refused", async () => {
    const c = coldStart({ ALLOWED_DB_HOSTS: "db.cluster-abc.ap-northeast-1.rds.amazonaws.com" });
    const r = await c.handler(fixture("validate-connector-runtime-settings"));
    expectError(r, "InvalidArgument");
    expect(r.errorsByInputField.host).toMatch(/not a database this connector may reach.*db\.cluster-abc/);
    expectError(await c.handler(fixture("list-entities")), "InvalidArgument", /host/);
  });
});

describe("credentials from the connection's secret", () => {
  test("ValidateCredentials reads the secret and logs in to PostgreSQL with it", async () => {
    const r = await main.handler(fixture("validate-credentials"));
    expect(r).toEqual({ isSuccess: true });
  });

  test("a wrong password is the protocol's InvalidCredentials error, for validation and for queries", async () => {
    const v = await main.handler(fixture("validate-credentials", {}, { SECRET_ARN: badArn }));
    expectError(v, "InvalidCredentials", /refused the connection's credentials \(28P01\)/);
    const q = await main.handler(fixture("query-data", {}, { SECRET_ARN: badArn }));
    expectError(q, "InvalidCredentials");
  });

  test("a corrected secret works in the same container: refused credentials are not kept", async () => {
    const name = "appflow!123456789012-pg-connector-fixed";
    const arn = secrets.setSecret(name, JSON.stringify({ username: READER, password: WRONG_PASSWORD }));
    expectError(await main.handler(fixture("validate-credentials", {}, { SECRET_ARN: arn })), "InvalidCredentials");
    secrets.setSecret(name, JSON.stringify({ username: READER, password: READER_PASSWORD }));
    expect(await main.handler(fixture("validate-credentials", {}, { SECRET_ARN: arn }))).toEqual({ isSuccess: true });
  });

  test("the secret is read once per container and reused by warm invocations", async () => {
    const c = coldStart();
    secrets.resetCalls();
    for (let i = 0; i < 3; i++) expect((await c.handler(fixture("list-entities"))).isSuccess).toBe(true);
    expect((await c.handler(fixture("describe-entity"))).isSuccess).toBe(true);
    expect(secrets.callsFor(goodArn)).toBe(1);
  });

  test("a secret without username and password is InvalidCredentials naming the keys, never their values", async () => {
    const arn = secrets.setSecret("appflow!123456789012-pg-connector-odd", JSON.stringify({ token: "tok-value-123" }));
    const r = await main.handler(fixture("validate-credentials", {}, { SECRET_ARN: arn }));
    expectError(r, "InvalidCredentials", /no username and password \(keys present: token\)/);
    expect(r.errorDetails!.errorMessage).not.toContain("tok-value-123");
  });

  test("a secret that does not exist is ResourceNotFoundError", async () => {
    const arn = "arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:appflow!123456789012-gone-AbCdEf";
    expectError(
      await main.handler(fixture("validate-credentials", {}, { SECRET_ARN: arn })),
      "ResourceNotFoundError",
      /does not exist/,
    );
  });

  test("an unreachable Secrets Manager (the fake stopped) is a fast error naming the missing interface endpoint", async () => {
    const gone = new FakeSecretsManager();
    const url = await gone.start();
    await gone.stop();
    const c = coldStart({ AWS_ENDPOINT_URL_SECRETS_MANAGER: url });
    const r = await c.handler(fixture("validate-credentials"));
    expectError(r, "ServiceUnavailable");
    const msg = r.errorDetails!.errorMessage;
    expect(msg).toContain(`could not reach Secrets Manager (${url})`);
    expect(msg).toContain(
      "secretsmanager interface endpoint (com.amazonaws.ap-northeast-1.secretsmanager) with private DNS",
    );
    expect(msg).toContain("admits TCP 443 from the function's security group");
    expect(msg).toMatch(/ECONNREFUSED/);
    // The same for a data request: the secret comes first.
    expectError(await c.handler(fixture("query-data")), "ServiceUnavailable", /secretsmanager interface endpoint/);
  });
});

describe("database path failures", () => {
  test("nothing listening on the profile's port is ServiceUnavailable naming host and port", async () => {
    const port = await freePort();
    profilePorts.add(port);
    const r = await main.handler(fixture("validate-credentials", {}, { PORT: String(port) }));
    expectError(
      r,
      "ServiceUnavailable",
      new RegExp(`nothing accepts connections at localhost:${port} \\(ECONNREFUSED\\)`),
    );
  });

  test("TLS is verified: without the test CA the server's certificate is refused", async () => {
    const c = coldStart({ PG_EXTRA_CA_FILE: undefined });
    expectError(
      await c.handler(fixture("validate-credentials")),
      "ClientError",
      /TLS verification of localhost failed .*RDS certificate authorities/,
    );
  });

  test("a database that does not exist is InvalidArgument on the database setting", async () => {
    const r = await main.handler(fixture("validate-credentials", {}, { DATABASE: "nope" }));
    expectError(r, "InvalidArgument", /database "nope" does not exist/);
  });

  test("a schema that does not exist fails credential validation with InvalidArgument", async () => {
    const req = fixture("validate-credentials");
    req.connectorRuntimeSettings.schema = "nosuch";
    expectError(await main.handler(req), "InvalidArgument", /schema "nosuch" does not exist/);
  });
});

describe("entities", () => {
  test("ListEntities lists exactly the schema's tables the user may read (no views, partitions, other schemas)", async () => {
    const r = await main.handler(fixture("list-entities"));
    expect(r.isSuccess).toBe(true);
    const names = r.entities.map((e: { entityIdentifier: string }) => e.entityIdentifier);
    const catalog = await pg.sql(
      `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'sales' AND c.relkind IN ('r', 'p') AND NOT c.relispartition AND has_table_privilege($1, c.oid, 'SELECT')
        ORDER BY c.relname COLLATE "C"`,
      [READER],
    );
    expect(names).toEqual(catalog.map((x) => x.relname));
    expect(names).toEqual(["audit_log", "customers", "documents", "measurements", "order_lines"]);
    expect(r.entities.find((e: { entityIdentifier: string }) => e.entityIdentifier === "customers")).toEqual({
      entityIdentifier: "customers",
      hasNestedEntities: false,
      isWritable: false,
      label: "customers",
      description: "Customers of the shop",
    });
    expect(r.nextToken).toBeNull();
    expect(r.cacheControl).toEqual({ timeToLive: 600, timeToLiveUnit: "SECONDS" });
  });

  test("ListEntities pages with maxResult and nextToken", async () => {
    const seen: string[] = [];
    let nextToken: string | undefined;
    let calls = 0;
    do {
      const r = await main.handler(fixture("list-entities", { maxResult: 2, ...(nextToken ? { nextToken } : {}) }));
      expect(r.entities.length).toBeLessThanOrEqual(2);
      seen.push(...r.entities.map((e: { entityIdentifier: string }) => e.entityIdentifier));
      nextToken = r.nextToken ?? undefined;
      calls++;
    } while (nextToken);
    expect(calls).toBe(3);
    expect(seen).toEqual(["audit_log", "customers", "documents", "measurements", "order_lines"]);
  });

  test("DescribeEntity maps columns to AppFlow types with the primary key as identifier", async () => {
    const r = await main.handler(fixture("describe-entity"));
    expect(r.isSuccess).toBe(true);
    const def = r.entityDefinition;
    expect(def.entity).toMatchObject({ entityIdentifier: "customers", description: "Customers of the shop" });
    const byName = Object.fromEntries(def.fields.map((f: { fieldName: string }) => [f.fieldName, f]));
    expect(def.fields.map((f: { fieldName: string; dataType: string }) => [f.fieldName, f.dataType])).toEqual([
      ["id", "Long"],
      ["name", "String"],
      ["email", "String"],
      ["active", "Boolean"],
      ["score", "BigDecimal"],
      ["created_at", "DateTime"],
      ["birthday", "Date"],
      ["tags", "List"],
      ["profile", "Struct"],
      ["avatar", "ByteArray"],
    ]);
    expect(
      def.fields
        .filter((f: { isPrimaryKey: boolean }) => f.isPrimaryKey)
        .map((f: { fieldName: string }) => f.fieldName),
    ).toEqual(["id"]);
    expect(byName.id.readProperties).toMatchObject({ isNullable: false, isQueryable: true });
    expect(byName.email).toMatchObject({
      description: "Contact address",
      dataTypeLabel: "character varying",
      readProperties: { isNullable: true },
    });
    expect(byName.created_at).toMatchObject({
      dataTypeLabel: "timestamp with time zone",
      readProperties: { isTimestampFieldForIncrementalQueries: true },
    });
    expect(byName.name.filterOperators).toEqual(expect.arrayContaining(["EQUAL_TO", "NOT_EQUAL_TO", "CONTAINS"]));
    expect(byName.active.filterOperators).toEqual(["EQUAL_TO", "NOT_EQUAL_TO"]);
    expect(byName.profile).toMatchObject({ filterOperators: [], readProperties: { isQueryable: false } });
    expect(def.customProperties).toMatchObject({ schema: "sales", primaryKey: "id" });
  });

  test("DescribeEntity of a composite key lists both key columns; of an unknown or unreadable table, InvalidArgument", async () => {
    const r = await main.handler(fixture("describe-entity", { entityIdentifier: "order_lines" }));
    expect(
      r.entityDefinition.fields
        .filter((f: { isPrimaryKey: boolean }) => f.isPrimaryKey)
        .map((f: { fieldName: string }) => f.fieldName),
    ).toEqual(["order_id", "line_no"]);
    expectError(
      await main.handler(fixture("describe-entity", { entityIdentifier: "nosuch" })),
      "InvalidArgument",
      /"nosuch" is not a table/,
    );
    expectError(
      await main.handler(fixture("describe-entity", { entityIdentifier: "secret_table" })),
      "InvalidArgument",
      /"secret_table" is not a table the connection's user can read/,
    );
    expectError(
      await main.handler(fixture("describe-entity", { entityIdentifier: "active_customers" })),
      "InvalidArgument",
    );
  });
});

describe("QueryData", () => {
  test("the fixture's query returns the selected fields of the matching rows, in key order", async () => {
    const r = await main.handler(fixture("query-data"));
    expect(r.isSuccess).toBe(true);
    const rows = await pg.sql(
      "SELECT id::text AS id FROM sales.customers WHERE score >= 50 AND active ORDER BY id LIMIT 5",
    );
    expect(ids(r.records)).toEqual(rows.map((x) => x.id));
    for (const rec of r.records) expect(Object.keys(JSON.parse(rec))).toEqual(["id", "name", "score"]);
    expect(r.nextToken).toEqual(expect.any(String));
  });

  test("pages of maxResults rows cover the table exactly once, with exact bigint ids", async () => {
    const all = await pages(main, "customers", { maxResults: 7 });
    expect(all.map((p) => p.length)).toEqual([7, 7, 7, 7, 2]);
    const got = ids(all.flat());
    expect(got).toEqual(Array.from({ length: 30 }, (_, i) => String(BIG + BigInt(i))));
  });

  test("records are JSON with PostgreSQL's own typing: ISO timestamps, dates, arrays, nested json, text escapes", async () => {
    const [page] = await pages(main, "customers", { filterExpression: `id = ${BIG + 3n}` });
    expect(page).toHaveLength(1);
    expect(page[0]).toContain(`"id":${BIG + 3n}`);
    expect(JSON.parse(page[0])).toEqual({
      id: Number(BIG + 3n),
      name: 'O\'Brien "q" \\ back',
      email: "c3@example.com",
      active: false,
      score: 10.5,
      created_at: "2024-01-04T00:00:00+00:00",
      birthday: "1990-04-01",
      tags: ["t0"],
      profile: { tier: 0 },
      avatar: "\\x00ff",
    });
    const [uni] = await pages(main, "customers", {
      filterExpression: `id = ${BIG + 4n}`,
      selectedFieldNames: ["name"],
    });
    expect(JSON.parse(uni[0])).toEqual({ name: "Ünïcödé 日本語" });
  });

  test("a composite primary key pages in key order", async () => {
    const all = (await pages(main, "order_lines", { maxResults: 4 }))
      .flat()
      .map((r) => JSON.parse(r) as { order_id: number; line_no: number });
    expect(all).toHaveLength(30);
    const keys = all.map((r) => [r.order_id, r.line_no]);
    const sorted = [...keys].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    expect(keys).toEqual(sorted);
    expect(new Set(keys.map((k) => k.join("/"))).size).toBe(30);
  });

  test("a table without a primary key pages by row id, every row once", async () => {
    const all = (await pages(main, "audit_log", { maxResults: 5 }))
      .flat()
      .map((r) => (JSON.parse(r) as { message: string }).message);
    expect(all.sort()).toEqual(Array.from({ length: 12 }, (_, i) => `event ${i + 1}`).sort());
  });

  test("a partitioned table pages over all its partitions", async () => {
    const all = (await pages(main, "measurements", { maxResults: 1 })).flat().map((r) => JSON.parse(r));
    expect(all).toEqual([
      { id: 1, taken: "2024-06-01", value: 1.5 },
      { id: 2, taken: "2025-06-01", value: 2.5 },
    ]);
  });

  test("a page stops before RESPONSE_MAX_BYTES, whatever maxResults asks, and the pages still cover every row", async () => {
    const limit = 12_000;
    const c = coldStart({ RESPONSE_MAX_BYTES: String(limit) });
    const seen: number[] = [];
    let nextToken: string | undefined;
    let pagesSeen = 0;
    do {
      const r = await c.handler(query("documents", { maxResults: 1000, ...(nextToken ? { nextToken } : {}) }));
      expect(r.isSuccess).toBe(true);
      expect(Buffer.byteLength(JSON.stringify(r))).toBeLessThanOrEqual(limit);
      seen.push(...r.records.map((x: string) => (JSON.parse(x) as { id: number }).id));
      nextToken = r.nextToken ?? undefined;
      pagesSeen++;
    } while (nextToken);
    expect(seen).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    expect(pagesSeen).toBeGreaterThan(4);
  });

  test("unknown selected fields, a foreign or forged nextToken and a bad maxResults are InvalidArgument", async () => {
    expectError(
      await main.handler(query("customers", { selectedFieldNames: ["id", "nope"] })),
      "InvalidArgument",
      /"nope" is not a field of customers/,
    );
    const first = await main.handler(query("customers", { maxResults: 2, filterExpression: "active = true" }));
    expectError(
      await main.handler(
        query("customers", { maxResults: 2, filterExpression: "active = false", nextToken: first.nextToken }),
      ),
      "InvalidArgument",
      /different entity or filter/,
    );
    expectError(
      await main.handler(query("customers", { nextToken: "not-a-token" })),
      "InvalidArgument",
      /nextToken is not one this connector issued/,
    );
    expectError(await main.handler(query("customers", { maxResults: 0 })), "InvalidArgument", /maxResults/);
  });
});

describe("filter expressions", () => {
  const cases: Array<[string, string, unknown[]]> = [
    ["score > 50", "score > 50", []],
    ["score >= 52.5", "score >= 52.5", []],
    ["score < 10", "score < 10", []],
    ["score <= 10.5", "score <= 10.5", []],
    ["score = 31.5", "score = 31.5", []],
    ["score != 31.5", "score <> 31.5", []],
    ["name = 'Customer 5'", "name = 'Customer 5'", []],
    ['name != "Customer 5"', "name <> 'Customer 5'", []],
    ['name contains "ustomer 1"', "strpos(name, 'ustomer 1') > 0", []],
    ["score between 10 and 20", "score BETWEEN 10 AND 20", []],
    [
      "created_at between 2024-01-05T00:00:00Z and 2024-01-10T00:00:00.000Z",
      "created_at BETWEEN '2024-01-05T00:00:00Z' AND '2024-01-10T00:00:00Z'",
      [],
    ],
    ["created_at > 1704844800000", "created_at > '2024-01-10T00:00:00Z'", []],
    ["birthday >= 1991-01-01", "birthday >= '1991-01-01'", []],
    [`id in (${BIG + 2n}, ${BIG + 5n}, 1)`, "id IN ($1::bigint, $2::bigint)", [String(BIG + 2n), String(BIG + 5n)]],
    ["active = true and score > 20 or email = null", "(active AND score > 20) OR email IS NULL", []],
    ["not (active = false) and (score < 30 or score > 90)", "NOT (active = false) AND (score < 30 OR score > 90)", []],
    ["email = null", "email IS NULL", []],
    ["email != null", "email IS NOT NULL", []],
    ['name = "O\'Brien \\"q\\" \\\\ back"', "name = $1", ['O\'Brien "q" \\ back']],
    ["name = \"x' OR '1'='1\"", "false", []],
  ];
  test.each(cases)("%s", async (filterExpression, where, params) => {
    const got = await filtered(filterExpression);
    const want = await expected(where, params);
    expect(got).toEqual(want);
  });

  test("every case above is non-trivial: at least one selects rows and one excludes rows", async () => {
    const total = (await expected("true")).length;
    const sizes = await Promise.all(cases.map(async ([, w, p]) => (await expected(w, p)).length));
    expect(sizes.every((n) => n < total)).toBe(true);
    expect(sizes.filter((n) => n > 0).length).toBeGreaterThan(cases.length - 2);
  });

  test("LIMIT caps the records over all pages", async () => {
    const all = await pages(main, "customers", {
      filterExpression: "active = true LIMIT 7",
      maxResults: 3,
      selectedFieldNames: ["id"],
    });
    expect(all.map((p) => p.length)).toEqual([3, 3, 1]);
    expect(ids(all.flat())).toEqual((await expected("active")).slice(0, 7));
  });

  test.each([
    ["id", /expected an operator/],
    ["score > true", /expected a value/],
    ["nosuch = 1", /"nosuch" is not a field of customers/],
    ["score =", /expected a value .* found the end/],
    ['profile contains "x"', /CONTAINS is not supported on field "profile"/],
    ["active > 1", /GREATER_THAN is not supported on field "active"/],
    ["name ~ 'x'", /unexpected character "~"/],
    ["id = 1; DROP TABLE sales.customers", /unexpected character ";"/],
    ["score between 1 or 2", /expected AND between the two BETWEEN bounds/],
    ["(score > 1", /expected "\)"/],
    ["score > 'abc'", /not valid for its field: invalid input syntax for type numeric/],
    ["'x' = name", /expected a field name/],
  ])("unsupported or invalid: %s → InvalidArgument", async (filterExpression, message) => {
    const r = await main.handler(query("customers", { filterExpression }));
    expectError(r, "InvalidArgument", message);
    expect((await pg.sql("SELECT count(*)::int AS n FROM sales.customers"))[0].n).toBe(30);
  });
});

describe("RetrieveData", () => {
  test("the fixture's ids return those records (unknown ids are simply absent)", async () => {
    const r = await main.handler(fixture("retrieve-data", { ids: [String(BIG + 2n), String(BIG + 4n), "1"] }));
    expect(r.isSuccess).toBe(true);
    expect(ids(r.records)).toEqual([String(BIG + 2n), String(BIG + 4n)]);
    expect(Object.keys(JSON.parse(r.records[0]))).toEqual(["id", "name"]);
  });

  test("without idFieldName the single primary key is used; a composite key needs idFieldName", async () => {
    const req = fixture("retrieve-data", { ids: [String(BIG)] });
    delete req.idFieldName;
    expect(ids((await main.handler(req)).records)).toEqual([String(BIG)]);
    const lines = fixture("retrieve-data", { entityIdentifier: "order_lines", ids: ["2"], selectedFieldNames: null });
    delete lines.idFieldName;
    expectError(await main.handler(lines), "InvalidArgument", /composite primary key: give idFieldName/);
    const byOrder = await main.handler({ ...lines, idFieldName: "order_id" });
    expect(byOrder.records.map((x: string) => JSON.parse(x))).toEqual(
      [1, 2, 3].map((l) => ({ order_id: 2, line_no: l, sku: `SKU-2-${l}`, qty: 2 * l })),
    );
  });
});

describe("malformed and unsupported requests get the protocol's error response", () => {
  test("an unknown request type", async () => {
    expectError(
      await main.handler(fixture("unknown-type")),
      "InvalidArgument",
      /unknown request type "DeleteEverythingRequest"/,
    );
  });

  test.each([[null], ["QueryDataRequest"], [[1, 2]], [42], [{}]])(
    "a request that is not a typed object: %p",
    async (event) => {
      const r = await main.handler(event);
      expectError(r, "InvalidArgument", /request/);
    },
  );

  test("a request with wrong field types names every field", async () => {
    const r = await main.handler(fixture("query-data-malformed"));
    expectError(
      r,
      "InvalidArgument",
      /malformed QueryDataRequest: entityIdentifier: expected a non-empty string.*selectedFieldNames: expected an array of strings.*maxResults: expected a number/,
    );
  });

  test("a data request without credentials or settings", async () => {
    const noCreds = fixture("list-entities");
    delete noCreds.connectorContext.credentials;
    expectError(await main.handler(noCreds), "InvalidArgument", /credentials.secretArn is missing/);
    const noSettings = fixture("list-entities");
    delete noSettings.connectorContext.connectorRuntimeSettings;
    expectError(
      await main.handler(noSettings),
      "InvalidArgument",
      /settings are invalid: host: required.*database: required/,
    );
  });

  test("WriteData: the connector is a source only", async () => {
    expectError(await main.handler(fixture("write-data")), "InvalidArgument", /source only/);
  });

  test("every answer is logged as one JSON line with the request type and outcome, without credentials", async () => {
    await main.handler(fixture("validate-credentials"));
    await main.handler(fixture("validate-credentials", {}, { SECRET_ARN: badArn }));
    const parsed = logs.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(parsed.some((l) => l.msg === "request answered" && l.type === "ValidateCredentialsRequest")).toBe(true);
    expect(parsed.some((l) => l.msg === "request failed" && l.errorCode === "InvalidCredentials")).toBe(true);
    for (const l of logs) {
      expect(l).not.toContain(READER_PASSWORD);
      expect(l).not.toContain(WRONG_PASSWORD);
    }
  });
});

// ---- The SDK's response contract, also on failure ------------------------------------------------------------------

/**
 * Fields the AppFlow Custom Connector SDK's response classes require (Java custom-connector-sdk model/*Response.java:
 * the methods without @Nullable or a default); AppFlow cannot deserialize a response that lacks one.
 */
const REQUIRED: Record<string, string[]> = {
  DescribeConnectorConfigurationRequest: [
    "isSuccess",
    "connectorOwner",
    "connectorName",
    "connectorVersion",
    "connectorModes",
    "supportedApiVersions",
  ],
  ValidateConnectorRuntimeSettingsRequest: ["isSuccess"],
  ValidateCredentialsRequest: ["isSuccess"],
  ListEntitiesRequest: ["isSuccess"],
  DescribeEntityRequest: ["isSuccess"],
  QueryDataRequest: ["isSuccess"],
  RetrieveDataRequest: ["isSuccess"],
  WriteDataRequest: ["isSuccess"],
};
const SDK_FIXTURES = Object.keys(REQUIRED).map((t) =>
  t.replace(/Request$/, "").replace(/[A-Z]/g, (c, i: number) => (i > 0 ? "-" : "") + c.toLowerCase()),
);

function expectSdkShape(type: string, r: Response): void {
  for (const k of REQUIRED[type])
    expect({ type, key: k, present: r[k] !== undefined && r[k] !== null }).toEqual({ type, key: k, present: true });
  if (!r.isSuccess) {
    expect(typeof r.errorDetails?.errorCode).toBe("string");
    expect(typeof r.errorDetails?.errorMessage).toBe("string");
  }
}

describe("the AppFlow SDK's request and response shapes", () => {
  test.each(SDK_FIXTURES)("sdk-java/%s (explicit nulls for unset optionals) is answered", async (name) => {
    const req = fixture(`sdk-java/${name}`);
    const r = await main.handler(req);
    expectSdkShape(req.type, r);
    if (req.type === "WriteDataRequest") expectError(r, "InvalidArgument", /source only/);
    else
      expect({ name, isSuccess: r.isSuccess, error: r.errorDetails }).toEqual({
        name,
        isSuccess: true,
        error: undefined,
      });
  });

  test("with LOG_LEVEL=verbose, DescribeConnectorConfiguration is still answered in full; requests that need the configuration fail naming LOG_LEVEL, in their full shape", async () => {
    const c = coldStart({ LOG_LEVEL: "verbose" });
    const describe = await c.handler(fixture("sdk-java/describe-connector-configuration"));
    expect(describe.isSuccess).toBe(true);
    expectSdkShape("DescribeConnectorConfigurationRequest", describe);
    expect(describe.connectorRuntimeSetting).toHaveLength(4);
    expect(
      logs.some(
        (l) =>
          /misconfigured; this request needs none of the bad variables/.test(l) && /LOG_LEVEL must be one of/.test(l),
      ),
    ).toBe(true);
    for (const name of SDK_FIXTURES.filter((n) => n !== "describe-connector-configuration" && n !== "write-data")) {
      const req = fixture(`sdk-java/${name}`);
      const r = await c.handler(req);
      expectError(
        r,
        "ServerError",
        /^the connector function is misconfigured: LOG_LEVEL must be one of debug, info, warn, error; got "verbose"$/,
      );
      expectSdkShape(req.type, r);
    }
  });

  test("a failed DescribeConnectorConfiguration still carries the fields AppFlow needs to deserialize it", async () => {
    const r = await main.handler({ type: "DescribeConnectorConfigurationRequest", locale: 7 });
    expectError(r, "InvalidArgument", /locale: expected a non-empty string, got number/);
    expectSdkShape("DescribeConnectorConfigurationRequest", r);
    expect(r).toMatchObject({
      connectorOwner: "vpc-lambda-kit",
      connectorName: "vpc-lambda-kit-postgresql",
      connectorModes: ["SOURCE"],
      supportedApiVersions: ["v1"],
    });
  });

  test("every failing request type answers with its response's full shape (nullable fields as null)", async () => {
    const c = coldStart({ MAX_PAGE_ROWS: "0" });
    const shapes: Record<string, string[]> = {
      ListEntitiesRequest: ["entities", "nextToken", "cacheControl"],
      DescribeEntityRequest: ["entityDefinition", "cacheControl"],
      QueryDataRequest: ["records", "nextToken"],
      RetrieveDataRequest: ["records"],
      ValidateCredentialsRequest: [],
      ValidateConnectorRuntimeSettingsRequest: ["errorsByInputField"],
    };
    for (const [type, nullable] of Object.entries(shapes)) {
      const req = fixture(`sdk-java/${SDK_FIXTURES[Object.keys(REQUIRED).indexOf(type)]}`);
      const r = await c.handler(req);
      expectError(r, "ServerError", /MAX_PAGE_ROWS must be an integer from 1 to 100000/);
      for (const k of nullable) expect({ type, key: k, value: r[k] }).toEqual({ type, key: k, value: null });
    }
  });
});

// The database host and port come from the connector profile in the event, not from a variable: the
// suite's PostgreSQL (and the closed ports the failure tests name) stand for the database a deployed
// profile names, which ALLOWED_DB_HOSTS limits to the stack's cluster endpoints on 5432. The secret ARN
// comes in the event too: AppFlow passes its own profile's secret, so each of the suite's secrets (one
// per profile it tests: good, wrong password, odd values) stands for that profile's secret in the stack.
testBundleConnectionsDeclared(
  "appflow-connector",
  connections,
  ["aws secretsmanager:GetSecretValue", "connect AWS_ENDPOINT_URL_SECRETS_MANAGER", "connect the connector profile"],
  {
    logical: (host, port) =>
      (host === "localhost" || host === "127.0.0.1") && profilePorts.has(port)
        ? { host: "the connector profile's database host", port: 5432, database: true, env: "the connector profile" }
        : undefined,
    stands: [
      [
        /^arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:appflow!123456789012-[a-z0-9-]+-(?=[A-Za-z0-9]{6}$)/,
        "arn:aws:secretsmanager:${region}:${account}:secret:appflow!${account}-${profile}-",
      ],
    ],
  },
);
