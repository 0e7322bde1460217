/**
 * One shape for "the VPC a component goes into", whoever built it: the kit (FixedEgressVpc,
 * ExistingEgressVpc) or an `awsx.ec2.Vpc` (or any VPC whose outputs have the same names). The
 * components keep their plain arguments (vpcId, subnet ids, route tables, CIDRs); the helpers at the
 * end of this file fill those arguments from a VpcRef, so each component accepts any of the three
 * without a copy of its wiring. examples/awsx-vpc/README.md says when to bring an awsx VPC.
 */
import * as pulumi from "@pulumi/pulumi";
import { ConfigError, throwIfAny } from "./errors";
import { checkSubnets, checkVpcCidr } from "./vpc-parts";
import type { ProxyPlacement, SquidProxyTierArgs } from "./squid-proxy-tier";
import type { VpcEndpointsArgs } from "./vpc-endpoints";
import type { VpcFunctionArgs } from "./vpc-function";
import type { TgwOwnerArgs, TgwPeerArgs } from "./tgw-shared-network";

/** What the kit's components need of a VPC. Counts and CIDRs are plain: squid.conf and plans are made from them. */
export interface VpcRef {
  vpcId: pulumi.Input<string>;
  cidrBlock: string;
  /** One zone per private subnet, same order. */
  availabilityZones: pulumi.Input<string>[];
  privateSubnetIds: pulumi.Input<string>[];
  privateSubnetCidrs: string[];
  /** One per zone, same order; empty when the VPC has none. */
  publicSubnetIds: pulumi.Input<string>[];
  /** The route table of each private subnet, same order (a shared table is listed once per subnet). */
  privateRouteTableIds: pulumi.Input<string>[];
  /** The VPC's DNS attributes (interface endpoints' private DNS needs both). */
  dns: { hostnames: boolean; support: boolean };
  /** Public addresses of the VPC's NAT gateways: what an allowlist sees from the private subnets. */
  egressIps?: pulumi.Input<string[]>;
}

/** A subnet as awsx (or the mocks) give it: a resource with Output fields, or plain values. */
interface SubnetLike {
  id: pulumi.Input<string>;
  cidrBlock?: pulumi.Input<string | undefined>;
  availabilityZone?: pulumi.Input<string>;
}

/**
 * The outputs of an `awsx.ec2.Vpc` the adapter reads. An awsx.ec2.Vpc has every one of them; the
 * optional ones make the adapter check more (subnet CIDRs) or give more (egress IPs).
 */
export interface AwsxVpcLike {
  vpcId: pulumi.Input<string>;
  privateSubnetIds: pulumi.Input<pulumi.Input<string>[]>;
  publicSubnetIds: pulumi.Input<pulumi.Input<string>[]>;
  subnets?: pulumi.Input<SubnetLike[]>;
  routeTableAssociations?: pulumi.Input<
    { subnetId?: pulumi.Input<string | undefined>; routeTableId: pulumi.Input<string> }[]
  >;
  eips?: pulumi.Input<{ publicIp: pulumi.Input<string> }[]>;
}

/**
 * What the caller passed to awsx, stated again as plain values (awsx computes its subnets only at
 * deploy time, while the kit plans security-group rules and squid.conf before anything runs). The
 * adapter checks the awsx outputs against them when they resolve, and stops the update naming the
 * mismatch.
 */
export interface AwsxVpcStated {
  /** The `cidrBlock` given to awsx.ec2.Vpc. */
  cidrBlock: string;
  /** The `availabilityZoneNames` given to awsx, in order. */
  availabilityZones: string[];
  /** The private subnets' CIDRs, one per zone, in zone order (give them to awsx as the private subnetSpec's `cidrBlocks`). */
  privateSubnetCidrs: string[];
  /** The public subnets' CIDRs, one per zone, when the VPC has them (needed for the proxy tier's public placement). */
  publicSubnetCidrs?: string[];
  /** The `enableDnsHostnames` / `enableDnsSupport` given to awsx. Default as awsx's: hostnames off, support on. */
  dns?: { hostnames: boolean; support: boolean };
}

/** Checks the stated values: a VPC CIDR, one private subnet per zone inside it, zones distinct. */
export function checkAwsxVpcStated(stated: AwsxVpcStated, key = "awsxVpc"): void {
  const errors: ConfigError[] = [];
  const vpc = checkVpcCidr(stated.cidrBlock, `${key}.cidrBlock`, "10.40.0.0/16", errors);
  const zones = stated.availabilityZones;
  if (zones.length === 0)
    errors.push(
      new ConfigError(
        `${key}.availabilityZones`,
        "no availability zone is given",
        "list the availabilityZoneNames given to awsx.ec2.Vpc",
      ),
    );
  const dup = zones.find((z, i) => zones.indexOf(z) !== i);
  if (dup)
    errors.push(
      new ConfigError(`${key}.availabilityZones`, `${dup} is listed twice`, "list each zone once, in awsx's order"),
    );
  if (vpc && zones.length > 0)
    checkSubnets(
      vpc,
      [
        { key: `${key}.privateSubnetCidrs`, role: "private", cidrs: stated.privateSubnetCidrs },
        ...(stated.publicSubnetCidrs
          ? [{ key: `${key}.publicSubnetCidrs`, role: "public", cidrs: stated.publicSubnetCidrs }]
          : []),
      ],
      zones.length,
      errors,
    );
  throwIfAny(errors);
}

/** What awsx made against what was stated: private subnet count, then each subnet's CIDR and zone. */
export function awsxSubnetProblems(
  privateIds: string[],
  subnets: { id: string; cidrBlock?: string; zone?: string }[],
  stated: AwsxVpcStated,
  key = "awsxVpc",
): ConfigError[] {
  const n = stated.availabilityZones.length;
  if (privateIds.length !== n)
    return [
      new ConfigError(
        `${key}.availabilityZones`,
        `the awsx VPC has ${privateIds.length} private subnets, ${n} zones are stated`,
        "state the availabilityZoneNames given to awsx, one private subnet spec per zone",
      ),
    ];
  const errors: ConfigError[] = [];
  privateIds.forEach((id, i) => {
    const s = subnets.find((x) => x.id === id);
    if (s?.cidrBlock !== undefined && s.cidrBlock !== stated.privateSubnetCidrs[i])
      errors.push(
        new ConfigError(
          `${key}.privateSubnetCidrs[${i}]`,
          `states ${stated.privateSubnetCidrs[i]} but awsx made subnet ${id} ${s.cidrBlock}`,
          `give awsx the private subnetSpec cidrBlocks [${stated.privateSubnetCidrs.join(", ")}], or state ${s.cidrBlock}`,
        ),
      );
    if (s?.zone !== undefined && s.zone !== stated.availabilityZones[i])
      errors.push(
        new ConfigError(
          `${key}.availabilityZones[${i}]`,
          `states ${stated.availabilityZones[i]} but awsx put subnet ${id} in ${s.zone}`,
          "state the zones in the order given to awsx's availabilityZoneNames",
        ),
      );
  });
  return errors;
}

/**
 * A VpcRef of an awsx.ec2.Vpc (or its outputs). Plain checks run now; at deploy each private subnet's
 * id, CIDR and zone are read from the awsx outputs and compared with what was stated.
 */
export function fromAwsxVpc(vpc: AwsxVpcLike, stated: AwsxVpcStated, key = "awsxVpc"): VpcRef {
  checkAwsxVpcStated(stated, key);
  const n = stated.availabilityZones.length;
  const privateIds = pulumi.output(vpc.privateSubnetIds);
  const publicIds = pulumi.output(vpc.publicSubnetIds);
  // Resource outputs resolve to resources (real deploy) or plain records (mocks): pulumi.all reads both.
  const subnets = pulumi
    .output(vpc.subnets ?? [])
    .apply((all) =>
      pulumi.all(
        all.map((s) =>
          pulumi
            .all([s.id, s.cidrBlock, s.availabilityZone])
            .apply(([id, cidrBlock, zone]) => ({ id, cidrBlock, zone })),
        ),
      ),
    );
  const privateSubnetIds = Array.from({ length: n }, (_, i) =>
    pulumi.all([privateIds, subnets]).apply(([ids, all]) => {
      const problem = awsxSubnetProblems(ids, all, stated, key)[0];
      if (problem) throw problem;
      return ids[i];
    }),
  );
  const associations = pulumi
    .output(vpc.routeTableAssociations ?? [])
    .apply((as) => pulumi.all(as.map((a) => pulumi.all([a.subnetId, a.routeTableId]))));
  const privateRouteTableIds = privateSubnetIds.map((subnetId, i) =>
    pulumi.all([subnetId, associations]).apply(([id, pairs]) => {
      const table = pairs.find(([s]) => s === id)?.[1];
      if (!table)
        throw new ConfigError(
          `${key}.privateSubnetIds[${i}]`,
          `the awsx VPC associates no route table with ${id}`,
          "let awsx create the subnet's route table (its default), or pass routeTableAssociations",
        );
      return table;
    }),
  );
  return {
    vpcId: vpc.vpcId,
    cidrBlock: stated.cidrBlock,
    availabilityZones: stated.availabilityZones,
    privateSubnetIds,
    privateSubnetCidrs: stated.privateSubnetCidrs,
    // Stated public subnets only: their count is known now, and a missing one is named when awsx's list resolves.
    publicSubnetIds: (stated.publicSubnetCidrs ?? []).map((_, i) =>
      publicIds.apply((ids) => {
        if (ids[i] === undefined)
          throw new ConfigError(
            `${key}.publicSubnetCidrs[${i}]`,
            `the awsx VPC has ${ids.length} public subnets`,
            "give awsx a public subnet spec, or drop publicSubnetCidrs",
          );
        return ids[i];
      }),
    ),
    privateRouteTableIds,
    dns: stated.dns ?? { hostnames: false, support: true },
    egressIps: vpc.eips
      ? pulumi.output(vpc.eips).apply((es) => pulumi.all(es.map((e) => pulumi.output(e.publicIp))))
      : undefined,
  };
}

/** The kit's own VPC components (FixedEgressVpc, ExistingEgressVpc) as a VpcRef. */
export function fromKitVpc(
  vpc: {
    vpcId: pulumi.Input<string>;
    cidrBlock: string;
    privateSubnetIds: pulumi.Input<string>[];
    publicSubnetIds: pulumi.Input<string>[];
    privateRouteTableIds: pulumi.Input<string>[];
    dns: { hostnames: boolean; support: boolean };
    egressIps: pulumi.Input<string[]>;
    plan: { privateSubnetCidrs: string[] };
  },
  availabilityZones: pulumi.Input<string>[],
): VpcRef {
  return {
    vpcId: vpc.vpcId,
    cidrBlock: vpc.cidrBlock,
    availabilityZones,
    privateSubnetIds: vpc.privateSubnetIds,
    privateSubnetCidrs: vpc.plan.privateSubnetCidrs,
    publicSubnetIds: vpc.publicSubnetIds,
    privateRouteTableIds: vpc.privateRouteTableIds,
    dns: vpc.dns,
    egressIps: vpc.egressIps,
  };
}

/** Each route table once (subnets may share one; a gateway endpoint or a route is added per table). */
function uniqueTables(ref: VpcRef): pulumi.Output<string[]> {
  return pulumi.all(ref.privateRouteTableIds).apply((ids) => [...new Set(ids)]);
}

/**
 * The network arguments of each component, from a VpcRef: spread them into the component's
 * arguments, e.g. `new SquidProxyTier("proxy", { ...vpcArgs.proxyTier(ref, "private"), allowedDomains, … })`.
 */
export const vpcArgs = {
  /** SquidProxyTier: the VPC, instance and load-balancer subnets, zones, NAT egress IPs (private placement). */
  proxyTier(
    ref: VpcRef,
    placement: ProxyPlacement,
  ): Pick<
    SquidProxyTierArgs,
    "vpcId" | "placement" | "instanceSubnetIds" | "lbSubnetIds" | "lbSubnetCidrs" | "availabilityZones" | "natEgressIps"
  > {
    if (placement === "public" && ref.publicSubnetIds.length < ref.privateSubnetIds.length)
      throw new ConfigError(
        "proxy.placement",
        "public placement needs a public subnet per zone, and the VPC has fewer",
        'give the VPC a public subnet per zone, or use placement "private" behind its NAT',
      );
    if (placement === "private" && ref.egressIps === undefined)
      throw new ConfigError(
        "proxy.natEgressIps",
        "private placement leaves through the VPC's NAT gateways, and their addresses are not known",
        "pass a VPC with NAT gateways (an awsx VPC's eips), or use placement public",
      );
    return {
      vpcId: ref.vpcId,
      placement,
      instanceSubnetIds: placement === "public" ? ref.publicSubnetIds : ref.privateSubnetIds,
      lbSubnetIds: ref.privateSubnetIds,
      lbSubnetCidrs: ref.privateSubnetCidrs,
      availabilityZones: ref.availabilityZones,
      natEgressIps: placement === "private" ? ref.egressIps : undefined,
    };
  },
  /** VpcEndpoints: interface endpoints in the private subnets, gateway endpoints on their route tables. */
  endpoints(ref: VpcRef): Pick<VpcEndpointsArgs, "vpcId" | "vpcDns" | "subnetIds" | "routeTableIds"> {
    return { vpcId: ref.vpcId, vpcDns: ref.dns, subnetIds: ref.privateSubnetIds, routeTableIds: uniqueTables(ref) };
  },
  /** VpcFunction: the function's ENIs in the private subnets. */
  fn(ref: VpcRef): Pick<VpcFunctionArgs, "vpcId" | "subnetIds"> {
    return { vpcId: ref.vpcId, subnetIds: ref.privateSubnetIds };
  },
  /** TgwOwner: the attachment in the private subnets, routes to the peers in their tables. */
  tgwOwner(ref: VpcRef): Pick<TgwOwnerArgs, "vpcId" | "cidrBlocks" | "subnetIds" | "routeTableIds"> {
    return {
      vpcId: ref.vpcId,
      cidrBlocks: [ref.cidrBlock],
      subnetIds: ref.privateSubnetIds,
      // One route per table and peer CIDR: awsx gives every subnet its own table, so the list has no repeats.
      routeTableIds: ref.privateRouteTableIds,
    };
  },
  /** TgwPeer: the same, for a VPC that attaches to a shared Transit Gateway. */
  tgwPeer(ref: VpcRef): Pick<TgwPeerArgs, "vpcId" | "cidrBlocks" | "subnetIds" | "routeTableIds"> {
    const { vpcId, cidrBlocks, subnetIds, routeTableIds } = vpcArgs.tgwOwner(ref);
    return { vpcId, cidrBlocks, subnetIds, routeTableIds };
  },
};
