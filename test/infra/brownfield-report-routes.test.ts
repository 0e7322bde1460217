import { runCheck } from "../../ops/check/report";
import type { Graph } from "../../ops/synth-core";
import { routesToAddWithoutNat, synthBrownfieldWithoutNat, TGW_ROUTE } from "../support/brownfield-graph";

// manageRoutes off: the kit creates its NAT but changes no existing route table. It reports the route
// the owner must add, and the checker proves with what exists, so the internet flow is broken until then.
let graph: Graph;

beforeAll(async () => {
  graph = await synthBrownfieldWithoutNat(false);
});

test("adds no route and no gateway endpoint to the workload VPC's tables, and reports the routes needed", () => {
  // The only route is the data VPC's (its own manageRoutes is on); none goes into the workload VPC's table.
  expect(graph.resources.filter((r) => r.type === "aws:ec2/route:Route").map((r) => r.inputs)).toEqual([
    TGW_ROUTE.dataToWorkload,
  ]);
  // The gateway endpoints exist (their prefix lists and policies) but are associated with no existing table.
  const gateways = graph.resources.filter(
    (r) => r.type === "aws:ec2/vpcEndpoint:VpcEndpoint" && r.inputs.vpcEndpointType === "Gateway",
  );
  expect(gateways.map((g) => g.inputs.routeTableIds ?? [])).toEqual(gateways.map(() => []));
  // The NAT default route and the Transit Gateway route, which the kit may not add either: the owner adds them.
  expect(graph.outputs.routesToAdd).toEqual(routesToAddWithoutNat(false));
});

test("the checker finds the internet flow broken at the existing route table", async () => {
  const { report } = await runCheck(graph, { diagram: false });
  const internet = report.flows.filter((f) => /example\.cybozu\.com/.test(JSON.stringify(f)));
  expect(internet.length).toBeGreaterThan(0);
  expect(internet.every((f) => f.status === "BROKEN")).toBe(true);
  expect(JSON.stringify(internet)).toContain("existing-rtb-0a1b2c3d4e5f60712");
});
