import * as fs from "fs";
import * as http from "http";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import type { Graph } from "../../ops/synth-core";
import { synthForTest } from "../support/graph";
import { Recorded, recordConnections, uncoveredConnections, LogicalTarget } from "../support/connections";

/**
 * Connections and AWS calls a handler bundle makes, mapped onto the same function's declared flows
 * and role statements in the dev stack graph. The recorder attributes a connect or request to a
 * function by the bundle file on its call stack (out/test-bundles/<name>-<sha>/), so these tests run
 * small stand-in bundles at such paths against loopback servers: one that keeps to kintone-sync's
 * declared flows and calls, and a mutated one that calls an undeclared host and an ungranted action.
 * Wiring the recorder into every real handler suite (test/handlers/*) is not done yet.
 */
describe("handler connections vs declared flows and IAM statements", () => {
  let graph: Graph;
  let tcp: net.Server;
  let aws: http.Server;
  let tmp: string;
  beforeAll(async () => {
    graph = (await synthForTest("dev")).result.graph;
    tcp = net.createServer((s) => s.end());
    aws = http.createServer((_q, r) => r.end("{}"));
    await Promise.all([
      new Promise<void>((ok) => tcp.listen(0, "127.0.0.1", ok)),
      new Promise<void>((ok) => aws.listen(0, "127.0.0.1", ok)),
    ]);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "vlk-conn-"));
  });
  afterAll(async () => {
    await Promise.all([new Promise((ok) => tcp.close(ok)), new Promise((ok) => aws.close(ok))]);
    fs.rmSync(tmp, { recursive: true, force: true });
  });
  const port = (s: net.Server | http.Server) => (s.address() as net.AddressInfo).port;

  /** Writes a stand-in bundle for `fn` that connects to `tcpPort` and makes one signed AWS request. */
  function standIn(fn: string, sha: string, service: string, target: string): string {
    const dir = path.join(tmp, "test-bundles", `${fn}-${sha}`);
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, "index.js");
    fs.writeFileSync(
      file,
      `
const net = require("net"); const http = require("http");
exports.run = (tcpPort, awsPort) => new Promise((done, fail) => {
  const s = net.connect({ host: "127.0.0.1", port: tcpPort }, () => s.end());
  s.on("error", fail);
  s.on("close", () => {
    const req = http.request({ host: "127.0.0.1", port: awsPort, method: "POST", path: "/", headers: {
      authorization: "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/ap-northeast-1/${service}/aws4_request, SignedHeaders=host, Signature=0",
      "x-amz-target": "${target}" } }, (res) => { res.resume(); res.on("end", done); });
    req.on("error", fail);
    req.end("{}");
  });
});`,
    );
    return file;
  }

  async function run(file: string): Promise<Recorded[]> {
    const rec: Recorded[] = [];
    const stop = recordConnections(rec);
    try {
      await (require(file) as { run: (a: number, b: number) => Promise<void> }).run(port(tcp), port(aws));
      // The test's own connection (not from a bundle frame) is not recorded.
      await new Promise<void>((ok) =>
        net
          .connect(port(tcp), "127.0.0.1")
          .on("close", () => ok())
          .on("connect", function (this: net.Socket) {
            this.end();
          }),
      );
    } finally {
      stop();
    }
    return rec;
  }

  /** What the loopback servers stand for in the deployed network, as a handler test's config says. */
  const logical = (host: string, p: number): LogicalTarget | undefined => {
    if (host === "127.0.0.1" && p === port(tcp)) return { host: "example.cybozu.com", port: 443 };
    if (host === "127.0.0.1" && p === port(aws))
      return { host: "secretsmanager.ap-northeast-1.amazonaws.com", port: 443, awsService: "secretsmanager" };
    return undefined;
  };

  test("the recorder attributes a bundle's connect and AWS request to its function, and nothing else", async () => {
    const rec = await run(standIn("kintone-sync", "0123456789ab", "secretsmanager", "secretsmanager.GetSecretValue"));
    // The HTTP agent opens its socket after the request's stack has unwound: the AWS request is
    // attributed at the request (kind "aws"), the direct TCP connect at the connect.
    expect(rec.filter((r) => r.kind === "connect")).toEqual([
      { fn: "kintone-sync", kind: "connect", host: "127.0.0.1", port: port(tcp) },
    ]);
    expect(rec.filter((r) => r.kind === "aws").map((r) => r.action)).toEqual(["secretsmanager:GetSecretValue"]);
  });

  test("kintone-sync's recorded connections and calls are covered by its flows and role statements", async () => {
    const rec = await run(standIn("kintone-sync", "0123456789ac", "secretsmanager", "secretsmanager.GetSecretValue"));
    expect(uncoveredConnections(graph.resources, rec, logical)).toEqual([]);
  });

  test("mutation: a handler calling an undeclared host and an ungranted action is caught, naming flow and statement to add", async () => {
    const rec = await run(standIn("kintone-sync", "0123456789ad", "dynamodb", "DynamoDB_20120810.Scan"));
    const evil = (host: string, p: number): LogicalTarget | undefined =>
      p === port(tcp) ? { host: "evil.example.net", port: 443 } : logical(host, p);
    const found = uncoveredConnections(graph.resources, rec, evil);
    expect(found).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          fn: "kintone-sync",
          what: "evil.example.net:443",
          fix: "add an internet flow to evil.example.net:443 to kintone-sync (its VpcFunction flows)",
        }),
        expect.objectContaining({ fn: "kintone-sync", what: "dynamodb:Scan" }),
      ]),
    );
    expect(found.find((f) => f.what === "dynamodb:Scan")?.fix).toMatch(
      /add a statement allowing dynamodb:Scan on the resource to kintone-sync-policy/,
    );
  });

  test("a connection to the proxy tier is covered only for a function with a proxy flow", () => {
    const rec: Recorded[] = [
      { fn: "saas-export", kind: "connect", host: "127.0.0.1", port: 1 },
      { fn: "db-writer", kind: "connect", host: "127.0.0.1", port: 1 },
    ];
    const proxy = (): LogicalTarget => ({ host: "proxy", port: 3128, viaProxy: true });
    const found = uncoveredConnections(graph.resources, rec, proxy);
    expect(found.map((f) => f.fn)).toEqual(["db-writer"]);
    expect(found[0].fix).toMatch(/flow to the proxy tier/);
  });
});
