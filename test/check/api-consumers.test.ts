import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { Graph } from "../../ops/synth-core";
import { GraphModel } from "../../ops/check/model/graph";
import { privateApiPaths } from "../../ops/check/eval/api-path";
import { configErrorsOf } from "../support/config-errors";
import { synthForTest } from "../support/graph";
import { expectRefused, runOps, stackDoc, writeStackFile } from "../support/ops-cli";

/**
 * privateApi.consumers.securityGroupIds / cidrs / sampleCaller: each declared consumer gets an ingress
 * rule on the network's execute-api endpoint group and its own consumer path in the check; bad values
 * are config errors naming the key.
 */
const P = "vpc-lambda-kit";
const devPrivateApi = (): Record<string, unknown> =>
  stackDoc("dev").config[`${P}:privateApi`] as Record<string, unknown>;
const withConsumers = (consumers: Record<string, unknown>) => {
  const pa = devPrivateApi();
  return { ...pa, consumers: { ...(pa.consumers as object), ...consumers } };
};

describe("declared consumers in the graph and the check", () => {
  const SG = "sg-0123456789abcdef0";
  const CIDR = "10.0.0.0/24";
  let graph: Graph;
  beforeAll(async () => {
    graph = (
      await synthForTest("dev", {
        [`${P}:privateApi`]: withConsumers({ securityGroupIds: [SG], cidrs: [CIDR], sampleCaller: true }),
      })
    ).result.graph;
  });
  const paths = (g: Graph) => privateApiPaths(GraphModel.of(g));

  test("a listed group and block are admitted to the execute-api endpoint on 443, and recorded on the API", () => {
    const ep = graph.resources.find(
      (r) => r.type === "aws:ec2/vpcEndpoint:VpcEndpoint" && /execute-api/.test(String(r.inputs.serviceName)),
    );
    const epSg = (ep?.inputs.securityGroupIds as string[])[0];
    const rules = graph.resources.filter(
      (r) =>
        r.type === "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule" && r.inputs.securityGroupId === epSg,
    );
    expect(rules.find((r) => r.inputs.referencedSecurityGroupId === SG)?.inputs).toMatchObject({
      ipProtocol: "tcp",
      fromPort: 443,
      toPort: 443,
    });
    expect(rules.find((r) => r.inputs.cidrIpv4 === CIDR)?.name).toBe("private-api-consumer-10-0-0-0-24");
    const comp = graph.resources.find((r) => r.type === "vpc-lambda-kit:api:PrivateApi");
    const callers = comp?.inputs.callers as { securityGroupIds: string[]; cidrs: string[]; functions: string[] };
    expect(callers.cidrs).toEqual([CIDR]);
    expect(callers.securityGroupIds[0]).toBe(SG);
    expect(callers.securityGroupIds).toHaveLength(2);
    expect(callers.functions).toEqual(["private-api-caller"]);
  });

  test("each declared consumer has its own OK path; a group outside the stack says its egress is not proven", () => {
    const ps = paths(graph);
    expect(ps.map((p) => [p.fn, p.status])).toEqual([
      [`caller security group ${SG}`, "OK"],
      ["private-api-caller", "OK"],
      [`caller ${CIDR}`, "OK"],
    ]);
    expect(ps[0].steps[0]).toMatch(/is not in this stack: its egress .*not proven here/);
    expect(ps[2].steps.join("\n")).toMatch(/ingress tcp\/443 from 10\.0\.0\.0\/24 by private-api-consumer-10-0-0-0-24/);
  });

  test("mutation: without the block's rule, that consumer's path is BROKEN at the endpoint group, the others stay OK", () => {
    const g: Graph = JSON.parse(JSON.stringify(graph));
    g.resources = g.resources.filter((r) => r.name !== "private-api-consumer-10-0-0-0-24");
    const ps = paths(g);
    expect(ps.map((p) => p.status)).toEqual(["OK", "OK", "BROKEN"]);
    expect(ps[2].reason).toBe(
      "endpoint security group: the security group of endpoints-execute-api does not admit 10.0.0.0/24 on tcp/443; add an ingress rule for the block (privateApi.consumers.cidrs)",
    );
  });

  test("mutation: without the listed group's rule, that consumer's path is BROKEN naming the group", () => {
    const g: Graph = JSON.parse(JSON.stringify(graph));
    g.resources = g.resources.filter((r) => r.name !== `private-api-consumer-${SG}`);
    const [p] = paths(g);
    expect(p.status).toBe("BROKEN");
    expect(p.reason).toMatch(new RegExp(`^endpoint security group: .* does not admit security group ${SG} on tcp/443`));
  });
});

describe("config errors for consumers", () => {
  const key = `${P}:privateApi`;
  const errs = (consumers: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
    configErrorsOf({ [key]: { ...withConsumers(consumers), ...extra } });

  test.each([
    [{ securityGroupIds: ["default"] }, `${P}:privateApi.consumers.securityGroupIds[0]`, /is not a security group id/],
    [
      { securityGroupIds: ["sg-0123456789abcdef0", "sg-0123456789abcdef0"] },
      `${P}:privateApi.consumers.securityGroupIds[1]`,
      /listed twice/,
    ],
    [{ cidrs: ["10.0.0.0/33"] }, `${P}:privateApi.consumers.cidrs[0]`, /prefix length above 32/],
    [{ cidrs: ["10.0.0.1/24"] }, `${P}:privateApi.consumers.cidrs[0]`, /host bits set/],
    [{ cidrs: ["0.0.0.0/0"] }, `${P}:privateApi.consumers.cidrs[0]`, /not a private .* it would admit every address/],
    [{ cidrs: ["8.8.8.0/24"] }, `${P}:privateApi.consumers.cidrs[0]`, /not a private \(RFC 1918\) block/],
  ])("%j is refused naming %s", (consumers, k, problem) => {
    const found = errs(consumers).filter((e) => e.includes(k));
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(problem);
  });

  test("a wrongly typed value is refused naming the key", () => {
    const found = errs({ sampleCaller: "yes" });
    expect(found.join("\n")).toMatch(/privateApi\.consumers\.sampleCaller/);
  });

  test("the sample caller with AWS_IAM authorization is refused (it sends unsigned requests)", () => {
    const found = errs({ sampleCaller: true }, { authorization: "AWS_IAM" });
    expect(found.filter((e) => e.includes(`${P}:privateApi.consumers.sampleCaller`))).toEqual([
      expect.stringMatching(/unsigned requests.*set vpc-lambda-kit:privateApi\.authorization to NONE/),
    ]);
  });

  test("in-VPC consumers without an execute-api endpoint in the network are refused", () => {
    const net = JSON.parse(JSON.stringify(stackDoc("dev").config[`${P}:network`]));
    net.interfaceEndpoints = (net.interfaceEndpoints as string[]).filter((s) => s !== "execute-api");
    const found = configErrorsOf({
      [key]: {
        ...withConsumers({ cidrs: ["10.0.0.0/24"], vpcEndpointIds: ["vpce-0123456789abcdef0"], sampleCaller: false }),
      },
      [`${P}:network`]: net,
    });
    expect(found.filter((e) => e.includes(`${P}:privateApi.consumers.cidrs`))).toEqual([
      expect.stringMatching(/network has none\. Fix: add execute-api to vpc-lambda-kit:network\.interfaceEndpoints/),
    ]);
  });

  test("the dev config with its sample caller is valid", () => {
    expect(errs({})).toEqual([]);
  });

  test("npm run check exits 2 on a bad consumer, naming the key, before anything is synthesized", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vlk-consumers-"));
    try {
      const doc = stackDoc("dev");
      doc.config[key] = withConsumers({ cidrs: ["0.0.0.0/0"] });
      const r = runOps("ops/check.ts", "dev", writeStackFile(dir, "dev", doc), path.join(dir, "out"));
      expect(r.stderr).toMatch(/vpc-lambda-kit:privateApi\.consumers\.cidrs\[0\]/);
      expectRefused(r);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
