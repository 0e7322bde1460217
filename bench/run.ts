// npm run bench: every benchmark in turn; each writes bench/results/<name>.json and prints its table.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { runtimeNode } from "../ops/runtime-node";

const dir = __dirname;
const only = process.argv.slice(2);
const benches = fs
  .readdirSync(dir)
  .filter((f) => f.endsWith(".bench.ts"))
  .sort()
  .filter((f) => only.length === 0 || only.some((o) => f.startsWith(o)));
let failed = 0;
for (const f of benches) {
  console.log(`\n## ${f.replace(".bench.ts", "")}`);
  // Each benchmark in its own process on the runtime's Node, TypeScript run as `npm run synth` runs it.
  const r = spawnSync(runtimeNode(), ["-r", path.resolve(dir, "..", "ops", "ts-register.js"), path.join(dir, f)], {
    stdio: "inherit",
    cwd: path.resolve(dir, ".."),
  });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
