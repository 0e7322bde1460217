/**
 * Lookups over a synthesized graph.json for the offline checker: resources by id, type and
 * reference, each subnet's route table (explicit association, else the VPC's main table), the
 * routes of a table (local, explicit, inline and gateway-endpoint prefix lists), security-group
 * rules from every way a program can write them, the resources a security group is attached to,
 * accounts per provider and the public addresses the stack outputs name.
 *
 * Generic over resource types: it reads the AWS provider's input shapes, not our components'
 * names, so resources other helpers add (Transit Gateway, Aurora, API Gateway…) index themselves.
 */
import * as crypto from "crypto";
import type { Graph } from "../synth-core";
import { Cidr, cidrContains, cidrsOverlap, tryParseCidr } from "../../components/cidr";

export type Res = Graph["resources"][number];

/** Resource type tokens the checker reads. */
export const T = {
  vpc: "aws:ec2/vpc:Vpc",
  vpcCidr: "aws:ec2/vpcIpv4CidrBlockAssociation:VpcIpv4CidrBlockAssociation",
  subnet: "aws:ec2/subnet:Subnet",
  routeTable: "aws:ec2/routeTable:RouteTable",
  route: "aws:ec2/route:Route",
  rta: "aws:ec2/routeTableAssociation:RouteTableAssociation",
  mainRta: "aws:ec2/mainRouteTableAssociation:MainRouteTableAssociation",
  igw: "aws:ec2/internetGateway:InternetGateway",
  igwAttachment: "aws:ec2/internetGatewayAttachment:InternetGatewayAttachment",
  nat: "aws:ec2/natGateway:NatGateway",
  eip: "aws:ec2/eip:Eip",
  eipAssociation: "aws:ec2/eipAssociation:EipAssociation",
  sg: "aws:ec2/securityGroup:SecurityGroup",
  sgRule: "aws:ec2/securityGroupRule:SecurityGroupRule",
  sgIngress: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
  sgEgress: "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
  endpoint: "aws:ec2/vpcEndpoint:VpcEndpoint",
  endpointRta: "aws:ec2/vpcEndpointRouteTableAssociation:VpcEndpointRouteTableAssociation",
  peering: "aws:ec2/vpcPeeringConnection:VpcPeeringConnection",
  peeringAccepter: "aws:ec2/vpcPeeringConnectionAccepter:VpcPeeringConnectionAccepter",
  lambda: "aws:lambda/function:Function",
  vpcFunction: "vpc-lambda-kit:functions:VpcFunction",
  tgw: "aws:ec2transitgateway/transitGateway:TransitGateway",
  tgwAttachment: "aws:ec2transitgateway/vpcAttachment:VpcAttachment",
  tgwAttachmentAccepter: "aws:ec2transitgateway/vpcAttachmentAccepter:VpcAttachmentAccepter",
  tgwRouteTable: "aws:ec2transitgateway/routeTable:RouteTable",
  tgwRtAssociation: "aws:ec2transitgateway/routeTableAssociation:RouteTableAssociation",
  tgwRtPropagation: "aws:ec2transitgateway/routeTablePropagation:RouteTablePropagation",
  tgwRoute: "aws:ec2transitgateway/route:Route",
  ramShare: "aws:ram/resourceShare:ResourceShare",
  ramResource: "aws:ram/resourceAssociation:ResourceAssociation",
  ramPrincipal: "aws:ram/principalAssociation:PrincipalAssociation",
  ramAccepter: "aws:ram/resourceShareAccepter:ResourceShareAccepter",
  rdsSubnetGroup: "aws:rds/subnetGroup:SubnetGroup",
  rdsCluster: "aws:rds/cluster:Cluster",
  rdsInstance: "aws:rds/instance:Instance",
  rdsClusterInstance: "aws:rds/clusterInstance:ClusterInstance",
  classicLb: "aws:elb/loadBalancer:LoadBalancer",
  asg: "aws:autoscaling/group:Group",
  launchTemplate: "aws:ec2/launchTemplate:LaunchTemplate",
  instance: "aws:ec2/instance:Instance",
  restApi: "aws:apigateway/restApi:RestApi",
  restApiPolicy: "aws:apigateway/restApiPolicy:RestApiPolicy",
  provider: "pulumi:providers:aws",
  stackReference: "pulumi:pulumi:StackReference",
} as const;

/** Where a route sends matching traffic. */
export type RouteTargetKind = "local" | "igw" | "nat" | "tgw" | "gatewayEndpoint" | "peering" | "blackhole" | "other";

export interface RouteView {
  /** Destination CIDR; undefined for a prefix-list route. */
  dest?: Cidr;
  /** A gateway endpoint's service (prefix-list routes): "s3", "dynamodb". */
  service?: string;
  destText: string;
  kind: RouteTargetKind;
  targetId?: string;
  /** The resource that made the route (a Route, a RouteTable with inline routes, a gateway endpoint). */
  source?: Res;
}

export interface TableView {
  id: string;
  name: string;
  /** For sentences: "route table x", or "the main route table of VPC y" for the implicit one. */
  label: string;
  vpcId?: string;
  res?: Res;
  /** True for the VPC's implicit main table (no resource in the graph). */
  implicitMain: boolean;
}

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

const IANA_PROTOCOLS: Record<string, string> = { "6": "tcp", "17": "udp", "1": "icmp", all: "-1", "-1": "-1" };

/** sha256-based auto-name the offline mocks give resources without a physical name (`<name>-<7 hex>`). */
export function mockAutoName(type: string, name: string): string {
  return `${name}-${crypto.createHash("sha256").update(`${type}::${name}`).digest("hex").slice(0, 7)}`;
}

function str(v: unknown): string | undefined {
  return typeof v === "string" && v !== "" ? v : undefined;
}

function strs(v: unknown): string[] {
  if (typeof v === "string") {
    // Providers receive some list-valued inputs as JSON text.
    if (v.startsWith("[")) {
      try {
        const parsed = JSON.parse(v);
        if (Array.isArray(parsed)) return parsed.filter((x): x is string => typeof x === "string");
      } catch {
        /* a plain string */
      }
    }
    return v === "" ? [] : [v];
  }
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === "string" && x !== "");
  return [];
}

function bool(v: unknown, dflt: boolean): boolean {
  if (v === true || v === "true") return true;
  if (v === false || v === "false") return false;
  return dflt;
}

export function asBool(v: unknown, dflt: boolean): boolean {
  return bool(v, dflt);
}

function num(v: unknown, dflt: number): number {
  const n = typeof v === "string" ? Number(v) : v;
  return typeof n === "number" && Number.isFinite(n) ? n : dflt;
}

const parsedCidrs = new Map<string, Cidr | undefined>();

/** Parses an IPv4 CIDR (memoized: graphs repeat the same blocks thousands of times); undefined if not one. */
export function cidrOf(text: unknown): Cidr | undefined {
  if (typeof text !== "string") return undefined;
  if (parsedCidrs.has(text)) return parsedCidrs.get(text);
  const c = tryParseCidr(text);
  const v = typeof c === "string" ? undefined : c;
  if (parsedCidrs.size < 100000) parsedCidrs.set(text, v);
  return v;
}

const PRIVATE_RANGES = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "169.254.0.0/16", "127.0.0.0/8"].map((c) => cidrOf(c) as Cidr);

/** True when the block lies entirely in private (RFC 1918, CGNAT, link-local, loopback) space. */
export function isPrivateCidr(c: Cidr): boolean {
  return PRIVATE_RANGES.some((p) => cidrContains(p, c));
}

/** True when the block includes any public address. */
export function touchesPublic(c: Cidr): boolean {
  return !isPrivateCidr(c);
}

export const ANYWHERE = cidrOf("0.0.0.0/0") as Cidr;

/** Builds indexes once; every query afterwards is a map lookup or a short scan. */
export class GraphIndex {
  public readonly resources: Res[];
  private readonly byIdMap = new Map<string, Res[]>();
  private readonly byTypeMap = new Map<string, Res[]>();
  private readonly byUrnMap = new Map<string, Res>();
  private readonly byRefMap = new Map<string, Res[]>();
  private readonly childrenMap = new Map<string, Res[]>();
  private readonly routesByTable = new Map<string, RouteView[]>();
  private readonly assocBySubnet = new Map<string, string[]>();
  private readonly mainTableByVpc = new Map<string, string>();
  private readonly rulesBySg = new Map<string, SgRule[]>();
  private readonly sgUsersMap = new Map<string, Res[]>();
  private readonly vpcCidrsMap = new Map<string, Cidr[]>();
  private readonly accountByProvider = new Map<string, string | undefined>();
  private readonly natIps = new Map<string, string>();
  private readonly sgEgressIps = new Map<string, string[]>();
  private readonly tableCache = new Map<string, TableView>();

  constructor(public readonly graph: Graph) {
    this.resources = graph.resources;
    for (const r of graph.resources) {
      push(this.byIdMap, r.id, r);
      push(this.byTypeMap, r.type, r);
      if (r.urn) this.byUrnMap.set(r.urn, r);
      if (r.parent) push(this.childrenMap, r.parent, r);
      for (const ref of this.refsOf(r)) push(this.byRefMap, ref, r);
    }
    for (const p of this.all(T.provider)) this.accountByProvider.set(p.urn, providerAccount(p.inputs));
    this.indexVpcs();
    this.indexRoutes();
    this.indexSecurityGroups();
    this.indexOutputs(graph.outputs, 0);
  }

  // --- generic lookups

  all(type: string): Res[] {
    return this.byTypeMap.get(type) ?? [];
  }

  /** The resource with this id (of `type` when given); ids are unique per type. */
  byId(id: unknown, type?: string): Res | undefined {
    if (typeof id !== "string") return undefined;
    const found = this.byIdMap.get(id);
    if (!found) return undefined;
    return type ? found.find((r) => r.type === type) : found.find((r) => r.id !== "") ?? found[0];
  }

  byUrn(urn: string | null | undefined): Res | undefined {
    return urn ? this.byUrnMap.get(urn) : undefined;
  }

  children(r: Res): Res[] {
    return this.childrenMap.get(r.urn) ?? [];
  }

  /**
   * Resolves a reference as programs write it: an id, a physical name (`name` input or the mocks'
   * auto-name), or an ARN whose last segment is the id or name.
   */
  resolve(ref: unknown, types?: string[]): Res | undefined {
    if (typeof ref !== "string" || ref === "") return undefined;
    const ok = (r: Res) => !types || types.includes(r.type);
    const direct = (this.byIdMap.get(ref) ?? []).find(ok) ?? (this.byRefMap.get(ref) ?? []).find(ok);
    if (direct) return direct;
    if (ref.startsWith("arn:")) {
      const tail = ref.split(/[:/]/).pop() as string;
      return (this.byIdMap.get(tail) ?? []).find(ok) ?? (this.byRefMap.get(tail) ?? []).find(ok);
    }
    return undefined;
  }

  /** A resource's display name: its Pulumi name. */
  label(id: unknown, type?: string): string {
    const r = this.byId(id, type);
    return r ? r.name : String(id);
  }

  /** The account a resource is created in: its explicit provider's allowed/assumed account. */
  accountOf(r: Res): string | undefined {
    if (r.provider) return this.accountByProvider.get(r.provider);
    let p = this.byUrn(r.parent);
    while (p) {
      if (p.provider) return this.accountByProvider.get(p.provider);
      p = this.byUrn(p.parent);
    }
    return undefined;
  }

  /** The nearest ancestor of `type` (e.g. the VpcFunction component of a Lambda). */
  ancestor(r: Res, type: string): Res | undefined {
    let p = this.byUrn(r.parent);
    while (p) {
      if (p.type === type) return p;
      p = this.byUrn(p.parent);
    }
    return undefined;
  }

  // --- VPCs and subnets

  vpcCidrs(vpcId: string): Cidr[] {
    return this.vpcCidrsMap.get(vpcId) ?? [];
  }

  vpcOfSubnet(subnet: Res): Res | undefined {
    return this.byId(subnet.inputs.vpcId, T.vpc);
  }

  subnet(id: unknown): Res | undefined {
    return this.byId(id, T.subnet);
  }

  subnetCidr(subnet: Res): Cidr | undefined {
    return cidrOf(subnet.inputs.cidrBlock);
  }

  az(subnet: Res): string {
    return str(subnet.inputs.availabilityZone) ?? str(subnet.inputs.availabilityZoneId) ?? "(unknown zone)";
  }

  /** The VPC whose CIDR blocks contain `c`. */
  vpcContaining(c: Cidr): Res | undefined {
    for (const v of this.all(T.vpc)) if (this.vpcCidrs(v.id).some((vc) => cidrContains(vc, c))) return v;
    return undefined;
  }

  subnetsOfVpc(vpcId: string): Res[] {
    return this.all(T.subnet).filter((s) => s.inputs.vpcId === vpcId);
  }

  /** DNS attributes as AWS defaults them (support on, hostnames off for a non-default VPC). */
  vpcDns(vpc: Res): { support: boolean; hostnames: boolean } {
    return { support: bool(vpc.inputs.enableDnsSupport, true), hostnames: bool(vpc.inputs.enableDnsHostnames, false) };
  }

  // --- routing

  /** The route table that governs a subnet: its explicit association, else the VPC's main table. */
  routeTableOf(subnet: Res): TableView {
    const assoc = this.assocBySubnet.get(subnet.id);
    if (assoc && assoc.length > 0) return this.table(assoc[0]);
    const vpcId = str(subnet.inputs.vpcId) ?? "";
    const main = this.mainTableByVpc.get(vpcId);
    if (main) return this.table(main);
    return this.implicitMain(vpcId);
  }

  /** All explicit associations of a subnet (more than one is a mistake AWS refuses). */
  associationsOf(subnet: Res): string[] {
    return this.assocBySubnet.get(subnet.id) ?? [];
  }

  table(id: string): TableView {
    const cached = this.tableCache.get(id);
    if (cached) return cached;
    const res = this.byId(id, T.routeTable);
    const view: TableView = res
      ? { id, name: res.name, label: `route table ${res.name}`, vpcId: str(res.inputs.vpcId), res, implicitMain: false }
      : { id, name: id, label: `route table ${id}`, implicitMain: false };
    this.tableCache.set(id, view);
    return view;
  }

  private implicitMain(vpcId: string): TableView {
    const id = `main:${vpcId}`;
    const cached = this.tableCache.get(id);
    if (cached) return cached;
    const vpc = this.byId(vpcId, T.vpc);
    const name = `main route table of ${vpc ? vpc.name : vpcId}`;
    const view: TableView = { id, name, label: `the main route table of VPC ${vpc ? vpc.name : vpcId}`, vpcId, implicitMain: true };
    this.tableCache.set(id, view);
    return view;
  }

  /** Every route of a table, the implicit local route(s) first. */
  routes(table: TableView): RouteView[] {
    const local: RouteView[] = table.vpcId
      ? this.vpcCidrs(table.vpcId).map((c) => ({ dest: c, destText: c.text, kind: "local" as const }))
      : [];
    return [...local, ...(this.routesByTable.get(table.id) ?? [])];
  }

  /** Longest-prefix match for a destination block (a route must contain all of it). */
  lookup(table: TableView, dest: Cidr): RouteView | undefined {
    let best: RouteView | undefined;
    for (const r of this.routes(table)) {
      if (!r.dest || !cidrContains(r.dest, dest)) continue;
      if (!best || (best.dest as Cidr).prefix < r.dest.prefix || ((best.dest as Cidr).prefix === r.dest.prefix && best.kind !== "local" && r.kind === "local")) best = r;
    }
    return best;
  }

  /** The gateway-endpoint route for a service in a table, if any. */
  prefixListRoute(table: TableView, service: string): RouteView | undefined {
    return (this.routesByTable.get(table.id) ?? []).find((r) => r.kind === "gatewayEndpoint" && r.service === service);
  }

  /** Whether an internet gateway is attached to the VPC. */
  igwAttachedTo(igw: Res, vpcId: string): boolean {
    if (igw.inputs.vpcId === vpcId) return true;
    return this.all(T.igwAttachment).some((a) => a.inputs.internetGatewayId === igw.id && a.inputs.vpcId === vpcId);
  }

  // --- security groups

  sgRules(sgId: string, direction?: "ingress" | "egress"): SgRule[] {
    const all = this.rulesBySg.get(sgId) ?? [];
    return direction ? all.filter((r) => r.direction === direction) : all;
  }

  sg(id: unknown): Res | undefined {
    return this.byId(id, T.sg);
  }

  /** Security groups a resource is attached to (any input shape that names groups). */
  sgIdsOf(r: Res): string[] {
    const out = new Set<string>();
    const visit = (o: unknown, depth: number) => {
      if (!o || typeof o !== "object" || depth > 3) return;
      if (Array.isArray(o)) {
        for (const x of o) visit(x, depth + 1);
        return;
      }
      for (const [k, v] of Object.entries(o as Record<string, unknown>)) {
        if (/^(securityGroupIds|vpcSecurityGroupIds|securityGroups)$/.test(k)) {
          for (const id of strs(v)) if (this.byId(id, T.sg)) out.add(id);
        } else if (/^(vpcConfig|vpcOptions|networkInterfaces|networkConfiguration|vpcConfiguration)$/.test(k)) {
          visit(v, depth + 1);
        }
      }
    };
    if (r.type !== T.sg && !r.type.startsWith("aws:vpc/securityGroup") && r.type !== T.sgRule) visit(r.inputs, 0);
    return [...out];
  }

  /** Resources a security group is attached to. */
  sgUsers(sgId: string): Res[] {
    return this.sgUsersMap.get(sgId) ?? [];
  }

  /** Subnets a resource places network interfaces in (any input shape that names subnets). */
  subnetIdsOf(r: Res): string[] {
    const out = new Set<string>();
    const add = (v: unknown) => {
      for (const id of strs(v)) if (this.byId(id, T.subnet)) out.add(id);
    };
    const i = r.inputs;
    for (const k of ["subnetIds", "subnetId", "subnets", "vpcZoneIdentifiers"]) add(i[k]);
    const vc = i.vpcConfig as Record<string, unknown> | undefined;
    if (vc && typeof vc === "object") add(vc.subnetIds);
    const groupRef = i.dbSubnetGroupName;
    if (groupRef !== undefined) {
      const group = this.resolve(groupRef, [T.rdsSubnetGroup]);
      if (group) add(group.inputs.subnetIds);
    }
    if (r.type === T.asg) return [...out];
    return [...out];
  }

  // --- public addresses

  /** The public IP of a NAT gateway (EIP), from the stack outputs that list NATs beside their IPs. */
  natPublicIp(nat: Res): string | undefined {
    return this.natIps.get(nat.id);
  }

  /** Public IPs the outputs attribute to a security group's tier (e.g. a proxy pool's EIPs). */
  egressIpsOfSg(sgId: string): string[] | undefined {
    return this.sgEgressIps.get(sgId);
  }

  // --- internals

  private refsOf(r: Res): string[] {
    const refs: string[] = [];
    const name = r.inputs.name;
    if (typeof name === "string" && name !== "" && name !== r.id) refs.push(name);
    if (typeof r.inputs.arn === "string") refs.push(r.inputs.arn);
    if (r.type.startsWith("aws:")) refs.push(mockAutoName(r.type, r.name));
    return refs;
  }

  private indexVpcs(): void {
    for (const v of this.all(T.vpc)) {
      const c = cidrOf(v.inputs.cidrBlock);
      this.vpcCidrsMap.set(v.id, c ? [c] : []);
    }
    for (const a of this.all(T.vpcCidr)) {
      const c = cidrOf(a.inputs.cidrBlock);
      const vpcId = str(a.inputs.vpcId);
      if (c && vpcId) push(this.vpcCidrsMap, vpcId, c);
    }
  }

  private indexRoutes(): void {
    for (const a of this.all(T.rta)) {
      const subnetId = str(a.inputs.subnetId);
      const rt = str(a.inputs.routeTableId);
      if (subnetId && rt) push(this.assocBySubnet, subnetId, rt);
    }
    for (const m of this.all(T.mainRta)) {
      const vpcId = str(m.inputs.vpcId);
      const rt = str(m.inputs.routeTableId);
      if (vpcId && rt) this.mainTableByVpc.set(vpcId, rt);
    }
    const add = (tableId: string | undefined, spec: Record<string, unknown>, source: Res) => {
      if (!tableId) return;
      const view = this.routeView(spec, source);
      if (view) push(this.routesByTable, tableId, view);
    };
    for (const r of this.all(T.route)) add(str(r.inputs.routeTableId), r.inputs, r);
    for (const t of this.all(T.routeTable)) {
      const inline = t.inputs.routes;
      if (Array.isArray(inline)) for (const spec of inline) if (spec && typeof spec === "object") add(t.id, spec as Record<string, unknown>, t);
    }
    const endpointRoute = (ep: Res, tableId: string) => {
      const service = serviceOf(ep);
      push(this.routesByTable, tableId, { service, destText: `the ${service} prefix list`, kind: "gatewayEndpoint", targetId: ep.id, source: ep });
    };
    for (const ep of this.all(T.endpoint)) {
      if (endpointType(ep) !== "Gateway") continue;
      for (const rt of strs(ep.inputs.routeTableIds)) endpointRoute(ep, rt);
    }
    for (const a of this.all(T.endpointRta)) {
      const ep = this.byId(a.inputs.vpcEndpointId, T.endpoint);
      const rt = str(a.inputs.routeTableId);
      if (ep && rt) endpointRoute(ep, rt);
    }
  }

  private routeView(spec: Record<string, unknown>, source: Res): RouteView | undefined {
    const destText = str(spec.destinationCidrBlock) ?? str(spec.cidrBlock);
    const dest = cidrOf(destText);
    if (!dest) return undefined; // IPv6 and prefix-list destinations are outside this checker's model
    const gw = str(spec.gatewayId);
    let kind: RouteTargetKind = "other";
    let targetId: string | undefined;
    if (gw === "local") kind = "local";
    else if (gw && this.byId(gw, T.igw)) [kind, targetId] = ["igw", gw];
    else if (gw && this.byId(gw, T.endpoint)) [kind, targetId] = ["gatewayEndpoint", gw];
    else if (gw && gw.startsWith("igw-")) [kind, targetId] = ["igw", gw];
    else if (str(spec.natGatewayId)) [kind, targetId] = ["nat", str(spec.natGatewayId)];
    else if (str(spec.transitGatewayId)) [kind, targetId] = ["tgw", str(spec.transitGatewayId)];
    else if (str(spec.vpcPeeringConnectionId)) [kind, targetId] = ["peering", str(spec.vpcPeeringConnectionId)];
    else if (str(spec.vpcEndpointId)) [kind, targetId] = ["gatewayEndpoint", str(spec.vpcEndpointId)];
    else if (gw) [kind, targetId] = ["other", gw];
    else targetId = str(spec.networkInterfaceId) ?? str(spec.egressOnlyGatewayId) ?? str(spec.carrierGatewayId) ?? str(spec.localGatewayId) ?? str(spec.coreNetworkArn);
    return { dest, destText: dest.text, kind, targetId, source };
  }

  private indexSecurityGroups(): void {
    const add = (rule: SgRule) => push(this.rulesBySg, rule.sgId, rule);
    for (const g of this.all(T.sg)) {
      for (const direction of ["ingress", "egress"] as const) {
        const inline = g.inputs[direction];
        if (!Array.isArray(inline)) continue;
        for (const x of inline) {
          if (!x || typeof x !== "object") continue;
          const s = x as Record<string, unknown>;
          add(normalizeRule(g.id, direction, g.name, {
            protocol: s.protocol, fromPort: s.fromPort, toPort: s.toPort,
            cidrs: strs(s.cidrBlocks), sgRefs: strs(s.securityGroups), prefixLists: strs(s.prefixListIds), self: bool(s.self, false),
          }));
        }
      }
    }
    for (const r of this.all(T.sgRule)) {
      const i = r.inputs;
      const sgId = str(i.securityGroupId);
      if (!sgId) continue;
      add(normalizeRule(sgId, i.type === "egress" ? "egress" : "ingress", r.name, {
        protocol: i.protocol, fromPort: i.fromPort, toPort: i.toPort,
        cidrs: strs(i.cidrBlocks), sgRefs: strs(i.sourceSecurityGroupId), prefixLists: strs(i.prefixListIds), self: bool(i.self, false),
      }));
    }
    for (const [type, direction] of [[T.sgIngress, "ingress"], [T.sgEgress, "egress"]] as const) {
      for (const r of this.all(type)) {
        const i = r.inputs;
        const sgId = str(i.securityGroupId);
        if (!sgId) continue;
        add(normalizeRule(sgId, direction, r.name, {
          protocol: i.ipProtocol, fromPort: i.fromPort, toPort: i.toPort,
          cidrs: strs(i.cidrIpv4), sgRefs: strs(i.referencedSecurityGroupId), prefixLists: strs(i.prefixListId), self: false,
        }));
      }
    }
    for (const r of this.resources) {
      for (const sg of this.sgIdsOf(r)) push(this.sgUsersMap, sg, r);
    }
  }

  /** Stack outputs that list NAT ids beside their public IPs, or a tier's security group beside its egress IPs. */
  private indexOutputs(o: unknown, depth: number): void {
    if (!o || typeof o !== "object" || depth > 6) return;
    if (Array.isArray(o)) {
      for (const x of o) this.indexOutputs(x, depth + 1);
      return;
    }
    const rec = o as Record<string, unknown>;
    const ips = strs(rec.egressIps);
    const nats = strs(rec.natGatewayIds);
    if (ips.length > 0 && nats.length === ips.length) nats.forEach((n, i) => this.natIps.set(n, ips[i]));
    const sg = str(rec.securityGroupId);
    if (ips.length > 0 && sg && !this.sgEgressIps.has(sg)) this.sgEgressIps.set(sg, ips);
    for (const v of Object.values(rec)) this.indexOutputs(v, depth + 1);
  }
}

function push<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const list = m.get(k);
  if (list) list.push(v);
  else m.set(k, [v]);
}

function normalizeRule(sgId: string, direction: "ingress" | "egress", name: string, s: { protocol: unknown; fromPort: unknown; toPort: unknown; cidrs: string[]; sgRefs: string[]; prefixLists: string[]; self: boolean }): SgRule {
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

/** True when a rule covers the protocol and port. Port -1 (ICMP/all) rules cover every port. */
export function rulePermits(rule: SgRule, protocol: string, port: number): boolean {
  if (rule.protocol === "-1") return true;
  if (rule.protocol !== protocol) return false;
  if (rule.fromPort === -1 || rule.toPort === -1) return true;
  return rule.fromPort <= port && port <= rule.toPort;
}

export function rulePorts(rule: SgRule): string {
  if (rule.protocol === "-1") return "all traffic";
  return rule.fromPort === rule.toPort ? `${rule.protocol}/${rule.fromPort}` : `${rule.protocol}/${rule.fromPort}-${rule.toPort}`;
}

export function rulePeers(rule: SgRule, ix: GraphIndex): string {
  const peers = [
    ...rule.cidrs.map((c) => c.text),
    ...rule.sgRefs.map((id) => `security group ${ix.label(id, T.sg)}`),
    ...rule.prefixLists.map((p) => `prefix list ${p}`),
    ...(rule.self ? ["itself"] : []),
  ];
  return peers.join(", ") || "nothing";
}

/** "Interface" / "Gateway" / …; the provider's default type is Gateway. */
export function endpointType(ep: Res): string {
  return str(ep.inputs.vpcEndpointType) ?? "Gateway";
}

/** The short service name of an endpoint: com.amazonaws.<region>.<service> → <service>. */
export function serviceOf(ep: Res): string {
  const name = str(ep.inputs.serviceName) ?? "";
  const m = /^(?:aws\.sagemaker\.|com\.amazonaws\.)[a-z0-9-]+\.(.+)$/.exec(name);
  return m ? m[1] : name;
}

function providerAccount(inputs: Record<string, unknown>): string | undefined {
  const allowed = strs(inputs.allowedAccountIds);
  if (allowed[0]) return allowed[0];
  const rolesRaw = inputs.assumeRoles ?? inputs.assumeRole;
  let roles: unknown = rolesRaw;
  if (typeof rolesRaw === "string") {
    try {
      roles = JSON.parse(rolesRaw);
    } catch {
      roles = undefined;
    }
  }
  const list = Array.isArray(roles) ? roles : roles ? [roles] : [];
  for (const r of list) {
    const arn = r && typeof r === "object" ? (r as Record<string, unknown>).roleArn : undefined;
    const m = typeof arn === "string" ? /^arn:aws[a-z-]*:iam::(\d{12}):/.exec(arn) : null;
    if (m) return m[1];
  }
  return undefined;
}

/** True when any of `outer` contains `inner`. */
export function anyContains(outer: Cidr[], inner: Cidr): boolean {
  return outer.some((o) => cidrContains(o, inner));
}

export { cidrContains, cidrsOverlap };
export type { Cidr };
