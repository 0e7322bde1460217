import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { checkSubnets, checkVpcCidr } from "./vpc-parts";
import type { Cidr } from "./cidr";
import { nameTags } from "./defaults";
import { ConfigError, throwIfAny } from "./errors";
import type { FixedEgressVpcPlan } from "./fixed-egress-vpc";
import { createFlowLogs, flowLogsErrors, FlowLogsArgs, FlowLogsResult } from "./flow-logs";
import { PlannedComponent } from "./planned";

/**
 * How an adopted VPC and its private subnets are found: by id, or by tags (aws.ec2.getVpc with tag
 * filters; one aws.ec2.getSubnet per stated CIDR, filtered by the VPC and the tags). Shared by the
 * network role's {@link ExistingEgressVpc} and the data role's ExistingPrivateVpc.
 */
export interface AdoptedVpcRef {
  /** The VPC by id; or give vpcTags. */
  vpcId?: string;
  /** The VPC by tags: exactly one must match. */
  vpcTags?: Record<string, string>;
  /** The private subnets by id, one per zone; or give privateSubnetTags. */
  privateSubnetIds?: string[];
  /** The private subnets by tags: one per stated CIDR, and no other subnet of the VPC with these tags. */
  privateSubnetTags?: Record<string, string>;
  /** The VPC's CIDR as the owner knows it; a lookup confirms it. */
  cidrBlock: string;
  /** The private subnets' CIDRs, same order as privateSubnetIds; with tags they pick the subnets. */
  privateSubnetCidrs: string[];
  /** Route tables of the private subnets (one per subnet, or one shared). Default: the subnets' own, looked up. */
  routeTableIds?: string[];
  /** Add the kit's routes to the existing route tables. Default false: they are reported in `routesToAdd`. */
  manageRoutes?: boolean;
}

/**
 * Arguments of {@link ExistingEgressVpc}: a VPC the landing zone already has. Ids (or tags) are plain
 * values; the CIDRs are stated too (the kit plans security-group rules and Transit Gateway routes from
 * them before any lookup runs) and compared with what the lookups return at deploy time.
 */
export interface ExistingEgressVpcArgs extends AdoptedVpcRef {
  publicSubnetIds?: string[];
  /** Existing NAT gateways: their EIPs are the egress IPs and no NAT is created. */
  natGatewayIds?: string[];
  /** Flow logs on the adopted VPC (the kit creates the flow log, not the VPC). Default off. */
  flowLogs?: FlowLogsArgs;
  /** Tags for what the kit creates here. */
  tags?: Record<string, string>;
}

/** A route the kit needs in an existing route table. */
export interface RouteToAdd {
  routeTableId: string;
  destination: string;
  target: string;
}

/** The route table each adopted private subnet uses, as a plain label: its id when named, else a description. */
export function adoptedTableLabels(ref: Omit<AdoptedVpcRef, "cidrBlock" | "manageRoutes">): string[] {
  const count = ref.privateSubnetIds?.length ?? ref.privateSubnetCidrs.length;
  return Array.from({ length: count }, (_, i) =>
    ref.routeTableIds
      ? ref.routeTableIds[ref.routeTableIds.length === 1 ? 0 : i]
      : ref.privateSubnetIds
        ? `the route table of ${ref.privateSubnetIds[i]}`
        : `the route table of the subnet ${ref.privateSubnetCidrs[i]}`,
  );
}

/**
 * The routes the kit needs in the adopted route tables: the default route to the NAT it creates
 * (none when existing NAT gateways are named). Plain, known before deploy: the kit adds them with
 * `manageRoutes`, otherwise the VPC's owner does.
 */
export function routesToAddFor(
  name: string,
  args: Omit<AdoptedVpcRef, "cidrBlock" | "manageRoutes"> & { natGatewayIds?: string[] },
): RouteToAdd[] {
  if (args.natGatewayIds) return [];
  const tables = [...new Set(adoptedTableLabels(args))];
  return tables.map((t) => ({ routeTableId: t, destination: "0.0.0.0/0", target: `NAT gateway ${name}-nat-0` }));
}

/** What the lookups of an adopted VPC give: the VPC and, per private subnet, its id, zone and route table. */
export interface AdoptedVpc {
  vpcId: pulumi.Output<string>;
  subnetIds: pulumi.Output<string>[];
  availabilityZones: pulumi.Output<string>[];
  routeTableIds: pulumi.Output<string>[];
  /** Checks a further subnet (by id) belongs to the VPC; returns its id. */
  subnetIn(id: string, key: string): pulumi.Output<string>;
}

/**
 * Reads an adopted VPC through the provider's lookups (by id or tags) and checks what they return
 * against the stated CIDRs; `key` is the config key (e.g. `network.existingVpc`) each error names.
 * Offline, ops/inventory.ts has already refused the same mistakes before anything was registered.
 */
export function lookupAdoptedVpc(ref: AdoptedVpcRef, key: string, parent: pulumi.Resource): AdoptedVpc {
  const invoke = { parent };
  const base = key.replace(/\.existingVpc$/, "");
  const vpc = ref.vpcId
    ? aws.ec2.getVpcOutput({ id: ref.vpcId }, invoke)
    : aws.ec2.getVpcOutput({ tags: ref.vpcTags }, invoke);
  // Stated and real CIDR must agree: the security-group rules were planned from the stated one.
  const vpcId = pulumi.all([vpc.id, vpc.cidrBlock]).apply(([id, cidr]) => {
    if (cidr !== ref.cidrBlock)
      throw new ConfigError(
        `${base}.cidrBlock`,
        `states ${ref.cidrBlock} but VPC ${id} has ${cidr}`,
        `set it to ${cidr}`,
      );
    return id;
  });
  const checked = (s: aws.ec2.GetSubnetResult, vpcIdNow: string, k: string, cidr?: string) => {
    if (s.vpcId !== vpcIdNow)
      throw new ConfigError(
        k,
        `subnet ${s.id} is in ${s.vpcId}, not in ${vpcIdNow}`,
        `list subnets of ${vpcIdNow} only`,
      );
    if (cidr !== undefined && s.cidrBlock !== cidr)
      throw new ConfigError(k, `subnet ${s.id} is ${s.cidrBlock}, not ${cidr}`, `state ${s.cidrBlock} in ${base}`);
    return s.id;
  };
  const subnetIn = (id: string, k: string, cidr?: string) =>
    pulumi.all([aws.ec2.getSubnetOutput({ id }, invoke), vpcId]).apply(([s, v]) => checked(s, v, k, cidr));
  let subnets: pulumi.Output<aws.ec2.GetSubnetResult>[];
  let subnetIds: pulumi.Output<string>[];
  if (ref.privateSubnetIds) {
    subnets = ref.privateSubnetIds.map((id) => aws.ec2.getSubnetOutput({ id }, invoke));
    subnetIds = subnets.map((s, i) =>
      pulumi
        .all([s, vpcId])
        .apply(([x, v]) => checked(x, v, `${key}.privateSubnetIds[${i}]`, ref.privateSubnetCidrs[i])),
    );
  } else {
    // By tags: the stated CIDRs pick the subnets (so their order is the config's), and no tagged subnet is left over.
    const tagged = aws.ec2.getSubnetsOutput(
      { filters: [{ name: "vpc-id", values: [vpcId] }], tags: ref.privateSubnetTags },
      invoke,
    );
    const count = tagged.ids.apply((ids) => {
      if (ids.length !== ref.privateSubnetCidrs.length)
        throw new ConfigError(
          `${key}.privateSubnetTags`,
          `${ids.length} subnets of the VPC have these tags, but ${ref.privateSubnetCidrs.length} private subnet CIDRs are stated`,
          `tag exactly the subnets of ${base}.privateSubnetCidrs, or state every tagged subnet's CIDR`,
        );
      return ids.length;
    });
    subnets = ref.privateSubnetCidrs.map((cidrBlock) =>
      aws.ec2.getSubnetOutput({ vpcId, cidrBlock, tags: ref.privateSubnetTags }, invoke),
    );
    subnetIds = subnets.map((s, i) =>
      pulumi
        .all([s, vpcId, count])
        .apply(([x, v]) => checked(x, v, `${key}.privateSubnetTags`, ref.privateSubnetCidrs[i])),
    );
  }
  // The route table of each private subnet: named (a shared one read once), or the one associated with it.
  const named = ref.routeTableIds;
  const namedTables = new Map<string, pulumi.Output<aws.ec2.GetRouteTableResult>>();
  const readNamed = (routeTableId: string) => {
    if (!namedTables.has(routeTableId))
      namedTables.set(routeTableId, aws.ec2.getRouteTableOutput({ routeTableId }, invoke));
    return namedTables.get(routeTableId)!;
  };
  const routeTableIds = subnetIds.map((subnetId, i) => {
    const rt = named ? readNamed(named[named.length === 1 ? 0 : i]) : aws.ec2.getRouteTableOutput({ subnetId }, invoke);
    return pulumi.all([rt, subnetId]).apply(([t, sid]) => {
      if (!t.associations.some((a) => a.subnetId === sid))
        throw new ConfigError(
          `${key}.routeTableIds[${named && named.length > 1 ? i : 0}]`,
          `route table ${t.routeTableId} is not associated with ${sid}`,
          "name the route table the subnet is associated with, or drop routeTableIds to look it up",
        );
      return t.routeTableId;
    });
  });
  return {
    vpcId,
    subnetIds,
    availabilityZones: subnets.map((s) => s.availabilityZone),
    routeTableIds,
    subnetIn: (id, k) => subnetIn(id, k),
  };
}

type AdoptedPlanArgs = Pick<AdoptedVpcRef, "cidrBlock" | "privateSubnetCidrs" | "privateSubnetIds" | "routeTableIds">;

/**
 * What every adopted VPC's plan starts from: its stated CIDR, checked (undefined when bad), and its zone count. By
 * tags the stated CIDRs pick the subnets, so they fix the count.
 */
export function adoptedVpcBasics(
  args: AdoptedPlanArgs,
  k: (key: string) => string,
  errors: ConfigError[],
): { vpc: Cidr | undefined; azCount: number } {
  const vpc = checkVpcCidr(args.cidrBlock, k("cidrBlock"), "the existing VPC's CIDR", errors);
  return { vpc, azCount: args.privateSubnetIds?.length ?? args.privateSubnetCidrs.length };
}

/** The named route tables must be one per `<subnet>` (same order) or one they share. */
export function adoptedRouteTableErrors(
  args: AdoptedPlanArgs,
  azCount: number,
  k: (key: string) => string,
  subnet: string,
): ConfigError[] {
  const rts = args.routeTableIds;
  if (!rts || rts.length === 1 || rts.length === azCount) return [];
  return [
    new ConfigError(
      k("existingVpc.routeTableIds"),
      `${rts.length} route tables for ${azCount} ${subnet}s`,
      `list one route table per ${subnet} (same order), or the one table they share`,
    ),
  ];
}

/** Validates the adopted VPC's plain arguments and gives the plan shape the roles read. */
export function planExistingEgressVpc(
  args: Omit<ExistingEgressVpcArgs, "vpcId" | "vpcTags">,
  keyPrefix = "",
): FixedEgressVpcPlan {
  const errors: ConfigError[] = [];
  const k = (s: string) => `${keyPrefix}${s}`;
  const { vpc, azCount } = adoptedVpcBasics(args, k, errors);
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
  errors.push(...adoptedRouteTableErrors(args, azCount, k, "private subnet"));
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
export class ExistingEgressVpc extends PlannedComponent<FixedEgressVpcPlan> {
  public readonly vpcId: pulumi.Output<string>;
  public readonly cidrBlock: string;
  public readonly publicSubnetIds: pulumi.Output<string>[];
  public readonly privateSubnetIds: pulumi.Output<string>[];
  public readonly privateRouteTableIds: pulumi.Output<string>[];
  /** The private subnets' zones, as the lookups report them. */
  public readonly availabilityZones: pulumi.Output<string>[];
  public readonly publicRouteTableId: pulumi.Output<string>;
  public readonly natGatewayIds: pulumi.Output<string>[];
  public readonly egressIps: pulumi.Output<string[]>;
  public readonly dns: { hostnames: boolean; support: boolean };
  /** Whether the kit may change the existing route tables. */
  public readonly manageRoutes: boolean;
  /** Routes the owner must add (manageRoutes off) or that the kit adds (on); plain, known before deploy. */
  public readonly routesToAdd: RouteToAdd[];
  /** The adopted VPC's flow log, when `flowLogs.enabled`. */
  public readonly flowLogs?: FlowLogsResult;

  constructor(name: string, args: ExistingEgressVpcArgs, opts: pulumi.ComponentResourceOptions = {}) {
    const plan = planExistingEgressVpc(args);
    super("vpc-lambda-kit:network:ExistingEgressVpc", name, plan, { vpcId: args.vpcId ?? args.vpcTags }, opts);
    this.cidrBlock = plan.cidrBlock;
    this.manageRoutes = args.manageRoutes ?? false;
    this.routesToAdd = routesToAddFor(name, args);
    const invoke = { parent: this };
    const tags = nameTags(name, args.tags);
    const found = lookupAdoptedVpc(args, "network.existingVpc", this);
    this.vpcId = found.vpcId;
    // Private DNS on interface endpoints needs both attributes; the inventory check and the endpoints check them.
    this.dns = { hostnames: true, support: true };
    this.privateSubnetIds = found.subnetIds;
    this.publicSubnetIds = (args.publicSubnetIds ?? []).map((id, i) =>
      found.subnetIn(id, `network.existingVpc.publicSubnetIds[${i}]`),
    );
    this.privateRouteTableIds = found.routeTableIds;
    this.availabilityZones = found.availabilityZones;
    const rtIds = args.routeTableIds ? adoptedTableLabels(args) : undefined;
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
