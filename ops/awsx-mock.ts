/**
 * `awsx.ec2.Vpc` offline. awsx's VPC is a component whose children are created by the awsx provider
 * plugin, which does not run under mocks: only the component itself is registered, and its outputs
 * are whatever the mocks answer. They are answered from an inventory (ops/inventory.ts) that
 * describes what awsx builds for those arguments, after checking the arguments agree with it (VPC
 * CIDR, DNS attributes, zones, each subnet spec's CIDRs), so a changed program cannot be proven
 * against a stale inventory. graph.json then records the inventory's resources (origin "awsx").
 */
import type { Inventory } from "./inventory";

export const AWSX_VPC_TYPE = "awsx:ec2:Vpc";

type Kind = "Public" | "Private" | "Isolated";

function fail(name: string, problem: string, fix: string): never {
  throw new Error(`${AWSX_VPC_TYPE} ${name}: ${problem}. Fix: ${fix}`);
}

/** The inventory VPC an awsx VPC's arguments describe (by CIDR, then by Name tag when several share it). */
function awsxInventoryVpc(name: string, inputs: Record<string, unknown>, inv: Inventory | undefined) {
  if (!inv)
    fail(
      name,
      "awsx builds its subnets, route tables and NAT gateways in its own provider, which does not run offline",
      "pass --inventory with what it builds (see examples/awsx-vpc/inventory.json)",
    );
  const cidr = String(inputs.cidrBlock ?? "10.0.0.0/16");
  const candidates = inv.vpcs.filter((v) => v.cidrBlock === cidr);
  const vpc = candidates.length > 1 ? candidates.find((v) => v.tags.Name === name) : candidates[0];
  if (!vpc)
    fail(
      name,
      `no VPC with cidrBlock ${cidr}${candidates.length > 1 ? ` tagged Name=${name}` : ""} in the inventory`,
      "describe the VPC awsx builds in the inventory (same cidrBlock)",
    );
  return vpc;
}

/** The component's outputs, as awsx.ec2.Vpc names them, from the inventory. */
export function awsxVpcState(name: string, inputs: Record<string, unknown>, inv: Inventory | undefined) {
  const vpc = awsxInventoryVpc(name, inputs, inv);
  const inventory = inv as Inventory;
  // awsx's defaults: DNS hostnames off, DNS support on (its VpcArgs documentation).
  const hostnames = inputs.enableDnsHostnames ?? false;
  const support = inputs.enableDnsSupport ?? true;
  if (hostnames !== vpc.enableDnsHostnames || support !== vpc.enableDnsSupport)
    fail(
      name,
      `enableDnsHostnames ${hostnames} / enableDnsSupport ${support}, the inventory's VPC ${vpc.id} has ${vpc.enableDnsHostnames} / ${vpc.enableDnsSupport}`,
      "make the inventory match the arguments",
    );
  const zones: string[] | undefined = Array.isArray(inputs.availabilityZoneNames)
    ? inputs.availabilityZoneNames
    : undefined;
  const tableOf = (subnetId: string) =>
    inventory.routeTables.find((t) => t.associations.some((a) => a.subnetId === subnetId));
  const kindOf = (subnetId: string): Kind => {
    const routes = tableOf(subnetId)?.routes ?? [];
    if (routes.some((r) => r.destinationCidrBlock === "0.0.0.0/0" && r.gatewayId?.startsWith("igw-"))) return "Public";
    if (routes.some((r) => r.destinationCidrBlock === "0.0.0.0/0" && r.natGatewayId)) return "Private";
    return "Isolated";
  };
  const subnets = inventory.subnets.filter((s) => s.vpcId === vpc.id);
  for (const s of subnets) {
    if (zones && !zones.includes(s.availabilityZone))
      fail(
        name,
        `the inventory's subnet ${s.id} is in ${s.availabilityZone}, not one of availabilityZoneNames ${zones.join(", ")}`,
        "make the inventory match the arguments",
      );
    if (!tableOf(s.id))
      fail(
        name,
        `the inventory's subnet ${s.id} has no route table`,
        "awsx gives every subnet its own route table: add it",
      );
  }
  const zoneIndex = (z: string) => (zones ? zones.indexOf(z) : z.charCodeAt(z.length - 1));
  const ordered = [...subnets].sort((a, b) => zoneIndex(a.availabilityZone) - zoneIndex(b.availabilityZone));
  const ofKind = (k: Kind) => ordered.filter((s) => kindOf(s.id) === k);
  const specs: { type?: string; cidrBlocks?: string[] }[] = Array.isArray(inputs.subnetSpecs) ? inputs.subnetSpecs : [];
  for (const spec of specs) {
    const k = String(spec.type) as Kind;
    const have = ofKind(k).map((s) => s.cidrBlock);
    if (spec.cidrBlocks && JSON.stringify(spec.cidrBlocks) !== JSON.stringify(have))
      fail(
        name,
        `the ${k} subnet spec's cidrBlocks [${spec.cidrBlocks.join(", ")}] differ from the inventory's ${k.toLowerCase()} subnets [${have.join(", ")}]`,
        "make the inventory match the arguments",
      );
  }
  if (zones)
    for (const k of ["Public", "Private", "Isolated"] as Kind[]) {
      const n = ofKind(k).length;
      if (n > 0 && n !== zones.length)
        fail(
          name,
          `${n} ${k.toLowerCase()} subnets in the inventory for ${zones.length} zones`,
          "awsx makes one subnet of each spec per zone: make the inventory match",
        );
    }
  const nats = inventory.natGateways.filter((n) => n.vpcId === vpc.id);
  const igw = inventory.internetGateways.find((g) => g.vpcId === vpc.id);
  return {
    vpcId: vpc.id,
    vpc: { id: vpc.id, cidrBlock: vpc.cidrBlock },
    publicSubnetIds: ofKind("Public").map((s) => s.id),
    privateSubnetIds: ofKind("Private").map((s) => s.id),
    isolatedSubnetIds: ofKind("Isolated").map((s) => s.id),
    subnets: ordered.map((s) => ({
      id: s.id,
      vpcId: s.vpcId,
      cidrBlock: s.cidrBlock,
      availabilityZone: s.availabilityZone,
    })),
    routeTables: inventory.routeTables.filter((t) => t.vpcId === vpc.id).map((t) => ({ id: t.id, vpcId: t.vpcId })),
    routeTableAssociations: ordered.map((s) => ({ subnetId: s.id, routeTableId: tableOf(s.id)!.id })),
    natGateways: nats.map((n) => ({
      id: n.id,
      subnetId: n.subnetId,
      allocationId: n.allocationId,
      publicIp: n.publicIp,
    })),
    eips: nats.map((n) => ({ id: n.allocationId, allocationId: n.allocationId, publicIp: n.publicIp })),
    internetGateway: igw ? { id: igw.id, vpcId: igw.vpcId } : undefined,
  };
}
