import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { REPO_ROOT } from "../../components/bundle";
import { configMessagesAsync } from "./config-messages";
import { synthForTest } from "./graph";

/** The example inventory with `edit` applied, written to a fresh temp file; returns its path. */
export function inventoryVariant(edit: (inv: any) => void): string {
  const inv = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "examples/inventory/brownfield.json"), "utf8"));
  edit(inv);
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "vlk-inv-")), "inventory.json");
  fs.writeFileSync(file, JSON.stringify(inv));
  return file;
}

/** The example private route table without its default route (a landing zone with no NAT yet). */
export function withoutPrivateDefaultRoute(inv: any): void {
  const rt = inv.routeTables.find((t: any) => t.id === "rtb-0a1b2c3d4e5f60712");
  rt.routes = rt.routes.filter((r: any) => r.destinationCidrBlock !== "0.0.0.0/0");
}

/** The network config of Pulumi.brownfield.yaml. */
export const BROWNFIELD_NETWORK = {
  cidrBlock: "10.20.0.0/16",
  privateSubnetCidrs: ["10.20.10.0/24", "10.20.11.0/24"],
  interfaceEndpoints: ["secretsmanager"],
  gatewayEndpoints: ["s3", "dynamodb"],
  existingVpc: {
    vpcId: "vpc-0a1b2c3d4e5f60718",
    privateSubnetIds: ["subnet-0a1b2c3d4e5f60702", "subnet-0a1b2c3d4e5f60703"],
    natGatewayIds: ["nat-0a1b2c3d4e5f60713"],
  },
};

/** network config of Pulumi.brownfield.yaml with no NAT named, the public subnet given, and `manageRoutes`. */
export function networkWithoutNat(manageRoutes: boolean): Record<string, unknown> {
  const { vpcId, privateSubnetIds } = BROWNFIELD_NETWORK.existingVpc;
  return {
    ...BROWNFIELD_NETWORK,
    existingVpc: {
      vpcId,
      privateSubnetIds,
      publicSubnetIds: ["subnet-0a1b2c3d4e5f60701"],
      routeTableIds: ["rtb-0a1b2c3d4e5f60712"],
      manageRoutes,
    },
  };
}

/** data config of Pulumi.brownfield.yaml: the landing zone's database VPC found by tags. */
export const BROWNFIELD_DATA = {
  cidrBlock: "10.21.0.0/16",
  subnetCidrs: ["10.21.10.0/24", "10.21.11.0/24"],
  database: { allowedCidrs: ["10.20.10.0/24", "10.20.11.0/24"] },
  existingVpc: {
    tags: { Name: "lz-data" },
    privateSubnetTags: { tier: "database" },
    routeTableIds: ["rtb-0b1c2d3e4f5a60724"],
    manageRoutes: true,
  } as Record<string, unknown>,
};

/**
 * The messages synth of Pulumi.brownfield.yaml with `patch` (and an inventory `edit`) fails with: the inventory
 * checks, which run before the program ([] when synth passes them).
 */
export async function brownfieldSynthErrors(
  patch: Record<string, unknown>,
  edit?: (inv: any) => void,
): Promise<string[]> {
  const p = edit ? { ...patch, "vpc-lambda-kit:inventory": inventoryVariant(edit) } : patch;
  return configMessagesAsync(() => synthForTest("brownfield", p));
}
