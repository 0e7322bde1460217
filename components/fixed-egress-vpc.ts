import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { Cidr, subCidr } from "./cidr";
import { checkSubnets, checkVpcCidr, ownedVpc, VpcIpam } from "./vpc-parts";
import { ConfigError, throwIfAny } from "./errors";
import { createFlowLogs, flowLogsErrors, FlowLogsArgs, FlowLogsResult } from "./flow-logs";
import { PlannedComponent } from "./planned";

export type NatStrategy = "single" | "onePerAz";

export type { FlowLogsArgs } from "./flow-logs";

/**
 * Arguments of {@link FixedEgressVpc}. CIDRs, counts and the NAT strategy are plain values (not
 * Inputs) because they are validated before a single resource is registered.
 */
export interface FixedEgressVpcArgs {
  /** Take the VPC's range from this IPAM pool; cidrBlock is then the allocation the pool gives. Default none. */
  ipam?: VpcIpam;
  /** VPC CIDR. Default 10.0.0.0/16 (the usual recipe's). */
  cidrBlock?: string;
  /** Availability zones, one public and one private subnet each. Names or Outputs of names. */
  availabilityZones: pulumi.Input<string>[];
  /**
   * Public subnet CIDRs, one per AZ. Default: with one AZ the usual recipe's 10.0.10.0/24; otherwise
   * blocks of (VPC prefix + 8) at index 10, 11, … of the VPC.
   */
  publicSubnetCidrs?: string[];
  /** Private subnet CIDRs, one per AZ. Default: 10.0.1.0/24 with one AZ, else index 1, 2, … */
  privateSubnetCidrs?: string[];
  /**
   * "single": one NAT gateway for all AZs (cheaper; a zone outage cuts egress and cross-AZ traffic
   * is charged). "onePerAz": each private subnet routes to the NAT in its own AZ. Default "single".
   */
  natGateways?: NatStrategy;
  /**
   * Existing EIP allocation ids to give the NAT gateways, so the SaaS allowlist survives a rebuild
   * of the VPC. Must be one per NAT gateway. Default: new EIPs are allocated.
   */
  eipAllocationIds?: pulumi.Input<string>[];
  /** VPC flow logs. Default off. */
  flowLogs?: FlowLogsArgs;
  /** Tags for every taggable child. */
  tags?: Record<string, string>;
}

/** The validated, fully planned shape of a FixedEgressVpc. Pure: no resources. */
export interface FixedEgressVpcPlan {
  cidrBlock: string;
  azCount: number;
  publicSubnetCidrs: string[];
  privateSubnetCidrs: string[];
  natGateways: NatStrategy;
  natCount: number;
}

/**
 * Validates the arguments and derives the subnet plan. Every problem is reported at once, each
 * naming the argument (prefixed by `keyPrefix`, so config errors name the config key) and the fix.
 */
export function planFixedEgressVpc(
  args: Omit<FixedEgressVpcArgs, "availabilityZones"> & { azCount: number },
  keyPrefix = "",
): FixedEgressVpcPlan {
  const errors: ConfigError[] = [];
  const k = (s: string) => `${keyPrefix}${s}`;
  const cidrBlock = args.cidrBlock ?? "10.0.0.0/16";
  const natGateways = args.natGateways ?? "single";
  const azCount = args.azCount;

  if (!Number.isInteger(azCount) || azCount < 1 || azCount > 6) {
    errors.push(new ConfigError(k("availabilityZones"), `${azCount} availability zones requested`, "use 1 to 6 zones"));
  }
  if (natGateways !== "single" && natGateways !== "onePerAz") {
    errors.push(
      new ConfigError(k("natGateways"), `"${natGateways}" is not a NAT strategy`, `use "single" or "onePerAz"`),
    );
  }
  const vpc = checkVpcCidr(cidrBlock, k("cidrBlock"), "10.0.0.0/16", errors);
  throwIfAny(errors);
  const vpcCidr = vpc as Cidr;

  const oneAzDefault = azCount === 1 && cidrBlock === "10.0.0.0/16";
  const derive = (first: number, role: string): string[] => {
    if (oneAzDefault) return [first === 10 ? "10.0.10.0/24" : "10.0.1.0/24"];
    const newPrefix = Math.min(vpcCidr.prefix + 8, 28);
    const out: string[] = [];
    for (let i = 0; i < azCount; i++) {
      const c = subCidr(vpcCidr, newPrefix, first + i);
      if (!c) {
        errors.push(
          new ConfigError(
            k(`${role}SubnetCidrs`),
            `cannot derive ${azCount} ${role} subnets inside ${cidrBlock}`,
            `list ${role}SubnetCidrs explicitly, one per availability zone`,
          ),
        );
        return [];
      }
      out.push(c);
    }
    return out;
  };
  const publicSubnetCidrs = args.publicSubnetCidrs ?? derive(10, "public");
  const privateSubnetCidrs = args.privateSubnetCidrs ?? derive(1, "private");

  checkSubnets(
    vpcCidr,
    [
      { key: k("publicSubnetCidrs"), role: "public", cidrs: publicSubnetCidrs },
      { key: k("privateSubnetCidrs"), role: "private", cidrs: privateSubnetCidrs },
    ],
    azCount,
    errors,
  );

  const natCount = natGateways === "onePerAz" ? azCount : 1;
  if (args.eipAllocationIds && args.eipAllocationIds.length !== natCount) {
    errors.push(
      new ConfigError(
        k("eipAllocationIds"),
        `natGateways "${natGateways}" over ${azCount} availability zone(s) needs ${natCount} EIP allocation id(s), got ${args.eipAllocationIds.length}`,
        natGateways === "onePerAz"
          ? `give one allocation id per availability zone, or set natGateways to "single" and give one`
          : `give exactly one allocation id, or set natGateways to "onePerAz" to use one per zone`,
      ),
    );
  }
  errors.push(...flowLogsErrors(args.flowLogs, k("flowLogs"), "vpc"));
  throwIfAny(errors);
  return { cidrBlock, azCount, publicSubnetCidrs, privateSubnetCidrs, natGateways, natCount };
}

/**
 * A VPC whose private subnets reach the internet only through NAT gateways with Elastic IPs, so
 * every Lambda placed in them leaves from a small, fixed set of addresses that an IP-restricted SaaS
 * (kintone/cybozu.com and the like) can allowlist. docs/designs.md §1.
 */
export class FixedEgressVpc extends PlannedComponent<FixedEgressVpcPlan> {
  /** The VPC id. */
  public readonly vpcId: pulumi.Output<string>;
  /** The VPC CIDR (plain: known before deployment). */
  public readonly cidrBlock: string;
  /** Public subnets (NAT gateways live here); one per AZ. */
  public readonly publicSubnetIds: pulumi.Output<string>[];
  /** Private subnets: place functions here. One per AZ, same order as the AZs. */
  public readonly privateSubnetIds: pulumi.Output<string>[];
  /** Route tables of the private subnets, one per AZ: add TGW or endpoint routes here. */
  public readonly privateRouteTableIds: pulumi.Output<string>[];
  /** The public route table. */
  public readonly publicRouteTableId: pulumi.Output<string>;
  /** NAT gateway ids, one per NAT. */
  public readonly natGatewayIds: pulumi.Output<string>[];
  /** Public IPv4 addresses every private-subnet flow to the internet leaves from: allowlist these (as /32). */
  public readonly egressIps: pulumi.Output<string[]>;
  /** The VPC's DNS attributes (always both on here): what private-DNS endpoints check. */
  public readonly dns = { hostnames: true, support: true };
  /** The VPC's flow log, when `flowLogs.enabled`. */
  public flowLogs?: FlowLogsResult;

  constructor(name: string, args: FixedEgressVpcArgs, opts: pulumi.ComponentResourceOptions = {}) {
    // Validate before anything is registered: a bad plan must not leave half a VPC behind.
    const plan = planFixedEgressVpc({ ...args, azCount: args.availabilityZones.length });
    super("vpc-lambda-kit:network:FixedEgressVpc", name, plan, { plan }, opts);
    this.cidrBlock = plan.cidrBlock;
    const child = { parent: this };
    const own = ownedVpc(name, { ...args, cidrBlock: plan.cidrBlock }, this);
    const { vpcId, tags } = own;
    this.vpcId = vpcId;

    const igw = new aws.ec2.InternetGateway(`${name}-igw`, { vpcId: vpcId, tags: tags("igw") }, child);

    const publicRt = new aws.ec2.RouteTable(`${name}-public-rt`, { vpcId: vpcId, tags: tags("public-rt") }, child);
    new aws.ec2.Route(
      `${name}-public-default`,
      {
        routeTableId: publicRt.id,
        destinationCidrBlock: "0.0.0.0/0",
        gatewayId: igw.id,
      },
      { parent: publicRt },
    );
    this.publicRouteTableId = publicRt.id;

    const publicSubnets = own.subnets("public", plan.publicSubnetCidrs, () => publicRt.id);
    this.publicSubnetIds = publicSubnets.map((s) => s.id);

    const allocationIds: pulumi.Input<string>[] = [];
    const publicIps: pulumi.Output<string>[] = [];
    for (let i = 0; i < plan.natCount; i++) {
      const byo = args.eipAllocationIds?.[i];
      if (byo !== undefined) {
        allocationIds.push(byo);
        const existing = aws.ec2.getElasticIpOutput({ id: byo }, { parent: this });
        publicIps.push(existing.publicIp);
      } else {
        const eip = new aws.ec2.Eip(`${name}-nat-eip-${i}`, { domain: "vpc", tags: tags(`nat-eip-${i}`) }, child);
        allocationIds.push(eip.allocationId);
        publicIps.push(eip.publicIp);
      }
    }
    const nats = allocationIds.map(
      (allocationId, i) =>
        new aws.ec2.NatGateway(
          `${name}-nat-${i}`,
          {
            allocationId,
            subnetId: publicSubnets[i].id,
            connectivityType: "public",
            tags: tags(`nat-${i}`),
          },
          { parent: this, dependsOn: [igw] },
        ),
    );
    this.natGatewayIds = nats.map((n) => n.id);
    this.egressIps = pulumi.all(publicIps);

    const privateRts = plan.privateSubnetCidrs.map((_, i) => {
      const rt = new aws.ec2.RouteTable(
        `${name}-private-rt-${i}`,
        { vpcId: vpcId, tags: tags(`private-rt-${i}`) },
        child,
      );
      // Same-AZ NAT: a zone outage then only cuts that zone, and no cross-AZ data charge applies.
      const nat = nats[plan.natGateways === "onePerAz" ? i : 0];
      new aws.ec2.Route(
        `${name}-private-rt-${i}-default`,
        {
          routeTableId: rt.id,
          destinationCidrBlock: "0.0.0.0/0",
          natGatewayId: nat.id,
        },
        { parent: rt },
      );
      return rt;
    });
    this.privateRouteTableIds = privateRts.map((rt) => rt.id);
    this.privateSubnetIds = own.subnets("private", plan.privateSubnetCidrs, (i) => privateRts[i].id).map((s) => s.id);

    if (args.flowLogs?.enabled) this.flowLogs = createFlowLogs(name, { vpcId: own.vpc.id }, args.flowLogs, this, tags);

    this.registerOutputs({
      vpcId: this.vpcId,
      publicSubnetIds: this.publicSubnetIds,
      privateSubnetIds: this.privateSubnetIds,
      privateRouteTableIds: this.privateRouteTableIds,
      natGatewayIds: this.natGatewayIds,
      egressIps: this.egressIps,
    });
  }
}
