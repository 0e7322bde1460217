/**
 * kintone-sync benchmark: the bundled handler (the deployed bytes) syncing 10,000 and 50,000 records, 30% of which
 * need a change, against the fake kintone on 127.0.0.1 (same process, so records/s measures the handler's and the
 * fake's CPU, not a network).
 *
 * The figure that matters is API calls used ÷ the minimum kintone's limits allow:
 *   minimum = ceil(records / 500)       GET records.json returns at most 500 records
 *           + ceil(changed / 2000)      a bulkRequest carries at most 20 PUT records.json of 100 records
 * with no unavoidable overhead: the token comes from Secrets Manager (not a kintone call), seek-by-$id paging holds
 * no cursor to create or delete, and totalCount on the first page saves the empty read that would find the end.
 *
 *   npx ts-node --transpile-only bench/kintone-sync.bench.ts
 *
 * Writes bench/results/kintone-sync.json and prints a markdown table.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { REPO_ROOT } from "../components/bundle";
import { kintoneSyncBundleOptions } from "../functions/kintone-sync/bundle-options";
import type { SyncSummary } from "../functions/kintone-sync/types";
import { loadBundledHandler } from "../test/support/bundled";
import { FakeKintone, LIMITS } from "../test/fakes/kintone-server";
import { FakeSecretsManager } from "../test/fakes/secrets-manager";
import { createPositionTable, startMoto } from "../test/support/moto";
import { runBench } from "./common";

const SIZES = [10_000, 50_000];
const CHANGED_SHARE = 0.3;
const REPEATS = 3;
const APP = 1;
const TOKEN = "BenchToken0000000000000000000000000000000";
const SECRET = "bench/kintone-token";

type Handler = (event?: unknown) => Promise<SyncSummary>;

interface Row {
  records: number;
  changed: number;
  apiCalls: number;
  minimumCalls: number;
  ratio: number;
  secondRunApiCalls: number;
  secondRunMinimum: number;
  secretsManagerCalls: number;
  medianSeconds: number;
  recordsPerSecond: number;
  runs: number[];
}

const isDirty = (i: number) => (i * 37) % 100 < CHANGED_SHARE * 100;

async function measure(n: number, secrets: FakeSecretsManager): Promise<Row> {
  const durations: number[] = [];
  let first: SyncSummary | undefined;
  let second: SyncSummary | undefined;
  let smCalls = 0;
  for (let rep = 0; rep < REPEATS; rep++) {
    const kintone = new FakeKintone({ tokens: { [TOKEN]: { app: APP, view: true, edit: true } } });
    await kintone.start();
    kintone.addApp({
      id: APP,
      fields: { name: "SINGLE_LINE_TEXT", code: "SINGLE_LINE_TEXT", memo: "MULTI_LINE_TEXT" },
    });
    kintone.seed(
      APP,
      Array.from({ length: n }, (_, i) => ({
        name: isDirty(i) ? `  Customer  ${i} ` : `Customer ${i}`,
        code: `C${i}`,
        memo: "x",
      })),
    );
    secrets.resetCalls();
    process.env.KINTONE_BASE_URL = kintone.url;
    const handler = loadBundledHandler<{ handler: Handler }>("kintone-sync", kintoneSyncBundleOptions()).handler;

    const t0 = process.hrtime.bigint();
    const summary = await handler({});
    durations.push(Number(process.hrtime.bigint() - t0) / 1e9);

    if (kintone.violations.length > 0) throw new Error(`limits broken: ${kintone.violations.join("; ")}`);
    if (kintone.totalRequests !== summary.apiCalls)
      throw new Error(`handler counted ${summary.apiCalls} calls, kintone saw ${kintone.totalRequests}`);
    const stillDirty = kintone
      .allRecords(APP)
      .filter((r) => String(r.values.name) !== String(r.values.name).trim().replace(/\s+/g, " "));
    if (stillDirty.length > 0 || summary.written !== summary.changed)
      throw new Error(`sync incomplete: ${stillDirty.length} records still dirty`);
    smCalls = secrets.callsFor(SECRET);
    if (rep === 0) {
      first = summary;
      kintone.resetStats();
      second = await handler({});
      if (second.written !== 0) throw new Error(`second run wrote ${second.written} records`);
    }
    await kintone.stop();
  }
  const changed = first!.changed;
  const minimumCalls =
    Math.ceil(n / LIMITS.getRecords) + Math.ceil(changed / (LIMITS.putRecords * LIMITS.bulkRequests));
  const median = [...durations].sort((a, b) => a - b)[Math.floor(durations.length / 2)];
  return {
    records: n,
    changed,
    apiCalls: first!.apiCalls,
    minimumCalls,
    ratio: Number((first!.apiCalls / minimumCalls).toFixed(3)),
    secondRunApiCalls: second!.apiCalls,
    secondRunMinimum: Math.ceil(n / LIMITS.getRecords),
    secretsManagerCalls: smCalls,
    medianSeconds: Number(median.toFixed(3)),
    recordsPerSecond: Math.round(n / median),
    runs: durations.map((d) => Number(d.toFixed(3))),
  };
}

async function main(): Promise<void> {
  const secrets = new FakeSecretsManager();
  await secrets.start();
  secrets.setSecret(SECRET, TOKEN);
  // The saved sync position lives in DynamoDB: moto's, one table for the whole run (each size uses a fresh fake
  // kintone on its own port, so its own position item).
  const moto = await startMoto();
  await createPositionTable(moto, "bench-kintone-position");
  Object.assign(process.env, {
    KINTONE_CHECKPOINT_TABLE: "bench-kintone-position",
    AWS_ENDPOINT_URL_DYNAMODB: moto.url,
    KINTONE_APP_ID: String(APP),
    KINTONE_TOKEN_SECRET_ID: SECRET,
    KINTONE_ALLOWLIST_HINT: 'stack output "egressIps" of stack bench',
    KINTONE_TRANSFORM_OPTIONS: JSON.stringify({ rules: [{ op: "collapseWhitespace", fields: ["name"] }] }),
    LOG_LEVEL: "warn",
    AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.url,
    AWS_REGION: "ap-northeast-1",
    AWS_ACCESS_KEY_ID: "AKIAFAKEFAKEFAKEFAKE",
    AWS_SECRET_ACCESS_KEY: "fake",
    AWS_EC2_METADATA_DISABLED: "true",
  });
  delete process.env.KINTONE_QUERY;

  const rows: Row[] = [];
  try {
    for (const n of SIZES) rows.push(await measure(n, secrets));
  } finally {
    await Promise.all([secrets.stop(), moto.stop()]);
  }

  const result = {
    benchmark: "kintone-sync",
    date: new Date().toISOString(),
    node: process.version,
    machine: {
      platform: `${os.platform()} ${os.release()}`,
      arch: os.arch(),
      cpu: os.cpus()[0]?.model ?? "unknown",
      cpus: os.cpus().length,
      memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    },
    setup: {
      handler: "bundled functions/kintone-sync (esbuild, as deployed), fresh module per run",
      kintone: "test/fakes/kintone-server.ts on 127.0.0.1, same process; kintone limits enforced",
      changedShare: CHANGED_SHARE,
      repeats: REPEATS,
      minimumCalls: "ceil(records/500) + ceil(changed/2000); token reads go to Secrets Manager, not kintone; no cursor",
    },
    results: rows,
  };
  const out = path.join(REPO_ROOT, "bench", "results", "kintone-sync.json");
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, JSON.stringify(result, null, 2) + "\n");

  const lines = [
    `kintone-sync — ${result.date}, node ${result.node}, ${result.machine.cpus} x ${result.machine.cpu}`,
    "",
    "| records | changed | API calls | minimum | ratio | 2nd run calls (min) | records/s (median of " + REPEATS + ") |",
    "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...rows.map(
      (r) =>
        `| ${r.records.toLocaleString("en")} | ${r.changed.toLocaleString("en")} | ${r.apiCalls} | ${r.minimumCalls} | ${r.ratio.toFixed(3)} | ${r.secondRunApiCalls} (${r.secondRunMinimum}) | ${r.recordsPerSecond.toLocaleString("en")} |`,
    ),
    "",
    `written to ${path.relative(REPO_ROOT, out)}`,
  ];
  process.stdout.write(lines.join("\n") + "\n");
}

runBench(main);
