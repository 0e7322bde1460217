/**
 * The connector against the Athena Query Federation SDK's own serialization: every request sample the SDK publishes
 * (test/fixtures/athena-federation, see its README) is parsed by the connector's request reader with the expected
 * fields, constraints and Arrow schemas; the bundled handler's responses carry exactly the fields of the SDK's
 * response serializers, in their order (the SDK's readers take fields in sequence), and their Arrow payloads decode
 * with apache-arrow. The handler runs as the deployed bundle; none of these requests needs the network.
 */
import * as fs from "fs";
import * as path from "path";
import { DateDay, DateMillisecond, Float64, Int32, Int64, Bool, tableFromIPC, Utf8 } from "apache-arrow";
import {
  decodeBlock,
  decodeSchema,
  recordBatchMessage,
  schemaMessage,
  schemaOf,
} from "../../functions/athena-connector/arrow";
import { parseRequest } from "../../functions/athena-connector/protocol";
import { decrypt, encrypt, makeEncryptionKey } from "../../functions/athena-connector/spill";
import { loadBundledHandler } from "../support/bundled";
import { captureJsonLogs } from "../support/log-capture";

type Handler = (event: unknown) => Promise<Record<string, any>>;

const FIXTURES = path.join(__dirname, "..", "fixtures", "athena-federation");
const fixture = (rel: string) => JSON.parse(fs.readFileSync(path.join(FIXTURES, rel), "utf8")) as Record<string, any>;
const fixtureFiles = (dir = FIXTURES, prefix = ""): string[] =>
  fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) =>
      e.isDirectory()
        ? fixtureFiles(path.join(dir, e.name), `${prefix}${e.name}/`)
        : e.name.endsWith(".json")
          ? [`${prefix}${e.name}`]
          : [],
    );

const TABLES = [
  {
    name: "customers",
    url: "https://api.example.com/v1/customers",
    pagination: "page:page",
    recordsPath: "data",
    splits: 2,
    columns: [
      { name: "id", type: "bigint" },
      { name: "name", type: "string" },
      { name: "version", type: "int" },
      { name: "score", type: "double" },
      { name: "active", type: "boolean" },
      { name: "created_at", type: "timestamp" },
      { name: "signup_date", type: "date" },
    ],
  },
  {
    name: "orders",
    url: "https://api.example.com/v1/orders",
    pagination: "cursor:next:cursor",
    columns: [{ name: "id", type: "string" }],
  },
  { name: "plans", url: "https://api.example.com/v1/plans", columns: [{ name: "code", type: "string" }] },
];
const OUR_TABLE = { schemaName: "saas", tableName: "customers" };

const savedEnv = { ...process.env };
let handler: Handler;

beforeAll(() => {
  process.env = {
    ...savedEnv,
    PROXY_URL: "http://127.0.0.1:3128",
    PROXY_HEADER_NAME: "X-Lambda-Proxy-Token",
    PROXY_HEADER_SECRET_ID: "proxy/header",
    ATHENA_TABLES: JSON.stringify(TABLES),
    SPILL_BUCKET: "spill-bucket",
    SPILL_PREFIX: "athena-spill/",
  };
  jest.isolateModules(() => {
    handler = loadBundledHandler<{ handler: Handler }>("athena-connector").handler;
  });
});
afterAll(() => {
  process.env = savedEnv;
});
beforeEach(() => {
  captureJsonLogs();
});
afterEach(() => jest.restoreAllMocks());

describe("SDK request samples parse", () => {
  const files = fixtureFiles();
  test("the fixture set holds the SDK's request samples", () => {
    expect(files.sort()).toEqual(
      [
        "PingRequest.json",
        "PingRequestForwardsCompatible.json",
        "v2/GetSplitsRequest.json",
        "v2/GetTableLayoutRequest.json",
        "v2/GetTableRequest.json",
        "v2/ListSchemasRequest.json",
        "v2/ListTablesRequest.json",
        "v2/ReadRecordsRequest.json",
        "v2/UserDefinedFunctionRequest.json",
        "v4/ReadRecordsRequest.json",
        "v5/GetTableRequest.json",
        "v5/ReadRecordsRequest.json",
        "v6/ReadRecordsRequest.json",
      ].sort(),
    );
  });

  test.each(files.filter((f) => !f.includes("UserDefinedFunction")))("%s", (file) => {
    const json = fixture(file);
    const r = parseRequest(json);
    expect(r.type).toBe(json["@type"]);
    expect(r.identity).toMatchObject({ account: "0123456789", arn: "testArn" });
    // The SDK's ReadRecords samples swap the two ids; the reader keeps each field as sent.
    expect([r.catalogName, r.queryId]).toEqual([json.catalogName, json.queryId]);
    if (json.tableName) expect(r.tableName).toEqual({ schemaName: "test-schema", tableName: "test-table" });
    if (r.type === "ListTablesRequest")
      expect([r.schemaName, r.nextToken, r.pageSize]).toEqual(["test-schema", "table4", 25]);
    if (json.constraints) {
      expect(r.constraints.get("col4")).toEqual({ kind: "in", values: [1.1], whiteList: false, nullAllowed: true });
      expect(r.constraints.get("col5")).toEqual({ kind: "none", nullAllowed: true });
      expect(r.constraints.get("col3")).toEqual({
        kind: "ranges",
        ranges: [{ low: { value: -10000, inclusive: false }, high: undefined }],
        nullAllowed: false,
      });
    }
    if (r.type === "GetTableLayoutRequest" || r.type === "ReadRecordsRequest") {
      expect(r.schema!.fields.map((f) => `${f.name}:${f.type}`)).toEqual([
        "year:Int32",
        "month:Int32",
        "day:Int32",
        "col2:Utf8",
        "col3:Float64",
        "col4:Float64",
        "col5:Float64",
      ]);
    }
    if (r.type === "GetSplitsRequest") {
      expect(r.partitionColumns).toEqual(["year", "month", "day"]);
      expect(r.continuationToken).toBe("test-continuation-token");
      // The partitions block decodes too: ten (year, month, day) rows.
      const p = decodeBlock(json.partitions);
      expect(p.rows).toHaveLength(10);
      expect(p.rows[0]).toMatchObject({ year: 2016, month: 1, day: 1 });
    }
    if (r.type === "ReadRecordsRequest") {
      expect(r.split).toEqual({
        spillLocation: {
          "@type": "S3SpillLocation",
          bucket: "athena-virtuoso-test",
          key: "lambda-spill/test-query-id/test-split-id",
          directory: true,
        },
        encryptionKey: { key: "dGVzdC1rZXk=", nonce: "dGVzdC1ub25jZQ==" },
        properties: { month: "11", year: "2017", day: "1" },
      });
      expect([r.maxBlockSize, r.maxInlineBlockSize]).toEqual([100000000000, 100000000000]);
    }
    if (file.startsWith("v5/") || file.startsWith("v6/"))
      expect(r.queryPassthroughArguments ?? json.constraints?.queryPassthroughArguments).toEqual({
        query: "SELECT * FROM DUMMY_TABLE;",
      });
  });

  test("a user-defined function request is refused with the list of request types served", () => {
    expect(() => parseRequest(fixture("v2/UserDefinedFunctionRequest.json"))).toThrow(
      /^request type "UserDefinedFunctionRequest" is not served: this connector answers PingRequest, ListSchemasRequest, .*GetDataSourceCapabilitiesRequest \(it defines no user-defined functions\)\.$/,
    );
  });

  test("envelopes the SDK would not write are refused with the missing field named", () => {
    const ping = fixture("PingRequest.json");
    expect(() => parseRequest([])).toThrow(/the event is not a JSON object/);
    expect(() => parseRequest({ ...ping, "@type": undefined })).toThrow(/it has no "@type"/);
    expect(() => parseRequest({ ...ping, identity: undefined })).toThrow(/PingRequest has no identity/);
    expect(() => parseRequest({ ...ping, catalogName: 7 })).toThrow(/PingRequest\.catalogName is not a string/);
    expect(() => parseRequest({ ...fixture("v2/GetTableRequest.json"), tableName: "t" })).toThrow(
      /GetTableRequest\.tableName must be \{schemaName, tableName\}/,
    );
    const layout = fixture("v2/GetTableLayoutRequest.json");
    expect(() => parseRequest({ ...layout, constraints: { summary: { c: { "@type": "Mystery" } } } })).toThrow(
      /constraint on column c has an unknown value set type "Mystery"/,
    );
  });
});

describe("responses have the SDK serializers' shape", () => {
  test("PingResponse: SerDe version 4 and the capability level, for the plain and the forwards-compatible sample", async () => {
    for (const f of ["PingRequest.json", "PingRequestForwardsCompatible.json"]) {
      const res = await handler(fixture(f));
      expect(Object.keys(res)).toEqual([
        "@type",
        "catalogName",
        "queryId",
        "sourceType",
        "capabilities",
        "serDeVersion",
      ]);
      expect(res).toEqual({
        "@type": "PingResponse",
        catalogName: "test-catalog",
        queryId: "test-query-id",
        sourceType: "vpc-lambda-kit-saas",
        capabilities: 23,
        serDeVersion: 4,
      });
    }
  });

  test("ListSchemasResponse", async () => {
    const res = await handler(fixture("v2/ListSchemasRequest.json"));
    expect(Object.keys(res)).toEqual(["@type", "catalogName", "schemas"]);
    expect(res.schemas).toEqual(["saas"]);
  });

  test("ListTablesResponse pages by table name; another schema has no tables", async () => {
    const sample = fixture("v2/ListTablesRequest.json");
    const other = await handler(sample);
    expect(Object.keys(other)).toEqual(["@type", "tables", "catalogName", "nextToken"]);
    expect(other).toMatchObject({ tables: [], nextToken: null });
    const p1 = await handler({ ...sample, schemaName: "saas", nextToken: null, pageSize: 2 });
    expect(p1.tables).toEqual([
      { schemaName: "saas", tableName: "customers" },
      { schemaName: "saas", tableName: "orders" },
    ]);
    expect(p1.nextToken).toBe("plans");
    const p2 = await handler({ ...sample, schemaName: "saas", nextToken: p1.nextToken, pageSize: 2 });
    expect(p2).toMatchObject({ tables: [{ schemaName: "saas", tableName: "plans" }], nextToken: null });
    const all = await handler({ ...sample, schemaName: "SAAS", nextToken: null, pageSize: -1 });
    expect(all.tables.map((t: { tableName: string }) => t.tableName)).toEqual(["customers", "orders", "plans"]);
    await expect(handler({ ...sample, schemaName: "saas", pageSize: 0 })).rejects.toThrow(
      /pageSize must be -1 \(unlimited\) or a positive integer/,
    );
  });

  test("GetTableResponse: the declared columns as an Arrow schema apache-arrow decodes", async () => {
    const res = await handler({ ...fixture("v2/GetTableRequest.json"), tableName: OUR_TABLE });
    expect(Object.keys(res)).toEqual(["@type", "catalogName", "tableName", "schema", "partitionColumns"]);
    expect(res.tableName).toEqual(OUR_TABLE);
    expect(res.partitionColumns).toEqual([]);
    const schema = tableFromIPC(Buffer.from(res.schema, "base64")).schema;
    expect(schema.fields.map((f) => [f.name, String(f.type), f.nullable])).toEqual([
      ["id", String(new Int64()), true],
      ["name", String(new Utf8()), true],
      ["version", String(new Int32()), true],
      ["score", String(new Float64()), true],
      ["active", String(new Bool()), true],
      ["created_at", String(new DateMillisecond()), true],
      ["signup_date", String(new DateDay()), true],
    ]);
    // Current IPC framing (SerDe v3+): the message starts with the 0xFFFFFFFF continuation marker.
    expect(Buffer.from(res.schema, "base64").readInt32LE(0)).toBe(-1);
  });

  test("GetTable for an unknown table, or with query passthrough, is refused clearly", async () => {
    await expect(handler(fixture("v2/GetTableRequest.json"))).rejects.toThrow(
      /^table test-schema\.test-table does not exist in this catalog: it has schema saas with tables customers, orders, plans/,
    );
    await expect(handler({ ...fixture("v5/GetTableRequest.json"), tableName: OUR_TABLE })).rejects.toThrow(
      /query passthrough \(system\.query\) is not supported/,
    );
  });

  test("GetTableLayoutResponse: one partition row, as the SDK sends for an unpartitioned table", async () => {
    const res = await handler({ ...fixture("v2/GetTableLayoutRequest.json"), tableName: OUR_TABLE });
    expect(Object.keys(res)).toEqual(["@type", "catalogName", "tableName", "partitions"]);
    expect(Object.keys(res.partitions)).toEqual(["aId", "schema", "records"]);
    const p = decodeBlock(res.partitions);
    expect(p.schema.fields.map((f) => `${f.name}:${f.type}`)).toEqual(["partitionId:Int32"]);
    expect(p.rows).toEqual([{ partitionId: 1 }]);
  });

  test("GetSplitsResponse: one split per stripe, each with a directory spill location under the prefix and a fresh AES key", async () => {
    const res = await handler({ ...fixture("v2/GetSplitsRequest.json"), tableName: OUR_TABLE });
    expect(Object.keys(res)).toEqual(["@type", "catalogName", "splits", "continuationToken"]);
    expect(res.continuationToken).toBeNull();
    expect(res.splits).toHaveLength(2);
    for (const [i, s] of res.splits.entries()) {
      expect(Object.keys(s)).toEqual(["spillLocation", "encryptionKey", "properties"]);
      expect(Object.keys(s.spillLocation)).toEqual(["@type", "bucket", "key", "directory"]);
      expect(s.spillLocation).toMatchObject({ "@type": "S3SpillLocation", bucket: "spill-bucket", directory: true });
      expect(s.spillLocation.key).toMatch(/^athena-spill\/test-query-id\/[0-9a-f-]{36}$/);
      expect(Object.keys(s.encryptionKey)).toEqual(["key", "nonce"]);
      expect(Buffer.from(s.encryptionKey.key, "base64")).toHaveLength(32);
      expect(Buffer.from(s.encryptionKey.nonce, "base64")).toHaveLength(12);
      expect(s.properties).toEqual({ table: "customers", stripe: String(i), stripes: "2" });
    }
    expect(res.splits[0].encryptionKey.key).not.toBe(res.splits[1].encryptionKey.key);
    const cursor = await handler({
      ...fixture("v2/GetSplitsRequest.json"),
      tableName: { schemaName: "saas", tableName: "orders" },
    });
    expect(cursor.splits).toHaveLength(1);
  });

  test("GetDataSourceCapabilitiesResponse advertises no optimizations (the SDK has no request sample; built from its serializer's fields)", async () => {
    const res = await handler({
      "@type": "GetDataSourceCapabilitiesRequest",
      identity: fixture("PingRequest.json").identity,
      queryId: "q",
      catalogName: "test-catalog",
    });
    expect(Object.keys(res)).toEqual(["@type", "catalogName", "capabilities"]);
    expect(res.capabilities).toEqual({});
  });

  test("ReadRecords with a split this connector did not make is refused before any SaaS call", async () => {
    const sample = { ...fixture("v6/ReadRecordsRequest.json"), tableName: OUR_TABLE };
    await expect(handler(sample)).rejects.toThrow(
      /^the split's spill location is not under s3:\/\/spill-bucket\/athena-spill\/: only splits this connector made can be read\.$/,
    );
    const split = {
      spillLocation: { "@type": "S3SpillLocation", bucket: "spill-bucket", key: "athena-spill/q/x", directory: true },
      encryptionKey: null,
      properties: { table: "orders", stripe: "0", stripes: "1" },
    };
    await expect(handler({ ...sample, split })).rejects.toThrow(
      /^the split was made for table orders, not customers: pass each table's own splits\.$/,
    );
  });

  test("errors reach Athena in the SDK's LambdaFunctionException shape (errorType, errorMessage)", async () => {
    const err = (await handler(fixture("v2/GetTableRequest.json")).catch((e: unknown) => e)) as Error & {
      kind: string;
    };
    // The Node.js Lambda runtime reports a thrown error as {errorType: error.name, errorMessage: error.message, trace}.
    const reported = { errorType: err.name, errorMessage: err.message };
    expect(reported.errorType).toBe("AthenaConnectorError");
    expect(err.kind).toBe("request");
    expect(typeof reported.errorMessage).toBe("string");
  });
});

describe("Arrow and spill encryption", () => {
  test("record batches round-trip through apache-arrow in both framings, nulls and all types kept", () => {
    const cols = TABLES[0].columns.map((c) => ({ name: c.name, type: c.type as "bigint" }));
    const schema = schemaOf(cols);
    const values = [
      [1n, null],
      ["a", null],
      [7, null],
      [0.5, null],
      [true, null],
      [new Date(1_700_000_000_000), null],
      [new Date(Date.UTC(2026, 1, 3)), null],
    ];
    for (const legacy of [false, true]) {
      const s = schemaMessage(schema, legacy);
      const b = recordBatchMessage(schema, values, legacy);
      expect(s.readInt32LE(0) === -1).toBe(!legacy);
      const rows = tableFromIPC(Buffer.concat([s, b]))
        .toArray()
        .map((r) => r.toJSON());
      expect(rows).toEqual([
        {
          id: 1n,
          name: "a",
          version: 7,
          score: 0.5,
          active: true,
          created_at: 1_700_000_000_000,
          signup_date: Date.UTC(2026, 1, 3),
        },
        { id: null, name: null, version: null, score: null, active: null, created_at: null, signup_date: null },
      ]);
    }
    expect(decodeSchema(schemaMessage(schema).toString("base64")).fields).toHaveLength(7);
  });

  test("AES-256-GCM: ciphertext then a 16-byte tag; a wrong key or a flipped bit fails", () => {
    const key = makeEncryptionKey();
    const plain = Buffer.from("arrow record batch bytes");
    const sealed = encrypt(key, plain);
    expect(sealed).toHaveLength(plain.length + 16);
    expect(decrypt(key, sealed)).toEqual(plain);
    expect(() => decrypt(makeEncryptionKey(), sealed)).toThrow();
    const flipped = Buffer.from(sealed);
    flipped[0] ^= 1;
    expect(() => decrypt(key, flipped)).toThrow();
    expect(() => encrypt({ key: key.key, nonce: Buffer.alloc(8).toString("base64") }, plain)).toThrow(
      /32 bytes with a 12-byte nonce; got 32 and 8/,
    );
  });
});
