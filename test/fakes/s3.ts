/**
 * A minimal Amazon S3 on 127.0.0.1, path-style (`/<bucket>/<key>`), enough for the SDK v3 client:
 * PutObject, GetObject, HeadObject, DeleteObject, DeleteObjects (`POST /<bucket>?delete`) and ListObjectsV2
 * (`GET /<bucket>?list-type=2`, paginated with continuation tokens). Point the SDK at it with
 * AWS_ENDPOINT_URL_S3=<url> (plus dummy credentials and AWS_REGION); an IP-literal endpoint makes the SDK use
 * path-style addressing by itself. Signatures are not checked.
 *
 * Integrity: a PutObject carrying Content-MD5 or x-amz-checksum-{sha256,sha1,crc32} is verified against the body
 * (BadDigest / XAmzContentChecksumMismatch on a mismatch, as S3 answers); aws-chunked uploads with a trailing
 * checksum are decoded and verified too. `putsWithoutIntegrity` counts uploads that carried no checksum at all.
 *
 * Faults: `failPuts(k, {status, times})` makes the k-th PutObject from now (and the `times - 1` after it) fail,
 * e.g. `times: Infinity` for a writer that crashes at part k. `ops` records every request in order.
 */
import * as crypto from "crypto";
import * as http from "http";
import { LoopbackHttpServer } from "./loopback-server";

export interface StoredObject {
  body: Buffer;
  contentType: string;
  etag: string;
  lastModified: Date;
  sha256: string;
  metadata: Record<string, string>;
  /** The integrity headers the upload carried, all verified (e.g. ["x-amz-checksum-sha256"]). */
  verifiedBy: string[];
  /** How many times this key has been written. */
  writes: number;
}

export interface S3Op {
  op: "PutObject" | "GetObject" | "HeadObject" | "DeleteObject" | "DeleteObjects" | "ListObjectsV2" | "Unknown";
  bucket: string;
  key?: string;
  /** Keys named by a DeleteObjects request. */
  keys?: string[];
  status: number;
}

interface PutFault {
  /** PutObject number (1-based, counted since `failPuts`) at which failures begin. */
  at: number;
  remaining: number;
  status: number;
  code: string;
}

export class FakeS3 extends LoopbackHttpServer {
  private readonly buckets = new Map<string, Map<string, StoredObject>>();
  readonly ops: S3Op[] = [];
  /** Largest page ListObjectsV2 returns whatever MaxKeys asks (S3's own cap is 1000); lower it to force pagination. */
  listPageCap = 1000;
  putsVerified = 0;
  putsWithoutIntegrity = 0;
  /** Every request's lower-cased header names, to prove nothing proxy-related reached S3. */
  readonly headerNames = new Set<string>();
  private putCounter = 0;
  private fault: PutFault | undefined;

  createBucket(name: string): void {
    if (!this.buckets.has(name)) this.buckets.set(name, new Map());
  }

  /** Forgets every object and counter (buckets stay). */
  reset(): void {
    for (const b of this.buckets.values()) b.clear();
    this.ops.length = 0;
    this.putsVerified = 0;
    this.putsWithoutIntegrity = 0;
    this.putCounter = 0;
    this.fault = undefined;
    this.listPageCap = 1000;
    this.headerNames.clear();
  }

  /** The k-th PutObject from now fails with `status` (default 500 InternalError), and so do the next `times - 1`. */
  failPuts(k: number, opts: { status?: number; code?: string; times?: number } = {}): void {
    const status = opts.status ?? 500;
    this.putCounter = 0;
    this.fault = {
      at: k,
      remaining: opts.times ?? 1,
      status,
      code: opts.code ?? (status === 403 ? "AccessDenied" : status === 503 ? "SlowDown" : "InternalError"),
    };
  }

  clearFaults(): void {
    this.fault = undefined;
  }

  object(bucket: string, key: string): StoredObject | undefined {
    return this.buckets.get(bucket)?.get(key);
  }

  /** Sorted keys under `prefix`. */
  keys(bucket: string, prefix = ""): string[] {
    return [...(this.buckets.get(bucket)?.keys() ?? [])].filter((k) => k.startsWith(prefix)).sort();
  }

  /** Stores an object directly (no request), e.g. a leftover from an earlier run. */
  seed(bucket: string, key: string, body: string | Buffer, contentType = "application/octet-stream"): void {
    this.createBucket(bucket);
    this.store(bucket, key, Buffer.from(body), contentType, {}, []);
  }

  opsOf(kind: S3Op["op"]): S3Op[] {
    return this.ops.filter((o) => o.op === kind);
  }

  protected async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    for (const h of Object.keys(req.headers)) this.headerNames.add(h.toLowerCase());
    const url = new URL(req.url ?? "/", "http://s3.local");
    const [, rawBucket = "", ...rest] = url.pathname.split("/");
    const bucket = decodeURIComponent(rawBucket);
    const key = rest.length > 0 ? decodeURIComponent(rest.join("/")) : "";
    const method = req.method ?? "GET";
    const record = (op: S3Op["op"], status: number, extra: Partial<S3Op> = {}) =>
      this.ops.push({ op, bucket, ...(key ? { key } : {}), status, ...extra });

    const objects = this.buckets.get(bucket);
    if (!objects) {
      record("Unknown", 404);
      return sendError(res, 404, "NoSuchBucket", "The specified bucket does not exist", method === "HEAD");
    }

    if (key === "") {
      if (method === "GET" && url.searchParams.get("list-type") === "2")
        return this.list(bucket, objects, url, res, record);
      if (method === "POST" && url.searchParams.has("delete")) {
        const xml = Buffer.concat(chunks).toString("utf8");
        const keys = [...xml.matchAll(/<Key>([\s\S]*?)<\/Key>/g)].map((m) => unescapeXml(m[1]));
        const quiet = /<Quiet>\s*true\s*<\/Quiet>/i.test(xml);
        for (const k of keys) objects.delete(k);
        record("DeleteObjects", 200, { keys });
        const deleted = quiet ? "" : keys.map((k) => `<Deleted><Key>${escapeXml(k)}</Key></Deleted>`).join("");
        return sendXml(
          res,
          200,
          `<DeleteResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${deleted}</DeleteResult>`,
        );
      }
      record("Unknown", 501);
      return sendError(
        res,
        501,
        "NotImplemented",
        `fake S3 does not implement ${method} on a bucket with ${url.search || "no query"}`,
      );
    }

    switch (method) {
      case "PUT": {
        if (req.headers["x-amz-copy-source"]) {
          record("Unknown", 501);
          return sendError(res, 501, "NotImplemented", "fake S3 does not implement CopyObject");
        }
        this.putCounter++;
        const f = this.fault;
        if (f && this.putCounter >= f.at && f.remaining > 0) {
          f.remaining--;
          record("PutObject", f.status);
          return sendError(res, f.status, f.code, `injected fault on PutObject #${this.putCounter}`);
        }
        let body: Buffer = Buffer.concat(chunks);
        let trailers: Record<string, string> = {};
        const sha = String(req.headers["x-amz-content-sha256"] ?? "");
        if (sha.startsWith("STREAMING-") || String(req.headers["content-encoding"] ?? "").includes("aws-chunked")) {
          const decoded = decodeAwsChunked(body);
          if (!decoded) {
            record("PutObject", 400);
            return sendError(res, 400, "IncompleteBody", "malformed aws-chunked body");
          }
          ({ body, trailers } = decoded);
        }
        const integrity = integrityProblem(req.headers, trailers, body);
        if (integrity === "none") this.putsWithoutIntegrity++;
        else if (!Array.isArray(integrity)) {
          record("PutObject", 400);
          return sendError(res, 400, integrity.code, integrity.message);
        } else this.putsVerified++;
        const metadata: Record<string, string> = {};
        for (const [h, v] of Object.entries(req.headers))
          if (h.startsWith("x-amz-meta-")) metadata[h.slice(11)] = String(v);
        const obj = this.store(
          bucket,
          key,
          body,
          String(req.headers["content-type"] ?? "application/octet-stream"),
          metadata,
          Array.isArray(integrity) ? integrity : [],
        );
        record("PutObject", 200);
        res.writeHead(200, { ETag: obj.etag, "x-amz-checksum-sha256": obj.sha256, "Content-Length": "0" });
        return void res.end();
      }
      case "GET":
      case "HEAD": {
        const op = method === "GET" ? "GetObject" : "HeadObject";
        const obj = objects.get(key);
        if (!obj) {
          record(op, 404);
          return sendError(res, 404, "NoSuchKey", "The specified key does not exist.", method === "HEAD");
        }
        record(op, 200);
        const headers: Record<string, string | number> = {
          "Content-Type": obj.contentType,
          "Content-Length": obj.body.length,
          ETag: obj.etag,
          "Last-Modified": obj.lastModified.toUTCString(),
        };
        if (String(req.headers["x-amz-checksum-mode"] ?? "").toUpperCase() === "ENABLED")
          headers["x-amz-checksum-sha256"] = obj.sha256;
        for (const [m, v] of Object.entries(obj.metadata)) headers[`x-amz-meta-${m}`] = v;
        res.writeHead(200, headers);
        return void res.end(method === "GET" ? obj.body : undefined);
      }
      case "DELETE":
        objects.delete(key);
        record("DeleteObject", 204);
        res.writeHead(204);
        return void res.end();
      default:
        record("Unknown", 501);
        return sendError(res, 501, "NotImplemented", `fake S3 does not implement ${method} on an object`);
    }
  }

  private list(
    bucket: string,
    objects: Map<string, StoredObject>,
    url: URL,
    res: http.ServerResponse,
    record: (op: S3Op["op"], status: number) => void,
  ): void {
    const prefix = url.searchParams.get("prefix") ?? "";
    const maxKeys = Math.min(Number(url.searchParams.get("max-keys") ?? 1000), this.listPageCap);
    const token = url.searchParams.get("continuation-token");
    const after = token
      ? Buffer.from(token, "base64url").toString("utf8")
      : (url.searchParams.get("start-after") ?? "");
    const encode = url.searchParams.get("encoding-type") === "url";
    const all = [...objects.keys()].filter((k) => k.startsWith(prefix) && k > after).sort();
    const page = all.slice(0, maxKeys);
    const truncated = all.length > page.length;
    const enc = (s: string) => escapeXml(encode ? encodeURIComponent(s).replace(/%2F/g, "/") : s);
    const contents = page
      .map((k) => {
        const o = objects.get(k)!;
        return `<Contents><Key>${enc(k)}</Key><LastModified>${o.lastModified.toISOString()}</LastModified><ETag>${escapeXml(o.etag)}</ETag><Size>${o.body.length}</Size><StorageClass>STANDARD</StorageClass></Contents>`;
      })
      .join("");
    record("ListObjectsV2", 200);
    sendXml(
      res,
      200,
      `<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>${escapeXml(bucket)}</Name><Prefix>${enc(prefix)}</Prefix>` +
        `<KeyCount>${page.length}</KeyCount><MaxKeys>${maxKeys}</MaxKeys><IsTruncated>${truncated}</IsTruncated>` +
        (encode ? "<EncodingType>url</EncodingType>" : "") +
        (token ? `<ContinuationToken>${escapeXml(token)}</ContinuationToken>` : "") +
        (truncated
          ? `<NextContinuationToken>${Buffer.from(page[page.length - 1]).toString("base64url")}</NextContinuationToken>`
          : "") +
        `${contents}</ListBucketResult>`,
    );
  }

  private store(
    bucket: string,
    key: string,
    body: Buffer,
    contentType: string,
    metadata: Record<string, string>,
    verifiedBy: string[],
  ): StoredObject {
    const objects = this.buckets.get(bucket)!;
    const obj: StoredObject = {
      body,
      contentType,
      etag: `"${crypto.createHash("md5").update(body).digest("hex")}"`,
      lastModified: new Date(),
      sha256: crypto.createHash("sha256").update(body).digest("base64"),
      metadata,
      verifiedBy,
      writes: (objects.get(key)?.writes ?? 0) + 1,
    };
    objects.set(key, obj);
    return obj;
  }
}

/** A list of what was verified; "none" = nothing to verify; else the S3 error to answer. */
function integrityProblem(
  headers: http.IncomingHttpHeaders,
  trailers: Record<string, string>,
  body: Buffer,
): { code: string; message: string } | "none" | string[] {
  const checked: string[] = [];
  const md5 = headers["content-md5"];
  if (typeof md5 === "string") {
    checked.push("content-md5");
    if (crypto.createHash("md5").update(body).digest("base64") !== md5)
      return { code: "BadDigest", message: "The Content-MD5 you specified did not match what we received." };
  }
  const all: Record<string, string> = { ...trailers };
  for (const [h, v] of Object.entries(headers))
    if (h.startsWith("x-amz-checksum-") && h !== "x-amz-checksum-mode" && typeof v === "string") all[h] = v;
  for (const [h, v] of Object.entries(all)) {
    const algo = h.slice("x-amz-checksum-".length);
    let actual: string;
    if (algo === "sha256" || algo === "sha1") actual = crypto.createHash(algo).update(body).digest("base64");
    else if (algo === "crc32") actual = crc32Base64(body);
    else if (algo === "type" || algo === "algorithm") continue;
    else
      return { code: "InvalidRequest", message: `fake S3 cannot verify ${h}; send sha256, sha1, crc32 or Content-MD5` };
    checked.push(h);
    if (actual !== v)
      return {
        code: "XAmzContentChecksumMismatch",
        message: `The provided '${h}' header does not match what was computed.`,
      };
  }
  return checked.length > 0 ? checked : "none";
}

/** aws-chunked: `<hex size>[;chunk-signature=…]\r\n<data>\r\n` … `0\r\n<trailer: value>\r\n…\r\n`. */
function decodeAwsChunked(raw: Buffer): { body: Buffer; trailers: Record<string, string> } | undefined {
  const parts: Buffer[] = [];
  let pos = 0;
  for (;;) {
    const eol = raw.indexOf("\r\n", pos);
    if (eol < 0) return undefined;
    const size = parseInt(raw.subarray(pos, eol).toString("latin1").split(";")[0], 16);
    if (!Number.isFinite(size)) return undefined;
    pos = eol + 2;
    if (size === 0) break;
    parts.push(raw.subarray(pos, pos + size));
    pos += size + 2;
  }
  const trailers: Record<string, string> = {};
  for (const line of raw.subarray(pos).toString("latin1").split("\r\n")) {
    const i = line.indexOf(":");
    if (i > 0) trailers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  return { body: Buffer.concat(parts), trailers };
}

let CRC_TABLE: Int32Array | undefined;
function crc32Base64(buf: Buffer): string {
  if (!CRC_TABLE) {
    CRC_TABLE = new Int32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      CRC_TABLE[n] = c;
    }
  }
  let crc = -1;
  for (let i = 0; i < buf.length; i++) crc = CRC_TABLE[(crc ^ buf[i]) & 0xff] ^ (crc >>> 8);
  const out = Buffer.alloc(4);
  out.writeUInt32BE((crc ^ -1) >>> 0);
  return out.toString("base64");
}

function sendXml(res: http.ServerResponse, status: number, xml: string): void {
  const text = `<?xml version="1.0" encoding="UTF-8"?>\n${xml}`;
  res.writeHead(status, {
    "Content-Type": "application/xml",
    "Content-Length": Buffer.byteLength(text),
    "x-amz-request-id": requestId(),
  });
  res.end(text);
}

function sendError(res: http.ServerResponse, status: number, code: string, message: string, head = false): void {
  if (head) {
    res.writeHead(status, { "x-amz-request-id": requestId() });
    return void res.end();
  }
  sendXml(
    res,
    status,
    `<Error><Code>${code}</Code><Message>${escapeXml(message)}</Message><RequestId>${requestId()}</RequestId></Error>`,
  );
}

const requestId = () => crypto.randomBytes(8).toString("hex").toUpperCase();

function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;", "'": "&apos;" })[c]!);
}

function unescapeXml(s: string): string {
  return s.replace(/&(lt|gt|amp|quot|apos|#\d+|#x[0-9a-f]+);/gi, (_, e: string) => {
    const named: Record<string, string> = { lt: "<", gt: ">", amp: "&", quot: '"', apos: "'" };
    if (named[e]) return named[e];
    return String.fromCodePoint(e[1] === "x" || e[1] === "X" ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
  });
}
