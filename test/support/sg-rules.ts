import type { Res } from "../../ops/check/model/graph";
import { T } from "../../ops/check/model/types";
import type { GraphView } from "./graph";

/**
 * A security group's standalone rules in a synthesized graph, read the way the stack tests assert them: what a
 * group may reach, and on which ports another group admits it. `sg` is the group resource or its id.
 */
type Group = Res | unknown;
const idOf = (sg: Group): unknown => (sg && typeof sg === "object" && "inputs" in sg ? (sg as Res).id : sg);

export function egressOf(g: GraphView, sg: Group): Res[] {
  return g.all(T.sgEgress).filter((r) => r.inputs.securityGroupId === idOf(sg));
}

export function ingressOf(g: GraphView, sg: Group): Res[] {
  return g.all(T.sgIngress).filter((r) => r.inputs.securityGroupId === idOf(sg));
}

/** What a rule points at: its CIDR, referenced group or prefix list (a rule names exactly one). */
export function ruleTarget(r: Res): unknown {
  return r.inputs.cidrIpv4 ?? r.inputs.referencedSecurityGroupId ?? r.inputs.prefixListId;
}

/** The group's egress as [fromPort, target] rows, sorted (compare with a sorted expectation). */
export function egressTargets(g: GraphView, sg: Group): unknown[][] {
  return egressOf(g, sg)
    .map((r) => [r.inputs.fromPort, ruleTarget(r)])
    .sort();
}

const ruleRows = (rules: Res[]): unknown[][] =>
  rules.map((r) => [r.inputs.ipProtocol, r.inputs.fromPort, r.inputs.toPort, ruleTarget(r)]).sort();

/** The group's egress as [protocol, fromPort, toPort, target] rows, sorted (compare with a sorted expectation). */
export function egressRules(g: GraphView, sg: Group): unknown[][] {
  return ruleRows(egressOf(g, sg));
}

/** The group's ingress as [protocol, fromPort, toPort, source] rows, sorted (compare with a sorted expectation). */
export function ingressRules(g: GraphView, sg: Group): unknown[][] {
  return ruleRows(ingressOf(g, sg));
}

/** The ports group `to` admits from group `from` (ingress rules on `to` that reference `from`). */
export function admittedPorts(g: GraphView, to: Group, from: Group): unknown[] {
  return ingressOf(g, to)
    .filter((r) => r.inputs.referencedSecurityGroupId === idOf(from))
    .map((r) => r.inputs.fromPort);
}

/** The inputs of an ingress rule admitting group `from` into `sgId` on tcp/443, as the kit's allowFrom writes them. */
export function httpsIngressFrom(sgId: unknown, from: string, description: string): Record<string, unknown> {
  return {
    securityGroupId: sgId,
    referencedSecurityGroupId: from,
    ipProtocol: "tcp",
    fromPort: 443,
    toPort: 443,
    description,
  };
}
