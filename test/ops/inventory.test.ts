import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { REPO_ROOT } from "../../components/bundle";
import { existingVpcErrors, parseInventory } from "../../ops/inventory";
import { KitMocks } from "../../ops/mocks";
import { inventoryVariant } from "../support/brownfield";
import { configMessages } from "../support/config-messages";

const example = () => JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "examples/inventory/brownfield.json"), "utf8"));

const problems = (raw: unknown): string[] => configMessages(() => parseInventory(raw, "inv.json"));

const REF = {
  vpcId: "vpc-0a1b2c3d4e5f60718",
  privateSubnetIds: ["subnet-0a1b2c3d4e5f60702", "subnet-0a1b2c3d4e5f60703"],
  routeTableIds: ["rtb-0a1b2c3d4e5f60712"],
  natGatewayIds: ["nat-0a1b2c3d4e5f60713"],
};
const KEY = "vpc-lambda-kit:network.existingVpc";

describe("inventory validation", () => {
  test("the example inventory is valid and agrees with Pulumi.brownfield.yaml's existingVpc", () => {
    const inv = parseInventory(example());
    expect(
      existingVpcErrors(inv, REF, KEY, {
        cidrBlock: "10.20.0.0/16",
        privateSubnetCidrs: ["10.20.10.0/24", "10.20.11.0/24"],
      }),
    ).toEqual([]);
  });

  test("an id of the wrong shape names its path", () => {
    const inv = example();
    inv.subnets[1].id = "subnet-XYZ";
    expect(problems(inv)).toEqual([expect.stringMatching(/^inv\.json: subnets\.1\.id: not a subnet- id/)]);
  });

  test("a subnet outside its VPC's CIDR, and one naming a VPC the inventory lacks", () => {
    const inv = example();
    inv.subnets[1].cidrBlock = "10.30.0.0/24";
    inv.subnets[2].vpcId = "vpc-0a1b2c3d4e5f60799";
    const p = problems(inv);
    expect(p).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /subnets\.1\.cidrBlock: subnet subnet-0a1b2c3d4e5f60702 \(10\.30\.0\.0\/24\) is outside its VPC/,
        ),
        expect.stringMatching(/subnets\.2\.vpcId: .*vpc-0a1b2c3d4e5f60799, which is not in the inventory/),
      ]),
    );
  });

  test("contradictions: a subnet with two route tables, a route to an unknown NAT, a duplicate id", () => {
    const inv = example();
    inv.routeTables[0].associations.push({ subnetId: "subnet-0a1b2c3d4e5f60702" });
    inv.routeTables[1].routes[0].natGatewayId = "nat-0a1b2c3d4e5f60799";
    inv.internetGateways.push({ ...inv.internetGateways[0] });
    const p = problems(inv);
    expect(p).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /associated with rtb-0a1b2c3d4e5f60711 and rtb-0a1b2c3d4e5f60712; a subnet has exactly one route table/,
        ),
        expect.stringMatching(/routes\.0\.natGatewayId: NAT gateway nat-0a1b2c3d4e5f60799 is not in the inventory/),
        expect.stringMatching(/internetGateways\.1: id igw-0a1b2c3d4e5f60719 is listed twice/),
      ]),
    );
  });

  test("existingVpc against the inventory: unknown subnet, subnet of another VPC, table not associated, CIDRs that disagree", () => {
    const raw = example();
    raw.vpcs.push({ id: "vpc-0a1b2c3d4e5f60720", cidrBlock: "10.40.0.0/16" });
    raw.subnets.push({
      id: "subnet-0a1b2c3d4e5f60721",
      vpcId: "vpc-0a1b2c3d4e5f60720",
      cidrBlock: "10.40.0.0/24",
      availabilityZone: "ap-northeast-1a",
    });
    const inv = parseInventory(raw);
    const errs = existingVpcErrors(
      inv,
      {
        ...REF,
        privateSubnetIds: ["subnet-0a1b2c3d4e5f60702", "subnet-0a1b2c3d4e5f60721", "subnet-0a1b2c3d4e5f60799"],
        routeTableIds: ["rtb-0a1b2c3d4e5f60711"],
      },
      KEY,
      { cidrBlock: "10.0.0.0/16", privateSubnetCidrs: ["10.20.99.0/24"] },
    ).map((e) => e.message);
    expect(errs).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^vpc-lambda-kit:network\.cidrBlock: states 10\.0\.0\.0\/16 but VPC vpc-0a1b2c3d4e5f60718 has 10\.20\.0\.0\/16\. Fix: set it to 10\.20\.0\.0\/16/,
        ),
        expect.stringMatching(
          /^vpc-lambda-kit:network\.privateSubnetCidrs\[0\]: states 10\.20\.99\.0\/24 but subnet subnet-0a1b2c3d4e5f60702 is 10\.20\.10\.0\/24/,
        ),
        expect.stringMatching(
          /^vpc-lambda-kit:network\.existingVpc\.privateSubnetIds\[1\]: subnet subnet-0a1b2c3d4e5f60721 is in vpc-0a1b2c3d4e5f60720, not in vpc-0a1b2c3d4e5f60718/,
        ),
        expect.stringMatching(
          /^vpc-lambda-kit:network\.existingVpc\.privateSubnetIds\[2\]: subnet subnet-0a1b2c3d4e5f60799 is not in the inventory/,
        ),
        expect.stringMatching(
          /^vpc-lambda-kit:network\.existingVpc\.routeTableIds\[0\]: route table rtb-0a1b2c3d4e5f60711 is not associated with private subnet subnet-0a1b2c3d4e5f60702\. Fix: name the table subnet-0a1b2c3d4e5f60702 is associated with \(rtb-0a1b2c3d4e5f60712\)/,
        ),
      ]),
    );
  });

  test("manageRoutes with a default route already in the table is refused, naming the NAT to adopt", () => {
    const inv = parseInventory(example());
    const errs = existingVpcErrors(inv, { ...REF, natGatewayIds: undefined, manageRoutes: true }, KEY, {}).map(
      (e) => e.message,
    );
    expect(errs).toEqual([
      expect.stringMatching(
        /^vpc-lambda-kit:network\.existingVpc\.manageRoutes: the kit would add 0\.0\.0\.0\/0 to rtb-0a1b2c3d4e5f60712, which already routes it to nat-0a1b2c3d4e5f60713\. Fix: name nat-0a1b2c3d4e5f60713 in natGatewayIds/,
      ),
    ]);
  });
});

describe("the offline mocks answer lookups from the inventory only", () => {
  const mocks = new KitMocks({
    region: "ap-northeast-1",
    defaultAccountId: "111111111111",
    inventory: parseInventory(example()),
  });
  const call = (token: string, inputs: Record<string, unknown>) => mocks.call({ token, inputs } as never);

  test("a subnet and a route table by subnet come back as the inventory gives them", () => {
    expect(call("aws:ec2/getSubnet:getSubnet", { id: "subnet-0a1b2c3d4e5f60703" })).toMatchObject({
      vpcId: "vpc-0a1b2c3d4e5f60718",
      cidrBlock: "10.20.11.0/24",
      availabilityZone: "ap-northeast-1c",
    });
    const rt = call("aws:ec2/getRouteTable:getRouteTable", { subnetId: "subnet-0a1b2c3d4e5f60703" });
    expect(rt.routeTableId).toBe("rtb-0a1b2c3d4e5f60712");
    expect(rt.routes).toEqual([
      expect.objectContaining({ cidrBlock: "0.0.0.0/0", natGatewayId: "nat-0a1b2c3d4e5f60713" }),
      expect.objectContaining({ cidrBlock: "10.0.0.0/8", transitGatewayId: "tgw-0c1d2e3f4a5b60731" }),
    ]);
    expect(call("aws:ec2/getNatGateway:getNatGateway", { id: "nat-0a1b2c3d4e5f60713" }).publicIp).toBe("198.51.100.20");
  });

  test("a lookup for something not in the inventory throws, saying what to add, and is recorded", () => {
    expect(() => call("aws:ec2/getSubnet:getSubnet", { id: "subnet-0a1b2c3d4e5f60799" })).toThrow(
      /getSubnet: subnet subnet-0a1b2c3d4e5f60799 is not in the inventory: add it there/,
    );
    expect(mocks.errors).toEqual([expect.stringContaining("subnet-0a1b2c3d4e5f60799")]);
  });

  test("without an inventory, an EC2 lookup is refused with how to give one", () => {
    const bare = new KitMocks({ region: "ap-northeast-1", defaultAccountId: "111111111111" });
    expect(() =>
      bare.call({ token: "aws:ec2/getVpc:getVpc", inputs: { id: "vpc-0a1b2c3d4e5f60718" } } as never),
    ).toThrow(/pass --inventory <file> or set vpc-lambda-kit:inventory/);
  });
});

describe("npm run synth -- brownfield --inventory <bad file>", () => {
  test("exits 2 naming the key and the fix, and writes no graph", () => {
    const bad = inventoryVariant((inv) => {
      inv.routeTables[1].associations = [{ subnetId: "subnet-0a1b2c3d4e5f60702" }];
    });
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "vlk-badinv-")), "brownfield");
    const r = spawnSync("npm", ["run", "--silent", "synth", "--", "brownfield", "--inventory", bad, "--out", out], {
      cwd: REPO_ROOT,
      encoding: "utf8",
      env: { ...process.env, AWS_ACCESS_KEY_ID: "", AWS_PROFILE: "" },
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(
      /vpc-lambda-kit:network\.existingVpc\.routeTableIds\[0\]: route table rtb-0a1b2c3d4e5f60712 is not associated with private subnet subnet-0a1b2c3d4e5f60703/,
    );
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(fs.existsSync(path.join(out, "graph.json"))).toBe(false);
  });
});
