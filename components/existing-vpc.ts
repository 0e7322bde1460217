import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { checkSubnets, checkVpcCidr } from "./vpc-parts";
import { ConfigError, throwIfAny } from "./errors";
import type { FixedEgressVpcPlan } from "./fixed-egress-vpc";
import { createFlowLogs, flowLogsErrors, FlowLogsArgs, FlowLogsResult } from "./flow-logs";

/**
 * Arguments of {@link ExistingEgressVpc}: a VPC the landing zone already has. Ids are plain values;
 * the CIDRs are stated too (the kit plans security-group rules and Transit Gateway routes from them
 * before any lookup runs) and compared with what the lookups return at deploy time.
 */
export interface ExistingEgressVpcArgs {
  vpcId: string;
  /** The VPC's CIDR as the owner knows it; a lookup confirms it. */
  cidrBlock: string;
  privateSubnetIds: string[];
  /** Same order as privateSubnetIds. */
  privateSubnetCidrs: string[];
  publicSubnetIds?: string[];
  /** Route tables of the private subnets (one per subnet, or one shared). Default: the subnets' own, looked up. */
  routeTableIds?: string[];
  /** Existing NAT gateways: their EIPs are the egress IPs and no NAT is created. */
  natGatewayIds?: string[];
  /** Add the kit's routes to the existing route tables. Default false: they are reported in `routesToAdd`. */
  manageRoutes?: boolean;
  /** Flow logs on the adopted VPC (the kit creates the flow log, not the VPC). Default off. */
  flowLogs?: FlowLogsArgs;
  tags?: Record<string, string>;
}

/** A route the kit needs in an existing route table. */
export interface RouteToAdd {
  routeTableId: string;
  destination: string;
  target: string;
}

/**
 * The routes the kit needs in the adopted route tables: the default route to the NAT it creates
 * (none when existing NAT gateways are named). Plain, known before deploy: the kit adds them with
 * `manageRoutes`, otherwise the VPC's owner does.
 */
export function routesToAddFor(
  name: string,
  args: Pick<ExistingEgressVpcArgs, "privateSubnetIds" | "routeTableIds" | "natGatewayIds">,
): RouteToAdd[] {
  if (args.natGatewayIds) return [];
  const tables = [...new Set(args.routeTableIds ?? args.privateSubnetIds.map((s) => `the route table of ${s}`))];
  return tables.map((t) => ({ routeTableId: t, destination: "0.0.0.0/0", target: `NAT gateway ${name}-nat-0` }));
}

/** Validates the adopted VPC's plain arguments and gives the plan shape the roles read. */
export function planExistingEgressVpc(
  args: Omit<ExistingEgressVpcArgs, "vpcId" | "privateSubnetIds"> & { privateSubnetIds: string[] },
  keyPrefix = "",
): FixedEgressVpcPlan {
  const errors: ConfigError[] = [];
  const k = (s: string) => `${keyPrefix}${s}`;
  const vpc = checkVpcCidr(args.cidrBlock, k("cidrBlock"), "the existing VPC's CIDR", errors);
  const azCount = args.privateSubnetIds.length;
  if (args.privateSubnetCidrs.length === 0) {
    errors.push(
      new ConfigError(
        k("privateSubnetCidrs"),
        "an existing VPC is adopted but its private subnets' CIDRs are not stated",
        "list the CIDRs of existingVpc.privateSubnetIds, same order (the kit plans security-group rules from them)",
      ),
    );
  } else if (vpc) {
    checkSubnets(
      vpc,
      [{ key: k("privateSubnetCidrs"), role: "private", cidrs: args.privateSubnetCidrs }],
      azCount,
      errors,
    );
  }
  const rts = args.routeTableIds;
  if (rts && rts.length !== 1 && rts.length !== azCount) {
    errors.push(
      new ConfigError(
        k("existingVpc.routeTableIds"),
        `${rts.length} route tables for ${azCount} private subnets`,
        "list one route table per private subnet (same order), or the one table they share",
      ),
    );
  }
  errors.push(...flowLogsErrors(args.flowLogs, k("flowLogs"), "vpc"));
  const natCount = args.natGatewayIds?.length ?? 1;
  if (!args.natGatewayIds && (args.publicSubnetIds ?? []).length === 0) {
    errors.push(
      new ConfigError(
        k("existingVpc.publicSubnetIds"),
        "no NAT gateway is named, so the kit creates one, and that needs a public subnet",
        "name the VPC's NAT gateways in existingVpc.natGatewayIds, or give a public subnet (with an internet gateway route) in existingVpc.publicSubnetIds",
      ),
    );
  }
  throwIfAny(errors);
  return {
    cidrBlock: args.cidrBlock,
    azCount,
    publicSubnetCidrs: [],
    privateSubnetCidrs: args.privateSubnetCidrs,
    natGateways: "single",
    natCount,
  };
}

/**
 * Adopts an existing VPC for account A's network role. Reads it through the provider's lookups and
 * creates only what is missing: a NAT gateway and its EIP when none is named, and (with
 * `manageRoutes`) the default route to it. Exposes the same fields as FixedEgressVpc, so the roles
 * and features consume it unchanged.
 */
export class ExistingEgressVpc extends pulumi.ComponentResource {
  public readonly vpcId: pulumi.Output<string>;
  public readonly cidrBlock: string;
  public readonly publicSubnetIds: pulumi.Output<string>[];
  public readonly privateSubnetIds: pulumi.Output<string>[];
  public readonly privateRouteTableIds: pulumi.Output<string>[];
  public readonly publicRouteTableId: pulumi.Output<string>;
  public readonly natGatewayIds: pulumi.Output<string>[];
  public readonly egressIps: pulumi.Output<string[]>;
  public readonly plan: FixedEgressVpcPlan;
  public readonly dns: { hostnames: boolean; support: boolean };
  /** Whether the kit may change the existing route tables. */
  public readonly manageRoutes: boolean;
  /** Routes the owner must add (manageRoutes off) or that the kit adds (on); plain, known before deploy. */
  public readonly routesToAdd: RouteToAdd[];
  /** The adopted VPC's flow log, when `flowLogs.enabled`. */
  public readonly flowLogs?: FlowLogsResult;

  constructor(name: string, args: ExistingEgressVpcArgs, opts: pulumi.ComponentResourceOptions = {}) {
    const plan = planExistingEgressVpc(args);
    super("vpc-lambda-kit:network:ExistingEgressVpc", name, { vpcId: args.vpcId }, opts);
    this.plan = plan;
    this.cidrBlock = plan.cidrBlock;
    this.manageRoutes = args.manageRoutes ?? false;
    this.routesToAdd = routesToAddFor(name, args);
    const invoke = { parent: this };
    const tags = (role: string) => ({ ...(args.tags ?? {}), Name: `${name}-${role}` });

    const vpc = aws.ec2.getVpcOutput({ id: args.vpcId }, invoke);
    // Stated and real CIDR must agree: the security-group rules were planned from the stated one.
    this.vpcId = pulumi.all([vpc.id, vpc.cidrBlock]).apply(([id, cidr]) => {
      if (cidr !== args.cidrBlock)
        throw new ConfigError(
          "network.cidrBlock",
          `states ${args.cidrBlock} but VPC ${id} has ${cidr}`,
          `set network.cidrBlock to ${cidr}`,
        );
      return id;
    });
    // Private DNS on interface endpoints needs both attributes; the lookup tells, the endpoints check.
    this.dns = { hostnames: true, support: true };

    const subnetIn = (id: string, key: string, cidr?: string) =>
      aws.ec2.getSubnetOutput({ id }, invoke).apply((s) => {
        if (s.vpcId !== args.vpcId)
          throw new ConfigError(
            key,
            `subnet ${id} is in ${s.vpcId}, not in ${args.vpcId}`,
            "list subnets of existingVpc.vpcId only",
          );
        if (cidr !== undefined && s.cidrBlock !== cidr)
          throw new ConfigError(
            key,
            `subnet ${id} is ${s.cidrBlock}, not ${cidr}`,
            `state ${s.cidrBlock} in network.privateSubnetCidrs`,
          );
        return s.id;
      });
    this.privateSubnetIds = args.privateSubnetIds.map((id, i) =>
      subnetIn(id, `network.existingVpc.privateSubnetIds[${i}]`, args.privateSubnetCidrs[i]),
    );
    this.publicSubnetIds = (args.publicSubnetIds ?? []).map((id, i) =>
      subnetIn(id, `network.existingVpc.publicSubnetIds[${i}]`),
    );

    // The route table of each private subnet: named, or the one associated with it.
    const rtIds = args.routeTableIds
      ? args.privateSubnetIds.map((_, i) => args.routeTableIds![args.routeTableIds!.length === 1 ? 0 : i])
      : undefined;
    this.privateRouteTableIds = args.privateSubnetIds.map((subnetId, i) => {
      const rt = rtIds
        ? aws.ec2.getRouteTableOutput({ routeTableId: rtIds[i] }, invoke)
        : aws.ec2.getRouteTableOutput({ subnetId }, invoke);
      return rt.apply((t) => {
        if (!t.associations.some((a) => a.subnetId === subnetId))
          throw new ConfigError(
            `network.existingVpc.routeTableIds[${i}]`,
            `route table ${t.routeTableId} is not associated with ${subnetId}`,
            "name the route table the subnet is associated with, or drop routeTableIds to look it up",
          );
        return t.routeTableId;
      });
    });
    this.publicRouteTableId = pulumi.output("");

    if (args.natGatewayIds) {
      const nats = args.natGatewayIds.map((id) => aws.ec2.getNatGatewayOutput({ id }, invoke));
      this.natGatewayIds = nats.map((n) => n.id);
      this.egressIps = pulumi.all(nats.map((n) => n.publicIp));
    } else {
      const eip = new aws.ec2.Eip(`${name}-nat-eip-0`, { domain: "vpc", tags: tags("nat-eip-0") }, { parent: this });
      const nat = new aws.ec2.NatGateway(
        `${name}-nat-0`,
        {
          allocationId: eip.allocationId,
          subnetId: this.publicSubnetIds[0],
          connectivityType: "public",
          tags: tags("nat-0"),
        },
        { parent: this },
      );
      this.natGatewayIds = [nat.id];
      this.egressIps = pulumi.all([eip.publicIp]);
      if (this.manageRoutes) {
        this.privateRouteTableIds.forEach((rt, i) => {
          if (rtIds && rtIds.indexOf(rtIds[i]) !== i) return; // a shared table gets the route once
          new aws.ec2.Route(
            `${name}-private-rt-${i}-default`,
            { routeTableId: rt, destinationCidrBlock: "0.0.0.0/0", natGatewayId: nat.id },
            { parent: this },
          );
        });
      }
    }
    if (args.flowLogs?.enabled) this.flowLogs = createFlowLogs(name, { vpcId: this.vpcId }, args.flowLogs, this, tags);
    this.registerOutputs({
      vpcId: this.vpcId,
      privateSubnetIds: this.privateSubnetIds,
      privateRouteTableIds: this.privateRouteTableIds,
      natGatewayIds: this.natGatewayIds,
      egressIps: this.egressIps,
    });
  }
}
