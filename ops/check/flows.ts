/**
 * Offline proof of every flow a function declares: for each flow, the packet's way through the
 * graph, hop by hop — the function's subnets, their route tables (longest-prefix match), NAT /
 * internet gateway / Transit Gateway / peering / endpoints, the proxy tier — with the security
 * groups checked both ways, the return route, and the resource policy at the end. A flow is OK
 * with its path and egress IP(s), or BROKEN with the first missing piece in one sentence.
 *
 * This file is the walk only: what each hop decides comes from the evaluators in ops/check/eval/
 * (routes, security groups, Transit Gateway, endpoints + DNS, the Squid proxy, API policy,
 * targets), over the graph model in ops/check/model/graph.ts.
 */
import type { Graph } from "../synth-core";
import { GraphModel, Res } from "./model/graph";
import { T } from "./model/types";
import { ANYWHERE, anyContains, asBool, Cidr, cidrContains, cidrOf, isPrivateCidr } from "./model/values";
import { hasSourceVpceCondition, isPrivateApi, privateApiVerdict } from "./eval/api-policy";
import { statementsOfText } from "./eval/iam";
import { endpointsFor, privateDnsProblem } from "./eval/endpoints";
import { domainMatches, evaluateSquid, SquidConf, squidConfOf } from "./eval/proxy";
import {
  asgsInTargetGroup,
  forwardTargetGroup,
  lbListeners,
  nlbProblems,
  portProblems,
  proxyProtocolAccessProblem,
  clbProxyProtocolProblem,
  targetGroupProblems,
} from "./eval/load-balancer";
import { associationsOf, igwAttachedTo, lookup, prefixListRoute, routeTableOf, TableView } from "./eval/routes";
import { rulePeers, rulePermits, rulePorts, SgPeer, sgAllows, SgRule, sgRules } from "./eval/security-groups";
import { kindOf, listenersOf, listenPorts } from "./eval/targets";
import { attachmentProblem, attachmentZones, tgwAttachments, tgwLookup, tgwRouteTableOf } from "./eval/tgw";

export interface FlowResult {
  /** The function (VpcFunction component name, or the Lambda's name). */
  fn: string;
  /** The flow as declared: port, destination, purpose. */
  flow: string;
  status: "OK" | "BROKEN";
  /**
   * Hop by hop, as far as the flow got: the places the packet passes (gateways, endpoints, load
   * balancers, the target; resource names, or the external destination), for the first subnet.
   */
  path: string[];
  /** The proof, step by step: each route entry, security-group rule, DNS and policy decision, for every subnet. */
  steps: string[];
  /** Public addresses the destination sees (allowlist these), when the flow leaves to the internet. */
  egressIps?: string[];
  /** BROKEN only: the first missing piece, in one sentence. */
  reason?: string;
  /**
   * Hops of `path` the stack reads but does not create, with what they are: "existing" (adopted from the
   * landing zone) or "built by awsx". Set by the report (ops/check/report.ts); absent when there are none.
   */
  existingHops?: Record<string, string>;
}

/** A declared flow in machine-readable form (VpcFunction's `flowSpecs`, or derived from `flows`). */
export interface FlowSpec {
  kind: "internet" | "cidr" | "awsService" | "securityGroup";
  port: number;
  protocol: string;
  purpose: string;
  host?: string;
  cidrs?: string[];
  cidr?: string;
  name?: string;
  service?: string;
  securityGroupId?: string;
  prefixListId?: string;
}

export interface FunctionView {
  name: string;
  lambda: Res;
  component?: Res;
  subnetIds: string[];
  subnets: Res[];
  sgIds: string[];
  vpcId?: string;
  specs: FlowSpec[];
  env: Record<string, string>;
  region: string;
}

/** What the analysis learned about one flow, beyond its result (the forbidden-path checks use it). */
export interface FlowDetail {
  fn: FunctionView;
  spec: FlowSpec;
  result: FlowResult;
  /** The flow itself leaves through an internet gateway (not via a proxy's own egress). */
  usesInternet: boolean;
  /** Resources the flow delivers to (a database, a load balancer, an endpoint…). */
  targets: Res[];
  /**
   * The flow was declared through a VPC endpoint but its traffic takes the public path (the NAT) instead, and
   * gets through that way: why the endpoint is not used. The flow is OK (AWS delivers it); the forbidden-path
   * check "endpoint-path" reports it.
   */
  bypass?: string;
}

class Broken extends Error {}

function broken(sentence: string): never {
  throw new Broken(sentence);
}

type Dest = { kind: "internet" | "private"; cidr: Cidr; label: string };

type Sender =
  | { kind: "lambda"; label: string }
  | { kind: "nat"; label: string; natId: string; publicIps: string[]; public: boolean }
  | { kind: "instance"; label: string; publicIps: string[] };

type Arrival =
  { kind: "internet"; egressIps: string[] } | { kind: "vpc"; vpcId: string; tgw?: { tgw: Res; attachment: Res } };

const MAX_HOPS = 8;

/** Targets a client reaches by DNS name. */
const BY_NAME = new Set<string>([
  T.rdsCluster,
  T.rdsInstance,
  T.rdsProxy,
  T.classicLb,
  T.lb,
  T.elasticacheReplicationGroup,
]);

/** Analyses every declared flow of every function in the graph. */
export function analyzeFlows(input: Graph | GraphModel): FlowResult[] {
  return analyze(input instanceof GraphModel ? input : GraphModel.of(input)).map((d) => d.result);
}

/** The same, with what each flow reached (for the forbidden-path checks). */
export function analyze(ix: GraphModel): FlowDetail[] {
  const out: FlowDetail[] = [];
  for (const fn of functionsOf(ix)) {
    for (const spec of fn.specs) out.push(new FlowWalk(ix, fn, spec).run());
  }
  return out;
}

/** Every Lambda function in the graph with its placement and declared flows. */
export function functionsOf(ix: GraphModel): FunctionView[] {
  return ix.all(T.lambda).map((lambda) => {
    const component = ix.ancestor(lambda, T.vpcFunction);
    const vc = (lambda.inputs.vpcConfig ?? {}) as Record<string, unknown>;
    const subnetIds = Array.isArray(vc.subnetIds) ? vc.subnetIds.filter((x): x is string => typeof x === "string") : [];
    const subnets = subnetIds.map((id) => ix.subnet(id)).filter((s): s is Res => s !== undefined);
    const sgIds = Array.isArray(vc.securityGroupIds)
      ? vc.securityGroupIds.filter((x): x is string => typeof x === "string")
      : [];
    const vpcId = subnets[0]
      ? String(subnets[0].inputs.vpcId)
      : (sgIds.map((id) => ix.sg(id)?.inputs.vpcId).find((v) => typeof v === "string") as string | undefined);
    const vars = ((lambda.inputs.environment as Record<string, unknown> | undefined)?.variables ?? {}) as Record<
      string,
      unknown
    >;
    const env = Object.fromEntries(Object.entries(vars).filter(([, v]) => typeof v === "string")) as Record<
      string,
      string
    >;
    return {
      name: component ? component.name : lambda.name,
      lambda,
      component,
      subnetIds,
      subnets,
      sgIds,
      vpcId,
      specs: component ? specsOf(ix, component, sgIds) : [],
      env,
      region: regionOf(ix, lambda),
    };
  });
}

function regionOf(ix: GraphModel, r: Res): string {
  const p = r.provider ? ix.byUrn(r.provider) : undefined;
  const region = p?.inputs.region;
  if (typeof region === "string") return region;
  const anyProvider = ix.all(T.provider).find((x) => typeof x.inputs.region === "string");
  return anyProvider ? String(anyProvider.inputs.region) : "ap-northeast-1";
}

/** Flow specs from the component (flowSpecs), else from the plain `flows` plus the egress rules they made. */
function specsOf(ix: GraphModel, component: Res, sgIds: string[]): FlowSpec[] {
  const raw = component.inputs.flowSpecs;
  if (Array.isArray(raw)) return raw.map((s) => normalizeSpec(s as Record<string, unknown>));
  const flows = Array.isArray(component.inputs.flows) ? (component.inputs.flows as Record<string, unknown>[]) : [];
  const egress = sgIds.flatMap((id) => ix.all(T.sgEgress).filter((r) => r.inputs.securityGroupId === id));
  return flows.map((f) => {
    const to = (f.to ?? {}) as Record<string, unknown>;
    const purpose = String(f.purpose ?? "");
    const rule = egress.find((r) =>
      String(r.inputs.description ?? "")
        .split("; ")
        .includes(purpose),
    );
    return normalizeSpec({
      ...to,
      port: f.port,
      protocol: f.protocol,
      purpose,
      securityGroupId: rule?.inputs.referencedSecurityGroupId,
      prefixListId: rule?.inputs.prefixListId,
    });
  });
}

function normalizeSpec(s: Record<string, unknown>): FlowSpec {
  const opt = (k: string) => (typeof s[k] === "string" ? (s[k] as string) : undefined);
  return {
    kind: (opt("kind") ?? "internet") as FlowSpec["kind"],
    port: Number(s.port),
    protocol: opt("protocol") ?? "tcp",
    purpose: opt("purpose") ?? "",
    host: opt("host"),
    cidrs: Array.isArray(s.cidrs) ? s.cidrs.map(String) : undefined,
    cidr: opt("cidr"),
    name: opt("name"),
    service: opt("service"),
    securityGroupId: opt("securityGroupId"),
    prefixListId: opt("prefixListId"),
  };
}

/** The declared flow as one line: "tcp/443 to internet host example.cybozu.com (purpose)". */
export function flowText(spec: FlowSpec): string {
  const pp = `${spec.protocol}/${spec.port}`;
  const dest =
    spec.kind === "internet"
      ? `internet host ${spec.host}${spec.cidrs?.length ? ` (${spec.cidrs.join(", ")})` : ""}`
      : spec.kind === "cidr"
        ? `${spec.name ? `${spec.name} ` : ""}${spec.cidr}`
        : spec.kind === "awsService"
          ? `AWS ${spec.service}`
          : `security group ${spec.name ?? spec.securityGroupId}`;
  return `${pp} to ${dest}${spec.purpose ? ` (${spec.purpose})` : ""}`;
}

/** One flow's analysis. Hops accumulate as the walk proceeds; the first missing piece throws. */
class FlowWalk {
  private readonly hops: string[] = [];
  private readonly nodes: string[] = [];
  /** Set while walking the second and later subnets (and return routes): their hops are steps, not path. */
  private muted = 0;
  private readonly egressIps = new Set<string>();
  private usesInternet = false;
  private readonly targets: Res[] = [];
  private bypass?: string;

  constructor(
    private readonly ix: GraphModel,
    private readonly fn: FunctionView,
    private readonly spec: FlowSpec,
  ) {}

  run(): FlowDetail {
    const result: FlowResult = {
      fn: this.fn.name,
      flow: flowText(this.spec),
      status: "OK",
      path: this.nodes,
      steps: this.hops,
    };
    try {
      this.placement();
      switch (this.spec.kind) {
        case "internet":
          this.internet();
          break;
        case "cidr":
          this.cidr();
          break;
        case "awsService":
          this.awsService();
          break;
        case "securityGroup":
          this.securityGroup();
          break;
        default:
          broken(`flow kind "${String(this.spec.kind)}" is unknown to the checker`);
      }
      if (this.egressIps.size > 0) result.egressIps = [...this.egressIps].sort(ipOrder);
    } catch (e) {
      if (!(e instanceof Broken)) throw e;
      result.status = "BROKEN";
      result.reason = e.message;
    }
    return {
      fn: this.fn,
      spec: this.spec,
      result,
      usesInternet: this.usesInternet,
      targets: this.targets,
      ...(this.bypass && result.status === "OK" ? { bypass: this.bypass } : {}),
    };
  }

  /** Records a step; `nodes` are the places it adds to the path. */
  private hop(text: string, ...nodes: string[]): void {
    // Several subnets share tables and targets: each step once, in first-seen order.
    if (!this.hops.includes(text)) this.hops.push(text);
    if (this.muted > 0) return;
    for (const n of nodes) if (this.nodes[this.nodes.length - 1] !== n) this.nodes.push(n);
  }

  /** Runs `f` for each item; only the first one's places go into the path. */
  private each<X>(items: X[], f: (x: X) => void): void {
    items.forEach((x, i) => {
      if (i > 0) this.muted++;
      try {
        f(x);
      } finally {
        if (i > 0) this.muted--;
      }
    });
  }

  // --- the function's side

  private placement(): void {
    const fn = this.fn;
    if (fn.subnetIds.length === 0) broken(`function ${fn.name} is not attached to a VPC (no vpcConfig.subnetIds)`);
    const missing = fn.subnetIds.filter((id) => !this.ix.subnet(id));
    if (missing.length > 0)
      broken(
        `subnet ${missing[0]} of function ${fn.name} is not in the graph (for a split stack, synthesize its upstream stacks beside it)`,
      );
    if (fn.sgIds.length === 0) broken(`function ${fn.name} has no security group`);
    const missingSg = fn.sgIds.find((id) => !this.ix.sg(id));
    if (missingSg) broken(`security group ${missingSg} of function ${fn.name} is not in the graph`);
    const vpcs = new Set(fn.subnets.map((s) => s.inputs.vpcId));
    if (vpcs.size > 1)
      broken(`function ${fn.name}'s subnets span ${vpcs.size} VPCs; a Lambda's subnets must share one VPC`);
    const sgVpc = fn.sgIds.map((id) => this.ix.sg(id)?.inputs.vpcId).find((v) => v !== undefined && v !== fn.vpcId);
    if (sgVpc)
      broken(
        `security group ${this.ix.label(fn.sgIds[0], T.sg)} of function ${fn.name} is in VPC ${this.ix.label(sgVpc, T.vpc)}, not in its subnets' VPC ${this.ix.label(fn.vpcId, T.vpc)}`,
      );
    const subnets = fn.subnets.map((s) => `${s.name} ${s.inputs.cidrBlock}`).join(", ");
    this.hop(
      `function ${fn.name}: subnets ${subnets}; security group ${fn.sgIds.map((id) => this.ix.label(id, T.sg)).join(", ")}`,
    );
  }

  private sender(): Sender {
    return { kind: "lambda", label: `function ${this.fn.name}` };
  }

  private fnCidrs(): Cidr[] {
    return this.fn.subnets.map((s) => this.ix.subnetCidr(s)).filter((c): c is Cidr => c !== undefined);
  }

  // --- flow kinds

  private internet(): void {
    const spec = this.spec;
    const dests = (spec.cidrs?.length ? spec.cidrs : ["0.0.0.0/0"]).map(
      (c) => cidrOf(c) ?? broken(`flow to ${spec.host} names "${c}", which is not a CIDR`),
    );
    if (spec.host) this.requireDns(spec.host);
    for (const d of dests) this.requireEgress(this.fn.sgIds, { cidrs: [d] }, d.text);
    this.leaveToInternet(this.fn.subnets, dests, this.sender(), spec.host ?? "the internet");
    this.hop(`internet: ${spec.host}:${spec.port}`, `${spec.host}:${spec.port}`);
  }

  /** Routes each subnet to each internet destination; records egress IPs. */
  private leaveToInternet(subnets: Res[], dests: Cidr[], sender: Sender, host: string): void {
    this.each(subnets, (s) => {
      this.each(dests, (d) => {
        const arrival = this.route(s, { kind: "internet", cidr: d, label: d.text }, sender, 0);
        if (arrival.kind !== "internet")
          broken(`${host} is public, but ${routeTableOf(this.ix, s).label} keeps ${d.text} inside the network`);
        for (const ip of arrival.egressIps) this.egressIps.add(ip);
        if (sender.kind === "lambda") this.usesInternet = true;
      });
    });
  }

  private cidr(): void {
    const spec = this.spec;
    const dest = cidrOf(spec.cidr) ?? broken(`flow names "${spec.cidr}", which is not a CIDR`);
    if (!isPrivateCidr(dest)) {
      // A public block is the internet with a narrower egress rule.
      this.requireEgress(this.fn.sgIds, { cidrs: [dest] }, dest.text);
      this.leaveToInternet(this.fn.subnets, [dest], this.sender(), dest.text);
      this.hop(`internet: ${dest.text}:${spec.port}`, `${dest.text}:${spec.port}`);
      return;
    }
    const targets = this.listenersIn(dest);
    const targetCidrs = targets.length > 0 ? this.targetCidrs(targets) : [dest];
    this.requireEgress(
      this.fn.sgIds,
      { cidrs: targetCidrs },
      targets.length > 0
        ? `${targets.map((t) => t.name).join(", ")} (${targetCidrs.map((c) => c.text).join(", ")})`
        : dest.text,
    );
    const arrivals: Arrival[] = [];
    this.each(this.fn.subnets, (s) =>
      arrivals.push(this.route(s, { kind: "private", cidr: dest, label: dest.text }, this.sender(), 0)),
    );
    const arrival = arrivals[0];
    if (arrival.kind !== "vpc")
      broken(`${routeTableOf(this.ix, this.fn.subnets[0]).label} has no route to ${dest.text}`);
    if (targets.length === 0) {
      const vpc = this.ix.byId(arrival.vpcId, T.vpc);
      const peerSubnets = vpc
        ? this.ix.subnetsOfVpc(vpc.id).filter((s) => {
            const c = this.ix.subnetCidr(s);
            return c !== undefined && cidrContains(dest, c);
          })
        : [];
      for (const t of peerSubnets) this.returnRoute(t, arrival);
      this.hop(
        `network ${dest.text}${vpc ? ` (VPC ${vpc.name})` : ""}: no ${spec.protocol}/${spec.port} listener in this graph; route${peerSubnets.length > 0 ? " and return route" : ""} proven`,
        vpc ? vpc.name : dest.text,
      );
      return;
    }
    for (const t of targets) this.deliver(t, arrival);
  }

  private securityGroup(): void {
    const spec = this.spec;
    const sgId =
      spec.securityGroupId ??
      broken(
        `flow to security group ${spec.name} does not record the group's id (re-synthesize with the current VpcFunction)`,
      );
    const sg = this.ix.sg(sgId) ?? broken(`security group ${sgId} (declared target ${spec.name}) is not in the graph`);
    const users = this.ix
      .sgUsers(sgId)
      .filter((r) => r.type !== T.launchTemplate && r.type !== T.lambda && this.ix.subnetIdsOf(r).length > 0);
    if (users.length === 0)
      broken(`security group ${sg.name} (declared target ${spec.name}) is attached to nothing that listens`);
    this.requireEgress(
      this.fn.sgIds,
      { sgIds: [sgId], cidrs: this.targetCidrs(users), sgVpc: String(sg.inputs.vpcId ?? "") },
      `security group ${sg.name}`,
    );
    for (const t of users) {
      const arrival = this.routeToTarget(t);
      this.deliver(t, arrival);
    }
  }

  private awsService(): void {
    const spec = this.spec;
    const service = spec.service ?? broken("AWS service flow names no service");
    const ix = this.ix;
    const vpc =
      ix.byId(this.fn.vpcId, T.vpc) ?? broken(`VPC ${this.fn.vpcId} of function ${this.fn.name} is not in the graph`);
    const { iface, gateway } = endpointsFor(ix, vpc.id, service);
    const hostname = `${service}.${this.fn.region}.amazonaws.com`;
    this.requireDns(hostname);
    // Why the endpoint the flow was declared for is not used (its name resolves to public addresses, or there is
    // none). AWS then sends the request to the service's public addresses: the flow still works if the function's
    // security group and routes let it out through the NAT (AWS docs, "Access an AWS service using an interface VPC
    // endpoint": without private DNS the service name resolves to the Region's public addresses).
    let declared: string | undefined;
    if (iface) {
      const dnsProblem = privateDnsProblem(ix, iface, vpc, hostname);
      if (!dnsProblem) {
        this.viaInterfaceEndpoint(iface, vpc, hostname);
        return;
      }
      declared = dnsProblem;
    }
    if (gateway) {
      this.viaGatewayEndpoint(gateway, service, hostname, declared);
      return;
    }
    const serviceName = `com.amazonaws.${this.fn.region}.${service}`;
    if (!declared && spec.securityGroupId)
      declared = `VPC ${vpc.name} has no interface endpoint for ${service} (${serviceName}), which the function's flow expects`;
    if (!declared && spec.prefixListId)
      declared = `VPC ${vpc.name} has no gateway endpoint for ${service} (${serviceName}), which the function's flow expects`;
    // No usable endpoint: the public service endpoint over the internet path (NAT).
    this.hop(
      declared
        ? `DNS: ${declared}`
        : `DNS: ${hostname} resolves to public addresses (no endpoint for ${service} in VPC ${vpc.name})`,
    );
    this.publicPath(declared, () => {
      this.requireEgress(this.fn.sgIds, { cidrs: [ANYWHERE] }, "0.0.0.0/0");
      this.leaveToInternet(this.fn.subnets, [ANYWHERE], this.sender(), hostname);
    });
    this.hop(`AWS ${service}: ${hostname}:${spec.port}`, `${hostname}:${spec.port}`);
  }

  /**
   * The public path for a flow declared through an endpoint that is not used (`declared` says why): BROKEN with
   * both reasons when that path fails too; otherwise OK, with the bypass recorded for the forbidden-path check
   * (it is not a legitimate internet use of the function).
   */
  private publicPath(declared: string | undefined, walk: () => void): void {
    const used = this.usesInternet;
    try {
      walk();
    } catch (e) {
      if (declared && e instanceof Broken) broken(`${declared}; the public path fails too: ${e.message}`);
      throw e;
    }
    if (!declared) return;
    this.usesInternet = used;
    this.bypass = `${declared}; the traffic leaves through the NAT to the service's public addresses instead (it works, but not the declared way: NAT data charges, and an aws:SourceVpce condition would refuse it)`;
    this.hop(`public path: ${this.bypass}`);
  }

  /** A name lookup through the VPC's resolver: without enableDnsSupport the VPC has none (AWS docs, "DNS attributes for your VPC"). */
  private requireDns(name: string): void {
    if (/^\d+\.\d+\.\d+\.\d+$/.test(name)) return;
    const vpc = this.ix.byId(this.fn.vpcId, T.vpc);
    if (vpc && !this.ix.vpcDns(vpc).support)
      broken(
        `VPC ${vpc.name} has DNS resolution (enableDnsSupport) off, so function ${this.fn.name} cannot resolve ${name} (the Amazon DNS server does not answer in that VPC)`,
      );
  }

  private viaInterfaceEndpoint(ep: Res, vpc: Res, hostname: string): void {
    const ix = this.ix;
    const dnsProblem = privateDnsProblem(ix, ep, vpc, hostname);
    if (dnsProblem) broken(dnsProblem);
    this.hop(
      `DNS: ${hostname} → interface endpoint ${ep.name} (private DNS; VPC ${vpc.name} DNS support and hostnames on)`,
    );
    const sgIds = ix.sgIdsOf(ep);
    if (sgIds.length === 0)
      broken(`interface endpoint ${ep.name} has no security group, so it admits only the VPC's default group`);
    this.requireEgress(
      this.fn.sgIds,
      { sgIds, cidrs: this.targetCidrs([ep]), sgVpc: vpc.id },
      `interface endpoint ${ep.name}`,
    );
    const arrival = this.routeToTarget(ep);
    this.deliver(ep, arrival);
    if (this.spec.service === "execute-api") this.privateApis(ep);
  }

  private viaGatewayEndpoint(ep: Res, service: string, hostname: string, declared?: string): void {
    const ix = this.ix;
    const spec = this.spec;
    // Subnets whose route table has no route to the prefix list send the service's (public) addresses along
    // their default route instead: through the NAT, where the prefix-list egress rule still matches them.
    const unrouted: Res[] = [];
    let why = declared;
    this.each(this.fn.subnets, (s) => {
      const table = routeTableOf(ix, s);
      const route = prefixListRoute(ix, table, service);
      if (!route) {
        unrouted.push(s);
        why ??= `${table.label} has no route to the ${service} prefix list (gateway endpoint ${ep.name} is not associated with it)`;
        return;
      }
      this.hop(`${s.name} → ${table.label}: the ${service} prefix list → gateway endpoint ${ep.name}`, ep.name);
    });
    const rules = this.fnEgressRules().filter((r) => rulePermits(r, spec.protocol, spec.port));
    const byList = rules.find((r) =>
      r.prefixLists.some((p) => spec.prefixListId === undefined || p === spec.prefixListId),
    );
    const byCidr = rules.find((r) => r.cidrs.some((c) => c.prefix === 0));
    const rule = byList ?? byCidr;
    if (!rule)
      broken(
        `security group ${this.fnSgNames()} has no egress rule for ${spec.protocol}/${spec.port} to the ${service} prefix list${this.closestEgress((r) => r.prefixLists.length > 0)}`,
      );
    this.hop(
      `security group ${ix.label(rule.sgId, T.sg)} egress ${rulePorts(rule)} to ${rulePeers(rule, ix)} (rule ${rule.name})`,
    );
    if (unrouted.length > 0) {
      this.publicPath(why, () => {
        this.requireAcceptsPublicPath(service);
        this.leaveToInternet(unrouted, [ANYWHERE], this.sender(), hostname);
      });
      if (unrouted.length === this.fn.subnets.length) return;
    }
    this.targets.push(ep);
    this.hop(`AWS ${service} through gateway endpoint ${ep.name}:${spec.port}`);
  }

  /**
   * A bucket the function names whose policy refuses requests that do not come through a VPC endpoint (a Deny
   * with an aws:SourceVpce / aws:SourceVpc condition) refuses the public path too.
   */
  private requireAcceptsPublicPath(service: string): void {
    if (service !== "s3") return;
    const ix = this.ix;
    const names = new Set(Object.values(this.fn.env));
    const buckets = [...ix.all("aws:s3/bucket:Bucket"), ...ix.all("aws:s3/bucketV2:BucketV2")];
    for (const b of buckets.filter((x) => names.has(x.id) || names.has(String(x.inputs.bucket ?? "")))) {
      const policies = ix
        .all("aws:s3/bucketPolicy:BucketPolicy")
        .filter((x) => x.inputs.bucket === b.id || x.inputs.bucket === b.inputs.bucket);
      for (const p of policies) {
        const statements = typeof p.inputs.policy === "string" ? statementsOfText(p.inputs.policy) : undefined;
        const refuses = (statements ?? []).some(
          (st) => st.Effect === "Deny" && hasSourceVpceCondition(st.Condition, "notEquals"),
        );
        if (refuses)
          broken(
            `bucket ${b.name}'s policy (${p.name}) denies requests that do not come through a VPC endpoint (aws:SourceVpce / aws:SourceVpc), so the public path is refused`,
          );
      }
    }
  }

  /** Private REST APIs reached through the execute-api endpoint: their resource policy must admit it, and only endpoints. */
  private privateApis(ep: Res): void {
    const ix = this.ix;
    const apis = ix.all(T.restApi).filter((a) => isPrivateApi(a));
    const envText = Object.values(this.fn.env).join(" ");
    const named = apis.filter((a) => a.id !== "" && envText.includes(a.id));
    for (const api of named.length > 0 ? named : apis) {
      const verdict = privateApiVerdict(ix, api, ep.id, ix.byId(ep.inputs.vpcId, T.vpc)?.id);
      // A policy that admits this endpoint lets the call through even when it admits others too; that openness
      // is the forbidden-path check's finding (private-api), not a broken flow.
      if (verdict.problem && !verdict.admitsEndpoint) broken(verdict.problem);
      this.targets.push(api);
      this.hop(
        verdict.problem
          ? `private API ${api.name}: resource policy admits interface endpoint ${ep.name} (${ep.id}), but also other callers (${verdict.problem})`
          : `private API ${api.name}: resource policy admits aws:SourceVpce ${ep.id} (interface endpoint ${ep.name}) and restricts every other caller`,
        api.name,
      );
    }
  }

  // --- delivery to a target resource

  /** Routes every function subnet to every subnet of the target; returns the arrival (one VPC). */
  private routeToTarget(target: Res): Arrival {
    const tSubnets = this.ix.subnetIdsOf(target).map((id) => this.ix.subnet(id) as Res);
    let arrival: Arrival | undefined;
    this.each(this.fn.subnets, (s) =>
      this.each(tSubnets, (t) => {
        const c = this.ix.subnetCidr(t);
        if (!c) return;
        const a = this.route(s, { kind: "private", cidr: c, label: c.text }, this.sender(), 0);
        if (a.kind !== "vpc" || a.vpcId !== t.inputs.vpcId)
          broken(`${routeTableOf(this.ix, s).label} has no route to ${c.text} (subnet ${t.name} of ${target.name})`);
        arrival = a;
      }),
    );
    return arrival ?? broken(`${kindOf(target)} ${target.name} has no subnets in the graph`);
  }

  private deliver(target: Res, arrival: Arrival): void {
    const ix = this.ix;
    const spec = this.spec;
    if (arrival.kind !== "vpc")
      broken(`${kindOf(target)} ${target.name} is private, but the route leads to the internet`);
    // Databases and load balancers are reached by their DNS names (the cluster endpoint, the load balancer's name).
    if (BY_NAME.has(target.type)) this.requireDns(`the DNS name of ${kindOf(target)} ${target.name}`);
    const ports = listenPorts(ix, target);
    if (ports && !ports.includes(spec.port))
      broken(`${kindOf(target)} ${target.name} listens on ${ports.join(", ")}, not on ${spec.port}`);
    const tSubnets = ix.subnetIdsOf(target).map((id) => ix.subnet(id) as Res);
    if (arrival.tgw) {
      const zones = attachmentZones(ix, arrival.tgw.attachment);
      const uncovered = tSubnets.find((t) => !zones.has(ix.az(t)));
      if (uncovered)
        broken(
          `transit gateway attachment ${arrival.tgw.attachment.name} has no subnet in ${ix.az(uncovered)}, so traffic cannot reach subnet ${uncovered.name} of ${target.name}`,
        );
    }
    const tSgs = ix.sgIdsOf(target);
    if (tSgs.length > 0) this.requireIngress(target, tSgs, arrival);
    for (const t of tSubnets) this.returnRoute(t, arrival);
    this.targets.push(target);
    this.hop(
      `${kindOf(target)} ${target.name} (${tSubnets.map((s) => s.name).join(", ")}) on ${spec.protocol}/${spec.port}${arrival.tgw ? `; return route via transit gateway ${arrival.tgw.tgw.name}` : ""}`,
      target.name,
    );
    if (target.type === T.classicLb) this.proxyTier(target);
    if (target.type === T.lb) this.nlbProxyTier(target);
  }

  /** Return traffic from a target subnet must route back to each function subnet, the same way. */
  private returnRoute(targetSubnet: Res, arrival: Arrival): void {
    const ix = this.ix;
    if (arrival.kind !== "vpc" || arrival.vpcId === this.fn.vpcId) return;
    for (const s of this.fn.subnets) {
      const c = ix.subnetCidr(s);
      if (!c) continue;
      const back = this.routeQuiet(targetSubnet, {
        kind: "private",
        cidr: c,
        label: `${c.text} (the return route to subnet ${s.name} of function ${this.fn.name})`,
      });
      if (back.kind !== "vpc" || back.vpcId !== this.fn.vpcId)
        broken(
          `${routeTableOf(ix, targetSubnet).label} has no route to ${c.text} (the return route to subnet ${s.name} of function ${this.fn.name})`,
        );
    }
  }

  /** A route walk whose hops are not recorded (return paths). */
  private routeQuiet(subnet: Res, dest: Dest): Arrival {
    const saved = this.hops.length;
    this.muted++;
    try {
      return this.route(subnet, dest, { kind: "instance", label: "return traffic", publicIps: [] }, 0);
    } finally {
      this.muted--;
      this.hops.length = saved;
    }
  }

  // --- the proxy tier behind a load balancer

  private proxyTier(lb: Res): void {
    const ix = this.ix;
    const spec = this.spec;
    const listeners = (Array.isArray(lb.inputs.listeners) ? lb.inputs.listeners : []) as Record<string, unknown>[];
    const listener =
      listeners.find((l) => Number(l.lbPort) === spec.port) ??
      broken(`load balancer ${lb.name} has no listener on ${spec.port}`);
    const instancePort = Number(listener.instancePort);
    const asgs = ix
      .all(T.asg)
      .filter((a) =>
        (Array.isArray(a.inputs.loadBalancers) ? a.inputs.loadBalancers : []).some(
          (x) => x === lb.id || ix.resolve(x, [T.classicLb]) === lb,
        ),
      );
    if (asgs.length === 0)
      broken(`load balancer ${lb.name} has no instances behind it (no Auto Scaling group lists it)`);
    for (const asg of asgs) {
      const lt = this.launchTemplateOf(asg);
      const conf = squidConfOf(lt);
      if (conf) {
        const p = clbProxyProtocolProblem(ix, lb, instancePort, conf, `squid.conf in launch template ${lt.name}`);
        if (p) broken(p);
      }
    }
    this.proxyInstances(lb, asgs, instancePort);
  }

  /** The NLB path: listener (TCP, the flow's port) → forward → target group → ASGs by targetGroupArns, with the PROXY v2 consistency rules (eval/load-balancer.ts). */
  private nlbProxyTier(lb: Res): void {
    const ix = this.ix;
    const spec = this.spec;
    const lbProblem = nlbProblems(ix, lb)[0];
    if (lbProblem) broken(lbProblem);
    const listener =
      lbListeners(ix, lb).find((l) => Number(l.inputs.port) === spec.port) ??
      broken(`load balancer ${lb.name} has no listener on ${spec.port}`);
    const tg =
      forwardTargetGroup(ix, listener) ??
      broken(
        `listener ${listener.name} of load balancer ${lb.name} does not forward to a target group in the graph; give it a default action { type: "forward", targetGroupArn }`,
      );
    const tgProblem = targetGroupProblems(tg)[0];
    if (tgProblem) broken(tgProblem);
    const asgs = asgsInTargetGroup(ix, tg);
    if (asgs.length === 0)
      broken(`target group ${tg.name} has no instances (no Auto Scaling group lists it in targetGroupArns)`);
    const squidPort = asgs
      .map((a) => this.launchTemplateOf(a))
      .map((lt) => squidConfOf(lt)?.port)
      .find((p) => p !== undefined);
    const portProblem = portProblems(listener, tg, squidPort)[0];
    if (portProblem) broken(portProblem);
    for (const asg of asgs) {
      const lt = this.launchTemplateOf(asg);
      const conf = squidConfOf(lt);
      if (conf) {
        const p = proxyProtocolAccessProblem(ix, lb, conf, `squid.conf in launch template ${lt.name}`);
        if (p) broken(p);
      }
    }
    this.hop(
      `load balancer ${lb.name} (network, internal) listener ${listener.name} TCP ${spec.port} → target group ${tg.name} (TCP ${Number(tg.inputs.port)}, PROXY v2, client IP not preserved)`,
      tg.name,
    );
    this.proxyInstances(lb, asgs, Number(tg.inputs.port));
  }

  private launchTemplateOf(asg: Res): Res {
    const ix = this.ix;
    const ltRef = (asg.inputs.launchTemplate ?? {}) as Record<string, unknown>;
    return (
      ix.byId(ltRef.id, T.launchTemplate) ??
      ix.resolve(ltRef.name, [T.launchTemplate]) ??
      ix.resolve(ltRef.id, [T.launchTemplate]) ??
      broken(`Auto Scaling group ${asg.name} uses a launch template that is not in the graph`)
    );
  }

  /** Load balancer → instances (security groups both ways), Squid's rules, and the proxies' own way out. */
  private proxyInstances(lb: Res, asgs: Res[], instancePort: number): void {
    const ix = this.ix;
    const spec = this.spec;
    const lbSgs = ix.sgIdsOf(lb);
    for (const asg of asgs) {
      const lt = this.launchTemplateOf(asg);
      const instSgs = ix.sgIdsOf(lt);
      const instSubnets = ix.subnetIdsOf(asg).map((id) => ix.subnet(id) as Res);
      if (instSubnets.length === 0) broken(`Auto Scaling group ${asg.name} has no subnets in the graph`);
      // Load balancer → instances on the instance port, both security groups.
      const portSpec = { protocol: "tcp", port: instancePort };
      const instCidrs = instSubnets.map((s) => ix.subnetCidr(s)).filter((c): c is Cidr => !!c);
      if (!this.sgAllows(lbSgs, "egress", portSpec, { sgIds: instSgs, cidrs: instCidrs }))
        broken(
          `security group ${lbSgs.map((id) => ix.label(id, T.sg)).join(", ")} of load balancer ${lb.name} has no egress rule for tcp/${instancePort} to the proxy instances (security group ${instSgs.map((id) => ix.label(id, T.sg)).join(", ")})`,
        );
      const lbCidrs = ix
        .subnetIdsOf(lb)
        .map((id) => ix.subnet(id))
        .filter((s): s is Res => !!s)
        .map((s) => ix.subnetCidr(s))
        .filter((c): c is Cidr => !!c);
      if (!this.sgAllows(instSgs, "ingress", portSpec, { sgIds: lbSgs, cidrs: lbCidrs }))
        broken(
          `security group ${instSgs.map((id) => ix.label(id, T.sg)).join(", ")} of the proxy instances does not admit tcp/${instancePort} from load balancer ${lb.name}`,
        );
      this.hop(
        `load balancer ${lb.name} ${spec.port} → Auto Scaling group ${asg.name} (launch template ${lt.name}) on tcp/${instancePort}`,
        asg.name,
      );

      const conf = squidConfOf(lt);
      const hosts = this.proxiedHosts(lb, conf);
      if (conf) this.squid(conf, lt, instancePort, hosts);
      // The proxies' own way out: 443 to the internet from their subnets.
      const publicIp = asBool(
        (
          (Array.isArray(lt.inputs.networkInterfaces) ? lt.inputs.networkInterfaces[0] : undefined) as
            Record<string, unknown> | undefined
        )?.associatePublicIpAddress,
        false,
      );
      const sender: Sender = {
        kind: "instance",
        label: `the proxy instances of ${asg.name}`,
        publicIps: publicIp ? this.proxyPublicIps(lb, instSgs) : [],
      };
      if (!this.sgAllows(instSgs, "egress", { protocol: "tcp", port: 443 }, { cidrs: [ANYWHERE] }))
        broken(
          `security group ${instSgs.map((id) => ix.label(id, T.sg)).join(", ")} of the proxy instances has no egress rule for tcp/443 to 0.0.0.0/0${this.closestEgress(() => true, instSgs, 443)}`,
        );
      const before = this.egressIps.size;
      this.leaveToInternet(instSubnets, [ANYWHERE], sender, hosts.join(", "));
      if (this.egressIps.size === before && publicIp) this.egressIps.add(`public IPs of ${asg.name}`);
      this.hop(
        `internet: ${hosts.join(", ")}:443 from the proxies${publicIp ? " (their own public addresses)" : ""}`,
        ...hosts.map((h) => `${h}:443`),
      );
    }
  }

  /** Hosts the function reaches through the proxy: URLs in its environment that are not the proxy itself or AWS. */
  private proxiedHosts(lb: Res, conf: SquidConf | undefined): string[] {
    const hosts = new Set<string>();
    for (const [k, v] of Object.entries(this.fn.env)) {
      if (/proxy/i.test(k)) continue;
      const m = /^https?:\/\/([^/:?#]+)/i.exec(v);
      if (!m) continue;
      const host = m[1].toLowerCase();
      if (host.endsWith(".amazonaws.com") || host.includes(lb.name)) continue;
      hosts.add(host);
    }
    if (hosts.size === 0 && conf) for (const d of conf.domains) hosts.add(d.replace(/^\./, ""));
    return [...hosts];
  }

  private proxyPublicIps(lb: Res, instSgs: string[]): string[] {
    const ix = this.ix;
    for (const sg of [...ix.sgIdsOf(lb), ...instSgs]) {
      const ips = ix.egressIpsOfSg(sg);
      if (ips) return ips;
    }
    return [];
  }

  private squid(conf: SquidConf, lt: Res, instancePort: number, hosts: string[]): void {
    const where = `squid.conf in launch template ${lt.name}`;
    if (conf.port !== undefined && conf.port !== instancePort)
      broken(`${where} listens on ${conf.port}, but the load balancer forwards to ${instancePort}`);
    const header =
      conf.headerName ?? broken(`${where} checks no request header, so anyone who reaches the proxy can use it`);
    // Without a final "http_access deny all" Squid applies the opposite of the last line to a request no line
    // matches (squid.conf documentation, http_access): the evaluation below decides; the missing line itself is a
    // policy finding (squid-conf-and-deny-all), not a broken flow.
    const src = this.fnCidrs();
    for (const host of hosts) {
      if (!conf.domains.some((d) => domainMatches(d, host)))
        broken(`${host} is not whitelisted in ${where} (dstdomain ${conf.domains.join(" ") || "none"})`);
      const ok = evaluateSquid(conf, { src, host, port: 443, method: "CONNECT", header: true });
      if (ok.action !== "allow")
        broken(
          `${where} denies CONNECT ${host}:443 with the ${header} header from function ${this.fn.name} (${ok.line ? `line "${ok.line}"` : "no line matches"})`,
        );
      const noHeader = evaluateSquid(conf, { src, host, port: 443, method: "CONNECT", header: false });
      if (noHeader.action === "allow")
        broken(
          `${where} lets requests through without the ${header} header (line "${noHeader.line}"): header and domain are ORed, they must be ANDed on one http_access allow line`,
        );
    }
    const elsewhere = evaluateSquid(conf, {
      src,
      host: "not-whitelisted.invalid",
      port: 443,
      method: "CONNECT",
      header: true,
    });
    if (elsewhere.action === "allow")
      broken(
        `${where} lets requests with the ${header} header reach any domain (line "${elsewhere.line}"): header and domain are ORed, they must be ANDed on one http_access allow line`,
      );
    const sends = Object.values(this.fn.env).some((v) => v.toLowerCase() === header.toLowerCase());
    if (!sends)
      broken(
        `function ${this.fn.name} is not configured to send the ${header} header ${where} requires (no environment variable names it)`,
      );
    this.hop(
      `squid: CONNECT ${hosts.join(", ")}:443 allowed only with ${header} AND a whitelisted domain from ${src.map((c) => c.text).join(", ")}; everything else denied`,
    );
  }

  // --- routing

  private route(subnet: Res, dest: Dest, sender: Sender, depth: number): Arrival {
    const ix = this.ix;
    if (depth > MAX_HOPS) broken(`the route to ${dest.label} loops (more than ${MAX_HOPS} hops)`);
    const assocs = associationsOf(ix, subnet);
    if (assocs.length > 1)
      broken(`subnet ${subnet.name} has ${assocs.length} route table associations; AWS allows one`);
    const table = routeTableOf(ix, subnet);
    if (!table.implicitMain && !table.res)
      broken(`subnet ${subnet.name} is associated with route table ${table.id}, which is not in the graph`);
    const vpcId = String(subnet.inputs.vpcId ?? "");
    const r = lookup(ix, table, dest.cidr);
    if (sender.kind === "nat" && dest.kind === "internet" && sender.public && (!r || r.kind !== "igw")) {
      const what = r
        ? `sends ${r.destText} to ${this.targetLabel(r.kind, r.targetId)}`
        : `has no route to ${dest.cidr.text}`;
      broken(
        `NAT gateway ${ix.label(sender.natId, T.nat)} is in subnet ${subnet.name}, whose ${table.label} ${what}, not to an internet gateway: a NAT gateway must be in a public subnet`,
      );
    }
    if (!r) broken(`${table.label} has no route to ${dest.label}`);
    const via = `${subnet.name} → ${table.label}: ${r.destText} → ${this.targetLabel(r.kind, r.targetId)}`;
    switch (r.kind) {
      case "local":
        this.hop(via);
        return { kind: "vpc", vpcId };
      case "igw": {
        const igw =
          ix.byId(r.targetId, T.igw) ??
          broken(`${table.label} sends ${r.destText} to internet gateway ${r.targetId}, which is not in the graph`);
        if (!igwAttachedTo(ix, igw, vpcId))
          broken(`internet gateway ${igw.name} is not attached to VPC ${ix.label(vpcId, T.vpc)}`);
        if (dest.kind === "private")
          broken(
            `${table.label} has no route to ${dest.label} (only ${r.destText} → internet gateway ${igw.name}, and a private address is not reachable through the internet)`,
          );
        if (sender.kind === "lambda")
          broken(
            `function ${this.fn.name} is in subnet ${subnet.name}, whose ${table.label} sends ${r.destText} to internet gateway ${igw.name}: a Lambda ENI never gets a public IP, so the function must be in a private subnet that routes to a NAT gateway`,
          );
        if (sender.kind === "nat" && !sender.public)
          broken(
            `NAT gateway ${ix.label(sender.natId, T.nat)} is private (connectivityType private), so it cannot reach the internet through internet gateway ${igw.name}`,
          );
        if (sender.kind === "instance" && sender.publicIps.length === 0 && sender.label !== "return traffic")
          broken(
            `${sender.label} have no public IP, but subnet ${subnet.name} sends ${r.destText} straight to internet gateway ${igw.name}`,
          );
        this.hop(via, igw.name);
        return { kind: "internet", egressIps: sender.publicIps };
      }
      case "nat": {
        const nat =
          ix.byId(r.targetId, T.nat) ??
          broken(`${table.label} sends ${r.destText} to NAT gateway ${r.targetId}, which is not in the graph`);
        const natSubnet =
          ix.subnet(nat.inputs.subnetId) ??
          broken(`NAT gateway ${nat.name} is in subnet ${String(nat.inputs.subnetId)}, which is not in the graph`);
        if (natSubnet.inputs.vpcId !== vpcId)
          broken(`${table.label} sends ${r.destText} to NAT gateway ${nat.name}, which is in another VPC`);
        if (sender.kind === "nat" && sender.natId === nat.id)
          broken(
            `NAT gateway ${nat.name} is in subnet ${subnet.name}, whose ${table.label} sends ${r.destText} back to NAT gateway ${nat.name}, not to an internet gateway: a NAT gateway must be in a public subnet`,
          );
        const isPublic = (nat.inputs.connectivityType ?? "public") !== "private";
        let ips: string[] = [];
        if (isPublic) {
          const alloc = nat.inputs.allocationId;
          if (typeof alloc !== "string" || alloc === "")
            broken(`NAT gateway ${nat.name} has no Elastic IP (allocationId)`);
          const eip = ix.byId(alloc, T.eip);
          ips = [ix.natPublicIp(nat) ?? (eip ? `EIP ${eip.name}` : `EIP ${alloc}`)];
        }
        this.hop(`${via} (${natSubnet.name}${isPublic ? `, EIP ${ips[0]}` : ", private NAT"})`, nat.name);
        try {
          return this.route(
            natSubnet,
            dest,
            { kind: "nat", label: `NAT gateway ${nat.name}`, natId: nat.id, publicIps: ips, public: isPublic },
            depth + 1,
          );
        } catch (e) {
          // A private network that only matches the default route: the missing piece is its own route.
          if (e instanceof Broken && dest.kind === "private" && r.dest?.prefix === 0)
            broken(
              `${table.label} has no route to ${dest.label} (only its default route ${r.destText} → NAT gateway ${nat.name}, which leads to the internet)`,
            );
          throw e;
        }
      }
      case "tgw":
        this.hop(via, ix.label(r.targetId, T.tgw));
        return this.transitGateway(subnet, vpcId, table, r.targetId, dest, sender, depth);
      case "peering":
        this.hop(via, ix.label(r.targetId, T.peering));
        return this.peering(table, r.targetId, dest, vpcId);
      default:
        broken(
          `${table.label} sends ${r.destText} to ${this.targetLabel(r.kind, r.targetId)}, which the checker cannot follow`,
        );
    }
  }

  private targetLabel(kind: string, id: string | undefined): string {
    const ix = this.ix;
    switch (kind) {
      case "local":
        return "local";
      case "igw":
        return `internet gateway ${ix.label(id, T.igw)}`;
      case "nat":
        return `NAT gateway ${ix.label(id, T.nat)}`;
      case "tgw":
        return `transit gateway ${ix.label(id, T.tgw)}`;
      case "peering":
        return `peering connection ${ix.label(id, T.peering)}`;
      case "gatewayEndpoint":
        return `gateway endpoint ${ix.label(id, T.endpoint)}`;
      default:
        return String(id ?? "an unknown target");
    }
  }

  private peering(table: TableView, id: string | undefined, dest: Dest, vpcId: string): Arrival {
    const ix = this.ix;
    const pcx =
      ix.byId(id, T.peering) ??
      broken(`${table.label} sends ${dest.cidr.text} to peering connection ${id}, which is not in the graph`);
    const peer =
      pcx.inputs.vpcId === vpcId
        ? String(pcx.inputs.peerVpcId)
        : pcx.inputs.peerVpcId === vpcId
          ? String(pcx.inputs.vpcId)
          : broken(`peering connection ${pcx.name} does not connect VPC ${ix.label(vpcId, T.vpc)}`);
    const accepted =
      asBool(pcx.inputs.autoAccept, false) ||
      ix.all(T.peeringAccepter).some((a) => a.inputs.vpcPeeringConnectionId === pcx.id);
    if (!accepted)
      broken(`peering connection ${pcx.name} is never accepted (no autoAccept and no VpcPeeringConnectionAccepter)`);
    if (!anyContains(ix.vpcCidrs(peer), dest.cidr))
      broken(
        `peering connection ${pcx.name} leads to VPC ${ix.label(peer, T.vpc)}, which does not contain ${dest.cidr.text} (peering is not transitive)`,
      );
    return { kind: "vpc", vpcId: peer };
  }

  // --- Transit Gateway

  private transitGateway(
    subnet: Res,
    vpcId: string,
    table: TableView,
    tgwId: string | undefined,
    dest: Dest,
    sender: Sender,
    depth: number,
  ): Arrival {
    const ix = this.ix;
    const tgw =
      ix.byId(tgwId, T.tgw) ??
      broken(`${table.label} sends ${dest.cidr.text} to transit gateway ${tgwId}, which is not in the graph`);
    const src =
      tgwAttachments(ix, tgw).find((a) => a.inputs.vpcId === vpcId) ??
      broken(`VPC ${ix.label(vpcId, T.vpc)} has no attachment to transit gateway ${tgw.name}`);
    this.attachmentUsable(src, tgw);
    if (!attachmentZones(ix, src).has(ix.az(subnet)))
      broken(
        `transit gateway attachment ${src.name} has no subnet in ${ix.az(subnet)}, so subnet ${subnet.name} cannot reach transit gateway ${tgw.name}`,
      );
    const rt =
      tgwRouteTableOf(ix, src, tgw) ??
      broken(
        `transit gateway attachment ${src.name} is associated with no transit gateway route table${
          tgw.existing && !src.existing && tgw.inputs.defaultRouteTableAssociation === "disable"
            ? ` (transit gateway ${tgw.name} associates new attachments with no default table: name one in transitGateway.existing.routeTableIds, or have its owner associate it)`
            : ""
        }`,
      );
    const match = tgwLookup(ix, rt, tgw, dest.cidr);
    if (!match) broken(`${rt.label} has no route to ${dest.label}`);
    if (match.blackhole)
      broken(`${rt.label} blackholes ${match.destText}${match.route ? ` (route ${match.route.name})` : ""}`);
    const dst =
      match.attachment ?? broken(`${rt.label} sends ${match.destText} to an attachment that is not in the graph`);
    this.attachmentUsable(dst, tgw);
    const peerVpc = String(dst.inputs.vpcId ?? "");
    // Adopted pieces (a landing zone's TGW, its tables and attachments) are named as such and join the path.
    const old = (name: string, r: Res | undefined) => (r && ix.isExisting(r) ? `${name} (existing)` : name);
    const rtRes = rt.isDefault ? undefined : ix.byId(rt.id, T.tgwRouteTable);
    this.hop(
      `transit gateway ${old(tgw.name, tgw)}: ${rt.isDefault ? "default route table" : `route table ${old(rt.name, rtRes)}`}: ${match.destText} → attachment ${old(dst.name, dst)} (VPC ${ix.label(peerVpc, T.vpc)}${match.propagated ? ", propagated" : match.route && ix.isExisting(match.route) ? `, static route ${match.route.name} (existing)` : ""})`,
      ...[rtRes, dst].filter((r): r is Res => !!r && ix.isExisting(r)).map((r) => r.name),
    );
    if (dest.kind === "private" && anyContains(ix.vpcCidrs(peerVpc), dest.cidr))
      return { kind: "vpc", vpcId: peerVpc, tgw: { tgw, attachment: dst } };
    // Transit through the peer VPC (central egress): continue from the attachment's subnet in the same zone.
    const dstSubnets = ix
      .subnetIdsOf(dst)
      .map((id) => ix.subnet(id))
      .filter((s): s is Res => !!s);
    const next =
      dstSubnets.find((s) => ix.az(s) === ix.az(subnet)) ??
      dstSubnets[0] ??
      broken(`transit gateway attachment ${dst.name} has no subnets in the graph`);
    return this.route(next, dest, sender, depth + 1);
  }

  /** A cross-account attachment needs the RAM share (accepted outside an organization) and its acceptance. */
  private attachmentUsable(att: Res, tgw: Res): void {
    const problem = attachmentProblem(this.ix, att, tgw);
    if (problem !== undefined) broken(problem);
  }

  // --- security groups

  private fnEgressRules(sgIds: string[] = this.fn.sgIds): SgRule[] {
    return sgIds.flatMap((id) => sgRules(this.ix, id, "egress"));
  }

  private fnSgNames(): string {
    return this.fn.sgIds.map((id) => this.ix.label(id, T.sg)).join(", ");
  }

  /** Whether any of `sgIds` has a rule for the port towards (or from) the peer: an SG reference, or CIDRs covering every peer block. */
  private sgAllows(
    sgIds: string[],
    direction: "ingress" | "egress",
    p: { protocol: string; port: number },
    peer: SgPeer,
  ): SgRule | undefined {
    return sgAllows(this.ix, sgIds, direction, p, peer);
  }

  private requireEgress(sgIds: string[], peer: SgPeer, peerText: string): void {
    const spec = this.spec;
    const rule = this.sgAllows(sgIds, "egress", spec, peer);
    if (!rule)
      broken(
        `security group ${sgIds.map((id) => this.ix.label(id, T.sg)).join(", ")} has no egress rule for ${spec.protocol}/${spec.port} to ${peerText}${this.closestEgress((r) => r.sgRefs.some((x) => peer.sgIds?.includes(x)) || (peer.cidrs ?? []).some((c) => anyContains(r.cidrs, c)), sgIds)}`,
      );
    this.hop(
      `security group ${this.ix.label(rule.sgId, T.sg)} egress ${rulePorts(rule)} to ${rulePeers(rule, this.ix)} (rule ${rule.name})`,
    );
  }

  /** ", (closest: tcp/444 to 0.0.0.0/0 in rule x)" for a near miss on the port, else "". */
  private closestEgress(
    samePeer: (r: SgRule) => boolean,
    sgIds: string[] = this.fn.sgIds,
    port: number = this.spec.port,
  ): string {
    const near = sgIds
      .flatMap((id) => sgRules(this.ix, id, "egress"))
      .filter((r) => samePeer(r) && !rulePermits(r, this.spec.protocol, port));
    return near.length > 0 ? ` (it allows ${rulePorts(near[0])} there, rule ${near[0].name})` : "";
  }

  private requireIngress(target: Res, tSgs: string[], arrival: Arrival): void {
    const ix = this.ix;
    const spec = this.spec;
    const crossVpc = arrival.kind === "vpc" && arrival.vpcId !== this.fn.vpcId;
    const peer = { sgIds: crossVpc ? [] : this.fn.sgIds, cidrs: this.fnCidrs() };
    const rule = this.sgAllows(tSgs, "ingress", spec, peer);
    const names = tSgs.map((id) => ix.label(id, T.sg)).join(", ");
    if (!rule) {
      const from = crossVpc ? `${peer.cidrs.map((c) => c.text).join(", ")}` : `function ${this.fn.name}`;
      const notes = [
        crossVpc ? `the subnets of function ${this.fn.name}, in another VPC` : `security group ${this.fnSgNames()}`,
      ];
      const near = tSgs
        .flatMap((id) => sgRules(ix, id, "ingress"))
        .filter(
          (r) =>
            (r.sgRefs.some((x) => this.fn.sgIds.includes(x)) || peer.cidrs.some((c) => anyContains(r.cidrs, c))) &&
            !rulePermits(r, spec.protocol, spec.port),
        );
      if (near.length > 0) notes.push(`it allows ${rulePorts(near[0])} there, rule ${near[0].name}`);
      broken(
        `security group ${names} of ${kindOf(target)} ${target.name} does not admit ${spec.protocol}/${spec.port} from ${from} (${notes.join("; ")})`,
      );
    }
    this.hop(
      `security group ${ix.label(rule.sgId, T.sg)} ingress ${rulePorts(rule)} from ${rulePeers(rule, ix)} (rule ${rule.name})`,
    );
  }

  // --- targets

  /** Resources in a private block that listen on the flow's port (databases, load balancers, endpoints). */
  private listenersIn(dest: Cidr): Res[] {
    return listenersOf(this.ix)
      .filter((l) => l.ports.includes(this.spec.port) && l.cidrs.every((c) => cidrContains(dest, c)))
      .map((l) => l.res);
  }

  private targetCidrs(targets: Res[]): Cidr[] {
    const ix = this.ix;
    const seen = new Map<string, Cidr>();
    for (const t of targets)
      for (const id of ix.subnetIdsOf(t)) {
        const s = ix.subnet(id);
        const c = s ? ix.subnetCidr(s) : undefined;
        if (c) seen.set(c.text, c);
      }
    return [...seen.values()];
  }
}

function ipOrder(a: string, b: string): number {
  return a.localeCompare(b, "en", { numeric: true });
}
