import { runCheck } from "../../ops/check/report";
import { created as createdIn, reportedTgwRoute, synthBrownfield, TGW_ROUTE } from "../support/brownfield-graph";
import type { Graph } from "../../ops/synth-core";

// The brownfield stack: the kit adopted into a landing zone (examples/inventory/brownfield.json): the
// workload VPC, the database VPC (found by tags) and the Transit Gateway. The offline mocks answer the EC2
// lookups from the inventory; nothing of the existing network is created, only the routes manageRoutes allows.
let graph: Graph;

beforeAll(async () => {
  graph = await synthBrownfield();
});

const created = (type: string) => createdIn(graph, type);
const existing = (type: string) =>
  graph.resources.filter((r) => r.type === type && (r as { existing?: boolean }).existing === true);

test("creates no VPC, subnet, route table, association, NAT gateway, EIP, internet gateway or Transit Gateway", () => {
  for (const t of [
    "aws:ec2/vpc:Vpc",
    "aws:ec2/subnet:Subnet",
    "aws:ec2/routeTable:RouteTable",
    "aws:ec2/routeTableAssociation:RouteTableAssociation",
    "aws:ec2/natGateway:NatGateway",
    "aws:ec2/eip:Eip",
    "aws:ec2/internetGateway:InternetGateway",
    "aws:ec2transitgateway/transitGateway:TransitGateway",
    "aws:ec2transitgateway/routeTable:RouteTable",
  ]) {
    expect([t, created(t).map((r) => r.name)]).toEqual([t, []]);
  }
});

test("with manageRoutes on both adopted VPCs, it adds exactly the two Transit Gateway routes", () => {
  expect(
    created("aws:ec2/route:Route")
      .map((r) => r.inputs)
      .sort((a, b) => String(a.routeTableId).localeCompare(String(b.routeTableId))),
  ).toEqual([TGW_ROUTE.workloadToData, TGW_ROUTE.dataToWorkload]);
  expect(graph.outputs.dataRoutesToAdd).toEqual({
    managedByKit: true,
    routes: [reportedTgwRoute(TGW_ROUTE.dataToWorkload)],
  });
});

test("the data role adds the DB subnet group over the tagged subnets and the data VPC's attachment, left to the TGW's defaults", () => {
  const group = created("aws:rds/subnetGroup:SubnetGroup");
  expect(group.map((g) => [g.name, g.inputs.subnetIds])).toEqual([
    ["data-db-subnets", ["subnet-0b1c2d3e4f5a60721", "subnet-0b1c2d3e4f5a60722"]],
  ]);
  const att = created("aws:ec2transitgateway/vpcAttachment:VpcAttachment");
  expect(att.map((a) => [a.name, a.inputs.transitGatewayId, a.inputs.vpcId, a.inputs.subnetIds])).toEqual([
    [
      "data-transit-attachment",
      "tgw-0c1d2e3f4a5b60731",
      "vpc-0b1c2d3e4f5a60728",
      ["subnet-0b1c2d3e4f5a60721", "subnet-0b1c2d3e4f5a60722"],
    ],
  ]);
  // The network account's TGW associates and propagates it by default; the kit manages no table of it.
  expect(created("aws:ec2transitgateway/routeTableAssociation:RouteTableAssociation")).toEqual([]);
  expect(created("aws:ec2transitgateway/routeTablePropagation:RouteTablePropagation")).toEqual([]);
  expect(att[0].inputs.transitGatewayDefaultRouteTableAssociation).toBeUndefined();
  // It auto-accepts, and no table is named: nothing for the network account to do.
  expect(graph.outputs.tgwOwnerActions).toEqual({
    managedByKit: false,
    ownerId: "222222222222",
    transitGatewayId: "tgw-0c1d2e3f4a5b60731",
    actions: [],
  });
});

test("records the inventory's network as existing resources, the data VPC's in account B", () => {
  expect(existing("aws:ec2/vpc:Vpc").map((r) => [r.id, r.inputs.cidrBlock])).toEqual([
    ["vpc-0a1b2c3d4e5f60718", "10.20.0.0/16"],
    ["vpc-0b1c2d3e4f5a60728", "10.21.0.0/16"],
  ]);
  expect(
    existing("aws:ec2/subnet:Subnet")
      .map((r) => r.id)
      .sort(),
  ).toEqual([
    "subnet-0a1b2c3d4e5f60701",
    "subnet-0a1b2c3d4e5f60702",
    "subnet-0a1b2c3d4e5f60703",
    "subnet-0b1c2d3e4f5a60721",
    "subnet-0b1c2d3e4f5a60722",
  ]);
  expect(existing("aws:ec2/natGateway:NatGateway").map((r) => r.inputs.publicIp)).toEqual(["198.51.100.20"]);
  expect(existing("aws:ec2transitgateway/transitGateway:TransitGateway").map((r) => r.id)).toEqual([
    "tgw-0c1d2e3f4a5b60731",
  ]);
  const providerOf = (n: string) => graph.resources.find((r) => r.type === "pulumi:providers:aws" && r.name === n)?.urn;
  for (const r of graph.resources.filter((x) => (x as { existing?: boolean }).existing)) {
    const inData = JSON.stringify(r.inputs).includes("0b1c2d3e4f5a6072") || r.id.includes("0b1c2d3e4f5a6072");
    expect([r.name, r.provider]).toEqual([r.name, providerOf(inData ? "account-b" : "account-a")]);
  }
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
  // An existing NAT serves the subnets: the kit needs no default route; the TGW route it adds (manageRoutes).
  expect(graph.outputs.routesToAdd).toEqual({
    managedByKit: true,
    routes: [reportedTgwRoute(TGW_ROUTE.workloadToData)],
  });
});

test("the checker proves every flow across existing and new hops", async () => {
  const { report } = await runCheck(graph, { diagram: false });
  expect(report.summary).toMatchObject({ flowsBroken: 0, policyViolations: 0 });
  expect(report.summary.flows).toBeGreaterThan(0);
  const internet = report.flows.find((f) => /internet host example\.cybozu\.com/.test(JSON.stringify(f)));
  expect(JSON.stringify(internet)).toContain("existing-nat-0a1b2c3d4e5f60713");
});

test("the checker proves db-writer across the existing Transit Gateway and marks its existing hops", async () => {
  const { report } = await runCheck(graph, { diagram: false });
  const db = report.flows.find((f) => f.fn === "db-writer" && f.flow.startsWith("tcp/5432"));
  expect(db?.status).toBe("OK");
  expect(db?.path).toEqual(
    expect.arrayContaining(["existing-tgw-0c1d2e3f4a5b60731", "existing-tgw-rtb-0c1d2e3f4a5b60732"]),
  );
  expect(JSON.stringify(db)).toContain(
    "transit gateway existing-tgw-0c1d2e3f4a5b60731 (existing): route table existing-tgw-rtb-0c1d2e3f4a5b60732 (existing): 10.21.0.0/16 → attachment data-transit-attachment",
  );
});
