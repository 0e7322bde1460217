/**
 * A fake kintone domain on 127.0.0.1, enforcing the limits the sync must respect, so tests prove it does:
 *   GET  /k/v1/records.json         limit ≤ 500, offset ≤ 10,000, query (conditions, and/or, parentheses, in, like,
 *                                   order by, limit, offset), fields, totalCount; POST with X-HTTP-Method-Override: GET
 *   PUT  /k/v1/records.json         ≤ 100 records, revision check (409 GAIA_CO02), revision + 1 on every update
 *   POST /k/v1/bulkRequest.json     ≤ 20 requests, all-or-nothing, failing request's status with {results: [...]}
 *   POST/GET/DELETE /k/v1/records/cursor.json   size ≤ 500, ≤ 10 live cursors per domain (GAIA_TM12)
 * plus API-token auth (X-Cybozu-API-Token, comma-separated tokens, view/edit permissions), a source-IP allowlist
 * checked on req.socket.remoteAddress in front of everything (as cybozu.com's IP restriction is), fault injection,
 * per-endpoint request counts and a hook to play a person editing records while the sync runs.
 *
 * Error bodies follow kintone's `{code, id, message, errors?}`; codes and statuses are the ones documented or
 * observed publicly (see functions/kintone-sync/errors.ts for the sources). The IP-restriction page is HTML, as
 * cybozu.com's access control answers before the API layer; its exact text is not published, so it is generic.
 */
import * as http from "http";
import { LoopbackHttpServer } from "./loopback-server";
import { randomUUID } from "crypto";

export const LIMITS = {
  getRecords: 500,
  offset: 10_000,
  putRecords: 100,
  bulkRequests: 20,
  cursors: 10,
  cursorSize: 500,
};

export type FieldType = string;

export interface FakeApp {
  id: number;
  /** Field code -> kintone field type. */
  fields: Record<string, FieldType>;
  /** Field validation (required, max length, options…): a message refuses the value, as kintone's CB_VA01 does. */
  validate?: (code: string, value: unknown) => string | undefined;
}

interface StoredRecord {
  id: number;
  revision: number;
  values: Record<string, unknown>;
}

interface AppState extends FakeApp {
  records: Map<number, StoredRecord>;
  nextId: number;
}

export interface TokenGrant {
  app: number;
  view?: boolean;
  edit?: boolean;
}

export interface Fault {
  /** HTTP status to answer (ignored with `reset`). */
  status?: number;
  /** How many matching requests fail (Infinity = until cleared). */
  count: number;
  /** Let this many matching requests through first ("fail at request K" = skip K-1). */
  skip?: number;
  /** Which requests the fault applies to; default all. */
  match?: (req: { method: string; path: string }) => boolean;
  /** Destroy the socket instead of answering: a network error. */
  reset?: boolean;
  /** Process the request, then fail (the write happened, the response is lost). */
  afterApply?: boolean;
  body?: "json" | "html" | "empty";
  retryAfterSeconds?: number;
}

/** One request as the fake saw it; `status` -1 = connection reset by a fault. */
export interface LogEntry {
  method: string;
  path: string;
  status: number;
  query?: string;
  fields?: string[];
}

export interface WriteEvent {
  app: number;
  /** Records about to be updated (across all requests of a bulkRequest). */
  ids: number[];
}

interface ReqInfo {
  method: string;
  path: string;
  params: Record<string, unknown>;
  token: string | undefined;
}

class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly errors?: Record<string, { messages: string[] }>,
  ) {
    super(message);
  }
  body(): Record<string, unknown> {
    return {
      code: this.code,
      id: randomUUID().replace(/-/g, "").slice(0, 20),
      message: this.message,
      ...(this.errors ? { errors: this.errors } : {}),
    };
  }
}

export interface FakeKintoneOptions {
  tokens?: Record<string, TokenGrant>;
  /** Source addresses admitted; undefined = no IP restriction. */
  allowlist?: string[];
  /** How a non-allowlisted address is turned away: a 403 HTML page, or a 401 Basic-auth challenge. */
  ipRejection?: "html-403" | "basic-401";
}

export class FakeKintone extends LoopbackHttpServer {
  readonly apps = new Map<number, AppState>();
  tokens: Record<string, TokenGrant>;
  allowlist: string[] | undefined;
  ipRejection: "html-403" | "basic-401";
  /** Requests by "METHOD /path" (method-override GETs count as GET). */
  readonly counts: Record<string, number> = {};
  /** Every request, in order. */
  readonly log: LogEntry[] = [];
  /** Limits the client broke (the server also refused those requests). */
  readonly violations: string[] = [];
  readonly max = { limit: 0, offset: 0, putRecords: 0, bulkRequests: 0, liveCursors: 0 };
  /** Successful record updates per record id, across all apps. */
  readonly writesById = new Map<number, number>();
  /** Called before a PUT records.json or bulkRequest is processed (after auth); may edit records. */
  beforeWrite: ((e: WriteEvent) => void) | undefined;
  private faults: Fault[] = [];
  private readonly cursors = new Map<string, { app: number; records: Record<string, unknown>[]; size: number }>();

  constructor(opts: FakeKintoneOptions = {}) {
    super();
    this.tokens = opts.tokens ?? {};
    this.allowlist = opts.allowlist;
    this.ipRejection = opts.ipRejection ?? "html-403";
  }

  addApp(app: FakeApp): void {
    this.apps.set(app.id, { ...app, records: new Map(), nextId: 1 });
  }

  /** Adds records (values by field code); returns their ids. Revision starts at 1. */
  seed(appId: number, rows: Record<string, unknown>[]): number[] {
    const app = this.app(appId);
    return rows.map((values) => {
      const id = app.nextId++;
      app.records.set(id, { id, revision: 1, values: structuredClone(values) });
      return id;
    });
  }

  /** A person saving the record in the browser: values change, revision + 1. */
  editRecord(appId: number, id: number, values: Record<string, unknown>): void {
    const rec = this.app(appId).records.get(id);
    if (!rec) throw new Error(`no record ${id}`);
    Object.assign(rec.values, structuredClone(values));
    rec.revision++;
  }

  deleteRecord(appId: number, id: number): void {
    this.app(appId).records.delete(id);
  }

  record(appId: number, id: number): { revision: number; values: Record<string, unknown> } {
    const rec = this.app(appId).records.get(id);
    if (!rec) throw new Error(`no record ${id}`);
    return { revision: rec.revision, values: structuredClone(rec.values) };
  }

  allRecords(appId: number): { id: number; revision: number; values: Record<string, unknown> }[] {
    return [...this.app(appId).records.values()].map((r) => ({
      id: r.id,
      revision: r.revision,
      values: structuredClone(r.values),
    }));
  }

  get liveCursors(): number {
    return this.cursors.size;
  }

  injectFault(f: Fault): void {
    this.faults.push({ ...f });
  }

  clearFaults(): void {
    this.faults = [];
  }

  /** Zeroes counters, request log, violations and write tallies (records stay). */
  resetStats(): void {
    for (const k of Object.keys(this.counts)) delete this.counts[k];
    this.log.length = 0;
    this.violations.length = 0;
    Object.assign(this.max, { limit: 0, offset: 0, putRecords: 0, bulkRequests: 0, liveCursors: 0 });
    this.writesById.clear();
  }

  get totalRequests(): number {
    return Object.values(this.counts).reduce((a, b) => a + b, 0);
  }

  private app(id: number): AppState {
    const app = this.apps.get(id);
    if (!app) throw new Error(`no app ${id}`);
    return app;
  }

  protected async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://fake");
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const rawBody = Buffer.concat(chunks).toString("utf8");
    const override = String(req.headers["x-http-method-override"] ?? "").toUpperCase();
    const method = req.method === "POST" && override ? override : (req.method ?? "GET");
    const path = url.pathname;
    const key = `${method} ${path}`;
    this.counts[key] = (this.counts[key] ?? 0) + 1;
    const entry: LogEntry = { method, path, status: 0 };
    this.log.push(entry);

    const send = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
      entry.status = status;
      if (res.destroyed) return;
      const text = typeof body === "string" ? body : JSON.stringify(body);
      const type = typeof body === "string" ? "text/html; charset=utf-8" : "application/json; charset=utf-8";
      res.writeHead(status, { "content-type": type, "content-length": Buffer.byteLength(text), ...headers });
      res.end(text);
    };

    // Faults stand for the infrastructure in front of kintone, so they come first.
    const fault = this.takeFault(method, path);
    if (fault && !fault.afterApply) return this.fail(fault, send, req);

    if (this.allowlist) {
      const from = (req.socket.remoteAddress ?? "").replace(/^::ffff:/, "");
      if (!this.allowlist.includes(from)) {
        if (this.ipRejection === "basic-401") {
          return send(
            401,
            "<!DOCTYPE html><html><head><title>401 Authorization Required</title></head><body><h1>認証が必要です</h1></body></html>",
            {
              "www-authenticate": 'Basic realm="cybozu.com"',
            },
          );
        }
        return send(
          403,
          "<!DOCTYPE html><html><head><title>403 Forbidden</title></head><body><h1>Forbidden</h1>" +
            `<p>Access from your IP address (${from}) is not permitted by this domain's access control settings.</p></body></html>`,
        );
      }
    }

    let params: Record<string, unknown>;
    try {
      // GET/DELETE carry parameters in the URL, unless sent as POST + X-HTTP-Method-Override with a JSON body.
      params = rawBody.trim() ? (JSON.parse(rawBody) as Record<string, unknown>) : queryParams(url);
    } catch {
      return send(400, new ApiError(400, "CB_IJ01", "Invalid JSON string.").body());
    }
    const info: ReqInfo = { method, path, params, token: req.headers["x-cybozu-api-token"] as string | undefined };
    if (typeof params.query === "string") entry.query = params.query;
    if (Array.isArray(params.fields)) entry.fields = params.fields.map(String);

    try {
      const result = this.route(info);
      if (fault?.afterApply) return this.fail(fault, send, req);
      send(200, result);
    } catch (err) {
      if (err instanceof BulkError) return send(err.status, { results: err.results });
      if (err instanceof ApiError) return send(err.status, err.body());
      send(500, new ApiError(500, "FAKE_BUG", `fake kintone error: ${(err as Error).message}`).body());
    }
  }

  private takeFault(method: string, path: string): Fault | undefined {
    for (const f of this.faults) {
      if (f.count <= 0 || (f.match && !f.match({ method, path }))) continue;
      if (f.skip && f.skip > 0) {
        f.skip--;
        continue;
      }
      f.count--;
      return f;
    }
    return undefined;
  }

  private fail(
    f: Fault,
    send: (status: number, body: unknown, headers?: Record<string, string>) => void,
    req: http.IncomingMessage,
  ): void {
    if (f.reset) {
      this.log[this.log.length - 1].status = -1;
      req.socket.destroy();
      return;
    }
    const status = f.status ?? 503;
    const headers: Record<string, string> =
      f.retryAfterSeconds !== undefined ? { "retry-after": String(f.retryAfterSeconds) } : {};
    if (f.body === "html") return send(status, `<html><body><h1>${status}</h1></body></html>`, headers);
    if (f.body === "empty") return send(status, "", headers);
    const code = status === 429 ? "GAIA_TM01" : "GAIA_UN01";
    send(
      status,
      new ApiError(status, code, status === 429 ? "Too many requests." : "A temporary error occurred.").body(),
      headers,
    );
  }

  private route(r: ReqInfo): unknown {
    const p = r.path.replace(/^\/k\/guest\/\d+\/v1\//, "/k/v1/");
    switch (`${r.method} ${p}`) {
      case "GET /k/v1/records.json":
        return this.getRecords(r.params, r.token);
      case "PUT /k/v1/records.json": {
        const app = Number(r.params.app);
        this.authorize(r.token, app, "edit");
        const records = asArray(r.params.records);
        this.beforeWrite?.({ app, ids: records.map((x) => Number((x as { id: unknown }).id)) });
        return this.putRecords(r.params);
      }
      case "POST /k/v1/bulkRequest.json":
        return this.bulk(r.params, r.token);
      case "POST /k/v1/records/cursor.json":
        return this.createCursor(r.params, r.token);
      case "GET /k/v1/records/cursor.json":
        return this.readCursor(r.params, r.token);
      case "DELETE /k/v1/records/cursor.json":
        return this.deleteCursor(r.params, r.token);
      default:
        throw new ApiError(404, "CB_NF01", `The API (${r.method} ${r.path}) does not exist.`);
    }
  }

  private authorize(token: string | undefined, app: number, need: "view" | "edit"): void {
    if (!token) throw new ApiError(401, "CB_AU01", "Please login.");
    const grants = token.split(",").map((t) => t.trim());
    if (grants.length > 9) throw new ApiError(400, "CB_VA01", "Up to 9 API tokens can be specified.");
    const known = grants.map((t) => this.tokens[t]);
    if (known.some((g) => g === undefined)) {
      throw new ApiError(
        520,
        "GAIA_IA02",
        "The specified API token does not match the API token generated via an app.",
      );
    }
    if (!this.apps.has(app))
      throw new ApiError(404, "GAIA_AP01", `The app (ID: ${app}) not found. The app may have been deleted.`);
    if (!known.some((g) => g!.app === app && (need === "view" ? g!.view !== false : g!.edit === true))) {
      throw new ApiError(403, "GAIA_NO01", "Using this API token, you cannot run the specified API.");
    }
  }

  private getRecords(params: Record<string, unknown>, token: string | undefined): unknown {
    const appId = Number(params.app);
    this.authorize(token, appId, "view");
    const app = this.app(appId);
    const q = parseQuery(String(params.query ?? ""), app);
    if (q.limit > LIMITS.getRecords) {
      this.violations.push(`GET records limit ${q.limit} > ${LIMITS.getRecords}`);
      throw new ApiError(400, "CB_VA01", "Missing or invalid input.", {
        query: { messages: [`limit must be ${LIMITS.getRecords} or less.`] },
      });
    }
    if (q.offset > LIMITS.offset) {
      this.violations.push(`GET records offset ${q.offset} > ${LIMITS.offset}`);
      throw new ApiError(400, "CB_VA01", "Missing or invalid input.", {
        query: { messages: [`offset must be ${LIMITS.offset} or less.`] },
      });
    }
    this.max.limit = Math.max(this.max.limit, q.limit);
    this.max.offset = Math.max(this.max.offset, q.offset);
    const matching = select(app, q);
    const fields = fieldList(params);
    const records = matching.slice(q.offset, q.offset + q.limit).map((r) => render(app, r, fields));
    const totalCount = params.totalCount === true || params.totalCount === "true" ? String(matching.length) : null;
    return { records, totalCount };
  }

  private putRecords(params: Record<string, unknown>): unknown {
    const appId = Number(params.app);
    const app = this.app(appId);
    const updates = asArray(params.records) as {
      id?: unknown;
      revision?: unknown;
      record?: Record<string, { value: unknown }>;
    }[];
    if (updates.length > LIMITS.putRecords) {
      this.violations.push(`PUT records with ${updates.length} > ${LIMITS.putRecords} records`);
      throw new ApiError(400, "CB_VA01", "Missing or invalid input.", {
        records: { messages: [`Only ${LIMITS.putRecords} records can be updated at once.`] },
      });
    }
    this.max.putRecords = Math.max(this.max.putRecords, updates.length);
    // Validate everything first: kintone applies a request all-or-nothing, and reports every invalid value at once.
    const invalid: Record<string, { messages: string[] }> = {};
    updates.forEach((u, i) => {
      const rec = app.records.get(Number(u.id));
      if (!rec) throw new ApiError(404, "GAIA_RE01", `The specified record (ID: ${u.id}) is not found.`);
      const rev = u.revision === undefined ? -1 : Number(u.revision);
      if (rev !== -1 && rev !== rec.revision) {
        throw new ApiError(409, "GAIA_CO02", "The revision is not the latest. Someone may update a record.");
      }
      for (const code of Object.keys(u.record ?? {})) {
        const type = app.fields[code];
        if (type === undefined) throw new ApiError(400, "GAIA_FC01", `The field (code: ${code}) not found.`);
        if (["RECORD_NUMBER", "CALC", "CREATOR", "MODIFIER", "CREATED_TIME", "UPDATED_TIME", "STATUS"].includes(type)) {
          throw new ApiError(400, "CB_VA01", "Missing or invalid input.", {
            [`records[${i}].record.${code}.value`]: { messages: ["This field cannot be updated."] },
          });
        }
        const problem = app.validate?.(code, u.record![code].value);
        if (problem) invalid[`records[${i}].record.${code}.value`] = { messages: [problem] };
      }
    });
    if (Object.keys(invalid).length > 0) throw new ApiError(400, "CB_VA01", "Missing or invalid input.", invalid);
    const out = updates.map((u) => {
      const rec = app.records.get(Number(u.id))!;
      for (const [code, f] of Object.entries(u.record ?? {})) rec.values[code] = structuredClone(f.value);
      rec.revision++;
      this.writesById.set(rec.id, (this.writesById.get(rec.id) ?? 0) + 1);
      return { id: String(rec.id), revision: String(rec.revision) };
    });
    return { records: out };
  }

  private bulk(params: Record<string, unknown>, token: string | undefined): unknown {
    const requests = asArray(params.requests) as { method?: string; api?: string; payload?: Record<string, unknown> }[];
    if (requests.length > LIMITS.bulkRequests) {
      this.violations.push(`bulkRequest with ${requests.length} > ${LIMITS.bulkRequests} requests`);
      throw new ApiError(400, "CB_VA01", "Missing or invalid input.", {
        requests: { messages: [`Up to ${LIMITS.bulkRequests} requests can be sent at once.`] },
      });
    }
    this.max.bulkRequests = Math.max(this.max.bulkRequests, requests.length);
    const ids: number[] = [];
    for (const r of requests) {
      const path = String(r.api ?? "").replace(/^\/k\/guest\/\d+\/v1\//, "/k/v1/");
      if (r.method !== "PUT" || path !== "/k/v1/records.json") {
        throw new ApiError(
          400,
          "CB_VA01",
          `fake kintone supports only PUT records.json in a bulkRequest, got ${r.method} ${r.api}`,
        );
      }
      const app = Number(r.payload?.app);
      this.authorize(token, app, "edit");
      ids.push(...asArray(r.payload?.records).map((x) => Number((x as { id: unknown }).id)));
    }
    const apps = [...new Set(requests.map((r) => Number(r.payload?.app)))];
    for (const app of apps) this.beforeWrite?.({ app, ids });
    // All-or-nothing: run on the live data, put the touched records back if any request fails.
    const touched = apps.flatMap((a) => ids.map((id) => ({ app: a, id, rec: this.app(a).records.get(id) })));
    const saved = touched.map((t) => ({
      ...t,
      revision: t.rec?.revision,
      values: t.rec ? structuredClone(t.rec.values) : undefined,
      writes: this.writesById.get(t.id),
    }));
    const results: unknown[] = [];
    for (let i = 0; i < requests.length; i++) {
      try {
        results.push(this.putRecords(requests[i].payload ?? {}));
      } catch (err) {
        for (const t of saved) {
          if (!t.rec) continue;
          t.rec.revision = t.revision!;
          t.rec.values = t.values!;
          if (t.writes === undefined) this.writesById.delete(t.id);
          else this.writesById.set(t.id, t.writes);
        }
        if (err instanceof ApiError) {
          throw new BulkError(
            err.status,
            requests.map((_, j) => (j === i ? err.body() : {})),
          );
        }
        throw err;
      }
    }
    return { results };
  }

  private createCursor(params: Record<string, unknown>, token: string | undefined): unknown {
    const appId = Number(params.app);
    this.authorize(token, appId, "view");
    const app = this.app(appId);
    const size = params.size === undefined ? 100 : Number(params.size);
    if (!(size >= 1 && size <= LIMITS.cursorSize)) {
      this.violations.push(`cursor size ${size}`);
      throw new ApiError(400, "CB_VA01", "Missing or invalid input.", {
        size: { messages: [`Enter an integer between 1 and ${LIMITS.cursorSize}.`] },
      });
    }
    const q = parseQuery(String(params.query ?? ""), app);
    if (q.hasLimit || q.hasOffset)
      throw new ApiError(400, "GAIA_QU01", "limit and offset cannot be specified in the query of a cursor.");
    if (this.cursors.size >= LIMITS.cursors) {
      this.violations.push(`more than ${LIMITS.cursors} live cursors`);
      throw new ApiError(
        400,
        "GAIA_TM12",
        "You cannot create more cursors because the number of cursors has reached the maximum.",
      );
    }
    const fields = fieldList(params);
    const records = select(app, q).map((r) => render(app, r, fields));
    const id = randomUUID();
    this.cursors.set(id, { app: appId, records, size });
    this.max.liveCursors = Math.max(this.max.liveCursors, this.cursors.size);
    return { id, totalCount: String(records.length) };
  }

  private readCursor(params: Record<string, unknown>, token: string | undefined): unknown {
    const c = this.cursors.get(String(params.id));
    if (!c) throw new ApiError(404, "GAIA_CN01", "The specified cursor does not exist.");
    this.authorize(token, c.app, "view");
    const records = c.records.splice(0, c.size);
    const next = c.records.length > 0;
    if (!next) this.cursors.delete(String(params.id)); // kintone deletes a cursor once it is read to the end
    return { records, next };
  }

  private deleteCursor(params: Record<string, unknown>, token: string | undefined): unknown {
    const c = this.cursors.get(String(params.id));
    if (!c) throw new ApiError(404, "GAIA_CN01", "The specified cursor does not exist.");
    this.authorize(token, c.app, "view");
    this.cursors.delete(String(params.id));
    return {};
  }
}

class BulkError extends Error {
  constructor(
    readonly status: number,
    readonly results: unknown[],
  ) {
    super("bulkRequest failed");
  }
}

function asArray(v: unknown): unknown[] {
  if (!Array.isArray(v)) throw new ApiError(400, "CB_VA01", "Missing or invalid input.");
  return v;
}

/** GET parameters as the client sends them (qs: `fields[0]=a&fields[1]=b`). */
function queryParams(url: URL): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of url.searchParams) {
    const m = /^(\w+)\[(\d+)\]$/.exec(k);
    if (m) ((out[m[1]] ??= []) as unknown[])[Number(m[2])] = v;
    else out[k] = v;
  }
  return out;
}

function fieldList(params: Record<string, unknown>): string[] | undefined {
  return Array.isArray(params.fields) && params.fields.length > 0 ? params.fields.map(String) : undefined;
}

function render(app: AppState, r: StoredRecord, fields: string[] | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const want = (code: string) => fields === undefined || fields.includes(code);
  if (want("$id")) out.$id = { type: "__ID__", value: String(r.id) };
  if (want("$revision")) out.$revision = { type: "__REVISION__", value: String(r.revision) };
  for (const [code, type] of Object.entries(app.fields)) {
    if (want(code)) out[code] = { type, value: structuredClone(r.values[code] ?? defaultValue(type)) };
  }
  return out;
}

function defaultValue(type: string): unknown {
  return [
    "CHECK_BOX",
    "MULTI_SELECT",
    "USER_SELECT",
    "ORGANIZATION_SELECT",
    "GROUP_SELECT",
    "FILE",
    "SUBTABLE",
  ].includes(type)
    ? []
    : "";
}

// ---------- query language ----------

type Cond =
  | { kind: "and" | "or"; items: Cond[] }
  | { kind: "cmp"; field: string; op: string; value: string }
  | { kind: "in"; field: string; not: boolean; values: string[] }
  | { kind: "like"; field: string; not: boolean; value: string };

interface Query {
  cond: Cond | undefined;
  order: { field: string; desc: boolean }[];
  limit: number;
  offset: number;
  hasLimit: boolean;
  hasOffset: boolean;
}

const badQuery = (why: string) =>
  new ApiError(400, "CB_VA01", "Missing or invalid input.", { query: { messages: [`Invalid query: ${why}`] } });

function tokenize(q: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < q.length) {
    const c = q[i];
    if (/\s/.test(c)) {
      i++;
    } else if (c === '"') {
      let s = "";
      i++;
      while (i < q.length && q[i] !== '"') {
        if (q[i] === "\\" && i + 1 < q.length) i++;
        s += q[i++];
      }
      if (q[i] !== '"') throw badQuery("unterminated string");
      i++;
      out.push(JSON.stringify(s)); // strings keep their quotes so they are never read as keywords
    } else if ("(),".includes(c)) {
      out.push(c);
      i++;
    } else if ("=!<>".includes(c)) {
      const two = q.slice(i, i + 2);
      if ([">=", "<=", "!="].includes(two)) {
        out.push(two);
        i += 2;
      } else {
        out.push(c);
        i++;
      }
    } else {
      let w = "";
      while (i < q.length && !/[\s()",=!<>]/.test(q[i])) w += q[i++];
      out.push(w);
    }
  }
  return out;
}

function parseQuery(text: string, app: AppState): Query {
  const t = tokenize(text);
  let pos = 0;
  const peek = () => t[pos];
  const kw = (w: string) => peek()?.toLowerCase() === w;
  const next = () => {
    if (pos >= t.length) throw badQuery("unexpected end");
    return t[pos++];
  };
  const field = (): string => {
    const f = next();
    if (f.startsWith('"') || "(),".includes(f)) throw badQuery(`expected a field code, got ${f}`);
    if (f !== "$id" && f !== "$revision" && !(f in app.fields)) {
      throw new ApiError(400, "GAIA_IQ11", `The specified field (${f}) not found.`);
    }
    return f;
  };
  const literal = (): string => {
    const v = next();
    if (v.startsWith('"')) return JSON.parse(v) as string;
    if (/^-?\d+(\.\d+)?$/.test(v)) return v;
    throw badQuery(`unsupported value ${v}`);
  };
  const term = (): Cond => {
    if (peek() === "(") {
      next();
      const c = expr();
      if (next() !== ")") throw badQuery("missing )");
      return c;
    }
    const f = field();
    let not = false;
    if (kw("not")) {
      next();
      not = true;
    }
    if (kw("in")) {
      next();
      if (next() !== "(") throw badQuery("in needs (");
      const values = [literal()];
      while (peek() === ",") {
        next();
        values.push(literal());
      }
      if (next() !== ")") throw badQuery("missing ) after in");
      return { kind: "in", field: f, not, values };
    }
    if (kw("like")) {
      next();
      return { kind: "like", field: f, not, value: literal() };
    }
    if (not) throw badQuery("not must be followed by in or like");
    const op = next();
    if (!["=", "!=", ">", "<", ">=", "<="].includes(op)) throw badQuery(`unknown operator ${op}`);
    return { kind: "cmp", field: f, op, value: literal() };
  };
  /** `operand (word operand)*`: one operand as is, more joined under `word`. */
  const joined = (word: "and" | "or", operand: () => Cond) => (): Cond => {
    const items = [operand()];
    while (kw(word)) {
      next();
      items.push(operand());
    }
    return items.length === 1 ? items[0] : { kind: word, items };
  };
  const conj = joined("and", term); // binds tighter than or
  const expr = joined("or", conj);

  const q: Query = { cond: undefined, order: [], limit: 100, offset: 0, hasLimit: false, hasOffset: false };
  if (pos < t.length && !kw("order") && !kw("limit") && !kw("offset")) q.cond = expr();
  if (kw("order")) {
    next();
    if (!kw("by")) throw badQuery("order needs by");
    next();
    do {
      if (peek() === ",") next();
      const f = field();
      let desc = false;
      if (kw("asc") || kw("desc")) desc = next().toLowerCase() === "desc";
      q.order.push({ field: f, desc });
    } while (peek() === ",");
  }
  if (kw("limit")) {
    next();
    q.limit = Number(next());
    q.hasLimit = true;
    if (!Number.isInteger(q.limit) || q.limit < 1) throw badQuery("bad limit");
  }
  if (kw("offset")) {
    next();
    q.offset = Number(next());
    q.hasOffset = true;
    if (!Number.isInteger(q.offset) || q.offset < 0) throw badQuery("bad offset");
  }
  if (pos < t.length) throw badQuery(`unexpected ${peek()}`);
  // kintone's default order is record number descending.
  if (q.order.length === 0) q.order.push({ field: "$id", desc: true });
  return q;
}

function valueOf(r: StoredRecord, field: string): unknown {
  if (field === "$id") return String(r.id);
  if (field === "$revision") return String(r.revision);
  return r.values[field];
}

function compare(a: unknown, b: string): number {
  const as = Array.isArray(a) ? a.join(",") : a === null || a === undefined ? "" : String(a);
  if (as !== "" && b !== "" && !isNaN(Number(as)) && !isNaN(Number(b))) return Number(as) - Number(b);
  return as < b ? -1 : as > b ? 1 : 0;
}

function matches(r: StoredRecord, c: Cond): boolean {
  switch (c.kind) {
    case "and":
      return c.items.every((x) => matches(r, x));
    case "or":
      return c.items.some((x) => matches(r, x));
    case "in": {
      const v = valueOf(r, c.field);
      const vals = Array.isArray(v) ? v.map(String) : [v === null || v === undefined ? "" : String(v)];
      const hit = c.values.some((x) => vals.some((y) => compare(y, x) === 0));
      return c.not ? !hit : hit;
    }
    case "like": {
      const v = String(valueOf(r, c.field) ?? "").toLowerCase();
      const hit = v.includes(c.value.toLowerCase());
      return c.not ? !hit : hit;
    }
    case "cmp": {
      const d = compare(valueOf(r, c.field), c.value);
      return { "=": d === 0, "!=": d !== 0, ">": d > 0, "<": d < 0, ">=": d >= 0, "<=": d <= 0 }[c.op] ?? false;
    }
  }
}

function select(app: AppState, q: Pick<Query, "cond" | "order">): StoredRecord[] {
  const out: StoredRecord[] = [];
  for (const r of app.records.values()) if (!q.cond || matches(r, q.cond)) out.push(r);
  const byIdAsc = q.order.length === 1 && q.order[0].field === "$id" && !q.order[0].desc;
  if (byIdAsc) return out; // records are kept in id order
  return out.sort((a, b) => {
    for (const o of q.order) {
      const d = compare(valueOf(a, o.field), String(valueOf(b, o.field) ?? ""));
      if (d !== 0) return o.desc ? -d : d;
    }
    return 0;
  });
}
