import type { Graph } from "../../ops/synth-core";
import { synthForTest } from "../support/graph";
import { GraphModel } from "../../ops/check/model/graph";
import { privateApiPaths } from "../../ops/check/eval/api-path";
import { runCheck } from "../../ops/check/report";
import { toDot } from "../../ops/check/diagram";

/**
 * The private API consumer path (ops/check/eval/api-path.ts) on the dev stack: the declared caller
 * (privateApi.consumers.sampleCaller: the private-api-caller function) reaches pets-api through every
 * hop, and removing any one hop makes the path BROKEN with that hop named.
 */
describe("private API consumer path", () => {
  let graph: Graph;
  beforeAll(async () => {
    graph = (await synthForTest("dev")).result.graph;
  });
  const clone = (): Graph => JSON.parse(JSON.stringify(graph));
  const paths = (g: Graph) => privateApiPaths(GraphModel.of(g));
  const byType = (g: Graph, type: string) => g.resources.filter((r) => r.type === type);

  test("dev: the declared caller reaches pets-api through its group, the endpoint, DNS, policy, method, integration and permission", () => {
    const ps = paths(graph);
    // Only the declared caller: pets-api's own admission to the shared endpoint group is not a consumer.
    expect(ps.map((p) => p.fn)).toEqual(["private-api-caller"]);
    const [p] = ps;
    expect(p.status).toBe("OK");
    expect(p.path).toEqual(["endpoints-execute-api", "private-api-api", "pets-api-fn"]);
    expect(p.steps.join("\n")).toMatch(
      /private-api-caller.*egress tcp\/443 to endpoints-execute-api[\s\S]*ingress tcp\/443 from function private-api-caller[\s\S]*private DNS[\s\S]*aws:SourceVpce[\s\S]*integration[\s\S]*permission[\s\S]*pets-api-fn/,
    );
  });

  test("the diagram draws the caller function connected to the endpoint, the API and pets-api", async () => {
    const { report } = await runCheck(graph, { diagram: false });
    const dot = toDot(graph, [...report.flows, ...(report.apiPaths ?? [])]);
    const nodeOf = (label: string) => {
      const m = new RegExp(`(\\S+) \\[[^\\]]*label="[^"]*${label}`).exec(dot);
      if (!m) throw new Error(`no node labelled ${label}`);
      return m[1];
    };
    const caller = nodeOf("private-api-caller-fn");
    const ep = nodeOf("endpoints-execute-api");
    expect(dot).toMatch(new RegExp(`${caller} -> ${ep} \\[[^\\]]*class="flow-ok"`));
  });

  const broken = (g: Graph) => {
    const ps = paths(g);
    expect(ps.length).toBeGreaterThan(0);
    expect(ps.every((p) => p.status === "BROKEN")).toBe(true);
    return ps[0].reason ?? "";
  };

  test("broken hop: the caller's security group does not let it out on 443", () => {
    const g = clone();
    g.resources = g.resources.filter((r) => !/^private-api-caller-egress-/.test(r.name));
    expect(broken(g)).toMatch(/^caller security group: function private-api-caller .* does not allow egress tcp\/443/);
  });

  test("broken hop: the endpoint security group does not admit the caller on 443", () => {
    const g = clone();
    g.resources = g.resources.filter((r) => r.name !== "private-api-caller-to-endpoints");
    expect(broken(g)).toMatch(
      /^endpoint security group: the security group of endpoints-execute-api does not admit function private-api-caller/,
    );
  });

  test("broken hop: the caller sits in another VPC than the endpoint", () => {
    const g = clone();
    const sg = g.resources.find((r) => r.name === "private-api-caller-sg");
    if (!sg) throw new Error("no caller group");
    sg.inputs.vpcId = "vpc-0ther";
    expect(broken(g)).toMatch(/^caller security group: .* is in VPC vpc-0ther/);
  });

  test("broken hop: private DNS off on the endpoint", () => {
    const g = clone();
    const ep = byType(g, "aws:ec2/vpcEndpoint:VpcEndpoint").find((e) =>
      /execute-api/.test(String(e.inputs.serviceName)),
    );
    if (!ep) throw new Error("no execute-api endpoint");
    ep.inputs.privateDnsEnabled = false;
    expect(broken(g)).toMatch(/^private DNS: endpoints-execute-api has private DNS off/);
  });

  test("broken hop: the VPC's DNS hostnames off", () => {
    const g = clone();
    const ep = byType(g, "aws:ec2/vpcEndpoint:VpcEndpoint").find((e) =>
      /execute-api/.test(String(e.inputs.serviceName)),
    );
    const vpc = g.resources.find((r) => r.type === "aws:ec2/vpc:Vpc" && r.id === ep?.inputs.vpcId);
    if (!vpc) throw new Error("no VPC");
    vpc.inputs.enableDnsHostnames = false;
    expect(broken(g)).toMatch(/^private DNS: VPC .* has DNS support or DNS hostnames off/);
  });

  test("broken hop: the resource policy does not admit the endpoint", () => {
    const g = clone();
    const pol = byType(g, "aws:apigateway/restApiPolicy:RestApiPolicy")[0];
    pol.inputs.policy = String(pol.inputs.policy).replace(/vpce-[0-9a-f]+/g, "vpce-0ffffffffffffffff");
    expect(broken(g)).toMatch(/^resource policy: /);
  });

  test("broken hop: a method without its integration", () => {
    const g = clone();
    const integ = byType(g, "aws:apigateway/integration:Integration")[0];
    g.resources = g.resources.filter((r) => r !== integ);
    expect(broken(g)).toMatch(/^ANY \/pets(\/\{id\})?: method ANY .* has no integration/);
  });

  test("broken hop: no Lambda permission for API Gateway", () => {
    const g = clone();
    g.resources = g.resources.filter(
      (r) => !(r.type === "aws:lambda/permission:Permission" && r.inputs.principal === "apigateway.amazonaws.com"),
    );
    expect(broken(g)).toMatch(
      /^ANY \/pets(\/\{id\})?: no Lambda permission lets apigateway.amazonaws.com invoke pets-api-fn/,
    );
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
