import * as fs from "fs";
import * as http from "http";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import type { Graph } from "../../ops/synth-core";
import { synthForTest } from "../support/graph";
import {
  logicalFromEnv,
  Recorded,
  recordConnections,
  uncoveredConnections,
  LogicalTarget,
} from "../support/connections";

/**
 * Connections and AWS calls a handler bundle makes, mapped onto the same function's declared flows
 * and role statements in the dev stack graph. The recorder attributes a connect or request to a
 * function by the bundle file on its call stack (out/test-bundles/<name>-<sha>/), so these tests run
 * small stand-in bundles at such paths against loopback servers: one that keeps to kintone-sync's
 * declared flows and calls, and a mutated one that calls an undeclared host and an ungranted action.
 * The real handler suites (test/handlers/*) record their bundles the same way
 * (test/support/handler-connections.ts); this file proves the recorder and the mapping can fail.
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
  function standIn(fn: string, sha: string, service: string, target: string, body = "{}"): string {
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
    req.end(${JSON.stringify(body)});
  });
});`,
    );
    return file;
  }

  async function run(file: string, env: Record<string, string> = {}): Promise<Recorded[]> {
    const saved = process.env;
    process.env = { ...saved, ...env };
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
      process.env = saved;
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

  const TOKEN = { KINTONE_TOKEN_SECRET_ID: "test/kintone-token" };
  const getToken = (id: string) => JSON.stringify({ SecretId: id });
  /** A kintone-sync stand-in (bundle `sha`) that reads secret `secretId`, run with kintone-sync's environment. */
  const kintoneReadsSecret = (sha: string, secretId: string) =>
    run(standIn("kintone-sync", sha, "secretsmanager", "secretsmanager.GetSecretValue", getToken(secretId)), TOKEN);

  test("the recorder attributes a bundle's connect and AWS request to its function, and nothing else", async () => {
    const rec = await run(
      standIn("kintone-sync", "0123456789ab", "secretsmanager", "secretsmanager.GetSecretValue", getToken("x")),
    );
    // The direct TCP connect at the connect; the HTTP request (its socket opens after the stack unwound)
    // as the peer it names and as an AWS call with the resource it targets.
    expect(rec.filter((r) => r.kind === "connect").map((r) => `${r.host}:${r.port}`)).toEqual([
      `127.0.0.1:${port(tcp)}`,
      `127.0.0.1:${port(aws)}`,
    ]);
    expect(rec.filter((r) => r.kind === "aws").map((r) => [r.action, r.target])).toEqual([
      ["secretsmanager:GetSecretValue", { secretId: "x" }],
    ]);
  });

  test("kintone-sync's recorded connections and calls are covered by its flows and role statements", async () => {
    const rec = await kintoneReadsSecret("0123456789ac", TOKEN.KINTONE_TOKEN_SECRET_ID);
    expect(uncoveredConnections(graph.resources, rec, logical)).toEqual([]);
  });

  test("mutation: a handler calling an undeclared host and an ungranted action is caught, naming flow and statement to add", async () => {
    const rec = await run(standIn("kintone-sync", "0123456789ad", "dynamodb", "DynamoDB_20120810.Scan", "{}"));
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
      /declare dynamodb:Scan .*in functions\/kintone-sync\/aws-calls\.ts \(and grant it in kintone-sync-policy\)/,
    );
  });

  test("mutation: a declared action on a resource the role does not grant (another secret) is caught at resource level", async () => {
    const rec = await kintoneReadsSecret("0123456789ae", "other");
    const found = uncoveredConnections(graph.resources, rec, logical).filter((f) => f.what.startsWith("secrets"));
    expect(found).toEqual([
      expect.objectContaining({
        what: "secretsmanager:GetSecretValue other",
        fix: 'add a statement {"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"other"} to kintone-sync-policy',
      }),
    ]);
  });

  test("mutation: a dropped IAM statement is caught, naming the statement to add back", async () => {
    const rec = await kintoneReadsSecret("0123456789af", TOKEN.KINTONE_TOKEN_SECRET_ID);
    const resources: Graph["resources"] = JSON.parse(JSON.stringify(graph.resources));
    const pol = resources.find((r) => r.type === "aws:iam/rolePolicy:RolePolicy" && r.name === "kintone-sync-policy");
    if (!pol) throw new Error("no kintone-sync-policy");
    const doc = JSON.parse(String(pol.inputs.policy));
    doc.Statement = doc.Statement.filter(
      (st: { Action: string | string[] }) => ![st.Action].flat().includes("secretsmanager:GetSecretValue"),
    );
    pol.inputs.policy = JSON.stringify(doc);
    const secretArn = (
      resources.find((r) => r.name === "kintone-sync-fn")?.inputs.environment as { variables: Record<string, string> }
    ).variables.KINTONE_TOKEN_SECRET_ID;
    expect(uncoveredConnections(resources, rec, logical)).toEqual([
      expect.objectContaining({
        fn: "kintone-sync",
        what: `secretsmanager:GetSecretValue ${secretArn}`,
        fix: `add a statement {"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"${secretArn}"} to kintone-sync-policy`,
      }),
    ]);
  });

  test("a loopback address maps through the variable that named it onto the deployed function's value", () => {
    const env = { KINTONE_BASE_URL: "http://127.0.0.1:4711", AWS_ENDPOINT_URL_DYNAMODB: "http://127.0.0.1:4712" };
    const deployed = { KINTONE_BASE_URL: "https://example.cybozu.com" };
    expect(logicalFromEnv({ host: "127.0.0.1", port: 4711, env }, deployed, "ap-northeast-1")).toEqual({
      host: "example.cybozu.com",
      port: 443,
      env: "KINTONE_BASE_URL",
    });
    expect(logicalFromEnv({ host: "localhost", port: 4712, env }, deployed, "ap-northeast-1")).toEqual({
      host: "dynamodb.ap-northeast-1.amazonaws.com",
      port: 443,
      awsService: "dynamodb",
      env: "AWS_ENDPOINT_URL_DYNAMODB",
    });
    expect(logicalFromEnv({ host: "127.0.0.1", port: 4713, env }, deployed, "ap-northeast-1")).toBeUndefined();
  });

  test("mutation (recorded set): a connection to a host no flow covers, and a CONNECT to a host off the proxy's whitelist", () => {
    const env = {
      KINTONE_BASE_URL: "http://127.0.0.1:4711",
      PROXY_URL: "http://127.0.0.1:3128",
      SAAS_URL: "http://api.example.com:4443/v1/items",
    };
    const resources: Graph["resources"] = JSON.parse(JSON.stringify(graph.resources));
    // kintone-sync deployed against another kintone domain than its flow allows.
    const fn = resources.find((r) => r.name === "kintone-sync-fn");
    (fn?.inputs.environment as { variables: Record<string, string> }).variables.KINTONE_BASE_URL =
      "https://other.cybozu.com";
    // saas-export deployed against a SaaS host the proxy tier does not allow.
    const saas = resources.find((r) => r.name === "saas-export-fn");
    (saas?.inputs.environment as { variables: Record<string, string> }).variables.SAAS_URL =
      "https://api.not-allowed.example/v1";
    const rec: Recorded[] = [
      { fn: "kintone-sync", kind: "connect", host: "127.0.0.1", port: 4711, env },
      { fn: "saas-export", kind: "connect", host: "127.0.0.1", port: 3128, env },
      {
        fn: "saas-export",
        kind: "tunnel",
        host: "api.example.com",
        port: 4443,
        via: { host: "127.0.0.1", port: 3128 },
        env,
      },
    ];
    expect(uncoveredConnections(resources, rec)).toEqual([
      expect.objectContaining({
        fn: "kintone-sync",
        what: "other.cybozu.com:443",
        fix: "add an internet flow to other.cybozu.com:443 to kintone-sync (its VpcFunction flows)",
      }),
      expect.objectContaining({
        fn: "saas-export",
        what: "api.not-allowed.example:443 (CONNECT through the proxy)",
        fix: "add api.not-allowed.example to the proxy tier's allowed domains",
      }),
    ]);
    // The same recordings against the stack as synthesized are covered.
    expect(uncoveredConnections(graph.resources, rec)).toEqual([]);
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
