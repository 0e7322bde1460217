import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { checkSubnets, checkVpcCidr, dbSubnetGroupName, ownedVpc, VpcIpam } from "./vpc-parts";
import { ConfigError, throwIfAny } from "./errors";
import { PlannedComponent } from "./planned";

export interface PrivateVpcArgs {
  /** Take the VPC's range from this IPAM pool; cidrBlock is then the allocation the pool gives. Default none. */
  ipam?: VpcIpam;
  /** VPC CIDR. Default 10.1.0.0/16 (the usual recipe's database side). */
  cidrBlock?: string;
  /** One subnet per zone; at least two (an RDS DB subnet group spans two AZs). */
  availabilityZones: pulumi.Input<string>[];
  /** Subnet CIDRs, one per zone. Default the usual recipe's 10.1.128.0/28 and 10.1.128.16/28. */
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

export function planPrivateVpc(
  args: { cidrBlock?: string; subnetCidrs?: string[]; azCount: number },
  keyPrefix = "",
): PrivateVpcPlan {
  const errors: ConfigError[] = [];
  const k = (s: string) => `${keyPrefix}${s}`;
  const cidrBlock = args.cidrBlock ?? "10.1.0.0/16";
  const subnetCidrs = args.subnetCidrs ?? ["10.1.128.0/28", "10.1.128.16/28"];
  const vpc = checkVpcCidr(cidrBlock, k("cidrBlock"), "10.1.0.0/16", errors);
  if (args.azCount < 2)
    errors.push(
      new ConfigError(
        k("availabilityZones"),
        `${args.azCount} zone(s)`,
        "use at least 2: an RDS DB subnet group must span two availability zones",
      ),
    );
  if (vpc) checkSubnets(vpc, [{ key: k("subnetCidrs"), role: "database", cidrs: subnetCidrs }], args.azCount, errors);
  throwIfAny(errors);
  return { cidrBlock, subnetCidrs, azCount: args.azCount };
}

/**
 * A VPC with private subnets only: no internet gateway, no NAT, only the local route. The database
 * side of docs/designs.md §3; other networks reach it through a Transit Gateway (a later issue adds routes
 * to `routeTableId`).
 */
export class PrivateVpc extends PlannedComponent<PrivateVpcPlan> {
  public readonly vpcId: pulumi.Output<string>;
  public readonly cidrBlock: string;
  public readonly subnetIds: pulumi.Output<string>[];
  /** The subnets' shared route table: add Transit Gateway routes here. */
  public readonly routeTableId: pulumi.Output<string>;
  /** The same table, in the shape an adopted VPC gives (one per subnet or shared). */
  public readonly routeTableIds: pulumi.Output<string>[];
  /** The kit owns this VPC's route table, so it adds its routes. */
  public readonly manageRoutes = true;
  /** DB subnet group name, when created. */
  public readonly dbSubnetGroupName: pulumi.Output<string> | undefined;

  constructor(name: string, args: PrivateVpcArgs, opts: pulumi.ComponentResourceOptions = {}) {
    const plan = planPrivateVpc({ ...args, azCount: args.availabilityZones.length });
    super("vpc-lambda-kit:network:PrivateVpc", name, plan, { plan }, opts);
    this.cidrBlock = plan.cidrBlock;
    // The RDS endpoint name must resolve from across the Transit Gateway: DNS attributes on.
    const own = ownedVpc(name, { ...args, cidrBlock: plan.cidrBlock }, this);
    this.vpcId = own.vpcId;
    const rt = new aws.ec2.RouteTable(`${name}-rt`, { vpcId: own.vpcId, tags: own.tags("rt") }, { parent: this });
    this.routeTableId = rt.id;
    this.routeTableIds = [rt.id];
    this.subnetIds = own.subnets("subnet", plan.subnetCidrs, () => rt.id).map((s) => s.id);
    this.dbSubnetGroupName = dbSubnetGroupName(name, args, this.subnetIds, "database subnets, no internet route", this);
    this.registerOutputs({ vpcId: this.vpcId, subnetIds: this.subnetIds, routeTableId: this.routeTableId });
  }
}
