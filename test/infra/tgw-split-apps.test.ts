import { GraphView } from "../support/graph";
import { DATA_ATTACHMENT, synthSplitApps } from "../support/split-apps";

// Split mode with an explicit TGW route table: only the TGW's owner (account A) may associate and
// propagate attachments, so dev-apps (account A, deployed after dev-data) admits account B's attachment.
let g: GraphView;

beforeAll(async () => {
  g = await synthSplitApps("tgw-rtb-0123456789abcdef0", {
    defaultRouteTableAssociation: false,
    defaultRouteTablePropagation: false,
  });
});

test("dev-apps associates account B's attachment with dev-network's TGW route table and propagates it there, as account A", () => {
  for (const [type, name] of [
    ["aws:ec2transitgateway/routeTableAssociation:RouteTableAssociation", "transit-data-association"],
    ["aws:ec2transitgateway/routeTablePropagation:RouteTablePropagation", "transit-data-propagation"],
  ]) {
    const r = g.one(type, name);
    expect(r.inputs).toEqual({
      transitGatewayRouteTableId: "tgw-rtb-0123456789abcdef0",
      transitGatewayAttachmentId: DATA_ATTACHMENT,
    });
    expect(g.providerName(r)).toBe("account-a");
  }
  expect(g.all("aws:ec2transitgateway/transitGateway:TransitGateway")).toEqual([]);
  expect(g.all("aws:ec2transitgateway/vpcAttachment:VpcAttachment")).toEqual([]);
});
