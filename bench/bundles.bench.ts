/**
 * Per function, as deployed (bundle options a stack gives it): bundle size and cold init on the Lambda runtime's
 * Node (24, `ops/runtime-node.ts`), against its floor measured in the same run.
 *
 * - bare: a `node -e ""` start-up; every figure below is above it.
 * - floor: a process that loads only the SDK clients the function's default path needs, from node_modules as the
 *   runtime loads its own copy (db-writer/pets-api on pg: Secrets Manager; on the Data API: RDS Data; saas-export:
 *   S3 + Secrets Manager; …). No bundle can load faster than the clients it needs.
 * - init: a fresh process that requires the bundle (module scope only: what Lambda's init phase runs).
 * - target: init ≤ max(60 ms, 1.25 × floor).
 * - before: the same function built the way it was before each lever (both database paths and every region's RDS
 *   CA certificates; kintone-sync with axios, qs and form-data instead of its stand-ins), so each lever's effect is
 *   visible.
 * - compile cache: init with V8's compile cache (NODE_COMPILE_CACHE) already filled by an earlier start.
 *
 * Times are medians of RUNS fresh processes, run round-robin so the machine's load falls on every variant alike,
 * measured inside the child (performance.now() after the require: process start to end of init, without exit).
 * CPU time (user + system of the child) is reported beside it: on a loaded machine wall time stretches, CPU less.
 * Also: each SDK client bundled into the function instead of taken from the runtime (size and init).
 *
 *   npm run bench -- bundles
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as esbuild from "esbuild";
import { BUNDLE_TARGET, BundleOptions, bundleFunction, REPO_ROOT, writeBundle } from "../components/bundle";
import { kintoneSyncBundleOptions } from "../functions/kintone-sync/bundle-options";
import { runtimeNode } from "../ops/runtime-node";
import { machine, median, writeResult } from "./common";

const RUNS = Number(process.env.BENCH_INIT_RUNS ?? 21);
const TOKYO = "ap-northeast-1";

interface Case {
  label: string;
  name: string;
  opts: BundleOptions;
  /** The build before the levers, for the "before" column. */
  before: BundleOptions;
}

const kintone = kintoneSyncBundleOptions();
// Before: @kintone/rest-api-client with the real axios (and its fetch probe), qs and form-data. The environment and
// transform checks were zod schemas before too; that lever is a source change, measured separately (README).
const { axios: _axios, qs: _qs, "form-data": _formData, ...kintoneWithPackages } = kintone.alias ?? {};
const CASES: Case[] = [
  { label: "appflow-connector", name: "appflow-connector", opts: {}, before: {} },
  { label: "athena-connector", name: "athena-connector", opts: {}, before: {} },
  { label: "db-writer (pg)", name: "db-writer", opts: { dbAccess: "pg", rdsCaRegion: TOKYO }, before: {} },
  { label: "db-writer (data-api)", name: "db-writer", opts: { dbAccess: "data-api" }, before: {} },
  { label: "kintone-sync", name: "kintone-sync", opts: kintone, before: { alias: kintoneWithPackages } },
  { label: "pets-api (pg)", name: "pets-api", opts: { dbAccess: "pg", rdsCaRegion: TOKYO }, before: {} },
  { label: "pets-api (data-api)", name: "pets-api", opts: { dbAccess: "data-api" }, before: {} },
  { label: "saas-export", name: "saas-export", opts: {}, before: {} },
];

const sdkClients = (code: string) =>
  [...new Set([...code.matchAll(/require\("(@aws-sdk\/[^"]+)"\)/g)].map((m) => m[1]))].sort();
const requireAll = (files: string[]) => files.map((f) => `require(${JSON.stringify(f)});`).join("");

interface Probe {
  key: string;
  script: string;
  env?: Record<string, string>;
}

/** Runs every probe RUNS times round-robin; returns per key the median in-child wall and CPU ms. */
function measure(probes: Probe[]): Map<string, { wallMs: number; cpuMs: number }> {
  const node = runtimeNode();
  const wall = new Map<string, number[]>();
  const cpu = new Map<string, number[]>();
  const report =
    ";const u=process.cpuUsage();process.stdout.write(JSON.stringify([performance.now(),(u.user+u.system)/1000]))";
  for (let i = 0; i < RUNS; i++) {
    for (const p of probes) {
      const r = spawnSync(node, ["-e", p.script + report], {
        cwd: REPO_ROOT,
        encoding: "utf8",
        env: { ...process.env, NODE_OPTIONS: "", NODE_COMPILE_CACHE: "", ...(p.env ?? {}) },
      });
      if (r.status !== 0) throw new Error(`${p.key}: ${r.stderr}`);
      const [w, c] = JSON.parse(r.stdout) as [number, number];
      wall.set(p.key, [...(wall.get(p.key) ?? []), w]);
      cpu.set(p.key, [...(cpu.get(p.key) ?? []), c]);
    }
  }
  return new Map(probes.map((p) => [p.key, { wallMs: median(wall.get(p.key)!), cpuMs: median(cpu.get(p.key)!) }]));
}

function main(): void {
  const outDir = path.join(REPO_ROOT, "out", "bench", "bundles");
  fs.rmSync(outDir, { recursive: true, force: true });
  const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), "vlk-compile-cache-"));
  const probes: Probe[] = [{ key: "bare", script: "" }];
  const cases = CASES.map((c, i) => {
    const bundle = bundleFunction(c.name, c.opts);
    const before = bundleFunction(c.name, c.before);
    const file = writeBundle(bundle, path.join(outDir, `${i}-after`));
    const beforeFile = writeBundle(before, path.join(outDir, `${i}-before`));
    const clients = sdkClients(bundle.code);
    probes.push({ key: `${i}:floor`, script: clients.map((m) => `require(${JSON.stringify(m)});`).join("") });
    probes.push({ key: `${i}:init`, script: requireAll([file]) });
    probes.push({ key: `${i}:before`, script: requireAll([beforeFile]) });
    probes.push({ key: `${i}:compile-cache`, script: requireAll([file]), env: { NODE_COMPILE_CACHE: cacheDir } });
    return { ...c, bundle, before, clients, file };
  });
  // SDK clients bundled with the function instead of loaded from the runtime's copy.
  const clients = [...new Set(cases.flatMap((c) => c.clients))].sort();
  const sdkBundled = clients.map((m) => {
    const out = path.join(outDir, "sdk", `${m.replace(/[@/]/g, "_")}.js`);
    esbuild.buildSync({
      stdin: { contents: `module.exports = require(${JSON.stringify(m)});`, resolveDir: REPO_ROOT },
      bundle: true,
      platform: "node",
      format: "cjs",
      target: BUNDLE_TARGET,
      minify: true,
      legalComments: "none",
      mainFields: ["module", "main"],
      outfile: out,
      logLevel: "silent",
    });
    probes.push({ key: `sdk:${m}:runtime`, script: `require(${JSON.stringify(m)})` });
    probes.push({ key: `sdk:${m}:bundled`, script: requireAll([out]) });
    return { client: m, bundledBytes: fs.statSync(out).size, out };
  });
  // Fill the compile cache once.
  for (const c of cases)
    spawnSync(runtimeNode(), ["-e", requireAll([c.file])], {
      cwd: REPO_ROOT,
      env: { ...process.env, NODE_COMPILE_CACHE: cacheDir },
    });

  const m = measure(probes);
  fs.rmSync(cacheDir, { recursive: true, force: true });
  const bare = m.get("bare")!;
  const above = (k: string) => ({
    wallMs: +(m.get(k)!.wallMs - bare.wallMs).toFixed(1),
    cpuMs: +(m.get(k)!.cpuMs - bare.cpuMs).toFixed(1),
  });
  const rows = cases.map((c, i) => {
    const floor = above(`${i}:floor`);
    const init = above(`${i}:init`);
    const targetMs = +Math.max(60, 1.25 * floor.wallMs).toFixed(1);
    const targetCpuMs = +Math.max(60, 1.25 * floor.cpuMs).toFixed(1);
    return {
      function: c.label,
      bundleBytes: c.bundle.bytes,
      beforeBytes: c.before.bytes,
      sdkClients: c.clients,
      floor,
      init,
      ratioToFloor: +(init.wallMs / Math.max(floor.wallMs, 1)).toFixed(2),
      targetMs,
      before: above(`${i}:before`),
      withCompileCache: above(`${i}:compile-cache`),
      targetCpuMs,
      ratioToFloorCpu: +(init.cpuMs / Math.max(floor.cpuMs, 1)).toFixed(2),
      // Size, and init within max(60 ms, 1.25 × floor) by wall time; by CPU time too (what load does not stretch).
      meetsTargets: c.bundle.bytes <= 400 * 1024 && init.wallMs <= targetMs,
      meetsTargetsCpu: c.bundle.bytes <= 400 * 1024 && init.cpuMs <= targetCpuMs,
    };
  });
  const sdk = sdkBundled.map((s) => ({
    client: s.client,
    bundledBytes: s.bundledBytes,
    runtimeCopy: above(`sdk:${s.client}:runtime`),
    bundled: above(`sdk:${s.client}:bundled`),
  }));
  const file = writeResult("bundles", {
    machine: machine(),
    loadavg: os.loadavg().map((l) => +l.toFixed(1)),
    runs: RUNS,
    bareNodeMs: +bare.wallMs.toFixed(1),
    bareNodeCpuMs: +bare.cpuMs.toFixed(1),
    rows,
    sdkBundled: sdk,
  });

  const kib = (b: number) => `${(b / 1024).toFixed(1)} KiB`;
  console.log(
    `bare node start: ${bare.wallMs.toFixed(1)} ms (CPU ${bare.cpuMs.toFixed(1)} ms); below: ms above it, wall / CPU, median of ${RUNS}`,
  );
  console.log(
    "| function | bundle (before) | SDK clients (floor) | floor | cold init | ÷ floor (wall / CPU) | target | met (wall / CPU) | before the levers | with compile cache |",
  );
  console.log("|---|---|---|---|---|---|---|---|---|---|");
  for (const r of rows) {
    console.log(
      `| ${r.function} | ${kib(r.bundleBytes)} (${kib(r.beforeBytes)}) | ${r.sdkClients.map((s) => s.replace("@aws-sdk/client-", "")).join(" + ")} | ${r.floor.wallMs} / ${r.floor.cpuMs} | ${r.init.wallMs} / ${r.init.cpuMs} | ${r.ratioToFloor}× / ${r.ratioToFloorCpu}× | ≤ ${r.targetMs} / ${r.targetCpuMs} | ${r.meetsTargets ? "yes" : "NO"} / ${r.meetsTargetsCpu ? "yes" : "NO"} | ${r.before.wallMs} / ${r.before.cpuMs} | ${r.withCompileCache.wallMs} / ${r.withCompileCache.cpuMs} |`,
    );
  }
  console.log("\n| SDK client | bundled size | init from the runtime's copy | init bundled |");
  console.log("|---|---|---|---|");
  for (const s of sdk)
    console.log(
      `| ${s.client} | ${kib(s.bundledBytes)} | ${s.runtimeCopy.wallMs} / ${s.runtimeCopy.cpuMs} | ${s.bundled.wallMs} / ${s.bundled.cpuMs} |`,
    );
  console.log(`wrote ${path.relative(process.cwd(), file)}`);
}

main();
