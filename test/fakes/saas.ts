/**
 * A fake SaaS JSON API over HTTPS, one stand-in for the handler tests and the twin's internet namespace.
 *
 * In the handler tests `start()` serves it on 127.0.0.1, reached through a real Squid (CONNECT tunnel) under the
 * name `api.example.com`, which the Squid's hosts_file maps to 127.0.0.1. TLS is real: `start()` makes a
 * throw-away CA and a server certificate for `host` (subjectAltName DNS:<host>) with the `openssl` CLI, so the
 * client verifies the chain and the name exactly as against a real SaaS; it only has to trust `caFile`. The twin
 * instead calls `serve()` from its own HTTPS server on the address its DNS gives the SaaS's name.
 *
 * Each route serves the same records in one pagination style, described in the kit's own config syntax
 * (SAAS_PAGINATION and SAAS_RECORDS_PATH), so the twin answers whatever its function is configured for. By
 * default four paths, records at `data.items`:
 *   GET /v1/cursor?cursor=<opaque>   `meta.next_cursor` (null on the last page)
 *   GET /v1/link?offset=<n>          RFC 8288 `Link: <…>; rel="next"` header (absent on the last page)
 *   GET /v1/page?page=<n>            1-based page number; a page past the end is empty
 *   GET /v1/all                      everything in one response
 * With `allowlist`, a request from any other source address (as the socket's far end shows it) is turned away
 * with 403 before anything else, as a SaaS with an IP restriction does.
 * Every request must carry the expected credential (`auth`), else 401 `{error: "invalid_token"}`.
 * Faults: `failNext(n, status, {after})` answers the next n requests (after `after` good ones) with that status (429s with Retry-After: 0).
 * `requests` keeps every request's headers so tests can prove what the SaaS saw (and never saw).
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import type * as http from "http";
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

/** One path the stand-in serves and how, in the syntax of the kit's SAAS_PAGINATION and SAAS_RECORDS_PATH. */
export interface SaasRoute {
  path: string;
  /** `none`, `link` (offset=<n>), `page:<param>` or `cursor:<next-cursor path>:<param>` (the cursor is opaque). */
  pagination: string;
  /** Where the records sit in the body: `$` (the body is the array) or a dotted path such as `data.items`. */
  recordsPath: string;
}

export const DEFAULT_SAAS_ROUTES: readonly SaasRoute[] = [
  { path: "/v1/cursor", pagination: "cursor:meta.next_cursor:cursor", recordsPath: "data.items" },
  { path: "/v1/link", pagination: "link", recordsPath: "data.items" },
  { path: "/v1/page", pagination: "page:page", recordsPath: "data.items" },
  { path: "/v1/all", pagination: "none", recordsPath: "data.items" },
];

export interface FakeSaasOptions {
  /** The name the certificate is issued for and the proxy resolves; default api.example.com. */
  host?: string;
  /** The paths served; default DEFAULT_SAAS_ROUTES. */
  routes?: readonly SaasRoute[];
  /** Source addresses let in; default any. */
  allowlist?: string[];
  auth?: { header: string; value: string };
  records?: Record<string, unknown>[];
  pageSize?: number;
}

/** The source address as the far end of the request's socket shows it (IPv4-mapped IPv6 unwrapped). */
export function sourceAddress(req: http.IncomingMessage): string {
  return (req.socket.remoteAddress ?? "").replace(/^::ffff:/, "");
}

/** Answers 403 and returns true when the request's source address is not on `allowlist`. */
export function refusedSource(req: http.IncomingMessage, res: http.ServerResponse, allowlist: string[]): boolean {
  const source = sourceAddress(req);
  if (allowlist.includes(source)) return false;
  res.writeHead(403, { "content-type": "text/plain" });
  res.end(`source ${source} is not on the allowlist\n`);
  return true;
}

/** `a.b` / `$.a.b` / `$` → `into` with `value` placed at that path (`$`: the value itself). */
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

export class FakeSaas {
  readonly host: string;
  readonly routes: readonly SaasRoute[];
  readonly allowlist: string[] | undefined;
  records: Record<string, unknown>[];
  pageSize: number;
  /**
   * A listing cut short, as a faulty SaaS answers: a cursor route serves records before this index normally, then
   * one page with no items and a null cursor (the walk ends there). Undefined = no fault.
   */
  truncateAt: number | undefined;
  /** The credential every request must carry: header name (any case) and exact value. */
  auth: { header: string; value: string };
  readonly requests: SaasRequest[] = [];
  caFile = "";
  port = 0;
  private dir = "";
  private server: https.Server | undefined;
  private faults: Array<{ status: number }> = [];

  constructor(opts: FakeSaasOptions = {}) {
    this.host = opts.host ?? "api.example.com";
    this.routes = opts.routes ?? DEFAULT_SAAS_ROUTES;
    this.allowlist = opts.allowlist;
    this.auth = opts.auth ?? { header: "authorization", value: "Bearer test-token" };
    this.records = opts.records ?? [];
    this.pageSize = opts.pageSize ?? 50;
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
    const server = https.createServer({ key, cert }, (req, res) => this.serve(req, res));
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

  /** Answers one request (the server `start()` makes calls this; so can another HTTPS server). */
  serve(req: http.IncomingMessage, res: http.ServerResponse): void {
    if (this.allowlist && refusedSource(req, res, this.allowlist)) return;
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

    const url = new URL(req.url ?? "/", `https://${this.host}`);
    const route = this.routes.find((r) => r.path === url.pathname);
    if (!route) return send(404, { error: "not found" });
    const n = this.records.length;
    const size = this.pageSize;
    const page = (items: unknown) => place(route.recordsPath, items);
    const [kind, a, b] = route.pagination.split(":");
    switch (kind) {
      case "cursor": {
        const c = url.searchParams.get(b);
        const from = c === null ? 0 : Number(Buffer.from(c, "base64url").toString("utf8").replace(/^o:/, ""));
        if (!Number.isInteger(from) || from < 0) return send(400, { error: "bad cursor" });
        if (this.truncateAt !== undefined && from >= this.truncateAt) return send(200, place(a, null, page([])));
        const next = from + size < n ? Buffer.from(`o:${from + size}`).toString("base64url") : null;
        return send(200, place(a, next, page(this.records.slice(from, from + size))));
      }
      case "link": {
        const from = Number(url.searchParams.get("offset") ?? 0);
        const headers: Record<string, string> = {};
        // A relative reference (resolved against the request URL) plus an unrelated rel, as real APIs send.
        if (from + size < n)
          headers.Link = `<${route.path}?offset=${from + size}>; rel="next", <${route.path}?offset=0>; rel="first"`;
        return send(200, page(this.records.slice(from, from + size)), headers);
      }
      case "page": {
        const p = Number(url.searchParams.get(a) ?? 1);
        if (!Number.isInteger(p) || p < 1) return send(400, { error: "bad page" });
        return send(200, page(this.records.slice((p - 1) * size, p * size)));
      }
      default:
        return send(200, page(this.records));
    }
  }
}

export interface Certificates {
  /** The server's key and certificate, PEM text and the files they are in. */
  key: string;
  cert: string;
  keyFile: string;
  certFile: string;
  /** The CA certificate a client must trust. */
  caFile: string;
}

/**
 * A CA and one server certificate for `names` (every one a subjectAltName), made in `dir` with the openssl CLI
 * (EC P-256: fast to generate). `openssl` names the binary when PATH is not to be trusted; `caName` the CA's CN.
 */
export function makeCertificates(
  dir: string,
  names: string | string[],
  opts: { openssl?: string; caName?: string } = {},
): Certificates {
  const sans = typeof names === "string" ? [names] : names;
  const run = (args: string[]) => {
    const r = spawnSync(opts.openssl ?? "openssl", args, { cwd: dir, encoding: "utf8" });
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
    `/CN=${opts.caName ?? "vpc-lambda-kit test CA"}`,
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  ]);
  run(["req", ...ec, "-keyout", "server.key", "-out", "server.csr", "-subj", `/CN=${sans[0]}`]);
  fs.writeFileSync(
    path.join(dir, "server.ext"),
    [
      `subjectAltName=${sans.map((n) => `DNS:${n}`).join(",")}`,
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
  const keyFile = path.join(dir, "server.key");
  const certFile = path.join(dir, "server.pem");
  return {
    key: fs.readFileSync(keyFile, "utf8"),
    cert: fs.readFileSync(certFile, "utf8"),
    keyFile,
    certFile,
    caFile: path.join(dir, "ca.pem"),
  };
}
