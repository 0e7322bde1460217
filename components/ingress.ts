/**
 * One way to admit a peer to a component's security group: `IngressRules.allow(peer, description)`.
 * The proxy tier, the VPC endpoints and Aurora all use it, so the rules are the same everywhere:
 *
 * - The rule's resource name is `<prefix>-from-<peer>-<port>`, where <peer> is `cidr-10-0-0-0-16`
 *   or `sg-<key>`. It never comes from the description, so rewording a description updates the rule
 *   in place (the description is an in-place update of a VPC security group rule) instead of
 *   replacing it.
 * - A security-group peer needs a stable key: pass `{ securityGroupId, name }` (name = the peer's
 *   own component name, e.g. the function's), a literal `sg-…` id, or an Output that comes straight
 *   from one `aws.ec2.SecurityGroup` (its Pulumi name is the key).
 * - A CIDR peer must be a network address (no host bits) and never 0.0.0.0/0.
 * - The same peer and port twice is refused; so is an empty description. The description is
 *   reduced to the characters EC2 accepts in a rule description (255 at most, per the EC2 API).
 */
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { ConfigError } from "./errors";
import { tryParseCidr } from "./cidr";

/** A peer given with an explicit, stable key (recommended for Outputs). */
export interface SecurityGroupPeer {
  securityGroupId: pulumi.Input<string>;
  /** Stable key for the peer, e.g. the client function's component name. Letters, digits, '-', '_', '.'. */
  name: string;
}
export interface CidrPeer {
  cidr: string;
}
/** What `allowFrom` accepts: an explicit peer, a literal `sg-…` id, or a security group's id Output. */
export type IngressPeer = SecurityGroupPeer | CidrPeer | pulumi.Input<string>;

/** A literal security group id (tests use readable fakes such as "sg-connector", so not only hex). */
const SG_ID_RE = /^sg-[A-Za-z0-9]+$/;
const SECURITY_GROUP_TYPE = "aws:ec2/securityGroup:SecurityGroup";
/** Characters EC2 accepts in a security group rule description (EC2 API reference, IpRange/UserIdGroupPair). */
const DESCRIPTION_BAD_CHARS = /[^a-zA-Z0-9 ._\-:/()#,@[\]+=&;{}!$*]/g;
const DESCRIPTION_MAX = 255;

function slug(s: string): string {
  return s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "");
}

interface ResolvedPeer {
  key: string;
  source: { cidrIpv4: string } | { referencedSecurityGroupId: pulumi.Input<string> };
}

/** The peer's stable name part and the rule's source fields; throws a ConfigError keyed `errorKey`. */
export function resolvePeer(errorKey: string, peer: IngressPeer): ResolvedPeer {
  const sgFix =
    "pass { securityGroupId, name } with a stable name for the peer (e.g. the client function's name), or the id Output of one aws.ec2.SecurityGroup";
  if (peer !== null && typeof peer === "object" && !pulumi.Output.isInstance(peer) && !(peer instanceof Promise)) {
    if ("cidr" in peer) return cidrPeer(errorKey, peer.cidr);
    if ("securityGroupId" in peer) {
      const key = slug(String(peer.name ?? ""));
      if (key === "")
        throw new ConfigError(
          `${errorKey}.name`,
          `${JSON.stringify(peer.name)} has no letters or digits`,
          'name the peer after its own component, e.g. "saas-export"',
        );
      return { key: `sg-${key}`, source: { referencedSecurityGroupId: peer.securityGroupId } };
    }
  }
  if (typeof peer === "string") {
    if (SG_ID_RE.test(peer)) return { key: slug(peer), source: { referencedSecurityGroupId: peer } };
    if (peer.includes("/")) return cidrPeer(errorKey, peer);
    throw new ConfigError(
      errorKey,
      `${JSON.stringify(peer)} is neither a security group id (sg-…) nor an IPv4 CIDR`,
      sgFix,
    );
  }
  if (pulumi.Output.isInstance(peer)) {
    // An Output straight from one security group: its Pulumi name is stable across deployments.
    const from = [...(peer as unknown as { resources(): Set<pulumi.Resource> }).resources()];
    const groups = from.filter((r) => (r as unknown as { __pulumiType?: string }).__pulumiType === SECURITY_GROUP_TYPE);
    const name =
      groups.length === 1 && from.length === 1 ? (groups[0] as unknown as { __name?: string }).__name : undefined;
    if (name) return { key: `sg-${slug(name)}`, source: { referencedSecurityGroupId: peer } };
  }
  throw new ConfigError(
    errorKey,
    "the security group's id is not known before deployment and does not come from one security group",
    sgFix,
  );
}

function cidrPeer(errorKey: string, cidr: string): ResolvedPeer {
  const parsed = tryParseCidr(cidr);
  if (typeof parsed === "string")
    throw new ConfigError(errorKey, parsed, "give the client network as an IPv4 CIDR, e.g. 10.0.0.0/16");
  if (parsed.prefix === 0)
    throw new ConfigError(errorKey, "0.0.0.0/0 would admit every address", "give the client network's CIDR");
  return { key: `cidr-${slug(parsed.text)}`, source: { cidrIpv4: parsed.text } };
}

/** A rule description EC2 accepts: disallowed characters become spaces, at most 255 characters. */
export function ruleDescription(description: string): string {
  return description.replace(DESCRIPTION_BAD_CHARS, " ").slice(0, DESCRIPTION_MAX);
}

export interface IngressRulesOptions {
  /** The owning component's name: error keys read `<owner>.<method>`. */
  owner: string;
  /** Rule resource names start with this, e.g. the component's name. */
  namePrefix: string;
  /** The security group the rules are added to. */
  securityGroupId: pulumi.Input<string>;
  /** Parent (the component) of every rule; its provider is inherited. */
  parent: pulumi.Resource;
  tags?: Record<string, string>;
}

/** The ingress rules of one security group, admitted one peer and port at a time. */
export class IngressRules {
  private readonly used = new Set<string>();

  constructor(private readonly o: IngressRulesOptions) {}

  /**
   * Admits `peer` on TCP `port`. `method` names the calling method in errors (e.g. "allowFrom");
   * `previousNames` are names an earlier release of the kit gave the same rule: they become aliases,
   * so an existing stack keeps the rule instead of replacing it.
   */
  public allow(
    peer: IngressPeer,
    port: number,
    description: string,
    method = "allowFrom",
    previousNames: string[] = [],
  ): aws.vpc.SecurityGroupIngressRule {
    const errorKey = `${this.o.owner}.${method}`;
    if (!Number.isInteger(port) || port < 1 || port > 65535)
      throw new ConfigError(errorKey, `${JSON.stringify(port)} is not a TCP port`, "use 1..65535");
    if (typeof description !== "string" || !/[A-Za-z0-9]/.test(description)) {
      throw new ConfigError(
        errorKey,
        `description ${JSON.stringify(description)} has no letters or digits`,
        'describe the client in a few words, e.g. "saas-export function"',
      );
    }
    const { key, source } = resolvePeer(errorKey, peer);
    const name = `${this.o.namePrefix}-from-${key}-${port}`;
    if (this.used.has(name))
      throw new ConfigError(
        errorKey,
        `${key} is already allowed on port ${port} (rule "${name}")`,
        "allow each peer once; change the description on the existing call instead",
      );
    this.used.add(name);
    const aliases = previousNames.filter((n) => n !== name).map((n) => ({ name: n }));
    return new aws.vpc.SecurityGroupIngressRule(
      name,
      {
        securityGroupId: this.o.securityGroupId,
        ipProtocol: "tcp",
        fromPort: port,
        toPort: port,
        ...source,
        description: ruleDescription(description),
        tags: this.o.tags,
      },
      { parent: this.o.parent, ...(aliases.length > 0 ? { aliases } : {}) },
    );
  }
}

/** The description-derived name earlier releases used for `<prefix>-from-<slug>` rules (alias source). */
export function legacyDescriptionName(prefix: string, description: string, maxSlug?: number): string | undefined {
  let s = slug(description ?? "");
  if (maxSlug !== undefined) s = s.slice(0, maxSlug).replace(/-+$/, "");
  return s ? `${prefix}-from-${s}` : undefined;
}
