import { runCheck } from "../../ops/check/report";
import type { Graph } from "../../ops/synth-core";
import { created as createdIn, routesToAddWithoutNat, synthBrownfieldWithoutNat } from "../support/brownfield-graph";

// An existing VPC with no NAT yet and manageRoutes on: the kit adds a NAT, its EIP, and exactly the
// default route and the S3 gateway endpoint on the one shared private route table.
let graph: Graph;

beforeAll(async () => {
  graph = await synthBrownfieldWithoutNat(true);
});

const created = (type: string) => createdIn(graph, type);

test("creates one NAT gateway and EIP in the existing public subnet, and no VPC or subnet", () => {
  expect(created("aws:ec2/vpc:Vpc")).toEqual([]);
  expect(created("aws:ec2/subnet:Subnet")).toEqual([]);
  expect(created("aws:ec2/routeTable:RouteTable")).toEqual([]);
  const nats = created("aws:ec2/natGateway:NatGateway");
  expect(nats.map((n) => [n.name, n.inputs.subnetId])).toEqual([["egress-nat-0", "subnet-0a1b2c3d4e5f60701"]]);
  const eips = created("aws:ec2/eip:Eip");
  expect(eips.map((e) => e.id)).toEqual([nats[0].inputs.allocationId]);
  expect(graph.outputs.egressIps).toEqual([expect.stringMatching(/^203\.0\.113\.\d+$/)]);
});

test("adds exactly one route (0.0.0.0/0 to its NAT on the shared table) and one S3 endpoint association", () => {
  const nat = created("aws:ec2/natGateway:NatGateway")[0];
  // Besides the stack's two Transit Gateway routes (brownfield-stack.test.ts).
  expect(
    created("aws:ec2/route:Route")
      .map((r) => r.inputs)
      .filter((i) => i.transitGatewayId === undefined),
  ).toEqual([{ routeTableId: "rtb-0a1b2c3d4e5f60712", destinationCidrBlock: "0.0.0.0/0", natGatewayId: nat.id }]);
  const gw = created("aws:ec2/vpcEndpoint:VpcEndpoint").filter((e) => e.inputs.vpcEndpointType === "Gateway");
  const byService = gw.map((e) => [String(e.inputs.serviceName).split(".").pop(), e.inputs.routeTableIds]);
  expect(byService.sort((a, b) => String(a[0]).localeCompare(String(b[0])))).toEqual([
    ["dynamodb", ["rtb-0a1b2c3d4e5f60712"]],
    ["s3", ["rtb-0a1b2c3d4e5f60712"]],
  ]);
  expect(graph.outputs.routesToAdd).toEqual(routesToAddWithoutNat(true));
});

test("the checker proves the internet flow through the new NAT and the existing internet gateway", async () => {
  const { report } = await runCheck(graph, { diagram: false });
  expect(report.summary.flowsBroken).toBe(0);
  const text = JSON.stringify(report.flows);
  expect(text).toContain("egress-nat-0");
  expect(text).toContain("existing-igw-0a1b2c3d4e5f60719");
});
