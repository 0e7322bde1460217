// npm run synth -- <stack> [--config <file>] [--inventory <file>] [--program <index.ts>] [--out <dir>]
// Evaluates the program offline under Pulumi mocks; writes <out>/graph.json and the function bundles.
import * as fs from "fs";
import * as path from "path";
import { spawnSync } from "child_process";
import { parseCommandLine, exitWithError } from "./cli-args";

const USAGE =
  "usage: npm run synth -- <stack> [--config <file>] [--inventory <file>] [--program <index.ts>] [--out <dir>]";

function parseArgs(argv: string[]) {
  const { options, positional } = parseCommandLine(argv, USAGE, ["config", "out", "inventory", "program"] as const, [
    "--quiet",
  ]);
  if (positional.length !== 1) exitWithError(USAGE);
  return { stack: positional[0], ...options };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const root = path.resolve(__dirname, "..");
  const outDir = path.resolve(args.out ?? path.join(root, "out", args.stack));
  const outRoot = path.dirname(outDir);

  // Split stacks read their upstream's outputs: synthesize the upstream first (in its own
  // process: Pulumi's runtime is global) and answer the StackReference from its graph.json.
  const stackOutputs = (qualified: string): Record<string, unknown> => {
    const short = qualified.split("/").pop() as string;
    const upstreamOut = path.join(outRoot, short);
    const r = spawnSync(process.execPath, [...process.execArgv, __filename, short, "--out", upstreamOut, "--quiet"], {
      stdio: ["ignore", "ignore", "inherit"],
      cwd: root,
    });
    if (r.status !== 0) throw new Error(`synth of upstream stack ${short} failed`);
    return JSON.parse(fs.readFileSync(path.join(upstreamOut, "graph.json"), "utf8")).outputs;
  };

  const { synthesize, writeSynthOutput, summarize } = await import("./synth-core");
  const started = Date.now();
  let result;
  try {
    result = await synthesize({
      stack: args.stack,
      configFile: args.config && path.resolve(args.config),
      inventoryFile: args.inventory && path.resolve(args.inventory),
      // Another program using the kit's components (e.g. examples/awsx-vpc/index.ts); default the kit's index.ts.
      program: args.program && path.resolve(args.program),
      stackOutputs,
    });
  } catch (e) {
    const err = e as Error;
    const known = ["ConfigError", "ConfigErrors"].includes(err?.name) || /^config file|Fix:/.test(err?.message ?? "");
    console.error(`synth ${args.stack} failed: ${known ? err.message : (err?.stack ?? String(e))}`);
    process.exit(known ? 2 : 1);
  }
  writeSynthOutput(result, outDir);
  if (!process.argv.includes("--quiet")) {
    console.log(summarize(result));
    console.log(`wrote ${path.relative(process.cwd(), path.join(outDir, "graph.json"))} in ${Date.now() - started} ms`);
    // The offline proof, exactly as `npm run check` reports it; a broken flow fails synth.
    const { checkAndWrite } = await import("./check/report");
    let checked;
    try {
      checked = await checkAndWrite(result.graph, {
        outDir,
        upstreamRoot: outRoot,
        configFile: args.config && path.resolve(args.config),
      });
    } catch (e) {
      const err = e as Error;
      const known = ["ConfigError", "ConfigErrors"].includes(err?.name);
      console.error(`check ${args.stack} failed: ${known ? err.message : (err?.stack ?? String(e))}`);
      process.exit(known ? 2 : 1);
    }
    console.log(`\n${checked.text}\n\nwrote ${checked.files.map((f) => path.relative(process.cwd(), f)).join(", ")}`);
    process.exit(checked.report.ok ? 0 : 1);
  }
  // Pulumi's runtime keeps handles open; the work is done.
  process.exit(0);
}

void main();
