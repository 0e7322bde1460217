import { runCheck } from "../../ops/check/report";
import { synthForTest } from "../support/graph";
import type { Graph } from "../../ops/synth-core";

// The brownfield stack: the kit adopted into an existing VPC (examples/inventory/brownfield.json).
// The offline mocks answer the EC2 lookups from the inventory; nothing of the existing network is created.
let graph: Graph;

beforeAll(async () => {
  const { result } = await synthForTest("brownfield");
  graph = result.graph;
});

const created = (type: string) =>
  graph.resources.filter((r) => r.type === type && !(r as { existing?: boolean }).existing);
const existing = (type: string) =>
  graph.resources.filter((r) => r.type === type && (r as { existing?: boolean }).existing === true);

test("creates no VPC, subnet, route table, association, route, NAT gateway, EIP or internet gateway", () => {
  for (const t of [
    "aws:ec2/vpc:Vpc",
    "aws:ec2/subnet:Subnet",
    "aws:ec2/routeTable:RouteTable",
    "aws:ec2/routeTableAssociation:RouteTableAssociation",
    "aws:ec2/route:Route",
    "aws:ec2/natGateway:NatGateway",
    "aws:ec2/eip:Eip",
    "aws:ec2/internetGateway:InternetGateway",
  ]) {
    expect([t, created(t).map((r) => r.name)]).toEqual([t, []]);
  }
});

test("records the inventory's network as existing resources, in account A", () => {
  expect(existing("aws:ec2/vpc:Vpc").map((r) => [r.id, r.inputs.cidrBlock])).toEqual([
    ["vpc-0a1b2c3d4e5f60718", "10.20.0.0/16"],
  ]);
  expect(
    existing("aws:ec2/subnet:Subnet")
      .map((r) => r.id)
      .sort(),
  ).toEqual(["subnet-0a1b2c3d4e5f60701", "subnet-0a1b2c3d4e5f60702", "subnet-0a1b2c3d4e5f60703"]);
  expect(existing("aws:ec2/natGateway:NatGateway").map((r) => r.inputs.publicIp)).toEqual(["198.51.100.20"]);
  const provider = graph.resources.find((r) => r.type === "pulumi:providers:aws" && r.name === "account-a");
  for (const r of graph.resources.filter((x) => (x as { existing?: boolean }).existing))
    expect(r.provider).toBe(provider?.urn);
});

test("the functions and endpoints land in the existing private subnets; the egress IP is the existing NAT's", () => {
  const fn = graph.resources.find((r) => r.type === "aws:lambda/function:Function" && r.name === "kintone-sync-fn");
  expect((fn?.inputs.vpcConfig as { subnetIds: string[] }).subnetIds).toEqual([
    "subnet-0a1b2c3d4e5f60702",
    "subnet-0a1b2c3d4e5f60703",
  ]);
  const ep = created("aws:ec2/vpcEndpoint:VpcEndpoint");
  // The Secrets Manager interface endpoint, and the S3 and DynamoDB gateway endpoints on the existing route table
  // (manageRoutes: true in the stack file adds those associations and no route).
  expect(
    ep
      .map((e) => [
        e.inputs.vpcId,
        e.inputs.vpcEndpointType,
        String(e.inputs.serviceName).split(".").pop(),
        e.inputs.routeTableIds,
      ])
      .sort((a, b) => String(a[2]).localeCompare(String(b[2]))),
  ).toEqual([
    ["vpc-0a1b2c3d4e5f60718", "Gateway", "dynamodb", ["rtb-0a1b2c3d4e5f60712"]],
    ["vpc-0a1b2c3d4e5f60718", "Gateway", "s3", ["rtb-0a1b2c3d4e5f60712"]],
    ["vpc-0a1b2c3d4e5f60718", "Interface", "secretsmanager", undefined],
  ]);
  expect(graph.outputs.egressIps).toEqual(["198.51.100.20"]);
  // An existing NAT serves the subnets: the kit needs no route, and adds none.
  expect(graph.outputs.routesToAdd).toEqual({ managedByKit: true, routes: [] });
});

test("the checker proves every flow across existing and new hops", async () => {
  const { report } = await runCheck(graph, { diagram: false });
  expect(report.summary).toMatchObject({ flowsBroken: 0, policyViolations: 0 });
  expect(report.summary.flows).toBeGreaterThan(0);
  const internet = report.flows.find((f) => /internet host example\.cybozu\.com/.test(JSON.stringify(f)));
  expect(JSON.stringify(internet)).toContain("existing-nat-0a1b2c3d4e5f60713");
});
