import { synthForTest, GraphView } from "../support/graph";
import { configErrorsOf } from "../support/config-errors";

// A kit-created VPC whose range comes from an IPAM pool: the VPC asks the pool for a netmask length, and the
// subnets are planned from the allocation config states (the mocks answer the VPC's CIDR with it).
const POOL = "ipam-pool-0123456789abcdef0";
const network = {
  ipv4IpamPoolId: POOL,
  ipv4NetmaskLength: 16,
  ipamAllocatedCidr: "10.40.0.0/16",
  availabilityZones: 2,
  natGateways: "single",
  interfaceEndpoints: ["secretsmanager", "execute-api"],
  gatewayEndpoints: ["s3", "dynamodb"],
};

describe("network VPC from an IPAM pool", () => {
  let view: GraphView;
  beforeAll(async () => {
    ({ view } = await synthForTest("dev-network", { "vpc-lambda-kit:network": network }));
  });

  test("the VPC asks the pool for a /16 and states no range of its own", () => {
    const vpc = view.one("aws:ec2/vpc:Vpc", "egress-vpc");
    expect([vpc.inputs.ipv4IpamPoolId, vpc.inputs.ipv4NetmaskLength, vpc.inputs.cidrBlock]).toEqual([
      POOL,
      16,
      undefined,
    ]);
    expect(view.model.vpcCidrs(vpc.id).map((c) => c.text)).toEqual(["10.40.0.0/16"]);
  });

  test("the subnets are planned inside the stated allocation", () => {
    const cidrs = view
      .all("aws:ec2/subnet:Subnet")
      .map((s) => String(s.inputs.cidrBlock))
      .sort();
    expect(cidrs.length).toBeGreaterThan(0);
    expect(cidrs.every((c) => c.startsWith("10.40."))).toBe(true);
  });
});

describe("IPAM config errors", () => {
  const errs = (net: Record<string, unknown>) => configErrorsOf({ "vpc-lambda-kit:network": net }, "dev-network");

  test("the pool with a literal cidrBlock too", () => {
    expect(errs({ ...network, cidrBlock: "10.40.0.0/16" })).toEqual([
      expect.stringMatching(/^vpc-lambda-kit:network\.cidrBlock: give cidrBlock or ipv4IpamPoolId, not both/),
    ]);
  });

  test("a pool without the netmask length or the allocation, and an allocation of another size", () => {
    expect(errs({ ...network, ipv4NetmaskLength: undefined, ipamAllocatedCidr: undefined })).toEqual([
      expect.stringMatching(
        /^vpc-lambda-kit:network\.ipv4NetmaskLength: a VPC from an IPAM pool needs the netmask length/,
      ),
      expect.stringMatching(
        /^vpc-lambda-kit:network\.ipamAllocatedCidr: the kit plans subnets and rules before IPAM allocates/,
      ),
    ]);
    expect(errs({ ...network, ipamAllocatedCidr: "10.40.0.0/20" })).toEqual([
      expect.stringMatching(
        /^vpc-lambda-kit:network\.ipamAllocatedCidr: is a \/20, but ipv4NetmaskLength asks the pool for a \/16/,
      ),
    ]);
  });

  test("a pool id of the wrong shape, and IPAM keys without a pool", () => {
    expect(errs({ ...network, ipv4IpamPoolId: "ipam-pool-123" })).toEqual([
      expect.stringMatching(/^vpc-lambda-kit:network\.ipv4IpamPoolId: not an IPAM pool id/),
    ]);
    expect(errs({ ...network, ipv4IpamPoolId: undefined, cidrBlock: "10.40.0.0/16" })).toEqual([
      expect.stringMatching(/^vpc-lambda-kit:network\.ipv4NetmaskLength: is only read with ipv4IpamPoolId/),
      expect.stringMatching(/^vpc-lambda-kit:network\.ipamAllocatedCidr: is only read with ipv4IpamPoolId/),
    ]);
  });

  test("the data VPC from a pool is checked the same way", () => {
    expect(
      configErrorsOf(
        { "vpc-lambda-kit:data": { ipv4IpamPoolId: POOL, ipv4NetmaskLength: 16, cidrBlock: "10.1.0.0/16" } },
        "dev-data",
      ),
    ).toEqual([
      expect.stringMatching(/^vpc-lambda-kit:data\.cidrBlock: give cidrBlock or ipv4IpamPoolId, not both/),
      expect.stringMatching(/^vpc-lambda-kit:data\.ipamAllocatedCidr: the kit plans subnets/),
    ]);
  });
});
