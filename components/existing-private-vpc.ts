import * as pulumi from "@pulumi/pulumi";
import { checkSubnets, dbSubnetGroupName } from "./vpc-parts";
import { ConfigError, throwIfAny } from "./errors";
import { adoptedRouteTableErrors, adoptedVpcBasics, AdoptedVpcRef, lookupAdoptedVpc } from "./existing-vpc";
import type { PrivateVpcPlan } from "./private-vpc";
import { PlannedComponent } from "./planned";

/** Arguments of {@link ExistingPrivateVpc}: the landing zone's VPC the database goes into. */
export interface ExistingPrivateVpcArgs extends AdoptedVpcRef {
  /** Create a DB subnet group over the adopted subnets. Default true. */
  dbSubnetGroup?: boolean;
  /** Tags for what the kit creates here. */
  tags?: Record<string, string>;
}

/**
 * Validates the adopted data VPC's plain arguments: its stated CIDRs, at least two subnets (an RDS DB
 * subnet group spans two zones, RDS User Guide "Working with a DB instance in a VPC"), and one route
 * table per subnet or one shared.
 */
export function planExistingPrivateVpc(
  args: Pick<AdoptedVpcRef, "cidrBlock" | "privateSubnetCidrs" | "privateSubnetIds" | "routeTableIds">,
  keyPrefix = "",
): PrivateVpcPlan {
  const errors: ConfigError[] = [];
  const k = (s: string) => `${keyPrefix}${s}`;
  const { vpc, azCount } = adoptedVpcBasics(args, k, errors);
  if (azCount < 2)
    errors.push(
      new ConfigError(
        k(args.privateSubnetIds ? "existingVpc.privateSubnetIds" : "subnetCidrs"),
        `${azCount} subnet(s)`,
        "adopt at least 2 subnets in different zones: an RDS DB subnet group must span two availability zones",
      ),
    );
  if (vpc)
    checkSubnets(vpc, [{ key: k("subnetCidrs"), role: "database", cidrs: args.privateSubnetCidrs }], azCount, errors);
  errors.push(...adoptedRouteTableErrors(args, azCount, k, "subnet"));
  throwIfAny(errors);
  return { cidrBlock: args.cidrBlock, subnetCidrs: args.privateSubnetCidrs, azCount };
}

/**
 * Adopts an existing VPC for account B's database. Reads the VPC, its subnets and their route tables
 * through the provider's lookups and creates only the DB subnet group; the features add the database,
 * its security groups, the Transit Gateway attachment and (with `manageRoutes`) routes. Exposes the
 * fields PrivateVpc does, so the data role's features consume it unchanged.
 */
export class ExistingPrivateVpc extends PlannedComponent<PrivateVpcPlan> {
  public readonly vpcId: pulumi.Output<string>;
  public readonly cidrBlock: string;
  public readonly subnetIds: pulumi.Output<string>[];
  /** The first subnet's route table (the data role's `routeTableId` output). */
  public readonly routeTableId: pulumi.Output<string>;
  /** Each subnet's route table, same order as subnetIds. */
  public readonly routeTableIds: pulumi.Output<string>[];
  public readonly availabilityZones: pulumi.Output<string>[];
  public readonly dbSubnetGroupName: pulumi.Output<string> | undefined;
  /** Whether the kit may change the existing route tables. */
  public readonly manageRoutes: boolean;

  constructor(name: string, args: ExistingPrivateVpcArgs, opts: pulumi.ComponentResourceOptions = {}) {
    const plan = planExistingPrivateVpc(args, "data.");
    super("vpc-lambda-kit:network:ExistingPrivateVpc", name, plan, { vpcId: args.vpcId ?? args.vpcTags }, opts);
    this.cidrBlock = plan.cidrBlock;
    this.manageRoutes = args.manageRoutes ?? false;
    const found = lookupAdoptedVpc(args, "data.existingVpc", this);
    this.vpcId = found.vpcId;
    this.subnetIds = found.subnetIds;
    this.routeTableIds = found.routeTableIds;
    this.routeTableId = found.routeTableIds[0];
    this.availabilityZones = found.availabilityZones;
    this.dbSubnetGroupName = dbSubnetGroupName(name, args, this.subnetIds, "database subnets of the adopted VPC", this);
    this.registerOutputs({ vpcId: this.vpcId, subnetIds: this.subnetIds, routeTableIds: this.routeTableIds });
  }
}
