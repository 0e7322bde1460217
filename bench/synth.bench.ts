/**
 * Start-to-exit time of the offline commands as `npm run` starts them — `synth -- dev`, `synth -- prod` and
 * `check -- prod` — against the baseline they replace in the same run: the same command under
 * `ts-node --transpile-only` (which compiles every TypeScript file at each start and bundles every function anew).
 * Variants, interleaved run by run so the machine's load falls on all alike:
 *
 * - bare: `node -e 0` on the same Node, the floor of any command (process start and exit);
 * - ts-node: the baseline these commands replaced;
 * - cold: `node -r ops/ts-register.js` with every cache off (TypeScript transpiled, functions bundled, no V8 code cache);
 * - warm: the same with the caches of a previous run (out/ts-cache, out/bundle-cache, out/node-compile-cache), what a
 *   developer or CI sees from the second command on.
 *
 * Reported per variant: median wall time and median CPU time (user + system, the child's own and its children's),
 * wall ÷ ts-node's wall and warm ÷ bare (wall and CPU). On a shared machine wall time stretches with the load; CPU
 * time is what the command would take on an idle one. Targets: check -- prod ≤ 2 s, synth -- dev ≤ 3 s end to end
 * (idle machine), judged on the warm CPU time. BENCH_SYNTH_TSNODE=off leaves ts-node out (it is the slow part).
 *
 *   npm run bench -- synth
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { REPO_ROOT } from "../components/bundle";
import { runtimeNode } from "../ops/runtime-node";
import { machine, median, writeResult } from "./common";

const RUNS = Number(process.env.BENCH_SYNTH_RUNS ?? 5);
const TICK_MS = 10; // USER_HZ = 100 on Linux

/** CPU time of this process's waited-for children so far (Linux /proc), in ms. */
function childrenCpuMs(): number {
  const stat = fs.readFileSync("/proc/self/stat", "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[13]) + Number(f[14])) * TICK_MS; // cutime, cstime (fields 16 and 17)
}

type Variant = "bare" | "ts-node" | "cold" | "warm";
const WITH_TS_NODE = process.env.BENCH_SYNTH_TSNODE !== "off";
const COMMANDS: { label: string; script: string; args: (out: string) => string[]; target: number }[] = [
  {
    label: "synth -- dev",
    script: "ops/synth.ts",
    args: (out) => ["dev", "--out", path.join(out, "dev")],
    target: 3000,
  },
  {
    label: "synth -- prod",
    script: "ops/synth.ts",
    args: (out) => ["prod", "--out", path.join(out, "prod")],
    target: 3000,
  },
  {
    label: "check -- prod",
    script: "ops/check.ts",
    args: (out) => ["prod", "--out", path.join(out, "check-prod")],
    target: 2000,
  },
];

function run(variant: Variant, script: string, args: string[]): { wallMs: number; cpuMs: number } {
  const node = runtimeNode();
  // As `npm run synth|check` starts them (package.json), without npm's own start-up.
  const argv =
    variant === "bare"
      ? ["-e", "0"]
      : variant === "ts-node"
        ? [require.resolve("ts-node/dist/bin"), "--transpile-only", script, ...args]
        : ["--max-semi-space-size=32", "-r", "./ops/ts-register.js", script, ...args];
  const env = {
    ...process.env,
    ...(variant === "cold"
      ? { VLK_TS_CACHE: "off", VLK_BUNDLE_CACHE: "off", VLK_DIAGRAM_CACHE: "off", NODE_DISABLE_COMPILE_CACHE: "1" }
      : {}),
  };
  const cpu0 = childrenCpuMs();
  const t0 = process.hrtime.bigint();
  const r = spawnSync(node, argv, { cwd: REPO_ROOT, stdio: ["ignore", "ignore", "pipe"], env, encoding: "utf8" });
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${variant} ${script} ${args.join(" ")} exited ${r.status}: ${r.stderr}`);
  return { wallMs, cpuMs: childrenCpuMs() - cpu0 };
}

function main(): void {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "vlk-bench-synth-"));
  try {
    const variants: Variant[] = WITH_TS_NODE ? ["bare", "ts-node", "cold", "warm"] : ["bare", "cold", "warm"];
    // Fill the caches once, so "warm" means warm from its first sample.
    for (const c of COMMANDS) run("warm", c.script, c.args(out));
    const rows = COMMANDS.map((c) => {
      const samples = Object.fromEntries(
        variants.map((v) => [v, { wall: [] as number[], cpu: [] as number[] }]),
      ) as Record<Variant, { wall: number[]; cpu: number[] }>;
      for (let i = 0; i < RUNS; i++) {
        for (const v of variants) {
          const s = run(v, c.script, c.args(out));
          samples[v].wall.push(s.wallMs);
          samples[v].cpu.push(s.cpuMs);
        }
      }
      const m = (v: Variant) =>
        !samples[v] || samples[v].wall.length === 0
          ? undefined
          : { wallMs: Math.round(median(samples[v].wall)), cpuMs: Math.round(median(samples[v].cpu)) };
      const bare = m("bare")!;
      const base = m("ts-node");
      const cold = m("cold")!;
      const warm = m("warm")!;
      const ratio = (x: { wallMs: number }) => (base ? +(x.wallMs / base.wallMs).toFixed(2) : null);
      return {
        command: c.label,
        targetMs: c.target,
        bare,
        tsNode: base ?? null,
        cold: { ...cold, ratio: ratio(cold) },
        warm: {
          ...warm,
          ratio: ratio(warm),
          overBare: { wall: +(warm.wallMs / bare.wallMs).toFixed(1), cpu: +(warm.cpuMs / bare.cpuMs).toFixed(1) },
        },
        // On an idle machine wall ≈ CPU; the target is judged on the warm CPU time.
        meetsTarget: warm.cpuMs <= c.target,
      };
    });
    const resources = Object.fromEntries(
      ["dev", "prod"].map((s) => [
        s,
        JSON.parse(fs.readFileSync(path.join(out, s, "graph.json"), "utf8")).resources.length,
      ]),
    );
    const file = writeResult("synth", {
      machine: machine(),
      loadavg: os.loadavg().map((l) => +l.toFixed(1)),
      runs: RUNS,
      resources,
      rows,
    });
    console.log(
      "| command | bare node wall / CPU | ts-node wall / CPU | cold caches wall / CPU | warm wall / CPU | warm ÷ bare (wall / CPU) | warm ÷ ts-node | target (idle) | met |",
    );
    console.log("|---|---|---|---|---|---|---|---|---|");
    for (const r of rows) {
      const f = (x: { wallMs: number; cpuMs: number } | null) => (x ? `${x.wallMs} / ${x.cpuMs} ms` : "—");
      console.log(
        `| ${r.command} | ${f(r.bare)} | ${f(r.tsNode)} | ${f(r.cold)} | ${f(r.warm)} | ${r.warm.overBare.wall}× / ${r.warm.overBare.cpu}× | ${r.warm.ratio ?? "—"}× | ≤ ${r.targetMs} ms | ${r.meetsTarget ? "yes" : "NO"} |`,
      );
    }
    console.log(`wrote ${path.relative(process.cwd(), file)}`);
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
}

main();
