/**
 * Wall time of `npm run synth -- <stack>` for dev and prod (process start to exit, ts-node included),
 * median of N runs.
 *
 *   npx ts-node --transpile-only bench/synth.bench.ts
 */
import { execFileSync } from "child_process";
import * as os from "os";
import * as path from "path";
import * as fs from "fs";
import { REPO_ROOT } from "../components/bundle";
import { machine, median, writeResult } from "./common";

const RUNS = Number(process.env.BENCH_SYNTH_RUNS ?? 5);

function main(): void {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "vlk-bench-synth-"));
  const rows = ["dev", "prod"].map((stack) => {
    const samples: number[] = [];
    let resources = 0;
    for (let i = 0; i < RUNS; i++) {
      const t0 = process.hrtime.bigint();
      execFileSync(process.execPath, [require.resolve("ts-node/dist/bin"), "--transpile-only", "ops/synth.ts", stack, "--out", path.join(out, stack), "--quiet"], { cwd: REPO_ROOT, stdio: "ignore" });
      samples.push(Number(process.hrtime.bigint() - t0) / 1e6);
      resources = JSON.parse(fs.readFileSync(path.join(out, stack, "graph.json"), "utf8")).resources.length;
    }
    return { stack, resources, medianMs: Math.round(median(samples)), minMs: Math.round(Math.min(...samples)) };
  });
  const file = writeResult("synth", { machine: machine(), runs: RUNS, rows });
  console.log("| stack | resources | synth (median) | min |");
  console.log("|---|---|---|---|");
  for (const r of rows) console.log(`| ${r.stack} | ${r.resources} | ${r.medianMs} ms | ${r.minMs} ms |`);
  console.log(`wrote ${path.relative(process.cwd(), file)}`);
}

main();
