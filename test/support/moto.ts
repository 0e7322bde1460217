/**
 * Runs moto (an independent AWS emulator with AWS's request/response and error shapes) for tests: one
 * `moto.server` per caller, on a free loopback port, in its own process.
 *
 * The Python that has moto is found by globbing ~/.pyenv/versions/* /bin/python3 (newest first) and asking each
 * for `import moto`; MOTO_PYTHON overrides the search. /usr/bin/python3 is never assumed. A machine without moto
 * fails the test with the command that installs it: tests never skip.
 *
 * The server is started through a small launcher that exits when its stdin closes, so a test process that dies
 * (a crashed jest worker, a SIGKILL) cannot leave a moto behind; `stop()` kills it explicitly as well.
 *
 * Usage (per test file):
 *   let moto: MotoServer;
 *   beforeAll(async () => { moto = await startMoto(); moto.applyEnv(); });
 *   afterAll(() => moto?.stop());
 *   beforeEach(() => moto.reset());
 * `applyEnv()` points every SDK v3 client of this process at moto (AWS_ENDPOINT_URL plus dummy credentials and a
 * region) and `restoreEnv()` undoes it; `clientConfig()` gives the same settings for one client.
 */
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as os from "os";
import * as path from "path";
import { freePort, isExecutable } from "./local";

export const MOTO_MISSING =
  "moto (the AWS emulator) was not found in any pyenv Python (~/.pyenv/versions/*/bin/python3) nor in MOTO_PYTHON: " +
  'install it with `~/.pyenv/versions/<version>/bin/python3 -m pip install "moto[server]"` ' +
  "(or point MOTO_PYTHON at a python3 that has it)";

/** Region and account moto answers for; ARNs in responses use them. */
export const MOTO_REGION = "ap-northeast-1";
export const MOTO_ACCOUNT = "123456789012";

const READY_TIMEOUT_MS = 30_000;
const START_ATTEMPTS = 3;

let cachedPython: string | undefined;

/** Absolute path of a python3 that can `import moto`, or throws MOTO_MISSING. */
export function findMotoPython(env: NodeJS.ProcessEnv = process.env): string {
  const useCache = env === process.env;
  if (useCache && cachedPython) return cachedPython;
  const candidates: string[] = [];
  if (env.MOTO_PYTHON) candidates.push(env.MOTO_PYTHON);
  const root = path.join(env.PYENV_ROOT ?? path.join(os.homedir(), ".pyenv"), "versions");
  if (fs.existsSync(root)) {
    const versions = fs.readdirSync(root).sort(compareVersionsDesc);
    for (const v of versions) candidates.push(path.join(root, v, "bin", "python3"));
  }
  for (const c of candidates) {
    if (!isExecutable(c)) continue;
    const r = spawnSync(c, ["-c", "import moto, moto.server"], { stdio: "ignore", timeout: 30_000 });
    if (r.status === 0) {
      if (useCache) cachedPython = c;
      return c;
    }
  }
  throw new Error(MOTO_MISSING);
}

export interface MotoServer {
  /** http://127.0.0.1:<port> */
  url: string;
  port: number;
  region: string;
  /** Environment that points SDK v3 clients at this server. */
  env(): Record<string, string>;
  /** Sets env() on process.env, remembering what it replaced. */
  applyEnv(): void;
  /** Puts back what applyEnv() replaced. */
  restoreEnv(): void;
  /** Client settings for one SDK v3 client: endpoint, region, dummy credentials (S3: path-style). */
  clientConfig(): {
    endpoint: string;
    region: string;
    credentials: { accessKeyId: string; secretAccessKey: string };
    forcePathStyle: boolean;
  };
  /** Drops every resource in every service (moto's /moto-api/reset). */
  reset(): Promise<void>;
  /** Kills the server; safe to call twice. */
  stop(): Promise<void>;
  /** Its stderr so far (request log and tracebacks), for failure messages. */
  log(): string;
}

/**
 * Launcher: a thread waits for EOF on stdin (the parent going away, however it ends) and exits the process; the
 * main thread runs moto's own server entry point, single host, no reloader.
 */
const LAUNCHER = [
  "import os, sys, threading",
  "def _watch():",
  "    try:",
  "        sys.stdin.buffer.read()",
  "    finally:",
  "        os._exit(0)",
  "threading.Thread(target=_watch, daemon=True).start()",
  "from moto.server import main",
  "main(sys.argv[1:])",
].join("\n");

export interface StartMotoOptions {
  /**
   * Extra environment for the server, e.g. `{ INITIAL_NO_AUTH_ACTION_COUNT: "4" }`: moto then checks IAM policies
   * (action level; resources are not matched) for every request after the first four, which set up users and keys.
   */
  env?: Record<string, string>;
}

export async function startMoto(opts: StartMotoOptions = {}): Promise<MotoServer> {
  const python = findMotoPython();
  let lastError: Error | undefined;
  // A port found free can be taken by another test process before moto binds it: try a fresh one.
  for (let attempt = 0; attempt < START_ATTEMPTS; attempt++) {
    const port = await freePort();
    try {
      return await launch(python, port, opts.env ?? {});
    } catch (err) {
      lastError = err as Error;
    }
  }
  throw lastError ?? new Error("moto did not start");
}

async function launch(python: string, port: number, extraEnv: Record<string, string>): Promise<MotoServer> {
  const child: ChildProcess = spawn(python, ["-c", LAUNCHER, "-H", "127.0.0.1", "-p", String(port)], {
    stdio: ["pipe", "ignore", "pipe"],
    env: { ...process.env, PYTHONUNBUFFERED: "1", MOTO_PORT: String(port), ...extraEnv },
  });
  let stderr = "";
  child.stderr?.setEncoding("utf8");
  child.stderr?.on("data", (d: string) => {
    stderr = (stderr + d).slice(-20_000);
  });
  let exited: number | null | undefined;
  const exitPromise = new Promise<void>((resolve) => child.once("exit", (code) => ((exited = code), resolve())));
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);

  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    process.removeListener("exit", killOnExit);
    if (exited !== undefined) return;
    child.stdin?.end();
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 3_000);
    await exitPromise;
    clearTimeout(timer);
  };

  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (exited !== undefined) {
      await stop();
      throw new Error(`moto.server exited (code ${exited}) before it was ready on ${url}: ${stderr.slice(-2_000)}`);
    }
    if (await answers(`${url}/moto-api/data.json`)) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`moto.server did not answer on ${url} within ${READY_TIMEOUT_MS} ms: ${stderr.slice(-2_000)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }

  const env = (): Record<string, string> => ({
    AWS_ENDPOINT_URL: url,
    AWS_ACCESS_KEY_ID: "testing",
    AWS_SECRET_ACCESS_KEY: "testing",
    AWS_SESSION_TOKEN: "testing",
    AWS_REGION: MOTO_REGION,
    AWS_DEFAULT_REGION: MOTO_REGION,
  });
  let saved: Record<string, string | undefined> | undefined;
  return {
    url,
    port,
    region: MOTO_REGION,
    env,
    applyEnv() {
      const e = env();
      saved = saved ?? Object.fromEntries(Object.keys(e).map((k) => [k, process.env[k]]));
      Object.assign(process.env, e);
    },
    restoreEnv() {
      if (!saved) return;
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
      saved = undefined;
    },
    clientConfig: () => ({
      endpoint: url,
      region: MOTO_REGION,
      credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
      forcePathStyle: true,
    }),
    reset: async () => {
      const status = await request("POST", `${url}/moto-api/reset`);
      if (status !== 200) throw new Error(`moto reset answered HTTP ${status}`);
    },
    stop,
    log: () => stderr,
  };
}

async function answers(url: string): Promise<boolean> {
  try {
    return (await request("GET", url)) === 200;
  } catch {
    return false;
  }
}

function request(method: string, url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, timeout: 2_000, agent: false }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
    req.end();
  });
}

function compareVersionsDesc(a: string, b: string): number {
  const pa = a.split(".").map((x) => Number.parseInt(x, 10) || 0);
  const pb = b.split(".").map((x) => Number.parseInt(x, 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pb[i] ?? 0) - (pa[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/**
 * kintone-sync's saved-position table in moto's DynamoDB, keyed as the kit's table is (string hash key `id`,
 * on-demand). The SDK is loaded only here, so other moto users do not pay for it.
 */
export async function createPositionTable(moto: MotoServer, tableName: string): Promise<void> {
  const { CreateTableCommand, DynamoDBClient } = await import("@aws-sdk/client-dynamodb");
  const ddb = new DynamoDBClient(moto.clientConfig());
  try {
    await ddb.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: "PAY_PER_REQUEST",
        AttributeDefinitions: [{ AttributeName: "id", AttributeType: "S" }],
        KeySchema: [{ AttributeName: "id", KeyType: "HASH" }],
      }),
    );
  } finally {
    ddb.destroy();
  }
}
