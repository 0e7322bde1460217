/**
 * Security groups over the graph model: every rule, from every way a program can write one (inline
 * ingress/egress, SecurityGroupRule, the vpc/ ingress and egress rule resources), normalized to one
 * shape, and whether a set of groups admits a protocol and port towards (or from) a peer.
 */
import { GraphModel } from "../model/graph";
import { T } from "../model/types";
import { anyContains, asBool, Cidr, cidrOf, num, push, str, strs } from "../model/values";

export interface SgRule {
  sgId: string;
  direction: "ingress" | "egress";
  /** "tcp", "udp", "icmp" or "-1" (all). */
  protocol: string;
  fromPort: number;
  toPort: number;
  cidrs: Cidr[];
  sgRefs: string[];
  prefixLists: string[];
  self: boolean;
  /** Name of the resource that made the rule (the rule resource or the group, for inline rules). */
  name: string;
}

/** A peer of a rule: security groups (by reference) and/or address blocks that must all be covered. */
export interface SgPeer {
  sgIds?: string[];
  cidrs?: Cidr[];
  sgVpc?: string;
}

const IANA_PROTOCOLS: Record<string, string> = { "6": "tcp", "17": "udp", "1": "icmp", all: "-1", "-1": "-1" };

function rulesBySg(m: GraphModel): Map<string, SgRule[]> {
  return m.cached("sgRules", () => {
    const out = new Map<string, SgRule[]>();
    const add = (rule: SgRule) => push(out, rule.sgId, rule);
    for (const g of m.all(T.sg)) {
      for (const direction of ["ingress", "egress"] as const) {
        const inline = g.inputs[direction];
        if (!Array.isArray(inline)) continue;
        for (const x of inline) {
          if (!x || typeof x !== "object") continue;
          const s = x as Record<string, unknown>;
          add(
            normalizeRule(g.id, direction, g.name, {
              protocol: s.protocol,
              fromPort: s.fromPort,
              toPort: s.toPort,
              cidrs: strs(s.cidrBlocks),
              sgRefs: strs(s.securityGroups),
              prefixLists: strs(s.prefixListIds),
              self: asBool(s.self, false),
            }),
          );
        }
      }
    }
    for (const r of m.all(T.sgRule)) {
      const i = r.inputs;
      const sgId = str(i.securityGroupId);
      if (!sgId) continue;
      add(
        normalizeRule(sgId, i.type === "egress" ? "egress" : "ingress", r.name, {
          protocol: i.protocol,
          fromPort: i.fromPort,
          toPort: i.toPort,
          cidrs: strs(i.cidrBlocks),
          sgRefs: strs(i.sourceSecurityGroupId),
          prefixLists: strs(i.prefixListIds),
          self: asBool(i.self, false),
        }),
      );
    }
    for (const [type, direction] of [
      [T.sgIngress, "ingress"],
      [T.sgEgress, "egress"],
    ] as const) {
      for (const r of m.all(type)) {
        const i = r.inputs;
        const sgId = str(i.securityGroupId);
        if (!sgId) continue;
        add(
          normalizeRule(sgId, direction, r.name, {
            protocol: i.ipProtocol,
            fromPort: i.fromPort,
            toPort: i.toPort,
            cidrs: strs(i.cidrIpv4),
            sgRefs: strs(i.referencedSecurityGroupId),
            prefixLists: strs(i.prefixListId),
            self: false,
          }),
        );
      }
    }
    return out;
  });
}

function normalizeRule(
  sgId: string,
  direction: "ingress" | "egress",
  name: string,
  s: {
    protocol: unknown;
    fromPort: unknown;
    toPort: unknown;
    cidrs: string[];
    sgRefs: string[];
    prefixLists: string[];
    self: boolean;
  },
): SgRule {
  const rawProto = String(s.protocol ?? "-1").toLowerCase();
  const protocol = IANA_PROTOCOLS[rawProto] ?? rawProto;
  const all = protocol === "-1";
  return {
    sgId,
    direction,
    protocol,
    fromPort: all ? 0 : num(s.fromPort, 0),
    toPort: all ? 65535 : num(s.toPort, 65535),
    cidrs: s.cidrs.map(cidrOf).filter((c): c is Cidr => c !== undefined),
    sgRefs: s.sgRefs,
    prefixLists: s.prefixLists,
    self: s.self,
    name,
  };
}

/** The rules of a security group (one direction when given). */
export function sgRules(m: GraphModel, sgId: string, direction?: "ingress" | "egress"): SgRule[] {
  const all = rulesBySg(m).get(sgId) ?? [];
  return direction ? all.filter((r) => r.direction === direction) : all;
}

/** True when a rule covers the protocol and port. Port -1 (ICMP/all) rules cover every port. */
export function rulePermits(rule: SgRule, protocol: string, port: number): boolean {
  if (rule.protocol === "-1") return true;
  if (rule.protocol !== protocol) return false;
  if (rule.fromPort === -1 || rule.toPort === -1) return true;
  return rule.fromPort <= port && port <= rule.toPort;
}

export function rulePorts(rule: SgRule): string {
  if (rule.protocol === "-1") return "all traffic";
  return rule.fromPort === rule.toPort
    ? `${rule.protocol}/${rule.fromPort}`
    : `${rule.protocol}/${rule.fromPort}-${rule.toPort}`;
}

export function rulePeers(rule: SgRule, m: GraphModel): string {
  const peers = [
    ...rule.cidrs.map((c) => c.text),
    ...rule.sgRefs.map((id) => `security group ${m.label(id, T.sg)}`),
    ...rule.prefixLists.map((p) => `prefix list ${p}`),
    ...(rule.self ? ["itself"] : []),
  ];
  return peers.join(", ") || "nothing";
}

/**
 * The rule of `sgIds` that admits the protocol and port towards (egress) or from (ingress) the peer:
 * a reference to one of the peer's groups in the same VPC (or `self`), else CIDRs covering every
 * peer block (the rule covering the last block is returned). Undefined when none does.
 */
export function sgAllows(
  m: GraphModel,
  sgIds: string[],
  direction: "ingress" | "egress",
  p: { protocol: string; port: number },
  peer: SgPeer,
): SgRule | undefined {
  const rules = sgIds.flatMap((id) => sgRules(m, id, direction)).filter((r) => rulePermits(r, p.protocol, p.port));
  const sameVpc = (ref: string) => {
    const own = m.sg(sgIds[0])?.inputs.vpcId;
    const other = m.sg(ref)?.inputs.vpcId;
    return own === undefined || other === undefined || own === other;
  };
  const byRef = rules.find(
    (r) =>
      r.sgRefs.some((ref) => peer.sgIds?.includes(ref) && sameVpc(ref)) ||
      (r.self && peer.sgIds?.some((id) => sgIds.includes(id))),
  );
  if (byRef) return byRef;
  const cidrs = peer.cidrs ?? [];
  if (cidrs.length === 0) return undefined;
  let last: SgRule | undefined;
  for (const c of cidrs) {
    const hit = rules.find((r) => anyContains(r.cidrs, c));
    if (!hit) return undefined;
    last = hit;
  }
  return last;
}
