import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { REPO_ROOT } from "../../components/bundle";
import { awsxSubnetProblems, checkAwsxVpcStated, fromAwsxVpc, fromKitVpc, vpcArgs } from "../../components/vpc-ref";
import { awsxVpcState } from "../../ops/awsx-mock";
import { parseInventory } from "../../ops/inventory";

// The adapter from an awsx.ec2.Vpc (or its outputs) to the kit's components, and the mocks' answer for
// the awsx component. Plain outputs stand in for the awsx VPC here: the adapter reads Outputs and plain
// values alike, which is what a real awsx VPC (resource outputs) and the mocks (plain records) give it.
pulumi.runtime.setMocks(
  {
    newResource: () => {
      throw new Error("no resource is registered in this test");
    },
    call: () => {
      throw new Error("no invoke is made in this test");
    },
  },
  "vpc-lambda-kit",
  "test",
);

const resolve = <T>(o: pulumi.Input<T>): Promise<T> =>
  (pulumi.output(o) as unknown as { promise(): Promise<T> }).promise();

const stated = {
  cidrBlock: "10.40.0.0/16",
  availabilityZones: ["ap-northeast-1a", "ap-northeast-1c"],
  privateSubnetCidrs: ["10.40.0.0/20", "10.40.16.0/20"],
  dns: { hostnames: true, support: true },
};
const outputs = {
  vpcId: "vpc-0b1c2d3e4f5a60801",
  privateSubnetIds: ["subnet-a", "subnet-c"],
  publicSubnetIds: ["subnet-pa", "subnet-pc"],
  subnets: [
    { id: "subnet-a", cidrBlock: "10.40.0.0/20", availabilityZone: "ap-northeast-1a" },
    { id: "subnet-c", cidrBlock: "10.40.16.0/20", availabilityZone: "ap-northeast-1c" },
  ],
  routeTableAssociations: [
    { subnetId: "subnet-a", routeTableId: "rtb-a" },
    { subnetId: "subnet-c", routeTableId: "rtb-c" },
  ],
  eips: [{ publicIp: "198.51.100.40" }],
};

test("stated values are checked before anything runs, each problem naming its key", () => {
  expect(() => checkAwsxVpcStated({ ...stated, cidrBlock: "10.40.0.0/8" })).toThrow(/awsxVpc\.cidrBlock/);
  expect(() => checkAwsxVpcStated({ ...stated, privateSubnetCidrs: ["10.40.0.0/20", "10.41.0.0/20"] })).toThrow(
    /awsxVpc\.privateSubnetCidrs\[1\]: subnet 10\.41\.0\.0\/20 is outside the VPC/,
  );
  expect(() => checkAwsxVpcStated({ ...stated, privateSubnetCidrs: ["10.40.0.0/20"] })).toThrow(
    /1 CIDRs for 2 availability zones/,
  );
  expect(() =>
    checkAwsxVpcStated({ ...stated, availabilityZones: ["ap-northeast-1a", "ap-northeast-1a"] }, "net"),
  ).toThrow(/net\.availabilityZones: ap-northeast-1a is listed twice/);
  expect(() => checkAwsxVpcStated(stated)).not.toThrow();
});

test("fromAwsxVpc gives per-zone subnets, their route tables and the NAT addresses", async () => {
  const ref = fromAwsxVpc(outputs, stated);
  expect(await Promise.all(ref.privateSubnetIds.map(resolve))).toEqual(["subnet-a", "subnet-c"]);
  expect(await Promise.all(ref.privateRouteTableIds.map(resolve))).toEqual(["rtb-a", "rtb-c"]);
  expect(await resolve(ref.egressIps!)).toEqual(["198.51.100.40"]);
  expect(ref.dns).toEqual({ hostnames: true, support: true });
  // awsx's own default: DNS hostnames off (interface endpoints' private DNS then refuses).
  expect(fromAwsxVpc(outputs, { ...stated, dns: undefined }).dns).toEqual({ hostnames: false, support: true });
  const ep = vpcArgs.endpoints(ref);
  expect(await resolve(ep.routeTableIds!)).toEqual(["rtb-a", "rtb-c"]);
  const tier = vpcArgs.proxyTier(ref, "private");
  expect(tier.lbSubnetCidrs).toEqual(stated.privateSubnetCidrs);
  expect(tier.availabilityZones).toEqual(stated.availabilityZones);
  expect(await resolve(tier.natEgressIps!)).toEqual(["198.51.100.40"]);
  expect(vpcArgs.tgwOwner(ref).cidrBlocks).toEqual(["10.40.0.0/16"]);
});

test("at deploy, awsx's subnets must be what was stated (the check each private subnet id waits for)", () => {
  const subnets = outputs.subnets.map((s) => ({ id: s.id, cidrBlock: s.cidrBlock, zone: s.availabilityZone }));
  expect(awsxSubnetProblems(outputs.privateSubnetIds, subnets, stated)).toEqual([]);
  const moved = [subnets[0], { ...subnets[1], cidrBlock: "10.40.32.0/20", zone: "ap-northeast-1d" }];
  expect(awsxSubnetProblems(outputs.privateSubnetIds, moved, stated).map((e) => e.message)).toEqual([
    expect.stringMatching(
      /^awsxVpc\.privateSubnetCidrs\[1\]: states 10\.40\.16\.0\/20 but awsx made subnet subnet-c 10\.40\.32\.0\/20/,
    ),
    expect.stringMatching(
      /^awsxVpc\.availabilityZones\[1\]: states ap-northeast-1c but awsx put subnet subnet-c in ap-northeast-1d/,
    ),
  ]);
  expect(awsxSubnetProblems(["subnet-a", "subnet-c", "subnet-d"], subnets, stated)[0].message).toMatch(
    /the awsx VPC has 3 private subnets, 2 zones are stated/,
  );
});

test("private proxy placement needs the VPC's NAT addresses; public placement a public subnet per zone", () => {
  const noNat = fromAwsxVpc({ ...outputs, eips: undefined }, stated);
  expect(() => vpcArgs.proxyTier(noNat, "private")).toThrow(/proxy\.natEgressIps/);
  // No public subnet CIDRs stated: no public subnet to place proxies in.
  expect(() => vpcArgs.proxyTier(noNat, "public")).toThrow(/proxy\.placement/);
  const withPublic = fromAwsxVpc(outputs, { ...stated, publicSubnetCidrs: ["10.40.128.0/24", "10.40.129.0/24"] });
  expect(vpcArgs.proxyTier(withPublic, "public").instanceSubnetIds).toHaveLength(2);
  expect(() => checkAwsxVpcStated({ ...stated, publicSubnetCidrs: ["10.40.0.0/24", "10.40.129.0/24"] })).toThrow(
    /awsxVpc\.publicSubnetCidrs\[0\]: subnet 10\.40\.0\.0\/24 overlaps awsxVpc\.privateSubnetCidrs\[0\]/,
  );
});

test("the mocks answer awsx:ec2:Vpc from the inventory only when the arguments agree with it", () => {
  const inv = parseInventory(
    JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "examples/awsx-vpc/inventory.json"), "utf8")),
  );
  const args = {
    cidrBlock: "10.40.0.0/16",
    availabilityZoneNames: ["ap-northeast-1a", "ap-northeast-1c"],
    enableDnsHostnames: true,
    subnetSpecs: [
      { type: "Private", cidrBlocks: ["10.40.0.0/20", "10.40.16.0/20"] },
      { type: "Public", cidrBlocks: ["10.40.128.0/24", "10.40.129.0/24"] },
    ],
  };
  const state = awsxVpcState("workload", args, inv);
  expect(state.privateSubnetIds).toEqual(["subnet-0b1c2d3e4f5a60811", "subnet-0b1c2d3e4f5a60812"]);
  expect(state.publicSubnetIds).toEqual(["subnet-0b1c2d3e4f5a60813", "subnet-0b1c2d3e4f5a60814"]);
  expect(state.eips.map((e) => e.publicIp)).toEqual(["198.51.100.40"]);
  expect(() =>
    awsxVpcState(
      "workload",
      { ...args, subnetSpecs: [{ type: "Private", cidrBlocks: ["10.40.0.0/20", "10.40.32.0/20"] }] },
      inv,
    ),
  ).toThrow(/Private subnet spec's cidrBlocks \[10\.40\.0\.0\/20, 10\.40\.32\.0\/20\] differ/);
  expect(() => awsxVpcState("workload", { ...args, enableDnsHostnames: undefined }, inv)).toThrow(
    /enableDnsHostnames false/,
  );
  expect(() => awsxVpcState("workload", { ...args, cidrBlock: "10.50.0.0/16" }, inv)).toThrow(
    /no VPC with cidrBlock 10\.50\.0\.0\/16/,
  );
  expect(() => awsxVpcState("workload", args, undefined)).toThrow(/pass --inventory/);
});

test("the kit's own VPC components give the same shape, so one set of helpers serves both", async () => {
  const kit = {
    vpcId: pulumi.output("vpc-kit"),
    cidrBlock: "10.0.0.0/16",
    privateSubnetIds: [pulumi.output("subnet-1"), pulumi.output("subnet-2")],
    publicSubnetIds: [pulumi.output("subnet-p1"), pulumi.output("subnet-p2")],
    // Adopted subnets may share one route table: the gateway endpoints list it once.
    privateRouteTableIds: [pulumi.output("rtb-shared"), pulumi.output("rtb-shared")],
    dns: { hostnames: true, support: true },
    egressIps: pulumi.output(["192.0.2.10"]),
    plan: { privateSubnetCidrs: ["10.0.1.0/24", "10.0.2.0/24"] },
  };
  const ref = fromKitVpc(kit, ["ap-northeast-1a", "ap-northeast-1c"]);
  expect(await resolve(vpcArgs.endpoints(ref).routeTableIds!)).toEqual(["rtb-shared"]);
  const tier = vpcArgs.proxyTier(ref, "public");
  expect(await Promise.all(tier.instanceSubnetIds.map(resolve))).toEqual(["subnet-p1", "subnet-p2"]);
  expect(tier.natEgressIps).toBeUndefined();
  expect(await Promise.all(vpcArgs.tgwPeer(ref).subnetIds.map(resolve))).toEqual(["subnet-1", "subnet-2"]);
});
