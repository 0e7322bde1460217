import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { KitMocks, resolveOutputs } from "../../ops/mocks";
import { FixedEgressVpc, planFixedEgressVpc } from "../../components/fixed-egress-vpc";
import { VpcFunction } from "../../components/vpc-function";
import { ConfigError, ConfigErrors } from "../../components/errors";
import { GraphView } from "../support/graph";
import { httpsIngressFrom } from "../support/sg-rules";
import { awsServiceFlow, VpcEndpoints } from "../../components/vpc-endpoints";
import { kintoneSyncBundleOptions } from "../../functions/kintone-sync/bundle-options";

// Components used directly, several instances in one fake stack.
const mocks = new KitMocks({ region: "ap-northeast-1", defaultAccountId: "123456789012" });
beforeAll(() => mocks.install("vpc-lambda-kit", "components"));

function view(): GraphView {
  return new GraphView({ project: "p", stack: "s", resources: mocks.resources, outputs: {} });
}

test("two FixedEgressVpc instances in one stack never collide: unique URNs, names prefixed by the instance", async () => {
  const zones = ["ap-northeast-1a", "ap-northeast-1c"];
  const one = new FixedEgressVpc("one", { availabilityZones: zones, natGateways: "onePerAz" });
  const two = new FixedEgressVpc("two", { cidrBlock: "10.2.0.0/16", availabilityZones: zones });
  await resolveOutputs([one.egressIps, two.egressIps]);
  await mocks.settle();
  const urns = mocks.resources.map((r) => r.urn);
  expect(new Set(urns).size).toBe(urns.length);
  for (const inst of ["one", "two"]) {
    const mine = mocks.resources.filter((r) => view().ancestors(r).includes(inst));
    expect(mine.length).toBeGreaterThan(10);
    for (const r of mine) expect(r.name.startsWith(`${inst}-`)).toBe(true);
  }
  expect(view().one("aws:ec2/subnet:Subnet", "two-private-1").inputs.cidrBlock).toBe("10.2.2.0/24");
});

test("bring-your-own EIP allocations: no new EIPs, the NATs use them, egressIps are their addresses", async () => {
  const before = mocks.resources.length;
  const byo = new FixedEgressVpc("byo", {
    availabilityZones: ["ap-northeast-1a", "ap-northeast-1c"],
    natGateways: "onePerAz",
    eipAllocationIds: ["eipalloc-0123456789abcdef0", "eipalloc-0fedcba9876543210"],
  });
  const ips = (await resolveOutputs(byo.egressIps)) as string[];
  await mocks.settle();
  const mine = mocks.resources.slice(before);
  expect(mine.filter((r) => r.type === "aws:ec2/eip:Eip")).toEqual([]);
  const nats = mine.filter((r) => r.type === "aws:ec2/natGateway:NatGateway").map((n) => n.inputs.allocationId);
  expect(nats).toEqual(["eipalloc-0123456789abcdef0", "eipalloc-0fedcba9876543210"]);
  expect(ips).toHaveLength(2);
  for (const ip of ips) expect(ip).toMatch(/^203\.0\.113\.\d+$/);
});

test("an EIP count that does not match the NAT strategy fails before anything is registered, naming the key and the fix", () => {
  const before = mocks.resources.length;
  expect(
    () =>
      new FixedEgressVpc("bad", {
        availabilityZones: ["ap-northeast-1a", "ap-northeast-1c", "ap-northeast-1d"],
        natGateways: "onePerAz",
        eipAllocationIds: ["eipalloc-0123456789abcdef0"],
      }),
  ).toThrow(
    /eipAllocationIds: natGateways "onePerAz" over 3 availability zone\(s\) needs 3 EIP allocation id\(s\), got 1\. Fix: give one allocation id per availability zone/,
  );
  expect(() => planFixedEgressVpc({ azCount: 2, natGateways: "single", eipAllocationIds: ["a", "b"] })).toThrow(
    /needs 1 EIP allocation id\(s\), got 2/,
  );
  expect(mocks.resources.length).toBe(before);
});

test("subnet mistakes are all reported at once: outside the VPC, overlapping, invalid", () => {
  let err: unknown;
  try {
    planFixedEgressVpc({
      azCount: 2,
      cidrBlock: "10.0.0.0/16",
      publicSubnetCidrs: ["10.0.10.0/24", "10.9.0.0/24"],
      privateSubnetCidrs: ["10.0.10.128/25", "10.0.1.1/24"],
    });
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(ConfigErrors);
  const msgs = (err as ConfigErrors).errors.map((e) => e.message);
  expect(msgs).toEqual(
    expect.arrayContaining([
      expect.stringMatching(/^publicSubnetCidrs\[1\]: subnet 10\.9\.0\.0\/24 is outside the VPC 10\.0\.0\.0\/16/),
      expect.stringMatching(/^privateSubnetCidrs\[1\]: "10\.0\.1\.1\/24" has host bits set/),
      expect.stringMatching(/^privateSubnetCidrs\[0\]: subnet 10\.0\.10\.128\/25 overlaps publicSubnetCidrs\[0\]/),
    ]),
  );
  expect(() => planFixedEgressVpc({ azCount: 1, cidrBlock: "10.0.0.0/8" })).toThrow(ConfigError);
});

test("a VpcFunction's egress comes only from its flows; duplicate targets share one rule", async () => {
  const before = mocks.resources.length;
  const fn = new VpcFunction("probe", {
    source: "kintone-sync",
    bundle: kintoneSyncBundleOptions(),
    vpcId: "vpc-1",
    subnetIds: ["subnet-1"],
    flows: [
      { to: { kind: "cidr", cidr: "10.1.0.0/16", name: "db" }, port: 5432, purpose: "PostgreSQL over the TGW" },
      { to: { kind: "internet", host: "api.example.com", cidrs: ["198.51.100.0/24"] }, port: 443, purpose: "SaaS" },
      { to: { kind: "cidr", cidr: "10.1.0.0/16" }, port: 5432, purpose: "PostgreSQL again" },
    ],
  });
  await resolveOutputs(fn.securityGroupId);
  await mocks.settle();
  const rules = mocks.resources
    .slice(before)
    .filter((r) => r.type === "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule");
  expect(
    rules.map((r) => [
      r.inputs.ipProtocol,
      r.inputs.fromPort,
      r.inputs.toPort,
      r.inputs.cidrIpv4,
      r.inputs.description,
    ]),
  ).toEqual([
    ["tcp", 5432, 5432, "10.1.0.0/16", "PostgreSQL over the TGW; PostgreSQL again"],
    ["tcp", 443, 443, "198.51.100.0/24", "SaaS"],
  ]);
});

test("bad flows are refused before the function registers anything", () => {
  const before = mocks.resources.length;
  expect(
    () =>
      new VpcFunction("bad-fn", {
        source: "kintone-sync",
        bundle: kintoneSyncBundleOptions(),
        vpcId: "vpc-1",
        subnetIds: ["subnet-1"],
        flows: [{ to: { kind: "cidr", cidr: "10.1.0.0/33" }, port: 5432, purpose: "db" }],
      }),
  ).toThrow(/bad-fn\.flows\[0\]\.to\.cidr: "10\.1\.0\.0\/33" has a prefix length above 32/);
  expect(
    () =>
      new VpcFunction("bad-fn2", {
        source: "kintone-sync",
        vpcId: "vpc-1",
        subnetIds: ["subnet-1"],
        flows: [{ to: { kind: "internet", host: "x.example.com" }, port: 70000, purpose: "p" }],
      }),
  ).toThrow(/bad-fn2\.flows\[0\]\.port/);
  expect(
    () =>
      new VpcFunction("bad-fn3", { source: "no-such-function", vpcId: "vpc-1", subnetIds: ["subnet-1"], flows: [] }),
  ).toThrow(/function "no-such-function" has no entry file at functions\/no-such-function\/index\.ts/);
  expect(mocks.resources.length).toBe(before);
});

test("the mocks are strict: an invoke they do not know fails loudly", async () => {
  await expect(aws.ec2.getAmi({ owners: ["amazon"], mostRecent: true })).rejects.toThrow();
  expect(mocks.errors).toEqual([
    expect.stringMatching(/^unknown invoke aws:ec2\/getAmi:getAmi: the offline mocks answer only invokes they know/),
  ]);
});

test("ids are deterministic: the same name gives the same id", () => {
  const m1 = new KitMocks({ region: "ap-northeast-1", defaultAccountId: "1" });
  const m2 = new KitMocks({ region: "ap-northeast-1", defaultAccountId: "1" });
  const args = { type: "aws:ec2/vpc:Vpc", name: "x-vpc", inputs: { cidrBlock: "10.0.0.0/16" } };
  return Promise.all([m1.newResource(args), m2.newResource(args)]).then(([a, b]) => {
    expect(a.id).toBe(b.id);
    expect(a.id).toMatch(/^vpc-[0-9a-f]{17}$/);
    expect(pulumi.Output.isInstance(a.state)).toBe(false);
  });
});

describe("VpcEndpoints", () => {
  const base = {
    vpcId: "vpc-9",
    region: "ap-northeast-1",
    subnetIds: ["subnet-a", "subnet-b"],
    routeTableIds: ["rtb-a", "rtb-b"],
  };

  test("interface endpoints get private DNS, the chosen subnets and one SG that admits 443 only from allowed groups", async () => {
    const before = mocks.resources.length;
    const eps = new VpcEndpoints("eps", {
      ...base,
      vpcDns: { hostnames: true, support: true },
      interfaceServices: ["secretsmanager", "logs"],
    });
    eps.allowFrom("sg-connector", "appflow connector");
    await resolveOutputs(eps.securityGroupId);
    await mocks.settle();
    const mine = mocks.resources.slice(before);
    const sg = mine.find((r) => r.type === "aws:ec2/securityGroup:SecurityGroup")!;
    const endpoints = mine
      .filter((r) => r.type === "aws:ec2/vpcEndpoint:VpcEndpoint")
      .sort((a, b) => a.name.localeCompare(b.name));
    expect(
      endpoints.map((e) => [
        e.inputs.serviceName,
        e.inputs.vpcEndpointType,
        e.inputs.privateDnsEnabled,
        e.inputs.subnetIds,
        e.inputs.securityGroupIds,
      ]),
    ).toEqual([
      ["com.amazonaws.ap-northeast-1.logs", "Interface", true, ["subnet-a", "subnet-b"], [sg.id]],
      ["com.amazonaws.ap-northeast-1.s3", "Gateway", undefined, undefined, undefined],
      ["com.amazonaws.ap-northeast-1.secretsmanager", "Interface", true, ["subnet-a", "subnet-b"], [sg.id]],
    ]);
    expect(endpoints[1].inputs.routeTableIds).toEqual(["rtb-a", "rtb-b"]);
    const ingress = mine.filter((r) => r.type === "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule");
    expect(ingress.map((r) => r.inputs)).toEqual([httpsIngressFrom(sg.id, "sg-connector", "appflow connector")]);
    expect(mine.filter((r) => r.type === "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")).toEqual([]);
  });

  test.each([
    [
      { hostnames: false, support: true },
      /eps2\.vpcDns\.hostnames: private DNS for secretsmanager needs DNS hostnames on the VPC, and it is off\. Fix: turn on the VPC's DNS hostnames attribute \(enableDnsHostnames: true\)/,
    ],
    [
      { hostnames: true, support: false },
      /eps2\.vpcDns\.support: private DNS for secretsmanager needs DNS resolution on the VPC, and it is off\. Fix: turn on the VPC's DNS resolution attribute \(enableDnsSupport: true\)/,
    ],
  ])("private DNS on a VPC with %j is refused before anything is registered", (vpcDns, message) => {
    const before = mocks.resources.length;
    expect(() => new VpcEndpoints("eps2", { ...base, vpcDns, interfaceServices: ["secretsmanager"] })).toThrow(message);
    expect(mocks.resources.length).toBe(before);
  });

  test("a function's AWS-service flow goes through the endpoint that exists, else the NAT", () => {
    const eps = { securityGroupId: "sg-ep", interfaceServices: ["secretsmanager"], prefixListIds: { s3: "pl-1" } };
    expect(awsServiceFlow("secretsmanager", "token", eps).to).toEqual({
      kind: "awsService",
      service: "secretsmanager",
      endpointSecurityGroupId: "sg-ep",
    });
    expect(awsServiceFlow("s3", "export", eps).to).toEqual({ kind: "awsService", service: "s3", prefixListId: "pl-1" });
    expect(awsServiceFlow("logs", "x", eps).to).toEqual({ kind: "awsService", service: "logs" });
  });
});
