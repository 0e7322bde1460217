import { GraphView, synthForTest } from "../support/graph";
import { DEV_NETWORK_STACK, devNetworkExport, upstreamStacks } from "../support/upstream";

// Split mode, account B: dev-data reads the Transit Gateway from dev-network through a StackReference.
const SHARE = "arn:aws:ram:ap-northeast-1:111111111111:resource-share/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0";
const upstream = {
  [DEV_NETWORK_STACK]: {
    network: devNetworkExport({ transitGatewayId: "tgw-0123456789abcdef0", tgwShareArn: SHARE, tgwRouteTableId: "" }),
  },
};
const asked: string[] = [];
let g: GraphView;

beforeAll(async () => {
  g = (await synthForTest("dev-data", {}, upstreamStacks(upstream, asked))).view;
});

test("dev-data reads the network stack by StackReference, and only that stack", () => {
  expect(g.all("pulumi:pulumi:StackReference").map((r) => [r.name, r.inputs.name])).toEqual([
    ["network-upstream", "organization/vpc-lambda-kit/dev-network"],
  ]);
  expect(asked).toEqual(["organization/vpc-lambda-kit/dev-network"]);
  expect(g.all("aws:ec2transitgateway/transitGateway:TransitGateway")).toEqual([]);
});

test("it accepts dev-network's share and attaches its subnets to the transitGatewayId from the reference", () => {
  expect(g.one("aws:ram/resourceShareAccepter:ResourceShareAccepter", "data-transit-accepter").inputs).toEqual({
    shareArn: SHARE,
  });
  const attachment = g.one("aws:ec2transitgateway/vpcAttachment:VpcAttachment", "data-transit-attachment");
  expect(attachment.inputs.transitGatewayId).toBe("tgw-0123456789abcdef0");
  expect(attachment.inputs.vpcId).toBe(g.one("aws:ec2/vpc:Vpc", "data-vpc").id);
  expect(attachment.inputs.subnetIds).toEqual([
    g.one("aws:ec2/subnet:Subnet", "data-subnet-0").id,
    g.one("aws:ec2/subnet:Subnet", "data-subnet-1").id,
  ]);
});

test("the data route table sends the network stack's CIDR to that TGW, and the stack exports its attachment", () => {
  const table = g.routeTableOf(g.one("aws:ec2/subnet:Subnet", "data-subnet-0"));
  expect(g.routesOf(table).map((r) => r.inputs)).toEqual([
    { routeTableId: table.id, destinationCidrBlock: "10.0.0.0/16", transitGatewayId: "tgw-0123456789abcdef0" },
  ]);
  expect((g.graph.outputs.data as Record<string, unknown>).tgwAttachmentId).toBe(
    g.one("aws:ec2transitgateway/vpcAttachment:VpcAttachment", "data-transit-attachment").id,
  );
});

test("everything it creates is in account B, and no account A provider exists", () => {
  expect(g.all("pulumi:providers:aws").map((p) => p.name)).toEqual(["account-b"]);
  for (const r of g.graph.resources.filter((x) => x.type.startsWith("aws:")))
    expect([r.name, g.providerName(r)]).toEqual([r.name, "account-b"]);
});
