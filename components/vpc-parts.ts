import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { Cidr, cidrContains, cidrsOverlap, tryParseCidr } from "./cidr";
import { nameTags } from "./defaults";
import { ConfigError, throwIfAny } from "./errors";
import { ipamPoolErrors } from "./ipam";

/** Validates a VPC CIDR (AWS accepts /16 to /28); pushes the problem and returns undefined when bad. */
export function checkVpcCidr(cidrBlock: string, key: string, example: string, errors: ConfigError[]): Cidr | undefined {
  const vpc = tryParseCidr(cidrBlock);
  if (typeof vpc === "string") {
    errors.push(new ConfigError(key, vpc, `give the VPC an IPv4 CIDR between /16 and /28, e.g. ${example}`));
    return undefined;
  }
  if (vpc.prefix < 16 || vpc.prefix > 28) {
    errors.push(
      new ConfigError(
        key,
        `"${cidrBlock}" is a /${vpc.prefix}; AWS accepts VPC CIDRs from /16 to /28`,
        "choose a prefix length between 16 and 28",
      ),
    );
    return undefined;
  }
  return vpc;
}

/**
 * Validates subnet CIDR lists against their VPC: one per zone, inside the VPC, no smaller than /28,
 * no two overlapping (across all lists). Each problem names `<key>[i]`.
 */
export function checkSubnets(
  vpc: Cidr,
  lists: { key: string; role: string; cidrs: string[] }[],
  azCount: number,
  errors: ConfigError[],
): void {
  const seen: { key: string; text: string; cidr: Cidr }[] = [];
  for (const { key, role, cidrs } of lists) {
    if (cidrs.length !== azCount) {
      errors.push(
        new ConfigError(
          key,
          `${cidrs.length} CIDRs for ${azCount} availability zones`,
          `give exactly one ${role} subnet CIDR per availability zone`,
        ),
      );
    }
    cidrs.forEach((text, i) => {
      const at = `${key}[${i}]`;
      const c = tryParseCidr(text);
      if (typeof c === "string") {
        errors.push(new ConfigError(at, c, `use an IPv4 CIDR inside the VPC ${vpc.text}`));
        return;
      }
      if (!cidrContains(vpc, c)) {
        errors.push(
          new ConfigError(at, `subnet ${text} is outside the VPC ${vpc.text}`, `choose a CIDR inside ${vpc.text}`),
        );
      } else if (c.prefix > 28) {
        errors.push(
          new ConfigError(
            at,
            `subnet ${text} is smaller than /28, which AWS rejects`,
            "use a prefix length of 28 or less",
          ),
        );
      }
      for (const other of seen) {
        if (cidrsOverlap(other.cidr, c))
          errors.push(
            new ConfigError(
              at,
              `subnet ${text} overlaps ${other.key} (${other.text})`,
              "give every subnet its own, non-overlapping CIDR",
            ),
          );
      }
      seen.push({ key: at, text, cidr: c });
    });
  }
}

/** A VPC with DNS hostnames and DNS support on: interface endpoints' private DNS and RDS endpoint names need both. */
export function dnsVpc(
  name: string,
  cidrBlock: string,
  tags: Record<string, string>,
  parent: pulumi.Resource,
  ipam?: VpcIpam,
): aws.ec2.Vpc {
  // From an IPAM pool the VPC asks for a netmask length, not a range; the plan used the allocation stated in config.
  const range = ipam
    ? { ipv4IpamPoolId: checkedPoolId(ipam, cidrBlock, parent), ipv4NetmaskLength: ipam.netmaskLength }
    : { cidrBlock };
  return new aws.ec2.Vpc(
    `${name}-vpc`,
    { ...range, enableDnsHostnames: true, enableDnsSupport: true, tags: { ...tags, Name: `${name}-vpc` } },
    { parent },
  );
}

/** A VPC's CIDR from an IPAM pool (CreateVpc Ipv4IpamPoolId and Ipv4NetmaskLength). */
export interface VpcIpam {
  poolId: string;
  netmaskLength: number;
  /** The role's config key (`vpc-lambda-kit:network`): its IPAM keys are named when the pool disagrees. */
  at: string;
}

/**
 * The pool id, once the pool lookups (getVpcIpamPool, getVpcIpamPoolCidrs) show it can give the planned range.
 * The VPC takes its pool id from here, so at deploy a pool that cannot stops the update before the VPC exists.
 */
function checkedPoolId(ipam: VpcIpam, planned: string, parent: pulumi.Resource): pulumi.Output<string> {
  const pool = aws.ec2.getVpcIpamPoolOutput({ ipamPoolId: ipam.poolId }, { parent });
  const cidrs = aws.ec2.getVpcIpamPoolCidrsOutput({ ipamPoolId: ipam.poolId }, { parent });
  return pulumi.all([pool, cidrs]).apply(([p, c]) => {
    throwIfAny(poolLookupErrors(ipam, planned, p, c));
    return ipam.poolId;
  });
}

/**
 * What the pool lookups' answers say against the planned range: an ipv4 pool in the VPC's Region (the lookup's
 * `region` is the provider's), the netmask length within its bounds, the range inside a provisioned CIDR.
 */
export function poolLookupErrors(
  ipam: VpcIpam,
  planned: string,
  pool: aws.ec2.GetVpcIpamPoolResult,
  cidrs: aws.ec2.GetVpcIpamPoolCidrsResult,
): ConfigError[] {
  return ipamPoolErrors(
    {
      id: ipam.poolId,
      addressFamily: pool.addressFamily,
      allocationMinNetmaskLength: pool.allocationMinNetmaskLength,
      allocationMaxNetmaskLength: pool.allocationMaxNetmaskLength,
      locale: pool.locale,
      cidrs: cidrs.ipamPoolCidrs.filter((x) => x.state === "provisioned").map((x) => x.cidr),
    },
    { at: ipam.at, region: pool.region, netmaskLength: ipam.netmaskLength, allocatedCidr: planned },
  );
}

/**
 * The VPC's id once its real CIDR is known to be the planned one: subnets and security-group rules were
 * planned from the stated allocation, so another one stops the update here, naming the key.
 */
function plannedVpcId(vpc: aws.ec2.Vpc, planned: string, ipam: VpcIpam | undefined): pulumi.Output<string> {
  if (!ipam) return vpc.id;
  return pulumi.all([vpc.id, vpc.cidrBlock]).apply(([id, cidr]) => {
    if (cidr !== planned)
      throw new ConfigError(
        `${ipam.at}.ipamAllocatedCidr`,
        `states ${planned} but IPAM pool ${ipam.poolId} allocated ${cidr} to VPC ${id}`,
        `set it to ${cidr} (the subnets are planned from it)`,
      );
    return id;
  });
}

/**
 * A subnet (no auto-assigned public IPs) associated with `routeTableId`; the association is parented to the
 * subnet, with the same options otherwise (the provider, when `opts` names one).
 */
export function subnetIn(
  name: string,
  args: {
    vpcId: pulumi.Input<string>;
    cidrBlock: string;
    availabilityZone: pulumi.Input<string>;
    routeTableId: pulumi.Input<string>;
    tags: Record<string, string>;
  },
  opts: pulumi.CustomResourceOptions,
): aws.ec2.Subnet {
  const subnet = new aws.ec2.Subnet(
    name,
    {
      vpcId: args.vpcId,
      cidrBlock: args.cidrBlock,
      availabilityZone: args.availabilityZone,
      // Nothing placed here needs an auto-assigned public address: NAT gateways take theirs from the EIP.
      mapPublicIpOnLaunch: false,
      tags: { ...args.tags, Name: name },
    },
    opts,
  );
  new aws.ec2.RouteTableAssociation(
    `${name}-rta`,
    { subnetId: subnet.id, routeTableId: args.routeTableId },
    { ...opts, parent: subnet },
  );
  return subnet;
}

/**
 * What every VPC the kit creates starts from: the DNS-enabled VPC (from its CIDR or IPAM pool), its id once the
 * CIDR is known to be the planned one, `Name` tags for its children, and a way to lay subnets over the zones.
 */
export function ownedVpc(
  name: string,
  args: {
    cidrBlock: string;
    ipam?: VpcIpam;
    availabilityZones: pulumi.Input<string>[];
    tags?: Record<string, string>;
  },
  parent: pulumi.ComponentResource,
) {
  const vpc = dnsVpc(name, args.cidrBlock, args.tags ?? {}, parent, args.ipam);
  const vpcId = plannedVpcId(vpc, args.cidrBlock, args.ipam);
  return {
    vpc,
    vpcId,
    tags: nameTags(name, args.tags),
    /** Subnet `<name>-<role>-<i>` per CIDR, in the i-th zone, associated with `routeTableId(i)`. */
    subnets(role: string, cidrs: string[], routeTableId: (i: number) => pulumi.Input<string>): aws.ec2.Subnet[] {
      return cidrs.map((cidrBlock, i) =>
        subnetIn(
          `${name}-${role}-${i}`,
          {
            vpcId,
            cidrBlock,
            availabilityZone: args.availabilityZones[i],
            routeTableId: routeTableId(i),
            tags: args.tags ?? {},
          },
          { parent },
        ),
      );
    },
  };
}

/**
 * The name of the RDS DB subnet group `<name>-db-subnets` over a data VPC's subnets, created unless
 * `args.dbSubnetGroup` is false (then undefined).
 */
export function dbSubnetGroupName(
  name: string,
  args: { dbSubnetGroup?: boolean; tags?: Record<string, string> },
  subnetIds: pulumi.Input<string>[],
  description: string,
  parent: pulumi.Resource,
): pulumi.Output<string> | undefined {
  if (!(args.dbSubnetGroup ?? true)) return undefined;
  return new aws.rds.SubnetGroup(
    `${name}-db-subnets`,
    { subnetIds, description: `${name}: ${description}`, tags: nameTags(name, args.tags)("db-subnets") },
    { parent },
  ).name;
}
