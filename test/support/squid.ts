/**
 * Runs a real Squid for tests: `squid -N` (foreground, no daemon) with its own pid/log files in a
 * temp dir, on a loopback port, plus a raw client that can speak PROXY protocol and CONNECT.
 *
 * Everything stays on 127.0.0.0/8: configs get `hosts_file <tmp>/hosts` (test names → 127.0.0.x)
 * and `dns_nameservers 127.0.0.1`, so Squid never contacts a real resolver.
 *
 * When the tests run as root, Squid drops privileges to its build-time default user (`proxy` on
 * Debian, `squid` on Amazon Linux); the temp dir is made world-writable so that user can write
 * its logs. Nothing else needs `cache_effective_user`.
 */
import { spawn, spawnSync, ChildProcess } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { renderSquidConf, SquidConfOptions } from "../../components/squid-conf";
import { removeShmSegments } from "../../ops/twin/host";
import { freePort, isExecutable } from "./local";

export { freePort };

export const SQUID_MISSING = "squid not found: run apt-get update && apt-get install -y squid";

/** Absolute path of the squid binary, or throws (tests must fail, not skip, without it). */
export function findSquid(): string {
  const candidates = ["/usr/sbin/squid", "/usr/bin/squid", "/usr/local/sbin/squid", "/usr/local/squid/sbin/squid"];
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) if (dir) candidates.push(path.join(dir, "squid"));
  const found = candidates.find(isExecutable);
  if (found) return found;
  throw new Error(SQUID_MISSING);
}

export function squidVersion(bin = findSquid()): string {
  const r = spawnSync(bin, ["-v"], { encoding: "utf8" });
  return /Version\s+(\S+)/.exec(r.stdout ?? "")?.[1] ?? "unknown";
}

/** A temp dir for one Squid instance and the renderSquidConf options pointing into it. */
export interface SquidSandbox {
  dir: string;
  confPath: string;
  accessLogPath: string;
  /** Spread into renderSquidConf options. */
  fileOptions: {
    pidFile: string;
    accessLog: string;
    cacheLog: string;
    coredumpDir: string;
    hostsFile: string;
    dnsNameservers: string[];
  };
  remove(): void;
}

export function makeSandbox(hosts: Record<string, string>, prefix = "vlk-squid-"): SquidSandbox {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  fs.chmodSync(dir, 0o777);
  const hostsFile = path.join(dir, "hosts");
  const byIp = new Map<string, string[]>();
  for (const [name, ip] of Object.entries(hosts)) byIp.set(ip, [...(byIp.get(ip) ?? []), name]);
  fs.writeFileSync(hostsFile, [...byIp].map(([ip, names]) => `${ip} ${names.join(" ")}`).join("\n") + "\n", {
    mode: 0o644,
  });
  const accessLogPath = path.join(dir, "access.log");
  return {
    dir,
    confPath: path.join(dir, "squid.conf"),
    accessLogPath,
    fileOptions: {
      pidFile: path.join(dir, "squid.pid"),
      accessLog: accessLogPath,
      cacheLog: path.join(dir, "cache.log"),
      coredumpDir: dir,
      hostsFile,
      dnsNameservers: ["127.0.0.1"],
    },
    remove: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

/** The header the test Squids require (the value is each test's). */
export const TEST_HEADER = "X-Lambda-Test";

/**
 * renderSquidConf options for a test Squid on 127.0.0.1 that serves 127.0.0.1 only, with its files in `sandbox`:
 * header TEST_HEADER, loopback destinations allowed (every test origin is on 127.0.0.1), no shutdown wait. `o` gives
 * the header value, the allowed domains and ports, and overrides any default.
 */
export function loopbackSquidOptions(
  port: number,
  sandbox: SquidSandbox,
  o: Pick<SquidConfOptions, "headerValue" | "allowedDomains"> & Partial<SquidConfOptions>,
): SquidConfOptions {
  return {
    port,
    listenAddress: "127.0.0.1",
    headerName: TEST_HEADER,
    clientCidrs: ["127.0.0.1/32"],
    blockLocalDestinations: false,
    visibleHostname: "vlk-test-proxy",
    shutdownLifetimeSeconds: 0,
    ...sandbox.fileOptions,
    ...o,
  };
}

export interface ParseResult {
  status: number | null;
  output: string;
  /** WARNING/ERROR/FATAL lines, minus the ones listed in `expected`. */
  problems: string[];
}

/** Squid's own complaint about `via off` (we want it off: the client topology is private). */
export const EXPECTED_SQUID_WARNINGS = [/WARNING: HTTP requires the use of Via/];

/** `squid -k parse -f <conf>`: parses the config as Squid would, without starting anything. */
export function squidParse(confText: string, expected: RegExp[] = EXPECTED_SQUID_WARNINGS): ParseResult {
  const bin = findSquid();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vlk-squid-parse-"));
  try {
    const conf = path.join(dir, "squid.conf");
    fs.writeFileSync(conf, confText);
    const r = spawnSync(bin, ["-k", "parse", "-f", conf], { encoding: "utf8", timeout: 30_000 });
    const output = `${r.stdout ?? ""}${r.stderr ?? ""}`;
    const problems = output
      .split("\n")
      .filter((l) => /WARNING|ERROR|FATAL|Bungled/i.test(l))
      .filter((l) => !expected.some((re) => re.test(l)));
    return { status: r.status, output, problems };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export interface RunningSquid {
  pid: number;
  port: number;
  /** stdout+stderr so far (`-d1` mirrors cache.log). */
  output(): string;
  stop(): Promise<void>;
}

let squidCount = 0;

/** Writes the config and starts `squid -N -d1 -n <own service name> -f <conf>`; resolves once the port accepts connections. */
export async function startSquid(
  confText: string,
  sandbox: SquidSandbox,
  port: number,
  timeoutMs = 15_000,
): Promise<RunningSquid> {
  const bin = findSquid();
  fs.writeFileSync(sandbox.confPath, confText, { mode: 0o644 });
  // Squid names its /dev/shm segments after its service name (default "squid"): one of its own per instance keeps
  // parallel suites, and a segment left by a killed instance, from failing the next start with "File exists".
  const service = `vlk${process.pid}n${++squidCount}`;
  const child: ChildProcess = spawn(bin, ["-N", "-d1", "-n", service, "-f", sandbox.confPath], {
    cwd: sandbox.dir,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout?.on("data", (d) => (out += d));
  child.stderr?.on("data", (d) => (out += d));
  let exited = false;
  const exitPromise = new Promise<void>((resolve) =>
    child.once("exit", () => {
      exited = true;
      removeShmSegments(`${service}-`);
      resolve();
    }),
  );
  const started = Date.now();
  for (;;) {
    if (exited) throw new Error(`squid exited during startup (code ${child.exitCode}):\n${out}`);
    if (/Accepting (HTTP|PROXY).* connections at .*:\d+/.test(out)) break;
    if (Date.now() - started > timeoutMs) {
      child.kill("SIGKILL");
      throw new Error(`squid did not start listening on ${port} within ${timeoutMs} ms:\n${out}`);
    }
    await sleep(50);
  }
  const waitExit = (ms: number) =>
    new Promise<boolean>((resolve) => {
      const t = setTimeout(() => resolve(exited), ms);
      void exitPromise.then(() => (clearTimeout(t), resolve(true)));
    });
  return {
    pid: child.pid!,
    port,
    output: () => out,
    async stop() {
      if (exited) return;
      // Graceful: Squid closes its port, waits shutdown_lifetime (the test configs set 0 s), stops
      // its helpers (log daemon) and exits, ~3 s. A second SIGTERM would exit at once but can
      // leave the log daemon orphaned. SIGKILL only as a last resort.
      child.kill("SIGTERM");
      if (await waitExit(15_000)) return;
      child.kill("SIGTERM");
      if (await waitExit(5_000)) return;
      child.kill("SIGKILL");
      await waitExit(5_000);
    },
  };
}

export interface LoopbackSquid {
  squid: RunningSquid;
  sandbox: SquidSandbox;
  /** The rendered squid.conf it runs. */
  conf: string;
  /** Stops Squid and removes its sandbox. */
  stop(): Promise<void>;
}

/**
 * A test Squid in a sandbox of its own (`hosts` in its hosts_file, temp dir named `prefix…`) on a free loopback port,
 * configured by `options(port, sandbox)` (see loopbackSquidOptions).
 */
export async function startLoopbackSquid(
  hosts: Record<string, string>,
  prefix: string,
  options: (port: number, sandbox: SquidSandbox) => SquidConfOptions,
): Promise<LoopbackSquid> {
  const sandbox = makeSandbox(hosts, prefix);
  try {
    const port = await freePort();
    const conf = renderSquidConf(options(port, sandbox));
    const squid = await startSquid(conf, sandbox, port);
    return {
      squid,
      sandbox,
      conf,
      async stop() {
        await squid.stop();
        sandbox.remove();
      },
    };
  } catch (err) {
    sandbox.remove();
    throw err;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

// ---------------------------------------------------------------------------------------------
// Raw proxy client: exact control over the bytes (PROXY header, duplicate headers, CONNECT).

export interface ProxyReply {
  /** HTTP status of Squid's reply; null when Squid closed the connection without replying. */
  status: number | null;
  head: string;
  body: string;
  /** For a CONNECT that got 200: what came back through the tunnel. */
  tunnelReply?: string;
}

export interface ProxyRequestOptions {
  port: number;
  /** Full request text (request line + headers + blank line); see httpGet/connectRequest. */
  request: string;
  /** Source address to bind (127.0.0.x). */
  localAddress?: string;
  /** Bytes sent before the request, e.g. a PROXY protocol v1 line. */
  preamble?: string;
  /** After a 200 reply to CONNECT, sent through the tunnel; the echo is awaited. */
  tunnelData?: string;
  timeoutMs?: number;
}

export function proxyRequest(o: ProxyRequestOptions): Promise<ProxyReply> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: "127.0.0.1", port: o.port, localAddress: o.localAddress });
    let buf = Buffer.alloc(0);
    let done = false;
    const finish = (r: ProxyReply | Error) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      if (r instanceof Error) reject(r);
      else resolve(r);
    };
    const parse = (): ProxyReply => {
      const text = buf.toString("latin1");
      const end = text.indexOf("\r\n\r\n");
      if (end < 0) return { status: null, head: text, body: "" };
      const head = text.slice(0, end);
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(head);
      return { status: m ? Number(m[1]) : null, head, body: text.slice(end + 4) };
    };
    const timer = setTimeout(
      () =>
        finish(
          new Error(
            `no complete reply within ${o.timeoutMs ?? 8000} ms; got: ${JSON.stringify(buf.toString("latin1").slice(0, 300))}`,
          ),
        ),
      o.timeoutMs ?? 8000,
    );
    let tunnelSent = false;
    sock.on("connect", () => sock.write((o.preamble ?? "") + o.request, "latin1"));
    const isConnect = o.request.startsWith("CONNECT ");
    sock.on("data", (d) => {
      buf = Buffer.concat([buf, d]);
      const r = parse();
      if (r.status === null) return;
      if (!(isConnect && r.status === 200)) {
        // Squid may keep the connection open after a reply (e.g. a 403 to CONNECT): finish once
        // the body announced by Content-Length is complete; otherwise wait for the close.
        const cl = /^content-length:\s*(\d+)\s*$/im.exec(r.head);
        if (cl && Buffer.byteLength(r.body, "latin1") >= Number(cl[1])) finish(r);
        return;
      }
      if (o.tunnelData === undefined) return finish(r);
      if (!tunnelSent) {
        tunnelSent = true;
        sock.write(o.tunnelData, "latin1");
      }
      if (r.body.length >= o.tunnelData.length) finish({ ...r, body: "", tunnelReply: r.body });
    });
    sock.on("error", () => finish(parse()));
    sock.on("close", () => finish(parse()));
  });
}

type Headers = Array<[string, string]>;

/** `GET url` (absolute form, see httpGet) through the Squid on `port`; `extra` as in proxyRequest. */
export function proxyGet(
  port: number,
  url: string,
  headers: Headers = [],
  extra: Omit<ProxyRequestOptions, "port" | "request"> = {},
): Promise<ProxyReply> {
  return proxyRequest({ port, request: httpGet(url, headers), ...extra });
}

/** An absolute-form proxy request (`GET http://host:port/path HTTP/1.1`) with Connection: close. */
export function httpGet(url: string, headers: Headers = []): string {
  const u = new URL(url);
  return [
    `GET ${url} HTTP/1.1`,
    `Host: ${u.host}`,
    ...headers.map(([k, v]) => `${k}: ${v}`),
    "Connection: close",
    "",
    "",
  ].join("\r\n");
}

/** `CONNECT host:port HTTP/1.1` with the given headers (the only headers Squid sees for HTTPS). */
export function connectRequest(authority: string, headers: Headers = []): string {
  return [`CONNECT ${authority} HTTP/1.1`, `Host: ${authority}`, ...headers.map(([k, v]) => `${k}: ${v}`), "", ""].join(
    "\r\n",
  );
}

/** PROXY protocol v1 line as a load balancer would send it. */
export function proxyV1(src: string, dst: string, srcPort: number, dstPort: number): string {
  return `PROXY TCP4 ${src} ${dst} ${srcPort} ${dstPort}\r\n`;
}

/**
 * PROXY protocol v2 header (binary), as a Network Load Balancer sends it: the 12-byte signature,
 * version 2 + PROXY command (0x21), TCP over IPv4 (0x11), the address block length, source and
 * destination address and port, then optional TLVs (type byte, 2-byte length, value). Returned as a
 * latin1 string so it can be the `preamble` of proxyRequest (latin1 maps bytes 1:1).
 */
export function proxyV2(
  src: string,
  dst: string,
  srcPort: number,
  dstPort: number,
  tlvs: Array<{ type: number; value: Buffer }> = [],
): string {
  const ip = (a: string) => Buffer.from(a.split(".").map(Number));
  const port = (p: number) => {
    const b = Buffer.alloc(2);
    b.writeUInt16BE(p);
    return b;
  };
  const tlvBytes = tlvs.map((t) => {
    const head = Buffer.alloc(3);
    head.writeUInt8(t.type, 0);
    head.writeUInt16BE(t.value.length, 1);
    return Buffer.concat([head, t.value]);
  });
  const body = Buffer.concat([ip(src), ip(dst), port(srcPort), port(dstPort), ...tlvBytes]);
  const signature = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
  const len = Buffer.alloc(2);
  len.writeUInt16BE(body.length);
  return Buffer.concat([signature, Buffer.from([0x21, 0x11]), len, body]).toString("latin1");
}
