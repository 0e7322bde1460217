import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { REPO_ROOT } from "../../components/bundle";

/**
 * The offline commands (ops/synth.ts, ops/check.ts) run as the npm scripts run them, in a child process, on a
 * stack file a test wrote: for the tests that a bad config stops them with exit 2 before anything is written.
 */

/** Pulumi.<stack>.yaml as its YAML document (the config map under `config`). */
export function stackDoc(stack = "dev"): { config: Record<string, unknown> } & Record<string, unknown> {
  return YAML.parse(fs.readFileSync(path.join(REPO_ROOT, `Pulumi.${stack}.yaml`), "utf8"));
}

/** Writes `doc` (or text) as `<dir>/Pulumi.<stack>.yaml`; returns its path. */
export function writeStackFile(dir: string, stack: string, doc: object | string): string {
  const file = path.join(dir, `Pulumi.${stack}.yaml`);
  fs.writeFileSync(file, typeof doc === "string" ? doc : YAML.stringify(doc));
  return file;
}

export interface OpsRun {
  script: string;
  status: number | null;
  stderr: string;
  /** The --out folder the command was given. */
  out: string;
}

/** Runs `script` (ops/synth.ts or ops/check.ts) for `stack` with `--config file --out out`, through ts-node. */
export function runOps(script: "ops/synth.ts" | "ops/check.ts", stack: string, file: string, out: string): OpsRun {
  const r = spawnSync(
    process.execPath,
    [require.resolve("ts-node/dist/bin"), "--transpile-only", script, stack, "--config", file, "--out", out],
    { cwd: REPO_ROOT, encoding: "utf8" },
  );
  return { script, status: r.status, stderr: r.stderr, out };
}

/** A refusal as the kit makes it: exit 2, a sentence rather than a stack trace, and no graph written. */
export function expectRefused(r: OpsRun): void {
  expect([r.script, r.status]).toEqual([r.script, 2]);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(fs.existsSync(path.join(r.out, "graph.json"))).toBe(false);
}
