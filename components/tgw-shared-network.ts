import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { cidrsOverlap, Cidr, tryParseCidr } from "./cidr";
import { ACCOUNT_ID_RE, ORG_ARN_RE, OU_ARN_RE } from "./arns";
import { nameTags } from "./defaults";
import { ConfigError, throwIfAny } from "./errors";
import { createFlowLogs, flowLogsErrors, FlowLogsArgs, FlowLogsResult } from "./flow-logs";
import { PlannedComponent } from "./planned";

/**
 * A Transit Gateway owned by one account and shared through RAM with others (docs/designs.md §3). The owner
 * side (`TgwOwner`, account A) and each peer side (`TgwPeer`, account B) are separate components so
 * they can live in one stack with two providers (`TgwSharedNetwork`) or in two stacks in two accounts.
 */

/** A VPC attached to the Transit Gateway, as validation sees it. */
export interface TgwVpc {
  /** Name used in messages and child names, e.g. "egress" or "data" (lower-case letters, digits, dashes). */
  name: string;
  /** The VPC's CIDR blocks. */
  cidrBlocks: string[];
  /** The argument or config key the CIDRs come from, named in errors. Default `<name>.cidrBlocks`. */
  key?: string;
}

export type TgwPrincipalKind = "account" | "organizationalUnit" | "organization";

export interface TgwPrincipal {
  value: string;
  kind: TgwPrincipalKind;
}

/** Share and route-table options shared by {@link planTgw}, {@link TgwOwner} and {@link TgwSharedNetwork}. */
export interface TgwShareArgs {
  /**
   * RAM principals the Transit Gateway is shared with: 12-digit account ids, an OU ARN
   * (arn:aws:organizations::<management account>:ou/o-…/ou-…) or an organization ARN
   * (arn:aws:organizations::<management account>:organization/o-…). No default.
   */
  principals?: string[];
  /** Let RAM share with accounts outside this account's Organization. Default false (TgwOwner), acceptShare (TgwSharedNetwork). */
  allowExternalPrincipals?: boolean;
  /**
   * The peers accept the share's invitation with a ResourceShareAccepter: true outside an
   * Organization with RAM sharing enabled (invitations are used), false inside one (the share is
   * usable as soon as the principal association exists). Default true (the usual recipe's two accounts).
   */
  acceptShare?: boolean;
  /** Account ids of the peers, when known: checked to be reachable through `principals`. Default unchecked. */
  peerAccountIds?: string[];
  /** Attachments are associated with the TGW's default route table. Default true. */
  defaultRouteTableAssociation?: boolean;
  /** Attachments propagate their CIDRs to the TGW's default route table. Default true. */
  defaultRouteTablePropagation?: boolean;
  /** Private ASN of the Amazon side of the TGW (64512–65534 or 4200000000–4294967294). Default AWS's 64512. */
  amazonSideAsn?: number;
}

export interface TgwPlanArgs extends TgwShareArgs {
  owner: TgwVpc;
  peers: TgwVpc[];
}

/** The validated shape of a shared Transit Gateway. Pure: no resources. */
export interface TgwPlan {
  /** Undefined when the caller does not share (a peer-only or apps-only view). */
  principals: TgwPrincipal[] | undefined;
  allowExternalPrincipals: boolean;
  acceptShare: boolean;
  /** true: the TGW's default route table does association and propagation; false: an explicit route table. */
  defaultRouteTables: boolean;
  amazonSideAsn?: number;
  owner: TgwVpc;
  peers: TgwVpc[];
}

const ACCOUNT_RE = ACCOUNT_ID_RE;
const NAME_RE = /^[a-z][a-z0-9-]{0,30}$/;
/** EC2 id shapes (AWS: a prefix and 8 or 17 hex digits). */
export const TGW_ID_RE = /^tgw-([0-9a-f]{8}|[0-9a-f]{17})$/;
export const TGW_RTB_ID_RE = /^tgw-rtb-([0-9a-f]{8}|[0-9a-f]{17})$/;
export const TGW_ATTACH_ID_RE = /^tgw-attach-([0-9a-f]{8}|[0-9a-f]{17})$/;

/** An account id, an OU ARN or an organization ARN; undefined for anything else. */
export function principalKind(p: string): TgwPrincipalKind | undefined {
  if (ACCOUNT_RE.test(p)) return "account";
  if (OU_ARN_RE.test(p)) return "organizationalUnit";
  if (ORG_ARN_RE.test(p)) return "organization";
  return undefined;
}

function isPrivateAsn(n: number): boolean {
  return Number.isInteger(n) && ((n >= 64512 && n <= 65534) || (n >= 4200000000 && n <= 4294967294));
}

/**
 * Attached VPCs' CIDRs must be valid and pairwise disjoint: a TGW route table cannot send one range
 * to two attachments, and a VPC route to a peer range that overlaps its own is never used. Each
 * problem names both VPCs and both CIDRs.
 */
export function checkTgwCidrs(vpcs: TgwVpc[], errors: ConfigError[]): void {
  const seen: { vpc: TgwVpc; key: string; cidr: Cidr }[] = [];
  const keyOf = (v: TgwVpc) => v.key ?? `${v.name}.cidrBlocks`;
  for (const vpc of vpcs) {
    if (vpc.cidrBlocks.length === 0) {
      errors.push(new ConfigError(keyOf(vpc), `VPC "${vpc.name}" has no CIDR block`, "give the VPC's CIDR blocks"));
    }
    for (const text of vpc.cidrBlocks) {
      const c = tryParseCidr(text);
      if (typeof c === "string") {
        errors.push(new ConfigError(keyOf(vpc), c, "give an IPv4 CIDR such as 10.1.0.0/16"));
        continue;
      }
      for (const other of seen) {
        if (other.vpc === vpc || !cidrsOverlap(other.cidr, c)) continue;
        errors.push(
          new ConfigError(
            keyOf(vpc),
            `VPC "${vpc.name}" (${text}) overlaps VPC "${other.vpc.name}" (${other.cidr.text}, ${other.key}); both attach to the Transit Gateway, which cannot route between overlapping ranges`,
            `give the attached VPCs disjoint CIDRs, e.g. 10.0.0.0/16 and 10.1.0.0/16`,
          ),
        );
      }
      seen.push({ vpc, key: keyOf(vpc), cidr: c });
    }
  }
}

/** Validates the share and route-table options; each problem names `<keyPrefix><argument>`. */
export function checkTgwShare(
  args: TgwShareArgs,
  keyPrefix: string,
  errors: ConfigError[],
): Omit<TgwPlan, "owner" | "peers"> {
  const k = (s: string) => `${keyPrefix}${s}`;
  // Unknown (an owner built alone): the accepter-related cross-checks are skipped.
  const acceptKnown = args.acceptShare !== undefined;
  const acceptShare = args.acceptShare ?? true;
  const allowExternalPrincipals = args.allowExternalPrincipals ?? acceptShare;
  const association = args.defaultRouteTableAssociation ?? true;
  const propagation = args.defaultRouteTablePropagation ?? true;
  let principals: TgwPrincipal[] | undefined;

  if (args.principals !== undefined) {
    principals = [];
    if (args.principals.length === 0) {
      errors.push(
        new ConfigError(
          k("principals"),
          "the Transit Gateway is shared with nobody",
          "list the account ids (or the OU / organization ARN) that attach VPCs to it",
        ),
      );
    }
    const seen = new Set<string>();
    args.principals.forEach((p, i) => {
      const kind = principalKind(p);
      if (!kind) {
        errors.push(
          new ConfigError(
            k(`principals[${i}]`),
            `"${p}" is not a RAM principal for a Transit Gateway share`,
            "give a 12-digit account id, an OU ARN (arn:aws:organizations::<management account>:ou/o-…/ou-…) or an organization ARN (arn:aws:organizations::<management account>:organization/o-…)",
          ),
        );
        return;
      }
      if (seen.has(p)) {
        errors.push(new ConfigError(k(`principals[${i}]`), `"${p}" is listed twice`, "list each principal once"));
        return;
      }
      seen.add(p);
      principals!.push({ value: p, kind });
    });
    const accounts = principals.filter((p) => p.kind === "account").map((p) => p.value);
    const orgWide = principals.filter((p) => p.kind !== "account");
    if (acceptKnown && acceptShare && orgWide.length > 0) {
      errors.push(
        new ConfigError(
          k("principals"),
          `${orgWide.map((p) => p.value).join(", ")}: OU and organization principals work only with RAM sharing through AWS Organizations, where no invitation is sent, but acceptShare is true (peers outside an Organization): within an Organization with RAM sharing enabled, shares are accepted automatically`,
          "share with account ids when the peers accept an invitation, or set acceptShare to false inside an Organization with RAM sharing enabled",
        ),
      );
    }
    if (acceptKnown && acceptShare && !allowExternalPrincipals && accounts.length > 0) {
      errors.push(
        new ConfigError(
          k("allowExternalPrincipals"),
          `false, but acceptShare is true: the peers are outside the Organization and RAM refuses account principals outside it unless external principals are allowed`,
          "set allowExternalPrincipals to true, or set acceptShare to false if every peer is in the Organization with RAM sharing enabled",
        ),
      );
    }
    if (principals.length > 0) {
      for (const peer of args.peerAccountIds ?? []) {
        if (accounts.includes(peer)) continue;
        if ((acceptKnown && acceptShare) || orgWide.length === 0) {
          errors.push(
            new ConfigError(
              k("principals"),
              `peer account ${peer} is not among the principals (${args.principals.join(", ")}), so it ${acceptShare ? "receives no invitation to accept" : "never sees the Transit Gateway"}`,
              `add "${peer}" to the principals`,
            ),
          );
        }
      }
    }
  }
  if (association !== propagation) {
    errors.push(
      new ConfigError(
        k(association ? "defaultRouteTablePropagation" : "defaultRouteTableAssociation"),
        `defaultRouteTableAssociation is ${association} and defaultRouteTablePropagation is ${propagation}; a shared attachment cannot opt out of the TGW's defaults, so a mixed setting leaves attachments associated with a table nothing propagates to, or propagating to a table nothing uses`,
        "set both true (the default route table routes every attachment to every other) or both false (an explicit route table with an association and a propagation per attachment)",
      ),
    );
  }
  if (args.amazonSideAsn !== undefined && !isPrivateAsn(args.amazonSideAsn)) {
    errors.push(
      new ConfigError(
        k("amazonSideAsn"),
        `${args.amazonSideAsn} is not a private ASN`,
        "use 64512–65534 or 4200000000–4294967294, or leave it unset for 64512",
      ),
    );
  }
  return {
    principals,
    allowExternalPrincipals,
    acceptShare,
    defaultRouteTables: association && propagation,
    amazonSideAsn: args.amazonSideAsn,
  };
}

/**
 * Validates a whole shared Transit Gateway before anything is registered: CIDRs disjoint across the
 * owner and every peer, names usable in resource names, principals well-formed and consistent with
 * the accepter switch, route-table options coherent. Every problem is reported at once.
 */
export function planTgw(args: TgwPlanArgs, keyPrefix = ""): TgwPlan {
  const errors: ConfigError[] = [];
  const vpcs = [args.owner, ...args.peers];
  const names = new Set<string>();
  vpcs.forEach((v, i) => {
    const key = i === 0 ? `${keyPrefix}owner.name` : `${keyPrefix}peers[${i - 1}].name`;
    if (!NAME_RE.test(v.name))
      errors.push(
        new ConfigError(
          key,
          `"${v.name}" cannot be part of a resource name`,
          "use lower-case letters, digits and dashes, starting with a letter (at most 31 characters)",
        ),
      );
    else if (names.has(v.name))
      errors.push(new ConfigError(key, `"${v.name}" names two attached VPCs`, "give every attached VPC its own name"));
    names.add(v.name);
  });
  if (args.peers.length === 0)
    errors.push(new ConfigError(`${keyPrefix}peers`, "no peer VPC", "give at least one peer VPC to route to"));
  checkTgwCidrs(vpcs, errors);
  const share = checkTgwShare(args, keyPrefix, errors);
  throwIfAny(errors);
  return { ...share, owner: args.owner, peers: args.peers };
}

// --- Segmentation: several TGW route tables, each with its associations, propagations and static
// routes, and pairs of attachments that must never reach each other.

/** A static route in a TGW route table: to a named attachment, or a blackhole (traffic dropped). */
export interface TgwStaticRoute {
  cidr: string;
  /** The attachment the route sends to (an attached VPC's name). Exactly one of attachment / blackhole. */
  attachment?: string;
  /** Drop traffic to `cidr` (a blackhole route). */
  blackhole?: boolean;
}

/** One TGW route table of a segmented Transit Gateway. */
export interface TgwRouteTableSpec {
  /** Used in child names and messages (lower-case letters, digits, dashes). */
  name: string;
  /** Attachments (attached VPCs' names) whose traffic this table routes; an attachment has one table. */
  associate: string[];
  /** Attachments whose VPC CIDRs are propagated into this table. */
  propagate: string[];
  /** Static and blackhole routes; a static route wins over a propagated one of the same prefix. */
  routes: TgwStaticRoute[];
}

/** Per-attachment options. */
export interface TgwAttachmentOptions {
  /** Appliance mode: a flow keeps one zone's appliance both ways (stateful firewalls in the VPC). Default false. */
  applianceMode?: boolean;
  /** DNS resolution of the other VPCs' public DNS names to private addresses. Default true. */
  dnsSupport?: boolean;
}

export interface TgwSegments {
  routeTables: TgwRouteTableSpec[];
  /** Pairs of attachments that must not reach each other (either way); the checker proves it. */
  isolate: [string, string][];
  attachmentOptions: Record<string, TgwAttachmentOptions>;
}

/** The error for `name` at config key `key` when it is none of the Transit Gateway's attachments; none when it is one. */
export function unknownAttachmentErrors(name: string, key: string, attachments: readonly string[]): ConfigError[] {
  if (attachments.includes(name)) return [];
  return [
    new ConfigError(
      key,
      `"${name}" is not an attachment of this Transit Gateway`,
      `use one of ${attachments.join(", ")}`,
    ),
  ];
}

const TGW_ROUTE_TABLE_LIMIT = 20; // AWS quota "Transit gateway route tables per transit gateway" (default 20).

/**
 * Validates segmentation against the attached VPCs' names: unique usable table names, associations
 * and propagations and routes naming known attachments, at most one table per attachment (AWS
 * associates an attachment with exactly one TGW route table), every attachment associated (else it
 * routes nowhere), static routes with exactly one target, isolated pairs of known, distinct
 * attachments that no table contradicts (the source's table propagating or routing to the other).
 */
export function checkTgwSegments(
  seg: TgwSegments,
  attachments: string[],
  keyPrefix: string,
  errors: ConfigError[],
): void {
  const k = (s: string) => `${keyPrefix}${s}`;
  const known = (name: string, key: string) => {
    const unknown = unknownAttachmentErrors(name, key, attachments);
    errors.push(...unknown);
    return unknown.length === 0;
  };
  const tableNames = new Set<string>();
  const associatedTo = new Map<string, string>();
  if (seg.routeTables.length > TGW_ROUTE_TABLE_LIMIT)
    errors.push(
      new ConfigError(
        k("routeTables"),
        `${seg.routeTables.length} route tables; AWS allows ${TGW_ROUTE_TABLE_LIMIT} per Transit Gateway by default`,
        "merge route tables or raise the quota first",
      ),
    );
  seg.routeTables.forEach((t, i) => {
    const tk = `routeTables[${i}]`;
    if (!NAME_RE.test(t.name))
      errors.push(
        new ConfigError(
          k(`${tk}.name`),
          `"${t.name}" cannot be part of a resource name`,
          "use lower-case letters, digits and dashes, starting with a letter",
        ),
      );
    else if (tableNames.has(t.name))
      errors.push(
        new ConfigError(k(`${tk}.name`), `"${t.name}" names two route tables`, "give every route table its own name"),
      );
    tableNames.add(t.name);
    t.associate.forEach((a, j) => {
      if (!known(a, k(`${tk}.associate[${j}]`))) return;
      const other = associatedTo.get(a);
      if (other !== undefined)
        errors.push(
          new ConfigError(
            k(`${tk}.associate[${j}]`),
            `attachment "${a}" is associated with route tables "${other}" and "${t.name}", and AWS associates an attachment with one table`,
            `remove "${a}" from one of the two associate lists`,
          ),
        );
      else associatedTo.set(a, t.name);
    });
    t.propagate.forEach((a, j) => known(a, k(`${tk}.propagate[${j}]`)));
    const dests = new Set<string>();
    t.routes.forEach((r, j) => {
      const rk = k(`${tk}.routes[${j}]`);
      const c = tryParseCidr(r.cidr);
      if (typeof c === "string") errors.push(new ConfigError(`${rk}.cidr`, c, "give an IPv4 CIDR such as 10.1.0.0/16"));
      else if (dests.has(c.text))
        errors.push(
          new ConfigError(
            `${rk}.cidr`,
            `${c.text} has two static routes in route table "${t.name}"`,
            "keep one route per CIDR",
          ),
        );
      else dests.add(c.text);
      if ((r.attachment !== undefined) === (r.blackhole === true))
        errors.push(
          new ConfigError(
            rk,
            `a route needs exactly one of attachment and blackhole: true`,
            `give attachment (one of ${attachments.join(", ")}) or blackhole: true`,
          ),
        );
      else if (r.attachment !== undefined) known(r.attachment, `${rk}.attachment`);
    });
  });
  if (seg.routeTables.length > 0) {
    for (const a of attachments) {
      if (!associatedTo.has(a))
        errors.push(
          new ConfigError(
            k("routeTables"),
            `attachment "${a}" is associated with no route table, so the Transit Gateway routes none of its traffic`,
            `add "${a}" to one route table's associate list`,
          ),
        );
    }
  }
  seg.isolate.forEach((pair, i) => {
    const ik = k(`isolate[${i}]`);
    if (pair.length !== 2 || pair[0] === pair[1]) {
      errors.push(
        new ConfigError(
          ik,
          `${JSON.stringify(pair)} is not a pair of two different attachments`,
          `give two attachment names, e.g. [${attachments.slice(0, 2).join(", ")}]`,
        ),
      );
      return;
    }
    if (!pair.every((a, j) => known(a, `${ik}[${j}]`))) return;
    if (seg.routeTables.length === 0) {
      errors.push(
        new ConfigError(
          ik,
          `attachments "${pair[0]}" and "${pair[1]}" share the default route table, which routes every attachment to every other`,
          "define transitGateway.routeTables that keep them apart",
        ),
      );
      return;
    }
    for (const [from, to] of [pair, [pair[1], pair[0]]]) {
      const t = seg.routeTables.find((rt) => rt.associate.includes(from));
      if (!t) continue;
      if (t.propagate.includes(to))
        errors.push(
          new ConfigError(
            ik,
            `"${from}" must not reach "${to}", but its route table "${t.name}" propagates "${to}"`,
            `remove "${to}" from route table "${t.name}"'s propagate list`,
          ),
        );
      const r = t.routes.find((x) => x.attachment === to);
      if (r)
        errors.push(
          new ConfigError(
            ik,
            `"${from}" must not reach "${to}", but its route table "${t.name}" routes ${r.cidr} to "${to}"`,
            `remove that route, or make it a blackhole`,
          ),
        );
    }
  });
  for (const [name] of Object.entries(seg.attachmentOptions)) known(name, k(`attachmentOptions.${name}`));
}

/** Tags the checker reads to know an attachment's name and what it must not reach. */
export function segmentTags(seg: TgwSegments | undefined, attachment: string): Record<string, string> {
  if (!seg) return {};
  const isolated = seg.isolate.filter((p) => p.includes(attachment)).map((p) => (p[0] === attachment ? p[1] : p[0]));
  return { "vlk:attachment": attachment, ...(isolated.length > 0 ? { "vlk:isolated-from": isolated.join(" ") } : {}) };
}

/** The attachment arguments its options give (AWS defaults: appliance mode off, DNS support on). */
export function attachmentOptionArgs(
  seg: TgwSegments | undefined,
  attachment: string,
): { dnsSupport: string; applianceModeSupport?: string } {
  const o = seg?.attachmentOptions[attachment] ?? {};
  return {
    dnsSupport: o.dnsSupport === false ? "disable" : "enable",
    ...(o.applianceMode ? { applianceModeSupport: "enable" } : {}),
  };
}

function cidrLabel(cidr: string): string {
  return cidr.replace(/[./]/g, "-");
}

/**
 * Segmented mode: the associations, propagations and static routes of one attachment in every
 * route table that names it. Like {@link tgwRouteTableMembership}, only the TGW's owner may do this.
 */
export function tgwSegmentMembership(
  prefix: string,
  seg: TgwSegments,
  tableIds: Record<string, pulumi.Input<string>>,
  attachment: string,
  attachmentId: pulumi.Input<string>,
  opts: pulumi.CustomResourceOptions,
): pulumi.Resource[] {
  const out: pulumi.Resource[] = [];
  for (const t of seg.routeTables) {
    const transitGatewayRouteTableId = tableIds[t.name];
    if (transitGatewayRouteTableId === undefined)
      throw new Error(
        `no id for Transit Gateway route table "${t.name}". Fix: deploy the network stack with the same transitGateway.routeTables`,
      );
    const args = { transitGatewayRouteTableId, transitGatewayAttachmentId: attachmentId };
    if (t.associate.includes(attachment))
      out.push(
        new aws.ec2transitgateway.RouteTableAssociation(`${prefix}-${t.name}-${attachment}-association`, args, opts),
      );
    if (t.propagate.includes(attachment))
      out.push(
        new aws.ec2transitgateway.RouteTablePropagation(`${prefix}-${t.name}-${attachment}-propagation`, args, opts),
      );
    for (const r of t.routes.filter((x) => x.attachment === attachment)) {
      out.push(
        new aws.ec2transitgateway.Route(
          `${prefix}-${t.name}-to-${cidrLabel(r.cidr)}`,
          { ...args, destinationCidrBlock: r.cidr },
          opts,
        ),
      );
    }
  }
  return out;
}

/**
 * Associates an attachment with a TGW route table and propagates its CIDRs into it. Only the
 * Transit Gateway's owner may do this, also for attachments from other accounts: create it with
 * the owner account's provider.
 */
export function tgwRouteTableMembership(
  name: string,
  args: { transitGatewayRouteTableId: pulumi.Input<string>; transitGatewayAttachmentId: pulumi.Input<string> },
  opts: pulumi.CustomResourceOptions,
): {
  association: aws.ec2transitgateway.RouteTableAssociation;
  propagation: aws.ec2transitgateway.RouteTablePropagation;
} {
  const association = new aws.ec2transitgateway.RouteTableAssociation(`${name}-association`, args, opts);
  const propagation = new aws.ec2transitgateway.RouteTablePropagation(`${name}-propagation`, args, opts);
  return { association, propagation };
}

function routeLabel(name: string, cidrs: readonly unknown[], j: number): string {
  return cidrs.length === 1 ? name : `${name}-${j}`;
}

export interface TgwOwnerArgs extends Omit<TgwShareArgs, "acceptShare" | "principals"> {
  /** The owner VPC (account A). */
  vpcId: pulumi.Input<string>;
  /** The owner VPC's CIDR blocks (plain: checked against the peers' before anything is registered). */
  cidrBlocks: string[];
  /** Name of the owner VPC in messages. Default "owner". */
  vpcName?: string;
  /** Subnets of the owner's attachment, one per availability zone: the private subnets. */
  subnetIds: pulumi.Input<string>[];
  /** Route tables that get a route to every peer CIDR through the TGW: the private route tables. */
  routeTableIds: pulumi.Input<string>[];
  /** The VPCs that attach from the principals' accounts: routes go to each of their CIDRs. */
  peers: TgwVpc[];
  /** RAM principals (see {@link TgwShareArgs.principals}). Required. */
  principals: string[];
  /**
   * Whether the peers accept an invitation (outside an Organization). Only used to check the
   * principals and allowExternalPrincipals are consistent with it. Default unchecked.
   */
  acceptShare?: boolean;
  /** RAM share name. Default `<name>-share`. */
  shareName?: string;
  /**
   * Several TGW route tables (validated with {@link checkTgwSegments}); implies explicit route
   * tables (the defaults off). Peers join through {@link TgwOwner.admit}. Default: one table, or the
   * defaults.
   */
  segments?: TgwSegments;
  /** Flow logs of the Transit Gateway (CloudWatch Logs or S3; components/flow-logs.ts). Default off. */
  flowLogs?: FlowLogsArgs;
  /** Tags for every taggable child. */
  tags?: Record<string, string>;
}

/**
 * Account A's side: the Transit Gateway (shared attachments auto-accepted, DNS support on), a RAM
 * share with its principals, the owner VPC's attachment in its private subnets, and a route from
 * every given route table to every peer CIDR through the TGW. With the default route tables off,
 * an explicit TGW route table that the owner's attachment is associated with and propagates to;
 * peers' attachments join it through {@link TgwOwner.admit} (the owner's account must do that).
 */
export class TgwOwner extends PlannedComponent<TgwPlan> {
  public readonly transitGatewayId: pulumi.Output<string>;
  public readonly transitGatewayArn: pulumi.Output<string>;
  /**
   * The TGW id, resolved only once the share holds the TGW and every principal association exists:
   * give this to peers in the same program so their attachments wait for the share.
   */
  public readonly sharedTransitGatewayId: pulumi.Output<string>;
  /** The Transit Gateway's flow log, when `flowLogs.enabled`. */
  public readonly flowLogs?: FlowLogsResult;
  /** The RAM share ARN, resolved once every principal association exists (what an accepter needs). */
  public readonly shareArn: pulumi.Output<string>;
  /** The owner VPC's attachment. */
  public readonly attachmentId: pulumi.Output<string>;
  /** The explicit TGW route table (the first one when segmented); undefined with the default route tables. */
  public readonly routeTableId: pulumi.Output<string> | undefined;
  /** Segmented mode: every TGW route table's id by its name; empty otherwise. */
  public readonly routeTableIds: Record<string, pulumi.Output<string>> = {};
  private readonly segments: TgwSegments | undefined;

  constructor(name: string, args: TgwOwnerArgs, opts: pulumi.ComponentResourceOptions = {}) {
    const segmented = (args.segments?.routeTables.length ?? 0) > 0;
    const plan = planTgw({
      ...args,
      ...(segmented ? { defaultRouteTableAssociation: false, defaultRouteTablePropagation: false } : {}),
      // Alone, the owner defaults to RAM's own setting: no external principals unless asked.
      allowExternalPrincipals: args.allowExternalPrincipals ?? args.acceptShare ?? false,
      owner: { name: args.vpcName ?? "owner", cidrBlocks: args.cidrBlocks, key: "cidrBlocks" },
    });
    const errors: ConfigError[] = flowLogsErrors(args.flowLogs, "flowLogs", "tgw");
    if (args.segments)
      checkTgwSegments(args.segments, [plan.owner.name, ...plan.peers.map((p) => p.name)], "segments.", errors);
    throwIfAny(errors);
    super("vpc-lambda-kit:network:TgwOwner", name, plan, { plan }, opts);
    this.segments = segmented ? args.segments : undefined;
    const tags = nameTags(name, args.tags);
    const child = { parent: this };
    const enable = (on: boolean) => (on ? "enable" : "disable");

    const tgw = new aws.ec2transitgateway.TransitGateway(
      `${name}-tgw`,
      {
        description: `${name}: shared with ${(plan.principals ?? []).map((p) => p.value).join(", ")}`,
        amazonSideAsn: plan.amazonSideAsn,
        // Attachments from the principals' accounts become available without a manual accept here.
        autoAcceptSharedAttachments: "enable",
        // Peers resolve each other's DNS names (the RDS endpoint) to private addresses across the TGW.
        dnsSupport: "enable",
        defaultRouteTableAssociation: enable(plan.defaultRouteTables),
        defaultRouteTablePropagation: enable(plan.defaultRouteTables),
        tags: tags("tgw"),
      },
      child,
    );
    this.transitGatewayId = tgw.id;
    this.transitGatewayArn = tgw.arn;
    if (args.flowLogs?.enabled)
      this.flowLogs = createFlowLogs(name, { transitGatewayId: tgw.id }, args.flowLogs, this, tags);

    const share = new aws.ram.ResourceShare(
      `${name}-share`,
      {
        name: args.shareName ?? `${name}-share`,
        allowExternalPrincipals: plan.allowExternalPrincipals,
        tags: tags("share"),
      },
      child,
    );
    const resource = new aws.ram.ResourceAssociation(
      `${name}-share-tgw`,
      { resourceArn: tgw.arn, resourceShareArn: share.arn },
      { parent: share },
    );
    const principals = (plan.principals ?? []).map(
      (p, i) =>
        new aws.ram.PrincipalAssociation(
          `${name}-share-principal-${i}`,
          { principal: p.value, resourceShareArn: share.arn },
          { parent: share },
        ),
    );
    this.shareArn = pulumi.all([share.arn, ...principals.map((p) => p.id)]).apply(([arn]) => arn);
    this.sharedTransitGatewayId = pulumi.all([tgw.id, resource.id, ...principals.map((p) => p.id)]).apply(([id]) => id);

    const attachment = new aws.ec2transitgateway.VpcAttachment(
      `${name}-attachment`,
      {
        transitGatewayId: tgw.id,
        vpcId: args.vpcId,
        subnetIds: args.subnetIds,
        ...attachmentOptionArgs(args.segments, plan.owner.name),
        // With an explicit route table the provider must not touch the defaults; with the defaults on,
        // leaving these unset keeps AWS's behaviour (associate + propagate).
        ...(plan.defaultRouteTables
          ? {}
          : { transitGatewayDefaultRouteTableAssociation: false, transitGatewayDefaultRouteTablePropagation: false }),
        tags: { ...tags("attachment"), ...segmentTags(args.segments, plan.owner.name) },
      },
      child,
    );
    this.attachmentId = attachment.id;

    if (this.segments) {
      for (const t of this.segments.routeTables) {
        const rt = new aws.ec2transitgateway.RouteTable(
          `${name}-rt-${t.name}`,
          { transitGatewayId: tgw.id, tags: tags(`rt-${t.name}`) },
          child,
        );
        this.routeTableIds[t.name] = rt.id;
        for (const r of t.routes.filter((x) => x.blackhole)) {
          new aws.ec2transitgateway.Route(
            `${name}-rt-${t.name}-blackhole-${cidrLabel(r.cidr)}`,
            { transitGatewayRouteTableId: rt.id, destinationCidrBlock: r.cidr, blackhole: true },
            { parent: rt },
          );
        }
      }
      this.routeTableId = this.routeTableIds[this.segments.routeTables[0].name];
      this.admit(plan.owner.name, attachment.id);
    } else if (!plan.defaultRouteTables) {
      const rt = new aws.ec2transitgateway.RouteTable(
        `${name}-rt`,
        { transitGatewayId: tgw.id, tags: tags("rt") },
        child,
      );
      this.routeTableId = rt.id;
      this.admit(plan.owner.name, attachment.id);
    }

    // A VPC route to a TGW the VPC is not attached to is refused: routes wait for the attachment.
    args.routeTableIds.forEach((routeTableId, i) => {
      for (const peer of plan.peers) {
        peer.cidrBlocks.forEach((cidr, j) => {
          new aws.ec2.Route(
            `${name}-rt${i}-to-${routeLabel(peer.name, peer.cidrBlocks, j)}`,
            {
              routeTableId,
              destinationCidrBlock: cidr,
              transitGatewayId: tgw.id,
            },
            { parent: this, dependsOn: [attachment] },
          );
        });
      }
    });

    this.registerOutputs({
      transitGatewayId: this.transitGatewayId,
      shareArn: this.shareArn,
      attachmentId: this.attachmentId,
      routeTableId: this.routeTableId,
    });
  }

  /**
   * Explicit route table mode: associates `attachmentId` (e.g. a peer's, from another account) with
   * this TGW's route table and propagates its CIDRs there. Does nothing with the default route
   * tables, where AWS does both.
   */
  public admit(label: string, attachmentId: pulumi.Input<string>): void {
    if (this.segments) {
      tgwSegmentMembership(this.name, this.segments, this.routeTableIds, label, attachmentId, { parent: this });
      return;
    }
    if (!this.routeTableId) return;
    tgwRouteTableMembership(
      `${this.name}-${label}`,
      { transitGatewayRouteTableId: this.routeTableId, transitGatewayAttachmentId: attachmentId },
      { parent: this },
    );
  }
}

export interface TgwPeerArgs {
  /** The shared TGW's id: TgwOwner.sharedTransitGatewayId in the same program, or the owner stack's output. */
  transitGatewayId: pulumi.Input<string>;
  /** The RAM share ARN (TgwOwner.shareArn or the owner stack's output). Required when acceptShare is true. */
  shareArn?: pulumi.Input<string>;
  /**
   * Accept the share's invitation (ResourceShareAccepter): needed outside an Organization with RAM
   * sharing. Inside one there is no invitation and the share is usable as soon as the owner's
   * principal association exists, so set false. Default true.
   */
  acceptShare?: boolean;
  /** This (peer) VPC. */
  vpcId: pulumi.Input<string>;
  /** This VPC's CIDR blocks (plain: checked against the owner's). */
  cidrBlocks: string[];
  /** Name of this VPC in messages. Default the component name. */
  vpcName?: string;
  /** Subnets of this VPC's attachment, one per availability zone. */
  subnetIds: pulumi.Input<string>[];
  /** Route tables that get a route to every owner CIDR through the TGW. */
  routeTableIds: pulumi.Input<string>[];
  /** The owner VPC's CIDR blocks. Plain strings are checked now; Outputs (another stack's) when they resolve. */
  ownerCidrBlocks: pulumi.Input<string>[];
  /** Name of the owner VPC in messages and route names. Default "owner". */
  ownerName?: string;
  /** Segmentation (for this attachment's options and the checker's tags). Default none. */
  segments?: TgwSegments;
  /** Adopt this existing attachment (tgw-attach-…) instead of creating one. Default: create one. */
  existingAttachmentId?: string;
  /**
   * False: the attachment stays out of the TGW's default route tables (it is associated explicitly). Only for a
   * TGW of the attachment's own account (the option cannot be set on an attachment to a RAM-shared TGW). Default unset.
   */
  defaultRouteTables?: boolean;
  /** Tags for every taggable child. */
  tags?: Record<string, string>;
}

/**
 * Account B's side: accepts the RAM share when it comes by invitation, attaches this VPC to the
 * shared TGW once the share is usable, and routes every given route table to the owner's CIDRs
 * through it. Create it with account B's provider. The attachment cannot choose TGW route tables
 * (RAM-shared TGWs do not allow it); the owner decides (TgwOwner.admit in explicit mode).
 */
export class TgwPeer extends pulumi.ComponentResource {
  /** This VPC's attachment: the owner admits it to an explicit route table. */
  public readonly attachmentId: pulumi.Output<string>;
  /** The accepter's share status; undefined without an accepter. */
  public readonly shareStatus: pulumi.Output<string> | undefined;

  constructor(name: string, args: TgwPeerArgs, opts: pulumi.ComponentResourceOptions = {}) {
    const acceptShare = args.acceptShare ?? true;
    const vpcName = args.vpcName ?? name;
    const ownerName = args.ownerName ?? "owner";
    const errors: ConfigError[] = [];
    if (acceptShare && args.shareArn === undefined) {
      errors.push(
        new ConfigError(
          "shareArn",
          "acceptShare is true but no share ARN is given",
          "pass the owner's shareArn, or set acceptShare to false inside an Organization with RAM sharing",
        ),
      );
    }
    if (args.existingAttachmentId !== undefined && !TGW_ATTACH_ID_RE.test(args.existingAttachmentId))
      errors.push(
        new ConfigError(
          "existingAttachmentId",
          `"${args.existingAttachmentId}" is not a Transit Gateway attachment id`,
          "give an id such as tgw-attach-0123456789abcdef0",
        ),
      );
    if (!NAME_RE.test(ownerName))
      errors.push(
        new ConfigError(
          "ownerName",
          `"${ownerName}" cannot be part of a resource name`,
          "use lower-case letters, digits and dashes",
        ),
      );
    const plainOwner = args.ownerCidrBlocks.filter((c): c is string => typeof c === "string");
    const owner: TgwVpc = { name: ownerName, cidrBlocks: plainOwner, key: "ownerCidrBlocks" };
    const self: TgwVpc = { name: vpcName, cidrBlocks: args.cidrBlocks, key: "cidrBlocks" };
    if (args.ownerCidrBlocks.length === 0)
      errors.push(new ConfigError("ownerCidrBlocks", "no owner CIDR to route to", "give the owner VPC's CIDR blocks"));
    checkTgwCidrs(plainOwner.length > 0 ? [owner, self] : [self], errors);
    throwIfAny(errors);
    super("vpc-lambda-kit:network:TgwPeer", name, { acceptShare }, opts);
    const tags = nameTags(name, args.tags);
    const child = { parent: this };

    // Outside an Organization the TGW is not usable until the invitation is accepted; inside one
    // (RAM sharing with Organizations on) there is no invitation and no accepter.
    const accepter = acceptShare
      ? new aws.ram.ResourceShareAccepter(
          `${name}-accepter`,
          { shareArn: args.shareArn as pulumi.Input<string> },
          child,
        )
      : undefined;
    this.shareStatus = accepter?.status;

    // An adopted attachment (created elsewhere, e.g. by a network team) is used by id; routes need no wait.
    const attachment =
      args.existingAttachmentId !== undefined
        ? undefined
        : new aws.ec2transitgateway.VpcAttachment(
            `${name}-attachment`,
            {
              transitGatewayId: args.transitGatewayId,
              vpcId: args.vpcId,
              subnetIds: args.subnetIds,
              ...attachmentOptionArgs(args.segments, vpcName),
              // transitGatewayDefaultRouteTable{Association,Propagation} stay unset unless the TGW is this
              // account's own: they cannot be set on an attachment to a RAM-shared TGW.
              ...(args.defaultRouteTables === false
                ? {
                    transitGatewayDefaultRouteTableAssociation: false,
                    transitGatewayDefaultRouteTablePropagation: false,
                  }
                : {}),
              tags: { ...tags("attachment"), ...segmentTags(args.segments, vpcName) },
            },
            { parent: this, dependsOn: accepter ? [accepter] : [] },
          );
    this.attachmentId = attachment ? attachment.id : pulumi.output(args.existingAttachmentId as string);

    // Another stack's owner CIDR is only known now: check it against ours before routing to it.
    const ownerCidrs = args.ownerCidrBlocks.map((c) =>
      typeof c === "string"
        ? pulumi.output(c)
        : pulumi.output(c).apply((text) => {
            const errs: ConfigError[] = [];
            checkTgwCidrs([{ ...owner, cidrBlocks: [text] }, self], errs);
            throwIfAny(errs);
            return text;
          }),
    );
    args.routeTableIds.forEach((routeTableId, i) => {
      ownerCidrs.forEach((cidr, j) => {
        new aws.ec2.Route(
          `${name}-rt${i}-to-${routeLabel(ownerName, ownerCidrs, j)}`,
          {
            routeTableId,
            destinationCidrBlock: cidr,
            transitGatewayId: args.transitGatewayId,
          },
          { parent: this, dependsOn: attachment ? [attachment] : [] },
        );
      });
    });
    this.registerOutputs({ attachmentId: this.attachmentId });
  }
}

/** One side of a {@link TgwSharedNetwork}: a VPC and the provider of its account. */
export interface TgwSide {
  /** The VPC. */
  vpcId: pulumi.Input<string>;
  /** Its CIDR blocks (plain: checked before anything is registered). */
  cidrBlocks: string[];
  /** Subnets for its attachment, one per availability zone. */
  subnetIds: pulumi.Input<string>[];
  /** Route tables that route to the other side(s) through the TGW. */
  routeTableIds: pulumi.Input<string>[];
  /** The provider of the account this side lives in. */
  provider: aws.Provider;
}

export interface TgwSharedNetworkArgs extends TgwShareArgs {
  /** Account A's VPC, which owns the TGW. Named "owner" in messages. */
  owner: TgwSide & { name?: string };
  /** Account B's VPC(s), each with a name used in messages and child names. */
  peers: (TgwSide & { name: string })[];
  /** Required: who the TGW is shared with (usually the peers' account ids). */
  principals: string[];
  /** Several TGW route tables and isolated pairs (see {@link TgwOwnerArgs.segments}). Default none. */
  segments?: TgwSegments;
  /** Tags for every taggable child. */
  tags?: Record<string, string>;
}

/**
 * Both sides in one program: the owner on the owner's provider, each peer on its own provider, the
 * peers' attachments after the share is usable, and (explicit route table mode) every peer admitted
 * to the owner's route table by the owner's account. Everything is validated first.
 */
export class TgwSharedNetwork extends PlannedComponent<TgwPlan> {
  public readonly owner: TgwOwner;
  public readonly peers: Record<string, TgwPeer>;

  constructor(name: string, args: TgwSharedNetworkArgs, opts: pulumi.ComponentResourceOptions = {}) {
    const ownerName = args.owner.name ?? "owner";
    const segmented = (args.segments?.routeTables.length ?? 0) > 0;
    const plan = planTgw({
      ...args,
      ...(segmented ? { defaultRouteTableAssociation: false, defaultRouteTablePropagation: false } : {}),
      acceptShare: args.acceptShare ?? true,
      owner: { name: ownerName, cidrBlocks: args.owner.cidrBlocks, key: "owner.cidrBlocks" },
      peers: args.peers.map((p, i) => ({ name: p.name, cidrBlocks: p.cidrBlocks, key: `peers[${i}].cidrBlocks` })),
    });
    super("vpc-lambda-kit:network:TgwSharedNetwork", name, plan, { plan }, opts);
    this.owner = new TgwOwner(
      `${name}-owner`,
      {
        vpcId: args.owner.vpcId,
        cidrBlocks: args.owner.cidrBlocks,
        vpcName: ownerName,
        subnetIds: args.owner.subnetIds,
        routeTableIds: args.owner.routeTableIds,
        peers: plan.peers,
        principals: args.principals,
        allowExternalPrincipals: plan.allowExternalPrincipals,
        acceptShare: plan.acceptShare,
        peerAccountIds: args.peerAccountIds,
        defaultRouteTableAssociation: plan.defaultRouteTables,
        defaultRouteTablePropagation: plan.defaultRouteTables,
        amazonSideAsn: plan.amazonSideAsn,
        segments: args.segments,
        tags: args.tags,
      },
      { parent: this, provider: args.owner.provider },
    );
    this.peers = {};
    for (const p of args.peers) {
      const peer = new TgwPeer(
        `${name}-${p.name}`,
        {
          transitGatewayId: this.owner.sharedTransitGatewayId,
          shareArn: this.owner.shareArn,
          acceptShare: plan.acceptShare,
          vpcId: p.vpcId,
          cidrBlocks: p.cidrBlocks,
          vpcName: p.name,
          subnetIds: p.subnetIds,
          routeTableIds: p.routeTableIds,
          ownerCidrBlocks: args.owner.cidrBlocks,
          ownerName,
          segments: args.segments,
          tags: args.tags,
        },
        { parent: this, provider: p.provider },
      );
      this.owner.admit(p.name, peer.attachmentId);
      this.peers[p.name] = peer;
    }
    this.registerOutputs({ transitGatewayId: this.owner.transitGatewayId, shareArn: this.owner.shareArn });
  }
}
