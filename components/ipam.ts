/**
 * An IPAM pool against the VPC that asks it for a range (docs/landing-zone.md): the same checks run offline
 * against the inventory (ops/inventory.ts, before anything is registered) and at deploy against the
 * pool lookups (aws.ec2.getVpcIpamPool, getVpcIpamPoolCidrs), so both refuse the same things with the same keys.
 */
import { cidrContains, cidrsOverlap, Cidr, subCidr, tryParseCidr } from "./cidr";
import { ConfigError } from "./errors";

/** The pool's fields the checks read, as getVpcIpamPool returns them, with its CIDRs and allocations. */
export interface IpamPoolFacts {
  id: string;
  addressFamily: string;
  allocationMinNetmaskLength: number;
  allocationMaxNetmaskLength: number;
  /** The Region a VPC's allocation must be in; "None" (or empty) for a pool without a locale. */
  locale: string;
  /** The provisioned CIDRs (getVpcIpamPoolCidrs entries in state "provisioned"). */
  cidrs: string[];
  /** The pool's existing allocations (GetIpamPoolAllocations), when known; the lookups do not give them. */
  allocations?: string[];
}

/** What one VPC asks the pool for, and the config key prefix of its role (`vpc-lambda-kit:network`). */
export interface IpamRequest {
  at: string;
  region: string;
  netmaskLength: number;
  /** The range the plan uses: `ipamAllocatedCidr`, stated or predicted. */
  allocatedCidr: string;
}

const parsed = (xs: string[]): Cidr[] => xs.map(tryParseCidr).filter((c): c is Cidr => typeof c !== "string");

/** Every way the pool cannot give this VPC the planned range; each names the config key and the fix. */
export function ipamPoolErrors(pool: IpamPoolFacts, req: IpamRequest): ConfigError[] {
  const errors: ConfigError[] = [];
  const k = (s: string) => `${req.at}.${s}`;
  if (pool.addressFamily !== "ipv4")
    errors.push(
      new ConfigError(
        k("ipv4IpamPoolId"),
        `IPAM pool ${pool.id} is an ${pool.addressFamily} pool; a VPC's IPv4 range comes from an ipv4 pool`,
        "name an ipv4 pool of the private scope",
      ),
    );
  if (pool.locale !== req.region)
    errors.push(
      new ConfigError(
        k("ipv4IpamPoolId"),
        `IPAM pool ${pool.id} has locale ${pool.locale || "None"}, but the stack's VPCs are in ${req.region}; EC2 allocates a VPC's range only from a pool whose locale is its Region`,
        `name a pool with locale ${req.region}`,
      ),
    );
  const [min, max] = [pool.allocationMinNetmaskLength, pool.allocationMaxNetmaskLength];
  if (req.netmaskLength < min || req.netmaskLength > max)
    errors.push(
      new ConfigError(
        k("ipv4NetmaskLength"),
        `asks IPAM pool ${pool.id} for a /${req.netmaskLength}, but the pool allocates /${min} to /${max}`,
        `ask for a netmask length from ${min} to ${max}`,
      ),
    );
  const alloc = tryParseCidr(req.allocatedCidr);
  if (typeof alloc === "string") return errors;
  if (alloc.prefix !== req.netmaskLength)
    errors.push(
      new ConfigError(
        k("ipamAllocatedCidr"),
        `is a /${alloc.prefix}, but ipv4NetmaskLength asks the pool for a /${req.netmaskLength}`,
        `state the /${req.netmaskLength} the pool gives this VPC`,
      ),
    );
  const cidrs = parsed(pool.cidrs);
  if (!cidrs.some((c) => cidrContains(c, alloc)))
    errors.push(
      new ConfigError(
        k("ipamAllocatedCidr"),
        `${alloc.text} is not inside a CIDR provisioned to IPAM pool ${pool.id} (${pool.cidrs.join(", ") || "none"})`,
        "state a block of the pool's provisioned CIDRs",
      ),
    );
  const clash = parsed(pool.allocations ?? []).find((a) => cidrsOverlap(a, alloc));
  if (clash) {
    const free = firstFreeBlock(pool.cidrs, pool.allocations ?? [], alloc.prefix);
    errors.push(
      new ConfigError(
        k("ipamAllocatedCidr"),
        `${alloc.text} overlaps ${clash.text}, which IPAM pool ${pool.id} has already allocated`,
        `state a free block${free ? ` (the first free /${alloc.prefix} is ${free})` : ""}; if that allocation is this VPC's own (after a deploy), leave it out of the inventory's allocations`,
      ),
    );
  }
  return errors;
}

/**
 * The first block of `/length` inside the provisioned CIDRs (in address order) that overlaps nothing in
 * `taken`: a deterministic prediction of what the pool hands out; AWS picks the real one.
 */
export function firstFreeBlock(provisioned: string[], taken: string[], length: number): string | undefined {
  const used = parsed(taken);
  for (const c of parsed(provisioned).sort((a, b) => a.base - b.base || a.prefix - b.prefix)) {
    if (length < c.prefix || length > 32) continue;
    for (let i = 0; i < 2 ** (length - c.prefix); i++) {
      const text = subCidr(c, length, i) as string;
      const block = tryParseCidr(text) as Cidr;
      const hit = used.find((u) => cidrsOverlap(u, block));
      if (!hit) return text;
      // Skip past the allocation that covers this block when it is the larger one.
      if (hit.prefix < length) i += 2 ** (length - hit.prefix) - 1 - ((block.base - hit.base) >>> (32 - length));
    }
  }
  return undefined;
}
