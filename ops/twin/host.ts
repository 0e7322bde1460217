/**
 * Host plumbing for the twin: run prefix, command runner, the registry of everything a run creates (network
 * namespaces, /etc/netns files, child processes) and its removal on exit, Ctrl-C, a crash, or `--clean`.
 */
import { ChildProcess, spawn, spawnSync, SpawnOptions } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

/** Every twin namespace is named `vt<4 hex>-…`; `--clean` removes exactly these. */
export const PREFIX_RE = /^vt[0-9a-f]{4}-/;

export class TwinSetupError extends Error {}

export const INSTALL =
  "apt-get update && apt-get install -y iproute2 nftables iptables dnsmasq haproxy squid postgresql openssl";

/** Absolute path of `bin` on PATH or in the sbin directories, or throws with the install command. */
export function need(bin: string): string {
  const dirs = [...(process.env.PATH ?? "").split(path.delimiter), "/usr/sbin", "/sbin", "/usr/bin", "/bin"];
  for (const d of dirs) {
    const p = path.join(d, bin);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      /* next */
    }
  }
  throw new TwinSetupError(`${bin} not found: run ${INSTALL}`);
}

export function listNamespaces(): string[] {
  const r = spawnSync(need("ip"), ["netns", "list"], { encoding: "utf8" });
  return (r.stdout ?? "")
    .split("\n")
    .map((l) => l.trim().split(/\s+/)[0])
    .filter(Boolean);
}

/** Pids of processes whose network namespace is one of `names` (compares /proc/<pid>/ns/net with /run/netns/<name>). */
function pidsIn(names: string[]): number[] {
  const inodes = new Set<string>();
  for (const n of names) {
    try {
      inodes.add(`net:[${fs.statSync(path.join("/run/netns", n)).ino}]`);
    } catch {
      /* not mounted */
    }
  }
  if (!inodes.size) return [];
  const out: number[] = [];
  for (const d of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (inodes.has(fs.readlinkSync(`/proc/${d}/ns/net`))) out.push(Number(d));
    } catch {
      /* exited or not ours to read */
    }
  }
  return out;
}

/** Kills every process inside the namespaces (by pid) and deletes them, in one `ip -batch`. */
export function removeNamespaces(names: string[]): void {
  if (!names.length) return;
  for (let i = 0; i < 20; i++) {
    const pids = pidsIn(names);
    if (!pids.length) break;
    for (const p of pids) {
      try {
        process.kill(p, "SIGKILL");
      } catch {
        /* gone */
      }
    }
    spawnSync("sleep", ["0.05"]);
  }
  spawnSync(need("ip"), ["-force", "-batch", "-"], { input: names.map((n) => `netns del ${n}`).join("\n") + "\n" });
  for (const n of names) fs.rmSync(path.join("/etc/netns", n), { recursive: true, force: true });
}

export function removeNamespace(ns: string): void {
  removeNamespaces([ns]);
}

/** Removes every namespace, /etc/netns entry and run dir a twin left behind (any run). */
export function cleanLeftovers(): string[] {
  const removed: string[] = [];
  // A twin that is still running (its owner pid alive) keeps its namespaces: only leftovers go.
  const live = new Set<string>();
  for (const d of fs.readdirSync(os.tmpdir())) {
    const m = /^vlk-twin-(vt[0-9a-f]{4})-/.exec(d);
    if (!m) continue;
    const pidFile = path.join(os.tmpdir(), d, "owner.pid");
    const owner = fs.existsSync(pidFile) ? Number(fs.readFileSync(pidFile, "utf8")) : 0;
    if (owner && owner !== process.pid && alive(owner)) live.add(m[1]);
  }
  const mine = listNamespaces().filter((ns) => PREFIX_RE.test(ns) && !live.has(ns.slice(0, 6)));
  removeNamespaces(mine);
  removed.push(...mine);
  if (fs.existsSync("/etc/netns"))
    for (const d of fs.readdirSync("/etc/netns"))
      if (PREFIX_RE.test(d) && !live.has(d.slice(0, 6)))
        fs.rmSync(path.join("/etc/netns", d), { recursive: true, force: true });
  for (const d of fs.readdirSync(os.tmpdir())) {
    if (!/^vlk-twin-vt[0-9a-f]{4}-/.test(d)) continue;
    const pidFile = path.join(os.tmpdir(), d, "owner.pid");
    const owner = fs.existsSync(pidFile) ? Number(fs.readFileSync(pidFile, "utf8")) : 0;
    if (owner && alive(owner)) continue;
    killRecorded(path.join(os.tmpdir(), d));
    fs.rmSync(path.join(os.tmpdir(), d), { recursive: true, force: true });
    removed.push(d);
  }
  return removed;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Processes a run started outside any namespace (moto, haproxy, postgres) are recorded by pid in its run dir. */
function killRecorded(runDir: string): void {
  const f = path.join(runDir, "pids");
  if (!fs.existsSync(f)) return;
  for (const line of fs.readFileSync(f, "utf8").split("\n")) {
    const [pid, start] = line.split(" ");
    if (!pid) continue;
    // Only a process whose start time matches what was recorded: never a recycled pid.
    if (start && procStart(Number(pid)) === start) {
      try {
        process.kill(-Number(pid), "SIGKILL");
      } catch {
        try {
          process.kill(Number(pid), "SIGKILL");
        } catch {
          /* gone */
        }
      }
    }
  }
}

function procStart(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ")[19];
  } catch {
    return "";
  }
}

export interface RunOptions {
  input?: string;
  allowFail?: boolean;
}

/** Removes the /dev/shm segments whose names start with `prefix` (a child killed with SIGKILL leaves its own). */
export function removeShmSegments(prefix: string): void {
  let names: string[];
  try {
    names = fs.readdirSync("/dev/shm");
  } catch {
    return;
  }
  for (const n of names) if (n.startsWith(prefix)) fs.rmSync(path.join("/dev/shm", n), { force: true });
}

/** One twin run's resources. `teardown()` is idempotent and synchronous, so it runs from signal/exit handlers. */
export class Host {
  readonly prefix: string;
  readonly runDir: string;
  private readonly namespaces: string[] = [];
  private readonly children: ChildProcess[] = [];
  private tornDown = false;
  private readonly onSignal = (sig: NodeJS.Signals) => {
    this.teardown();
    process.exit(sig === "SIGINT" ? 130 : 143);
  };
  private readonly onExit = () => this.teardown();

  constructor() {
    const taken = new Set(listNamespaces().map((n) => n.slice(0, 6)));
    let p: string;
    do p = `vt${crypto.randomBytes(2).toString("hex")}`;
    while (taken.has(p));
    this.prefix = p;
    this.runDir = fs.mkdtempSync(path.join(os.tmpdir(), `vlk-twin-${p}-`));
    fs.chmodSync(this.runDir, 0o755);
    fs.writeFileSync(path.join(this.runDir, "owner.pid"), String(process.pid));
    process.once("SIGINT", this.onSignal);
    process.once("SIGTERM", this.onSignal);
    process.once("exit", this.onExit);
  }

  ns(short: string): string {
    return `${this.prefix}-${short}`;
  }

  run(cmd: string, args: string[], o: RunOptions = {}): string {
    const r = spawnSync(cmd, args, { encoding: "utf8", input: o.input, timeout: 30_000 });
    if (r.error) throw new TwinSetupError(`${cmd} ${args.join(" ")}: ${r.error.message}`);
    if (r.status !== 0 && !o.allowFail)
      throw new TwinSetupError(
        `${cmd} ${args.join(" ")} failed (${r.status}): ${(r.stderr || r.stdout).trim()}${o.input ? `\ninput:\n${o.input}` : ""}`,
      );
    return r.stdout;
  }

  /** Creates many namespaces in one `ip -batch` (loopback is brought up by their own batch). */
  addNamespaces(shorts: string[]): string[] {
    const names = shorts.map((s) => this.ns(s));
    this.namespaces.push(...names);
    this.run(need("ip"), ["-batch", "-"], { input: names.map((n) => `netns add ${n}`).join("\n") + "\n" });
    return names;
  }

  /** Root-namespace `ip -batch` (e.g. veth pairs created straight into two namespaces). */
  rootBatch(lines: string[]): void {
    if (lines.length) this.run(need("ip"), ["-batch", "-"], { input: lines.join("\n") + "\n" });
  }

  /** A veth pair created straight into two namespaces: `aName` in `aNs`, its peer `bName` in `bNs`. */
  veth(aNs: string, aName: string, bNs: string, bName: string): void {
    this.run(need("ip"), ["link", "add", aName, "netns", aNs, "type", "veth", "peer", "name", bName, "netns", bNs]);
  }

  addNamespace(short: string): string {
    const name = this.ns(short);
    this.run(need("ip"), ["netns", "add", name]);
    this.namespaces.push(name);
    this.run(need("ip"), ["-n", name, "link", "set", "lo", "up"]);
    return name;
  }

  /** `ip -n ns -batch -` with one command per line. */
  ipBatch(ns: string, lines: string[]): void {
    if (lines.length) this.run(need("ip"), ["-n", ns, "-batch", "-"], { input: lines.join("\n") + "\n" });
  }

  sysctl(ns: string, settings: Record<string, string | number>): void {
    const script = Object.entries(settings)
      .map(([k, v]) => `echo ${v} > /proc/sys/${k.replace(/\./g, "/")}`)
      .join("; ");
    this.run(need("ip"), ["netns", "exec", ns, "sh", "-c", script]);
  }

  nft(ns: string, ruleset: string): void {
    const file = path.join(this.runDir, `nft-${ns}.conf`);
    fs.writeFileSync(file, ruleset);
    this.run(need("ip"), ["netns", "exec", ns, need("nft"), "-f", file]);
  }

  /** /etc/netns/<ns>/resolv.conf and hosts, which `ip netns exec` mounts over /etc's for processes in the namespace. */
  netnsEtc(ns: string, resolver: string | undefined): void {
    const dir = path.join("/etc/netns", ns);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(
      path.join(dir, "resolv.conf"),
      resolver ? `nameserver ${resolver}\noptions timeout:1 attempts:2\n` : "# no resolver\n",
    );
    fs.writeFileSync(path.join(dir, "hosts"), "127.0.0.1 localhost\n");
  }

  /** Starts a long-running child (inside `ns` when given); it is killed at teardown. */
  spawn(cmd: string, args: string[], opts: SpawnOptions & { ns?: string } = {}): ChildProcess {
    const { ns, ...rest } = opts;
    const [c, a] = ns ? [need("ip"), ["netns", "exec", ns, cmd, ...args]] : [cmd, args];
    const child = spawn(c, a, { detached: true, stdio: ["ignore", "pipe", "pipe"], ...rest });
    this.children.push(child);
    if (child.pid) fs.appendFileSync(path.join(this.runDir, "pids"), `${child.pid} ${procStart(child.pid)}\n`);
    return child;
  }

  /**
   * A name for a child's POSIX shared-memory segments (/dev/shm), prefixed with this run's prefix so teardown
   * can remove what a killed child leaves there.
   */
  shmName(short: string): string {
    return `${this.prefix}${short}`;
  }

  teardown(): void {
    if (this.tornDown) return;
    this.tornDown = true;
    for (const c of this.children) {
      if (c.pid && c.exitCode === null && c.signalCode === null) {
        try {
          process.kill(-c.pid, "SIGKILL");
        } catch {
          try {
            c.kill("SIGKILL");
          } catch {
            /* gone */
          }
        }
      }
    }
    removeNamespaces([...this.namespaces].reverse());
    removeShmSegments(this.prefix);
    if (!process.env.VLK_TWIN_KEEP_RUNDIR) fs.rmSync(this.runDir, { recursive: true, force: true });
    process.removeListener("SIGINT", this.onSignal);
    process.removeListener("SIGTERM", this.onSignal);
    process.removeListener("exit", this.onExit);
  }
}
