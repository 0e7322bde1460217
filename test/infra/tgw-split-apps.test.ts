import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { REPO_ROOT } from "../../components/bundle";
import { GraphView, synthForTest } from "../support/graph";

// Split mode with an explicit TGW route table: only the TGW's owner (account A) may associate and
// propagate attachments, so dev-apps (account A, deployed after dev-data) admits account B's attachment.
const upstream: Record<string, Record<string, unknown>> = {
  "organization/vpc-lambda-kit/dev-network": {
    network: {
      vpcId: "vpc-0aaaaaaaaaaaaaaaa",
      vpcCidr: "10.0.0.0/16",
      privateSubnetIds: ["subnet-0private00000000"],
      egressIps: ["198.51.100.7"],
      tgwRouteTableId: "tgw-rtb-0123456789abcdef0",
    },
  },
  "organization/vpc-lambda-kit/dev-data": {
    data: { vpcId: "vpc-0bbbbbbbbbbbbbbbb", vpcCidr: "10.1.0.0/16", tgwAttachmentId: "tgw-attach-0fedcba9876543210" },
  },
};
let g: GraphView;

beforeAll(async () => {
  // Only the wiring under test: every function and feature of dev-apps is switched off.
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
  patch["vpc-lambda-kit:transitGateway"] = { defaultRouteTableAssociation: false, defaultRouteTablePropagation: false };
  g = (
    await synthForTest("dev-apps", patch, (name) => {
      const out = upstream[name];
      if (!out) throw new Error(`no such stack ${name}`);
      return out;
    })
  ).view;
});

test("dev-apps associates account B's attachment with dev-network's TGW route table and propagates it there, as account A", () => {
  for (const [type, name] of [
    ["aws:ec2transitgateway/routeTableAssociation:RouteTableAssociation", "transit-data-association"],
    ["aws:ec2transitgateway/routeTablePropagation:RouteTablePropagation", "transit-data-propagation"],
  ]) {
    const r = g.one(type, name);
    expect(r.inputs).toEqual({
      transitGatewayRouteTableId: "tgw-rtb-0123456789abcdef0",
      transitGatewayAttachmentId: "tgw-attach-0fedcba9876543210",
    });
    expect(g.providerName(r)).toBe("account-a");
  }
  expect(g.all("aws:ec2transitgateway/transitGateway:TransitGateway")).toEqual([]);
  expect(g.all("aws:ec2transitgateway/vpcAttachment:VpcAttachment")).toEqual([]);
});
