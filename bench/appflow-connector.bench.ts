/**
 * appflow-connector benchmark: the bundled handler (the deployed bytes) paging a 100,000-row table through
 * QueryData, as AppFlow does (request → records + nextToken → next request), against a real PostgreSQL 15 over
 * verified TLS, for a range of page sizes (maxResults). For each: rows/s over the whole table, pages, and the
 * largest response as Lambda would serialize it, against Lambda's 6 MB response limit. The handler runs with
 * RESPONSE_MAX_BYTES at its maximum (6 MiB − 64 KiB) and MAX_PAGE_ROWS 100000, so large page sizes show where the
 * byte budget, not maxResults, ends a page.
 *
 *   npx ts-node --transpile-only bench/appflow-connector.bench.ts
 *
 * Writes bench/results/appflow-connector.json and prints a markdown table. The handler shares this process with
 * the benchmark loop; PostgreSQL is a separate process on the same 2 cores, so rows/s is a floor.
 */
import { LAMBDA_RESPONSE_LIMIT_BYTES } from "../functions/appflow-connector/config";
import { loadBundledHandler } from "../test/support/bundled";
import { startPostgres } from "../test/support/postgres";
import { FakeSecretsManager } from "../test/fakes/secrets-manager";
import { machine, median, runBench, writeResult } from "./common";

const ROWS = 100_000;
const PAGE_SIZES = [500, 1_000, 2_000, 5_000, 10_000, 20_000, 30_000, 50_000];
const REPEATS = 3;
const READER_PASSWORD = "bench-reader-password";

type Handler = (event: unknown) => Promise<Record<string, any>>;

interface Run {
  seconds: number;
  pages: number;
  rows: number;
  maxResponseBytes: number;
  bytesLimitedPages: number;
}

async function main(): Promise<void> {
  const pg = await startPostgres();
  const secrets = new FakeSecretsManager();
  await secrets.start();
  const arn = secrets.setSecret(
    "appflow!123456789012-bench-profile",
    JSON.stringify({ username: "appflow_reader", password: READER_PASSWORD }),
  );
  try {
    await pg.sql(`
      CREATE ROLE appflow_reader LOGIN PASSWORD '${READER_PASSWORD}';
      CREATE SCHEMA bench;
      CREATE TABLE bench.orders (
        id bigint PRIMARY KEY, customer text NOT NULL, email text NOT NULL, amount numeric(12,2) NOT NULL,
        status text NOT NULL, created_at timestamptz NOT NULL, shipped_on date, note text);
      INSERT INTO bench.orders
        SELECT i, 'Customer ' || (i % 5000), 'customer' || (i % 5000) || '@example.com', ((i * 7919) % 100000) / 100.0,
               (ARRAY['new', 'paid', 'shipped', 'closed'])[1 + i % 4], timestamptz '2024-01-01 00:00:00+00' + make_interval(secs => i * 37),
               CASE WHEN i % 4 >= 2 THEN date '2024-01-01' + (i % 700) END,
               CASE WHEN i % 10 = 0 THEN 'gift wrap, "fragile" – 日本語' END
          FROM generate_series(1, ${ROWS}) AS i;
      GRANT USAGE ON SCHEMA bench TO appflow_reader;
      GRANT SELECT ON ALL TABLES IN SCHEMA bench TO appflow_reader;
      ANALYZE bench.orders;
    `);
    Object.assign(process.env, {
      AWS_REGION: "ap-northeast-1",
      AWS_ACCESS_KEY_ID: "bench",
      AWS_SECRET_ACCESS_KEY: "bench",
      AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.url,
      PG_EXTRA_CA_FILE: pg.caFile,
      LOG_LEVEL: "warn",
      RESPONSE_MAX_BYTES: String(LAMBDA_RESPONSE_LIMIT_BYTES - 64 * 1024),
      MAX_PAGE_ROWS: "100000",
    });
    const mod = loadBundledHandler<{ handler: Handler; shutdown: () => Promise<void> }>("appflow-connector");
    const context = {
      apiVersion: "v1",
      connectorRuntimeSettings: { host: "localhost", port: String(pg.port), database: "postgres", schema: "bench" },
      credentials: { secretArn: arn, authenticationType: "CustomAuth" },
    };

    const readAll = async (maxResults: number): Promise<Run> => {
      let nextToken: string | undefined;
      let pages = 0;
      let rows = 0;
      let maxResponseBytes = 0;
      let bytesLimitedPages = 0;
      const started = process.hrtime.bigint();
      do {
        const r = await mod.handler({
          type: "QueryDataRequest",
          entityIdentifier: "orders",
          maxResults,
          connectorContext: context,
          ...(nextToken ? { nextToken } : {}),
        });
        if (!r.isSuccess) throw new Error(`QueryData failed: ${JSON.stringify(r.errorDetails)}`);
        // What the Lambda runtime sends back: the response serialized as JSON.
        const bytes = Buffer.byteLength(JSON.stringify(r));
        maxResponseBytes = Math.max(maxResponseBytes, bytes);
        if (r.nextToken && r.records.length < maxResults) bytesLimitedPages++;
        rows += r.records.length;
        pages++;
        nextToken = r.nextToken ?? undefined;
      } while (nextToken);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (rows !== ROWS) throw new Error(`read ${rows} rows, expected ${ROWS}`);
      return { seconds, pages, rows, maxResponseBytes, bytesLimitedPages };
    };

    await readAll(5_000); // warm: connection, TLS, metadata cache, JIT
    const results = [];
    for (const size of PAGE_SIZES) {
      const runs: Run[] = [];
      for (let i = 0; i < REPEATS; i++) runs.push(await readAll(size));
      const secs = median(runs.map((r) => r.seconds));
      const r0 = runs[0];
      results.push({
        maxResults: size,
        pages: r0.pages,
        rowsPerPage: Math.round(ROWS / r0.pages),
        bytesLimitedPages: r0.bytesLimitedPages,
        maxResponseBytes: Math.max(...runs.map((r) => r.maxResponseBytes)),
        withinLambdaLimit: Math.max(...runs.map((r) => r.maxResponseBytes)) <= LAMBDA_RESPONSE_LIMIT_BYTES,
        medianSeconds: Number(secs.toFixed(3)),
        rowsPerSecond: Math.round(ROWS / secs),
        runs: runs.map((r) => Number(r.seconds.toFixed(3))),
      });
    }
    await mod.shutdown();

    const sample = (await pg.sql("SELECT avg(octet_length(to_json(o)::text))::int AS b FROM bench.orders o"))[0]
      .b as number;
    const eligible = results.filter((r) => r.withinLambdaLimit);
    const best = eligible.reduce((a, b) => (b.rowsPerSecond > a.rowsPerSecond ? b : a));
    const data = {
      benchmark: "appflow-connector",
      machine: machine(),
      setup: {
        handler: "bundled functions/appflow-connector (esbuild, as deployed), one warm container",
        database: "PostgreSQL 15 on 127.0.0.1, TLS verified (test CA via PG_EXTRA_CA_FILE), SCRAM, fsync off",
        table: `bench.orders: ${ROWS} rows, 8 columns (bigint PK, text, numeric, timestamptz, date, nullable text), ~${sample} bytes per record as JSON`,
        responseMaxBytes: LAMBDA_RESPONSE_LIMIT_BYTES - 64 * 1024,
        lambdaResponseLimitBytes: LAMBDA_RESPONSE_LIMIT_BYTES,
        repeats: REPEATS,
        note: "handler and benchmark loop share one Node process; PostgreSQL is a separate process on the same 2 cores; response bytes = JSON.stringify(response)",
      },
      results,
      best: { maxResults: best.maxResults, rowsPerSecond: best.rowsPerSecond, maxResponseBytes: best.maxResponseBytes },
    };
    const file = writeResult("appflow-connector", data);
    console.log(`appflow-connector QueryData over ${ROWS} rows (~${sample} B/record as JSON), median of ${REPEATS}:\n`);
    console.log("| maxResults | pages | rows/page | byte-limited pages | largest response | rows/s |");
    console.log("|---|---|---|---|---|---|");
    for (const r of results) {
      console.log(
        `| ${r.maxResults} | ${r.pages} | ${r.rowsPerPage} | ${r.bytesLimitedPages} | ${(r.maxResponseBytes / 1024 / 1024).toFixed(2)} MiB | ${r.rowsPerSecond.toLocaleString("en-US")} |`,
      );
    }
    console.log(
      `\nbest within the 6 MB limit: maxResults ${best.maxResults} (${best.rowsPerSecond.toLocaleString("en-US")} rows/s)\nwrote ${file}`,
    );
  } finally {
    await secrets.stop();
    await pg.stop();
  }
}

runBench(main);
