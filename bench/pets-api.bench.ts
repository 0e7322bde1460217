/**
 * pets-api benchmark, through the bundled handler (the deployed bytes) on the pg path against a local PostgreSQL 15
 * (test/support/postgres.ts: TLS on, SCRAM, fsync off), credentials from the fake Secrets Manager:
 *
 *   GET /pets?limit=20     first page of a 10,000-pet table (keyset query + JSON of 20 pets)
 *   GET /pets?limit=100    a page from the middle (the cursor of a previous page)
 *   GET /pets/{id}         one pet by id
 *   POST /pets             validation (zod) + INSERT … RETURNING
 *
 * Each is invoked in process, one request at a time, as one Lambda container serves them (a container never runs two
 * invocations at once; API Gateway scales out with containers): requests/s = 1 / mean latency, with p50 and p99.
 * Then the cold start in fresh `node` processes: loading the bundle (median of N, minus a bare `node` start-up),
 * and load + first request (Secrets Manager read, TLS connect, schema check, the query).
 * Server, fakes and handler share this 2-core machine; over API Gateway, a VPC endpoint and a Transit Gateway each
 * request pays a few ms more in the network, which these figures leave out.
 *
 *   npx ts-node --transpile-only bench/pets-api.bench.ts
 *
 * Writes bench/results/pets-api.json and prints markdown tables.
 */
import { execFile } from "child_process";
import { promisify } from "util";
import * as path from "path";
import { bundleFunction, REPO_ROOT, writeBundle } from "../components/bundle";
import type { RestProxyEvent, RestProxyResult } from "../functions/pets-api/index";
import { loadBundledHandler } from "../test/support/bundled";
import { runtimeNode } from "../ops/runtime-node";

/** The bundle a pg deployment in Tokyo gets. */
const PG_BUNDLE = { dbAccess: "pg", rdsCaRegion: "ap-northeast-1" } as const;
import { startPostgres, PgServer } from "../test/support/postgres";
import { FakeSecretsManager } from "../test/fakes/secrets-manager";
import { machine, median, runBench, writeResult } from "./common";

const execFileAsync = promisify(execFile);
const SEED = 10_000;
const WARMUP = 200;
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 3000);
const INIT_RUNS = Number(process.env.BENCH_INIT_RUNS ?? 15);

interface Bundle {
  handler: (event: RestProxyEvent) => Promise<RestProxyResult>;
  shutdown: () => Promise<void>;
}

/** The handler's JSON log lines are kept off the terminal. */
const write = process.stdout.write.bind(process.stdout);
process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
  const text = typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8");
  if (text.startsWith('{"time"')) return true;
  return (write as (...a: unknown[]) => boolean)(chunk, ...rest);
}) as typeof process.stdout.write;

function restEvent(method: string, p: string, query?: Record<string, string>, body?: unknown): RestProxyEvent {
  return {
    resource: p === "/pets" ? "/pets" : "/pets/{id}",
    path: p,
    httpMethod: method,
    headers: { "content-type": "application/json" },
    queryStringParameters: query ?? null,
    pathParameters: p === "/pets" ? null : { id: p.split("/")[2] },
    body: body === undefined ? null : JSON.stringify(body),
    isBase64Encoded: false,
    requestContext: { requestId: "bench", stage: "v1", identity: { vpceId: "vpce-0a1b2c3d4e5f60718" } },
  };
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function measure(name: string, h: Bundle["handler"], next: (i: number) => RestProxyEvent, expectStatus: number) {
  for (let i = 0; i < WARMUP; i++) await h(next(i));
  const lat: number[] = [];
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < REQUESTS; i++) {
    const s = process.hrtime.bigint();
    const res = await h(next(WARMUP + i));
    lat.push(Number(process.hrtime.bigint() - s) / 1e6);
    if (res.statusCode !== expectStatus) throw new Error(`${name}: HTTP ${res.statusCode} ${res.body}`);
  }
  const total = Number(process.hrtime.bigint() - t0) / 1e9;
  lat.sort((a, b) => a - b);
  return {
    request: name,
    requests: REQUESTS,
    rps: Math.round(REQUESTS / total),
    p50Ms: +pct(lat, 50).toFixed(2),
    p99Ms: +pct(lat, 99).toFixed(2),
    maxMs: +lat[lat.length - 1].toFixed(2),
  };
}

/** Median wall time of fresh `node -e script` runs. Asynchronous: the fake Secrets Manager lives in this process. */
async function timeNode(script: string, env: NodeJS.ProcessEnv): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < INIT_RUNS; i++) {
    const t0 = process.hrtime.bigint();
    await execFileAsync(runtimeNode(), ["-e", script], {
      cwd: REPO_ROOT,
      env: { ...env, NODE_OPTIONS: "" },
      timeout: 60_000,
    });
    samples.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return median(samples);
}

async function main(): Promise<void> {
  const pg: PgServer = await startPostgres();
  const secrets = new FakeSecretsManager();
  await secrets.start();
  try {
    const secretArn = secrets.setSecret(
      "rds!cluster-bench",
      JSON.stringify({ username: pg.user, password: pg.password }),
    );
    await pg.sql("CREATE DATABASE pets_bench");
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      AWS_REGION: "ap-northeast-1",
      AWS_ACCESS_KEY_ID: "bench",
      AWS_SECRET_ACCESS_KEY: "bench",
      AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.url,
      DB_ACCESS: "pg",
      DB_NAME: "pets_bench",
      DB_SECRET_ARN: secretArn,
      DB_HOST: pg.tlsServerName,
      DB_PORT: String(pg.port),
      DB_TLS_CA_PEM_FILE: pg.caFile,
      LOG_LEVEL: "warn",
    };
    Object.assign(process.env, env);

    const mod = loadBundledHandler<Bundle>("pets-api", PG_BUNDLE);
    const h = mod.handler;
    // The first request migrates the schema; then seed the table in one statement.
    const first = await h(restEvent("GET", "/pets"));
    if (first.statusCode !== 200) throw new Error(`first request: ${first.statusCode} ${first.body}`);
    const { Client } = await import("pg");
    const c = new Client(pg.pgConfig({ database: "pets_bench" }) as never);
    await c.connect();
    await c.query(`INSERT INTO pets (id, name, species, birth_date, tags)
      SELECT gen_random_uuid(), 'pet ' || g, (ARRAY['dog','cat','bird','fish'])[1 + g % 4], date '2015-01-01' + (g % 3000), jsonb_build_array('t' || (g % 10))
      FROM generate_series(1, ${SEED}) g`);
    const ids = (await c.query("SELECT id::text AS id FROM pets ORDER BY random() LIMIT 1000")).rows.map(
      (r) => r.id as string,
    );
    await c.end();
    const mid = JSON.parse((await h(restEvent("GET", "/pets", { limit: "100" }))).body).nextCursor as string;
    let cursor = mid;
    for (let i = 0; i < 40; i++)
      cursor = JSON.parse((await h(restEvent("GET", "/pets", { limit: "100", cursor }))).body).nextCursor;

    const rows = [
      await measure("GET /pets?limit=20", h, () => restEvent("GET", "/pets", { limit: "20" }), 200),
      await measure(
        "GET /pets?limit=100 (mid-table cursor)",
        h,
        () => restEvent("GET", "/pets", { limit: "100", cursor }),
        200,
      ),
      await measure("GET /pets/{id}", h, (i) => restEvent("GET", `/pets/${ids[i % ids.length]}`), 200),
      await measure(
        "POST /pets",
        h,
        (i) =>
          restEvent("POST", "/pets", undefined, {
            name: `bench ${i}`,
            species: "dog",
            birthDate: "2020-01-01",
            tags: ["bench"],
          }),
        201,
      ),
    ];
    await mod.shutdown();

    // Cold start: fresh processes load the same bytes; then load + the first request against the same server.
    const bundle = bundleFunction("pets-api", PG_BUNDLE);
    const file = writeBundle(bundle, path.join(REPO_ROOT, "out", "bench", "bundled", "pets-api"));
    const bare = await timeNode("", env);
    const load = (await timeNode(`require(${JSON.stringify(file)})`, env)) - bare;
    const firstRequest =
      (await timeNode(
        `const m = require(${JSON.stringify(file)}); m.handler(${JSON.stringify(restEvent("GET", "/pets", { limit: "20" }))}).then(async (r) => { if (r.statusCode !== 200) process.exit(1); await m.shutdown(); })`,
        env,
      )) - bare;

    const result = {
      machine: machine(),
      seededPets: SEED,
      requestsPerCase: REQUESTS,
      concurrency: 1,
      rows,
      bundleBytes: bundle.bytes,
      bareNodeMs: +bare.toFixed(1),
      coldInitMs: +load.toFixed(1),
      coldFirstResponseMs: +firstRequest.toFixed(1),
      initRuns: INIT_RUNS,
    };
    const out = writeResult("pets-api", result);
    console.log("| request (one container, sequential) | req/s | p50 | p99 | max |");
    console.log("|---|---|---|---|---|");
    for (const r of rows) console.log(`| ${r.request} | ${r.rps} | ${r.p50Ms} ms | ${r.p99Ms} ms | ${r.maxMs} ms |`);
    console.log(
      `\nbundle ${(bundle.bytes / 1024).toFixed(1)} KiB; cold init (load) ${result.coldInitMs} ms; load + first response ${result.coldFirstResponseMs} ms (median of ${INIT_RUNS}, minus bare node ${result.bareNodeMs} ms)`,
    );
    console.log(`wrote ${path.relative(process.cwd(), out)}`);
  } finally {
    await secrets.stop();
    await pg.stop();
  }
}

runBench(main);
