/**
 * private-api-caller (the sample consumer of the private API), exercised as deployed: the esbuild bundle
 * calling a local HTTPS server that stands in for the API behind the execute-api endpoint (a certificate
 * from a test CA the process trusts through https.globalAgent). Its connection is recorded and checked
 * against dev: the URL it calls stands for the API's invoke URL, reached through the execute-api endpoint.
 */
import * as fs from "fs";
import * as https from "https";
import * as os from "os";
import * as path from "path";
import type { AddressInfo } from "net";
import { loadBundledHandler } from "../support/bundled";
import { makeCertificates } from "../fakes/saas";
import { freePort } from "../support/postgres";
import { recordBundleConnections, testBundleConnectionsDeclared } from "../support/handler-connections";

const connections = recordBundleConnections();
type Result = { url: string; status: number; ok: boolean };
let server: https.Server;
let dir: string;
let answer = 200;
const seen: string[] = [];
const savedEnv = { ...process.env };
let savedCa: unknown;

function coldStart(env: Record<string, string>): () => Promise<Result> {
  process.env = { ...savedEnv, ...env };
  let mod: { handler: () => Promise<Result> } | undefined;
  jest.isolateModules(() => {
    mod = loadBundledHandler<{ handler: () => Promise<Result> }>("private-api-caller");
  });
  return mod!.handler;
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "vlk-api-caller-"));
  const certs = makeCertificates(dir, "localhost");
  server = https.createServer({ key: certs.key, cert: certs.cert }, (req, res) => {
    seen.push(`${req.method} ${req.url}`);
    res.writeHead(answer, { "content-type": "application/json" }).end("[]");
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  savedCa = https.globalAgent.options.ca;
  https.globalAgent.options.ca = fs.readFileSync(certs.caFile);
});

afterAll(async () => {
  https.globalAgent.options.ca = savedCa as typeof https.globalAgent.options.ca;
  await new Promise((ok) => server.close(ok));
  fs.rmSync(dir, { recursive: true, force: true });
  process.env = savedEnv;
});

beforeEach(() => {
  answer = 200;
  seen.length = 0;
  jest.spyOn(process.stdout, "write").mockImplementation(() => true);
});
afterEach(() => jest.restoreAllMocks());

const url = () => `https://localhost:${(server.address() as AddressInfo).port}/v1`;

describe("private-api-caller (bundled)", () => {
  test("calls GET /pets?limit=1 under the invoke URL and reports the status", async () => {
    const r = await coldStart({ API_URL: `${url()}/` })();
    expect(r).toEqual({ url: `${url()}/pets?limit=1`, status: 200, ok: true });
    expect(seen).toEqual(["GET /v1/pets?limit=1"]);
  });

  test("a refusal (403: the resource policy does not admit the endpoint) is reported, not thrown", async () => {
    answer = 403;
    expect(await coldStart({ API_URL: url() })()).toMatchObject({ status: 403, ok: false });
  });

  test("an unreachable API fails naming the endpoint's security group and private DNS", async () => {
    const closed = await freePort();
    await expect(coldStart({ API_URL: `https://localhost:${closed}/v1` })()).rejects.toThrow(
      /could not be reached \(.*ECONNREFUSED.*\): the name must resolve to the execute-api endpoint \(private DNS on\) and its security group must admit this function on 443/,
    );
  });

  test("a bad API_URL fails before any request, naming the variable", async () => {
    await expect(coldStart({ API_URL: "not a url" })()).rejects.toThrow(/^API_URL is not a URL/);
    await expect(coldStart({ API_URL: "http://localhost/v1" })()).rejects.toThrow(/API_URL must be https/);
    expect(seen).toEqual([]);
  });
});

testBundleConnectionsDeclared("private-api-caller", connections, ["connect API_URL"]);
