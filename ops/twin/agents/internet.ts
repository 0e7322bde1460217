/**
 * The internet namespace's stand-ins, on the addresses the twin's DNS gives their public names, over TLS with
 * the twin's CA: kintone (test/fakes/kintone-server.ts) and the SaaS (below). Both accept only the
 * allowlisted egress IPs as source addresses, checked on the socket as the far end sees it, so "fixed egress IP"
 * is proven by what arrives here. Talks to the twin over the Node IPC channel: { state } → records and sources.
 */
import * as fs from "fs";
import * as http from "http";
import * as https from "https";
import { FakeKintone } from "../../../test/fakes/kintone-server";

interface Config {
  cert: string;
  key: string;
  allowlist: string[];
  /** The SaaS's allowlist: the proxy tier's egress addresses. */
  saasAllowlist?: string[];
  hosts: { name: string; ip: string; role: "kintone" | "saas" | "other" }[];
  kintone: { appId: number; token: string; fields: Record<string, string>; records: Record<string, unknown>[] };
  saas: {
    auth: { header: string; value: string };
    records: Record<string, unknown>[];
    pageSize: number;
    routes: { host: string; path: string; pagination: string; recordsPath: string }[];
  };
}

class TwinKintone extends FakeKintone {
  serve(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    return this.handle(req, res);
  }
}

const cfg = JSON.parse(fs.readFileSync(process.argv[2], "utf8")) as Config;
const kintone = new TwinKintone({
  tokens: { [cfg.kintone.token]: { app: cfg.kintone.appId, view: true, edit: true } },
  allowlist: cfg.allowlist,
});
kintone.addApp({ id: cfg.kintone.appId, fields: cfg.kintone.fields });
kintone.seed(cfg.kintone.appId, cfg.kintone.records);
const saas = { requests: 0 };

/** `a.b` / `$.a.b` / `$` → the object with `value` placed at that path. */
function place(p: string, value: unknown, into: Record<string, unknown> = {}): Record<string, unknown> {
  const parts = p
    .replace(/^\$\.?/, "")
    .split(".")
    .filter(Boolean);
  if (!parts.length) return value as Record<string, unknown>;
  let o = into;
  parts.forEach((k, i) => {
    if (i === parts.length - 1) o[k] = value;
    else o = (o[k] ??= {}) as Record<string, unknown>;
  });
  return into;
}

/**
 * The SaaS stand-in: the same records in the pagination style the function is configured for (SAAS_PAGINATION,
 * SAAS_RECORDS_PATH), on SAAS_URL's path, behind the credential the twin seeded. test/fakes/saas.ts serves fixed
 * paths and a fixed body shape; the twin must answer whatever shape the graph's function asks for.
 */
function saasHandle(hostName: string, req: http.IncomingMessage, res: http.ServerResponse): void {
  saas.requests++;
  const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { "content-type": "application/json", ...headers });
    res.end(JSON.stringify(body));
  };
  if (req.headers[cfg.saas.auth.header.toLowerCase()] !== cfg.saas.auth.value)
    return send(401, { error: "invalid_token" });
  const url = new URL(req.url ?? "/", "https://saas");
  const route = cfg.saas.routes.find((r) => r.host === hostName && r.path === url.pathname);
  if (!route) return send(404, { error: "not found" });
  const all = cfg.saas.records;
  const n = cfg.saas.pageSize;
  const [kind, a, b] = route.pagination.split(":");
  if (kind === "cursor") {
    const from = Number(url.searchParams.get(b) ?? 0);
    const next = from + n < all.length ? String(from + n) : null;
    return send(200, place(a, next, place(route.recordsPath, all.slice(from, from + n), {})));
  }
  if (kind === "page") {
    const page = Number(url.searchParams.get(a) ?? 1);
    return send(200, place(route.recordsPath, all.slice((page - 1) * n, page * n)));
  }
  if (kind === "link") {
    const from = Number(url.searchParams.get("offset") ?? 0);
    const headers: Record<string, string> =
      from + n < all.length ? { link: `<${route.path}?offset=${from + n}>; rel="next"` } : {};
    return send(200, place(route.recordsPath, all.slice(from, from + n)), headers);
  }
  return send(200, place(route.recordsPath, all));
}

const seen: { host: string; source: string; status: number }[] = [];
const tlsOpts = { cert: fs.readFileSync(cfg.cert), key: fs.readFileSync(cfg.key) };
let pending = cfg.hosts.length;
for (const h of cfg.hosts) {
  const server = https.createServer(tlsOpts, (req, res) => {
    const source = (req.socket.remoteAddress ?? "").replace(/^::ffff:/, "");
    res.on("finish", () => seen.push({ host: h.name, source, status: res.statusCode }));
    if (h.role === "kintone") return void kintone.serve(req, res);
    const allowlist = h.role === "saas" ? (cfg.saasAllowlist ?? cfg.allowlist) : cfg.allowlist;
    if (!allowlist.includes(source)) {
      res.writeHead(403, { "content-type": "text/plain" });
      return res.end(`source ${source} is not on the allowlist\n`);
    }
    if (h.role === "saas") return saasHandle(h.name, req, res);
    res.writeHead(200, { "content-type": "text/plain" });
    res.end("ok\n");
  });
  server.listen(443, h.ip, () => {
    if (--pending === 0) process.send?.({ type: "ready" });
  });
}
process.on("message", (m: { type: string }) => {
  if (m.type === "state") {
    process.send?.({
      type: "state",
      kintone: kintone.allRecords(cfg.kintone.appId),
      kintoneLog: kintone.log.length,
      seen,
      saasRequests: saas.requests,
    });
  }
});
process.on("disconnect", () => process.exit(0));
