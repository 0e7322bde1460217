import { GraphView, synthForTest } from "../support/graph";

// Split mode: dev-apps reads the network (and data) stacks' outputs through StackReferences.
const upstream: Record<string, Record<string, unknown>> = {
  "organization/vpc-lambda-kit/dev-network": {
    network: {
      vpcId: "vpc-0aaaaaaaaaaaaaaaa",
      vpcCidr: "10.0.0.0/16",
      publicSubnetIds: ["subnet-0public000000000"],
      privateSubnetIds: ["subnet-0private00000000"],
      privateSubnetCidrs: ["10.0.1.0/24"],
      privateRouteTableIds: ["rtb-0private00000000"],
      natGatewayIds: ["nat-0aaaaaaaaaaaaaaaa"],
      egressIps: ["198.51.100.7"],
      s3PrefixListId: "pl-61a54008",
      endpointSecurityGroupId: "sg-0endpoints000000000",
    },
  },
  "organization/vpc-lambda-kit/dev-data": {
    data: { vpcId: "vpc-0bbbbbbbbbbbbbbbb", vpcCidr: "10.1.0.0/16", subnetIds: ["subnet-0d1", "subnet-0d2"], routeTableId: "rtb-0d", dbSubnetGroupName: "data-db" },
  },
};
const asked: string[] = [];
let g: GraphView;

beforeAll(async () => {
  g = (await synthForTest("dev-apps", {}, (name) => {
    asked.push(name);
    const out = upstream[name];
    if (!out) throw new Error(`no such stack ${name}`);
    return out;
  })).view;
});

test("dev-apps reads its upstream stacks by StackReference, and creates no network of its own", () => {
  const refs = g.all("pulumi:pulumi:StackReference");
  expect(refs.map((r) => [r.name, r.inputs.name])).toEqual([
    ["data-upstream", "organization/vpc-lambda-kit/dev-data"],
    ["network-upstream", "organization/vpc-lambda-kit/dev-network"],
  ]);
  expect(asked.sort()).toEqual(Object.keys(upstream).sort());
  expect(g.all("aws:ec2/vpc:Vpc")).toEqual([]);
  expect(g.all("aws:ec2/natGateway:NatGateway")).toEqual([]);
});

test("the function lands in the upstream's private subnets and its security group in the upstream VPC", () => {
  const fn = g.one("aws:lambda/function:Function", "kintone-sync-fn");
  expect((fn.inputs.vpcConfig as { subnetIds: string[] }).subnetIds).toEqual(["subnet-0private00000000"]);
  expect(g.one("aws:ec2/securityGroup:SecurityGroup", "kintone-sync-sg").inputs.vpcId).toBe("vpc-0aaaaaaaaaaaaaaaa");
  expect((fn.inputs.environment as { variables: Record<string, string> }).variables.KINTONE_ALLOWLIST_HINT).toBe('stack output "egressIps" of stack dev-network');
});

test("the apps stack admits its functions to the upstream VPC's interface endpoints", () => {
  const rules = g.all("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule").filter((r) => r.inputs.securityGroupId === "sg-0endpoints000000000");
  expect(rules.map((r) => r.name).sort()).toEqual(["kintone-sync-to-endpoints", "saas-export-to-endpoints"]);
});

test("the apps stack re-exports the upstream egress IPs and only account A's provider exists", () => {
  expect(g.graph.outputs.egressIps).toEqual(["198.51.100.7"]);
  expect(g.all("pulumi:providers:aws").map((p) => p.name)).toEqual(["account-a"]);
});
