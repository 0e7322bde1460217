/**
 * The internet namespace's stand-ins, on the addresses the twin's DNS gives their public names, over TLS with
 * the twin's CA: kintone (test/fakes/kintone-server.ts) and the SaaS (test/fakes/saas.ts). Both accept only the
 * allowlisted egress IPs as source addresses, checked on the socket as the far end sees it, so "fixed egress IP"
 * is proven by what arrives here. Talks to the twin over the Node IPC channel: { state } → records and sources.
 */
import * as fs from "fs";
import * as http from "http";
import * as https from "https";
import { FakeKintone } from "../../../test/fakes/kintone-server";
import { FakeSaas, refusedSource, sourceAddress } from "../../../test/fakes/saas";

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
/**
 * The SaaS stand-in on one route: SAAS_URL's path, in the pagination style the function is configured for
 * (SAAS_PAGINATION, SAAS_RECORDS_PATH), behind the credential the twin seeded.
 */
const saasByHost = new Map(
  cfg.hosts
    .filter((h) => h.role === "saas")
    .map((h) => [
      h.name,
      new FakeSaas({
        host: h.name,
        routes: cfg.saas.routes.filter((r) => r.host === h.name),
        // The SaaS allowlists the proxy tier's egress addresses.
        allowlist: cfg.saasAllowlist ?? cfg.allowlist,
        auth: cfg.saas.auth,
        records: cfg.saas.records,
        pageSize: cfg.saas.pageSize,
      }),
    ]),
);

const seen: { host: string; source: string; status: number }[] = [];
const tlsOpts = { cert: fs.readFileSync(cfg.cert), key: fs.readFileSync(cfg.key) };
let pending = cfg.hosts.length;
for (const h of cfg.hosts) {
  const server = https.createServer(tlsOpts, (req, res) => {
    const source = sourceAddress(req);
    res.on("finish", () => seen.push({ host: h.name, source, status: res.statusCode }));
    if (h.role === "kintone") return void kintone.serve(req, res);
    if (h.role === "saas") return saasByHost.get(h.name)?.serve(req, res);
    if (refusedSource(req, res, cfg.allowlist)) return;
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
      saasRequests: [...saasByHost.values()].reduce((n, s) => n + s.requests.length, 0),
    });
  }
});
process.on("disconnect", () => process.exit(0));
