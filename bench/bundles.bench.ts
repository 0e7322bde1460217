/**
 * Per function: bundle size and cold init — a fresh `node` that requires the bundle, median of N runs,
 * minus a bare `node` start-up — beside the same handler deployed as an unbundled tree (own sources
 * compiled, every npm dependency loaded from node_modules at run time).
 * Targets: bundle ≤ 400 KB, init ≤ 60 ms and ≤ 0.6× the unbundled tree's init.
 * Also: the same bundle with the external `@aws-sdk/*` clients stubbed out (what our own code costs;
 * the Lambda runtime loads the SDK from its own image), and the SDK clients' load time alone.
 *
 *   npx ts-node --transpile-only bench/bundles.bench.ts
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as esbuild from "esbuild";
import { BUNDLE_TARGET, BundleOptions, bundleFunction, REPO_ROOT, writeBundle } from "../components/bundle";
import { kintoneSyncBundleOptions } from "../functions/kintone-sync/bundle-options";
import { machine, median, writeResult } from "./common";

const RUNS = Number(process.env.BENCH_INIT_RUNS ?? 21);
/** Bundle options per function folder (aliases bound at deploy time). */
const OPTIONS: Record<string, () => BundleOptions> = { "kintone-sync": () => kintoneSyncBundleOptions() };

function timeRequire(file: string | null, code?: string): number {
  const samples: number[] = [];
  const script = code ?? (file ? `require(${JSON.stringify(file)})` : "");
  for (let i = 0; i < RUNS; i++) {
    const t0 = process.hrtime.bigint();
    execFileSync(process.execPath, ["-e", script], { cwd: REPO_ROOT, env: { ...process.env, NODE_OPTIONS: "" }, stdio: "ignore" });
    samples.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return median(samples);
}

function main(): void {
  const names = fs.readdirSync(path.join(REPO_ROOT, "functions")).filter((n) => fs.existsSync(path.join(REPO_ROOT, "functions", n, "index.ts")));
  const outDir = path.join(REPO_ROOT, "out", "bench");
  const bare = timeRequire(null);
  const rows = names.map((name) => {
    const opts = OPTIONS[name]?.() ?? {};
    const bundle = bundleFunction(name, opts);
    const bundled = writeBundle(bundle, path.join(outDir, "bundled", name));
    // The unbundled deployment: same sources and aliases, but every package stays a require() of node_modules.
    const unbundled = path.join(outDir, "unbundled", name, "index.js");
    esbuild.buildSync({ entryPoints: [path.join(REPO_ROOT, "functions", name, "index.ts")], bundle: true, packages: "external", alias: opts.alias, platform: "node", format: "cjs", target: BUNDLE_TARGET, outfile: unbundled, logLevel: "silent" });
    const initBundled = timeRequire(bundled) - bare;
    const initUnbundled = timeRequire(unbundled) - bare;
    // The same bytes beside a node_modules of empty @aws-sdk/* stand-ins: the bundle's own init cost.
    const sdkModules = [...new Set([...bundle.code.matchAll(/require\("(@aws-sdk\/[^"]+)"\)/g)].map((m) => m[1]))];
    const stubRoot = path.join(outDir, "sdk-stubbed", name);
    for (const m of sdkModules) {
      fs.mkdirSync(path.join(stubRoot, "node_modules", m), { recursive: true });
      fs.writeFileSync(path.join(stubRoot, "node_modules", m, "index.js"), "module.exports = new Proxy({}, { get: () => class {} });\n");
    }
    const initOwn = timeRequire(writeBundle(bundle, stubRoot)) - bare;
    const sdkOnly = sdkModules.length ? timeRequire(null, sdkModules.map((m) => `require(${JSON.stringify(m)})`).join(";")) - bare : 0;
    return {
      function: name,
      bundleBytes: bundle.bytes,
      initMs: +initBundled.toFixed(1),
      unbundledInitMs: +initUnbundled.toFixed(1),
      ratio: +(initBundled / initUnbundled).toFixed(2),
      initWithoutSdkMs: +initOwn.toFixed(1),
      sdkModules,
      sdkLoadMs: +sdkOnly.toFixed(1),
      meetsTargets: bundle.bytes <= 400 * 1024 && initBundled <= 60 && initBundled <= 0.6 * initUnbundled,
    };
  });
  const file = writeResult("bundles", { machine: machine(), runs: RUNS, bareNodeMs: +bare.toFixed(1), rows });
  console.log("| function | bundle | cold init | unbundled init | ratio | init without SDK | SDK clients alone | targets met |");
  console.log("|---|---|---|---|---|---|---|---|");
  for (const r of rows) console.log(`| ${r.function} | ${(r.bundleBytes / 1024).toFixed(1)} KiB | ${r.initMs} ms | ${r.unbundledInitMs} ms | ${r.ratio}× | ${r.initWithoutSdkMs} ms | ${r.sdkLoadMs} ms | ${r.meetsTargets ? "yes" : "NO"} |`);
  console.log(`wrote ${path.relative(process.cwd(), file)}`);
}

main();
