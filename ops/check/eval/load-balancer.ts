/**
 * The Network Load Balancer hop of the proxy tier: load balancer → TCP listener → forward to a
 * target group → the Auto Scaling groups that register in it (targetGroupArns), and the
 * consistency rules the three must keep with Squid for PROXY protocol v2 to work:
 *  - listener port = target group port = Squid's http_port (the listener forwards on the target
 *    group's port; Squid listens on one port);
 *  - the target group sends PROXY protocol v2 (`proxyProtocolV2: true`) and does not preserve the
 *    client IP (`preserveClientIp: "false"`), so the connection comes from the NLB node's private
 *    address (AWS Elastic Load Balancing docs, "Target groups for your Network Load Balancers":
 *    client IP preservation and proxy protocol) and Squid reads the client from the header;
 *  - the NLB's subnets' CIDRs sit inside Squid's `proxy_protocol_access allow` list, else Squid
 *    rejects every connection that carries a PROXY header (Squid docs, proxy_protocol_access).
 * Each problem is one sentence naming the resource and the fix. The Classic Load Balancer path
 * stays in ops/check/flows.ts (listeners inline on the load balancer).
 */
import { GraphModel, Res } from "../model/graph";
import { T } from "../model/types";
import { anyContains, asBool, Cidr, cidrOf, str } from "../model/values";
import { SquidConf } from "./proxy";

/** Listeners of a load balancer (aws:lb). */
export function lbListeners(ix: GraphModel, lb: Res): Res[] {
  return ix
    .all(T.lbListener)
    .filter(
      (l) =>
        (lb.id !== "" && l.inputs.loadBalancerArn === lb.id) || ix.resolve(l.inputs.loadBalancerArn, [T.lb]) === lb,
    );
}

/** The target group a listener forwards to (default action `forward`, plain or weighted with one group). */
export function forwardTargetGroup(ix: GraphModel, listener: Res): Res | undefined {
  const actions = (Array.isArray(listener.inputs.defaultActions) ? listener.inputs.defaultActions : []) as Record<
    string,
    unknown
  >[];
  for (const a of actions) {
    if (a.type !== "forward") continue;
    const forward = a.forward as { targetGroups?: { arn?: unknown }[] } | undefined;
    const refs = [a.targetGroupArn, ...(forward?.targetGroups ?? []).map((t) => t.arn)];
    for (const ref of refs) {
      const tg =
        (typeof ref === "string" ? ix.byId(ref, T.lbTargetGroup) : undefined) ?? ix.resolve(ref, [T.lbTargetGroup]);
      if (tg) return tg;
    }
  }
  return undefined;
}

/** Auto Scaling groups that register their instances in a target group. */
export function asgsInTargetGroup(ix: GraphModel, tg: Res): Res[] {
  return ix
    .all(T.asg)
    .filter((a) =>
      (Array.isArray(a.inputs.targetGroupArns) ? a.inputs.targetGroupArns : []).some(
        (x) => (tg.id !== "" && x === tg.id) || ix.resolve(x, [T.lbTargetGroup]) === tg,
      ),
    );
}

/** Problems with the load balancer itself as a proxy front door: internal network load balancer with a security group. */
export function nlbProblems(ix: GraphModel, lb: Res): string[] {
  const out: string[] = [];
  const type = str(lb.inputs.loadBalancerType) ?? "application";
  if (type !== "network")
    out.push(
      `load balancer ${lb.name} is of type ${type}, not network: the proxy tier forwards raw TCP (CONNECT); set loadBalancerType "network"`,
    );
  if (!asBool(lb.inputs.internal, false))
    out.push(
      `load balancer ${lb.name} is internet-facing: the proxy must be reachable only from inside; set internal: true`,
    );
  if (ix.sgIdsOf(lb).length === 0)
    out.push(
      `load balancer ${lb.name} has no security group, so it cannot be the source the proxy instances admit; give it securityGroups (they can only be set when it is created)`,
    );
  return out;
}

/** Problems with the target group's PROXY protocol settings. */
export function targetGroupProblems(tg: Res): string[] {
  const out: string[] = [];
  if (str(tg.inputs.protocol) && !/^TCP/i.test(String(tg.inputs.protocol)))
    out.push(`target group ${tg.name} uses protocol ${String(tg.inputs.protocol)}, not TCP; set protocol "TCP"`);
  if (!asBool(tg.inputs.proxyProtocolV2, false))
    out.push(
      `target group ${tg.name} does not send PROXY protocol v2, but Squid requires the header (http_port ... require-proxy-header), so every connection is rejected; set proxyProtocolV2: true`,
    );
  const preserve = tg.inputs.preserveClientIp;
  if (preserve === undefined || String(preserve) !== "false")
    out.push(
      `target group ${tg.name} preserves the client IP (preserveClientIp ${preserve === undefined ? "unset, which is true for instance targets" : JSON.stringify(preserve)}), so connections arrive from the functions, not from the load balancer subnets Squid trusts for PROXY headers; set preserveClientIp: "false"`,
    );
  return out;
}

/** Port problems: listener, target group and Squid must agree. */
export function portProblems(listener: Res, tg: Res, squidPort: number | undefined): string[] {
  const out: string[] = [];
  const lp = Number(listener.inputs.port);
  const tp = Number(tg.inputs.port);
  if (str(listener.inputs.protocol) && !/^TCP/i.test(String(listener.inputs.protocol)))
    out.push(
      `listener ${listener.name} uses protocol ${String(listener.inputs.protocol)}, not TCP; set protocol "TCP"`,
    );
  if (lp !== tp)
    out.push(
      `listener ${listener.name} listens on ${lp} but target group ${tg.name} forwards to ${tp}; set both to Squid's port`,
    );
  if (squidPort !== undefined && tp !== squidPort)
    out.push(
      `target group ${tg.name} forwards to port ${tp}, but Squid listens on ${squidPort} (http_port); set the target group port to ${squidPort}`,
    );
  return out;
}

/** Whether Squid's http_port requires a PROXY protocol header (then a load balancer must send one). */
function requiresProxyHeader(conf: SquidConf): boolean {
  return conf.text.split("\n").some((l) => /^\s*http_port\s.*\brequire-proxy-header\b/.test(l));
}

/**
 * A Classic Load Balancer sends a PROXY v1 header to an instance port only with a ProxyProtocolPolicy
 * listing that port (ELB API reference, "ProxyProtocolPolicyType"); Squid requiring the header would
 * otherwise reject every connection. One sentence, or undefined.
 */
export function clbProxyProtocolProblem(
  ix: GraphModel,
  lb: Res,
  instancePort: number,
  conf: SquidConf,
  where: string,
): string | undefined {
  // A port mismatch is the first fault; the instances' check reports it.
  if (!requiresProxyHeader(conf) || (conf.port !== undefined && conf.port !== instancePort)) return undefined;
  const sends = ix
    .all(T.proxyProtocolPolicy)
    .some(
      (p) =>
        (p.inputs.loadBalancer === lb.id || ix.resolve(p.inputs.loadBalancer, [T.classicLb]) === lb) &&
        (Array.isArray(p.inputs.instancePorts) ? p.inputs.instancePorts : []).map(Number).includes(instancePort),
    );
  if (!sends)
    return `load balancer ${lb.name} sends no PROXY protocol header to instance port ${instancePort} (no ProxyProtocolPolicy lists it), but ${where} requires one (http_port ... require-proxy-header), so every connection is rejected; add a ProxyProtocolPolicy { loadBalancer, instancePorts: ["${instancePort}"] }`;
  return proxyProtocolAccessProblem(ix, lb, conf, where, 1);
}

/** CIDRs Squid accepts a PROXY header from: the src ACLs of the `proxy_protocol_access allow` lines (first match). */
export function proxyProtocolSources(conf: SquidConf): Cidr[] | undefined {
  const lines = conf.text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l.startsWith("proxy_protocol_access "));
  if (lines.length === 0) return undefined;
  const out: Cidr[] = [];
  for (const line of lines) {
    const [, action, ...acls] = line.split(/\s+/);
    if (action !== "allow") continue;
    for (const name of acls) {
      if (name === "all") out.push(cidrOf("0.0.0.0/0") as Cidr);
      for (const e of conf.acls.get(name) ?? []) {
        if (e.type !== "src") continue;
        for (const a of e.args) {
          const c = cidrOf(a.includes("/") ? a : `${a}/32`);
          if (c) out.push(c);
        }
      }
    }
  }
  return out;
}

/** The NLB subnets' CIDRs that Squid does not accept PROXY headers from; one sentence, or undefined. */
export function proxyProtocolAccessProblem(
  ix: GraphModel,
  lb: Res,
  conf: SquidConf,
  where: string,
  version: 1 | 2 = 2,
): string | undefined {
  const sources = proxyProtocolSources(conf);
  if (!sources)
    return `${where} has no proxy_protocol_access line, so Squid rejects the PROXY v${version} header load balancer ${lb.name} sends; add "acl lb src <the load balancer subnets' CIDRs>", "proxy_protocol_access allow lb" and "proxy_protocol_access deny all"`;
  const subnets = ix
    .subnetIdsOf(lb)
    .map((id) => ix.subnet(id))
    .filter((s): s is Res => !!s);
  const outside = subnets.filter((s) => {
    const c = ix.subnetCidr(s);
    return c !== undefined && !anyContains(sources, c);
  });
  if (outside.length === 0) return undefined;
  return `${where} accepts PROXY headers only from ${sources.map((c) => c.text).join(" ") || "nobody"}, but load balancer ${lb.name} sits in ${outside.map((s) => `${s.name} (${ix.subnetCidr(s)?.text})`).join(", ")}; add the load balancer subnets' CIDRs to the proxy_protocol_access src ACL (lbSubnetCidrs)`;
}
