// npm run check -- <stack> [--config <file>] [--inventory <file>] [--graph <graph.json>] [--out <dir>]
// Proves every declared flow offline, checks forbidden paths, policies and cost, draws the diagram.
// Without --graph it synthesizes the stack first (as `npm run synth` does). The config (--config,
// else Pulumi.<stack>.yaml when present) feeds the policies and the cost. Writes report.json,
// report.txt and diagram.svg beside graph.json. Exit 0 clean, 1 when a flow is broken, a forbidden
// path is open or a policy is violated, 2 for usage or configuration errors.
import * as fs from "fs";
import * as path from "path";
import { spawnSync } from "child_process";
import { parseCommandLine, exitWithError } from "./cli-args";

const USAGE =
  "usage: npm run check -- <stack> [--config <file>] [--inventory <file>] [--graph <graph.json>] [--out <dir>]";

function parseArgs(argv: string[]) {
  const { options, positional } = parseCommandLine(argv, USAGE, ["config", "graph", "out", "inventory"] as const);
  if (positional.length > 1 || (positional.length === 0 && !options.graph)) exitWithError(USAGE);
  return { stack: positional[0] as string | undefined, ...options };
}

function isConfigError(e: unknown): boolean {
  const err = e as Error;
  return ["ConfigError", "ConfigErrors"].includes(err?.name) || /^config file|Fix:/.test(err?.message ?? "");
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const root = path.resolve(__dirname, "..");
  const { checkAndWrite } = await import("./check/report");
  type Graph = import("./synth-core").Graph;

  let graph: Graph;
  let outDir: string;
  // Upstream graphs sit beside this one: <root>/<upstream stack>/graph.json.
  let upstreamRoot: string;
  if (args.graph) {
    const file = path.resolve(args.graph);
    if (!fs.existsSync(file))
      exitWithError(
        `graph file ${args.graph} not found: run npm run synth -- <stack> --out <dir> first, or drop --graph`,
      );
    try {
      graph = JSON.parse(fs.readFileSync(file, "utf8")) as Graph;
    } catch (e) {
      exitWithError(`graph file ${args.graph} is not JSON: ${(e as Error).message}`);
    }
    if (!Array.isArray(graph.resources))
      exitWithError(`graph file ${args.graph} has no "resources" list: pass a graph.json written by npm run synth`);
    if (args.stack && graph.stack !== args.stack)
      exitWithError(`graph file ${args.graph} is of stack ${graph.stack}, not ${args.stack}`);
    outDir = path.resolve(args.out ?? path.dirname(file));
    upstreamRoot = path.dirname(path.dirname(file));
  } else {
    const stack = args.stack as string;
    outDir = path.resolve(args.out ?? path.join(root, "out", stack));
    const outRoot = path.dirname(outDir);
    upstreamRoot = outRoot;
    // Split stacks read their upstream's outputs: synthesize the upstream first, in its own process.
    const stackOutputs = (qualified: string): Record<string, unknown> => {
      const short = qualified.split("/").pop() as string;
      const upstreamOut = path.join(outRoot, short);
      const r = spawnSync(
        process.execPath,
        [...process.execArgv, path.join(__dirname, "synth.ts"), short, "--out", upstreamOut, "--quiet"],
        { stdio: ["ignore", "ignore", "inherit"], cwd: root },
      );
      if (r.status !== 0) throw new Error(`synth of upstream stack ${short} failed`);
      return JSON.parse(fs.readFileSync(path.join(upstreamOut, "graph.json"), "utf8")).outputs;
    };
    const { synthesize, writeSynthOutput } = await import("./synth-core");
    try {
      const result = await synthesize({
        stack,
        configFile: args.config && path.resolve(args.config),
        inventoryFile: args.inventory && path.resolve(args.inventory),
        stackOutputs,
      });
      writeSynthOutput(result, outDir);
      graph = result.graph;
    } catch (e) {
      const err = e as Error;
      console.error(`synth ${stack} failed: ${isConfigError(e) ? err.message : (err?.stack ?? String(e))}`);
      process.exit(isConfigError(e) ? 2 : 1);
    }
  }

  let out;
  try {
    out = await checkAndWrite(graph, { outDir, upstreamRoot, configFile: args.config && path.resolve(args.config) });
  } catch (e) {
    if (!isConfigError(e)) throw e;
    exitWithError(`check ${graph.stack}: ${(e as Error).message}`);
  }
  const files = out.files;
  console.log(out.text);
  console.log(`\nwrote ${files.map((f) => path.relative(process.cwd(), f)).join(", ")}`);
  // Pulumi's runtime (when it synthesized) keeps handles open; the work is done.
  process.exit(out.report.ok ? 0 : 1);
}

main().catch((e) => {
  console.error(`check failed: ${(e as Error)?.stack ?? String(e)}`);
  process.exit(1);
});
