/**
 * What the kintone-sync bundle gives @kintone/rest-api-client in place of axios (bound by `kintoneSyncBundleOptions`
 * in ../bundle-options.ts): the one call the client makes, `axios(config)`, over node:http/node:https. axios, with
 * follow-redirects, the proxy agents and its fetch adapter, cost ~50 M instructions of cold init (with qs and
 * form-data ~95 M; README "Benchmarks") for requests the client builds completely by itself (URL, headers, JSON
 * body, socket timeout).
 *
 * Same contract as axios for what the client reads: a 2xx answer resolves `{ data, status, statusText, headers }`;
 * any other status rejects with an error carrying `response` (the client turns it into a KintoneRestAPIError, or
 * `Error("<status>: <statusText>")` when the body is not JSON); a JSON body is parsed, anything else stays text;
 * gzip/deflate/br answers are decompressed; `timeout` is the socket's idle timeout, as in axios. Differences, on
 * purpose: no redirects are followed (kintone's API does not redirect; a 3xx is reported as a failed request), and
 * no HTTP(S)_PROXY variables are read (the function reaches kintone through its NAT gateway). A request that gets no
 * answer rejects with a `KintoneTransportError` holding the socket error's code (ECONNRESET, ECONNABORTED for the
 * timeout, …); none of these errors hold the request or its headers, where the API token travels.
 */
import * as http from "node:http";
import * as https from "node:https";
import * as zlib from "node:zlib";

/** The part of an axios request config that @kintone/rest-api-client sets. */
export interface HttpRequestConfig {
  method?: string;
  url: string;
  headers?: Record<string, string>;
  data?: unknown;
  /** Socket idle timeout in ms; 0 or unset: none. */
  timeout?: number;
  httpsAgent?: https.Agent;
  responseType?: "arraybuffer";
}

export interface HttpResponse {
  data: unknown;
  status: number;
  statusText: string;
  headers: http.IncomingHttpHeaders;
}

/** No HTTP answer (connection refused or reset, DNS, TLS, socket timeout). `code` is the socket error's code. */
export class KintoneTransportError extends Error {
  override readonly name = "KintoneTransportError";
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
  }
}

/** A non-2xx answer, shaped as axios's error for the client's response handler (`error.response`). */
export class KintoneHttpStatusError extends Error {
  override readonly name = "KintoneHttpStatusError";
  constructor(readonly response: HttpResponse) {
    super(`Request failed with status code ${response.status}`);
  }
}

export default function request(config: HttpRequestConfig): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    const url = new URL(config.url);
    const secure = url.protocol === "https:";
    const headers: Record<string, string> = {
      Accept: "application/json, text/plain, */*",
      "Accept-Encoding": "gzip, deflate, br",
      ...config.headers,
    };
    const body = encodeBody(config.data);
    if (body !== undefined) {
      if (!Object.keys(headers).some((h) => h.toLowerCase() === "content-type"))
        headers["Content-Type"] =
          typeof config.data === "string" ? "application/x-www-form-urlencoded" : "application/json";
      headers["Content-Length"] = String(body.length);
    }
    let settled = false;
    const fail = (err: Error & { code?: unknown }) => {
      if (settled) return;
      settled = true;
      req.destroy();
      reject(
        err instanceof KintoneTransportError
          ? err
          : new KintoneTransportError(err.message, typeof err.code === "string" ? err.code : undefined),
      );
    };
    const req = (secure ? https : http).request(
      url,
      {
        method: (config.method ?? "get").toUpperCase(),
        headers,
        ...(secure && config.httpsAgent ? { agent: config.httpsAgent } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        const stream = decoded(res);
        stream.on("data", (c: Buffer) => chunks.push(c));
        stream.on("error", fail);
        res.on("error", fail);
        res.on("aborted", () => fail(new KintoneTransportError("the response was cut off", "ECONNRESET")));
        stream.on("end", () => {
          if (settled) return;
          settled = true;
          const raw = Buffer.concat(chunks);
          const status = res.statusCode ?? 0;
          const response: HttpResponse = {
            data: config.responseType === "arraybuffer" ? raw : parseBody(raw),
            status,
            statusText: res.statusMessage ?? "",
            headers: res.headers,
          };
          if (status >= 200 && status < 300) resolve(response);
          else reject(new KintoneHttpStatusError(response));
        });
      },
    );
    req.on("error", fail);
    if (config.timeout) {
      req.setTimeout(config.timeout, () =>
        fail(new KintoneTransportError(`timeout of ${config.timeout}ms exceeded`, "ECONNABORTED")),
      );
    }
    req.end(body);
  });
}

function encodeBody(data: unknown): Buffer | undefined {
  if (data === undefined || data === null) return undefined;
  if (Buffer.isBuffer(data)) return data;
  if (typeof data === "string") return Buffer.from(data);
  if (typeof data === "object" && typeof (data as { pipe?: unknown }).pipe === "function")
    throw new Error("kintone-sync sends JSON only: streamed (multipart) request bodies are not supported");
  return Buffer.from(JSON.stringify(data));
}

function decoded(res: http.IncomingMessage): NodeJS.ReadableStream {
  if (res.statusCode === 204 || res.statusCode === 304) return res;
  switch ((res.headers["content-encoding"] ?? "").toLowerCase()) {
    case "gzip":
    case "x-gzip":
      return res.pipe(
        zlib.createGunzip({ flush: zlib.constants.Z_SYNC_FLUSH, finishFlush: zlib.constants.Z_SYNC_FLUSH }),
      );
    case "deflate":
      return res.pipe(
        zlib.createInflate({ flush: zlib.constants.Z_SYNC_FLUSH, finishFlush: zlib.constants.Z_SYNC_FLUSH }),
      );
    case "br":
      return res.pipe(zlib.createBrotliDecompress());
    default:
      return res;
  }
}

/** axios's default: JSON when the body parses as JSON, the text otherwise (a BOM is dropped). */
function parseBody(raw: Buffer): unknown {
  let text = raw.toString("utf8");
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (text === "") return text;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
