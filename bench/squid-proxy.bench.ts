/**
 * Cost of the Squid proxy tier on the request path: requests/s and p50/p99 latency through a real
 * Squid (config from renderSquidConf) versus straight to the same upstream, on loopback, keep-alive,
 * concurrency 16, a fixed number of requests per run after a warm-up.
 *
 *   http   plain `GET http://api.example.com:<port>/records` (≈1 KB JSON) with the secret header;
 *          direct: the same GET to the upstream with an http.Agent keepAlive.
 *   https  https-proxy-agent 7: one CONNECT (secret header on the CONNECT) per keep-alive socket, TLS
 *          to a local HTTPS upstream (self-signed cert made by `openssl` now, trusted via `ca`);
 *          direct: https.Agent keepAlive to the same upstream.
 *
 * Two Squids: a plain port (client 127.0.0.1) and a `require-proxy-header` port accepting PROXY
 * protocol from 127.0.0.1, where the client writes a PROXY v1 line at the start of every
 * connection as the CLB does; it announces 127.0.0.2, the only allowed client, so a Squid that
 * ignored the line would answer 403. Upstreams run in a child process so the load generator and
 * the servers do not share one event loop. Everything binds to / connects to 127.0.0.1; the test
 * host name resolves only through Squid's hosts_file (and, defensively, a client lookup that maps
 * it to 127.0.0.1 and refuses every other name).
 *
 * Exits 1 unless every request (warm-up included) got a 2xx with the full body.
 *
 *   npx ts-node --transpile-only bench/squid-proxy.bench.ts
 *   env: BENCH_SQUID_REQUESTS (5000), BENCH_SQUID_WARMUP (500), BENCH_SQUID_ROUNDS (5),
 *        BENCH_SQUID_WARM_ROUND (1000)
 */
import { ChildProcess, execFileSync, fork } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as https from "https";
import * as os from "os";
import * as path from "path";
import { HttpsProxyAgent } from "https-proxy-agent";
import { renderSquidConf, SquidConfOptions } from "../components/squid-conf";
import {
  freePort,
  loopbackSquidOptions,
  makeSandbox,
  proxyV1,
  RunningSquid,
  SquidSandbox,
  squidVersion,
  startSquid,
} from "../test/support/squid";
import { machine, median, writeResult } from "./common";
// `import = require` (not `import * as`): the real module object, whose `connect` https-proxy-agent
// reads at call time (see ProxyProtocolHttpsProxyAgent).
import net = require("net");

const REQUESTS = Number(process.env.BENCH_SQUID_REQUESTS ?? 5000);
const WARMUP = Number(process.env.BENCH_SQUID_WARMUP ?? 500);
const ROUNDS = Number(process.env.BENCH_SQUID_ROUNDS ?? 5);
/** Round 0: every path once with this many requests, discarded (JIT, Squid's pconns, page cache). */
const WARM_ROUND_REQUESTS = Number(process.env.BENCH_SQUID_WARM_ROUND ?? 1000);
const CONCURRENCY = 16;
let aborted = false; // SIGINT: workers stop issuing
const RUN_CAP_MS = 30_000; // per run (warm-up + measured)
const MEASURE_BUDGET_MS = 140_000; // all runs together; a run never starts past it, and is capped by it
const HARD_DEADLINE_MS = 175_000; // watchdog: kill everything and exit 1
const REQUEST_TIMEOUT_MS = 10_000;

const HOST = "api.example.com";
const HEADER = "X-Lambda-Test";
const SECRET = "bench-secret-7f3a";
const LOOPBACK = "127.0.0.1";
const ANNOUNCED_CLIENT = "127.0.0.2"; // what the PROXY v1 line says the client is

type Scenario = "http" | "https";
type Path = "direct" | "squid" | "squid+proxy-protocol";
const PATHS: Path[] = ["direct", "squid", "squid+proxy-protocol"];
const SCENARIO_LABEL: Record<Scenario, string> = { http: "HTTP GET ~1 KB JSON", https: "HTTPS via CONNECT" };

function assertLoopback(host: string): string {
  if (!/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)) throw new Error(`refusing non-loopback address ${host}`);
  return host;
}

/** Client-side resolver: only the test host, only to 127.0.0.1. */
const loopbackLookup: net.LookupFunction = (hostname, options, cb) => {
  if (hostname !== HOST && hostname !== LOOPBACK)
    return cb(Object.assign(new Error(`refusing to resolve ${hostname}`), { code: "ENOTFOUND" }), "");
  if (options.all) cb(null, [{ address: LOOPBACK, family: 4 }]);
  else cb(null, LOOPBACK, 4);
};

// ---------------------------------------------------------------------------------------------
// Upstreams (child process)

const UPSTREAM_JS = `
const http = require("http"), https = require("https"), fs = require("fs");
const cfg = JSON.parse(process.argv[2]);
const body = fs.readFileSync(cfg.bodyPath);
const stats = { http: { connections: 0, requests: 0 }, https: { connections: 0, requests: 0 }, leakedSecretHeader: 0 };
const handler = (kind) => (req, res) => {
  stats[kind].requests++;
  if (req.headers[cfg.secretHeader] !== undefined) {
    stats.leakedSecretHeader++;
    res.writeHead(500, { "Content-Type": "text/plain" });
    return res.end("secret header reached the upstream");
  }
  res.writeHead(200, { "Content-Type": "application/json", "Content-Length": body.length });
  res.end(body);
};
const h = http.createServer(handler("http"));
const s = https.createServer({ key: fs.readFileSync(cfg.keyPath), cert: fs.readFileSync(cfg.certPath) }, handler("https"));
for (const srv of [h, s]) { srv.keepAliveTimeout = 120000; srv.headersTimeout = 125000; }
h.on("connection", () => stats.http.connections++);
s.on("secureConnection", () => stats.https.connections++);
let ready = 0;
const up = () => { if (++ready === 2) process.send({ ready: true, httpPort: h.address().port, httpsPort: s.address().port }); };
h.listen(0, "127.0.0.1", up);
s.listen(0, "127.0.0.1", up);
process.on("message", (m) => {
  if (m === "stats") process.send({ stats });
  if (m === "exit") { h.closeAllConnections(); s.closeAllConnections(); h.close(); s.close(); process.exit(0); }
});
process.on("disconnect", () => process.exit(0));
`;

interface UpstreamStats {
  http: { connections: number; requests: number };
  https: { connections: number; requests: number };
  leakedSecretHeader: number;
}

interface Upstreams {
  child: ChildProcess;
  httpPort: number;
  httpsPort: number;
  stats(): Promise<UpstreamStats>;
  stop(): Promise<void>;
}

function nextMessage<T>(
  child: ChildProcess,
  pick: (m: Record<string, unknown>) => boolean,
  timeoutMs: number,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMsg = (m: unknown) => {
      if (m && typeof m === "object" && pick(m as Record<string, unknown>)) done(null, m as T);
    };
    const onExit = () => done(new Error(`upstream process exited (code ${child.exitCode})`));
    const timer = setTimeout(() => done(new Error("upstream process did not answer")), timeoutMs);
    const done = (err: Error | null, v?: T) => {
      clearTimeout(timer);
      child.off("message", onMsg);
      child.off("exit", onExit);
      if (err) reject(err);
      else resolve(v as T);
    };
    child.on("message", onMsg);
    child.once("exit", onExit);
  });
}

async function startUpstreams(dir: string, keyPath: string, certPath: string, bodyPath: string): Promise<Upstreams> {
  const script = path.join(dir, "upstream.js");
  fs.writeFileSync(script, UPSTREAM_JS);
  const cfg = { keyPath, certPath, bodyPath, secretHeader: HEADER.toLowerCase() };
  const child = fork(script, [JSON.stringify(cfg)], { execArgv: [], stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const ready = await nextMessage<{ httpPort: number; httpsPort: number }>(
    child,
    (m) => m.ready === true,
    10_000,
  ).catch((e) => {
    child.kill("SIGKILL");
    throw e;
  });
  return {
    child,
    httpPort: ready.httpPort,
    httpsPort: ready.httpsPort,
    async stats() {
      const p = nextMessage<{ stats: UpstreamStats }>(child, (m) => "stats" in m, 5_000);
      child.send("stats");
      return (await p).stats;
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((r) => child.once("exit", () => r()));
      try {
        child.send("exit");
      } catch {
        child.kill("SIGKILL");
      }
      const t = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await exited;
      clearTimeout(t);
    },
  };
}

function makeCert(dir: string): { keyPath: string; certPath: string } {
  const keyPath = path.join(dir, "key.pem");
  const certPath = path.join(dir, "cert.pem");
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-keyout",
      keyPath,
      "-out",
      certPath,
      "-days",
      "1",
      "-subj",
      `/CN=${HOST}`,
      "-addext",
      `subjectAltName=DNS:${HOST}`,
    ],
    { stdio: ["ignore", "ignore", "pipe"], timeout: 20_000 },
  );
  return { keyPath, certPath };
}

/** 1 KiB of JSON, like a small SaaS API page (records, then a cursor padded to the exact size). */
function makeBody(): Buffer {
  const records: Array<Record<string, unknown>> = [];
  const doc = (cursor: string) => JSON.stringify({ records, next: cursor });
  for (let i = 1; Buffer.byteLength(doc("")) < 880; i++) {
    records.push({
      id: 1000 + i,
      name: `record-${i}`,
      status: i % 3 ? "active" : "archived",
      updatedAt: `2026-01-${String(10 + (i % 18)).padStart(2, "0")}T08:00:00Z`,
    });
  }
  const text = doc("c".repeat(1024 - Buffer.byteLength(doc(""))));
  return Buffer.from(text);
}

// ---------------------------------------------------------------------------------------------
// Clients

/** A keep-alive http.Agent that connects only to loopback, counts its sockets and can write a PROXY v1 line first. */
class LoopbackAgent extends http.Agent {
  created = 0;
  constructor(
    opts: http.AgentOptions,
    private readonly preamble?: () => string,
  ) {
    super(opts);
  }
  override createConnection(options: http.ClientRequestArgs): net.Socket {
    this.created++;
    // noDelay as http.Agent's own createConnection would (its options default noDelay: true).
    const sock = net.connect({ host: assertLoopback(String(options.host)), port: Number(options.port), noDelay: true });
    if (this.preamble) sock.write(this.preamble()); // queued before the request bytes
    return sock;
  }
}

type AgentConnect = HttpsProxyAgent<string>["connect"];

/**
 * https-proxy-agent 7 creates the proxy socket with `net.connect()` and writes the CONNECT on it
 * synchronously, before its first `await`; it has no hook for bytes before the CONNECT. So, for
 * exactly that synchronous stretch, `net.connect` is wrapped to write the PROXY v1 line on the new
 * socket first. Throws if the wrapper was not used (a changed https-proxy-agent) rather than
 * silently measuring without the line (Squid would reject such connections anyway).
 */
class ProxyProtocolHttpsProxyAgent extends HttpsProxyAgent<string> {
  constructor(
    proxy: string,
    private readonly preamble: () => string,
    opts: ConstructorParameters<typeof HttpsProxyAgent<string>>[1],
  ) {
    super(proxy, opts);
  }
  override connect(req: Parameters<AgentConnect>[0], opts: Parameters<AgentConnect>[1]): ReturnType<AgentConnect> {
    const mod = net as unknown as { connect: (...args: unknown[]) => net.Socket };
    const original = mod.connect;
    let wrote = false;
    mod.connect = (...args: unknown[]) => {
      const sock = original(...args);
      sock.write(this.preamble());
      wrote = true;
      return sock;
    };
    let p: ReturnType<AgentConnect>;
    try {
      p = super.connect(req, opts);
    } finally {
      mod.connect = original;
    }
    if (!wrote) {
      p.then(
        (s) => s.destroy(),
        () => undefined,
      );
      return Promise.reject(new Error("https-proxy-agent did not call net.connect synchronously: PROXY line not sent"));
    }
    return p;
  }
}

type Send = () => Promise<void>;

function request(
  fn: typeof http.request | typeof https.request,
  opts: https.RequestOptions,
  expectBytes: number,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = fn({ ...opts, lookup: loopbackLookup }, (res) => {
      let bytes = 0;
      let head = "";
      const status = res.statusCode ?? 0;
      const ok = status >= 200 && status <= 299;
      res.on("data", (d: Buffer) => {
        bytes += d.length;
        if (!ok && head.length < 200) head += d.toString("latin1");
      });
      res.on("end", () => {
        if (!ok) {
          const squidErr = res.headers["x-squid-error"];
          reject(
            new Error(`HTTP ${status}${squidErr ? ` (${squidErr})` : ""}: ${head.replace(/\s+/g, " ").slice(0, 120)}`),
          );
        } else if (bytes !== expectBytes)
          reject(new Error(`HTTP ${status} with ${bytes} body bytes, expected ${expectBytes}`));
        else resolve();
      });
      res.on("error", reject);
    });
    req.setTimeout(REQUEST_TIMEOUT_MS, () => req.destroy(new Error(`no response within ${REQUEST_TIMEOUT_MS} ms`)));
    req.on("error", reject);
    req.end();
  });
}

interface LoadResult {
  completed: number;
  ok: number;
  failures: Record<string, number>;
  latenciesMs: number[];
  elapsedMs: number;
  capped: boolean;
}

/** `total` requests from `CONCURRENCY` workers; stops issuing at `deadline` (ms since epoch). */
async function load(send: Send, total: number, deadline: number, record: boolean): Promise<LoadResult> {
  const latenciesMs: number[] = [];
  const failures: Record<string, number> = {};
  let issued = 0;
  let ok = 0;
  let capped = false;
  const t0 = process.hrtime.bigint();
  const worker = async () => {
    for (;;) {
      if (issued >= total) return;
      if (Date.now() >= deadline || aborted) {
        capped = true;
        return;
      }
      issued++;
      const s = process.hrtime.bigint();
      try {
        await send();
        ok++;
        if (record) latenciesMs.push(Number(process.hrtime.bigint() - s) / 1e6);
      } catch (e) {
        const key = (e as Error).message || String(e);
        failures[key] = (failures[key] ?? 0) + 1;
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return {
    completed: issued,
    ok,
    failures,
    latenciesMs,
    elapsedMs: Number(process.hrtime.bigint() - t0) / 1e6,
    capped,
  };
}

/** CPU time (ms, user+system) a process has used so far, from /proc (Linux). */
const CLK_TCK = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
})();
function procCpuMs(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" "); // f[0] = state (field 3)
    return ((Number(f[11]) + Number(f[12])) * 1000) / CLK_TCK; // utime, stime (fields 14, 15)
  } catch {
    return NaN;
  }
}
function selfCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

// ---------------------------------------------------------------------------------------------
// Main

const cleanups: Array<() => Promise<void> | void> = [];
const hardKills: Array<() => void> = [];

interface RunRecord {
  scenario: Scenario;
  path: Path;
  round: number;
  requests: number;
  ok: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  clientConnections: number;
  upstreamConnections: number;
  /** CPU per measured request, µs: load generator, upstream process, Squid (0 for direct). */
  cpuUsPerRequest: { client: number; upstream: number; squid: number };
  failures: Record<string, number>;
  capped: boolean;
}

const r1 = (x: number) => +x.toFixed(1);
const r2 = (x: number) => +x.toFixed(2);
const r3 = (x: number) => +x.toFixed(3);

async function bench(): Promise<number> {
  const started = Date.now();
  const loadAvgStart = os.loadavg().map(r2);
  const watchdog = setTimeout(() => {
    console.error(`watchdog: still running after ${HARD_DEADLINE_MS / 1000} s; killing squid and upstreams`);
    for (const k of hardKills) k();
    process.exit(1);
  }, HARD_DEADLINE_MS);
  watchdog.unref();
  let sigints = 0;
  process.on("SIGINT", () => {
    aborted = true;
    if (++sigints > 1) {
      for (const k of hardKills) k();
      process.exit(130);
    }
  });

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "vlk-squid-bench-"));
  cleanups.push(() => fs.rmSync(tmp, { recursive: true, force: true }));
  const { keyPath, certPath } = makeCert(tmp);
  const ca = fs.readFileSync(certPath);
  const body = makeBody();
  const bodyPath = path.join(tmp, "body.json");
  fs.writeFileSync(bodyPath, body);

  const up = await startUpstreams(tmp, keyPath, certPath, bodyPath);
  hardKills.push(() => up.child.kill("SIGKILL"));
  cleanups.push(() => up.stop());

  // Two Squids: plain port and PROXY-protocol port.
  const sandboxes: SquidSandbox[] = [];
  const squids: Partial<Record<Path, RunningSquid>> = {};
  cleanups.push(async () => {
    await Promise.all(Object.values(squids).map((s) => s?.stop()));
    for (const sb of sandboxes) sb.remove();
  });
  const confSummary: Partial<Record<Path, Record<string, unknown>>> = {};
  const launch = async (p: Path, extra: Partial<SquidConfOptions>) => {
    const sb = makeSandbox({ [HOST]: LOOPBACK }, "vlk-squid-bench-");
    sandboxes.push(sb);
    const port = await freePort(LOOPBACK);
    const opts: SquidConfOptions = {
      ...loopbackSquidOptions(port, sb, {
        headerName: HEADER,
        headerValue: SECRET,
        allowedDomains: [HOST],
        connectPorts: [up.httpsPort],
        safePorts: [up.httpPort],
        visibleHostname: "vlk-bench-proxy",
      }),
      ...extra,
    };
    const conf = renderSquidConf(opts);
    const s = await startSquid(conf, sb, port);
    squids[p] = s;
    hardKills.push(() => {
      try {
        process.kill(s.pid, "SIGKILL");
      } catch {
        // already gone
      }
    });
    confSummary[p] = {
      httpPort: conf.split("\n").find((l) => l.startsWith("http_port ")),
      headerName: HEADER,
      allowedDomains: opts.allowedDomains,
      clientCidrs: opts.clientCidrs,
      proxyProtocolFrom: opts.proxyProtocolFrom ?? null,
      connectPorts: "[https upstream port]",
      safePorts: "[http upstream port]",
      blockLocalDestinations: false,
      hostsFile: `${HOST} -> ${LOOPBACK}`,
      dnsNameservers: opts.dnsNameservers,
      accessLog: "daemon:<tmp>/access.log squid (on, as in production)",
      cache: "deny all",
    };
  };
  await Promise.all([
    launch("squid", {}),
    launch("squid+proxy-protocol", { clientCidrs: [`${ANNOUNCED_CLIENT}/32`], proxyProtocolFrom: [`${LOOPBACK}/32`] }),
  ]);
  const squidPort = (p: Path) => squids[p]!.port;
  let ppSrcPort = 40_000;
  const ppLine = () =>
    proxyV1(
      ANNOUNCED_CLIENT,
      LOOPBACK,
      (ppSrcPort = ppSrcPort >= 65_000 ? 40_000 : ppSrcPort + 1),
      squidPort("squid+proxy-protocol"),
    );

  const agentOpts = { keepAlive: true, maxSockets: CONCURRENCY, maxFreeSockets: CONCURRENCY };

  /** Builds the agent and the request function for one run; `clientConnections` read after the run. */
  const setup = (
    scenario: Scenario,
    p: Path,
  ): { send: Send; clientConnections: () => number | null; destroy: () => void } => {
    if (scenario === "http") {
      const target = `${HOST}:${up.httpPort}`;
      const agent = new LoopbackAgent(agentOpts, p === "squid+proxy-protocol" ? ppLine : undefined);
      const opts: http.RequestOptions =
        p === "direct"
          ? { host: LOOPBACK, port: up.httpPort, path: "/records", headers: { Host: target }, agent }
          : {
              host: LOOPBACK,
              port: squidPort(p),
              path: `http://${target}/records`,
              headers: { Host: target, [HEADER]: SECRET },
              agent,
            };
      return {
        send: () => request(http.request, opts, body.length),
        clientConnections: () => agent.created,
        destroy: () => agent.destroy(),
      };
    }
    /** GET /records on the upstream over HTTPS through `agent`; `target` says where the socket goes. */
    const httpsRun = (
      agent: https.Agent,
      target: https.RequestOptions,
      clientConnections: () => number | null,
    ): ReturnType<typeof setup> => {
      const opts: https.RequestOptions = {
        protocol: "https:",
        ...target,
        port: up.httpsPort,
        path: "/records",
        ca,
        agent,
      };
      return {
        send: () => request(https.request, opts, body.length),
        clientConnections,
        destroy: () => agent.destroy(),
      };
    };
    if (p === "direct") {
      const agent = new https.Agent({ ...agentOpts, ca });
      const target = { host: LOOPBACK, servername: HOST, headers: { Host: `${HOST}:${up.httpsPort}` } };
      return httpsRun(agent, target, () => null);
    }
    const proxyUrl = `http://${assertLoopback(LOOPBACK)}:${squidPort(p)}`;
    // noDelay: http.Agent's own sockets get it by default; https-proxy-agent passes only the options given.
    const paOpts = { ...agentOpts, noDelay: true, headers: { [HEADER]: SECRET } };
    const agent =
      p === "squid+proxy-protocol"
        ? new ProxyProtocolHttpsProxyAgent(proxyUrl, ppLine, paOpts)
        : new HttpsProxyAgent(proxyUrl, paOpts);
    // agent-base 7 answers `agent.protocol` (read by http.ClientRequest on every request) by sniffing
    // `new Error().stack`; under ts-node's source-map-support that stack costs ~0.4 ms of client CPU per
    // request and made the client, not Squid, the bottleneck. Setting it (a public setter) skips the
    // sniffing; what is left is the proxy path itself.
    agent.protocol = "https:";
    let tunnels = 0;
    agent.on("proxyConnect", (res: { statusCode: number }) => {
      if (res.statusCode === 200) tunnels++;
    });
    // `protocol` (set by httpsRun) matters: without it agent-base 7 files freed sockets under an http pool name
    // and never reuses them, i.e. one CONNECT + TLS handshake per request instead of per socket.
    return httpsRun(agent, { host: HOST }, () => tunnels);
  };

  const runs: RunRecord[] = [];
  const allFailures: Array<{
    scenario: Scenario;
    path: Path;
    round: number;
    phase: string;
    reason: string;
    count: number;
  }> = [];
  let incomplete = 0;
  const budgetEnd = started + MEASURE_BUDGET_MS;
  for (let round = 0; round <= ROUNDS; round++) {
    const requests = round === 0 ? WARM_ROUND_REQUESTS : REQUESTS;
    for (const scenario of ["http", "https"] as Scenario[]) {
      // Rotate the order each round so no path always runs first (or right after the same one).
      for (const p of PATHS.map((_, i) => PATHS[(i + round) % PATHS.length])) {
        const now = Date.now();
        if (aborted || now >= budgetEnd) {
          incomplete++;
          console.error(`skipped ${scenario}/${p} round ${round}: ${aborted ? "interrupted" : "time budget used up"}`);
          continue;
        }
        const deadline = Math.min(now + RUN_CAP_MS, budgetEnd);
        const before = await up.stats();
        const c = setup(scenario, p);
        const squidPid = p === "direct" ? null : squids[p]!.pid;
        let warm: LoadResult;
        let meas: LoadResult;
        let cpu0 = [0, 0, 0];
        let cpu1 = [0, 0, 0];
        const cpuNow = () => [selfCpuMs(), procCpuMs(up.child.pid!), squidPid === null ? 0 : procCpuMs(squidPid)];
        try {
          warm = await load(c.send, WARMUP, deadline, false);
          cpu0 = cpuNow();
          meas = await load(c.send, requests, deadline, true);
          cpu1 = cpuNow();
        } finally {
          c.destroy();
        }
        const after = await up.stats();
        const cpuUs = (i: number) => +(((cpu1[i] - cpu0[i]) * 1000) / Math.max(1, meas.ok)).toFixed(0);
        for (const [phase, r] of [
          ["warm-up", warm],
          ["measured", meas],
        ] as const) {
          for (const [reason, count] of Object.entries(r.failures))
            allFailures.push({ scenario, path: p, round, phase, reason, count });
        }
        if (warm.capped || meas.capped) {
          incomplete++;
          allFailures.push({
            scenario,
            path: p,
            round,
            phase: warm.capped ? "warm-up" : "measured",
            reason: "time cap reached before the fixed request count",
            count: WARMUP - warm.completed + (requests - meas.completed),
          });
        }
        const upstreamConnections = after[scenario].connections - before[scenario].connections;
        const clientConnections = c.clientConnections() ?? upstreamConnections;
        if (clientConnections > CONCURRENCY) {
          // Keep-alive is part of what is measured: more sockets than workers means it was not reused.
          allFailures.push({
            scenario,
            path: p,
            round,
            phase: "run",
            reason: `${clientConnections} client connections for ${CONCURRENCY} workers: keep-alive sockets were not reused`,
            count: 0,
          });
          incomplete++;
        }
        const failures: Record<string, number> = { ...warm.failures };
        for (const [k, v] of Object.entries(meas.failures)) failures[k] = (failures[k] ?? 0) + v;
        const rec: RunRecord = {
          scenario,
          path: p,
          round,
          requests: meas.completed,
          ok: meas.ok,
          rps: r1((meas.ok / meas.elapsedMs) * 1000),
          p50Ms: r3(median(meas.latenciesMs)),
          p99Ms: r3(percentile(meas.latenciesMs, 99)),
          clientConnections,
          upstreamConnections,
          cpuUsPerRequest: { client: cpuUs(0), upstream: cpuUs(1), squid: cpuUs(2) },
          failures,
          capped: warm.capped || meas.capped,
        };
        runs.push(rec);
        const nf = Object.values(failures).reduce((a, b) => a + b, 0);
        console.error(
          `round ${round} ${scenario.padEnd(5)} ${p.padEnd(20)} ${String(rec.rps).padStart(8)} req/s  p50 ${rec.p50Ms} ms  p99 ${rec.p99Ms} ms  conns client/upstream ${rec.clientConnections}/${upstreamConnections}  cpu µs/req client/upstream/squid ${rec.cpuUsPerRequest.client}/${rec.cpuUsPerRequest.upstream}/${rec.cpuUsPerRequest.squid}${nf ? `  FAILURES ${nf}` : ""}`,
        );
      }
    }
  }
  const finalStats = await up.stats();

  // Aggregate: median over the measured rounds (1..ROUNDS) of each run's req/s, p50, p99 and CPU.
  const agg = (scenario: Scenario, p: Path) => {
    const rs = runs.filter((r) => r.scenario === scenario && r.path === p && r.round > 0 && !r.capped);
    if (rs.length === 0) return null;
    const m = (f: (r: RunRecord) => number) => median(rs.map(f));
    return {
      rps: m((r) => r.rps),
      p50: m((r) => r.p50Ms),
      p99: m((r) => r.p99Ms),
      cpu: {
        client: m((r) => r.cpuUsPerRequest.client),
        upstream: m((r) => r.cpuUsPerRequest.upstream),
        squid: m((r) => r.cpuUsPerRequest.squid),
      },
      rpsRange: [Math.min(...rs.map((r) => r.rps)), Math.max(...rs.map((r) => r.rps))],
      byRound: new Map(rs.map((r) => [r.round, r])),
      rounds: rs.length,
    };
  };
  const rows: Array<Record<string, unknown>> = [];
  for (const scenario of ["http", "https"] as Scenario[]) {
    const d = agg(scenario, "direct");
    for (const p of ["squid", "squid+proxy-protocol"] as Path[]) {
      const q = agg(scenario, p);
      if (!d || !q) continue;
      // Paired per round (the two runs were seconds apart): less exposed to drifting machine load.
      const paired = [...q.byRound]
        .filter(([round]) => d.byRound.has(round))
        .map(([round, r]) => [r, d.byRound.get(round)!] as const);
      rows.push({
        scenario: SCENARIO_LABEL[scenario],
        path: p === "squid" ? "Squid" : "Squid + PROXY v1",
        directRps: r1(d.rps),
        proxiedRps: r1(q.rps),
        ratio: r2(q.rps / d.rps),
        directP50Ms: r2(d.p50),
        directP99Ms: r2(d.p99),
        proxiedP50Ms: r2(q.p50),
        proxiedP99Ms: r2(q.p99),
        addedP50Ms: r2(q.p50 - d.p50),
        addedP99Ms: r2(q.p99 - d.p99),
        cpuUsPerRequestDirect: d.cpu,
        cpuUsPerRequestProxied: q.cpu,
        directRpsRange: d.rpsRange,
        proxiedRpsRange: q.rpsRange,
        pairedRatioMedian: r2(median(paired.map(([x, y]) => x.rps / y.rps))),
        pairedAddedP50MsMedian: r2(median(paired.map(([x, y]) => x.p50Ms - y.p50Ms))),
        pairedAddedP99MsMedian: r2(median(paired.map(([x, y]) => x.p99Ms - y.p99Ms))),
        rounds: Math.min(d.rounds, q.rounds),
      });
    }
  }

  const failedRequests = allFailures.reduce((a, f) => a + f.count, 0);
  const ok = failedRequests === 0 && incomplete === 0 && finalStats.leakedSecretHeader === 0;
  const file = writeResult("squid-proxy", {
    benchmark: "squid-proxy",
    machine: machine(),
    // Other work on the machine skews every number; the runs' spread is in rows[].*RpsRange.
    loadAvg: { start: loadAvgStart, end: os.loadavg().map(r2) },
    squidVersion: squidVersion(),
    ok,
    setup: {
      loopbackOnly: true,
      concurrency: CONCURRENCY,
      warmupPerRun: WARMUP,
      requestsPerRun: REQUESTS,
      rounds: ROUNDS,
      warmRoundRequests: WARM_ROUND_REQUESTS,
      order:
        "round 0 (every path, discarded), then rounds 1..N; within a round http then https, path order rotated per round; fresh client agent per run",
      aggregation:
        "per path: median over rounds 1..N of each run's req/s, p50, p99 and CPU µs/request; ratio/added = proxied vs direct of those medians (added is a difference of percentiles); " +
        "paired*: median over rounds of the same-round proxied/direct ratio or difference",
      bodyBytes: body.length,
      upstream:
        "node http + https servers in a child process on 127.0.0.1, keepAliveTimeout 120 s; self-signed P-256 cert from openssl, trusted via ca",
      clients: {
        http: "http.Agent keepAlive, maxSockets 16; proxied = absolute-form GET to Squid with the secret header",
        https:
          "direct: https.Agent keepAlive, maxSockets 16; proxied: https-proxy-agent 7 keepAlive, maxSockets 16, noDelay, secret header on CONNECT (one tunnel per socket), " +
          "request option protocol 'https:' (else agent-base never reuses sockets) and agent.protocol = 'https:' (else agent-base sniffs new Error().stack per request, ~0.4 ms CPU under ts-node)",
        proxyProtocol: `PROXY TCP4 ${ANNOUNCED_CLIENT} ${LOOPBACK} <port> <squid port> written first on every connection to the require-proxy-header port`,
      },
      squidConfig: confSummary,
    },
    rows,
    runs,
    upstreamTotals: finalStats,
    failures: allFailures,
  });

  const fmt = (x: unknown) => String(x);
  console.log(
    `Squid ${squidVersion()}, concurrency ${CONCURRENCY}, ${REQUESTS} requests/run after ${WARMUP} warm-up, median of ${ROUNDS} rounds (after a discarded warm-up round), ${body.length} B JSON body, load average ${loadAvgStart.join(" ")} at start (${os.cpus().length} CPUs)`,
  );
  console.log(
    "| scenario | path | direct req/s | proxied req/s | ratio | direct p50 / p99 (ms) | proxied p50 / p99 (ms) | added p50 / p99 (ms) |",
  );
  console.log("|---|---|---|---|---|---|---|---|");
  for (const r of rows) {
    console.log(
      `| ${r.scenario} | ${r.path} | ${fmt(r.directRps)} | ${fmt(r.proxiedRps)} | ${fmt(r.ratio)}× | ${fmt(r.directP50Ms)} / ${fmt(r.directP99Ms)} | ${fmt(r.proxiedP50Ms)} / ${fmt(r.proxiedP99Ms)} | ${fmt(r.addedP50Ms)} / ${fmt(r.addedP99Ms)} |`,
    );
  }
  console.log("");
  console.log("| scenario | path | CPU µs/request direct: client / upstream | proxied: client / upstream / Squid |");
  console.log("|---|---|---|---|");
  for (const r of rows) {
    const d = r.cpuUsPerRequestDirect as { client: number; upstream: number };
    const q = r.cpuUsPerRequestProxied as { client: number; upstream: number; squid: number };
    console.log(
      `| ${r.scenario} | ${r.path} | ${d.client} / ${d.upstream} | ${q.client} / ${q.upstream} / ${q.squid} |`,
    );
  }
  console.log(`wrote ${path.relative(process.cwd(), file)}`);
  if (!ok) {
    console.error(
      `FAILED: ${failedRequests} failed request(s), ${incomplete} incomplete/skipped run(s), ${finalStats.leakedSecretHeader} request(s) leaked the secret header upstream`,
    );
    for (const f of allFailures)
      console.error(`  ${f.scenario}/${f.path} round ${f.round} ${f.phase}: ${f.count} × ${f.reason}`);
    for (const [p, s] of Object.entries(squids))
      console.error(`--- ${p} squid output (tail)\n${s!.output().split("\n").slice(-20).join("\n")}`);
  }
  return ok ? 0 : 1;
}

async function teardown(): Promise<void> {
  for (const c of cleanups.reverse()) {
    try {
      await c();
    } catch (e) {
      console.error(`teardown: ${(e as Error).message}`);
    }
  }
}

async function main(): Promise<void> {
  let code = 1;
  try {
    code = await bench();
  } catch (e) {
    console.error(e);
  } finally {
    await teardown(); // squid(s), upstream process, temp files — also after a failure
  }
  process.exitCode = code;
}

void main();
