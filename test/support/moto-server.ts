/**
 * A moto S3 (AWS emulator) on a free loopback port, for tests that need real S3 semantics. moto lives in one of the
 * pyenv Pythons: every ~/.pyenv/versions/<v>/bin/python3 is tried (and python3 on PATH) until one imports moto.
 * `stop()` ends the server process this module started, by its pid.
 */
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { freePort, sleep } from "./squid";

export const MOTO_MISSING = "moto not found: install it into a pyenv Python (python3 -m pip install 'moto[server]')";

export function findMotoPython(): string | undefined {
  const root = path.join(os.homedir(), ".pyenv", "versions");
  const candidates = fs.existsSync(root)
    ? fs
        .readdirSync(root)
        .sort()
        .reverse()
        .map((v) => path.join(root, v, "bin", "python3"))
    : [];
  candidates.push("python3");
  for (const py of candidates) {
    if (py !== "python3" && !fs.existsSync(py)) continue;
    const r = spawnSync(py, ["-c", "import moto.server"], { encoding: "utf8" });
    if (r.status === 0) return py;
  }
  return undefined;
}

export interface RunningMoto {
  /** http://127.0.0.1:<port> */
  url: string;
  stop(): Promise<void>;
}

export async function startMoto(timeoutMs = 30_000): Promise<RunningMoto> {
  const py = findMotoPython();
  if (!py) throw new Error(MOTO_MISSING);
  const port = await freePort();
  const child: ChildProcess = spawn(py, ["-m", "moto.server", "-H", "127.0.0.1", "-p", String(port)], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout?.on("data", (d) => (out += d));
  child.stderr?.on("data", (d) => (out += d));
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once("exit", () => ((exited = true), resolve())));
  const started = Date.now();
  for (;;) {
    if (exited) throw new Error(`moto.server exited during startup:\n${out}`);
    if (await accepts(port)) break;
    if (Date.now() - started > timeoutMs) {
      child.kill("SIGKILL");
      throw new Error(`moto.server did not listen on ${port} within ${timeoutMs} ms:\n${out}`);
    }
    await sleep(100);
  }
  return {
    url: `http://127.0.0.1:${port}`,
    async stop() {
      if (exited) return;
      child.kill("SIGTERM");
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([exit, new Promise<void>((resolve) => (timer = setTimeout(resolve, 5_000)))]);
      clearTimeout(timer);
      if (!exited) {
        child.kill("SIGKILL");
        await exit;
      }
    },
  };
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, "127.0.0.1");
    s.once("connect", () => (s.destroy(), resolve(true)));
    s.once("error", () => resolve(false));
  });
}
