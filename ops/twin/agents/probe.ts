/**
 * Runs inside an ENI namespace and sends real traffic for each check it is given (JSON on argv[2]): DNS through
 * the VPC's resolver, then TCP, TLS (verified against NODE_EXTRA_CA_CERTS), HTTP, the PostgreSQL SSLRequest or a
 * CONNECT through the proxy. Prints one JSON line: [{ id, ok, detail }].
 */
import * as dns from "dns";
import * as net from "net";
import * as tls from "tls";
import * as https from "https";
import * as fs from "fs";

export interface Check {
  id: string;
  kind: "https" | "pg" | "proxy" | "tcp";
  host: string;
  port: number;
  path?: string;
  /** HTTP statuses that fail the check (e.g. 403 from an allowlist or a resource policy). */
  failStatuses?: number[];
  target?: string;
  headers?: Record<string, string>;
  /** Proxy checks: CONNECTs that must be refused (without the header; to a host no allowlist names). */
  mustRefuse?: { target: string; headers: Record<string, string>; why: string }[];
  /** Proxy checks: sequential tunnels, so the load balancer's round robin reaches every proxy instance. */
  repeat?: number;
  /**
   * HTTPS checks: once TLS is up (the path is proven), how long to wait for the status. The private API stand-in
   * runs the integration's handler before it answers, which takes longer than a network timeout on a busy machine.
   */
  answerTimeoutMs?: number;
}

const TIMEOUT = Number(process.env.TWIN_PROBE_TIMEOUT_MS ?? 3000);
const ca = process.env.NODE_EXTRA_CA_CERTS ? fs.readFileSync(process.env.NODE_EXTRA_CA_CERTS, "utf8") : undefined;

function lookup(host: string): Promise<string> {
  if (net.isIP(host)) return Promise.resolve(host);
  return new Promise((resolve, reject) =>
    dns.lookup(host, { family: 4 }, (err, addr) =>
      err ? reject(new Error(`DNS ${host}: ${err.code}`)) : resolve(addr),
    ),
  );
}

function connect(addr: string, port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, addr);
    s.setTimeout(TIMEOUT, () => (s.destroy(), reject(new Error(`TCP ${addr}:${port}: no answer in ${TIMEOUT} ms`))));
    s.once("connect", () => (s.setTimeout(0), resolve(s)));
    s.once("error", (e: NodeJS.ErrnoException) => reject(new Error(`TCP ${addr}:${port}: ${e.code ?? e.message}`)));
  });
}

function httpsOver(sock: net.Socket | undefined, addr: string, c: Check, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: addr,
        port: c.port,
        servername: host,
        path: c.path ?? "/",
        method: "GET",
        headers: { host, ...(c.headers ?? {}) },
        ca,
        timeout: TIMEOUT,
        ...(sock ? { createConnection: () => tls.connect({ socket: sock, servername: host, ca }) } : {}),
      },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
      },
    );
    if (c.answerTimeoutMs) req.on("socket", (s) => s.once("secureConnect", () => s.setTimeout(c.answerTimeoutMs!)));
    req.on("timeout", () => req.destroy(new Error(`HTTPS ${host}: no answer in ${TIMEOUT} ms`)));
    req.on("error", (e: NodeJS.ErrnoException) => reject(new Error(`HTTPS ${host} (${addr}): ${e.code ?? e.message}`)));
    req.end();
  });
}

async function run(c: Check): Promise<string> {
  const addr = await lookup(c.host);
  if (c.kind === "tcp") {
    (await connect(addr, c.port)).destroy();
    return `TCP ${c.host} (${addr}):${c.port} connected`;
  }
  if (c.kind === "https") {
    const status = await httpsOver(undefined, addr, c, c.host);
    if (c.failStatuses?.includes(status)) throw new Error(`HTTPS ${c.host} (${addr}) answered ${status}`);
    return `HTTPS ${c.host} (${addr}) answered ${status}`;
  }
  if (c.kind === "pg") {
    const s = await connect(addr, c.port);
    const req = Buffer.alloc(8);
    req.writeInt32BE(8, 0);
    req.writeInt32BE(80877103, 4);
    s.write(req);
    const answer = await new Promise<string>((resolve, reject) => {
      s.setTimeout(TIMEOUT, () => reject(new Error("PostgreSQL: no SSLRequest answer")));
      s.once("data", (d) => resolve(d.toString("latin1", 0, 1)));
      s.once("error", (e) => reject(e));
    });
    if (answer !== "S") throw new Error(`PostgreSQL at ${addr}:${c.port} refused TLS (${answer})`);
    await new Promise<void>((resolve, reject) => {
      const t = tls.connect({ socket: s, servername: c.host, ca }, () => (t.destroy(), resolve()));
      t.once("error", (e) => reject(new Error(`PostgreSQL TLS: ${e.message}`)));
    });
    return `PostgreSQL ${c.host} (${addr}):${c.port} TLS handshake verified`;
  }
  // proxy: CONNECT target:443, then HTTPS through the tunnel; then the CONNECTs the gate must refuse.
  const target = c.target!;
  let far = 0;
  const rounds = Math.max(1, c.repeat ?? 1);
  for (let i = 1; i <= rounds; i++) {
    const { s, status } = await connectThrough(addr, c, target, c.headers ?? {});
    if (status !== 200)
      throw new Error(`proxy ${c.host} (${addr}) answered CONNECT ${target} with ${status} (tunnel ${i} of ${rounds})`);
    far = await httpsOver(s, addr, { ...c, port: 443, headers: {} }, target);
    if (c.failStatuses?.includes(far))
      throw new Error(`through proxy ${c.host}: ${target} answered ${far} (tunnel ${i} of ${rounds})`);
  }
  const refused: string[] = [];
  for (const r of c.mustRefuse ?? []) {
    const x = await connectThrough(addr, c, r.target, r.headers);
    x.s.destroy();
    if (x.status === 200)
      throw new Error(`proxy ${c.host} let CONNECT ${r.target} through ${r.why}: the gate must refuse it`);
    refused.push(`${r.why} → ${x.status}`);
  }
  return `proxy ${c.host} (${addr}) → ${rounds}× CONNECT ${target} 200 → HTTPS ${far}${refused.length ? `; refused: ${refused.join(", ")}` : ""}`;
}

async function connectThrough(
  addr: string,
  c: Check,
  target: string,
  headers: Record<string, string>,
): Promise<{ s: net.Socket; status: number }> {
  const s = await connect(addr, c.port);
  const hdrs = Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join("");
  s.write(`CONNECT ${target}:443 HTTP/1.1\r\nHost: ${target}:443\r\n${hdrs}\r\n`);
  const head = await new Promise<string>((resolve, reject) => {
    let buf = "";
    s.setTimeout(TIMEOUT, () => reject(new Error(`proxy ${c.host}: no CONNECT answer`)));
    const onData = (d: Buffer) => {
      buf += d.toString("latin1");
      if (buf.includes("\r\n\r\n")) {
        s.off("data", onData);
        s.setTimeout(0);
        resolve(buf);
      }
    };
    s.on("data", onData);
    s.once("error", (e: NodeJS.ErrnoException) => reject(new Error(`proxy ${c.host}: ${e.code ?? e.message}`)));
    s.once("end", () => reject(new Error(`proxy ${c.host}: closed before answering CONNECT`)));
  });
  return { s, status: Number(head.split(" ")[1]) };
}

(async () => {
  const checks = JSON.parse(process.argv[2]) as Check[];
  const out = await Promise.all(
    checks.map(async (c) => {
      try {
        return { id: c.id, ok: true, detail: await run(c) };
      } catch (e) {
        return { id: c.id, ok: false, detail: (e as Error).message };
      }
    }),
  );
  process.stdout.write(JSON.stringify(out) + "\n");
  process.exit(0);
})();
