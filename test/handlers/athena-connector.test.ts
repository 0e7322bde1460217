/**
 * athena-connector, exercised as deployed: the esbuild bundle answers the request sequence Athena sends for a query
 * (Ping → ListSchemas → ListTables → GetTable → GetTableLayout → GetSplits → ReadRecords for every split), reading
 * the fake SaaS over real TLS through a real Squid (renderSquidConf: api.example.com whitelisted, secret header
 * required on CONNECT). Spilled blocks go to S3 served by moto and are read back, decrypted and decoded the way
 * Athena does. Secrets come from the kit's fake Secrets Manager (test/fakes/secrets-manager.ts), as in the
 * saas-export test: it records every call and serves the exact SecretString the handler must send, which is all
 * this test needs from it.
 */
import { GetObjectCommand, CreateBucketCommand, ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import {
  recordBatchMessage,
  schemaMessage,
  schemaOf,
  decodeBlock,
  decodeBatch,
} from "../../functions/athena-connector/arrow";
import { decrypt } from "../../functions/athena-connector/spill";
import type { ColumnType } from "../../functions/athena-connector/tables";
import { loadBundledHandler } from "../support/bundled";
import { freePort } from "../support/squid";
import { PROXY_HEADER, PROXY_SECRET_ID, resetProxyClient, SaasProxy, startSaasProxy } from "../support/saas-proxy";
import { recordBundleConnections, testBundleConnectionsDeclared } from "../support/handler-connections";
import { MotoServer, startMoto } from "../support/moto";
import { FakeSaas } from "../fakes/saas";
import { FakeSecretsManager } from "../fakes/secrets-manager";
import { captureJsonLogs } from "../support/log-capture";

jest.setTimeout(120_000);

type Handler = (event: unknown, context?: { awsRequestId?: string }) => Promise<Record<string, any>>;

const HEADER = PROXY_HEADER;
const HEADER_VALUE = "pr0xy-s3cret_value.for-athena-tests";
const PROXY_SECRET = PROXY_SECRET_ID;
const TOKEN = "saas-token-for-athena-tests-0123";
const SPILL_BUCKET = "athena-spill-bucket";
const SPILL_PREFIX = "spill/";
const CATALOG = "saas_live";
const identity = {
  id: "UNKNOWN",
  principal: "UNKNOWN",
  account: "123456789012",
  arn: "arn:aws:iam::123456789012:user/analyst",
  tags: {},
  groups: [],
  configOptions: {},
};

let proxy: SaasProxy;
const connections = recordBundleConnections();
let saas: FakeSaas;
let secrets: FakeSecretsManager;
let moto: MotoServer;
let s3: S3Client;
const savedEnv = { ...process.env };
let logLines: string[] = [];

const COLUMNS: { name: string; type: ColumnType; path?: string; filter?: Record<string, string> }[] = [
  { name: "id", type: "bigint", filter: { min: "id_min", max: "id_max" } },
  { name: "name", type: "string" },
  { name: "note", type: "string" },
  { name: "tags", type: "string" },
  { name: "version", type: "int", filter: { equals: "version" } },
  { name: "score", type: "double" },
  { name: "active", type: "boolean" },
  { name: "created_at", type: "timestamp" },
  { name: "signup_date", type: "date" },
];

function tables() {
  return [
    {
      name: "customers",
      url: saas.url("/v1/page"),
      pagination: "page:page",
      recordsPath: "data.items",
      splits: 3,
      columns: COLUMNS,
    },
    {
      name: "customers_by_cursor",
      url: saas.url("/v1/cursor"),
      pagination: "cursor:meta.next_cursor:cursor",
      recordsPath: "data.items",
      columns: COLUMNS,
    },
    { name: "customers_all", url: saas.url("/v1/all"), recordsPath: "data.items", columns: COLUMNS },
  ];
}

function records(n: number, pad = 0): Record<string, unknown>[] {
  return Array.from({ length: n }, (_, i) => ({
    id: i + 1,
    name: `Customer ${i + 1}${"x".repeat(pad)}`,
    note: i % 7 === 0 ? "line one\nline two “quoted” 日本語" : null,
    tags: ["a", String(i % 3)],
    version: (i % 4) + 1,
    score: i % 5 === 0 ? null : i / 4,
    active: i % 2 === 0,
    created_at: new Date(Date.UTC(2026, 0, 1) + i * 3_600_000).toISOString(),
    signup_date: `2026-02-${String((i % 28) + 1).padStart(2, "0")}`,
  }));
}

/** What Athena should see for a SaaS record: the declared types, as apache-arrow decodes them. */
function expectedRow(r: Record<string, unknown>): Record<string, unknown> {
  return {
    id: BigInt(r.id as number),
    name: r.name,
    note: r.note,
    tags: JSON.stringify(r.tags),
    version: r.version,
    score: r.score,
    active: r.active,
    created_at: Date.parse(r.created_at as string),
    signup_date: Date.parse(`${r.signup_date as string}T00:00:00Z`),
  };
}

function coldStart(): Handler {
  let mod: { handler: Handler } | undefined;
  jest.isolateModules(() => {
    mod = loadBundledHandler<{ handler: Handler }>("athena-connector");
  });
  return mod!.handler;
}

const base = (type: string, queryId = "q-1") => ({ "@type": type, identity, queryId, catalogName: CATALOG });

/** A one-value Arrow block as the SDK puts it in a constraint marker. */
function valueBlock(type: ColumnType, value: unknown) {
  const schema = schemaOf([{ name: "col1", type }]);
  return {
    aId: "test",
    schema: schemaMessage(schema).toString("base64"),
    records: recordBatchMessage(schema, [[value]]).toString("base64"),
  };
}

function range(
  type: ColumnType,
  low?: { value: unknown; inclusive: boolean },
  high?: { value: unknown; inclusive: boolean },
) {
  const unbounded = {
    valueBlock: {
      aId: "test",
      schema: schemaMessage(schemaOf([{ name: "col1", type }])).toString("base64"),
      records: "",
    },
    nullValue: true,
  };
  return {
    low: low
      ? { valueBlock: valueBlock(type, low.value), bound: low.inclusive ? "EXACTLY" : "ABOVE", nullValue: false }
      : { ...unbounded, bound: "ABOVE" },
    high: high
      ? { valueBlock: valueBlock(type, high.value), bound: high.inclusive ? "EXACTLY" : "BELOW", nullValue: false }
      : { ...unbounded, bound: "BELOW" },
  };
}

interface QueryResult {
  rows: Record<string, unknown>[];
  splits: number;
  responses: string[];
  spilledKeys: string[];
}

/** Athena's calls for `SELECT <columns> FROM saas.<table> WHERE <constraints>`. */
async function query(
  handler: Handler,
  table: string,
  opts: {
    columns?: string[];
    constraints?: Record<string, unknown>;
    maxInline?: string;
    maxBlock?: string;
    queryId?: string;
  } = {},
): Promise<QueryResult> {
  const queryId = opts.queryId ?? `q-${table}-${Date.now()}`;
  const ping = await handler({ ...base("PingRequest", queryId) });
  expect(ping).toEqual({
    "@type": "PingResponse",
    catalogName: CATALOG,
    queryId,
    sourceType: "vpc-lambda-kit-saas",
    capabilities: 23,
    serDeVersion: 4,
  });
  const schemas = await handler({ ...base("ListSchemasRequest", queryId) });
  expect(schemas.schemas).toEqual(["saas"]);

  const names: string[] = [];
  let nextToken: string | null = null;
  for (let i = 0; i < 10; i++) {
    const page: Record<string, any> = await handler({
      ...base("ListTablesRequest", queryId),
      schemaName: "saas",
      nextToken,
      pageSize: 2,
    });
    names.push(...page.tables.map((t: { tableName: string }) => t.tableName));
    nextToken = page.nextToken;
    if (nextToken === null) break;
  }
  expect(names).toEqual(["customers", "customers_all", "customers_by_cursor"]);

  const tableName = { schemaName: "saas", tableName: table };
  const got = await handler({ ...base("GetTableRequest", queryId), tableName });
  const full = decodeBlock({ schema: got.schema, records: "" }).schema;
  expect(full.fields.map((f) => f.name)).toEqual(COLUMNS.map((c) => c.name));
  const wanted = opts.columns ?? COLUMNS.map((c) => c.name);
  const projected = schemaMessage(schemaOf(wanted.map((n) => COLUMNS.find((c) => c.name === n)!))).toString("base64");
  const constraints = { summary: opts.constraints ?? {} };

  const layout = await handler({
    ...base("GetTableLayoutRequest", queryId),
    tableName,
    constraints,
    schema: got.schema,
    partitionColumns: [],
  });
  const splitsRes = await handler({
    ...base("GetSplitsRequest", queryId),
    tableName,
    partitions: layout.partitions,
    partitionColumns: [],
    constraints,
    continuationToken: null,
  });
  expect(splitsRes.continuationToken).toBeNull();

  const rows: Record<string, unknown>[] = [];
  const responses: string[] = [];
  const spilledKeys: string[] = [];
  for (const split of splitsRes.splits) {
    const res = await handler({
      ...base("ReadRecordsRequest", queryId),
      tableName,
      schema: projected,
      split,
      constraints,
      maxBlockSize: opts.maxBlock ?? "100000000000",
      maxInlineBlockSize: opts.maxInline ?? "100000000000",
    });
    responses.push(res["@type"]);
    if (res["@type"] === "ReadRecordsResponse") {
      rows.push(...decodeBlock(res.records).rows);
    } else {
      expect(Object.keys(res)).toEqual(["@type", "catalogName", "schema", "remoteBlocks", "encryptionKey"]);
      expect(res.encryptionKey).toEqual(split.encryptionKey);
      for (const block of res.remoteBlocks) {
        expect(block).toMatchObject({ "@type": "S3SpillLocation", bucket: SPILL_BUCKET, directory: false });
        expect(block.key.startsWith(`${split.spillLocation.key}.`)).toBe(true);
        spilledKeys.push(block.key);
        const obj = await s3.send(new GetObjectCommand({ Bucket: block.bucket, Key: block.key }));
        const sealed = Buffer.from(await obj.Body!.transformToByteArray());
        // Encrypted: the plain bytes are not an Arrow message until decrypted with the split's key.
        expect(() => decodeBatch(res.schema, sealed)).toThrow();
        rows.push(...decodeBatch(res.schema, decrypt(res.encryptionKey, sealed)));
      }
    }
  }
  return { rows, splits: splitsRes.splits.length, responses, spilledKeys };
}

const byId = (a: Record<string, unknown>, b: Record<string, unknown>) => Number(a.id) - Number(b.id);

beforeAll(async () => {
  secrets = new FakeSecretsManager();
  [moto, proxy] = await Promise.all([
    startMoto(),
    startSaasProxy({ headerValue: HEADER_VALUE, token: TOKEN, sandboxPrefix: "vlk-squid-athena-" }),
    secrets.start(),
  ]);
  saas = proxy.saas;
  s3 = new S3Client(moto.clientConfig());
  await s3.send(
    new CreateBucketCommand({
      Bucket: SPILL_BUCKET,
      CreateBucketConfiguration: { LocationConstraint: "ap-northeast-1" },
    }),
  );
});

afterAll(async () => {
  await Promise.all([proxy?.stop(), secrets?.stop(), moto?.stop()]);
  s3?.destroy();
  process.env = savedEnv;
});

beforeEach(() => {
  resetProxyClient(proxy, {
    records: records(250),
    secrets,
    s3Url: moto.url,
    base: savedEnv,
    own: { ATHENA_TABLES: JSON.stringify(tables()), SPILL_BUCKET, SPILL_PREFIX, S3_FORCE_PATH_STYLE: "true" },
  });
  logLines = captureJsonLogs();
});

afterEach(() => {
  jest.restoreAllMocks();
});

describe("athena-connector (bundled) through a real Squid", () => {
  test("a page-paginated table reads in 3 parallel splits, inline, and returns exactly the SaaS's rows", async () => {
    const r = await query(coldStart(), "customers");
    expect(r.splits).toBe(3);
    expect(r.responses).toEqual(["ReadRecordsResponse", "ReadRecordsResponse", "ReadRecordsResponse"]);
    expect(r.rows.sort(byId)).toEqual(saas.records.map(expectedRow));
    // 250 records at 40 a page: pages 1-7 hold data; each stripe stops at its first empty page (8, 9 or 10).
    const pages = saas.requests
      .map((q) => Number(new URL(q.url, saas.origin).searchParams.get("page")))
      .sort((a, b) => a - b);
    expect(pages).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    // The proxy header travelled only on the CONNECT; the SaaS saw the credential and never the proxy header.
    expect(saas.sawHeader(HEADER)).toBe(false);
    expect(saas.requests.every((q) => q.headers.authorization === `Bearer ${TOKEN}`)).toBe(true);
    expect(logLines.join("\n")).not.toContain(HEADER_VALUE);
    expect(logLines.join("\n")).not.toContain(TOKEN);
  });

  test("cursor and single-response tables read as one split each, with the same rows", async () => {
    const handler = coldStart();
    const cursor = await query(handler, "customers_by_cursor");
    expect(cursor.splits).toBe(1);
    expect(cursor.rows).toEqual(saas.records.map(expectedRow));
    const all = await query(handler, "customers_all");
    expect(all.splits).toBe(1);
    expect(all.rows).toEqual(saas.records.map(expectedRow));
  });

  test("a projection returns only the requested columns, in Athena's order", async () => {
    const r = await query(coldStart(), "customers_all", { columns: ["name", "id"] });
    expect(r.rows).toEqual(saas.records.map((x) => ({ name: x.name, id: BigInt(x.id as number) })));
  });

  test("range and equality constraints are pushed down as the declared query parameters and enforced by the connector", async () => {
    const constraints = {
      id: {
        "@type": "SortedRangeSet",
        type: { "@type": "Int", bitWidth: 64, isSigned: true },
        ranges: [range("bigint", { value: 10n, inclusive: false }, { value: 120n, inclusive: true })],
        nullAllowed: false,
      },
      version: { "@type": "EquatableValueSet", valueBlock: valueBlock("int", 2), whiteList: true, nullAllowed: false },
      active: {
        "@type": "EquatableValueSet",
        valueBlock: valueBlock("boolean", true),
        whiteList: false,
        nullAllowed: false,
      },
    };
    const r = await query(coldStart(), "customers", { constraints });
    const want = saas.records
      .filter((x) => (x.id as number) > 10 && (x.id as number) <= 120 && x.version === 2 && x.active !== true)
      .map(expectedRow);
    expect(want.length).toBeGreaterThan(0);
    expect(r.rows.sort(byId)).toEqual(want);
    // The fake SaaS ignores unknown parameters, so the connector's own filter is what made the rows exact;
    // the parameters prove the pushdown reached the SaaS (the range widened to inclusive bounds).
    for (const q of saas.requests) {
      const p = new URL(q.url, saas.origin).searchParams;
      expect([p.get("id_min"), p.get("id_max"), p.get("version")]).toEqual(["10", "120", "2"]);
    }
  });

  test("a timestamp range on a column without a filter is evaluated in the connector only", async () => {
    const lo = Date.UTC(2026, 0, 2);
    const hi = Date.UTC(2026, 0, 3);
    const constraints = {
      created_at: {
        "@type": "SortedRangeSet",
        type: { "@type": "Date", unit: "MILLISECOND" },
        ranges: [
          range("timestamp", { value: new Date(lo), inclusive: true }, { value: new Date(hi), inclusive: false }),
        ],
        nullAllowed: false,
      },
    };
    const r = await query(coldStart(), "customers_all", { constraints });
    expect(r.rows).toEqual(
      saas.records
        .filter((x) => Date.parse(x.created_at as string) >= lo && Date.parse(x.created_at as string) < hi)
        .map(expectedRow),
    );
    expect(r.rows).toHaveLength(24);
    expect(saas.requests.map((q) => new URL(q.url, saas.origin).search)).toEqual([""]);
  });

  test("a large table spills: encrypted blocks in the spill bucket, RemoteReadRecordsResponse, and still exactly the SaaS's rows", async () => {
    saas.records = records(3000, 200);
    saas.pageSize = 500;
    const r = await query(coldStart(), "customers", { maxInline: "65536", maxBlock: "100000", queryId: "q-spill" });
    expect(r.responses).toEqual([
      "RemoteReadRecordsResponse",
      "RemoteReadRecordsResponse",
      "RemoteReadRecordsResponse",
    ]);
    expect(r.rows.sort(byId)).toEqual(saas.records.map(expectedRow));
    expect(r.spilledKeys.length).toBeGreaterThan(3);
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: SPILL_BUCKET, Prefix: `${SPILL_PREFIX}q-spill/` }));
    expect((listed.Contents ?? []).map((o) => o.Key).sort()).toEqual([...r.spilledKeys].sort());
    // Block keys follow the SDK's <split key>.<n> numbering from 0.
    for (const k of r.spilledKeys) expect(k).toMatch(/^spill\/q-spill\/[0-9a-f-]{36}\.\d+$/);
  });

  test("a wrong proxy header gets Squid's 403 and an error naming the header; nothing reaches the SaaS", async () => {
    secrets.setSecret(PROXY_SECRET, "not-the-right-value");
    const err = await query(coldStart(), "customers_all").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).name).toBe("AthenaConnectorError");
    expect((err as { kind?: string }).kind).toBe("proxy-refused");
    expect((err as Error).message).toMatch(
      /^table customers_all \(https:\/\/api\.example\.com:\d+\/v1\/all\): the proxy refused the request: the header secret or domain whitelist is wrong/,
    );
    expect((err as Error).message).toContain(`PROXY_HEADER_NAME ("${HEADER}")`);
    expect((err as Error).message).toContain(`The connector sends ${HEADER} on the CONNECT`);
    expect((err as Error).message).not.toContain("not-the-right-value");
    expect(saas.requests).toHaveLength(0);
  });

  test("an unreachable proxy gives an error naming the missing flow", async () => {
    process.env.PROXY_URL = `http://127.0.0.1:${await freePort()}`;
    process.env.RETRY_MAX_ATTEMPTS = "1";
    const err = await query(coldStart(), "customers_all").catch((e: unknown) => e);
    expect((err as { kind?: string }).kind).toBe("proxy-unreachable");
    expect((err as Error).message).toMatch(
      /could not connect to the proxy at PROXY_URL=http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED/,
    );
    expect((err as Error).message).toMatch(/Missing flow: athena-connector → proxy tier load balancer, TCP \d+/);
  });

  test("a value that does not fit its declared column is an error naming table and column", async () => {
    saas.records = [{ ...records(1)[0], version: "two" }];
    const err = await query(coldStart(), "customers_all").catch((e: unknown) => e);
    expect((err as Error).message).toBe(
      'table customers_all, column version (int, at version): the SaaS sent "two" is not a 32-bit integer (use type bigint or double); fix the column\'s type in athenaConnector.tables.',
    );
  });

  test("bad configuration fails every request with one error naming each variable", async () => {
    process.env.ATHENA_TABLES = JSON.stringify([{ name: "Customers", url: "http://x", columns: [] }]);
    delete process.env.SPILL_BUCKET;
    await expect(coldStart()({ ...base("PingRequest") })).rejects.toThrow(
      /^athena-connector is misconfigured: SPILL_BUCKET is not set/,
    );
    process.env.SPILL_BUCKET = SPILL_BUCKET;
    const err = await coldStart()({ ...base("PingRequest") }).catch((e: unknown) => e as Error);
    expect(err.message).toMatch(/ATHENA_TABLES\[0\]\.name: "Customers" is not a name Athena can query/);
    expect(err.message).toMatch(/ATHENA_TABLES\[0\]\.url: must be an https:\/\/ URL/);
    expect(err.message).toMatch(/ATHENA_TABLES\[0\]\.columns: is empty/);
  });
});

testBundleConnectionsDeclared("athena-connector", connections, [
  "aws secretsmanager:GetSecretValue",
  "connect AWS_ENDPOINT_URL_SECRETS_MANAGER",
  "connect PROXY_URL",
  "tunnel ATHENA_TABLES",
]);
