/**
 * pets-api, exercised as deployed: the esbuild bundle (`loadBundledHandler`) answering API Gateway REST (v1) proxy
 * events, with its storage on both access paths against a real PostgreSQL started by the test (TLS verified against
 * the test CA, SCRAM password from Secrets Manager as moto serves it, test/support/moto.ts):
 *   - pg: the bundle's own `pg` connection;
 *   - data-api: the bundle's RDS Data API client, mocked with aws-sdk-client-mock. The mock does not answer from
 *     canned rows: it runs each ExecuteStatement (its :named typed parameters, its transaction id) on the same
 *     PostgreSQL and answers in the Data API's JSON record format, so the SQL is proven on both paths.
 */
import * as fs from "fs";
import * as path from "path";
import { Client } from "pg";
import type { RestProxyEvent, RestProxyResult } from "../../functions/pets-api/index";
import { loadBundledHandler } from "../support/bundled";
import { recordBundleConnections, testBundleConnectionsDeclared } from "../support/handler-connections";
import { freePort, PgServer, startPostgres } from "../support/postgres";
import { CreateSecretCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { MotoServer, startMoto } from "../support/moto";
import { captureJsonLogs } from "../support/log-capture";
import { DataApiCall, mockDataApiOnPostgres } from "../fakes/data-api-on-postgres";

jest.setTimeout(60_000);

type Access = "pg" | "data-api";
interface Bundle {
  handler: (event: RestProxyEvent, context?: { awsRequestId?: string }) => Promise<RestProxyResult>;
  shutdown: () => Promise<void>;
}
interface Container extends Bundle {
  /** Data API calls the bundle made (data-api only). */
  calls: DataApiCall[];
}

const REGION = "ap-northeast-1";
const CLUSTER_ARN = `arn:aws:rds:${REGION}:123456789012:cluster:app-db`;
const DBS: Record<Access, string> = { pg: "pets_pg", "data-api": "pets_dataapi" };
const VPCE = "vpce-0a1b2c3d4e5f60718";

const connections = recordBundleConnections();
let server: PgServer;
let moto: MotoServer;
let secretArn: string;
const savedEnv = { ...process.env };
/** What each container holds open (its pool, a mocked Data API client's connections), ended in afterAll. */
const closers: Array<() => Promise<void>> = [];
let logs: string[] = [];

beforeAll(async () => {
  [server, moto] = await Promise.all([startPostgres(), startMoto()]);
  const sm = new SecretsManagerClient(moto.clientConfig());
  secretArn = (
    await sm.send(
      new CreateSecretCommand({
        Name: "rds!cluster-app-db",
        SecretString: JSON.stringify({ username: server.user, password: server.password }),
      }),
    )
  ).ARN!;
  sm.destroy();
  for (const db of Object.values(DBS)) await server.sql(`CREATE DATABASE ${db}`);
});

afterAll(async () => {
  for (const close of closers) await close().catch(() => undefined);
  await Promise.all([moto?.stop(), server?.stop()]);
  process.env = savedEnv;
});

beforeEach(() => {
  logs = captureJsonLogs();
});
afterEach(() => jest.restoreAllMocks());

function setEnv(access: Access, overrides: Record<string, string> = {}): void {
  process.env = {
    ...savedEnv,
    AWS_REGION: REGION,
    AWS_ACCESS_KEY_ID: "test",
    AWS_SECRET_ACCESS_KEY: "test",
    AWS_ENDPOINT_URL_SECRETS_MANAGER: moto.url,
    DB_ACCESS: access,
    DB_NAME: DBS[access],
    DB_SECRET_ARN: secretArn,
    ...(access === "pg"
      ? {
          DB_HOST: server.tlsServerName,
          DB_PORT: String(server.port),
          DB_TLS_CA_PEM_FILE: server.caFile,
          DB_CONNECT_TIMEOUT_MS: "3000",
        }
      : { DB_CLUSTER_ARN: CLUSTER_ARN }),
    ...overrides,
  };
}

/** A fresh Lambda container: the bundle in its own module registry (and, for data-api, its own mocked client). */
function coldStart(access: Access, overrides: Record<string, string> = {}): Container {
  setEnv(access, overrides);
  let mod: Bundle | undefined;
  const calls: DataApiCall[] = [];
  jest.isolateModules(() => {
    if (access === "data-api") {
      const dataApi = mockDataApiOnPostgres({
        pgConfig: server.pgConfig({ database: DBS["data-api"] }),
        onCall: (call) => calls.push(call),
      });
      closers.push(dataApi.close);
    }
    mod = loadBundledHandler<Bundle>(
      "pets-api",
      access === "pg" ? { dbAccess: "pg", rdsCaRegion: "ap-northeast-1" } : { dbAccess: "data-api" },
    );
  });
  closers.push(mod!.shutdown);
  return { handler: mod!.handler, shutdown: mod!.shutdown, calls };
}

// ---- Events -----------------------------------------------------------------------------------------------------

interface EventOpts {
  query?: Record<string, string | string[]>;
  body?: string;
  headers?: Record<string, string>;
  base64?: boolean;
}

/** An API Gateway REST proxy event, as a private API delivers it through a VPC endpoint. */
function restEvent(method: string, path: string, opts: EventOpts = {}): RestProxyEvent & Record<string, unknown> {
  const resource = path === "/pets" ? "/pets" : /^\/pets\/[^/]+$/.test(path) ? "/pets/{id}" : path;
  const headers = {
    Host: "abc123defg.execute-api.ap-northeast-1.amazonaws.com",
    "x-amzn-vpce-id": VPCE,
    ...(opts.headers ?? {}),
  };
  const single: Record<string, string> = {};
  const multi: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(opts.query ?? {})) {
    const list = Array.isArray(v) ? v : [v];
    single[k] = list[list.length - 1];
    multi[k] = list;
  }
  const hasQuery = Object.keys(single).length > 0;
  return {
    resource,
    path,
    httpMethod: method,
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
    queryStringParameters: hasQuery ? single : null,
    multiValueQueryStringParameters: hasQuery ? multi : null,
    pathParameters: resource === "/pets/{id}" ? { id: decodeURIComponent(path.split("/")[2]) } : null,
    stageVariables: null,
    requestContext: {
      resourcePath: resource,
      httpMethod: method,
      path: `/v1${path}`,
      stage: "v1",
      requestId: `req-${Math.random().toString(16).slice(2, 10)}`,
      identity: { sourceIp: "10.0.1.25", vpceId: VPCE, accountId: null },
    },
    body: opts.body === undefined ? null : opts.base64 ? Buffer.from(opts.body).toString("base64") : opts.body,
    isBase64Encoded: !!opts.base64,
  };
}

const JSON_HEADERS = { "content-type": "application/json" };
const body = (r: RestProxyResult) => JSON.parse(r.body);
const post = (h: Container["handler"], pet: unknown) =>
  h(restEvent("POST", "/pets", { body: JSON.stringify(pet), headers: JSON_HEADERS }));

// ---- Every route and every error case, on both access paths ---------------------------------------------------

describe.each(["pg", "data-api"] as const)("pets-api over %s", (access) => {
  let c: Container;
  beforeAll(async () => {
    c = coldStart(access);
  });

  test("POST /pets stores the pet and answers 201 with it and its Location", async () => {
    const res = await post(c.handler, {
      name: "  Rex ",
      species: "dog",
      birthDate: "2020-02-29",
      tags: ["good", "boy"],
    });
    expect(res.statusCode).toBe(201);
    expect(res.headers["content-type"]).toBe("application/json; charset=utf-8");
    const pet = body(res);
    expect(pet).toEqual({
      id: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/),
      name: "Rex",
      species: "dog",
      birthDate: "2020-02-29",
      tags: ["good", "boy"],
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
    });
    expect(Math.abs(Date.parse(pet.createdAt) - Date.now())).toBeLessThan(60_000);
    expect(res.headers.location).toBe(`/v1/pets/${pet.id}`);
    const rows = await sqlIn(
      DBS[access],
      "SELECT id::text, name, species, birth_date::text AS birth_date, tags FROM pets WHERE id = $1",
      [pet.id],
    );
    expect(rows).toEqual([
      { id: pet.id, name: "Rex", species: "dog", birth_date: "2020-02-29", tags: ["good", "boy"] },
    ]);
  });

  test("a body sent base64-encoded and with a JSON media type parameter is accepted; optional fields default", async () => {
    const res = await c.handler(
      restEvent("POST", "/pets", {
        body: JSON.stringify({ name: "Tama", species: "cat" }),
        base64: true,
        headers: { "Content-Type": "application/json; charset=utf-8" },
      }),
    );
    expect(res.statusCode).toBe(201);
    expect(body(res)).toMatchObject({ name: "Tama", species: "cat", birthDate: null, tags: [] });
  });

  test("GET /pets/{id} returns the stored pet", async () => {
    const created = body(await post(c.handler, { name: "Pochi", species: "dog" }));
    const res = await c.handler(restEvent("GET", `/pets/${created.id}`));
    expect(res.statusCode).toBe(200);
    expect(body(res)).toEqual(created);
    const upper = await c.handler(restEvent("GET", `/pets/${created.id.toUpperCase()}`));
    expect(body(upper)).toEqual(created);
  });

  test.each([
    [
      "an unknown id",
      "00000000-0000-4000-8000-000000000000",
      404,
      { error: "NotFound", message: "no pet with id 00000000-0000-4000-8000-000000000000" },
    ],
    [
      "a malformed id",
      "42",
      400,
      {
        error: "ValidationError",
        message: 'id must be a pet id (a UUID); got "42"',
        issues: [{ field: "id", message: 'must be a pet id (a UUID); got "42"' }],
      },
    ],
  ])("GET /pets/{id} with %s (%s) is a %i JSON error naming the id", async (_what, id, status, error) => {
    const res = await c.handler(restEvent("GET", `/pets/${id}`));
    expect(res.statusCode).toBe(status);
    expect(body(res)).toEqual({ ...error, field: "id", requestId: expect.stringMatching(/^req-/) });
  });

  test("GET /pets pages through every pet exactly once, in insertion order, with an opaque cursor", async () => {
    await sqlIn(DBS[access], "TRUNCATE pets");
    const names = Array.from({ length: 7 }, (_, i) => `pet-${i}`);
    for (const name of names) expect((await post(c.handler, { name, species: "fish" })).statusCode).toBe(201);
    const seen: string[] = [];
    const sizes: number[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 10; page++) {
      const res: RestProxyResult = await c.handler(
        restEvent("GET", "/pets", { query: { limit: "3", ...(cursor ? { cursor } : {}) } }),
      );
      expect(res.statusCode).toBe(200);
      const b = body(res);
      sizes.push(b.items.length);
      seen.push(...b.items.map((p: { name: string }) => p.name));
      cursor = b.nextCursor;
      if (!cursor) break;
      expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    }
    expect(sizes).toEqual([3, 3, 1]);
    expect(seen).toEqual(names);
    // An exact multiple: the last full page says there is no next one.
    const all = body(await c.handler(restEvent("GET", "/pets", { query: { limit: "7" } })));
    expect(all.items).toHaveLength(7);
    expect(all.nextCursor).toBeNull();
  });

  test("GET /pets defaults to 20 per page and allows at most 100", async () => {
    await sqlIn(DBS[access], "TRUNCATE pets");
    await sqlIn(
      DBS[access],
      "INSERT INTO pets (id, name, species) SELECT gen_random_uuid(), 'p' || g, 'bird' FROM generate_series(1, 105) g",
    );
    const first = body(await c.handler(restEvent("GET", "/pets")));
    expect(first.items).toHaveLength(20);
    expect(first.items[0].name).toBe("p1");
    const max = body(await c.handler(restEvent("GET", "/pets", { query: { limit: "100" } })));
    expect(max.items).toHaveLength(100);
    const rest = body(await c.handler(restEvent("GET", "/pets", { query: { limit: "100", cursor: max.nextCursor } })));
    expect(rest.items.map((p: { name: string }) => p.name)).toEqual(["p101", "p102", "p103", "p104", "p105"]);
    expect(rest.nextCursor).toBeNull();
  });

  test.each([
    [{ limit: "101" }, "limit", "limit must be an integer from 1 to 100; got 101"],
    [{ limit: "0" }, "limit", "limit must be an integer from 1 to 100; got 0"],
    [{ limit: "ten" }, "limit", 'limit must be an integer from 1 to 100; got "ten"'],
    [{ limit: ["5", "6"] }, "limit", "limit is given more than once"],
    [
      { cursor: "not a cursor" },
      "cursor",
      "cursor is not a cursor this API issued; pass nextCursor from the previous page unchanged",
    ],
    [
      { cursor: Buffer.from('{"v":1,"after":"-1"}').toString("base64url") },
      "cursor",
      "cursor is not a cursor this API issued; pass nextCursor from the previous page unchanged",
    ],
  ])("GET /pets with %j is a 400 naming %s", async (query, field, message) => {
    const res = await c.handler(restEvent("GET", "/pets", { query }));
    expect(res.statusCode).toBe(400);
    expect(body(res)).toMatchObject({ error: "ValidationError", field, message });
  });

  test.each([
    [{ species: "dog" }, "name", "name is required"],
    [{ name: "   ", species: "dog" }, "name", "name must not be empty"],
    [{ name: 7, species: "dog" }, "name", "name must be a string"],
    [{ name: "x".repeat(101), species: "dog" }, "name", "name must be at most 100 characters"],
    [{ name: "Rex" }, "species", "species is required"],
    [
      { name: "Rex", species: "dog", birthDate: "2021-02-30" },
      "birthDate",
      "birthDate must be a calendar date YYYY-MM-DD",
    ],
    [{ name: "Rex", species: "dog", birthDate: "2999-01-01" }, "birthDate", "birthDate must not be in the future"],
    [{ name: "Rex", species: "dog", tags: "good" }, "tags", "tags must be an array of strings"],
    [{ name: "Rex", species: "dog", tags: ["ok", ""] }, "tags[1]", "tags[1] must not be empty"],
    [{ name: "Rex", species: "dog", tags: Array(11).fill("t") }, "tags", "tags must have at most 10 tags"],
    [
      { nmae: "Rex", name: "Rex", species: "dog" },
      "nmae",
      "nmae is not a known field (name, species, birthDate, tags)",
    ],
    [{ name: "Re\u0000x", species: "dog" }, "name", "name must not contain the NUL character (\\u0000)"],
    [{ name: "Rex", species: "d\u0000g" }, "species", "species must not contain the NUL character (\\u0000)"],
    [
      { name: "Rex", species: "dog", tags: ["ok", "b\u0000d"] },
      "tags[1]",
      "tags[1] must not contain the NUL character (\\u0000)",
    ],
  ])("POST /pets with %j is a 400 naming %s, and stores nothing", async (pet, field, message) => {
    const before = await sqlIn(DBS[access], "SELECT count(*)::int AS n FROM pets");
    const res = await post(c.handler, pet);
    expect(res.statusCode).toBe(400);
    expect(body(res)).toMatchObject({ error: "ValidationError", field, message });
    expect(body(res).issues[0]).toEqual({ field, message: message.slice(field.length + 1) });
    expect(await sqlIn(DBS[access], "SELECT count(*)::int AS n FROM pets")).toEqual(before);
  });

  test("POST /pets reports every invalid field at once", async () => {
    const res = await post(c.handler, { name: "", birthDate: "yesterday" });
    expect(body(res).issues.map((i: { field: string }) => i.field)).toEqual(["name", "species", "birthDate"]);
  });

  test.each([
    [400, "body", "an empty body", undefined, JSON_HEADERS, "body is empty"],
    [400, "body", "broken JSON", "{not json", JSON_HEADERS, "body is not valid JSON"],
    [400, "body", "a JSON array", "[1,2]", JSON_HEADERS, "body must be a JSON object with name and species"],
    [400, "body", "JSON null", "null", JSON_HEADERS, "body must be a JSON object with name and species"],
    [
      415,
      "content-type",
      "text/plain",
      '{"name":"Rex","species":"dog"}',
      { "content-type": "text/plain" },
      'send the pet as JSON (content-type: application/json); got "text/plain"',
    ],
    [
      413,
      "body",
      "17 kB",
      JSON.stringify({ name: "Rex", species: "dog", pad: "x".repeat(17_000) }),
      JSON_HEADERS,
      "the body is larger than 16384 bytes",
    ],
  ])("POST /pets answers %d naming %s for %s", async (status, field, _what, raw, headers, message) => {
    const res = await c.handler(restEvent("POST", "/pets", { body: raw, headers }));
    expect(res.statusCode).toBe(status);
    expect(body(res).field).toBe(field);
    expect(body(res).message.startsWith(message)).toBe(true);
  });

  test.each([
    ["DELETE", "/pets", "GET, HEAD, POST, OPTIONS"],
    ["PUT", "/pets", "GET, HEAD, POST, OPTIONS"],
    ["PATCH", "/pets", "GET, HEAD, POST, OPTIONS"],
    ["POST", "/pets/00000000-0000-4000-8000-000000000000", "GET, HEAD, OPTIONS"],
    ["DELETE", "/pets/00000000-0000-4000-8000-000000000000", "GET, HEAD, OPTIONS"],
  ])("%s %s is a 405 with Allow: %s", async (method, path, allow) => {
    const res = await c.handler(restEvent(method, path));
    expect(res.statusCode).toBe(405);
    expect(res.headers.allow).toBe(allow);
    expect(body(res)).toMatchObject({ error: "MethodNotAllowed" });
  });

  test("HEAD answers like GET without a body, on /pets and /pets/{id}", async () => {
    const created = body(await post(c.handler, { name: "Hana", species: "rabbit" }));
    for (const path of ["/pets", `/pets/${created.id}`, "/pets/00000000-0000-4000-8000-000000000000", "/pets/42"]) {
      const get = await c.handler(restEvent("GET", path));
      const head = await c.handler(restEvent("HEAD", path));
      expect({ path, status: head.statusCode }).toEqual({ path, status: get.statusCode });
      expect(head.headers).toEqual(get.headers);
      expect(head.body).toBe("");
    }
  });

  test("OPTIONS answers 204 with the resource's Allow header, on /pets and /pets/{id}", async () => {
    const list = await c.handler(restEvent("OPTIONS", "/pets"));
    expect(list).toMatchObject({ statusCode: 204, body: "" });
    expect(list.headers.allow).toBe("GET, HEAD, POST, OPTIONS");
    const one = await c.handler(restEvent("OPTIONS", "/pets/00000000-0000-4000-8000-000000000000"));
    expect(one).toMatchObject({ statusCode: 204, body: "" });
    expect(one.headers.allow).toBe("GET, HEAD, OPTIONS");
  });

  test("under a greedy {proxy+} resource, GET /pets/<id>/ (trailing slash) finds the pet", async () => {
    const created = body(await post(c.handler, { name: "Sora", species: "parakeet" }));
    const ev = {
      ...restEvent("GET", `/pets/${created.id}/`),
      resource: "/{proxy+}",
      pathParameters: { proxy: `pets/${created.id}/` },
    };
    const res = await c.handler(ev);
    expect(res.statusCode).toBe(200);
    expect(body(res)).toEqual(created);
  });

  test("a path outside /pets is a 404, and an event that is not a REST proxy event is a 400", async () => {
    const res = await c.handler(restEvent("GET", "/dogs"));
    expect(res.statusCode).toBe(404);
    expect(body(res).message).toMatch(/no resource at \/dogs/);
    const odd = await c.handler({} as RestProxyEvent);
    expect(odd.statusCode).toBe(400);
    expect(body(odd).field).toBe("httpMethod");
  });
});

// ---- Cold starts, migrations and failures -----------------------------------------------------------------------

async function sqlIn(database: string, text: string, params: unknown[] = []): Promise<Record<string, unknown>[]> {
  const c = new Client(server.pgConfig({ database }) as never);
  await c.connect();
  try {
    return (await c.query(text, params as never[])).rows;
  } finally {
    await c.end();
  }
}

describe("schema migration", () => {
  test("happens once: concurrent cold starts on a fresh database create the table once and record version 1 once", async () => {
    await server.sql("CREATE DATABASE pets_fresh");
    const containers = [0, 1, 2].map(() => coldStart("pg", { DB_NAME: "pets_fresh" }));
    const results = await Promise.all(
      containers.map((k, i) =>
        i === 0 ? post(k.handler, { name: "A", species: "cat" }) : k.handler(restEvent("GET", "/pets")),
      ),
    );
    expect(results.map((r) => r.statusCode)).toEqual([201, 200, 200]);
    expect(await sqlIn("pets_fresh", "SELECT version FROM pets_api_migrations")).toEqual([{ version: 1 }]);
    const ready = logs.map((l) => JSON.parse(l)).filter((l) => l.msg === "pets schema ready");
    expect(ready.map((l) => l.applied).sort()).toEqual([[], [], [1]]);
    // A later cold start finds the schema current and changes nothing.
    const later = coldStart("pg", { DB_NAME: "pets_fresh" });
    expect((await later.handler(restEvent("GET", "/pets"))).statusCode).toBe(200);
    expect(await sqlIn("pets_fresh", "SELECT count(*)::int AS n FROM pets")).toEqual([{ n: 1 }]);
  });

  test("on the Data API path it runs inside one transaction, with typed parameters", async () => {
    const c = coldStart("data-api");
    expect((await c.handler(restEvent("GET", "/pets", { query: { limit: "1" } }))).statusCode).toBe(200);
    const ops = c.calls.map((x) => x.op);
    expect(ops.slice(0, 2)).toEqual(["BeginTransaction", "ExecuteStatement"]);
    const begin = c.calls[0].input;
    expect(begin).toEqual({ resourceArn: CLUSTER_ARN, secretArn, database: DBS["data-api"] });
    const txId = c.calls.find((x) => x.op === "CommitTransaction")!.input.transactionId;
    const inTx = c.calls.slice(1, ops.indexOf("CommitTransaction"));
    expect(inTx.length).toBeGreaterThanOrEqual(3);
    for (const s of inTx)
      expect(s.input).toMatchObject({
        resourceArn: CLUSTER_ARN,
        secretArn,
        database: DBS["data-api"],
        transactionId: txId,
        formatRecordsAs: "JSON",
      });
    expect(inTx[0].input.sql).toBe("SELECT pg_advisory_xact_lock(:key)");
    // The page query itself runs outside the transaction, after the commit.
    const list = c.calls[c.calls.length - 1].input;
    expect(list.transactionId).toBeUndefined();
    expect(list.parameters).toEqual([
      { name: "after", value: { longValue: 0 } },
      { name: "limit", value: { longValue: 2 } },
    ]);
  });

  test("the Data API carries a new pet's id, tags and date with their type hints", async () => {
    const c = coldStart("data-api");
    const res = await post(c.handler, { name: "Hint", species: "dog", birthDate: "2019-05-01", tags: ["a"] });
    expect(res.statusCode).toBe(201);
    const insert = c.calls.find((x) => x.op === "ExecuteStatement" && /^INSERT INTO pets /.test(x.input.sql))!.input;
    expect(insert.transactionId).toBeUndefined();
    expect(insert.parameters).toEqual([
      { name: "id", value: { stringValue: body(res).id }, typeHint: "UUID" },
      { name: "name", value: { stringValue: "Hint" } },
      { name: "species", value: { stringValue: "dog" } },
      { name: "birthDate", value: { stringValue: "2019-05-01" }, typeHint: "DATE" },
      { name: "tags", value: { stringValue: '["a"]' }, typeHint: "JSON" },
    ]);
  });
});

// ---- Events exactly as API Gateway publishes them (test/fixtures/api-gateway) --------------------------------------

describe("API Gateway REST proxy events as AWS sends them", () => {
  const FIXTURE_PET = "6f1c2b3a-8d4e-4f5a-9b6c-7d8e9f0a1b2c";
  const fixture = (name: string): RestProxyEvent =>
    JSON.parse(fs.readFileSync(path.join(__dirname, "..", "fixtures", "api-gateway", name), "utf8"));
  let c: Container;
  beforeAll(async () => {
    c = coldStart("pg");
    expect((await c.handler(fixture("options-pets.json"))).statusCode).toBe(204); // migrates the schema
    await sqlIn(DBS.pg, "DELETE FROM pets WHERE id = $1", [FIXTURE_PET]);
    await sqlIn(DBS.pg, "INSERT INTO pets (id, name, species) VALUES ($1, 'Fixture', 'dog')", [FIXTURE_PET]);
  });

  test.each(["get-pet-private-vpce.json", "console-test-get-pet.json", "get-pet-greedy-proxy-trailing-slash.json"])(
    "%s finds the stored pet",
    async (name) => {
      const res = await c.handler(fixture(name));
      expect(res.statusCode).toBe(200);
      expect(body(res)).toMatchObject({ id: FIXTURE_PET, name: "Fixture", species: "dog" });
    },
  );

  test("a base64 body with a charset parameter is stored", async () => {
    const res = await c.handler(fixture("post-pet-base64.json"));
    expect(res.statusCode).toBe(201);
    expect(body(res)).toMatchObject({ name: "Mugi", species: "cat", tags: ["calico"] });
  });

  test("a repeated query parameter (multiValueQueryStringParameters) is a 400 naming it", async () => {
    const res = await c.handler(fixture("get-pets-repeated-query.json"));
    expect(res.statusCode).toBe(400);
    expect(body(res)).toMatchObject({ field: "limit", message: "limit is given more than once" });
  });

  test.each([
    ["post-pet-nul-in-name.json", "name"],
    ["post-pet-nul-in-tag.json", "tags[1]"],
  ])("%s is a 400 naming %s, not a 500", async (name, field) => {
    const res = await c.handler(fixture(name));
    expect(res.statusCode).toBe(400);
    expect(body(res)).toMatchObject({ error: "ValidationError", field });
  });

  test("HEAD and OPTIONS on both resources", async () => {
    const headOne = await c.handler(fixture("head-pet.json"));
    expect(headOne).toMatchObject({ statusCode: 200, body: "" });
    expect(headOne.headers["content-type"]).toBe("application/json; charset=utf-8");
    expect(await c.handler(fixture("head-pets.json"))).toMatchObject({ statusCode: 200, body: "" });
    expect((await c.handler(fixture("options-pet.json"))).headers.allow).toBe("GET, HEAD, OPTIONS");
    expect((await c.handler(fixture("options-pets.json"))).headers.allow).toBe("GET, HEAD, POST, OPTIONS");
  });
});

describe("failures", () => {
  test("a database unreachable at cold start answers 503 with Retry-After; the next request starts over and succeeds", async () => {
    const closed = await freePort();
    const c = coldStart("pg", { DB_PORT: String(closed) });
    const res = await c.handler(restEvent("GET", "/pets"));
    expect(res.statusCode).toBe(503);
    expect(res.headers["retry-after"]).toBe("1");
    expect(body(res)).toMatchObject({
      error: "ServiceUnavailable",
      message: "the pets store is not reachable right now; retry later",
    });
    expect(res.body).not.toMatch(new RegExp(String(closed)));
    const logged = logs.map((l) => JSON.parse(l)).find((l) => l.msg === "pets-api cannot start");
    expect(logged.error).toMatch(new RegExp(`${closed}`));
    process.env.DB_PORT = String(server.port);
    expect((await c.handler(restEvent("GET", "/pets"))).statusCode).toBe(200);
  });

  test("a database restart while warm: that request fails with a 500 that leaks nothing, the next one reconnects", async () => {
    const c = coldStart("pg");
    expect((await c.handler(restEvent("GET", "/pets"))).statusCode).toBe(200);
    await server.kill();
    await server.start();
    const during = await c.handler(restEvent("GET", "/pets"));
    if (during.statusCode !== 200) {
      expect(during.statusCode).toBe(500);
      expect(body(during)).toEqual({
        error: "InternalError",
        message: "the request could not be completed; retry later",
        requestId: expect.any(String),
      });
    }
    expect((await c.handler(restEvent("GET", "/pets"))).statusCode).toBe(200);
  });

  test("a statement the database rejects is a 500 whose body names no table or SQL; the log has the cause", async () => {
    const c = coldStart("data-api");
    expect((await c.handler(restEvent("GET", "/pets"))).statusCode).toBe(200);
    await sqlIn(DBS["data-api"], "ALTER TABLE pets RENAME TO pets_moved");
    try {
      const res = await c.handler(restEvent("GET", "/pets"));
      expect(res.statusCode).toBe(500);
      expect(res.body).not.toMatch(/pets_moved|relation|SELECT/);
      const logged = logs.map((l) => JSON.parse(l)).find((l) => l.msg === "request failed");
      expect(logged).toMatchObject({ level: "error", method: "GET", resource: "/pets" });
      expect(logged.error).toMatch(/relation "pets" does not exist/);
    } finally {
      await sqlIn(DBS["data-api"], "ALTER TABLE pets_moved RENAME TO pets");
    }
  });
});

testBundleConnectionsDeclared("pets-api", connections, [
  "aws secretsmanager:GetSecretValue",
  "connect AWS_ENDPOINT_URL_SECRETS_MANAGER",
  "connect DB_HOST",
]);
