import type { Graph } from "../../ops/synth-core";
import { synthForTest } from "./graph";
import { inventoryVariant, networkWithoutNat, withoutPrivateDefaultRoute } from "./brownfield";

/**
 * The brownfield stack's graph and what the tests expect of it: the landing zone's workload VPC (10.20.0.0/16, one
 * shared private route table) and database VPC (10.21.0.0/16) joined by its Transit Gateway
 * (examples/inventory/brownfield.json).
 */
export const LZ_TGW = "tgw-0c1d2e3f4a5b60731";
export const WORKLOAD_RT = "rtb-0a1b2c3d4e5f60712";
export const DATA_RT = "rtb-0b1c2d3e4f5a60724";

/** The brownfield stack synthesized with `patch` applied to Pulumi.brownfield.yaml's config. */
export async function synthBrownfield(patch: Record<string, unknown> = {}): Promise<Graph> {
  return (await synthForTest("brownfield", patch)).result.graph;
}

/**
 * The brownfield stack over a landing zone with no NAT yet (the inventory's private default route removed), the
 * network adopted without a NAT and `manageRoutes` as given.
 */
export function synthBrownfieldWithoutNat(manageRoutes: boolean): Promise<Graph> {
  return synthBrownfield({
    "vpc-lambda-kit:inventory": inventoryVariant(withoutPrivateDefaultRoute),
    "vpc-lambda-kit:network": networkWithoutNat(manageRoutes),
  });
}

/** The resources of `type` the kit creates (not the adopted ones the lookups return). */
export function created(graph: Graph, type: string): Graph["resources"] {
  return graph.resources.filter((r) => r.type === type && !(r as { existing?: boolean }).existing);
}

/** The Transit Gateway route a table needs to the other VPC, as route inputs. */
export const TGW_ROUTE = {
  workloadToData: { routeTableId: WORKLOAD_RT, destinationCidrBlock: "10.21.0.0/16", transitGatewayId: LZ_TGW },
  dataToWorkload: { routeTableId: DATA_RT, destinationCidrBlock: "10.20.0.0/16", transitGatewayId: LZ_TGW },
};

/** The same route as the stack's routesToAdd / dataRoutesToAdd outputs report it. */
export function reportedTgwRoute(route: { routeTableId: string; destinationCidrBlock: string }) {
  return {
    routeTableId: route.routeTableId,
    destination: route.destinationCidrBlock,
    target: `transit gateway ${LZ_TGW}`,
  };
}

/**
 * routesToAdd of the workload VPC adopted without a NAT (networkWithoutNat): its shared table needs the default route
 * to the kit's NAT and the route to the data VPC; `managedByKit` says whether the kit adds them or the owner must.
 */
export function routesToAddWithoutNat(managedByKit: boolean) {
  return {
    managedByKit,
    routes: [
      { routeTableId: WORKLOAD_RT, destination: "0.0.0.0/0", target: "NAT gateway egress-nat-0" },
      reportedTgwRoute(TGW_ROUTE.workloadToData),
    ],
  };
}
