/**
 * The HTTP stand-in the kintone-sync bundle gives @kintone/rest-api-client in place of axios
 * (functions/kintone-sync/stand-ins/http.ts), against a server on loopback: what the client and the sync's error
 * handling read from it. The whole sync over it is exercised in kintone-sync.test.ts.
 */
import * as http from "http";
import { AddressInfo } from "net";
import * as zlib from "zlib";
import request, { KintoneHttpStatusError, KintoneTransportError } from "../../functions/kintone-sync/stand-ins/http";
import { describeFailure, isRetryable } from "../../functions/kintone-sync/errors";

type Handler = (req: http.IncomingMessage, body: string, res: http.ServerResponse) => void;
let handle: Handler;
let server: http.Server;
let base: string;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => handle(req, Buffer.concat(chunks).toString("utf8"), res));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const failure = (p: Promise<unknown>) =>
  p.then(
    () => {
      throw new Error("expected the request to fail");
    },
    (e: unknown) => e,
  );

test("sends the client's headers and a JSON body, and parses a JSON answer", async () => {
  let seen: { method?: string; headers?: http.IncomingHttpHeaders; body?: string } = {};
  handle = (req, body, res) => {
    seen = { method: req.method, headers: req.headers, body };
    res.writeHead(200, { "content-type": "application/json" }).end('{"records":[],"totalCount":"0"}');
  };
  const res = await request({
    method: "put",
    url: `${base}/k/v1/records.json`,
    headers: { "X-Cybozu-API-Token": "t0ken", "User-Agent": "ua" },
    data: { app: 7, records: [{ id: "1" }] },
  });
  expect(res).toMatchObject({ status: 200, data: { records: [], totalCount: "0" } });
  expect(seen.method).toBe("PUT");
  expect(seen.headers).toMatchObject({
    "x-cybozu-api-token": "t0ken",
    "user-agent": "ua",
    "content-type": "application/json",
    "content-length": String(Buffer.byteLength(seen.body ?? "")),
  });
  expect(JSON.parse(seen.body ?? "")).toEqual({ app: 7, records: [{ id: "1" }] });
});

test.each([
  ["gzip", zlib.gzipSync],
  ["deflate", zlib.deflateSync],
  ["br", zlib.brotliCompressSync],
])("decodes a %s answer", async (encoding, compress) => {
  handle = (_req, _body, res) =>
    res.writeHead(200, { "content-encoding": encoding }).end(compress(Buffer.from('{"ok":"はい"}')));
  await expect(request({ url: `${base}/x` })).resolves.toMatchObject({ data: { ok: "はい" } });
});

test("a non-2xx answer rejects with the response (a non-JSON body stays text), and a redirect is not followed", async () => {
  handle = (_req, _body, res) =>
    res.writeHead(403, "Forbidden", { "content-type": "text/html" }).end("<html>no</html>");
  const denied = await failure(request({ url: `${base}/k/v1/records.json` }));
  expect(denied).toBeInstanceOf(KintoneHttpStatusError);
  expect((denied as KintoneHttpStatusError).response).toMatchObject({
    status: 403,
    statusText: "Forbidden",
    data: "<html>no</html>",
  });

  handle = (_req, _body, res) => res.writeHead(302, { location: `${base}/login` }).end();
  const moved = await failure(request({ url: `${base}/k/v1/records.json` }));
  expect((moved as KintoneHttpStatusError).response.status).toBe(302);
});

test("a socket idle longer than the timeout fails as a retryable network error holding no request data", async () => {
  handle = () => undefined; // never answers
  const err = await failure(
    request({ url: `${base}/slow`, timeout: 200, headers: { "X-Cybozu-API-Token": "s3cret" } }),
  );
  expect(err).toBeInstanceOf(KintoneTransportError);
  expect(err).toMatchObject({ code: "ECONNABORTED", message: "timeout of 200ms exceeded" });
  expect(JSON.stringify(err)).not.toContain("s3cret");
  const f = describeFailure(err);
  expect(f).toMatchObject({ transport: "network", code: "ECONNABORTED" });
  expect(isRetryable(f!)).toBe(true);
});

test("a refused connection fails as a network error with the socket's code", async () => {
  const closed = http.createServer();
  await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
  const port = (closed.address() as AddressInfo).port;
  await new Promise((resolve) => closed.close(resolve));
  const err = await failure(request({ url: `http://127.0.0.1:${port}/` }));
  expect(err).toBeInstanceOf(KintoneTransportError);
  expect(describeFailure(err)).toMatchObject({ transport: "network", code: "ECONNREFUSED" });
});
