import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { REPO_ROOT } from "../components/bundle";

export const RESULTS_DIR = path.join(REPO_ROOT, "bench", "results");

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function machine(): Record<string, unknown> {
  return {
    node: process.version,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model,
    memGiB: Math.round(os.totalmem() / 2 ** 30),
    date: new Date().toISOString(),
  };
}

export function writeResult(name: string, data: unknown): string {
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  const file = path.join(RESULTS_DIR, `${name}.json`);
  fs.writeFileSync(file, JSON.stringify(data, null, 2) + "\n");
  return file;
}

/** Runs a benchmark's main: a failure prints its stack and exits 1, so a broken run never looks like a result. */
export function runBench(main: () => Promise<void>): void {
  main().catch((err: unknown) => {
    process.stderr.write(`benchmark failed: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exit(1);
  });
}
