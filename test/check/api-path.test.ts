import type { Graph } from "../../ops/synth-core";
import { synthForTest } from "../support/graph";
import { GraphModel } from "../../ops/check/model/graph";
import { privateApiPaths } from "../../ops/check/eval/api-path";
import { runCheck } from "../../ops/check/report";
import { toDot } from "../../ops/check/diagram";

/**
 * The private API consumer path (ops/check/eval/api-path.ts) on the dev stack: every caller the
 * execute-api endpoint admits reaches pets-api through every hop, and removing any one hop makes the
 * path BROKEN with that hop named.
 */
describe("private API consumer path", () => {
  let graph: Graph;
  beforeAll(async () => {
    graph = (await synthForTest("dev")).result.graph;
  });
  const clone = (): Graph => JSON.parse(JSON.stringify(graph));
  const paths = (g: Graph) => privateApiPaths(GraphModel.of(g));
  const byType = (g: Graph, type: string) => g.resources.filter((r) => r.type === type);

  test("dev: each admitted caller reaches pets-api through endpoint, DNS, policy, method, integration and permission", () => {
    const ps = paths(graph);
    expect(ps.length).toBeGreaterThanOrEqual(1);
    expect(ps.map((p) => p.fn)).toContain("caller security group pets-api-sg");
    for (const p of ps) {
      expect(p.status).toBe("OK");
      expect(p.path).toEqual(["endpoints-execute-api", "private-api-api", "pets-api-fn"]);
      expect(p.steps.join("\n")).toMatch(
        /ingress tcp\/443[\s\S]*private DNS[\s\S]*aws:SourceVpce[\s\S]*integration[\s\S]*permission[\s\S]*pets-api-fn/,
      );
    }
  });

  test("the diagram draws the consumer paths", async () => {
    const { report } = await runCheck(graph, { diagram: false });
    const dot = toDot(graph, [...report.flows, ...(report.apiPaths ?? [])]);
    expect(dot).toContain("caller security group pets-api-sg");
  });

  const broken = (g: Graph) => {
    const ps = paths(g);
    expect(ps.length).toBeGreaterThan(0);
    expect(ps.every((p) => p.status === "BROKEN")).toBe(true);
    return ps[0].reason ?? "";
  };

  test("broken hop: the endpoint security group admits nobody on 443", () => {
    const g = clone();
    const sg = byType(g, "aws:ec2/vpcEndpoint:VpcEndpoint").find((e) =>
      /execute-api/.test(String(e.inputs.serviceName)),
    )?.inputs.securityGroupIds as string[];
    g.resources = g.resources.filter(
      (r) =>
        !(
          r.type === "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule" &&
          sg.includes(String(r.inputs.securityGroupId))
        ),
    );
    expect(broken(g)).toMatch(/admits nobody on tcp\/443/);
  });

  test("broken hop: private DNS off on the endpoint", () => {
    const g = clone();
    const ep = byType(g, "aws:ec2/vpcEndpoint:VpcEndpoint").find((e) =>
      /execute-api/.test(String(e.inputs.serviceName)),
    );
    if (!ep) throw new Error("no execute-api endpoint");
    ep.inputs.privateDnsEnabled = false;
    expect(broken(g)).toMatch(/private DNS off/);
  });

  test("broken hop: the resource policy does not admit the endpoint", () => {
    const g = clone();
    const pol = byType(g, "aws:apigateway/restApiPolicy:RestApiPolicy")[0];
    pol.inputs.policy = String(pol.inputs.policy).replace(/vpce-[0-9a-f]+/g, "vpce-0ffffffffffffffff");
    expect(broken(g)).toMatch(/resource policy/);
  });

  test("broken hop: a method without its integration", () => {
    const g = clone();
    const integ = byType(g, "aws:apigateway/integration:Integration")[0];
    g.resources = g.resources.filter((r) => r !== integ);
    expect(broken(g)).toMatch(/has no integration/);
  });

  test("broken hop: no Lambda permission for API Gateway", () => {
    const g = clone();
    g.resources = g.resources.filter(
      (r) => !(r.type === "aws:lambda/permission:Permission" && r.inputs.principal === "apigateway.amazonaws.com"),
    );
    expect(broken(g)).toMatch(/no Lambda permission lets apigateway.amazonaws.com invoke pets-api-fn/);
  });

  test("broken hop: a permission whose SourceArn is for another API", () => {
    const g = clone();
    for (const p of byType(g, "aws:lambda/permission:Permission"))
      if (p.inputs.principal === "apigateway.amazonaws.com")
        p.inputs.sourceArn = String(p.inputs.sourceArn).replace(/:[a-z0-9]+\//, ":otherapi99/");
    expect(broken(g)).toMatch(/no Lambda permission/);
  });

  test("a broken consumer path fails the check", async () => {
    const g = clone();
    const ep = byType(g, "aws:ec2/vpcEndpoint:VpcEndpoint").find((e) =>
      /execute-api/.test(String(e.inputs.serviceName)),
    );
    if (ep) ep.inputs.privateDnsEnabled = false;
    const { report, text } = await runCheck(g, { diagram: false });
    expect(report.ok).toBe(false);
    expect(text).toMatch(/private API consumer paths:\n {2}BROKEN/);
  });
});
