import { runCheck } from "../../ops/check/report";
import type { Graph } from "../../ops/synth-core";
import { created as createdIn, reportedTgwRoute, synthBrownfield, TGW_ROUTE } from "../support/brownfield-graph";
import { BROWNFIELD_DATA } from "../support/brownfield";

// data.existingVpc with manageRoutes off: Aurora goes into the landing zone's database subnets; the kit
// adds the DB subnet group, security groups and the TGW attachment, but no route to the data VPC's table.
let graph: Graph;

beforeAll(async () => {
  graph = await synthBrownfield({
    "vpc-lambda-kit:data": { ...BROWNFIELD_DATA, existingVpc: { ...BROWNFIELD_DATA.existingVpc, manageRoutes: false } },
  });
});

const created = (type: string) => createdIn(graph, type);

test("creates no VPC, subnet or route table for the data role", () => {
  expect(created("aws:ec2/vpc:Vpc")).toEqual([]);
  expect(created("aws:ec2/subnet:Subnet")).toEqual([]);
  expect(created("aws:ec2/routeTable:RouteTable")).toEqual([]);
});

test("adds only the workload VPC's TGW route and reports the data VPC's for its owner", () => {
  expect(created("aws:ec2/route:Route").map((r) => r.inputs)).toEqual([TGW_ROUTE.workloadToData]);
  expect(graph.outputs.dataRoutesToAdd).toEqual({
    managedByKit: false,
    routes: [reportedTgwRoute(TGW_ROUTE.dataToWorkload)],
  });
});

test("Aurora and its security group are in the adopted subnets and VPC", () => {
  const cluster = created("aws:rds/cluster:Cluster");
  const group = created("aws:rds/subnetGroup:SubnetGroup");
  expect(cluster.map((c) => c.inputs.dbSubnetGroupName)).toEqual([expect.stringMatching(/^data-db-subnets/)]);
  expect(group.map((g) => g.name)).toEqual(["data-db-subnets"]);
  expect(group[0].inputs.subnetIds).toEqual(["subnet-0b1c2d3e4f5a60721", "subnet-0b1c2d3e4f5a60722"]);
  const sgIds = cluster[0].inputs.vpcSecurityGroupIds as string[];
  const sgs = created("aws:ec2/securityGroup:SecurityGroup").filter((s) => sgIds.includes(s.id));
  expect(sgs.map((s) => s.inputs.vpcId)).toEqual(sgIds.map(() => "vpc-0b1c2d3e4f5a60728"));
});

test("until the owner adds the route, the checker finds the database flow broken at the data VPC's table", async () => {
  const { report } = await runCheck(graph, { diagram: false });
  const db = report.flows.find((f) => f.fn === "db-writer" && f.flow.startsWith("tcp/5432"));
  expect(db?.status).toBe("BROKEN");
  expect(JSON.stringify(db)).toContain("existing-rtb-0b1c2d3e4f5a60724");
});
