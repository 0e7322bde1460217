/**
 * Cold start of every handler as deployed (the bundle a stack builds for it), on the Lambda runtime's Node (24,
 * `ops/runtime-node.ts`), against local stand-ins for what it talks to, all started by this file:
 *
 * - init: a fresh process requires the bundle (module scope only: Lambda's init phase);
 * - init + first response: the same, then one invocation with a typical event, to its response (reading its
 *   secrets, connecting, the first query or request, the write) — what the first caller of a new container waits for.
 *
 * Baseline, measured in the same run: a bare `node -e ""` start; both figures are above it. Every variant runs
 * BENCH_COLD_RUNS times (default 9) in fresh processes, round-robin so the machine's load falls on all alike; medians
 * of wall time (performance.now() in the child, from process start) and of CPU time (the child's user + system).
 * The stand-ins run in this process, so their CPU time is not in the child's, but their response time is in its wall.
 *
 * Stand-ins: Secrets Manager and S3 fakes (test/fakes), moto's DynamoDB (kintone-sync's saved position), the fake
 * kintone (100 records), the fake HTTPS SaaS behind the real Squid with the header rule (saas-export, 1 page of 100
 * records), PostgreSQL 15 with TLS (db-writer, pets-api, appflow-connector). The Data API bundles are timed to init
 * only: their first call goes to the RDS Data API, which nothing here serves across processes. The Athena connector's
 * first call is Athena's PingRequest (its configuration checked; no SaaS request).
 *
 *   npm run bench -- cold-start
 */
import { execFile } from "child_process";
import * as os from "os";
import * as path from "path";
import { promisify } from "util";
import { BundleOptions, bundleFunction, REPO_ROOT, writeBundle } from "../components/bundle";
import { kintoneSyncBundleOptions } from "../functions/kintone-sync/bundle-options";
import { runtimeNode } from "../ops/runtime-node";
import { FakeKintone } from "../test/fakes/kintone-server";
import { FakeS3 } from "../test/fakes/s3";
import { FakeSecretsManager } from "../test/fakes/secrets-manager";
import { createPositionTable, startMoto } from "../test/support/moto";
import { startPostgres } from "../test/support/postgres";
import { PROXY_HEADER, startSaasProxy } from "../test/support/saas-proxy";
import { machine, median, runBench, writeResult } from "./common";

const execFileAsync = promisify(execFile);
const RUNS = Number(process.env.BENCH_COLD_RUNS ?? 9);
const TOKYO = "ap-northeast-1";
const AWS_ENV = {
  AWS_REGION: TOKYO,
  AWS_ACCESS_KEY_ID: "AKIAFAKEFAKEFAKEFAKE",
  AWS_SECRET_ACCESS_KEY: "fake",
  AWS_EC2_METADATA_DISABLED: "true",
  LOG_LEVEL: "warn",
};

interface Subject {
  label: string;
  name: string;
  opts: BundleOptions;
  env: Record<string, string>;
  /** JavaScript expression for the event (evaluated in the child, so each run can get fresh ids); none: init only. */
  event?: string;
  /** JavaScript expression over the response `r` that must hold, so a failing call is never timed as a response. */
  ok?: string;
}

interface Sample {
  wall: number[];
  cpu: number[];
}

/** Runs `script` in a fresh runtime Node; it prints [wall ms since start, CPU ms]. Async: the stand-ins live here. */
async function child(script: string, env: Record<string, string>): Promise<[number, number]> {
  const { stdout } = await execFileAsync(runtimeNode(), ["-e", script], {
    cwd: REPO_ROOT,
    env: { ...process.env, NODE_OPTIONS: "", NODE_COMPILE_CACHE: "", ...env },
    maxBuffer: 16 * 1024 * 1024,
  });
  const line = stdout.trim().split("\n").pop() as string;
  return JSON.parse(line) as [number, number];
}

const REPORT =
  "const __u = process.cpuUsage(); process.stdout.write('\\n' + JSON.stringify([performance.now(), (__u.user + __u.system) / 1000]) + '\\n');";

function initScript(file: string): string {
  return `require(${JSON.stringify(file)}); ${REPORT}`;
}

function firstResponseScript(file: string, s: Subject): string {
  const context = `{ awsRequestId: "cold-" + process.pid, getRemainingTimeInMillis: () => 60000 }`;
  return `const m = require(${JSON.stringify(file)});
Promise.resolve(m.handler(${s.event}, ${context})).then((r) => {
  if (!(${s.ok ?? "true"})) { console.error("unexpected response: " + JSON.stringify(r).slice(0, 500)); process.exit(3); }
  ${REPORT}
  process.exit(0);
}, (e) => { console.error(e && e.stack || String(e)); process.exit(4); });`;
}

async function main(): Promise<void> {
  const secrets = new FakeSecretsManager();
  const KINTONE_TOKEN = "ColdToken000000000000000000000000000000000";
  const kintone = new FakeKintone({ tokens: { [KINTONE_TOKEN]: { app: 1, view: true, edit: true } } });
  const s3 = new FakeS3();
  await Promise.all([secrets.start(), kintone.start(), s3.start()]);
  const moto = await startMoto();
  const pg = await startPostgres();
  // The fake HTTPS SaaS behind the real Squid, which requires the header on CONNECT.
  const proxy = await startSaasProxy({
    headerValue: "cold-header-value-0123456789",
    token: "cold-saas-token",
    sandboxPrefix: "vlk-squid-cold-",
  });
  const { saas } = proxy;
  const squidPort = proxy.squid.port;
  try {
    // kintone-sync: 100 records, the position table in moto's DynamoDB.
    kintone.addApp({ id: 1, fields: { name: "SINGLE_LINE_TEXT", code: "SINGLE_LINE_TEXT" } });
    kintone.seed(
      1,
      Array.from({ length: 100 }, (_, i) => ({
        name: i % 3 === 0 ? ` Customer  ${i}` : `Customer ${i}`,
        code: `C${i}`,
      })),
    );
    secrets.setSecret("cold/kintone-token", KINTONE_TOKEN);
    await createPositionTable(moto, "cold-kintone-position");

    // saas-export: one page of 100 records through Squid (CONNECT with the header) into the fake S3.
    s3.createBucket("cold-bucket");
    saas.records = Array.from({ length: 100 }, (_, i) => ({ id: i + 1, name: `item ${i}` }));
    saas.pageSize = 100;
    saas.auth = { header: "authorization", value: `Bearer ${proxy.token}` };
    secrets.setSecret("cold/proxy-header", proxy.headerValue);
    secrets.setSecret("cold/saas-token", proxy.token);

    // PostgreSQL: the kit's master-user secret for db-writer and pets-api; a reader and a table for AppFlow.
    const dbSecret = secrets.setSecret("cold/db", JSON.stringify({ username: pg.user, password: pg.password }));
    await pg.sql("CREATE DATABASE cold");
    const readerSecret = secrets.setSecret(
      "appflow!123456789012-cold-profile",
      JSON.stringify({ username: "appflow_reader", password: "cold-reader-pw" }),
    );
    await pg.sql(`
      CREATE ROLE appflow_reader LOGIN PASSWORD 'cold-reader-pw';
      CREATE SCHEMA cold;
      CREATE TABLE cold.orders (id bigint PRIMARY KEY, customer text NOT NULL, amount numeric(12,2) NOT NULL);
      INSERT INTO cold.orders SELECT i, 'Customer ' || i, i / 100.0 FROM generate_series(1, 1000) AS i;
      GRANT USAGE ON SCHEMA cold TO appflow_reader;
      GRANT SELECT ON ALL TABLES IN SCHEMA cold TO appflow_reader;
    `);
    const pgEnv = {
      DB_HOST: pg.tlsServerName,
      DB_PORT: String(pg.port),
      DB_NAME: "cold",
      DB_SECRET_ARN: dbSecret,
      DB_TLS_CA_PEM_FILE: pg.caFile,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.url,
      ...AWS_ENV,
    };
    const dataApiEnv = {
      DB_CLUSTER_ARN: `arn:aws:rds:${TOKYO}:123456789012:cluster:cold`,
      DB_SECRET_ARN: `arn:aws:secretsmanager:${TOKYO}:123456789012:secret:cold-AbCdEf`,
      DB_NAME: "cold",
      ...AWS_ENV,
    };
    const pgBundle = { dbAccess: "pg", rdsCaRegion: TOKYO } as const;
    const restGet = JSON.stringify({
      resource: "/pets",
      path: "/pets",
      httpMethod: "GET",
      headers: {},
      queryStringParameters: { limit: "20" },
      pathParameters: null,
      body: null,
      isBase64Encoded: false,
      requestContext: { requestId: "cold" },
    });

    const subjects: Subject[] = [
      {
        label: "athena-connector",
        name: "athena-connector",
        opts: {},
        env: {
          PROXY_URL: `http://127.0.0.1:${squidPort}`,
          PROXY_HEADER_NAME: PROXY_HEADER,
          PROXY_HEADER_SECRET_ID: "cold/proxy-header",
          SAAS_AUTH_SECRET_ID: "cold/saas-token",
          SAAS_CA_FILE: saas.caFile,
          ATHENA_TABLES: JSON.stringify([
            {
              name: "items",
              url: saas.url("/v1/all"),
              recordsPath: "data.items",
              columns: [
                { name: "id", type: "bigint" },
                { name: "name", type: "string" },
              ],
            },
          ]),
          SPILL_BUCKET: "cold-bucket",
          SPILL_PREFIX: "spill/",
          AWS_ENDPOINT_URL_S3: s3.url,
          AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.url,
          ...AWS_ENV,
        },
        // Athena's first call to a connector: configuration checked, no SaaS request yet.
        event: JSON.stringify({
          "@type": "PingRequest",
          identity: {
            id: "UNKNOWN",
            principal: "UNKNOWN",
            account: "123456789012",
            arn: "arn:aws:iam::123456789012:user/cold",
            tags: {},
            groups: [],
            configOptions: {},
          },
          queryId: "cold",
          catalogName: "saas",
        }),
        ok: 'r && r["@type"] === "PingResponse"',
      },
      {
        label: "appflow-connector",
        name: "appflow-connector",
        opts: {},
        env: { AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.url, PG_EXTRA_CA_FILE: pg.caFile, ...AWS_ENV },
        event: JSON.stringify({
          type: "QueryDataRequest",
          entityIdentifier: "orders",
          maxResults: 100,
          connectorContext: {
            apiVersion: "v1",
            connectorRuntimeSettings: {
              host: "localhost",
              port: String(pg.port),
              database: "postgres",
              schema: "cold",
            },
            credentials: { secretArn: readerSecret, authenticationType: "CustomAuth" },
          },
        }),
        ok: "r.isSuccess && r.records.length === 100",
      },
      {
        label: "db-writer (pg)",
        name: "db-writer",
        opts: pgBundle,
        env: { DB_ACCESS: "pg", ...pgEnv },
        // A new batch id per run, so every first call inserts (and claims) a batch of 100 users.
        event: `{ batchId: "cold-" + process.pid + "-" + Date.now(), users: Array.from({ length: 100 }, (_, i) => ({ externalId: "u" + process.pid + "-" + Date.now() + "-" + i, email: "u" + i + "@example.com", name: "User " + i })) }`,
        ok: "r && r.inserted === 100",
      },
      { label: "db-writer (data-api)", name: "db-writer", opts: { dbAccess: "data-api" }, env: dataApiEnv },
      {
        label: "kintone-sync",
        name: "kintone-sync",
        opts: kintoneSyncBundleOptions(),
        env: {
          KINTONE_BASE_URL: kintone.url,
          KINTONE_APP_ID: "1",
          KINTONE_TOKEN_SECRET_ID: "cold/kintone-token",
          KINTONE_ALLOWLIST_HINT: 'stack output "egressIps" of stack cold',
          KINTONE_CHECKPOINT_TABLE: "cold-kintone-position",
          KINTONE_TRANSFORM_OPTIONS: JSON.stringify({ rules: [{ op: "collapseWhitespace", fields: ["name"] }] }),
          AWS_ENDPOINT_URL_DYNAMODB: moto.url,
          AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.url,
          ...AWS_ENV,
        },
        event: "{}",
        ok: "r && r.read === 100 && r.complete === true",
      },
      {
        label: "pets-api (pg)",
        name: "pets-api",
        opts: pgBundle,
        env: { DB_ACCESS: "pg", ...pgEnv },
        event: restGet,
        ok: "r && r.statusCode === 200",
      },
      { label: "pets-api (data-api)", name: "pets-api", opts: { dbAccess: "data-api" }, env: dataApiEnv },
      {
        label: "saas-export",
        name: "saas-export",
        opts: {},
        env: {
          PROXY_URL: `http://127.0.0.1:${squidPort}`,
          PROXY_HEADER_NAME: PROXY_HEADER,
          PROXY_HEADER_SECRET_ID: "cold/proxy-header",
          SAAS_URL: saas.url("/v1/cursor?limit=100"),
          SAAS_AUTH_SECRET_ID: "cold/saas-token",
          SAAS_PAGINATION: "cursor:meta.next_cursor:cursor",
          SAAS_RECORDS_PATH: "data.items",
          SAAS_CA_FILE: saas.caFile,
          BUCKET: "cold-bucket",
          PREFIX: "raw/saas/",
          AWS_ENDPOINT_URL_S3: s3.url,
          AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.url,
          ...AWS_ENV,
        },
        // A new date per run: each first call exports and publishes a fresh partition.
        event: `{ date: new Date(Date.UTC(2026, 0, 1) + (process.pid % 3000) * 86400000).toISOString().slice(0, 10) }`,
        ok: "r && r.records === 100",
      },
    ];

    const outDir = path.join(REPO_ROOT, "out", "bench", "cold-start");
    const prepared = subjects.map((s, i) => {
      const bundle = bundleFunction(s.name, s.opts);
      return { ...s, bytes: bundle.bytes, file: writeBundle(bundle, path.join(outDir, String(i))) };
    });

    // One untimed first call each: schema creation and the like, so every timed call finds the same state.
    for (const s of prepared) if (s.event) await child(firstResponseScript(s.file, s), s.env);

    const samples = new Map<string, Sample>();
    const add = (key: string, [w, c]: [number, number]) => {
      const e = samples.get(key) ?? { wall: [], cpu: [] };
      e.wall.push(w);
      e.cpu.push(c);
      samples.set(key, e);
    };
    for (let run = 0; run < RUNS; run++) {
      add("bare", await child(REPORT, {}));
      for (const s of prepared) {
        add(`${s.label}:init`, await child(initScript(s.file), s.env));
        if (s.event) add(`${s.label}:first`, await child(firstResponseScript(s.file, s), s.env));
      }
    }
    const med = (k: string) => ({ wallMs: median(samples.get(k)!.wall), cpuMs: median(samples.get(k)!.cpu) });
    const bare = med("bare");
    const above = (k: string) =>
      samples.has(k)
        ? { wallMs: +(med(k).wallMs - bare.wallMs).toFixed(1), cpuMs: +(med(k).cpuMs - bare.cpuMs).toFixed(1) }
        : null;
    const rows = prepared.map((s) => ({
      function: s.label,
      bundleBytes: s.bytes,
      init: above(`${s.label}:init`),
      initAndFirstResponse: above(`${s.label}:first`),
    }));
    const file = writeResult("cold-start", {
      machine: machine(),
      loadavg: os.loadavg().map((l) => +l.toFixed(1)),
      runs: RUNS,
      bareNode: { wallMs: +bare.wallMs.toFixed(1), cpuMs: +bare.cpuMs.toFixed(1) },
      rows,
    });
    console.log(
      `bare node start: ${bare.wallMs.toFixed(1)} ms wall, ${bare.cpuMs.toFixed(1)} ms CPU; below: ms above it, wall / CPU, median of ${RUNS}`,
    );
    console.log("| function | bundle | init | init + first response |");
    console.log("|---|--:|--:|--:|");
    for (const r of rows) {
      const f = (x: { wallMs: number; cpuMs: number } | null) => (x ? `${x.wallMs} / ${x.cpuMs}` : "—");
      console.log(
        `| ${r.function} | ${(r.bundleBytes / 1024).toFixed(1)} KiB | ${f(r.init)} | ${f(r.initAndFirstResponse)} |`,
      );
    }
    console.log(`wrote ${path.relative(process.cwd(), file)}`);
  } finally {
    await Promise.all([secrets.stop(), kintone.stop(), s3.stop(), moto.stop(), pg.stop(), proxy.stop()]);
  }
}

runBench(main);
