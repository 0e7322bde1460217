/**
 * saas-export benchmark: the bundled handler (the deployed bytes) exporting 100,000 records, 1,000 per page, from the
 * fake SaaS over real TLS through a real Squid (renderSquidConf config, secret header on CONNECT) into the fake S3,
 * with the default part size. Everything runs on 127.0.0.1 and the handler shares its process (and CPU) with the
 * fake SaaS and the fake S3, so records/s is a floor for the handler's own cost, not a network figure.
 *
 *   npx ts-node --transpile-only bench/saas-export.bench.ts
 *
 * Writes bench/results/saas-export.json and prints a markdown table.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { REPO_ROOT } from "../components/bundle";
import type { ExportSummary, PartitionManifest } from "../functions/saas-export/index";
import { loadBundledHandler } from "../test/support/bundled";
import { FakeS3 } from "../test/fakes/s3";
import type { FakeSaas } from "../test/fakes/saas";
import { FakeSecretsManager } from "../test/fakes/secrets-manager";
import { PROXY_HEADER, startSaasProxy } from "../test/support/saas-proxy";
import { squidVersion } from "../test/support/squid";
import { machine, median, runBench, writeResult } from "./common";

const RECORDS = 100_000;
const PAGE_SIZE = 1_000;
const REPEATS = 3;
const HEADER_VALUE = "bench-proxy-header-value-0123456789";
const TOKEN = "bench-saas-token";
const BUCKET = "bench-bucket";
const DATE = "2026-11-21";

type Handler = (event?: unknown) => Promise<ExportSummary>;

function record(i: number): Record<string, unknown> {
  return {
    id: i + 1,
    name: `Customer ${i + 1}`,
    email: `customer${i + 1}@example.com`,
    createdAt: new Date(Date.UTC(2026, 0, 1) + i * 60_000).toISOString(),
    amount: Math.round(((i * 7919) % 100_000) * 1.01) / 100,
    tags: ["bench", `t${i % 17}`],
    note: i % 10 === 0 ? "multi\nline, “unicode” 日本語" : null,
  };
}

async function main(): Promise<void> {
  const s3 = new FakeS3();
  const secrets = new FakeSecretsManager();
  await Promise.all([s3.start(), secrets.start()]);
  const proxy = await startSaasProxy({ headerValue: HEADER_VALUE, token: TOKEN, sandboxPrefix: "vlk-squid-bench-" });
  const { saas, squid, sandbox } = proxy;
  s3.createBucket(BUCKET);
  saas.records = Array.from({ length: RECORDS }, (_, i) => record(i));
  saas.pageSize = PAGE_SIZE;
  saas.auth = { header: "authorization", value: `Bearer ${TOKEN}` };
  secrets.setSecret("bench/proxy-header", HEADER_VALUE);
  secrets.setSecret("bench/saas-token", TOKEN);

  Object.assign(process.env, {
    PROXY_URL: `http://127.0.0.1:${squid.port}`,
    PROXY_HEADER_NAME: PROXY_HEADER,
    PROXY_HEADER_SECRET_ID: "bench/proxy-header",
    SAAS_URL: saas.url(`/v1/cursor?limit=${PAGE_SIZE}`),
    SAAS_AUTH_SECRET_ID: "bench/saas-token",
    SAAS_PAGINATION: "cursor:meta.next_cursor:cursor",
    SAAS_RECORDS_PATH: "data.items",
    SAAS_CA_FILE: saas.caFile,
    SAAS_MAX_PAGES: String(RECORDS / PAGE_SIZE + 10),
    BUCKET,
    PREFIX: "raw/saas/",
    LOG_LEVEL: "warn",
    AWS_ENDPOINT_URL_S3: s3.url,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.url,
    AWS_REGION: "ap-northeast-1",
    AWS_ACCESS_KEY_ID: "AKIAFAKEFAKEFAKEFAKE",
    AWS_SECRET_ACCESS_KEY: "fake",
    AWS_EC2_METADATA_DISABLED: "true",
  });

  const durations: number[] = [];
  let summary: ExportSummary | undefined;
  try {
    for (let rep = 0; rep < REPEATS; rep++) {
      // A fresh require per repeat: every run is a cold start (config, secrets, S3 client, tunnel).
      const handler = loadBundledHandler<{ handler: Handler }>("saas-export").handler;
      const t0 = process.hrtime.bigint();
      summary = await handler({ date: DATE });
      durations.push(Number(process.hrtime.bigint() - t0) / 1e9);
      verify(s3, saas, summary);
    }
  } finally {
    await squid.stop(); // first, so its access log is complete
    await Promise.all([s3.stop(), secrets.stop()]);
  }
  const access = fs.existsSync(sandbox.accessLogPath) ? fs.readFileSync(sandbox.accessLogPath, "utf8") : "";
  const tunnels = (access.match(/TCP_TUNNEL\/200 \d+ CONNECT api\.example\.com/g) ?? []).length;
  await proxy.stop();

  const med = median(durations);
  const s = summary!;
  const row = {
    records: s.records,
    pages: s.pages,
    objects: s.objects,
    bytes: s.bytes,
    medianSeconds: +med.toFixed(3),
    recordsPerSecond: Math.round(s.records / med),
    mebibytesPerSecond: +(s.bytes / 2 ** 20 / med).toFixed(1),
    tunnelsPerRun: +(tunnels / REPEATS).toFixed(2),
    runs: durations.map((d) => +d.toFixed(3)),
  };
  const file = writeResult("saas-export", {
    benchmark: "saas-export",
    machine: machine(),
    setup: {
      handler: "bundled functions/saas-export (esbuild, as deployed), fresh module (cold start) per run",
      path: `fake SaaS (HTTPS, test CA) ← real Squid ${squidVersion()} (CONNECT + secret header) ← handler → fake S3 (no proxy)`,
      pageSize: PAGE_SIZE,
      partMaxBytes: "default (32 MiB)",
      repeats: REPEATS,
      note: "handler, fake SaaS and fake S3 share one Node process; Squid is a separate process; all on 127.0.0.1",
    },
    results: [row],
  });

  const lines = [
    `saas-export — node ${process.version}, Squid ${squidVersion()}`,
    "",
    `| records | pages | parts | MiB | tunnels/run | seconds (median of ${REPEATS}) | records/s | MiB/s |`,
    "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    `| ${row.records.toLocaleString("en")} | ${row.pages} | ${row.objects} | ${(row.bytes / 2 ** 20).toFixed(1)} | ${row.tunnelsPerRun} | ${row.medianSeconds} | ${row.recordsPerSecond.toLocaleString("en")} | ${row.mebibytesPerSecond} |`,
    "",
    `written to ${path.relative(REPO_ROOT, file)}`,
  ];
  process.stdout.write(lines.join("\n") + "\n");
}

/** The run must have exported exactly the source, or its timing means nothing. */
function verify(s3: FakeS3, saas: FakeSaas, summary: ExportSummary): void {
  if (summary.records !== RECORDS) throw new Error(`exported ${summary.records} records, expected ${RECORDS}`);
  const manifestObj = s3.object(BUCKET, summary.manifestKey);
  if (!manifestObj) throw new Error("no manifest");
  const manifest = JSON.parse(manifestObj.body.toString("utf8")) as PartitionManifest;
  let i = 0;
  for (const p of manifest.parts) {
    const body = s3.object(BUCKET, p.key)!.body;
    if (crypto.createHash("sha256").update(body).digest("hex") !== p.sha256)
      throw new Error(`${p.key}: sha256 differs from the manifest`);
    for (const line of body.toString("utf8").split("\n")) {
      if (line === "") continue;
      if (line !== JSON.stringify(saas.records[i])) throw new Error(`record ${i} differs`);
      i++;
    }
  }
  if (i !== RECORDS) throw new Error(`partition holds ${i} records`);
}

runBench(main);
