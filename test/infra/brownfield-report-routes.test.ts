import { runCheck } from "../../ops/check/report";
import type { Graph } from "../../ops/synth-core";
import { synthForTest } from "../support/graph";
import { inventoryVariant, networkWithoutNat, withoutPrivateDefaultRoute } from "../support/brownfield";

// manageRoutes off: the kit creates its NAT but changes no existing route table. It reports the route
// the owner must add, and the checker proves with what exists, so the internet flow is broken until then.
let graph: Graph;

beforeAll(async () => {
  const inventory = inventoryVariant(withoutPrivateDefaultRoute);
  const { result } = await synthForTest("brownfield", {
    "vpc-lambda-kit:inventory": inventory,
    "vpc-lambda-kit:network": networkWithoutNat(false),
  });
  graph = result.graph;
});

test("adds no route and no gateway endpoint to the workload VPC's tables, and reports the routes needed", () => {
  // The only route is the data VPC's (its own manageRoutes is on); none goes into the workload VPC's table.
  expect(graph.resources.filter((r) => r.type === "aws:ec2/route:Route").map((r) => r.inputs)).toEqual([
    {
      routeTableId: "rtb-0b1c2d3e4f5a60724",
      destinationCidrBlock: "10.20.0.0/16",
      transitGatewayId: "tgw-0c1d2e3f4a5b60731",
    },
  ]);
  // The gateway endpoints exist (their prefix lists and policies) but are associated with no existing table.
  const gateways = graph.resources.filter(
    (r) => r.type === "aws:ec2/vpcEndpoint:VpcEndpoint" && r.inputs.vpcEndpointType === "Gateway",
  );
  expect(gateways.map((g) => g.inputs.routeTableIds ?? [])).toEqual(gateways.map(() => []));
  expect(graph.outputs.routesToAdd).toEqual({
    managedByKit: false,
    routes: [
      { routeTableId: "rtb-0a1b2c3d4e5f60712", destination: "0.0.0.0/0", target: "NAT gateway egress-nat-0" },
      // The Transit Gateway route the kit may not add either: the owner adds it.
      {
        routeTableId: "rtb-0a1b2c3d4e5f60712",
        destination: "10.21.0.0/16",
        target: "transit gateway tgw-0c1d2e3f4a5b60731",
      },
    ],
  });
});

test("the checker finds the internet flow broken at the existing route table", async () => {
  const { report } = await runCheck(graph, { diagram: false });
  const internet = report.flows.filter((f) => /example\.cybozu\.com/.test(JSON.stringify(f)));
  expect(internet.length).toBeGreaterThan(0);
  expect(internet.every((f) => f.status === "BROKEN")).toBe(true);
  expect(JSON.stringify(internet)).toContain("existing-rtb-0a1b2c3d4e5f60712");
});
