import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { Cidr, cidrContains, cidrsOverlap, tryParseCidr } from "./cidr";
import { ConfigError, throwIfAny } from "./errors";

export interface PrivateVpcArgs {
  /** VPC CIDR. Default 10.1.0.0/16 (the write-up's database side). */
  cidrBlock?: string;
  /** One subnet per zone; at least two (an RDS DB subnet group spans two AZs). */
  availabilityZones: pulumi.Input<string>[];
  /** Subnet CIDRs, one per zone. Default the write-up's 10.1.128.0/28 and 10.1.128.16/28. */
  subnetCidrs?: string[];
  /** Create a DB subnet group over the subnets. Default true. */
  dbSubnetGroup?: boolean;
  /** Tags for every taggable child. */
  tags?: Record<string, string>;
}

export interface PrivateVpcPlan {
  cidrBlock: string;
  subnetCidrs: string[];
  azCount: number;
}

export function planPrivateVpc(args: { cidrBlock?: string; subnetCidrs?: string[]; azCount: number }, keyPrefix = ""): PrivateVpcPlan {
  const errors: ConfigError[] = [];
  const k = (s: string) => `${keyPrefix}${s}`;
  const cidrBlock = args.cidrBlock ?? "10.1.0.0/16";
  const subnetCidrs = args.subnetCidrs ?? ["10.1.128.0/28", "10.1.128.16/28"];
  const vpc = tryParseCidr(cidrBlock);
  if (typeof vpc === "string") {
    errors.push(new ConfigError(k("cidrBlock"), vpc, "give the VPC an IPv4 CIDR between /16 and /28, e.g. 10.1.0.0/16"));
    throwIfAny(errors);
  }
  const v = vpc as Cidr;
  if (v.prefix < 16 || v.prefix > 28) errors.push(new ConfigError(k("cidrBlock"), `"${cidrBlock}" is a /${v.prefix}; AWS accepts /16 to /28`, "choose a prefix length between 16 and 28"));
  if (args.azCount < 2) errors.push(new ConfigError(k("availabilityZones"), `${args.azCount} zone(s)`, "use at least 2: an RDS DB subnet group must span two availability zones"));
  if (subnetCidrs.length !== args.azCount) errors.push(new ConfigError(k("subnetCidrs"), `${subnetCidrs.length} CIDRs for ${args.azCount} availability zones`, "give exactly one subnet CIDR per availability zone"));
  const parsed: Cidr[] = [];
  subnetCidrs.forEach((text, i) => {
    const c = tryParseCidr(text);
    if (typeof c === "string") { errors.push(new ConfigError(k(`subnetCidrs[${i}]`), c, "use an IPv4 CIDR inside the VPC")); return; }
    if (!cidrContains(v, c)) errors.push(new ConfigError(k(`subnetCidrs[${i}]`), `subnet ${text} is outside the VPC ${cidrBlock}`, `choose a CIDR inside ${cidrBlock}`));
    else if (c.prefix > 28) errors.push(new ConfigError(k(`subnetCidrs[${i}]`), `subnet ${text} is smaller than /28, which AWS rejects`, "use a prefix length of 28 or less"));
    parsed.forEach((p, j) => {
      if (cidrsOverlap(p, c)) errors.push(new ConfigError(k(`subnetCidrs[${i}]`), `subnet ${text} overlaps subnetCidrs[${j}] (${p.text})`, "give every subnet its own, non-overlapping CIDR"));
    });
    parsed.push(c);
  });
  throwIfAny(errors);
  return { cidrBlock, subnetCidrs, azCount: args.azCount };
}

/**
 * A VPC with private subnets only: no internet gateway, no NAT, only the local route. The database
 * side of MISSION §3; other networks reach it through a Transit Gateway (a later issue adds routes
 * to `routeTableId`).
 */
export class PrivateVpc extends pulumi.ComponentResource {
  public readonly vpcId: pulumi.Output<string>;
  public readonly cidrBlock: string;
  public readonly subnetIds: pulumi.Output<string>[];
  /** The subnets' shared route table: add Transit Gateway routes here. */
  public readonly routeTableId: pulumi.Output<string>;
  /** DB subnet group name, when created. */
  public readonly dbSubnetGroupName: pulumi.Output<string> | undefined;
  public readonly plan: PrivateVpcPlan;

  constructor(name: string, args: PrivateVpcArgs, opts: pulumi.ComponentResourceOptions = {}) {
    const plan = planPrivateVpc({ ...args, azCount: args.availabilityZones.length });
    super("vpc-lambda-kit:network:PrivateVpc", name, { plan }, opts);
    this.plan = plan;
    this.cidrBlock = plan.cidrBlock;
    const tags = (role: string) => ({ ...(args.tags ?? {}), Name: `${name}-${role}` });
    const child = { parent: this };
    const vpc = new aws.ec2.Vpc(`${name}-vpc`, {
      cidrBlock: plan.cidrBlock,
      // The RDS endpoint name must resolve from across the Transit Gateway: both attributes on.
      enableDnsHostnames: true,
      enableDnsSupport: true,
      tags: tags("vpc"),
    }, child);
    this.vpcId = vpc.id;
    const rt = new aws.ec2.RouteTable(`${name}-rt`, { vpcId: vpc.id, tags: tags("rt") }, child);
    this.routeTableId = rt.id;
    const subnets = plan.subnetCidrs.map((cidr, i) => {
      const subnet = new aws.ec2.Subnet(`${name}-subnet-${i}`, {
        vpcId: vpc.id,
        cidrBlock: cidr,
        availabilityZone: args.availabilityZones[i],
        mapPublicIpOnLaunch: false,
        tags: tags(`subnet-${i}`),
      }, child);
      new aws.ec2.RouteTableAssociation(`${name}-subnet-${i}-rta`, { subnetId: subnet.id, routeTableId: rt.id }, { parent: subnet });
      return subnet;
    });
    this.subnetIds = subnets.map((s) => s.id);
    if (args.dbSubnetGroup ?? true) {
      const group = new aws.rds.SubnetGroup(`${name}-db-subnets`, {
        subnetIds: this.subnetIds,
        description: `${name}: database subnets, no internet route`,
        tags: tags("db-subnets"),
      }, child);
      this.dbSubnetGroupName = group.name;
    }
    this.registerOutputs({ vpcId: this.vpcId, subnetIds: this.subnetIds, routeTableId: this.routeTableId });
  }
}
