import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { REPO_ROOT } from "../../components/bundle";
import { GraphView, synthForTest } from "../support/graph";

// Split mode with segmentation: dev-network exports every TGW route table's id as JSON in
// tgwRouteTableId; dev-apps (account A) admits account B's attachment to the tables that name it.
const TABLES = { egress: "tgw-rtb-0123456789abcdef0", data: "tgw-rtb-0fedcba9876543210" };
const upstream: Record<string, Record<string, unknown>> = {
  "organization/vpc-lambda-kit/dev-network": {
    network: {
      vpcId: "vpc-0aaaaaaaaaaaaaaaa",
      vpcCidr: "10.0.0.0/16",
      privateSubnetIds: ["subnet-0private00000000"],
      egressIps: ["198.51.100.7"],
      tgwRouteTableId: JSON.stringify(TABLES),
    },
  },
  "organization/vpc-lambda-kit/dev-data": {
    data: { vpcId: "vpc-0bbbbbbbbbbbbbbbb", vpcCidr: "10.1.0.0/16", tgwAttachmentId: "tgw-attach-0fedcba9876543210" },
  },
};
let g: GraphView;

beforeAll(async () => {
  const keep = [
    "aws:region",
    "vpc-lambda-kit:environment",
    "vpc-lambda-kit:roles",
    "vpc-lambda-kit:upstream",
    "vpc-lambda-kit:network",
    "vpc-lambda-kit:accounts",
  ];
  const base = YAML.parse(fs.readFileSync(path.join(REPO_ROOT, "Pulumi.dev-apps.yaml"), "utf8")).config as Record<
    string,
    unknown
  >;
  const patch: Record<string, unknown> = Object.fromEntries(
    Object.keys(base)
      .filter((k) => !keep.includes(k))
      .map((k) => [k, undefined]),
  );
  patch["vpc-lambda-kit:transitGateway"] = {
    routeTables: [
      { name: "egress", associate: ["egress"], propagate: ["data"] },
      {
        name: "data",
        associate: ["data"],
        propagate: ["egress"],
        routes: [{ cidr: "10.8.0.0/16", attachment: "data" }],
      },
    ],
  };
  g = (
    await synthForTest("dev-apps", patch, (name) => {
      const out = upstream[name];
      if (!out) throw new Error(`no such stack ${name}`);
      return out;
    })
  ).view;
});

test("dev-apps associates, propagates and routes account B's attachment in the tables that name it, as account A", () => {
  const att = "tgw-attach-0fedcba9876543210";
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
