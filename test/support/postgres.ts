/**
 * Runs a real PostgreSQL for tests and benchmarks: `initdb` into a temp dir, then the `postgres`
 * server in the foreground on a free loopback port, TLS on with a certificate from a throwaway CA
 * (so clients verify the chain and the host name exactly as against RDS; they only have to trust
 * `caPem`), password (SCRAM) authentication for TCP, nothing on any non-loopback address.
 *
 * PostgreSQL refuses to run as root, so when the tests run as root the server runs as the
 * `postgres` user Debian's package creates (else `nobody`), and the temp dir is handed to it.
 *
 * `kill()` SIGKILLs the server (a crash mid-transaction); `start()` brings it back on the same port
 * and data directory, so tests can prove what survived.
 */
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { makeCertificates } from "../fakes/saas";
import { freePort, isExecutable } from "./local";

export { freePort };

export const POSTGRES_MISSING =
  "PostgreSQL server binaries (initdb, postgres) not found: run apt-get update && apt-get install -y postgresql";

/** Directory holding initdb and postgres, or throws with the install command (tests fail, never skip). */
export function findPostgresBin(): string {
  const dirs: string[] = [];
  for (const d of (process.env.PATH ?? "").split(path.delimiter)) if (d) dirs.push(d);
  const lib = "/usr/lib/postgresql";
  if (fs.existsSync(lib)) {
    for (const v of fs.readdirSync(lib).sort((a, b) => Number(b) - Number(a))) dirs.push(path.join(lib, v, "bin"));
  }
  for (const d of dirs) {
    const initdb = path.join(d, "initdb");
    const postgres = path.join(d, "postgres");
    if (isExecutable(initdb) && isExecutable(postgres)) return path.dirname(fs.realpathSync(initdb));
  }
  throw new Error(POSTGRES_MISSING);
}

export interface PgServer {
  host: string;
  port: number;
  /** Superuser created by initdb. */
  user: string;
  password: string;
  database: string;
  /** The CA that signed the server certificate (CN and SAN = "localhost"). */
  caPem: string;
  caFile: string;
  /** Host name that matches the server certificate; resolves to 127.0.0.1 only via `servername`/lookup overrides, so use host 127.0.0.1 with `ssl.servername`. */
  tlsServerName: string;
  /** `postgres://user:password@127.0.0.1:port/database` */
  url: string;
  /** Connection options for `pg` (TLS verified against `caPem`, SNI/name check on `tlsServerName`). */
  pgConfig(overrides?: Record<string, unknown>): Record<string, unknown>;
  /** Runs SQL as the superuser through psql-free `pg` (imported lazily). */
  sql(text: string, params?: unknown[]): Promise<Array<Record<string, unknown>>>;
  /** SIGKILL: a crash with whatever was in flight. */
  kill(): Promise<void>;
  /** (Re)starts on the same port and data dir; resolves when it accepts connections. */
  start(): Promise<void>;
  /** Stops the server and removes the data dir. */
  stop(): Promise<void>;
  running(): boolean;
}

export interface StartPostgresOptions {
  /** Extra `-c name=value` server settings. */
  settings?: Record<string, string | number>;
  /** TLS on (default true). */
  tls?: boolean;
}

/** Starts a throwaway PostgreSQL on 127.0.0.1. Call `stop()` in afterAll. */
export async function startPostgres(opts: StartPostgresOptions = {}): Promise<PgServer> {
  const bin = findPostgresBin();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vlk-pg-"));
  const dataDir = path.join(dir, "data");
  const sockDir = path.join(dir, "sock");
  fs.mkdirSync(sockDir);
  const asUser = runAsUser();
  const password = "test-only-password";
  fs.writeFileSync(path.join(dir, "pwfile"), password + "\n");
  const tls = opts.tls ?? true;
  const tlsServerName = "localhost";
  let caPem = "";
  let caFile = "";
  if (tls) {
    const certs = makeCertificates(dir, tlsServerName);
    fs.writeFileSync(path.join(dir, "server.key"), certs.key, { mode: 0o600 });
    fs.writeFileSync(path.join(dir, "server.pem"), certs.cert);
    caFile = certs.caFile;
    caPem = fs.readFileSync(caFile, "utf8");
  }
  if (asUser) {
    chownTree(dir, asUser.uid, asUser.gid);
  }
  const init = spawnSync(
    path.join(bin, "initdb"),
    [
      "-D",
      dataDir,
      "-U",
      "postgres",
      "--auth-local=trust",
      "--auth-host=scram-sha-256",
      `--pwfile=${path.join(dir, "pwfile")}`,
      "-E",
      "UTF8",
      "--locale=C",
      "--no-sync",
    ],
    { encoding: "utf8", ...(asUser ? { uid: asUser.uid, gid: asUser.gid } : {}) },
  );
  if (init.error) throw new Error(`initdb could not run: ${init.error.message}. ${POSTGRES_MISSING}`);
  if (init.status !== 0) throw new Error(`initdb failed:\n${init.stderr}`);
  const port = await freePort();
  const settings: Record<string, string | number> = {
    listen_addresses: "127.0.0.1",
    port,
    unix_socket_directories: sockDir,
    fsync: "off",
    full_page_writes: "off",
    max_connections: 50,
    ...(tls
      ? { ssl: "on", ssl_cert_file: path.join(dir, "server.pem"), ssl_key_file: path.join(dir, "server.key") }
      : {}),
    ...(opts.settings ?? {}),
  };
  const args = ["-D", dataDir];
  for (const [k, v] of Object.entries(settings)) args.push("-c", `${k}=${v}`);

  let proc: ChildProcess | undefined;
  let log = "";
  const start = async () => {
    if (proc && proc.exitCode === null && proc.signalCode === null) return;
    log = "";
    proc = spawn(path.join(bin, "postgres"), args, {
      stdio: ["ignore", "pipe", "pipe"],
      ...(asUser ? { uid: asUser.uid, gid: asUser.gid } : {}),
    });
    proc.stdout?.on("data", (d) => (log += d));
    proc.stderr?.on("data", (d) => (log += d));
    const deadline = Date.now() + 20_000;
    for (;;) {
      if (proc.exitCode !== null || proc.signalCode !== null)
        throw new Error(`postgres exited with ${proc.exitCode}:\n${log}`);
      if (/ready to accept connections/.test(log) && (await accepts(port))) return;
      if (Date.now() > deadline) throw new Error(`postgres did not become ready in 20 s:\n${log}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const waitExit = (p: ChildProcess) =>
    new Promise<void>((resolve) =>
      p.exitCode !== null || p.signalCode !== null ? resolve() : p.once("exit", () => resolve()),
    );
  await start();

  const server: PgServer = {
    host: "127.0.0.1",
    port,
    user: "postgres",
    password,
    database: "postgres",
    caPem,
    caFile,
    tlsServerName,
    url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
    pgConfig(overrides = {}) {
      return {
        host: "127.0.0.1",
        port,
        user: "postgres",
        password,
        database: "postgres",
        ...(tls ? { ssl: { ca: caPem, servername: tlsServerName, rejectUnauthorized: true } } : {}),
        ...overrides,
      };
    },
    async sql(text, params = []) {
      const { Client } = require("pg") as typeof import("pg");
      const c = new Client(server.pgConfig() as never);
      await c.connect();
      try {
        return (await c.query(text, params as never[])).rows;
      } finally {
        await c.end();
      }
    },
    async kill() {
      if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
      const p = proc;
      p.kill("SIGKILL");
      await waitExit(p);
      // Orphaned backends hold the shared memory; wait until the port is free before a restart.
      const deadline = Date.now() + 10_000;
      while ((await accepts(port)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    },
    start,
    async stop() {
      if (proc && proc.exitCode === null && proc.signalCode === null) {
        const p = proc;
        p.kill("SIGINT"); // fast shutdown
        await waitExit(p);
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
    running: () => !!proc && proc.exitCode === null && proc.signalCode === null,
  };
  return server;
}

function runAsUser(): { uid: number; gid: number } | undefined {
  if (typeof process.getuid !== "function" || process.getuid() !== 0) return undefined;
  for (const name of ["postgres", "nobody"]) {
    const r = spawnSync("id", ["-u", name], { encoding: "utf8" });
    const g = spawnSync("id", ["-g", name], { encoding: "utf8" });
    if (r.status === 0 && g.status === 0) return { uid: Number(r.stdout.trim()), gid: Number(g.stdout.trim()) };
  }
  throw new Error("running as root and neither a postgres nor a nobody user exists: PostgreSQL will not run as root");
}

function chownTree(p: string, uid: number, gid: number): void {
  fs.chownSync(p, uid, gid);
  if (fs.statSync(p).isDirectory()) for (const e of fs.readdirSync(p)) chownTree(path.join(p, e), uid, gid);
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: "127.0.0.1", port });
    sock.once("connect", () => {
      sock.destroy();
      resolve(true);
    });
    sock.once("error", () => resolve(false));
    sock.setTimeout(500, () => {
      sock.destroy();
      resolve(false);
    });
  });
}
