import { GraphView } from "../support/graph";
import { synthDevWithTgw } from "../support/tgw";

/**
 * transitGateway.existing: a Transit Gateway shared from a network account. The dev stack creates no
 * TGW and no RAM share; it attaches the egress VPC, adopts the data VPC's attachment by id, routes
 * both VPCs through the existing TGW and associates the egress attachment with the given table.
 */
const TGW_ID = "tgw-0123456789abcdef0";
const RTB = "tgw-rtb-0123456789abcdef0";
const DATA_ATTACH = "tgw-attach-0fedcba9876543210";
let view: GraphView;
beforeAll(async () => {
  view = (
    await synthDevWithTgw({
      acceptShare: false,
      allowExternalPrincipals: false,
      existing: { id: TGW_ID, routeTableIds: { egress: RTB, data: RTB } },
      existingAttachments: { data: DATA_ATTACH },
    })
  ).view;
});

test("no Transit Gateway, no share, no accepter: only attachments and routes", () => {
  expect(view.all("aws:ec2transitgateway/transitGateway:TransitGateway")).toEqual([]);
  expect(view.all("aws:ram/resourceShare:ResourceShare")).toEqual([]);
  expect(view.all("aws:ram/resourceShareAccepter:ResourceShareAccepter")).toEqual([]);
  const atts = view.all("aws:ec2transitgateway/vpcAttachment:VpcAttachment");
  // The data attachment is adopted, so only the egress VPC's is created.
  expect(atts.map((a) => [a.name, a.inputs.transitGatewayId])).toEqual([["transit-attachment", TGW_ID]]);
});

test("both VPCs route to each other through the existing TGW", () => {
  const routes = view
    .all("aws:ec2/route:Route")
    .filter((r) => r.inputs.transitGatewayId === TGW_ID)
    .map((r) => [r.name, r.inputs.destinationCidrBlock]);
  expect(routes).toEqual(
    expect.arrayContaining([
      ["transit-rt0-to-data", "10.1.0.0/16"],
      ["transit-rt1-to-data", "10.1.0.0/16"],
      ["data-transit-rt0-to-egress", "10.0.0.0/16"],
    ]),
  );
});

test("each attachment is associated with and propagated to its given route table, the adopted one by id", () => {
  const egress = view.one("aws:ec2transitgateway/vpcAttachment:VpcAttachment", "transit-attachment");
  const assoc = view
    .all("aws:ec2transitgateway/routeTableAssociation:RouteTableAssociation")
    .map((a) => [a.name, a.inputs.transitGatewayRouteTableId, a.inputs.transitGatewayAttachmentId]);
  expect(assoc).toEqual(
    expect.arrayContaining([
      ["transit-egress-association", RTB, egress.id],
      ["transit-data-association", RTB, DATA_ATTACH],
    ]),
  );
  expect(assoc).toHaveLength(2);
  expect(view.all("aws:ec2transitgateway/routeTablePropagation:RouteTablePropagation")).toHaveLength(2);
});
