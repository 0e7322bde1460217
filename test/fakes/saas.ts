/**
 * A fake SaaS JSON API over HTTPS on 127.0.0.1, reached in the tests through a real Squid (CONNECT tunnel) under
 * the name `api.example.com`, which the Squid's hosts_file maps to 127.0.0.1.
 *
 * TLS is real: `start()` makes a throw-away CA and a server certificate for `host` (subjectAltName DNS:<host>) with
 * the `openssl` CLI, so the client verifies the chain and the name exactly as against a real SaaS; it only has to
 * trust `caFile`.
 *
 * The same records are served in four pagination styles, one path each, all shaped `{data: {items: [...]}, …}`:
 *   GET /v1/cursor?cursor=<opaque>   `meta.next_cursor` (null on the last page)
 *   GET /v1/link?offset=<n>          RFC 8288 `Link: <…>; rel="next"` header (absent on the last page)
 *   GET /v1/page?page=<n>            1-based page number; a page past the end is empty
 *   GET /v1/all                      everything in one response
 * Every request must carry the expected credential (`auth`), else 401 `{error: "invalid_token"}`.
 * Faults: `failNext(n, status, {after})` answers the next n requests (after `after` good ones) with that status (429s with Retry-After: 0).
 * `requests` keeps every request's headers so tests can prove what the SaaS saw (and never saw).
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as https from "https";
import type { AddressInfo } from "net";
import * as os from "os";
import * as path from "path";

export interface SaasRequest {
  method: string;
  url: string;
  /** Lower-cased header names → values, exactly as received. */
  headers: Record<string, string | string[] | undefined>;
}

export interface FakeSaasOptions {
  /** The name the certificate is issued for and the proxy resolves; default api.example.com. */
  host?: string;
}

export class FakeSaas {
  readonly host: string;
  records: Record<string, unknown>[] = [];
  pageSize = 50;
  /**
   * A listing cut short, as a faulty SaaS answers: /v1/cursor serves records before this index normally, then one
   * page with no items and a null cursor (the walk ends there). Undefined = no fault.
   */
  truncateAt: number | undefined;
  /** The credential every request must carry: header name (any case) and exact value. */
  auth: { header: string; value: string } = { header: "authorization", value: "Bearer test-token" };
  readonly requests: SaasRequest[] = [];
  caFile = "";
  port = 0;
  private dir = "";
  private server: https.Server | undefined;
  private faults: Array<{ status: number }> = [];

  constructor(opts: FakeSaasOptions = {}) {
    this.host = opts.host ?? "api.example.com";
  }

  /** `https://<host>:<port>` — the origin as the client names it (resolved to 127.0.0.1 by the proxy). */
  get origin(): string {
    return `https://${this.host}:${this.port}`;
  }

  url(pathAndQuery: string): string {
    return `${this.origin}${pathAndQuery}`;
  }

  /** The next `n` requests (after `after` more that pass) are answered with `status`. Calls queue up. */
  failNext(n: number, status: number, opts: { after?: number } = {}): void {
    for (let i = 0; i < (opts.after ?? 0); i++) this.faults.push({ status: 0 });
    for (let i = 0; i < n; i++) this.faults.push({ status });
  }

  clearFaults(): void {
    this.faults = [];
    this.truncateAt = undefined;
  }

  /** True if any request carried a header with this name (case-insensitive) or any header carried `value`. */
  sawHeader(name: string, value?: string): boolean {
    return this.requests.some((r) =>
      Object.entries(r.headers).some(
        ([h, v]) => h === name.toLowerCase() || (value !== undefined && String(v).includes(value)),
      ),
    );
  }

  async start(): Promise<void> {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), "vlk-saas-tls-"));
    const { key, cert, caFile } = makeCertificates(this.dir, this.host);
    this.caFile = caFile;
    const server = https.createServer({ key, cert }, (req, res) => this.handle(req, res));
    server.keepAliveTimeout = 5_000;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => resolve());
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    if (this.dir) fs.rmSync(this.dir, { recursive: true, force: true });
  }

  private handle(req: import("http").IncomingMessage, res: import("http").ServerResponse): void {
    this.requests.push({ method: req.method ?? "", url: req.url ?? "", headers: { ...req.headers } });
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      const text = JSON.stringify(body);
      res.writeHead(status, {
        "Content-Type": "application/json",
        "Content-Length": Buffer.byteLength(text),
        ...headers,
      });
      res.end(text);
    };
    const fault = this.faults.shift();
    if (fault && fault.status !== 0)
      return send(
        fault.status,
        { error: `injected ${fault.status}` },
        fault.status === 429 ? { "Retry-After": "0" } : {},
      );
    if (req.headers[this.auth.header.toLowerCase()] !== this.auth.value) return send(401, { error: "invalid_token" });
    if (req.method !== "GET") return send(405, { error: "method not allowed" });

    const url = new URL(req.url ?? "/", this.origin);
    const n = this.records.length;
    const slice = (from: number) => this.records.slice(from, from + this.pageSize);
    switch (url.pathname) {
      case "/v1/cursor": {
        const c = url.searchParams.get("cursor");
        const from = c === null ? 0 : Number(Buffer.from(c, "base64url").toString("utf8").replace(/^o:/, ""));
        if (!Number.isInteger(from) || from < 0) return send(400, { error: "bad cursor" });
        if (this.truncateAt !== undefined && from >= this.truncateAt)
          return send(200, { data: { items: [] }, meta: { next_cursor: null, total: n } });
        const next = from + this.pageSize < n ? Buffer.from(`o:${from + this.pageSize}`).toString("base64url") : null;
        return send(200, { data: { items: slice(from) }, meta: { next_cursor: next, total: n } });
      }
      case "/v1/link": {
        const from = Number(url.searchParams.get("offset") ?? 0);
        const headers: Record<string, string> = {};
        // A relative reference (resolved against the request URL) plus an unrelated rel, as real APIs send.
        if (from + this.pageSize < n)
          headers.Link = `</v1/link?offset=${from + this.pageSize}>; rel="next", </v1/link?offset=0>; rel="first"`;
        return send(200, { data: { items: slice(from) } }, headers);
      }
      case "/v1/page": {
        const page = Number(url.searchParams.get("page") ?? 1);
        if (!Number.isInteger(page) || page < 1) return send(400, { error: "bad page" });
        return send(200, { data: { items: slice((page - 1) * this.pageSize) }, page });
      }
      case "/v1/all":
        return send(200, { data: { items: this.records } });
      default:
        return send(404, { error: "not found" });
    }
  }
}

/** A CA and a server certificate for `host`, made with the openssl CLI (EC P-256: fast to generate). */
export function makeCertificates(dir: string, host: string): { key: string; cert: string; caFile: string } {
  const run = (args: string[]) => {
    const r = spawnSync("openssl", args, { cwd: dir, encoding: "utf8" });
    if (r.error) throw new Error(`openssl is needed to make the test certificates: ${r.error.message}`);
    if (r.status !== 0) throw new Error(`openssl ${args.join(" ")} failed:\n${r.stderr}`);
  };
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  run([
    "req",
    "-x509",
    ...ec,
    "-keyout",
    "ca.key",
    "-out",
    "ca.pem",
    "-days",
    "2",
    "-subj",
    "/CN=vpc-lambda-kit test CA",
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  ]);
  run(["req", ...ec, "-keyout", "server.key", "-out", "server.csr", "-subj", `/CN=${host}`]);
  fs.writeFileSync(
    path.join(dir, "server.ext"),
    [
      `subjectAltName=DNS:${host}`,
      "basicConstraints=critical,CA:FALSE",
      "keyUsage=critical,digitalSignature",
      "extendedKeyUsage=serverAuth",
      "",
    ].join("\n"),
  );
  run([
    "x509",
    "-req",
    "-in",
    "server.csr",
    "-CA",
    "ca.pem",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-out",
    "server.pem",
    "-days",
    "2",
    "-extfile",
    "server.ext",
  ]);
  return {
    key: fs.readFileSync(path.join(dir, "server.key"), "utf8"),
    cert: fs.readFileSync(path.join(dir, "server.pem"), "utf8"),
    caFile: path.join(dir, "ca.pem"),
  };
}
