/**
 * graph.json → the twin's model: every address, route table, security group, NAT, Transit Gateway table and
 * service the kernel state is built from. Pure (no root, no processes), so it is unit-tested on its own.
 *
 * It reads resources out of the graph with its own code: nothing here calls the checker (ops/check/*), so a
 * run of the twin is a second, independent reading of the same graph.
 */
import * as fs from "fs";
import * as path from "path";
import { T } from "../graph-types";
import { Cidr, contains, hostAt, parseCidr, size } from "./ip";

export interface GraphResource {
  urn: string;
  id: string;
  type: string;
  name: string;
  parent: string | null;
  provider?: string | null;
  inputs: Record<string, any>;
}
export interface GraphFile {
  project: string;
  stack: string;
  resources: GraphResource[];
  outputs: Record<string, any>;
}

export class TwinInputError extends Error {}

/** Addresses the twin gives what AWS runs outside the VPCs (TEST-NET ranges, only inside the twin's namespaces). */
export const OUTSIDE = {
  /** AWS public service addresses; a gateway endpoint's prefix list is one /26 of it. */
  prefixLists: { s3: "198.51.100.0/26", dynamodb: "198.51.100.64/26" } as Record<string, string>,
  /** The address a service's regional name resolves to without an endpoint (its public face). */
  servicePublicBase: 130,
  /** Internet hosts (kintone, the SaaS, …): TEST-NET-1. */
  internetBase: "192.0.2.0/24",
};

export const DECOY_HOST = "not-allowlisted.twin.example.net";

export type Proto = "tcp" | "udp" | "icmp" | "all" | number;

export interface SgRuleM {
  name: string;
  direction: "ingress" | "egress";
  proto: Proto;
  from: number;
  to: number;
  cidrs: string[];
  groups: string[];
  prefixLists: string[];
  self: boolean;
}

export interface SubnetM {
  id: string;
  name: string;
  vpcId: string;
  cidr: Cidr;
  az: string;
  tableKey: string;
  /** Next free host offset (AWS reserves .0–.3 and the last address). */
  next: number;
}

export type RouteTarget =
  | { kind: "local" }
  | { kind: "igw"; id: string }
  | { kind: "nat"; id: string }
  | { kind: "tgw"; id: string }
  | { kind: "gatewayEndpoint"; id: string; service: string }
  | { kind: "blackhole"; why: string };

export interface RouteM {
  dest: string;
  target: RouteTarget;
}

export interface TableM {
  key: string;
  name: string;
  vpcId: string;
  routes: RouteM[];
}

export interface VpcM {
  id: string;
  name: string;
  cidrs: string[];
  dnsSupport: boolean;
  dnsHostnames: boolean;
  resolver: string;
  account: string;
}

export type EniKind = "function" | "endpoint" | "lb" | "proxy" | "db" | "nat" | "client";

export interface EniM {
  key: string;
  kind: EniKind;
  owner: string;
  subnetId: string;
  vpcId: string;
  ip: string;
  gateway: string;
  prefixLen: number;
  sgIds: string[];
  /** Interface endpoint id (endpoints), the function's name (functions), … */
  ref?: string;
}

export interface TgwTableM {
  key: string;
  name: string;
  associations: string[];
  routes: { dest: string; attachmentId?: string; blackhole?: boolean }[];
}
export interface AttachmentM {
  id: string;
  name: string;
  tgwId: string;
  vpcId: string;
  subnetIds: string[];
  /** Why the attachment cannot carry traffic (share not accepted, …); undefined = usable. */
  unusable?: string;
  /** Attachment ENI per subnet id. */
  enis: Record<string, string>;
}
export interface TgwM {
  id: string;
  name: string;
  account: string;
  tables: TgwTableM[];
}

export interface NatM {
  id: string;
  name: string;
  subnetId: string;
  eip: string;
  eni: EniM;
}

export interface FlowM {
  fn: string;
  index: number;
  protocol: string;
  port: number;
  to: { kind: string; service?: string; host?: string; cidr?: string; name?: string };
  /** The security group a flow to a group (or an endpoint) names, from the component's flowSpecs. */
  securityGroupId?: string;
  label: string;
}

export interface FunctionM {
  name: string;
  resourceName: string;
  runtime: string;
  handler: string;
  timeoutSeconds: number;
  env: Record<string, string>;
  subnetIds: string[];
  sgIds: string[];
  flows: FlowM[];
  bundle: string;
  enis: EniM[];
  account: string;
}

export interface InterfaceEndpointM {
  id: string;
  name: string;
  service: string;
  serviceName: string;
  vpcId: string;
  privateDns: boolean;
  sgIds: string[];
  enis: EniM[];
}

export interface ProxyTierM {
  /** "nlb" (aws:lb network load balancer, listener → target group) or "clb" (aws:elb). */
  lbKind: "nlb" | "clb";
  lbName: string;
  lbDns: string;
  lbPort: number;
  instancePort: number;
  proxyProtocol: boolean;
  /** PROXY protocol version the load balancer sends the instances: 1 (CLB policy), 2 (NLB target group), 0 none. */
  proxyProtocolVersion: 0 | 1 | 2;
  lbEnis: EniM[];
  instances: EniM[];
  squidTemplate: string;
  headerToken: string;
  headerSecretArn: string;
  launchTemplate: string;
  /** The addresses the SaaS must allowlist for this tier: its instances' EIPs (placement "public") or the NAT's. */
  egressIps: string[];
}

export interface DatabaseM {
  name: string;
  endpoint: string;
  readerEndpoint?: string;
  port: number;
  databaseName: string;
  masterUsername: string;
  masterSecretArn?: string;
  eni: EniM;
}

export interface DynamoTableM {
  name: string;
  hashKey: string;
  rangeKey?: string;
  attributes: { name: string; type: string }[];
  /** Functions whose environment names the table. */
  usedBy: string[];
}

export interface PrivateApiM {
  name: string;
  id: string;
  stage: string;
  policy: string;
  account: string;
  region: string;
  /** The function the integration invokes (by its component name). */
  fn?: string;
  routes: string[];
}

export interface TwinModel {
  stack: string;
  region: string;
  graphDir: string;
  vpcs: VpcM[];
  subnets: SubnetM[];
  tables: TableM[];
  sgs: Map<string, { name: string; rules: SgRuleM[] }>;
  enis: EniM[];
  igws: { id: string; vpcId: string }[];
  nats: NatM[];
  /** ENIs with their own EIP (proxy instances in placement "public"): the internet gateway maps them 1:1. */
  publicEnis: { eni: EniM; eip: string }[];
  tgws: TgwM[];
  attachments: AttachmentM[];
  interfaceEndpoints: InterfaceEndpointM[];
  gatewayPrefixLists: Map<string, string>;
  functions: FunctionM[];
  proxy?: ProxyTierM;
  db?: DatabaseM;
  api?: PrivateApiM;
  secrets: { arn: string; name: string }[];
  buckets: string[];
  /** DynamoDB tables of the graph that a function's environment names (moto serves and pre-creates them). */
  dynamoTables: DynamoTableM[];
  /** Public host name → its twin address in the internet namespace. */
  internetHosts: Map<string, string>;
  egressIps: string[];
  warnings: string[];
}

const bool = (v: unknown, dflt: boolean): boolean =>
  v === undefined || v === null ? dflt : v === true || v === "true" || v === "enable";
const strs = (v: unknown): string[] =>
  v === undefined || v === null ? [] : Array.isArray(v) ? v.map(String) : [String(v)];

/** Where a security-group rule keeps its fields, in each provider shape (the ports are fromPort/toPort in all). */
interface RuleFields {
  proto: string;
  cidrs: string;
  groups: string;
  prefixLists: string;
  /** Absent: the shape has no self rule. */
  self?: string;
}
/** SecurityGroup's inline ingress/egress blocks. */
const INLINE_RULE: RuleFields = {
  proto: "protocol",
  cidrs: "cidrBlocks",
  groups: "securityGroups",
  prefixLists: "prefixListIds",
  self: "self",
};
const RULE_FIELDS = {
  inline: INLINE_RULE,
  /** ec2.SecurityGroupRule (its `type` says the direction): the inline names but for the group reference. */
  sgRule: { ...INLINE_RULE, groups: "sourceSecurityGroupId" },
  /** vpc.SecurityGroupIngressRule / SecurityGroupEgressRule: one peer each, no self rule. */
  vpcRule: { proto: "ipProtocol", cidrs: "cidrIpv4", groups: "referencedSecurityGroupId", prefixLists: "prefixListId" },
} satisfies Record<string, RuleFields>;

function parseProto(v: unknown): Proto {
  const s = String(v ?? "-1").toLowerCase();
  if (s === "-1" || s === "all") return "all";
  if (s === "tcp" || s === "6") return "tcp";
  if (s === "udp" || s === "17") return "udp";
  if (s === "icmp" || s === "1") return "icmp";
  return Number(s);
}

/** Reads and shape-checks graph.json; a file that is not one throws TwinInputError naming the file. */
export function readGraph(file: string): GraphFile {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    throw new TwinInputError(
      `cannot read ${file}: ${(err as Error).message}. Run \`npm run synth -- <stack>\` first, or pass --graph <file>.`,
    );
  }
  let doc: any;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new TwinInputError(
      `${file} is not JSON (${(err as Error).message}); pass the graph.json that \`npm run synth\` writes.`,
    );
  }
  if (!doc || typeof doc !== "object" || !Array.isArray(doc.resources) || typeof doc.stack !== "string") {
    throw new TwinInputError(
      `${file} is not a synthesized graph: expected { project, stack, resources: [...], outputs }; pass the graph.json that \`npm run synth\` writes.`,
    );
  }
  doc.resources.forEach((r: any, i: number) => {
    if (
      !r ||
      typeof r.type !== "string" ||
      typeof r.name !== "string" ||
      typeof r.urn !== "string" ||
      typeof r.inputs !== "object" ||
      r.inputs === null
    ) {
      throw new TwinInputError(
        `${file}: resources[${i}] lacks type, name, urn or inputs; pass the graph.json that \`npm run synth\` writes.`,
      );
    }
  });
  doc.outputs = doc.outputs ?? {};
  return doc as GraphFile;
}

export function buildModel(graph: GraphFile, graphDir: string): TwinModel {
  const all = (type: string) => graph.resources.filter((r) => r.type === type);
  const byId = new Map<string, GraphResource>();
  for (const r of graph.resources) if (r.id && !byId.has(String(r.id))) byId.set(String(r.id), r);
  const byUrn = new Map(graph.resources.map((r) => [r.urn, r]));
  const warnings: string[] = [];

  const accountOf = (r: GraphResource): string => {
    // A provider reference is the provider's URN, optionally followed by "::<id>".
    const p = r.provider ? (byUrn.get(r.provider) ?? byUrn.get(r.provider.replace(/::[^:]*$/, ""))) : undefined;
    const ids = p?.inputs.allowedAccountIds;
    try {
      const list = typeof ids === "string" ? JSON.parse(ids) : ids;
      if (Array.isArray(list) && list.length) return String(list[0]);
    } catch {
      /* fall through */
    }
    return "000000000000";
  };
  const regionOf = (): string => {
    for (const r of all("pulumi:providers:aws")) if (typeof r.inputs.region === "string") return r.inputs.region;
    return "ap-northeast-1";
  };
  const region = regionOf();

  // VPCs and subnets.
  const vpcs: VpcM[] = all(T.vpc).map((r) => {
    const cidr = parseCidr(String(r.inputs.cidrBlock));
    return {
      id: r.id,
      name: r.name,
      cidrs: [cidr.text],
      dnsSupport: bool(r.inputs.enableDnsSupport, true),
      dnsHostnames: bool(r.inputs.enableDnsHostnames, false),
      resolver: hostAt(cidr, 2),
      account: accountOf(r),
    };
  });
  const vpcById = new Map(vpcs.map((v) => [v.id, v]));

  // Route tables: explicit ones, the default (main) table of each VPC, and associations.
  const tables: TableM[] = [];
  const tableById = new Map<string, TableM>();
  const addTable = (key: string, name: string, vpcId: string) => {
    const t: TableM = { key, name, vpcId, routes: [] };
    tables.push(t);
    tableById.set(key, t);
    return t;
  };
  for (const r of all(T.routeTable)) addTable(r.id, r.name, r.inputs.vpcId);
  const mainOf = new Map<string, string>();
  for (const r of all(T.defaultRouteTable)) {
    const vpc =
      vpcs.find((v) =>
        graph.resources.some(
          (x) => x.type === T.vpc && x.id === v.id && x.inputs.defaultRouteTableId === r.inputs.defaultRouteTableId,
        ),
      ) ?? vpcs.find((v) => v.id === r.inputs.vpcId);
    const t = addTable(r.id, r.name, vpc?.id ?? "");
    if (vpc) mainOf.set(vpc.id, t.key);
  }
  for (const r of all(T.mainRta))
    if (tableById.has(r.inputs.routeTableId)) mainOf.set(r.inputs.vpcId, r.inputs.routeTableId);
  for (const v of vpcs)
    if (!mainOf.has(v.id)) mainOf.set(v.id, addTable(`main-${v.id}`, `main route table of ${v.name}`, v.id).key);

  const rtaOf = new Map<string, string>();
  for (const r of all(T.rta)) if (r.inputs.subnetId) rtaOf.set(r.inputs.subnetId, r.inputs.routeTableId);

  const subnets: SubnetM[] = all(T.subnet).map((r) => ({
    id: r.id,
    name: r.name,
    vpcId: r.inputs.vpcId,
    cidr: parseCidr(String(r.inputs.cidrBlock)),
    az: String(r.inputs.availabilityZone ?? r.inputs.availabilityZoneId ?? "az?"),
    tableKey: tableById.has(rtaOf.get(r.id) ?? "") ? rtaOf.get(r.id)! : (mainOf.get(r.inputs.vpcId) ?? ""),
    next: 4,
  }));
  const subnetById = new Map(subnets.map((s) => [s.id, s]));

  // Gateway endpoints and their prefix lists.
  const gatewayPrefixLists = new Map<string, string>();
  const serviceOf = (serviceName: unknown) =>
    String(serviceName ?? "")
      .split(".")
      .pop() ?? "";
  const gatewayEndpoints = all(T.endpoint).filter((r) => String(r.inputs.vpcEndpointType ?? "Gateway") === "Gateway");
  for (const r of gatewayEndpoints) {
    const svc = serviceOf(r.inputs.serviceName);
    gatewayPrefixLists.set(
      `pl-${String(r.id)
        .replace(/^vpce-/, "")
        .slice(0, 8)}`,
      svc,
    );
  }
  for (const f of all(T.vpcFunction))
    for (const s of (f.inputs.flowSpecs ?? []) as any[])
      if (s.prefixListId && s.service) gatewayPrefixLists.set(s.prefixListId, s.service);
  if (typeof graph.outputs?.network?.s3PrefixListId === "string")
    gatewayPrefixLists.set(graph.outputs.network.s3PrefixListId, "s3");

  // Routes (separate resources and inline).
  const targetOf = (i: Record<string, any>): RouteTarget => {
    const gw = i.gatewayId as string | undefined;
    if (gw === "local") return { kind: "local" };
    if (i.natGatewayId) return { kind: "nat", id: i.natGatewayId };
    if (i.transitGatewayId) return { kind: "tgw", id: i.transitGatewayId };
    if (gw && gw.startsWith("vpce-"))
      return { kind: "gatewayEndpoint", id: gw, service: serviceOf(byId.get(gw)?.inputs.serviceName) };
    if (i.vpcEndpointId)
      return {
        kind: "gatewayEndpoint",
        id: i.vpcEndpointId,
        service: serviceOf(byId.get(i.vpcEndpointId)?.inputs.serviceName),
      };
    if (gw) return { kind: "igw", id: gw };
    for (const k of [
      "networkInterfaceId",
      "vpcPeeringConnectionId",
      "egressOnlyGatewayId",
      "carrierGatewayId",
      "localGatewayId",
      "coreNetworkArn",
      "instanceId",
    ]) {
      if (i[k]) return { kind: "blackhole", why: `${k} targets are not modelled by the twin` };
    }
    return { kind: "blackhole", why: "route without a target" };
  };
  const addRoute = (tableKey: string, i: Record<string, any>) => {
    const t = tableById.get(tableKey);
    if (!t) return;
    const dest = i.destinationCidrBlock ?? i.cidrBlock ?? i.destinationPrefixListId;
    if (!dest) return;
    if (String(dest).startsWith("pl-")) {
      const svc = gatewayPrefixLists.get(String(dest));
      const cidr = svc ? OUTSIDE.prefixLists[svc] : undefined;
      if (cidr) t.routes.push({ dest: cidr, target: targetOf(i) });
      return;
    }
    if (String(dest).includes(":")) return; // IPv6: not modelled
    t.routes.push({ dest: parseCidr(String(dest)).text, target: targetOf(i) });
  };
  for (const r of [...all(T.routeTable), ...all(T.defaultRouteTable)])
    for (const i of (r.inputs.routes ?? []) as any[]) addRoute(r.id, i);
  for (const r of all(T.route)) addRoute(r.inputs.routeTableId, r.inputs);
  for (const ep of gatewayEndpoints) {
    const svc = serviceOf(ep.inputs.serviceName);
    const cidr = OUTSIDE.prefixLists[svc];
    if (!cidr) continue;
    const rts = new Set<string>(strs(ep.inputs.routeTableIds));
    for (const a of all(T.endpointRta)) if (a.inputs.vpcEndpointId === ep.id) rts.add(a.inputs.routeTableId);
    for (const rt of rts)
      tableById.get(rt)?.routes.push({ dest: cidr, target: { kind: "gatewayEndpoint", id: ep.id, service: svc } });
  }
  for (const t of tables) {
    const v = vpcById.get(t.vpcId);
    for (const c of v?.cidrs ?? []) t.routes.push({ dest: c, target: { kind: "local" } });
  }

  // Security groups and rules, in every provider shape (RULE_FIELDS says where each keeps a rule's fields).
  const sgs = new Map<string, { name: string; rules: SgRuleM[] }>();
  for (const r of all(T.sg)) sgs.set(r.id, { name: r.name, rules: [] });
  const addRule = (sgId: string, name: string, direction: SgRuleM["direction"], i: any, f: RuleFields) =>
    sgs.get(sgId)?.rules.push({
      name,
      direction,
      proto: parseProto(i[f.proto]),
      from: Number(i.fromPort ?? 0),
      to: Number(i.toPort ?? 65535),
      cidrs: strs(i[f.cidrs]),
      groups: strs(i[f.groups]),
      prefixLists: strs(i[f.prefixLists]),
      self: f.self ? bool(i[f.self], false) : false,
    });
  for (const r of all(T.sg))
    for (const dir of ["ingress", "egress"] as const)
      for (const s of (r.inputs[dir] ?? []) as any[])
        addRule(r.id, `${r.name} inline ${dir}`, dir, s, RULE_FIELDS.inline);
  for (const r of all(T.sgRule)) {
    const dir = r.inputs.type === "egress" ? "egress" : "ingress";
    addRule(r.inputs.securityGroupId, r.name, dir, r.inputs, RULE_FIELDS.sgRule);
  }
  for (const r of all(T.sgIngress)) addRule(r.inputs.securityGroupId, r.name, "ingress", r.inputs, RULE_FIELDS.vpcRule);
  for (const r of all(T.sgEgress)) addRule(r.inputs.securityGroupId, r.name, "egress", r.inputs, RULE_FIELDS.vpcRule);

  // ENIs.
  const enis: EniM[] = [];
  let eniCount = 0;
  const allocate = (subnetId: string, kind: EniKind, owner: string, sgIds: string[], ref?: string): EniM => {
    const s = subnetById.get(subnetId);
    if (!s) throw new TwinInputError(`${owner} names subnet ${subnetId}, which is not in the graph`);
    if (s.next >= size(s.cidr) - 1)
      throw new TwinInputError(`subnet ${s.name} (${s.cidr.text}) has no free address left for ${owner}`);
    const eni: EniM = {
      key: `e${eniCount++}`,
      kind,
      owner,
      subnetId,
      vpcId: s.vpcId,
      ip: hostAt(s.cidr, s.next++),
      gateway: hostAt(s.cidr, 1),
      prefixLen: s.cidr.bits,
      sgIds,
      ref,
    };
    enis.push(eni);
    return eni;
  };

  // Internet gateways, NAT gateways and their EIPs.
  const igws = all(T.igw).map((r) => ({ id: r.id, vpcId: r.inputs.vpcId }));
  const eipOf = (allocId: string): string | undefined => {
    const e = byId.get(allocId);
    if (e && e.type === T.eip) return typeof e.inputs.publicIp === "string" ? e.inputs.publicIp : undefined;
    return undefined;
  };
  const outEips: string[] = strs(graph.outputs?.egressIps ?? graph.outputs?.network?.egressIps);
  const nats: NatM[] = [];
  all(T.nat).forEach((r, i) => {
    if (String(r.inputs.connectivityType ?? "public") !== "public") return;
    const eip = eipOf(r.inputs.allocationId) ?? outEips[i] ?? `203.0.113.${200 + i}`;
    nats.push({
      id: r.id,
      name: r.name,
      subnetId: r.inputs.subnetId,
      eip,
      eni: allocate(r.inputs.subnetId, "nat", r.name, []),
    });
  });

  // Transit Gateways, attachments (with their ENIs) and route tables.
  const shares = all(T.ramShare);
  const attachments: AttachmentM[] = all(T.tgwAttachment).map((r) => {
    const tgw = byId.get(r.inputs.transitGatewayId);
    const att: AttachmentM = {
      id: r.id,
      name: r.name,
      tgwId: r.inputs.transitGatewayId,
      vpcId: r.inputs.vpcId,
      subnetIds: strs(r.inputs.subnetIds),
      enis: {},
    };
    if (!tgw) att.unusable = `transit gateway ${r.inputs.transitGatewayId} is not in the graph`;
    else if (accountOf(tgw) !== accountOf(r)) {
      const acct = accountOf(r);
      const tgwArnPart = `transit-gateway/${tgw.id}`;
      const share = shares.find(
        (s) =>
          all(T.ramResource).some(
            (a) => a.inputs.resourceShareArn === s.id && String(a.inputs.resourceArn).endsWith(tgwArnPart),
          ) &&
          all(T.ramPrincipal).some(
            (p) =>
              p.inputs.resourceShareArn === s.id &&
              (p.inputs.principal === acct || String(p.inputs.principal).startsWith("arn:aws:organizations")),
          ),
      );
      if (!share) att.unusable = `transit gateway ${tgw.name} is not shared with account ${acct}`;
      else if (
        bool(share.inputs.allowExternalPrincipals, true) &&
        !all(T.ramAccepter).some((a) => a.inputs.shareArn === share.id && accountOf(a) === acct)
      )
        att.unusable = `RAM share ${share.name} is not accepted in account ${acct}`;
      else if (
        !bool(tgw.inputs.autoAcceptSharedAttachments, false) &&
        !all(T.tgwAttachmentAccepter).some((a) => a.inputs.transitGatewayAttachmentId === r.id)
      )
        att.unusable = `attachment ${r.name} is pending acceptance`;
    }
    for (const s of att.subnetIds) if (subnetById.has(s)) att.enis[s] = allocate(s, "client", `${r.name}`, []).ip;
    return att;
  });
  // The TGW attachment ENIs are plain addresses, not security-grouped hosts: drop them from the ENI list.
  for (let i = enis.length - 1; i >= 0; i--) if (enis[i].kind === "client") enis.splice(i, 1);

  const tgws: TgwM[] = all(T.tgw).map((r) => {
    const tables: TgwTableM[] = [];
    const defaultAssoc = bool(r.inputs.defaultRouteTableAssociation, true);
    const defaultProp = bool(r.inputs.defaultRouteTablePropagation, true);
    const mine = attachments.filter((a) => a.tgwId === r.id);
    const def: TgwTableM = {
      key: `${r.id}-default`,
      name: `default route table of ${r.name}`,
      associations: [],
      routes: [],
    };
    const cidrOf = (a: AttachmentM) => vpcById.get(a.vpcId)?.cidrs ?? [];
    const attRes = (a: AttachmentM) => byId.get(a.id)!;
    if (defaultAssoc || defaultProp) tables.push(def);
    for (const a of mine) {
      if (defaultAssoc && bool(attRes(a).inputs.transitGatewayDefaultRouteTableAssociation, true))
        def.associations.push(a.id);
      if (defaultProp && bool(attRes(a).inputs.transitGatewayDefaultRouteTablePropagation, true))
        for (const c of cidrOf(a)) def.routes.push({ dest: c, attachmentId: a.id });
    }
    for (const t of all(T.tgwRouteTable).filter((x) => x.inputs.transitGatewayId === r.id)) {
      const tm: TgwTableM = { key: t.id, name: t.name, associations: [], routes: [] };
      for (const x of all(T.tgwRtAssociation))
        if (x.inputs.transitGatewayRouteTableId === t.id) tm.associations.push(x.inputs.transitGatewayAttachmentId);
      for (const x of all(T.tgwRtPropagation))
        if (x.inputs.transitGatewayRouteTableId === t.id) {
          const a = mine.find((m) => m.id === x.inputs.transitGatewayAttachmentId);
          if (a) for (const c of cidrOf(a)) tm.routes.push({ dest: c, attachmentId: a.id });
        }
      tables.push(tm);
    }
    for (const x of all(T.tgwRoute)) {
      const tm = tables.find((t) => t.key === x.inputs.transitGatewayRouteTableId);
      if (tm)
        tm.routes.push({
          dest: parseCidr(String(x.inputs.destinationCidrBlock)).text,
          attachmentId: x.inputs.transitGatewayAttachmentId,
          blackhole: bool(x.inputs.blackhole, false),
        });
    }
    return { id: r.id, name: r.name, account: accountOf(r), tables };
  });

  // Interface endpoints: one ENI per subnet.
  const interfaceEndpoints: InterfaceEndpointM[] = all(T.endpoint)
    .filter((r) => String(r.inputs.vpcEndpointType) === "Interface")
    .map((r) => {
      const sgIds = strs(r.inputs.securityGroupIds);
      const ep: InterfaceEndpointM = {
        id: r.id,
        name: r.name,
        service: serviceOf(r.inputs.serviceName),
        serviceName: String(r.inputs.serviceName),
        vpcId: r.inputs.vpcId,
        privateDns: bool(r.inputs.privateDnsEnabled, false),
        sgIds,
        enis: [],
      };
      for (const s of strs(r.inputs.subnetIds)) ep.enis.push(allocate(s, "endpoint", r.name, sgIds, r.id));
      return ep;
    });

  // Proxy tier: the load balancer (one ENI per subnet, its security groups) and the ASG's instances (spread
  // over its subnets). An NLB (aws:lb, type network) reaches them through its listener's target group; a CLB
  // (aws:elb) names the ASG directly.
  let proxy: ProxyTierM | undefined;
  const publicEnis: { eni: EniM; eip: string }[] = [];
  const proxyTier = (
    kind: "nlb" | "clb",
    lb: GraphResource,
    asg: GraphResource | undefined,
    lbPort: number,
    instancePort: number,
    ppVersion: 0 | 1 | 2,
  ): ProxyTierM => {
    const lbSgs = strs(lb.inputs.securityGroups);
    const lbEnis = strs(lb.inputs.subnets ?? ((lb.inputs.subnetMappings ?? []) as any[]).map((x) => x.subnetId)).map(
      (s) => allocate(s, "lb", lb.name, lbSgs),
    );
    const lt = asg ? byId.get(asg.inputs.launchTemplate?.id) : undefined;
    if (!asg)
      warnings.push(`load balancer ${lb.name} has no Auto Scaling group behind it: no proxy instances in the twin`);
    const ltSgs = lt
      ? [
          ...strs(lt.inputs.vpcSecurityGroupIds),
          ...((lt.inputs.networkInterfaces ?? []) as any[]).flatMap((n) => strs(n.securityGroups)),
        ]
      : [];
    const count = Number(asg?.inputs.desiredCapacity ?? asg?.inputs.minSize ?? 0);
    const asgSubnets = strs(asg?.inputs.vpcZoneIdentifiers);
    const instances: EniM[] = [];
    for (let i = 0; i < count && asgSubnets.length; i++)
      instances.push(allocate(asgSubnets[i % asgSubnets.length], "proxy", `${lt?.name ?? "proxy"}#${i}`, ltSgs));
    const script = lt ? Buffer.from(String(lt.inputs.userData ?? ""), "base64").toString("utf8") : "";
    // squid.conf is the quoted here-document of the boot script that holds http_access rules (whatever its
    // end marker), so a renamed marker does not lose it.
    let template: string | undefined;
    for (const h of script.matchAll(/<<\s*'([A-Za-z_][A-Za-z0-9_]*)'\n([\s\S]*?)\n\1(?:\n|$)/g)) {
      if (/^http_access /m.test(h[2])) {
        template = h[2];
        break;
      }
    }
    // Placement "public": each instance's boot script associates a free EIP of the pool (EIPs tagged
    // VLK_POOL_TAG_KEY = VLK_POOL_ID); the twin gives instance i the pool's i-th address.
    const tierIps = strs(graph.outputs?.apps?.proxyTier?.egressIps);
    let tierEgress = tierIps;
    if (/^VLK_PLACEMENT='public'$/m.test(script)) {
      const tagKey = /^VLK_POOL_TAG_KEY='(.*)'$/m.exec(script)?.[1] ?? "";
      const poolId = /^VLK_POOL_ID='(.*)'$/m.exec(script)?.[1] ?? "";
      const pool = all(T.eip).filter((e) => (e.inputs.tags as Record<string, string> | undefined)?.[tagKey] === poolId);
      const poolIps = pool.map((e, i) =>
        typeof e.inputs.publicIp === "string" ? e.inputs.publicIp : (tierIps[i] ?? `203.0.113.${240 + i}`),
      );
      if (poolIps.length < instances.length)
        warnings.push(
          `the proxy tier's EIP pool has ${poolIps.length} addresses for ${instances.length} instances: the rest have none`,
        );
      instances.forEach((e, i) => {
        if (poolIps[i]) publicEnis.push({ eni: e, eip: poolIps[i] });
      });
      // The SaaS allowlists the whole pool, as the stack's output tells its operator to (the group may scale up).
      tierEgress = poolIps;
    }
    const token = /^VLK_HEADER_TOKEN='(.*)'$/m.exec(script)?.[1] ?? "";
    const secretArn = /^VLK_SECRET_ARN='(.*)'$/m.exec(script)?.[1] ?? "";
    if (template === undefined)
      warnings.push(`launch template ${lt?.name ?? "?"} carries no squid.conf template: the proxies run no Squid`);
    const fallbackDns =
      kind === "nlb"
        ? `internal-${lb.name}.elb.${region}.amazonaws.com`
        : `internal-${lb.name}.${region}.elb.amazonaws.com`;
    const dnsName =
      String(graph.outputs?.apps?.proxyTier?.proxyUrl ?? "")
        .replace(/^https?:\/\//, "")
        .replace(/:\d+.*$/, "") || fallbackDns;
    return {
      lbKind: kind,
      lbName: lb.name,
      lbDns: dnsName,
      lbPort,
      instancePort,
      proxyProtocol: ppVersion !== 0,
      proxyProtocolVersion: ppVersion,
      lbEnis,
      instances,
      squidTemplate: template ?? "",
      headerToken: token.replace(/^\^|\$$/g, ""),
      headerSecretArn: secretArn,
      launchTemplate: lt?.name ?? "",
      egressIps: tierEgress,
    };
  };
  const nlb = all(T.lb).find((r) => String(r.inputs.loadBalancerType ?? "application") === "network");
  const clb = all(T.classicLb)[0];
  if (nlb) {
    if (!bool(nlb.inputs.internal, false))
      warnings.push(`load balancer ${nlb.name} is internet-facing; the twin models it as internal`);
    const listener = all(T.lbListener).find((l) => l.inputs.loadBalancerArn === nlb.id);
    if (!listener)
      throw new TwinInputError(
        `network load balancer ${nlb.name} has no aws:lb/listener in the graph: add a TCP listener forwarding to the proxies' target group`,
      );
    const forward = ((listener.inputs.defaultActions ?? []) as any[]).find((a) => a.type === "forward");
    const tgArn = forward?.targetGroupArn ?? ((forward?.forward?.targetGroups ?? []) as any[])[0]?.arn;
    const tg = tgArn ? byId.get(String(tgArn)) : undefined;
    if (!tg || tg.type !== T.lbTargetGroup)
      throw new TwinInputError(
        `listener ${listener.name} forwards to no target group in the graph (${tgArn ?? "no forward action"}): give it a forward action to the proxies' target group`,
      );
    if (bool(tg.inputs.preserveClientIp, false))
      warnings.push(
        `target group ${tg.name} preserves client IPs; the twin's load balancer connects from its own addresses`,
      );
    const asg = all(T.asg).find((a) => strs(a.inputs.targetGroupArns).includes(tg.id));
    const listenerPort = Number(listener.inputs.port);
    const tgPort = Number(tg.inputs.port);
    if (!Number.isInteger(listenerPort) || !Number.isInteger(tgPort))
      throw new TwinInputError(
        `listener ${listener.name} (port ${listener.inputs.port}) or target group ${tg.name} (port ${tg.inputs.port}) has no port: set both`,
      );
    proxy = proxyTier("nlb", nlb, asg, listenerPort, tgPort, bool(tg.inputs.proxyProtocolV2, false) ? 2 : 0);
  } else if (clb) {
    const listener = ((clb.inputs.listeners ?? []) as any[])[0] ?? {};
    const asg = all(T.asg).find(
      (a) =>
        strs(a.inputs.loadBalancers).includes(clb.id) || strs(a.inputs.loadBalancers).includes(String(clb.inputs.name)),
    );
    const pp = all(T.proxyProtocolPolicy).some(
      (p) => p.inputs.loadBalancer === clb.id && strs(p.inputs.instancePorts).includes(String(listener.instancePort)),
    );
    proxy = proxyTier(
      "clb",
      clb,
      asg,
      Number(listener.lbPort ?? 3128),
      Number(listener.instancePort ?? 3128),
      pp ? 1 : 0,
    );
  }

  // Aurora: the writer's ENI in the subnet group's first subnet.
  let db: DatabaseM | undefined;
  const cluster = all(T.rdsCluster)[0];
  if (cluster) {
    const group =
      all(T.rdsSubnetGroup).find(
        (g) => g.id === cluster.inputs.dbSubnetGroupName || g.inputs.name === cluster.inputs.dbSubnetGroupName,
      ) ?? all(T.rdsSubnetGroup)[0];
    const groupSubnets = strs(group?.inputs.subnetIds);
    const endpoint = String(
      graph.outputs?.data?.endpoint ?? `${cluster.inputs.clusterIdentifier}.cluster-twin.${region}.rds.amazonaws.com`,
    );
    if (groupSubnets.length) {
      db = {
        name: cluster.name,
        endpoint,
        readerEndpoint: graph.outputs?.data?.readerEndpoint,
        port: Number(cluster.inputs.port ?? 5432),
        databaseName: String(cluster.inputs.databaseName ?? "postgres"),
        masterUsername: String(cluster.inputs.masterUsername ?? "postgres"),
        masterSecretArn: graph.outputs?.data?.masterSecretArn,
        eni: allocate(groupSubnets[0], "db", cluster.name, strs(cluster.inputs.vpcSecurityGroupIds)),
      };
    } else warnings.push(`cluster ${cluster.name} has no DB subnet group subnets: no database in the twin`);
  }

  // Functions: one ENI per subnet; flows as the component declares them.
  const functions: FunctionM[] = all(T.vpcFunction).map((c) => {
    const fn = graph.resources.find((r) => r.type === T.lambda && r.parent === c.urn);
    if (!fn) throw new TwinInputError(`function component ${c.name} has no aws:lambda/function child in the graph`);
    const vpc = fn.inputs.vpcConfig ?? {};
    const sgIds = strs(vpc.securityGroupIds);
    // flowSpecs (what the component turned into rules) when present, else the declared flows.
    const specs: any[] = Array.isArray(c.inputs.flowSpecs)
      ? c.inputs.flowSpecs
      : ((c.inputs.flows ?? []) as any[]).map((f) => ({
          ...f.to,
          port: f.port,
          protocol: f.protocol,
          purpose: f.purpose,
        }));
    const flows: FlowM[] = specs.map((spec, index) => {
      const to = { kind: String(spec.kind), service: spec.service, host: spec.host, cidr: spec.cidr, name: spec.name };
      const what =
        to.kind === "awsService"
          ? `AWS ${to.service}`
          : to.kind === "internet"
            ? `internet host ${to.host}`
            : to.kind === "cidr"
              ? `${to.name ?? "CIDR"} ${to.cidr}`
              : to.kind === "securityGroup"
                ? `security group ${to.name}`
                : String(to.kind);
      return {
        fn: c.name,
        index,
        protocol: String(spec.protocol ?? "tcp"),
        port: Number(spec.port),
        to,
        securityGroupId: spec.securityGroupId,
        label: `${spec.protocol ?? "tcp"}/${spec.port} to ${what}`,
      };
    });
    const f: FunctionM = {
      name: c.name,
      resourceName: fn.name,
      runtime: String(fn.inputs.runtime ?? "nodejs24.x"),
      handler: String(fn.inputs.handler ?? "index.handler"),
      timeoutSeconds: Number(fn.inputs.timeout ?? 3),
      env: { ...(fn.inputs.environment?.variables ?? {}) },
      subnetIds: strs(vpc.subnetIds),
      sgIds,
      flows,
      // synth writes each bundle under its source directory name (functions/<source>/index.js).
      bundle: path.join(graphDir, "functions", String(c.inputs?.source ?? c.name), "index.js"),
      enis: [],
      account: accountOf(fn),
    };
    f.enis = f.subnetIds.map((s) => allocate(s, "function", c.name, sgIds, c.name));
    return f;
  });

  // Private API.
  let api: PrivateApiM | undefined;
  const rest = all(T.restApi)[0];
  if (rest) {
    const pol = all(T.restApiPolicy).find((p) => p.inputs.restApiId === rest.id);
    const stage = all(T.apiStage).find((s) => s.inputs.restApi === rest.id);
    const uris = all("aws:apigateway/integration:Integration")
      .filter((x) => x.inputs.restApi === rest.id)
      .map((x) => String(x.inputs.uri ?? ""));
    const petsFn = functions.find((f) =>
      uris.some((u) => u.includes(`:function:${f.resourceName}-`) || u.includes(`:function:${f.resourceName}/`)),
    );
    const comp = all("vpc-lambda-kit:api:PrivateApi")[0];
    const routes = strs(comp?.inputs.routes);
    api = {
      name: rest.name,
      id: rest.id,
      stage: String(stage?.inputs.stageName ?? "v1"),
      policy: String(pol?.inputs.policy ?? rest.inputs.policy ?? ""),
      account: accountOf(rest),
      region,
      fn: petsFn?.name,
      routes: routes.length ? routes : ["ANY /pets", "ANY /pets/{id}"],
    };
  }

  // Secrets the graph declares, and the RDS-managed one the functions name.
  const secrets = new Map<string, string>();
  for (const r of all(T.secret)) secrets.set(r.id, r.id.split(":").pop()!);
  const moreArns = [
    graph.outputs?.data?.masterSecretArn,
    ...functions.flatMap((f) => Object.values(f.env).filter((v) => /^arn:aws:secretsmanager:/.test(v))),
  ];
  for (const a of moreArns) if (typeof a === "string" && a) secrets.set(a, a.split(":").pop()!);
  if (proxy?.headerSecretArn) secrets.set(proxy.headerSecretArn, proxy.headerSecretArn.split(":").pop()!);

  // DynamoDB tables a function's environment names (by table name or ARN).
  const dynamoTables: DynamoTableM[] = [];
  for (const r of all(T.dynamoTable)) {
    const name = String(r.inputs.name ?? r.id);
    const usedBy = functions
      .filter((f) => Object.values(f.env).some((v) => v === name || v === r.id || String(v).endsWith(`:table/${name}`)))
      .map((f) => f.name);
    if (!usedBy.length) continue;
    const attributes = ((r.inputs.attributes ?? []) as any[]).map((a) => ({
      name: String(a.name),
      type: String(a.type ?? "S"),
    }));
    if (!r.inputs.hashKey)
      throw new TwinInputError(`DynamoDB table ${r.name} has no hashKey in the graph: set the table's partition key`);
    dynamoTables.push({
      name,
      hashKey: String(r.inputs.hashKey),
      rangeKey: r.inputs.rangeKey ? String(r.inputs.rangeKey) : undefined,
      attributes,
      usedBy,
    });
  }

  // Internet hosts: the functions' internet flows and the SaaS behind the proxy.
  const internetHosts = new Map<string, string>();
  const net = parseCidr(OUTSIDE.internetBase);
  const addHost = (h: string) => {
    if (h && !internetHosts.has(h)) internetHosts.set(h, hostAt(net, 10 + internetHosts.size));
  };
  for (const f of functions) for (const fl of f.flows) if (fl.to.kind === "internet" && fl.to.host) addHost(fl.to.host);
  for (const f of functions)
    for (const v of Object.values(f.env)) {
      if (/^https:\/\//.test(v) && !/amazonaws\.com/.test(v)) addHost(new URL(v).hostname);
    }
  // The Athena connector's tables name their SaaS URLs inside ATHENA_TABLES (JSON).
  for (const f of functions) {
    let tables: unknown = [];
    try {
      tables = f.env.ATHENA_TABLES ? JSON.parse(f.env.ATHENA_TABLES) : [];
    } catch {
      warnings.push(`function ${f.name}: ATHENA_TABLES is not JSON; its SaaS hosts are not served`);
    }
    for (const t of Array.isArray(tables) ? tables : [])
      if (typeof t?.url === "string" && /^https:\/\//.test(t.url)) addHost(new URL(t.url).hostname);
  }
  // A host no allowlist names: the proxy probes prove Squid refuses it.
  addHost(DECOY_HOST);

  return {
    stack: graph.stack,
    region,
    graphDir,
    vpcs,
    subnets,
    tables,
    sgs,
    enis,
    igws,
    nats,
    publicEnis,
    tgws,
    attachments,
    interfaceEndpoints,
    gatewayPrefixLists,
    functions,
    proxy,
    db,
    api,
    secrets: [...secrets].map(([arn, name]) => ({ arn, name })),
    buckets: all(T.s3Bucket).map((b) => b.id),
    dynamoTables,
    internetHosts,
    egressIps: outEips.length ? outEips : nats.map((n) => n.eip),
    warnings,
  };
}

/** Addresses a security-group rule's peers stand for, with group references expanded to member ENIs. */
export function peerAddresses(m: TwinModel, rule: SgRuleM, ownSg: string): string[] {
  const out: string[] = [...rule.cidrs.filter((c) => !c.includes(":")).map((c) => parseCidr(c).text)];
  const groups = [...rule.groups, ...(rule.self ? [ownSg] : [])];
  for (const g of groups) for (const e of m.enis) if (e.sgIds.includes(g)) out.push(`${e.ip}/32`);
  for (const p of rule.prefixLists) {
    const svc = m.gatewayPrefixLists.get(p);
    if (svc && OUTSIDE.prefixLists[svc]) out.push(OUTSIDE.prefixLists[svc]);
  }
  return [...new Set(out)];
}

/** The address DynamoDB's regional name resolves to: inside its gateway-endpoint prefix list, as in AWS. */
export function dynamodbAddress(): string {
  return hostAt(parseCidr(OUTSIDE.prefixLists.dynamodb), 10);
}

/** The public address a regional service name resolves to without private DNS. */
export function servicePublicAddress(service: string): string {
  const known = ["secretsmanager", "execute-api", "sts", "kms", "logs", "ssm", "rds-data", "appflow"];
  const i = known.indexOf(service);
  return hostAt(parseCidr("198.51.100.0/24"), OUTSIDE.servicePublicBase + (i < 0 ? 20 : i));
}

export function subnetOf(m: TwinModel, ip: string): SubnetM | undefined {
  return m.subnets.find((s) => contains(s.cidr, ip));
}
