import { ConfigErrors } from "../../components/errors";
import { KitMocks } from "../../ops/mocks";
import { parseInventory } from "../../ops/inventory";
import { synthForTest } from "../support/graph";
import { configErrorsOf } from "../support/config-errors";
import { BROWNFIELD_DATA, inventoryVariant } from "../support/brownfield";
import { configMessagesAsync } from "../support/config-messages";
import * as fs from "fs";
import * as path from "path";
import { REPO_ROOT } from "../../components/bundle";

// Bad input for the adopted data VPC, the tag lookups and the existing Transit Gateway: each refused before
// anything is registered (synth throws from the inventory check, before the mocks record a resource),
// naming the key and the fix.

/** The messages synth of Pulumi.brownfield.yaml with `patch` (and an inventory `edit`) fails with. */
async function synthErrors(patch: Record<string, unknown>, edit?: (inv: any) => void): Promise<string[]> {
  const p = edit ? { ...patch, "vpc-lambda-kit:inventory": inventoryVariant(edit) } : patch;
  return configMessagesAsync(() => synthForTest("brownfield", p));
}
const data = (existingVpc: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  "vpc-lambda-kit:data": {
    ...BROWNFIELD_DATA,
    ...extra,
    existingVpc: { ...BROWNFIELD_DATA.existingVpc, ...existingVpc },
  },
});
const example = () => JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "examples/inventory/brownfield.json"), "utf8"));

describe("tag lookups", () => {
  test("two VPCs with the data VPC's tags: the lookup needs exactly one", async () => {
    const errs = await synthErrors({}, (inv) => {
      inv.vpcs.push({ id: "vpc-0b1c2d3e4f5a60799", cidrBlock: "10.99.0.0/16", tags: { Name: "lz-data" } });
    });
    expect(errs).toEqual([
      expect.stringMatching(
        /^vpc-lambda-kit:data\.existingVpc\.tags: 2 VPCs have the tags \{"Name":"lz-data"\} \(vpc-0b1c2d3e4f5a60728, vpc-0b1c2d3e4f5a60799\).*Fix: add a tag that tells them apart, or give vpcId/,
      ),
    ]);
  });

  test("no VPC with the tags", async () => {
    expect(await synthErrors(data({ tags: { Name: "nope" } }))).toEqual([
      expect.stringMatching(/^vpc-lambda-kit:data\.existingVpc\.tags: no VPC in the inventory has the tags/),
    ]);
  });

  test("a third tagged subnet the stated CIDRs do not name", async () => {
    const errs = await synthErrors({}, (inv) => {
      inv.subnets.push({
        id: "subnet-0b1c2d3e4f5a60723",
        vpcId: "vpc-0b1c2d3e4f5a60728",
        cidrBlock: "10.21.12.0/24",
        availabilityZone: "ap-northeast-1d",
        tags: { tier: "database" },
      });
    });
    expect(errs).toEqual([
      expect.stringMatching(
        /^vpc-lambda-kit:data\.existingVpc\.privateSubnetTags: 3 subnets of vpc-0b1c2d3e4f5a60728 have the tags .* but 2 CIDRs are stated/,
      ),
    ]);
  });

  test("the mocks refuse a VPC lookup by tags that matches several, like the provider", () => {
    const inv = example();
    inv.vpcs[1].tags = { Name: "lz-workload" };
    const mocks = new KitMocks({
      region: "ap-northeast-1",
      defaultAccountId: "111111111111",
      inventory: parseInventory(inv),
    });
    expect(() =>
      mocks.call({ token: "aws:ec2/getVpc:getVpc", inputs: { tags: { Name: "lz-workload" } } } as never),
    ).toThrow(/getVpc: 2 match VPC \{"Name":"lz-workload"\}; a lookup must match exactly one/);
  });

  test("the mocks answer getSubnets by VPC and tags, and getSubnet by VPC, CIDR and tags", () => {
    const mocks = new KitMocks({
      region: "ap-northeast-1",
      defaultAccountId: "111111111111",
      inventory: parseInventory(example()),
    });
    const ids = mocks.call({
      token: "aws:ec2/getSubnets:getSubnets",
      inputs: { filters: [{ name: "vpc-id", values: ["vpc-0b1c2d3e4f5a60728"] }], tags: { tier: "database" } },
    } as never) as { ids: string[] };
    expect(ids.ids).toEqual(["subnet-0b1c2d3e4f5a60721", "subnet-0b1c2d3e4f5a60722"]);
    const s = mocks.call({
      token: "aws:ec2/getSubnet:getSubnet",
      inputs: { vpcId: "vpc-0b1c2d3e4f5a60728", cidrBlock: "10.21.11.0/24", tags: { tier: "database" } },
    } as never) as { id: string; availabilityZone: string };
    expect([s.id, s.availabilityZone]).toEqual(["subnet-0b1c2d3e4f5a60722", "ap-northeast-1c"]);
  });
});

describe("data.existingVpc against the inventory", () => {
  test("a subnet of another VPC, and a route table not associated with the subnets", async () => {
    const errs = await synthErrors(
      data({
        tags: undefined,
        privateSubnetTags: undefined,
        vpcId: "vpc-0b1c2d3e4f5a60728",
        privateSubnetIds: ["subnet-0a1b2c3d4e5f60702", "subnet-0b1c2d3e4f5a60722"],
        routeTableIds: ["rtb-0b1c2d3e4f5a60725"],
      }),
    );
    expect(errs).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^vpc-lambda-kit:data\.existingVpc\.privateSubnetIds\[0\]: subnet subnet-0a1b2c3d4e5f60702 is in vpc-0a1b2c3d4e5f60718, not in vpc-0b1c2d3e4f5a60728/,
        ),
        expect.stringMatching(
          /^vpc-lambda-kit:data\.existingVpc\.routeTableIds\[0\]: route table rtb-0b1c2d3e4f5a60725 is not associated with private subnet subnet-0b1c2d3e4f5a60722.*Fix: name the table subnet-0b1c2d3e4f5a60722 is associated with \(rtb-0b1c2d3e4f5a60724\)/,
        ),
      ]),
    );
  });

  test("stated ranges that disagree with the VPC name data.cidrBlock and data.subnetCidrs", async () => {
    const errs = await synthErrors({}, (inv) => {
      inv.subnets.find((s: any) => s.id === "subnet-0b1c2d3e4f5a60722").cidrBlock = "10.21.12.0/24";
    });
    expect(errs).toEqual([
      expect.stringMatching(
        /^vpc-lambda-kit:data\.existingVpc\.privateSubnetTags: no subnet of vpc-0b1c2d3e4f5a60728 with these tags is 10\.21\.11\.0\/24/,
      ),
    ]);
    const ids = await synthErrors(
      data(
        {
          tags: undefined,
          privateSubnetTags: undefined,
          vpcId: "vpc-0b1c2d3e4f5a60728",
          privateSubnetIds: ["subnet-0b1c2d3e4f5a60721", "subnet-0b1c2d3e4f5a60722"],
        },
        { cidrBlock: "10.22.0.0/16", subnetCidrs: ["10.22.10.0/24", "10.22.11.0/24"] },
      ),
    );
    expect(ids).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^vpc-lambda-kit:data\.cidrBlock: states 10\.22\.0\.0\/16 but VPC vpc-0b1c2d3e4f5a60728 has 10\.21\.0\.0\/16/,
        ),
        expect.stringMatching(
          /^vpc-lambda-kit:data\.subnetCidrs\[0\]: states 10\.22\.10\.0\/24 but subnet subnet-0b1c2d3e4f5a60721 is 10\.21\.10\.0\/24/,
        ),
      ]),
    );
  });

  test("the data role cannot adopt the network role's VPC", async () => {
    const errs = await synthErrors(
      data(
        {
          tags: { Name: "lz-workload" },
          privateSubnetTags: undefined,
          privateSubnetIds: ["subnet-0a1b2c3d4e5f60702", "subnet-0a1b2c3d4e5f60703"],
          routeTableIds: ["rtb-0a1b2c3d4e5f60712"],
          manageRoutes: false,
        },
        { cidrBlock: "10.20.0.0/16", subnetCidrs: ["10.20.10.0/24", "10.20.11.0/24"] },
      ),
    );
    expect(errs).toEqual([
      expect.stringMatching(
        /^vpc-lambda-kit:data\.existingVpc: adopts vpc-0a1b2c3d4e5f60718, the VPC network\.existingVpc adopts too/,
      ),
    ]);
  });

  test("manageRoutes would add a Transit Gateway route the table already has", async () => {
    const errs = await synthErrors({}, (inv) => {
      inv.routeTables
        .find((t: any) => t.id === "rtb-0b1c2d3e4f5a60724")
        .routes.push({ destinationCidrBlock: "10.20.0.0/16", transitGatewayId: "tgw-0c1d2e3f4a5b60731" });
    });
    expect(errs).toEqual([
      expect.stringMatching(
        /^vpc-lambda-kit:data\.existingVpc\.manageRoutes: the kit would add 10\.20\.0\.0\/16 → Transit Gateway to rtb-0b1c2d3e4f5a60724, which already routes 10\.20\.0\.0\/16 to tgw-0c1d2e3f4a5b60731/,
      ),
    ]);
  });
});

describe("existing Transit Gateway", () => {
  test("an unknown TGW id, a route table of another TGW and an attachment of the wrong VPC", async () => {
    expect(
      await synthErrors({
        "vpc-lambda-kit:transitGateway": { acceptShare: false, existing: { id: "tgw-0c1d2e3f4a5b60799" } },
      }),
    ).toEqual([
      expect.stringMatching(
        /^vpc-lambda-kit:transitGateway\.existing\.id: transit gateway tgw-0c1d2e3f4a5b60799 is not in the inventory/,
      ),
    ]);
    const errs = await synthErrors(
      {
        "vpc-lambda-kit:transitGateway": {
          acceptShare: false,
          existing: { id: "tgw-0c1d2e3f4a5b60731", routeTableIds: { data: "tgw-rtb-0c1d2e3f4a5b60742" } },
          existingAttachments: { egress: "tgw-attach-0c1d2e3f4a5b60743" },
        },
      },
      (inv) => {
        inv.transitGateways.push({ id: "tgw-0c1d2e3f4a5b60741" });
        inv.transitGatewayRouteTables.push({
          id: "tgw-rtb-0c1d2e3f4a5b60742",
          transitGatewayId: "tgw-0c1d2e3f4a5b60741",
        });
        inv.transitGatewayAttachments.push({
          id: "tgw-attach-0c1d2e3f4a5b60743",
          transitGatewayId: "tgw-0c1d2e3f4a5b60731",
          vpcId: "vpc-0b1c2d3e4f5a60728",
          subnetIds: ["subnet-0b1c2d3e4f5a60721"],
        });
      },
    );
    expect(errs).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^vpc-lambda-kit:transitGateway\.existing\.routeTableIds\.data: route table tgw-rtb-0c1d2e3f4a5b60742 belongs to tgw-0c1d2e3f4a5b60741, not to tgw-0c1d2e3f4a5b60731/,
        ),
        expect.stringMatching(
          /^vpc-lambda-kit:transitGateway\.existingAttachments\.egress: attachment tgw-attach-0c1d2e3f4a5b60743 attaches vpc-0b1c2d3e4f5a60728, but the egress VPC is vpc-0a1b2c3d4e5f60718/,
        ),
      ]),
    );
  });

  test("an inventory contradicting itself: a table of another TGW's attachment, a double association, a foreign subnet", () => {
    const inv = example();
    inv.transitGateways.push({ id: "tgw-0c1d2e3f4a5b60741" });
    inv.transitGatewayAttachments.push({
      id: "tgw-attach-0c1d2e3f4a5b60743",
      transitGatewayId: "tgw-0c1d2e3f4a5b60741",
      vpcId: "vpc-0b1c2d3e4f5a60728",
      subnetIds: ["subnet-0a1b2c3d4e5f60702"],
    });
    inv.transitGatewayRouteTables.push({
      id: "tgw-rtb-0c1d2e3f4a5b60744",
      transitGatewayId: "tgw-0c1d2e3f4a5b60731",
      associations: ["tgw-attach-0c1d2e3f4a5b60733", "tgw-attach-0c1d2e3f4a5b60743"],
      routes: [{ destinationCidrBlock: "10.30.0.0/16" }],
    });
    let msgs: string[] = [];
    try {
      parseInventory(inv, "inv.json");
    } catch (e) {
      msgs = (e as ConfigErrors).errors.map((x) => x.message);
    }
    expect(msgs).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^inv\.json: transitGatewayAttachments\.1\.subnetIds\.0: subnet subnet-0a1b2c3d4e5f60702 is in vpc-0a1b2c3d4e5f60718, not in the attached VPC/,
        ),
        expect.stringMatching(
          /^inv\.json: transitGatewayRouteTables\.1\.associations\.0: attachment tgw-attach-0c1d2e3f4a5b60733 is associated with tgw-rtb-0c1d2e3f4a5b60732 and tgw-rtb-0c1d2e3f4a5b60744/,
        ),
        expect.stringMatching(
          /^inv\.json: transitGatewayRouteTables\.1\.associations\.1: attachment tgw-attach-0c1d2e3f4a5b60743 belongs to tgw-0c1d2e3f4a5b60741, not to tgw-0c1d2e3f4a5b60731/,
        ),
        expect.stringMatching(
          /^inv\.json: transitGatewayRouteTables\.1\.routes\.0: a route names no attachment and is no blackhole/,
        ),
      ]),
    );
    expect(msgs).toHaveLength(4);
  });

  test("an attachment id of the wrong shape in the inventory names its path", () => {
    const inv = example();
    inv.transitGatewayAttachments[0].id = "tgw-attach-xyz";
    expect(() => parseInventory(inv, "inv.json")).toThrow(
      /inv\.json: transitGatewayAttachments\.0\.id: not a tgw-attach- id/,
    );
  });
});

describe("config shape", () => {
  const errorsWith = (existingVpc: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
    configErrorsOf(data(existingVpc, extra), "brownfield");

  test("the brownfield stack's data config is valid", () => {
    expect(errorsWith({})).toEqual([]);
  });

  test("both or neither of vpcId and tags, subnet ids and tags", () => {
    expect(errorsWith({ vpcId: "vpc-0b1c2d3e4f5a60728" })).toEqual([
      expect.stringMatching(/^vpc-lambda-kit:data\.existingVpc\.vpcId: give vpcId or tags, not both/),
    ]);
    expect(errorsWith({ tags: undefined, privateSubnetTags: undefined })).toEqual([
      expect.stringMatching(/^vpc-lambda-kit:data\.existingVpc\.vpcId: the adopted VPC needs vpcId \(ids\) or tags/),
      expect.stringMatching(
        /^vpc-lambda-kit:data\.existingVpc\.privateSubnetIds: the adopted VPC needs privateSubnetIds \(ids\) or privateSubnetTags/,
      ),
    ]);
  });

  test("ids of the wrong shape, and one subnet where a DB subnet group needs two zones", () => {
    expect(errorsWith({ tags: undefined, vpcId: "vpc-12" })).toEqual([
      expect.stringMatching(/^vpc-lambda-kit:data\.existingVpc\.vpcId: not a VPC id/),
    ]);
    expect(
      errorsWith(
        { privateSubnetTags: undefined, privateSubnetIds: ["subnet-0b1c2d3e4f5a60721"] },
        { subnetCidrs: ["10.21.10.0/24"] },
      ),
    ).toEqual([
      expect.stringMatching(
        /^vpc-lambda-kit:data\.existingVpc\.privateSubnetIds: 1 subnet\(s\).*two availability zones/,
      ),
    ]);
  });

  test("manageRoutes with the Transit Gateway needs the route tables named", () => {
    expect(
      errorsWith({
        routeTableIds: undefined,
        privateSubnetTags: undefined,
        privateSubnetIds: ["subnet-0b1c2d3e4f5a60721", "subnet-0b1c2d3e4f5a60722"],
      }),
    ).toEqual([
      expect.stringMatching(
        /^vpc-lambda-kit:data\.existingVpc\.routeTableIds: manageRoutes lets the kit add Transit Gateway routes/,
      ),
    ]);
  });
});
