/**
 * saas-export, exercised as deployed: the esbuild bundle (`loadBundledHandler`) fetching from a fake SaaS over real
 * TLS through a real Squid (config from renderSquidConf: api.example.com whitelisted, secret header required on
 * CONNECT), writing to a fake S3, reading its secrets from a fake Secrets Manager. The fakes stay here because
 * these tests inject faults per request (the k-th PutObject fails, the SaaS truncates its listing) and count every
 * call, which moto cannot do; the S3 and Secrets Manager calls themselves (checksums, listing, errors) are proven
 * against moto in aws-moto.test.ts. Everything is on 127.0.0.1; the
 * Squid's hosts_file maps api.example.com to it, and the SaaS certificate is issued for that name by a CA made at
 * test time, which the handler trusts through SAAS_CA_FILE (verification stays on).
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as net from "net";
import type { ExportSummary, PartitionManifest } from "../../functions/saas-export/index";
import { loadBundledHandler } from "../support/bundled";
import { freePort } from "../support/squid";
import {
  AUTH_SECRET_ID,
  PROXY_HEADER,
  PROXY_SECRET_ID,
  resetProxyClient,
  SaasProxy,
  startSaasProxy,
} from "../support/saas-proxy";
import { recordBundleConnections, testBundleConnectionsDeclared } from "../support/handler-connections";
import { FakeS3 } from "../fakes/s3";
import { FakeSaas } from "../fakes/saas";
import { FakeSecretsManager } from "../fakes/secrets-manager";
import { captureJsonLogs } from "../support/log-capture";

jest.setTimeout(60_000);

type Handler = (
  event?: unknown,
  context?: { awsRequestId?: string; getRemainingTimeInMillis?(): number },
) => Promise<ExportSummary>;

const HEADER = PROXY_HEADER;
const HEADER_VALUE = "pr0xy-s3cret_value.for-tests-only";
const PROXY_SECRET = PROXY_SECRET_ID;
const AUTH_SECRET = AUTH_SECRET_ID;
const TOKEN = "saas-token-for-tests-0123456789";
const BUCKET = "export-bucket";
const PREFIX = "raw/saas/";
const DATE = "2026-11-21";
/** What Athena reads for a date: the symlink file under the table location `<prefix>current/`. */
const symlinkKey = (date = DATE) => `${PREFIX}current/dt=${date}/symlink.txt`;
const dataDir = (date = DATE) => `${PREFIX}data/dt=${date}/`;
const runDirOf = (runId: string, date = DATE) => `${dataDir(date)}run=${runId}/`;
const part = (runId: string, i: number, date = DATE) =>
  `${runDirOf(runId, date)}part-${String(i).padStart(5, "0")}.ndjson`;
const manifestKeyOf = (runId: string, date = DATE) => `${runDirOf(runId, date)}_manifest.json`;

let proxy: SaasProxy;
const connections = recordBundleConnections();
let saas: FakeSaas;
let s3: FakeS3;
let secrets: FakeSecretsManager;
const savedEnv = { ...process.env };
let logLines: string[] = [];

/** A fresh Lambda container: the bundle loaded in its own module registry, so module state starts empty. */
function coldStart(): Handler {
  let mod: { handler: Handler } | undefined;
  jest.isolateModules(() => {
    mod = loadBundledHandler<{ handler: Handler }>("saas-export");
  });
  return mod!.handler;
}

/** `n` records; `version` changes every record's content (a source that changed between runs). */
function records(n: number, version = 1): Record<string, unknown>[] {
  return Array.from({ length: n }, (_, i) => ({
    id: i + 1,
    name: `Customer ${i + 1}`,
    note: i % 7 === 0 ? "line one\nline two \u2028 “quoted” 日本語" : null,
    tags: ["a", String(i % 3)],
    version,
  }));
}

/** The part keys the date's symlink file lists (what an Athena query reads), or undefined when none is published. */
function publishedParts(date = DATE): string[] | undefined {
  const o = s3.object(BUCKET, symlinkKey(date));
  if (!o) return undefined;
  const text = o.body.toString("utf8");
  return text === ""
    ? []
    : text
        .slice(0, -1)
        .split("\n")
        .map((u) => {
          expect(u.startsWith(`s3://${BUCKET}/`)).toBe(true);
          return u.slice(`s3://${BUCKET}/`.length);
        });
}

/** The run the date's symlink file names (object metadata). */
function publishedRun(date = DATE): string | undefined {
  return s3.object(BUCKET, symlinkKey(date))?.metadata.run;
}

/** The records Athena reads for the date: every listed part's NDJSON lines, in order. */
function storedRecords(date = DATE): unknown[] {
  return (publishedParts(date) ?? []).flatMap((k) => {
    const text = s3.object(BUCKET, k)!.body.toString("utf8");
    expect(text.endsWith("\n")).toBe(true);
    return text
      .slice(0, -1)
      .split("\n")
      .map((l) => JSON.parse(l) as unknown);
  });
}

function manifestOf(runId: string, date = DATE): PartitionManifest | undefined {
  const o = s3.object(BUCKET, manifestKeyOf(runId, date));
  return o ? (JSON.parse(o.body.toString("utf8")) as PartitionManifest) : undefined;
}

/** The published run's manifest lists exactly the parts the symlink file lists and its run holds, with true sizes, counts and sha256. */
function expectManifestMatchesPartition(date = DATE): PartitionManifest {
  const run = publishedRun(date);
  expect(run).toBeDefined();
  const m = manifestOf(run!, date);
  expect(m).toBeDefined();
  expect(m!.status).toBe("published");
  expect(m!.parts.map((p) => p.key)).toEqual(publishedParts(date));
  expect(m!.parts.map((p) => p.key)).toEqual(
    s3.keys(BUCKET, runDirOf(run!, date)).filter((k) => k !== manifestKeyOf(run!, date)),
  );
  for (const p of m!.parts) {
    const body = s3.object(BUCKET, p.key)!.body;
    expect(p.sha256).toBe(crypto.createHash("sha256").update(body).digest("hex"));
    expect(p.bytes).toBe(body.length);
    expect(p.records).toBe(body.toString("utf8").split("\n").length - 1);
  }
  expect(m!.records).toBe(m!.parts.reduce((a, p) => a + p.records, 0));
  return m!;
}

/** Run ids with data under the date, oldest first. */
function runsOf(date = DATE): string[] {
  return [...new Set(s3.keys(BUCKET, dataDir(date)).map((k) => /run=([^/]+)\//.exec(k)![1]))].sort();
}

function accessLog(): string {
  const file = proxy.sandbox.accessLogPath;
  return fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "";
}

/** Squid writes its access log through a daemon: wait until a line matching `re` shows up. */
async function waitForAccessLog(re: RegExp): Promise<string> {
  for (let i = 0; i < 50; i++) {
    const log = accessLog();
    if (re.test(log)) return log;
    await new Promise((r) => setTimeout(r, 100));
  }
  return accessLog();
}

beforeAll(async () => {
  s3 = new FakeS3();
  secrets = new FakeSecretsManager();
  [proxy] = await Promise.all([
    startSaasProxy({ headerValue: HEADER_VALUE, token: TOKEN, sandboxPrefix: "vlk-squid-saas-export-" }),
    s3.start(),
    secrets.start(),
  ]);
  saas = proxy.saas;
  s3.createBucket(BUCKET);
});

afterAll(async () => {
  await Promise.all([proxy?.stop(), s3?.stop(), secrets?.stop()]);
  process.env = savedEnv;
});

beforeEach(() => {
  s3.reset();
  resetProxyClient(proxy, {
    records: records(250),
    secrets,
    s3Url: s3.url,
    base: savedEnv,
    own: {
      SAAS_URL: saas.url("/v1/cursor?limit=40"),
      SAAS_PAGINATION: "cursor:meta.next_cursor:cursor",
      SAAS_RECORDS_PATH: "data.items",
      BUCKET,
      PREFIX,
      PART_MAX_RECORDS: "100",
    },
  });
  secrets.resetCalls();
  // The handler logs JSON lines to stdout: keep them for assertions instead of printing them.
  logLines = captureJsonLogs();
});

afterEach(() => {
  jest.restoreAllMocks();
});

const logs = () => logLines.map((l) => JSON.parse(l) as Record<string, unknown>);

describe("saas-export handler (bundled) through a real Squid", () => {
  test("a multi-page export lands as its run's part-NNNNN.ndjson parts holding exactly the source records, published last by one symlink write", async () => {
    const summary = await coldStart()({ date: DATE });

    const run = summary.runId;
    expect(run).toMatch(/^\d{8}T\d{6}Z-[A-Za-z0-9]+$/);
    expect(summary).toMatchObject({
      date: DATE,
      pages: 7,
      records: 250,
      objects: 3,
      published: true,
      deletedOldObjects: 0,
      retries: 0,
      partition: `s3://${BUCKET}/${runDirOf(run)}`,
      symlink: `s3://${BUCKET}/${symlinkKey()}`,
    });
    expect(s3.keys(BUCKET)).toEqual([symlinkKey(), manifestKeyOf(run), part(run, 0), part(run, 1), part(run, 2)]);
    expect(publishedParts()).toEqual([part(run, 0), part(run, 1), part(run, 2)]);
    expect(storedRecords()).toEqual(saas.records);
    const m = expectManifestMatchesPartition();
    expect(m.parts.map((p) => p.records)).toEqual([100, 100, 50]);
    expect(m).toMatchObject({
      format: "vpc-lambda-kit/saas-export/manifest@2",
      date: DATE,
      runId: run,
      status: "published",
      pages: 7,
      records: 250,
      source: saas.url("/v1/cursor"),
    });
    expect(m.refusedBecause).toBeUndefined();
    expect(summary.bytes).toBe(m.bytes);
    expect(s3.object(BUCKET, part(run, 0))!.contentType).toBe("application/x-ndjson");

    // Write order: the parts, the run's manifest, then the switch (the symlink file), then the clean-up listing.
    const writes = s3.ops
      .filter((o) => o.op !== "GetObject" && o.op !== "HeadObject")
      .map((o) => `${o.op} ${o.key ?? ""}`.trim());
    expect(writes).toEqual([
      `PutObject ${part(run, 0)}`,
      `PutObject ${part(run, 1)}`,
      `PutObject ${part(run, 2)}`,
      `PutObject ${manifestKeyOf(run)}`,
      `PutObject ${symlinkKey()}`,
      "ListObjectsV2",
    ]);
    // Every PutObject carried a SHA-256 checksum that the fake S3 verified against the body.
    expect(s3.putsVerified).toBe(5);
    expect(s3.putsWithoutIntegrity).toBe(0);
    for (const k of s3.keys(BUCKET)) expect(s3.object(BUCKET, k)!.verifiedBy).toContain("x-amz-checksum-sha256");

    // The SaaS traffic went through Squid (CONNECT to api.example.com, allowed); S3 did not.
    const log = await waitForAccessLog(/CONNECT api\.example\.com/);
    expect(log).toMatch(new RegExp(`TCP_TUNNEL/200 \\d+ CONNECT api\\.example\\.com:${saas.port}`));
    expect(log).not.toMatch(/export-bucket|127\.0\.0\.1:\d+\/export/);
    expect(saas.requests).toHaveLength(7);
    expect(s3.headerNames.has(HEADER.toLowerCase())).toBe(false);

    const finished = logs().find((l) => l.msg === "saas export finished");
    expect(finished).toMatchObject({
      level: "info",
      date: DATE,
      pages: 7,
      records: 250,
      objects: 3,
      bytes: summary.bytes,
      published: true,
    });
    expect(typeof finished!.durationMs).toBe("number");
    expect(logLines.join("\n")).not.toContain(HEADER_VALUE);
    expect(logLines.join("\n")).not.toContain(TOKEN);
  });

  test("the SaaS never sees the proxy header (only the CONNECT carries it), but does get its own credential", async () => {
    await coldStart()({ date: DATE });
    expect(saas.requests.length).toBeGreaterThan(0);
    expect(saas.requests.every((r) => r.headers.authorization === `Bearer ${TOKEN}`)).toBe(true);
    expect(saas.sawHeader(HEADER, HEADER_VALUE)).toBe(false);
    expect(saas.sawHeader("proxy-connection")).toBe(false);
  });

  test.each([
    ["link", "/v1/link", "link"],
    ["page", "/v1/page", "page:page"],
    ["none", "/v1/all", "none"],
  ])("pagination %s exports the same records", async (_name, path, pagination) => {
    process.env.SAAS_URL = saas.url(path);
    process.env.SAAS_PAGINATION = pagination;
    const summary = await coldStart()({ date: DATE });
    expect(storedRecords()).toEqual(saas.records);
    expect(summary.records).toBe(250);
    // link: 7 pages; page: 7 pages + the empty one that ends it; none: 1.
    expect(summary.pages).toBe({ link: 7, "page:page": 8, none: 1 }[pagination]);
    expectManifestMatchesPartition();
  });

  test("an X-Api-Key style credential from a JSON secret is sent as that header", async () => {
    saas.auth = { header: "x-api-key", value: "k-123" };
    secrets.setSecret(AUTH_SECRET, JSON.stringify({ header: "X-Api-Key", value: "k-123" }));
    const summary = await coldStart()({ date: DATE });
    expect(summary.records).toBe(250);
    expect(
      saas.requests.every((r) => r.headers["x-api-key"] === "k-123" && r.headers.authorization === undefined),
    ).toBe(true);
  });

  test("a rerun for the same date switches Athena to its own run in one write; the run it replaced stays until the next switch, older ones are deleted", async () => {
    s3.listPageCap = 2; // the clean-up listing must follow continuation tokens
    const handler = coldStart();
    const first = await handler({ date: DATE });
    saas.records = records(260, 2);
    const second = await handler({ date: DATE });
    expect(second.runId).not.toBe(first.runId);
    expect(publishedRun()).toBe(second.runId);
    expect(storedRecords()).toEqual(saas.records);
    expect(runsOf()).toEqual([first.runId, second.runId].sort());
    expect(second).toMatchObject({ records: 260, published: true, deletedOldObjects: 0 });
    expect(manifestOf(second.runId)!.previous).toEqual({ runId: first.runId, date: DATE, records: 250 });

    const third = await handler({ date: DATE });
    expect(third).toMatchObject({ records: 260, published: true, deletedOldObjects: 4 });
    expect(runsOf()).toEqual([second.runId, third.runId].sort());
    expect(s3.opsOf("DeleteObjects").flatMap((o) => o.keys)).toEqual(
      s3
        .opsOf("PutObject")
        .filter((o) => o.key!.includes(first.runId))
        .map((o) => o.key)
        .sort(),
    );
    expectManifestMatchesPartition();

    // Another date is another partition, untouched by this one; it is compared with the day before.
    const other = await handler({ date: "2026-11-22" });
    expect(publishedRun()).toBe(third.runId);
    expect(manifestOf(other.runId, "2026-11-22")!.previous).toEqual({ runId: third.runId, date: DATE, records: 260 });
  });

  test("an empty page with a null cursor after 720 of 1,000 records is not published: Athena keeps the full day, the manifest says why", async () => {
    saas.records = records(1_000);
    const handler = coldStart();
    const full = await handler({ date: DATE });
    expect(full).toMatchObject({ records: 1_000, published: true });
    const before = s3.object(BUCKET, symlinkKey())!.etag;

    saas.records = records(1_000, 2);
    saas.truncateAt = 720;
    const err = await handler({ date: DATE }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(
      /^the export of 2026-11-21 was not published, so Athena keeps reading the previous data: page 19 had no records and no next cursor, right after page 18 had 40/,
    );
    expect((err as Error).message).toContain(
      `720 records is less than PUBLISH_MIN_SHARE=0.9 of the 1000 records published for ${DATE} (run ${full.runId})`,
    );
    expect((err as Error).message).toContain(`{"date": "${DATE}", "force": true}`);
    expect(s3.object(BUCKET, symlinkKey())!.etag).toBe(before);
    expect(publishedRun()).toBe(full.runId);
    expect(storedRecords()).toEqual(records(1_000));
    const refusedRun = runsOf().find((r) => r !== full.runId)!;
    const refused = manifestOf(refusedRun)!;
    expect(refused).toMatchObject({
      status: "refused",
      records: 720,
      previous: { runId: full.runId, date: DATE, records: 1_000 },
    });
    expect(refused.refusedBecause).toHaveLength(2);
    expect(logs().find((l) => l.msg === "saas export failed")).toMatchObject({
      level: "error",
      kind: "refused",
      partitionState: "unchanged",
    });

    // An operator who knows the smaller day is right publishes it; the manifest keeps what was overridden.
    const forced = await handler({ date: DATE, force: true });
    expect(forced).toMatchObject({ records: 720, published: true });
    expect(manifestOf(forced.runId)!.forcedOver).toHaveLength(2);
    expect(storedRecords()).toEqual(saas.records.slice(0, 720));
  });

  test("a smaller day within PUBLISH_MIN_SHARE is published, and an empty last page is accepted when SAAS_EMPTY_LAST_PAGE=normal", async () => {
    saas.records = records(1_000);
    process.env.PUBLISH_MIN_SHARE = "0.7";
    process.env.SAAS_EMPTY_LAST_PAGE = "normal";
    const handler = coldStart();
    await handler({ date: DATE });
    saas.truncateAt = 720;
    await expect(handler({ date: DATE })).resolves.toMatchObject({ records: 720, published: true });
    saas.truncateAt = 480;
    await expect(handler({ date: DATE })).rejects.toThrow(
      /480 records is less than PUBLISH_MIN_SHARE=0.7 of the 720 records published/,
    );
  });

  test("a crash at part K changes nothing Athena reads; the unpublished parts are cleaned up by the next published run", async () => {
    const handler = coldStart();
    const v1 = await handler({ date: DATE }); // 3 parts
    const published = publishedParts();
    saas.records = records(430, 2); // v2: 5 parts
    s3.failPuts(2, { status: 500, times: Infinity }); // the 2nd part never gets written: retries run out

    const err = await handler({ date: DATE }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(
      new RegExp(`S3 PutObject on s3://${BUCKET}/${dataDir()}run=[^/]+/part-00001\\.ndjson failed after 5 attempts`),
    );
    expect((err as Error).message).toContain(
      `Nothing was published: Athena still reads what s3://${BUCKET}/${symlinkKey()} listed before this run`,
    );
    expect(publishedRun()).toBe(v1.runId);
    expect(publishedParts()).toEqual(published);
    expect(storedRecords()).toEqual(records(250));
    expect(logs().find((l) => l.msg === "saas export failed")).toMatchObject({
      level: "error",
      kind: "s3",
      partitionState: "unchanged",
    });
    const crashed = runsOf().find((r) => r !== v1.runId)!;
    expect(manifestOf(crashed)).toBeUndefined();

    s3.clearFaults();
    const rerun = await handler({ date: DATE });
    expect(rerun).toMatchObject({ records: 430, objects: 5, published: true });
    expect(storedRecords()).toEqual(saas.records);
    expect(expectManifestMatchesPartition().records).toBe(430);
    expect(runsOf()).toEqual([v1.runId, rerun.runId].sort()); // the crashed run's part is gone, the replaced run stays
  });

  test("S3 refusing the switch itself leaves the previous list in place; the rerun publishes", async () => {
    const handler = coldStart();
    saas.records = records(430);
    const v1 = await handler({ date: DATE });
    saas.records = records(450, 2);
    s3.failPuts(7, { status: 403, times: 1 }); // 5 parts and the manifest succeed, the symlink PutObject is denied
    await expect(handler({ date: DATE })).rejects.toThrow(
      /S3 denied PutObject on s3:\/\/export-bucket\/raw\/saas\/current\/dt=2026-11-21\/symlink\.txt .*s3:PutObject/,
    );
    expect(publishedRun()).toBe(v1.runId);
    expect(storedRecords()).toEqual(records(430));

    const rerun = await handler({ date: DATE });
    expect(rerun).toMatchObject({ records: 450, published: true });
    expect(storedRecords()).toEqual(saas.records);
    expectManifestMatchesPartition();
  });

  test("a failure before the first part is complete writes nothing at all", async () => {
    const handler = coldStart();
    await handler({ date: DATE });
    const before = s3.keys(BUCKET).map((k) => [k, s3.object(BUCKET, k)!.etag]);
    saas.records = records(300, 2);
    // Pages 1-2 (80 records) arrive, then the SaaS is down for good: the first part (100 records) is never complete.
    saas.failNext(1000, 503, { after: 2 });
    const err = await handler({ date: DATE }).catch((e: Error) => e);
    expect((err as Error).message).toMatch(
      /^the SaaS answered page 3 \(GET https:\/\/api\.example\.com:\d+\/v1\/cursor\) with HTTP 503: injected 503 after 5 attempts\./,
    );
    expect((err as Error).message).toContain("Nothing was published");
    expect(s3.keys(BUCKET).map((k) => [k, s3.object(BUCKET, k)!.etag])).toEqual(before);
    expectManifestMatchesPartition();
  });

  test("5xx and 429 from the SaaS, and a 500 from S3, are retried with backoff and the export recovers", async () => {
    saas.failNext(2, 503);
    saas.failNext(1, 429);
    s3.failPuts(2, { status: 500, times: 1 });
    const summary = await coldStart()({ date: DATE });
    expect(summary).toMatchObject({ records: 250, objects: 3, retries: 4 });
    expect(storedRecords()).toEqual(saas.records);
    expectManifestMatchesPartition();
    const retried = logs().filter((l) => /retrying/.test(String(l.msg)));
    expect(retried.map((l) => l.msg)).toEqual([
      "SaaS request failed; retrying",
      "SaaS request failed; retrying",
      "SaaS request failed; retrying",
      "S3 request failed; retrying",
    ]);
    expect(retried.map((l) => l.status)).toEqual([503, 503, 429, 500]);
  });

  test("a wrong proxy header value gets Squid's 403 and the clear proxy-refused error; nothing reaches the SaaS", async () => {
    secrets.setSecret(PROXY_SECRET, "not-the-right-value");
    const started = Date.now();
    const err = await coldStart()({ date: DATE }).catch((e: Error) => e);
    expect((err as Error).message).toMatch(
      /^the proxy refused the request: the header secret or domain whitelist is wrong \(CONNECT api\.example\.com:\d+ via PROXY_URL=http:\/\/127\.0\.0\.1:\d+ answered 403\)/,
    );
    expect((err as Error).message).toContain(`"${PROXY_SECRET}" (PROXY_HEADER_SECRET_ID)`);
    expect((err as Error).message).not.toContain("not-the-right-value");
    expect((err as { kind?: string }).kind).toBe("proxy-refused");
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(saas.requests).toHaveLength(0);
    expect(s3.ops).toHaveLength(0);
    expect(await waitForAccessLog(/TCP_DENIED\/403 \d+ CONNECT api\.example\.com/)).toMatch(
      /TCP_DENIED\/403 \d+ CONNECT api\.example\.com/,
    );
  });

  test("the proxy port closed: a fast, clear error naming PROXY_URL and the security group to the proxy load balancer", async () => {
    const closed = await freePort();
    process.env.PROXY_URL = `http://127.0.0.1:${closed}`;
    const started = Date.now();
    const err = await coldStart()({ date: DATE }).catch((e: Error) => e);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect((err as { kind?: string }).kind).toBe("proxy-unreachable");
    expect((err as Error).message).toContain(
      `could not connect to the proxy at PROXY_URL=http://127.0.0.1:${closed} (ECONNREFUSED`,
    );
    expect((err as Error).message).toContain(
      `security group must allow outbound TCP ${closed} to the proxy load balancer`,
    );
    expect(s3.ops).toHaveLength(0);
  });

  test("a proxy that never answers the CONNECT: the export gives up after PROXY_CONNECT_TIMEOUT_MS per attempt, naming the security groups", async () => {
    const sockets = new Set<net.Socket>();
    const silent = net.createServer((sock) => {
      sockets.add(sock);
      sock.on("error", () => undefined);
    });
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    try {
      const port = (silent.address() as net.AddressInfo).port;
      Object.assign(process.env, {
        PROXY_URL: `http://127.0.0.1:${port}`,
        PROXY_CONNECT_TIMEOUT_MS: "300",
        RETRY_MAX_ATTEMPTS: "2",
      });
      const started = Date.now();
      const err = await coldStart()({ date: DATE }).catch((e: Error) => e);
      const took = Date.now() - started;
      expect(took).toBeGreaterThanOrEqual(600);
      expect(took).toBeLessThan(3_000);
      expect((err as { kind?: string }).kind).toBe("proxy-unreachable");
      expect((err as Error).message).toContain(
        `the proxy at PROXY_URL=http://127.0.0.1:${port} did not open a tunnel to api.example.com:${saas.port} within PROXY_CONNECT_TIMEOUT_MS=300 after 2 attempts`,
      );
      expect((err as Error).message).toContain(
        `this function's security group must allow outbound TCP ${port} to the proxy load balancer`,
      );
      expect(sockets.size).toBe(2);
    } finally {
      for (const sock of sockets) sock.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  test("a SaaS 401 names the auth secret to fix, and the secret is read again on the next invocation", async () => {
    secrets.setSecret(AUTH_SECRET, "expired-token");
    const handler = coldStart();
    const err = await handler({ date: DATE }).catch((e: Error) => e);
    expect((err as { kind?: string }).kind).toBe("auth");
    expect((err as Error).message).toMatch(
      /^the SaaS refused the credential for page 1 \(HTTP 401: invalid_token\): put a valid credential into Secrets Manager secret "saas\/token" \(SAAS_AUTH_SECRET_ID\)/,
    );
    expect((err as Error).message).not.toContain("expired-token");
    expect(saas.requests).toHaveLength(1); // 401 is not retried

    secrets.setSecret(AUTH_SECRET, TOKEN);
    expect((await handler({ date: DATE })).records).toBe(250);
    expect(secrets.callsFor(AUTH_SECRET)).toBe(2);
  });

  test("TLS verification stays on: without the test CA the SaaS certificate is refused", async () => {
    delete process.env.SAAS_CA_FILE;
    const err = await coldStart()({ date: DATE }).catch((e: Error) => e);
    expect((err as { kind?: string }).kind).toBe("tls");
    expect((err as Error).message).toMatch(
      /the TLS certificate of api\.example\.com did not verify \((UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY|SELF_SIGNED_CERT_IN_CHAIN)/,
    );
    expect(saas.requests).toHaveLength(0);
  });

  test("bad environment: one error naming every wrong variable and its fix, before any request", async () => {
    delete process.env.BUCKET;
    process.env.PROXY_URL = "internal-proxy.elb.amazonaws.com";
    process.env.SAAS_URL = "http://api.example.com/v1/items";
    process.env.SAAS_PAGINATION = "offset";
    process.env.PREFIX = "/raw/saas";
    process.env.RETRY_MAX_ATTEMPTS = "0";
    process.env.PUBLISH_MIN_SHARE = "90%";
    process.env.SAAS_EMPTY_LAST_PAGE = "ignore";
    const err = await coldStart()({ date: DATE }).catch((e: Error) => e);
    const msg = (err as Error).message;
    expect((err as { kind?: string }).kind).toBe("config");
    expect(msg).toMatch(/^saas-export is misconfigured: /);
    expect(msg).toContain("BUCKET is not set: set it to the name of the S3 bucket");
    expect(msg).toContain("PROXY_URL is not a URL: set it to http://<proxy load balancer DNS name>:<port>");
    expect(msg).toContain("SAAS_URL must be an https:// URL");
    expect(msg).toContain('SAAS_PAGINATION "offset" is not a pagination style: use none, link, cursor:');
    expect(msg).toContain("PREFIX must not start with '/'");
    expect(msg).toContain("RETRY_MAX_ATTEMPTS must be an integer from 1 to 10");
    expect(msg).toContain("PUBLISH_MIN_SHARE must be a number from 0 to 1");
    expect(msg).toContain('SAAS_EMPTY_LAST_PAGE must be "anomaly"');
    expect(secrets.totalCalls).toBe(0);
    expect(saas.requests).toHaveLength(0);
  });

  test("a PROXY_URL without a port and a missing SAAS_RECORDS_PATH are named too", async () => {
    process.env.PROXY_URL = "http://proxy.internal";
    delete process.env.SAAS_RECORDS_PATH;
    await expect(coldStart()({})).rejects.toThrow(
      /PROXY_URL must name the port explicitly .*SAAS_RECORDS_PATH is not set/,
    );
  });

  test("secrets are read once per cold start: two warm invocations, one read each; a new container reads again", async () => {
    const handler = coldStart();
    await handler({ date: DATE });
    await handler({ date: "2026-11-22" });
    expect(secrets.callsFor(PROXY_SECRET)).toBe(1);
    expect(secrets.callsFor(AUTH_SECRET)).toBe(1);
    await coldStart()({ date: DATE });
    expect(secrets.callsFor(PROXY_SECRET)).toBe(2);
    expect(secrets.callsFor(AUTH_SECRET)).toBe(2);
  });

  test("the logical date: event.date for backfills, else a scheduled event's time (UTC), else today (UTC); a bad date is refused", async () => {
    const handler = coldStart();
    expect((await handler({ "detail-type": "Scheduled Event", time: "2026-03-04T23:59:59Z" })).date).toBe("2026-03-04");
    expect((await handler({ time: "2026-03-05T08:30:00+09:00" })).date).toBe("2026-03-04");
    const today = new Date().toISOString().slice(0, 10);
    const s = await handler(undefined);
    expect([today, new Date().toISOString().slice(0, 10)]).toContain(s.date);
    expect(s3.keys(BUCKET, `${PREFIX}current/dt=2026-03-04/`)).toEqual([symlinkKey("2026-03-04")]);
    await expect(handler({ date: "2026-02-30" })).rejects.toThrow(
      'event.date must be a calendar date YYYY-MM-DD, e.g. {"date": "2026-11-21"}; got "2026-02-30".',
    );
    await expect(handler({ date: "21/11/2026" })).rejects.toThrow(/event\.date must be a calendar date/);
  });

  test("records that are not objects, or a wrong SAAS_RECORDS_PATH, fail with the variable to fix and write nothing", async () => {
    process.env.SAAS_RECORDS_PATH = "items";
    const err = await coldStart()({ date: DATE }).catch((e: Error) => e);
    expect((err as Error).message).toMatch(
      /^page 1 has nothing at SAAS_RECORDS_PATH=items, not an array of records \(the page is an object with keys "data", "meta"\)/,
    );
    expect((err as { kind?: string }).kind).toBe("data");

    process.env.SAAS_RECORDS_PATH = "data.items";
    saas.records = [{ id: 1 }, ["not", "an", "object"] as unknown as Record<string, unknown>];
    await expect(coldStart()({ date: DATE })).rejects.toThrow(
      /^record 1 of page 1 \(at SAAS_RECORDS_PATH=data\.items\) is an array of 3: each record must be a JSON object/,
    );
    expect(s3.ops).toHaveLength(0);
  });
});

testBundleConnectionsDeclared("saas-export", connections, [
  "aws s3:DeleteObject",
  "aws s3:GetObject",
  "aws s3:ListBucket",
  "aws s3:PutObject",
  "aws secretsmanager:GetSecretValue",
  "connect AWS_ENDPOINT_URL_S3",
  "connect AWS_ENDPOINT_URL_SECRETS_MANAGER",
  "connect PROXY_URL",
  "tunnel SAAS_URL",
]);
