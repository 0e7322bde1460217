import { GraphView } from "../support/graph";
import { DATA_ATTACHMENT, synthSplitApps } from "../support/split-apps";

// Split mode with segmentation: dev-network exports every TGW route table's id as JSON in
// tgwRouteTableId; dev-apps (account A) admits account B's attachment to the tables that name it.
const TABLES = { egress: "tgw-rtb-0123456789abcdef0", data: "tgw-rtb-0fedcba9876543210" };
let g: GraphView;

beforeAll(async () => {
  g = await synthSplitApps(JSON.stringify(TABLES), {
    routeTables: [
      { name: "egress", associate: ["egress"], propagate: ["data"] },
      {
        name: "data",
        associate: ["data"],
        propagate: ["egress"],
        routes: [{ cidr: "10.8.0.0/16", attachment: "data" }],
      },
    ],
  });
});

test("dev-apps associates, propagates and routes account B's attachment in the tables that name it, as account A", () => {
  const att = DATA_ATTACHMENT;
  const assoc = g.one(
    "aws:ec2transitgateway/routeTableAssociation:RouteTableAssociation",
    "transit-data-data-association",
  );
  expect(assoc.inputs).toEqual({ transitGatewayRouteTableId: TABLES.data, transitGatewayAttachmentId: att });
  const prop = g.one(
    "aws:ec2transitgateway/routeTablePropagation:RouteTablePropagation",
    "transit-egress-data-propagation",
  );
  expect(prop.inputs).toEqual({ transitGatewayRouteTableId: TABLES.egress, transitGatewayAttachmentId: att });
  const route = g.one("aws:ec2transitgateway/route:Route", "transit-data-to-10-8-0-0-16");
  expect(route.inputs).toEqual({
    transitGatewayRouteTableId: TABLES.data,
    transitGatewayAttachmentId: att,
    destinationCidrBlock: "10.8.0.0/16",
  });
  for (const r of [assoc, prop, route]) expect(g.providerName(r)).toBe("account-a");
  // Only the data attachment's memberships: the egress attachment's belong to dev-network.
  expect(g.all("aws:ec2transitgateway/routeTableAssociation:RouteTableAssociation")).toHaveLength(1);
  expect(g.all("aws:ec2transitgateway/routeTablePropagation:RouteTablePropagation")).toHaveLength(1);
});
