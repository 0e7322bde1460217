/**
 * `npm run twin -- <stack> [--graph FILE] [--flows-only] [--json FILE]` and `npm run twin -- --clean`.
 * Builds the synthesized environment on this machine from graph.json (root required), runs every flow and
 * handler in it, prints per flow whether real traffic got through. Exit 0: every flow and outcome OK;
 * 1: something failed; 2: bad input or a missing tool.
 */
import * as fs from "fs";
import * as path from "path";
import { cleanLeftovers, TwinSetupError } from "./host";
import { readGraph, TwinInputError } from "./model";
import { formatResult } from "./report";
import { runTwin } from "./run";

const USAGE =
  "usage: npm run twin -- <stack> [--graph FILE] [--flows-only] [--json FILE]   |   npm run twin -- --clean";

async function main(argv: string[]): Promise<number> {
  if (argv.includes("--clean")) {
    requireRoot();
    const removed = cleanLeftovers();
    console.log(removed.length ? `removed: ${removed.join(", ")}` : "nothing to remove");
    return 0;
  }
  let stack: string | undefined;
  let graphFile: string | undefined;
  let jsonOut: string | undefined;
  let flowsOnly = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--graph") graphFile = argv[++i];
    else if (a === "--json") jsonOut = argv[++i];
    else if (a === "--flows-only") flowsOnly = true;
    else if (a.startsWith("-")) throw new TwinInputError(`unknown option ${a}. ${USAGE}`);
    else if (!stack) stack = a;
    else throw new TwinInputError(`unexpected argument ${a}. ${USAGE}`);
  }
  if (!stack && !graphFile) throw new TwinInputError(`name a stack. ${USAGE}`);
  if (!graphFile) {
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(stack!))
      throw new TwinInputError(`"${stack}" is not a stack name. ${USAGE}`);
    const root = path.resolve(__dirname, "..", "..");
    const cfg = path.join(root, `Pulumi.${stack}.yaml`);
    graphFile = path.join(root, "out", stack!, "graph.json");
    if (!fs.existsSync(cfg) && !fs.existsSync(graphFile))
      throw new TwinInputError(
        `stack "${stack}" does not exist (no Pulumi.${stack}.yaml, no out/${stack}/graph.json). ${USAGE}`,
      );
    if (!fs.existsSync(graphFile))
      throw new TwinInputError(`out/${stack}/graph.json is missing: run \`npm run synth -- ${stack}\` first`);
  }
  const graph = readGraph(graphFile!);
  requireRoot();
  const result = await runTwin(graph, path.dirname(path.resolve(graphFile!)), {
    handlers: !flowsOnly,
    log: (l) => console.error(l),
  });
  console.log(formatResult(result));
  if (jsonOut) fs.writeFileSync(jsonOut, JSON.stringify(result, null, 2));
  return result.flows.every((f) => f.ok) && result.outcomes.every((o) => o.ok) ? 0 : 1;
}

function requireRoot(): void {
  if (typeof process.getuid === "function" && process.getuid() !== 0) {
    throw new TwinSetupError(
      "the twin needs root (network namespaces, veth links, nftables): run it with sudo or as root",
    );
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    if (err instanceof TwinInputError || err instanceof TwinSetupError) {
      console.error(`twin: ${err.message}`);
      process.exit(2);
    }
    console.error(err);
    process.exit(1);
  },
);
