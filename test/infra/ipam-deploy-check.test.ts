import type * as aws from "@pulumi/aws";
import { FixedEgressVpc } from "../../components/fixed-egress-vpc";
import { poolLookupErrors } from "../../components/vpc-parts";
import { parseInventory } from "../../ops/inventory";
import { KitMocks, resolveOutputs } from "../../ops/mocks";

// At deploy there is no inventory check: the VPC component reads the pool through getVpcIpamPool and
// getVpcIpamPoolCidrs and refuses a pool that cannot give the planned range; the VPC takes its pool id from
// that check, so a refused pool registers no VPC. Here the mocks answer those lookups from an inventory the
// offline check never saw (as AWS would answer).
const GOOD = "ipam-pool-0123456789abcdef0";
const ELSEWHERE = "ipam-pool-0123456789abcdef1";
const pool = (id: string, locale: string) => ({
  id,
  addressFamily: "ipv4",
  allocationMinNetmaskLength: 16,
  allocationMaxNetmaskLength: 24,
  ipamScopeId: "ipam-scope-0123456789abcdef0",
  locale,
  ipamPoolCidrs: [{ cidr: "10.40.0.0/14" }],
});
const mocks = new KitMocks({
  region: "ap-northeast-1",
  defaultAccountId: "111111111111",
  inventory: parseInventory({ ipamPools: [pool(GOOD, "ap-northeast-1"), pool(ELSEWHERE, "eu-west-1")] }),
  ipamAllocations: { [GOOD]: [{ cidrBlock: "10.41.0.0/16", key: "vpc-lambda-kit:network.ipamAllocatedCidr" }] },
});
beforeAll(() => mocks.install("vpc-lambda-kit", "ipam-deploy"));

const build = (name: string, poolId: string, cidrBlock: string) =>
  new FixedEgressVpc(name, {
    ipam: { poolId, netmaskLength: 16, at: "vpc-lambda-kit:network" },
    cidrBlock,
    availabilityZones: ["ap-northeast-1a"],
  });

test("a pool that can give the planned range: the VPC asks it", async () => {
  const vpc = build("good", GOOD, "10.41.0.0/16");
  await resolveOutputs(vpc.vpcId);
  await mocks.settle();
  expect(mocks.resources.find((r) => r.name === "good-vpc")?.inputs).toMatchObject({
    ipv4IpamPoolId: GOOD,
    ipv4NetmaskLength: 16,
  });
});

test("a pool of another Region and a range outside it: the lookups' answers are refused, naming the keys", () => {
  const ipam = { poolId: ELSEWHERE, netmaskLength: 16, at: "vpc-lambda-kit:network" };
  const lookup = (id: string) =>
    [
      mocks.call({ token: "aws:ec2/getVpcIpamPool:getVpcIpamPool", inputs: { ipamPoolId: id } } as never),
      mocks.call({ token: "aws:ec2/getVpcIpamPoolCidrs:getVpcIpamPoolCidrs", inputs: { ipamPoolId: id } } as never),
    ] as [aws.ec2.GetVpcIpamPoolResult, aws.ec2.GetVpcIpamPoolCidrsResult];
  expect(poolLookupErrors(ipam, "10.50.0.0/16", ...lookup(ELSEWHERE)).map((e) => e.message)).toEqual([
    expect.stringMatching(
      /^vpc-lambda-kit:network\.ipv4IpamPoolId: IPAM pool \S+ has locale eu-west-1, but the stack's VPCs are in ap-northeast-1/,
    ),
    expect.stringMatching(
      /^vpc-lambda-kit:network\.ipamAllocatedCidr: 10\.50\.0\.0\/16 is not inside a CIDR provisioned/,
    ),
  ]);
  // The good pool passes with its planned range; asked for a /25 it names the netmask key.
  expect(poolLookupErrors({ ...ipam, poolId: GOOD }, "10.41.0.0/16", ...lookup(GOOD))).toEqual([]);
  expect(
    poolLookupErrors({ ...ipam, poolId: GOOD, netmaskLength: 25 }, "10.41.0.0/25", ...lookup(GOOD)).map(
      (e) => e.message,
    ),
  ).toEqual([expect.stringMatching(/^vpc-lambda-kit:network\.ipv4NetmaskLength: asks IPAM pool \S+ for a \/25/)]);
});
