/**
 * kintone-sync, exercised as deployed: the esbuild bundle (`loadBundledHandler`) against a fake kintone domain, moto's
 * DynamoDB (the saved position, with DynamoDB's conditional-write semantics) and a fake Secrets Manager on 127.0.0.1.
 * The fakes enforce kintone's limits and count every request, so the tests prove the API budget is spent as designed.
 * Secrets Manager stays a fake here because the tests count GetSecretValue calls per cold start, which moto does not
 * expose; the secret-read errors themselves are proven against moto in secrets-moto.test.ts.
 * Pure unit tests of the transform rules run on the sources at the end.
 */
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { REPO_ROOT } from "../../components/bundle";
import { loadBundledHandler } from "../support/bundled";
import { DEFAULT_TRANSFORM_MODULE, kintoneSyncBundleOptions } from "../../functions/kintone-sync/bundle-options";
import {
  normalizeDate,
  normalizePhone,
  parseOptions,
  transform,
  fields as transformFields,
} from "../../functions/kintone-sync/transform";
import type { KintoneRecord, SyncSummary } from "../../functions/kintone-sync/types";
import { loadConfig } from "../../functions/kintone-sync/config";
import { stringify } from "../../functions/kintone-sync/stand-ins/query-string";
import FormDataStandIn from "../../functions/kintone-sync/stand-ins/form-data";
import { FakeKintone, LIMITS } from "../fakes/kintone-server";
import { FakeSecretsManager } from "../fakes/secrets-manager";
import { captureJsonLogs } from "../support/log-capture";
import { MotoServer, createPositionTable, startMoto } from "../support/moto";
import { recordBundleConnections, testBundleConnectionsDeclared } from "../support/handler-connections";
import { DeleteTableCommand, DynamoDBClient, GetItemCommand } from "@aws-sdk/client-dynamodb";

type Handler = (
  event?: unknown,
  context?: { awsRequestId?: string; getRemainingTimeInMillis?(): number },
) => Promise<SyncSummary>;

const APP = 7;
const TOKEN = "T0kenOfApp7ForTestsOnlyNotARealOne12345";
const SECRET = "kintone/dev/api-token";
const HINT = 'stack output "egressIps" of stack dev';
const RULES = {
  rules: [
    { op: "collapseWhitespace", fields: ["name"] },
    { op: "upperCase", fields: ["code"] },
    { op: "zeroPad", fields: ["customerNo"], length: 6 },
  ],
};
const FIXTURES = path.join(REPO_ROOT, "out", "test-fixtures", "kintone-sync");
const FIELDS = {
  name: "SINGLE_LINE_TEXT",
  code: "SINGLE_LINE_TEXT",
  customerNo: "SINGLE_LINE_TEXT",
  memo: "MULTI_LINE_TEXT",
  recordNo: "RECORD_NUMBER",
};

const connections = recordBundleConnections();
let kintone: FakeKintone;
let secrets: FakeSecretsManager;
let moto: MotoServer;
let ddb: DynamoDBClient;
const TABLE = "kintone-sync-position";
const savedEnv = { ...process.env };
let logLines: string[] = [];

/** A fresh Lambda container: the bundle is loaded in its own module registry, so module state starts empty. */
function coldStart(transformModule?: string): Handler {
  let mod: { handler: Handler } | undefined;
  jest.isolateModules(() => {
    mod = loadBundledHandler<{ handler: Handler }>("kintone-sync", kintoneSyncBundleOptions(transformModule));
  });
  return mod!.handler;
}

/** Row i is "dirty" (needs the transform) when i % 10 < dirtyTenths. */
function rows(n: number, dirtyTenths = 3): Record<string, unknown>[] {
  return Array.from({ length: n }, (_, i) =>
    i % 10 < dirtyTenths
      ? { name: `  Customer\u3000 ${i} `, code: `c${i}x`, customerNo: String(i % 1000), memo: "keep  me " }
      : { name: `Customer ${i}`, code: `C${i}X`, customerNo: String(i % 1000).padStart(6, "0"), memo: "keep  me " },
  );
}

function clean(i: number): Record<string, unknown> {
  return { name: `Customer ${i}`, code: `C${i}X`, customerNo: String(i % 1000).padStart(6, "0"), memo: "keep  me " };
}

function expectAllClean(ids: number[]): void {
  const all = kintone.allRecords(APP);
  expect(all.length).toBe(ids.length);
  all.forEach((r, i) => {
    expect(r.id).toBe(ids[i]);
    expect(r.values).toEqual(clean(i));
  });
}

/** Writes a transform module under FIXTURES from its source lines (type `Rec` is a kintone record); returns its path. */
function transformFile(name: string, ...lines: string[]): string {
  const file = path.join(FIXTURES, name);
  fs.writeFileSync(file, ["type Rec = Record<string, { value: unknown }>;", ...lines, ""].join("\n"));
  return file;
}

const dirtyIds = (ids: number[], dirtyTenths = 3) => ids.filter((_, i) => i % 10 < dirtyTenths);
const minimumCalls = (records: number, changed: number) =>
  Math.ceil(records / LIMITS.getRecords) + Math.ceil(changed / 2000);
const sorted = (xs: Iterable<number>) => [...xs].sort((a, b) => a - b);
const sha16 = (text: string) => createHash("sha256").update(text).digest("hex").slice(0, 16);

beforeAll(async () => {
  secrets = new FakeSecretsManager();
  [moto] = await Promise.all([startMoto(), secrets.start()]);
  ddb = new DynamoDBClient(moto.clientConfig());
  fs.mkdirSync(FIXTURES, { recursive: true });
});

afterAll(async () => {
  ddb?.destroy();
  await Promise.all([secrets?.stop(), moto?.stop()]);
  process.env = savedEnv;
});

beforeEach(async () => {
  await moto.reset();
  await createPositionTable(moto, TABLE);
  kintone = new FakeKintone({ tokens: { [TOKEN]: { app: APP, view: true, edit: true } } });
  await kintone.start();
  kintone.addApp({ id: APP, fields: FIELDS });
  secrets.setSecret(SECRET, TOKEN);
  secrets.resetCalls();
  process.env = {
    ...savedEnv,
    KINTONE_BASE_URL: kintone.url,
    KINTONE_APP_ID: String(APP),
    KINTONE_TOKEN_SECRET_ID: SECRET,
    KINTONE_ALLOWLIST_HINT: HINT,
    KINTONE_TRANSFORM_OPTIONS: JSON.stringify(RULES),
    KINTONE_RETRY_BASE_MS: "1",
    KINTONE_RETRY_MAX_MS: "5",
    AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.url,
    AWS_ENDPOINT_URL_DYNAMODB: moto.url,
    KINTONE_CHECKPOINT_TABLE: TABLE,
    AWS_REGION: "ap-northeast-1",
    AWS_ACCESS_KEY_ID: "AKIAFAKEFAKEFAKEFAKE",
    AWS_SECRET_ACCESS_KEY: "fake-secret-key",
    AWS_EC2_METADATA_DISABLED: "true",
  };
  delete process.env.AWS_PROFILE;
  delete process.env.KINTONE_QUERY;
  // The handler logs JSON lines to stdout: keep them for assertions instead of printing them.
  logLines = captureJsonLogs();
});

afterEach(async () => {
  jest.restoreAllMocks();
  await kintone.stop();
});

describe("kintone-sync handler (bundled)", () => {
  test("syncs 12,000 records reading by $id, never past kintone's limits, writing only the changed ones in the fewest calls", async () => {
    const ids = kintone.seed(APP, rows(12_000));
    const changed = dirtyIds(ids);

    const summary = await coldStart()({});

    expect(summary).toMatchObject({
      read: 12_000,
      changed: changed.length,
      written: changed.length,
      conflicts: 0,
      unstable: 0,
      complete: true,
    });
    expect(sorted(kintone.writesById.keys())).toEqual(changed);
    expect(Math.max(...kintone.writesById.values())).toBe(1);
    expectAllClean(ids);

    expect(kintone.violations).toEqual([]);
    expect(kintone.max.limit).toBe(LIMITS.getRecords);
    expect(kintone.max.offset).toBe(0);
    expect(kintone.max.putRecords).toBeLessThanOrEqual(LIMITS.putRecords);
    expect(kintone.max.bulkRequests).toBeLessThanOrEqual(LIMITS.bulkRequests);
    expect(kintone.max.liveCursors).toBe(0);
    const reads = kintone.log.filter((e) => e.method === "GET");
    expect(
      reads.every(
        (e) => /\$id > \d+ order by \$id asc limit 500$/.test(e.query ?? "") && !/offset/i.test(e.query ?? ""),
      ),
    ).toBe(true);
    // Only the fields the rules use, plus $id and $revision: memo is never fetched.
    expect(
      reads.every(
        (e) => [...(e.fields ?? [])].sort().join() === ["$id", "$revision", "code", "customerNo", "name"].sort().join(),
      ),
    ).toBe(true);

    const minimum = minimumCalls(12_000, changed.length);
    expect(summary.apiCalls).toBe(minimum);
    expect(kintone.totalRequests).toBe(minimum);
    expect(summary.apiCallsByKind).toEqual({ read: 24, write: Math.ceil(changed.length / 2000), recheck: 0 });
  });

  test("a second run changes nothing and writes nothing", async () => {
    const ids = kintone.seed(APP, rows(2_600));
    const handler = coldStart();
    const first = await handler({});
    expect(first.written).toBe(dirtyIds(ids).length);
    kintone.resetStats();

    const second = await handler({});

    expect(second).toMatchObject({ read: 2_600, changed: 0, written: 0, conflicts: 0 });
    expect(kintone.counts["POST /k/v1/bulkRequest.json"] ?? 0).toBe(0);
    expect(kintone.counts["PUT /k/v1/records.json"] ?? 0).toBe(0);
    expect(kintone.writesById.size).toBe(0);
    expect(second.apiCalls).toBe(Math.ceil(2_600 / 500));
    expectAllClean(ids);
  });

  test("a person's edit between read and write survives, is reported as a conflict, and the next run picks the record up", async () => {
    const ids = kintone.seed(APP, rows(300, 10));
    const victim = ids[42];
    let edited = false;
    kintone.beforeWrite = () => {
      if (edited) return;
      edited = true;
      kintone.editRecord(APP, victim, { name: "Edited By A Person" });
    };
    const handler = coldStart();

    const first = await handler({});

    expect(first).toMatchObject({ read: 300, changed: 300, written: 299, conflicts: 1, conflictIds: [String(victim)] });
    expect(first.apiCallsByKind.recheck).toBe(1);
    expect(kintone.record(APP, victim).values).toMatchObject({ name: "Edited By A Person", code: "c42x" });
    expect(kintone.writesById.has(victim)).toBe(false);
    expect(kintone.writesById.size).toBe(299);

    kintone.resetStats();
    const second = await handler({});

    expect(second).toMatchObject({ changed: 1, written: 1, conflicts: 0, conflictIds: [] });
    expect([...kintone.writesById.keys()]).toEqual([victim]);
    expect(kintone.record(APP, victim).values).toMatchObject({
      name: "Edited By A Person",
      code: "C42X",
      customerNo: "000042",
    });
  });

  test("429, 5xx and dropped connections are retried with backoff and the run completes", async () => {
    const ids = kintone.seed(APP, rows(1_200));
    kintone.injectFault({ status: 503, count: 2, match: (r) => r.method === "GET" });
    kintone.injectFault({ reset: true, count: 1, skip: 1, match: (r) => r.method === "GET" });
    kintone.injectFault({
      status: 429,
      count: 1,
      retryAfterSeconds: 0,
      match: (r) => r.path.endsWith("bulkRequest.json"),
    });
    kintone.injectFault({ status: 500, count: 1, body: "html", match: (r) => r.path.endsWith("bulkRequest.json") });

    const summary = await coldStart()({});

    expect(summary).toMatchObject({
      read: 1_200,
      written: dirtyIds(ids).length,
      conflicts: 0,
      retries: 5,
      complete: true,
    });
    expect(summary.apiCalls).toBe(minimumCalls(1_200, dirtyIds(ids).length) + 5);
    expect(kintone.totalRequests).toBe(summary.apiCalls);
    expectAllClean(ids);
    expect(logLines.filter((l) => JSON.parse(l).msg === "kintone request failed; retrying")).toHaveLength(5);
  });

  test("a write whose response was lost is recognised on retry, not reported as a conflict", async () => {
    const ids = kintone.seed(APP, rows(1_000));
    kintone.injectFault({ status: 503, count: 1, afterApply: true, match: (r) => r.path.endsWith("bulkRequest.json") });

    const summary = await coldStart()({});

    expect(summary).toMatchObject({ written: dirtyIds(ids).length, conflicts: 0, vanished: 0 });
    expect(Math.max(...kintone.writesById.values())).toBe(1);
    expectAllClean(ids);
  });

  test("a value kintone refuses is reported and left alone without blocking the rest of its batch", async () => {
    kintone.addApp({
      id: APP,
      fields: FIELDS,
      validate: (code, v) =>
        code === "name" && /^Customer (13|250)$/.test(String(v)) ? "Enter a name that is not reserved." : undefined,
    });
    const ids = kintone.seed(APP, rows(300, 10));
    const handler = coldStart();

    const first = await handler({});

    expect(first).toMatchObject({
      changed: 300,
      written: 298,
      rejected: 2,
      rejectedIds: [String(ids[13]), String(ids[250])],
      conflicts: 0,
    });
    expect(first.apiCallsByKind).toEqual({ read: 1, write: 3, recheck: 0 });
    expect(kintone.record(APP, ids[13]).values.name).toBe("  Customer\u3000 13 ");
    expect(kintone.writesById.size).toBe(298);
    const warning = logLines
      .map((l) => JSON.parse(l))
      .find((e) => e.msg === "kintone refused the new values of some records; they were left unchanged");
    expect(warning.rejected[0]).toEqual({
      id: String(ids[13]),
      problems: ["record.name.value: Enter a name that is not reserved."],
    });

    const second = await handler({});
    expect(second).toMatchObject({ changed: 2, written: 0, rejected: 2 });
  });

  test("a failure midway leaves no cursor or partial state behind, and a rerun completes with the right data", async () => {
    const ids = kintone.seed(APP, rows(5_000, 6));
    process.env.KINTONE_RETRY_MAX_ATTEMPTS = "3";
    // 7 pages, then the first 2,000-record write, then kintone goes down from the 10th request on.
    kintone.injectFault({ status: 503, count: Infinity, skip: 9 });
    const handler = coldStart();

    await expect(handler({})).rejects.toThrow(
      /could not read records in app 7: 503 GAIA_UN01: .*gave up after 3 attempts/,
    );
    expect(kintone.liveCursors).toBe(0);
    expect(kintone.max.liveCursors).toBe(0);
    expect(kintone.writesById.size).toBe(2_000);

    kintone.clearFaults();
    const rerun = await handler({});

    // The rerun resumes after the last settled record (everything before the first unwritten change), not at $id 0.
    const settled = ids.indexOf(rerun.startedAfterId) + 1;
    expect(rerun.startedAfterId).toBeGreaterThan(0);
    expect(rerun).toMatchObject({
      read: 5_000 - settled,
      changed: 1_000,
      written: 1_000,
      conflicts: 0,
      complete: true,
    });
    expect(kintone.writesById.size).toBe(3_000);
    expect(Math.max(...kintone.writesById.values())).toBe(1);
    expectAllClean(ids);
    expect(kintone.violations).toEqual([]);
  });

  test("near the Lambda timeout a run stops reading, writes what it has, and the next run finishes", async () => {
    const ids = kintone.seed(APP, rows(1_500));
    process.env.KINTONE_DEADLINE_MARGIN_MS = "10000";
    let calls = 0;
    const context = { awsRequestId: "req-1", getRemainingTimeInMillis: () => (++calls === 1 ? 60_000 : 5_000) };
    const handler = coldStart();

    const first = await handler({}, context);

    expect(first).toMatchObject({ complete: false, read: 500, pages: 1, written: dirtyIds(ids.slice(0, 500)).length });
    const second = await handler({});
    expect(second).toMatchObject({
      complete: true,
      startedAfterId: ids[499],
      read: 1_000,
      written: dirtyIds(ids).length - first.written,
    });
    expectAllClean(ids);
  });

  test("four runs cut short by their time budget cover every record exactly once, then the next pass starts over", async () => {
    const ids = kintone.seed(APP, rows(2_000));
    process.env.KINTONE_DEADLINE_MARGIN_MS = "10000";
    const handler = coldStart();
    const readIds: number[] = [];
    const runs: SyncSummary[] = [];
    for (let run = 0; run < 4; run++) {
      let asked = 0;
      const before = kintone.log.length;
      // Each run has time for one page only.
      runs.push(
        await handler(
          {},
          { awsRequestId: `run-${run}`, getRemainingTimeInMillis: () => (++asked === 1 ? 60_000 : 5_000) },
        ),
      );
      for (const e of kintone.log.slice(before)) {
        if (e.method !== "GET") continue;
        const after = Number(/\$id > (\d+)/.exec(e.query ?? "")?.[1]);
        readIds.push(...ids.filter((id) => id > after).slice(0, LIMITS.getRecords));
      }
    }
    expect(runs.map((r) => [r.startedAfterId, r.read, r.complete])).toEqual([
      [0, 500, false],
      [ids[499], 500, false],
      [ids[999], 500, false],
      [ids[1499], 500, true],
    ]);
    expect(readIds).toEqual(ids);
    expect(sorted(kintone.writesById.keys())).toEqual(dirtyIds(ids));
    expect(Math.max(...kintone.writesById.values())).toBe(1);
    expectAllClean(ids);

    const item = (
      await ddb.send(
        new GetItemCommand({
          TableName: TABLE,
          Key: { id: { S: `${new URL(kintone.url).host}/app/${APP}/query/${sha16("")}` } },
        }),
      )
    ).Item;
    expect(item).toMatchObject({ afterId: { N: "0" }, cycles: { N: "1" } });
    const fifth = await handler({});
    expect(fifth).toMatchObject({ startedAfterId: 0, read: 2_000, written: 0, complete: true });
  });

  test("a run whose position another run saved first does not move it back (conditional write, sources)", async () => {
    process.env.AWS_ENDPOINT_URL_DYNAMODB = moto.url;
    const { DynamoCheckpoint } = await import("../../functions/kintone-sync/checkpoint");
    const slow = new DynamoCheckpoint(TABLE, "example.cybozu.com/app/7/query/x");
    const fast = new DynamoCheckpoint(TABLE, "example.cybozu.com/app/7/query/x");
    const seenBySlow = await slow.load();
    expect(seenBySlow).toEqual({ afterId: 0, version: 0, cycles: 0 });
    const seenByFast = await fast.load();
    const fastSaved = await fast.save(1_000, seenByFast, false);
    expect(fastSaved).toEqual({ afterId: 1_000, version: 1, cycles: 0 });
    // The slow run finished an earlier page and tries to save a position behind the fast one's.
    expect(await slow.save(500, seenBySlow, false)).toBe("superseded");
    expect(await slow.load()).toEqual({ afterId: 1_000, version: 1, cycles: 0 });
    expect(await fast.save(0, fastSaved as never, true)).toEqual({ afterId: 0, version: 2, cycles: 1 });
  });

  test("a missing position table fails before kintone is read, naming the table and how to create it", async () => {
    kintone.seed(APP, rows(10));
    await ddb.send(new DeleteTableCommand({ TableName: TABLE }));
    await expect(coldStart()({})).rejects.toThrow(
      /DynamoDB table "kintone-sync-position" \(KINTONE_CHECKPOINT_TABLE\) was not found .*partition key "id"/,
    );
    expect(kintone.log.filter((e) => e.method === "GET")).toHaveLength(0);
  });

  test("a wrong API token fails with an error naming the secret to fix, and a fixed secret is used without a cold start", async () => {
    kintone.seed(APP, rows(10));
    secrets.setSecret(SECRET, "WrongTokenValue0000000000000000000000000");
    const handler = coldStart();

    const err = await handler({}).catch((e: Error) => e);

    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(
      /kintone rejected the API token read from Secrets Manager secret "kintone\/dev\/api-token" \(520 GAIA_IA02/,
    );
    expect((err as Error).message).not.toContain("WrongTokenValue");
    expect(JSON.stringify(err)).not.toContain("WrongTokenValue");
    expect(kintone.totalRequests).toBe(1); // not retried

    secrets.setSecret(SECRET, TOKEN);
    await expect(handler({})).resolves.toMatchObject({ read: 10, complete: true });
    expect(secrets.callsFor(SECRET)).toBe(2);
  });

  test("a token without edit permission fails naming the secret and the permission to grant", async () => {
    kintone.tokens[TOKEN] = { app: APP, view: true, edit: false };
    kintone.seed(APP, rows(10));

    await expect(coldStart()({})).rejects.toThrow(
      /secret "kintone\/dev\/api-token" may not update records in app 7 \(403 GAIA_NO01.*"Edit records"/,
    );
  });

  test("a request from a non-allowlisted address fails with an error naming where the egress IPs are published", async () => {
    kintone.seed(APP, rows(10));
    kintone.allowlist = ["127.0.0.2"]; // the function comes from 127.0.0.1
    const handler = coldStart();

    await expect(handler({})).rejects.toThrow(
      /rejected the request with HTTP 403 .*came from a source address that is not on the domain's IP allowlist.*Allowlist this function's egress addresses: stack output "egressIps" of stack dev/,
    );
    expect(kintone.totalRequests).toBe(1);

    kintone.ipRejection = "basic-401";
    await expect(handler({})).rejects.toThrow(
      /HTTP 401 .*not on the domain's IP allowlist.*stack output "egressIps" of stack dev/,
    );

    kintone.allowlist = ["127.0.0.1"];
    await expect(handler({})).resolves.toMatchObject({ read: 10, complete: true });
  });

  test("the token is read from Secrets Manager once per cold start, and a failed read is not cached", async () => {
    kintone.seed(APP, rows(10));
    const warm = coldStart();
    await warm({});
    await warm({});
    expect(secrets.callsFor(SECRET)).toBe(1);
    await coldStart()({});
    expect(secrets.callsFor(SECRET)).toBe(2);

    secrets.resetCalls();
    secrets.deleteSecret(SECRET);
    const handler = coldStart();
    await expect(handler({})).rejects.toThrow(
      /Secrets Manager secret "kintone\/dev\/api-token" was not found .*KINTONE_TOKEN_SECRET_ID/,
    );
    secrets.setSecret(SECRET, TOKEN);
    await expect(handler({})).resolves.toMatchObject({ read: 10 });
    await expect(handler({})).resolves.toMatchObject({ read: 10 });
    expect(secrets.callsFor(SECRET)).toBe(2);
  });

  test.each<[string, Record<string, string | undefined>, RegExp]>([
    ["a missing app ID", { KINTONE_APP_ID: undefined }, /KINTONE_APP_ID is not set/],
    [
      "a non-numeric app ID",
      { KINTONE_APP_ID: "customers" },
      /KINTONE_APP_ID must be the app's numeric ID .*got "customers"/,
    ],
    [
      "an order by in the query",
      { KINTONE_QUERY: 'status in ("open") order by $id desc' },
      /KINTONE_QUERY must be a record condition only, without "order by"/,
    ],
    [
      "a limit in the query",
      { KINTONE_QUERY: "limit 10" },
      /KINTONE_QUERY must be a record condition only, without "limit"/,
    ],
    [
      "a plain-http kintone URL",
      { KINTONE_BASE_URL: "http://example.cybozu.com" },
      /KINTONE_BASE_URL must be your kintone domain/,
    ],
    [
      "a URL with a path",
      { KINTONE_BASE_URL: "https://example.cybozu.com/k/7/" },
      /KINTONE_BASE_URL must be the domain only/,
    ],
    ["a missing secret id", { KINTONE_TOKEN_SECRET_ID: undefined }, /KINTONE_TOKEN_SECRET_ID is not set/],
    ["a missing allowlist hint", { KINTONE_ALLOWLIST_HINT: " " }, /KINTONE_ALLOWLIST_HINT is empty/],
    [
      "no position table",
      { KINTONE_CHECKPOINT_TABLE: undefined },
      /KINTONE_CHECKPOINT_TABLE is not set.*DynamoDB table/,
    ],
    [
      "a position table that is an ARN",
      { KINTONE_CHECKPOINT_TABLE: "arn:aws:dynamodb:ap-northeast-1:123456789012:table/x" },
      /KINTONE_CHECKPOINT_TABLE must be a DynamoDB table name/,
    ],
    [
      "transform options that are not JSON",
      { KINTONE_TRANSFORM_OPTIONS: "{rules: [" },
      /KINTONE_TRANSFORM_OPTIONS is not valid JSON/,
    ],
    [
      "an unknown transform rule",
      { KINTONE_TRANSFORM_OPTIONS: '{"rules":[{"op":"shout","fields":["name"]}]}' },
      /KINTONE_TRANSFORM_OPTIONS is not valid for the transform: rules\.0\.op: unknown op/,
    ],
    [
      "no transform options for the default transform",
      { KINTONE_TRANSFORM_OPTIONS: undefined },
      /KINTONE_TRANSFORM_OPTIONS .*needs rules/,
    ],
    [
      "a bad retry setting",
      { KINTONE_RETRY_MAX_ATTEMPTS: "0" },
      /KINTONE_RETRY_MAX_ATTEMPTS must be an integer from 1 to 10/,
    ],
  ])("a misconfiguration (%s) fails before any request, naming the variable", async (_name, env, message) => {
    for (const [k, v] of Object.entries(env)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    await expect(coldStart()({})).rejects.toThrow(message);
    expect(kintone.totalRequests).toBe(0);
    expect(secrets.totalCalls).toBe(0);
  });

  test("logs are one JSON object per line, end with a run summary, and never contain the token", async () => {
    kintone.seed(APP, rows(700));
    kintone.injectFault({ status: 502, count: 1 });
    process.env.LOG_LEVEL = "debug";
    await coldStart()({}, { awsRequestId: "req-42" });
    secrets.setSecret(SECRET, "AnotherWrongToken000000000000000000000000");
    await coldStart()({}).catch(() => undefined);

    const entries = logLines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(entries.length).toBeGreaterThan(3);
    for (const e of entries) {
      expect(typeof e.time).toBe("string");
      expect(["debug", "info", "warn", "error"]).toContain(e.level);
      expect(typeof e.msg).toBe("string");
    }
    const summary = entries.find((e) => e.msg === "kintone sync finished");
    expect(summary).toMatchObject({
      level: "info",
      requestId: "req-42",
      read: 700,
      changed: 210,
      written: 210,
      conflicts: 0,
      apiCalls: 4,
    });
    expect(typeof summary!.durationMs).toBe("number");
    expect(entries.some((e) => e.msg === "kintone sync failed" && e.kind === "token")).toBe(true);
    expect(entries.some((e) => e.level === "debug")).toBe(true);
    expect(logLines.join("\n")).not.toContain(TOKEN);
    expect(logLines.join("\n")).not.toContain("AnotherWrongToken");
  });

  test("a custom transform bound with kintoneSyncBundleOptions(file) replaces the default one", async () => {
    const file = transformFile(
      "shout.ts",
      'export function fields(): string[] { return ["name"]; }',
      "export function transform(record: Rec) { return { name: { value: String(record.name.value).toUpperCase() } }; }",
    );
    delete process.env.KINTONE_TRANSFORM_OPTIONS;
    const ids = kintone.seed(APP, rows(20));

    const summary = await coldStart(file)({});

    expect(summary).toMatchObject({ read: 20, changed: 20, written: 20 });
    expect(kintone.record(APP, ids[3]).values.name).toBe("CUSTOMER 3");
    expect(kintone.log.find((e) => e.method === "GET")?.fields?.sort()).toEqual(["$id", "$revision", "name"]);
  });

  test("a transform that is not idempotent is refused record by record instead of rewriting them on every run", async () => {
    const file = transformFile(
      "append.ts",
      "export function transform(record: Rec) {",
      "  const id = Number(record.$id.value);",
      '  return id % 2 === 0 ? { memo: { value: String(record.memo.value) + "!" } } : { memo: { value: "fixed" } };',
      "}",
    );
    const ids = kintone.seed(APP, rows(10));

    const summary = await coldStart(file)({});

    expect(summary).toMatchObject({
      changed: 5,
      written: 5,
      unstable: 5,
      unstableIds: ids.filter((id) => id % 2 === 0).map(String),
    });
    expect(
      logLines.some((l) => JSON.parse(l).msg === "transform is not idempotent for some records; they were not written"),
    ).toBe(true);
  });

  test("a transform writing a field kintone owns fails with a clear error and writes nothing", async () => {
    const file = transformFile(
      "record-number.ts",
      'export function transform() { return { recordNo: { value: "X-1" } }; }',
    );
    kintone.seed(APP, rows(5));

    await expect(coldStart(file)({})).rejects.toThrow(
      /transform wrote field "recordNo" \(RECORD_NUMBER\), which kintone does not let API clients set/,
    );
    expect(kintone.writesById.size).toBe(0);
  });
});

describe("kintoneSyncBundleOptions", () => {
  test("binds the shipped transform by default and a given file otherwise", () => {
    expect(kintoneSyncBundleOptions().alias?.["kintone-sync-transform"]).toBe(DEFAULT_TRANSFORM_MODULE);
    expect(fs.existsSync(DEFAULT_TRANSFORM_MODULE)).toBe(true);
    expect(kintoneSyncBundleOptions("./functions/kintone-sync/transform.ts").alias?.["kintone-sync-transform"]).toBe(
      DEFAULT_TRANSFORM_MODULE,
    );
    // The client's axios, qs and form-data are replaced by the kit's stand-ins (see test/infra/bundle-modes.test.ts).
    const alias = kintoneSyncBundleOptions().alias!;
    for (const pkg of ["axios", "qs", "form-data"]) expect(fs.existsSync(alias[pkg])).toBe(true);
  });

  test("the query-string stand-in writes what qs writes for the client's GET parameters", () => {
    const samples: Record<string, unknown>[] = [
      { app: 7, query: 'name like "a b" and $id > 10 order by $id asc limit 500', totalCount: true },
      { app: "7", fields: ["$id", "$revision", "名前", "a&b=c", "x[0]"], totalCount: false },
      { app: 7, fields: [], query: "!'()*~-._ %+/?#", skipped: undefined, empty: null },
      { app: 7, nested: { ids: [1, 2], when: new Date(Date.UTC(2024, 0, 5)) }, emoji: "😀" },
    ];
    // qs comes with @kintone/rest-api-client; the bundle no longer contains it.
    const qsDir = path.dirname(require.resolve("@kintone/rest-api-client/package.json"));
    const qs = require(require.resolve("qs", { paths: [qsDir] })) as { stringify(p: unknown): string };
    for (const params of samples) expect(stringify(params)).toBe(qs.stringify(params));
  });

  test("the form-data stand-in refuses to build a multipart body", () => {
    expect(() => new FormDataStandIn()).toThrow(/does not upload files/);
  });

  test("a transform file that does not exist is refused with the path it looked at", () => {
    expect(() => kintoneSyncBundleOptions("./transforms/missing.ts")).toThrow(
      /transforms\/missing\.ts does not exist .*export.* transform\(record, options\)/,
    );
  });
});

describe("default transform rules (sources)", () => {
  const rec = (values: Record<string, unknown>): KintoneRecord =>
    Object.fromEntries(Object.entries(values).map(([k, v]) => [k, { type: "SINGLE_LINE_TEXT", value: v }]));

  test("each rule does what its name says", () => {
    const options = parseOptions({
      rules: [
        { op: "trim", fields: ["a"] },
        { op: "collapseWhitespace", fields: ["b"] },
        { op: "upperCase", fields: ["c"] },
        { op: "lowerCase", fields: ["d"] },
        { op: "halfWidth", fields: ["e"] },
        { op: "zeroPad", fields: ["f", "g"], length: 5 },
        { op: "copy", from: "a", to: "h", onlyIfEmpty: true },
        { op: "setConstant", field: "i", value: "synced" },
        { op: "concat", from: ["c", "d"], to: "j", separator: "/" },
        { op: "normalizeDate", fields: ["k"] },
        { op: "normalizePhone", fields: ["l"], format: "e164", countryCode: "81" },
      ],
    });
    const out = transform(
      rec({
        a: " x \u3000",
        b: " a \t b\u3000\u3000c ",
        c: "abc",
        d: "DEF",
        e: "ＡＢＣ１２３",
        f: "42",
        g: "A42",
        h: "",
        i: "old",
        j: "",
        k: "2024年1月5日",
        l: "03-1234-5678",
      }),
      options,
    );
    expect(out).toEqual({
      a: { value: "x" },
      b: { value: "a b c" },
      c: { value: "ABC" },
      d: { value: "def" },
      e: { value: "ABC123" },
      f: { value: "00042" },
      g: { value: "A42" },
      h: { value: "x" },
      i: { value: "synced" },
      j: { value: "ABC/def" },
      k: { value: "2024-01-05" },
      l: { value: "+81312345678" },
    });
    expect(transformFields(options).sort()).toEqual(["a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l"]);
  });

  test("applying the rules to their own output changes nothing", () => {
    const options = parseOptions({
      rules: [
        { op: "collapseWhitespace", fields: ["a"] },
        { op: "halfWidth", fields: ["b"] },
        { op: "zeroPad", fields: ["b"], length: 8 },
        { op: "normalizeDate", fields: ["c"] },
        { op: "normalizePhone", fields: ["d"], format: "digits" },
        { op: "concat", from: ["a", "b"], to: "e" },
      ],
    });
    const once = rec({ a: "  x\u3000y ", b: "１２３", c: "2024/2/29", d: "(03) 1234-5678", e: "" });
    for (const [k, v] of Object.entries(transform(once, options)))
      once[k] = { type: "SINGLE_LINE_TEXT", value: v.value };
    const again = transform(once, options);
    for (const [k, v] of Object.entries(again)) expect([k, v.value]).toEqual([k, once[k].value]);
  });

  test("dates and phone numbers that cannot be normalised are left alone", () => {
    expect(normalizeDate("2023-02-29")).toBe("2023-02-29");
    expect(normalizeDate("next week")).toBe("next week");
    expect(normalizeDate("20240105")).toBe("2024-01-05");
    expect(normalizePhone("ext. 12", "digits")).toBe("ext. 12");
    expect(normalizePhone("+81 3 1234 5678", "e164", "81")).toBe("+81312345678");
    expect(normalizePhone("0081312345678", "e164", "81")).toBe("+81312345678");
  });

  // The messages the options and the environment were checked with when they were zod schemas, word for word.
  const UNKNOWN_OP =
    "unknown op: use one of trim, collapseWhitespace, upperCase, lowerCase, halfWidth, zeroPad, copy, setConstant, concat, normalizeDate, normalizePhone";
  test.each<[unknown, string]>([
    [null, "(top level): Invalid input: expected object, received null"],
    [[], "(top level): Invalid input: expected object, received array"],
    [{}, "rules: Invalid input: expected array, received undefined"],
    [{ rules: [], extra: 1 }, 'rules: give at least one rule; (top level): Unrecognized key: "extra"'],
    [{ rules: [1] }, "rules.0: Invalid input: expected object, received number"],
    [{ rules: [{ op: 5 }] }, `rules.0.op: ${UNKNOWN_OP}`],
    [
      { rules: [{ op: "trim", fields: ["a", 3, " "] }] },
      "rules.0.fields.1: Invalid input: expected string, received number; rules.0.fields.2: a field code cannot be empty",
    ],
    [{ rules: [{ op: "trim", fields: ["a"], x: 1, y: 2 }] }, 'rules.0: Unrecognized keys: "x", "y"'],
    [
      { rules: [{ op: "zeroPad", fields: ["a"], length: 1.5 }] },
      "rules.0.length: Invalid input: expected int, received number",
    ],
    [{ rules: [{ op: "zeroPad", fields: ["a"], length: 0 }] }, "rules.0.length: Too small: expected number to be >=1"],
    [{ rules: [{ op: "zeroPad", fields: ["a"], length: 31 }] }, "rules.0.length: Too big: expected number to be <=30"],
    [
      { rules: [{ op: "copy", from: "a", to: "", onlyIfEmpty: "yes" }] },
      "rules.0.to: a field code cannot be empty; rules.0.onlyIfEmpty: Invalid input: expected boolean, received string",
    ],
    [{ rules: [{ op: "setConstant", field: "a", value: ["x", 1] }] }, "rules.0.value: Invalid input"],
    [
      { rules: [{ op: "concat", from: [3], to: "b" }] },
      "rules.0.from.0: Invalid input: expected string, received number; rules.0.from: concat needs at least two source fields",
    ],
    [
      { rules: [{ op: "normalizePhone", fields: ["a"], extra: 1 }] },
      'rules.0.format: Invalid option: expected one of "digits"|"e164"; rules.0: Unrecognized key: "extra"',
    ],
    [
      { rules: [{ op: "normalizePhone", fields: [], format: "e164" }] },
      'rules.0.fields: list at least one field code; rules.0: format "e164" needs countryCode, e.g. "81"',
    ],
    [
      { rules: [{ op: "normalizePhone", fields: [3], format: "e164" }] },
      "rules.0.fields.0: Invalid input: expected string, received number",
    ],
    [
      { rules: [{ op: "normalizePhone", fields: ["a"], format: "e164", countryCode: "+81" }] },
      'rules.0.countryCode: countryCode is the calling code without +, e.g. "81"',
    ],
    [
      { rules: [{ op: "trim", fields: [] }, { op: "nope" }, { op: "copy", from: "a" }] },
      `rules.0.fields: list at least one field code; rules.1.op: ${UNKNOWN_OP}; rules.2.to: Invalid input: expected string, received undefined`,
    ],
  ])("options %j are refused with: %s", (raw, message) => {
    expect(() => parseOptions(raw)).toThrow(
      `${message} (expected JSON such as {"rules":[{"op":"trim","fields":["name"]}]})`,
    );
  });

  test("options come back with field codes trimmed and defaults filled in", () => {
    const raw = {
      rules: [
        { op: "trim", fields: [" a "] },
        { op: "copy", from: "a", to: " b" },
        { op: "concat", from: ["a", "b"], to: "c" },
        { op: "setConstant", field: "x", value: ["1"] },
        { op: "normalizePhone", fields: ["p"], format: "digits", countryCode: "81" },
      ],
    };
    expect(parseOptions(raw)).toEqual({
      rules: [
        { op: "trim", fields: ["a"] },
        { op: "copy", from: "a", to: "b", onlyIfEmpty: false },
        { op: "concat", from: ["a", "b"], to: "c", separator: " " },
        { op: "setConstant", field: "x", value: ["1"], onlyIfEmpty: false },
        { op: "normalizePhone", fields: ["p"], format: "digits", countryCode: "81" },
      ],
    });
  });

  const ENV = {
    KINTONE_BASE_URL: " https://x.cybozu.com ",
    KINTONE_APP_ID: " 7 ",
    KINTONE_TOKEN_SECRET_ID: " s ",
    KINTONE_ALLOWLIST_HINT: "h",
    KINTONE_CHECKPOINT_TABLE: "tbl",
  };
  test("the environment is read trimmed, with defaults", () => {
    expect(
      loadConfig({ ...ENV, KINTONE_GUEST_SPACE_ID: " 3 ", KINTONE_QUERY: "  x = 1 ", LOG_LEVEL: " WARN " }),
    ).toEqual({
      baseUrl: "https://x.cybozu.com",
      appId: 7,
      guestSpaceId: 3,
      condition: "x = 1",
      tokenSecretId: "s",
      allowlistHint: "h",
      checkpointTable: "tbl",
      transformOptions: undefined,
      retry: { maxAttempts: 5, baseMs: 500, maxMs: 20000 },
      timeoutMs: 30000,
      deadlineMarginMs: 30000,
      logLevel: "warn",
    });
  });

  test.each<[Record<string, string | undefined>, string]>([
    [
      { KINTONE_BASE_URL: " " },
      'KINTONE_BASE_URL is empty: set it to your kintone domain, e.g. https://example.cybozu.com; KINTONE_BASE_URL is not a URL: set it to your kintone domain, e.g. https://example.cybozu.com; got ""',
    ],
    [
      { KINTONE_APP_ID: "07" },
      'KINTONE_APP_ID must be the app\'s numeric ID (the number in https://<sub>.cybozu.com/k/<ID>/); got "07"',
    ],
    [
      { KINTONE_GUEST_SPACE_ID: "x" },
      'KINTONE_GUEST_SPACE_ID must be the guest space\'s numeric ID, or unset for apps outside guest spaces; got "x"',
    ],
    [{ KINTONE_QUERY: ' a = "x' }, "KINTONE_QUERY has an unterminated string literal"],
    [
      { KINTONE_CHECKPOINT_TABLE: "ab" },
      'KINTONE_CHECKPOINT_TABLE must be a DynamoDB table name (3-255 of A-Z a-z 0-9 _ . -); got "ab"',
    ],
    [
      { KINTONE_RETRY_MAX_ATTEMPTS: "3.0" },
      'KINTONE_RETRY_MAX_ATTEMPTS must be an integer from 1 to 10 (attempts per request, the first included); got "3.0"',
    ],
    [
      {
        KINTONE_APP_ID: undefined,
        KINTONE_BASE_URL: undefined,
        KINTONE_TIMEOUT_MS: "5",
        LOG_LEVEL: "x",
        KINTONE_TRANSFORM_OPTIONS: "{",
      },
      "KINTONE_BASE_URL is not set: set it to your kintone domain, e.g. https://example.cybozu.com; " +
        "KINTONE_APP_ID is not set: set it to the app's ID, the number in https://<sub>.cybozu.com/k/<ID>/; " +
        'KINTONE_TIMEOUT_MS must be an integer from 1000 to 300000 (socket timeout of one request); got "5"; ' +
        'LOG_LEVEL must be one of debug, info, warn, error; got "x"; ' +
        // JSON.parse's own words follow (they differ between Node versions).
        "KINTONE_TRANSFORM_OPTIONS is not valid JSON (",
    ],
  ])("the environment %j is refused with one error listing every problem", (change, message) => {
    const env: Record<string, string | undefined> = { ...ENV, ...change };
    for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];
    expect(() => loadConfig(env)).toThrow(`kintone-sync is misconfigured: ${message}`);
  });

  test("options are validated with messages that say what to change", () => {
    expect(() => parseOptions(undefined)).toThrow(/needs rules; set it to JSON such as/);
    expect(() => parseOptions({ rules: [{ op: "zeroPad", fields: ["a"] }] })).toThrow(/rules\.0\.length/);
    expect(() => parseOptions({ rules: [{ op: "normalizePhone", fields: ["a"], format: "e164" }] })).toThrow(
      /needs countryCode/,
    );
    expect(() => parseOptions({ rules: [{ op: "trim", fields: ["a"], extra: true }] })).toThrow(/Unrecognized key/);
    expect(() => transform(rec({ a: "x" }), parseOptions({ rules: [{ op: "trim", fields: ["nope"] }] }))).toThrow(
      /field "nope", which the record does not have/,
    );
  });
});

testBundleConnectionsDeclared("kintone-sync", connections, [
  "aws dynamodb:GetItem",
  "aws dynamodb:PutItem",
  "aws secretsmanager:GetSecretValue",
  "connect AWS_ENDPOINT_URL_DYNAMODB",
  "connect AWS_ENDPOINT_URL_SECRETS_MANAGER",
  "connect KINTONE_BASE_URL",
]);
