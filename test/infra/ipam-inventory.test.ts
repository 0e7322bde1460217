import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { configErrorsIn } from "../../components/errors";
import { firstFreeBlock } from "../../components/ipam";
import { ipamRequestErrors, parseInventory } from "../../ops/inventory";
import { KitMocks } from "../../ops/mocks";
import { runCheck } from "../../ops/check/report";
import { synthForTest, SynthForTest } from "../support/graph";

// IPAM pools in the inventory: the pool is read through the lookups (answered from the inventory), checked
// against the stack before anything is registered, and without a stated allocation the range is predicted.
const POOL = "ipam-pool-0123456789abcdef0";
const SCOPE = "ipam-scope-0123456789abcdef0";

function pool(extra: Record<string, unknown> = {}) {
  return {
    id: POOL,
    addressFamily: "ipv4",
    allocationMinNetmaskLength: 16,
    allocationMaxNetmaskLength: 24,
    allocationDefaultNetmaskLength: 16,
    poolDepth: 2,
    ipamScopeId: SCOPE,
    sourceIpamPoolId: "ipam-pool-0fedcba9876543210",
    locale: "ap-northeast-1",
    ipamPoolCidrs: [{ cidr: "10.40.0.0/14", state: "provisioned" }],
    allocations: [{ cidr: "10.40.0.0/16", resourceId: "vpc-0a1b2c3d4e5f60799", resourceType: "vpc" }],
    ...extra,
  };
}

/** An inventory of just this pool (with `edit` applied), in a fresh temp file. */
function inventoryFile(edit: (p: ReturnType<typeof pool>) => void = () => {}): string {
  const p = pool();
  edit(p);
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "vlk-ipam-")), "inventory.json");
  fs.writeFileSync(file, JSON.stringify({ ipamPools: [p] }));
  return file;
}

const network = {
  ipv4IpamPoolId: POOL,
  ipv4NetmaskLength: 16,
  availabilityZones: 2,
  natGateways: "single",
  interfaceEndpoints: ["secretsmanager"],
  gatewayEndpoints: ["s3"],
};

/** The messages synth of dev-network with `net` and the inventory fails with ([] when it passes). */
async function synthErrors(net: Record<string, unknown>, inv = inventoryFile()): Promise<string[]> {
  try {
    await synthForTest("dev-network", { "vpc-lambda-kit:network": net, "vpc-lambda-kit:inventory": inv });
    return [];
  } catch (e) {
    const found = configErrorsIn(e);
    if (!found) throw e;
    return found.map((x) => x.message);
  }
}

/** The messages for a stated, free 10.41.0.0/16 when the inventory's pool is edited by `edit`. */
const poolErrors = (edit: (p: ReturnType<typeof pool>) => void) =>
  synthErrors({ ...network, ipamAllocatedCidr: "10.41.0.0/16" }, inventoryFile(edit));

describe("the pool checked against the inventory before anything is registered", () => {
  test("a pool the inventory does not list", async () => {
    expect(await poolErrors((p) => (p.id = "ipam-pool-0aaaaaaaaaaaaaaaa"))).toEqual([
      expect.stringMatching(
        /^vpc-lambda-kit:network\.ipv4IpamPoolId: IPAM pool ipam-pool-0123456789abcdef0 is not in the inventory\. Fix: correct the id, or add the pool/,
      ),
    ]);
  });

  test("a pool id of the wrong shape is named by the config check, inventory or not", async () => {
    expect(
      await synthErrors({ ...network, ipv4IpamPoolId: "ipam-pool-123", ipamAllocatedCidr: "10.41.0.0/16" }),
    ).toEqual([expect.stringMatching(/^vpc-lambda-kit:network\.ipv4IpamPoolId: not an IPAM pool id/)]);
  });

  test("a netmask length outside the pool's allocation bounds", async () => {
    expect(await synthErrors({ ...network, ipv4NetmaskLength: 26, ipamAllocatedCidr: "10.41.0.0/26" })).toEqual([
      expect.stringMatching(
        /^vpc-lambda-kit:network\.ipv4NetmaskLength: asks IPAM pool \S+ for a \/26, but the pool allocates \/16 to \/24\. Fix: ask for a netmask length from 16 to 24/,
      ),
    ]);
  });

  test("a pool of another Region, and an IPv6 pool", async () => {
    expect(await poolErrors((p) => (p.locale = "us-east-1"))).toEqual([
      expect.stringMatching(
        /^vpc-lambda-kit:network\.ipv4IpamPoolId: IPAM pool \S+ has locale us-east-1, but the stack's VPCs are in ap-northeast-1/,
      ),
    ]);
    expect(
      await poolErrors((p) => {
        p.addressFamily = "ipv6";
        p.ipamPoolCidrs = [{ cidr: "2001:db8::/48", state: "provisioned" }];
        p.allocations = [];
      }),
    ).toEqual([
      expect.stringMatching(/^vpc-lambda-kit:network\.ipv4IpamPoolId: IPAM pool \S+ is an ipv6 pool/),
      expect.stringMatching(
        /^vpc-lambda-kit:network\.ipamAllocatedCidr: 10\.41\.0\.0\/16 is not inside a CIDR provisioned/,
      ),
    ]);
  });

  test("a stated allocation outside the pool, of another size, or overlapping an existing allocation", async () => {
    expect(await synthErrors({ ...network, ipamAllocatedCidr: "10.50.0.0/16" })).toEqual([
      expect.stringMatching(
        /^vpc-lambda-kit:network\.ipamAllocatedCidr: 10\.50\.0\.0\/16 is not inside a CIDR provisioned to IPAM pool \S+ \(10\.40\.0\.0\/14\)/,
      ),
    ]);
    expect(await synthErrors({ ...network, ipamAllocatedCidr: "10.41.0.0/20" })).toEqual([
      expect.stringMatching(
        /^vpc-lambda-kit:network\.ipamAllocatedCidr: is a \/20, but ipv4NetmaskLength asks the pool for a \/16/,
      ),
    ]);
    expect(await synthErrors({ ...network, ipamAllocatedCidr: "10.40.0.0/16" })).toEqual([
      expect.stringMatching(
        /^vpc-lambda-kit:network\.ipamAllocatedCidr: 10\.40\.0\.0\/16 overlaps 10\.40\.0\.0\/16, which IPAM pool \S+ has already allocated\. Fix: state a free block \(the first free \/16 is 10\.41\.0\.0\/16\)/,
      ),
    ]);
  });

  test("a full pool has nothing to predict", async () => {
    const full = inventoryFile((p) => (p.ipamPoolCidrs = [{ cidr: "10.40.0.0/16", state: "provisioned" }]));
    expect(await synthErrors(network, full)).toEqual([
      expect.stringMatching(/^vpc-lambda-kit:network\.ipv4NetmaskLength: IPAM pool \S+ has no free \/16 left/),
    ]);
  });

  test("the inventory's own pool contradictions name the file path", () => {
    const bad = pool({ allocations: [{ cidr: "10.60.0.0/16" }, { cidr: "10.41.0.0/16" }, { cidr: "10.41.0.0/20" }] });
    expect(() => parseInventory({ ipamPools: [bad] }, "inv.json")).toThrow(
      /inv\.json: ipamPools\.0\.allocations\.0\.cidr: allocation 10\.60\.0\.0\/16 is outside the pool's provisioned CIDRs[\s\S]*inv\.json: ipamPools\.0\.allocations\.2\.cidr: allocation 10\.41\.0\.0\/20 overlaps allocation 10\.41\.0\.0\/16/,
    );
    expect(() => parseInventory({ ipamPools: [pool({ id: "ipam-pool-12" })] }, "inv.json")).toThrow(
      /inv\.json: ipamPools\.0\.id: not an IPAM pool id/,
    );
  });
});

describe("the first free block", () => {
  test("skips allocations, larger ones whole, in address order of the pool's CIDRs", () => {
    expect(firstFreeBlock(["10.40.0.0/14"], ["10.40.0.0/16"], 16)).toBe("10.41.0.0/16");
    expect(firstFreeBlock(["10.40.0.0/14"], ["10.40.0.0/15", "10.42.0.0/24"], 16)).toBe("10.43.0.0/16");
    expect(firstFreeBlock(["10.50.0.0/16", "10.40.0.0/16"], ["10.40.0.0/17"], 17)).toBe("10.40.128.0/17");
    expect(firstFreeBlock(["10.40.0.0/16"], ["10.40.0.0/16"], 20)).toBeUndefined();
  });
});

test("the data VPC's prediction comes after what the network VPC takes from the same pool", () => {
  const inv = parseInventory({ ipamPools: [pool()] });
  const ask = { at: "vpc-lambda-kit:data", region: "ap-northeast-1", poolId: POOL, netmaskLength: 16 };
  expect(ipamRequestErrors(inv, ask, ["10.41.0.0/16"])).toEqual({ cidr: "10.42.0.0/16", predicted: true, errors: [] });
  const stated = ipamRequestErrors(inv, { ...ask, allocatedCidr: "10.41.0.0/16" }, ["10.41.0.0/16"]);
  expect([stated.predicted, stated.errors.map((e) => e.key)]).toEqual([
    false,
    ["vpc-lambda-kit:data.ipamAllocatedCidr"],
  ]);
});

describe("the lookups answered from the inventory", () => {
  const mocks = new KitMocks({
    region: "ap-northeast-1",
    defaultAccountId: "111111111111",
    inventory: parseInventory({ ipamPools: [pool()] }),
  });
  const call = (token: string, inputs: Record<string, unknown>) => mocks.call({ token, inputs } as never);

  test("getVpcIpamPool and getVpcIpamPoolCidrs give the provider's field names", () => {
    // The inventory's pool fields are the provider's (GetVpcIpamPoolResult); CIDRs and allocations come apart.
    const { ipamPoolCidrs: _cidrs, allocations: _allocations, ...fields } = pool();
    expect(Object.keys(fields).sort()).toEqual([
      "addressFamily",
      "allocationDefaultNetmaskLength",
      "allocationMaxNetmaskLength",
      "allocationMinNetmaskLength",
      "id",
      "ipamScopeId",
      "locale",
      "poolDepth",
      "sourceIpamPoolId",
    ]);
    expect(call("aws:ec2/getVpcIpamPool:getVpcIpamPool", { ipamPoolId: POOL })).toMatchObject(fields);
    expect(call("aws:ec2/getVpcIpamPoolCidrs:getVpcIpamPoolCidrs", { ipamPoolId: POOL }).ipamPoolCidrs).toEqual([
      { cidr: "10.40.0.0/14", state: "provisioned" },
    ]);
  });

  test("a pool the inventory lacks is refused", () => {
    expect(() => call("aws:ec2/getVpcIpamPool:getVpcIpamPool", { ipamPoolId: "ipam-pool-0aaaaaaaaaaaaaaaa" })).toThrow(
      /IPAM pool ipam-pool-0aaaaaaaaaaaaaaaa is not in the inventory/,
    );
  });
});

describe("no ipamAllocatedCidr: the range predicted from the inventory's pool", () => {
  let synth: SynthForTest;
  beforeAll(async () => {
    synth = await synthForTest("dev-network", {
      "vpc-lambda-kit:network": network,
      "vpc-lambda-kit:inventory": inventoryFile(),
    });
  });

  test("the VPC asks the pool and the plan uses its first free /16, recorded as a prediction", () => {
    const vpc = synth.view.one("aws:ec2/vpc:Vpc", "egress-vpc");
    expect([vpc.inputs.ipv4IpamPoolId, vpc.inputs.ipv4NetmaskLength, vpc.inputs.cidrBlock]).toEqual([
      POOL,
      16,
      undefined,
    ]);
    expect(vpc.allocated).toEqual({
      cidrBlock: "10.41.0.0/16",
      predicted: true,
      key: "vpc-lambda-kit:network.ipamAllocatedCidr",
    });
    const subnets = synth.view.all("aws:ec2/subnet:Subnet").map((s) => String(s.inputs.cidrBlock));
    expect(subnets.length).toBeGreaterThan(0);
    expect(subnets.every((c) => c.startsWith("10.41."))).toBe(true);
  });

  test("the report says the range is a prediction and which key to state it in", async () => {
    const { report, text } = await runCheck(synth.result.graph, { diagram: false });
    expect(report.ipam).toEqual([
      {
        vpc: "egress-vpc",
        pool: POOL,
        cidrBlock: "10.41.0.0/16",
        predicted: { key: "vpc-lambda-kit:network.ipamAllocatedCidr" },
      },
    ]);
    expect(text).toMatch(
      /egress-vpc: 10\.41\.0\.0\/16 from IPAM pool \S+ is a prediction .*AWS picks the real range at deploy: state it in vpc-lambda-kit:network\.ipamAllocatedCidr/,
    );
  });
});
