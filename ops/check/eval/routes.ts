/**
 * VPC routing over the graph model: which route table governs a subnet (its explicit association,
 * else the VPC's main table), the routes of a table (the implicit local route(s), Route resources,
 * inline routes and gateway-endpoint prefix lists) and the longest-prefix match AWS applies.
 *
 * Two readings of the same tables:
 *  - by id (`routeTableOf`, `routes`, `lookup`): what the flow proofs walk over graph.json;
 *  - by reference (`declaredRouteTableOf`, `declaredRoutesOf`): what the policy rules read, which
 *    also resolves through property dependencies, so it works in the policy pack during preview.
 */
import { GraphModel, Res } from "../model/graph";
import { T } from "../model/types";
import { Cidr, cidrContains, cidrOf, push, str, strs } from "../model/values";
import { endpointType, serviceOf } from "./endpoints";

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

interface RouteIndex {
  routesByTable: Map<string, RouteView[]>;
  assocBySubnet: Map<string, string[]>;
  mainTableByVpc: Map<string, string>;
  tableCache: Map<string, TableView>;
}

function index(m: GraphModel): RouteIndex {
  return m.cached("routes", () => {
    const ix: RouteIndex = {
      routesByTable: new Map(),
      assocBySubnet: new Map(),
      mainTableByVpc: new Map(),
      tableCache: new Map(),
    };
    for (const a of m.all(T.rta)) {
      const subnetId = str(a.inputs.subnetId);
      const rt = str(a.inputs.routeTableId);
      if (subnetId && rt) push(ix.assocBySubnet, subnetId, rt);
    }
    for (const main of m.all(T.mainRta)) {
      const vpcId = str(main.inputs.vpcId);
      const rt = str(main.inputs.routeTableId);
      if (vpcId && rt) ix.mainTableByVpc.set(vpcId, rt);
    }
    const add = (tableId: string | undefined, spec: Record<string, unknown>, source: Res) => {
      if (!tableId) return;
      const view = routeView(m, spec, source);
      if (view) push(ix.routesByTable, tableId, view);
    };
    for (const r of m.all(T.route)) add(str(r.inputs.routeTableId), r.inputs, r);
    for (const t of m.all(T.routeTable)) {
      const inline = t.inputs.routes;
      if (Array.isArray(inline))
        for (const spec of inline) if (spec && typeof spec === "object") add(t.id, spec as Record<string, unknown>, t);
    }
    const endpointRoute = (ep: Res, tableId: string) => {
      const service = serviceOf(ep);
      push(ix.routesByTable, tableId, {
        service,
        destText: `the ${service} prefix list`,
        kind: "gatewayEndpoint",
        targetId: ep.id,
        source: ep,
      });
    };
    for (const ep of m.all(T.endpoint)) {
      if (endpointType(ep) !== "Gateway") continue;
      for (const rt of strs(ep.inputs.routeTableIds)) endpointRoute(ep, rt);
    }
    for (const a of m.all(T.endpointRta)) {
      const ep = m.byId(a.inputs.vpcEndpointId, T.endpoint);
      const rt = str(a.inputs.routeTableId);
      if (ep && rt) endpointRoute(ep, rt);
    }
    return ix;
  });
}

function routeView(m: GraphModel, spec: Record<string, unknown>, source: Res): RouteView | undefined {
  const destText = str(spec.destinationCidrBlock) ?? str(spec.cidrBlock);
  const dest = cidrOf(destText);
  if (!dest) return undefined; // IPv6 and prefix-list destinations are outside this checker's model
  const gw = str(spec.gatewayId);
  let kind: RouteTargetKind = "other";
  let targetId: string | undefined;
  if (gw === "local") kind = "local";
  else if (gw && m.byId(gw, T.igw)) [kind, targetId] = ["igw", gw];
  else if (gw && m.byId(gw, T.endpoint)) [kind, targetId] = ["gatewayEndpoint", gw];
  else if (gw && gw.startsWith("igw-")) [kind, targetId] = ["igw", gw];
  else if (str(spec.natGatewayId)) [kind, targetId] = ["nat", str(spec.natGatewayId)];
  else if (str(spec.transitGatewayId)) [kind, targetId] = ["tgw", str(spec.transitGatewayId)];
  else if (str(spec.vpcPeeringConnectionId)) [kind, targetId] = ["peering", str(spec.vpcPeeringConnectionId)];
  else if (str(spec.vpcEndpointId)) [kind, targetId] = ["gatewayEndpoint", str(spec.vpcEndpointId)];
  else if (gw) [kind, targetId] = ["other", gw];
  else
    targetId =
      str(spec.networkInterfaceId) ??
      str(spec.egressOnlyGatewayId) ??
      str(spec.carrierGatewayId) ??
      str(spec.localGatewayId) ??
      str(spec.coreNetworkArn);
  return { dest, destText: dest.text, kind, targetId, source };
}

/** The route table that governs a subnet: its explicit association, else the VPC's main table. */
export function routeTableOf(m: GraphModel, subnet: Res): TableView {
  const ix = index(m);
  const assoc = ix.assocBySubnet.get(subnet.id);
  if (assoc && assoc.length > 0) return table(m, assoc[0]);
  const vpcId = str(subnet.inputs.vpcId) ?? "";
  const main = ix.mainTableByVpc.get(vpcId);
  if (main) return table(m, main);
  return implicitMain(m, vpcId);
}

/** All explicit associations of a subnet (more than one is a mistake AWS refuses). */
export function associationsOf(m: GraphModel, subnet: Res): string[] {
  return index(m).assocBySubnet.get(subnet.id) ?? [];
}

export function table(m: GraphModel, id: string): TableView {
  const cache = index(m).tableCache;
  const cached = cache.get(id);
  if (cached) return cached;
  const res = m.byId(id, T.routeTable);
  const view: TableView = res
    ? { id, name: res.name, label: `route table ${res.name}`, vpcId: str(res.inputs.vpcId), res, implicitMain: false }
    : { id, name: id, label: `route table ${id}`, implicitMain: false };
  cache.set(id, view);
  return view;
}

function implicitMain(m: GraphModel, vpcId: string): TableView {
  const cache = index(m).tableCache;
  const id = `main:${vpcId}`;
  const cached = cache.get(id);
  if (cached) return cached;
  const vpc = m.byId(vpcId, T.vpc);
  const name = `main route table of ${vpc ? vpc.name : vpcId}`;
  const view: TableView = {
    id,
    name,
    label: `the main route table of VPC ${vpc ? vpc.name : vpcId}`,
    vpcId,
    implicitMain: true,
  };
  cache.set(id, view);
  return view;
}

/** Every route of a table, the implicit local route(s) first. */
export function routes(m: GraphModel, t: TableView): RouteView[] {
  const local: RouteView[] = t.vpcId
    ? m.vpcCidrs(t.vpcId).map((c) => ({ dest: c, destText: c.text, kind: "local" as const }))
    : [];
  return [...local, ...(index(m).routesByTable.get(t.id) ?? [])];
}

/** Longest-prefix match for a destination block (a route must contain all of it); local wins a tie. */
export function lookup(m: GraphModel, t: TableView, dest: Cidr): RouteView | undefined {
  let best: RouteView | undefined;
  for (const r of routes(m, t)) {
    if (!r.dest || !cidrContains(r.dest, dest)) continue;
    if (
      !best ||
      (best.dest as Cidr).prefix < r.dest.prefix ||
      ((best.dest as Cidr).prefix === r.dest.prefix && best.kind !== "local" && r.kind === "local")
    )
      best = r;
  }
  return best;
}

/** The gateway-endpoint route for a service in a table, if any. */
export function prefixListRoute(m: GraphModel, t: TableView, service: string): RouteView | undefined {
  return (index(m).routesByTable.get(t.id) ?? []).find((r) => r.kind === "gatewayEndpoint" && r.service === service);
}

/** Whether an internet gateway is attached to the VPC. */
export function igwAttachedTo(m: GraphModel, igw: Res, vpcId: string): boolean {
  if (igw.inputs.vpcId === vpcId) return true;
  return m.all(T.igwAttachment).some((a) => a.inputs.internetGatewayId === igw.id && a.inputs.vpcId === vpcId);
}

// ------------------------------------------------------------------------------------------------
// By reference (policy rules, cost, diagram)

/** A route as the policy rules see it. */
export interface DeclaredRoute {
  name: string;
  destination: string;
  toInternetGateway: boolean;
  /** Logical name (or id) of the internet gateway it targets. */
  target?: string;
  props: Record<string, unknown>;
}

/** The route table a subnet uses: its explicit association, else the VPC's main table (if declared). */
export function declaredRouteTableOf(m: GraphModel, subnet: Res): Res | undefined {
  const rtOfSubnet = m.cached("declaredRouteTableOf", () => {
    const out = new Map<string, Res | undefined>();
    for (const a of m.all(T.rta)) {
      for (const s of m.refs(a, "subnetId", a.inputs.subnetId, [T.subnet])) {
        out.set(s.urn, m.ref(a, "routeTableId", a.inputs.routeTableId, [T.routeTable, T.defaultRouteTable]));
      }
    }
    return out;
  });
  if (rtOfSubnet.has(subnet.urn)) return rtOfSubnet.get(subnet.urn);
  const vpc = m.ref(subnet, "vpcId", subnet.inputs.vpcId, [T.vpc]);
  if (!vpc) return undefined;
  // The first main-table association naming the VPC, else the first default table of the VPC.
  const main = m.referrers(T.mainRta, [T.vpc], (x) => ["vpcId", x.inputs.vpcId], "vpcId").get(vpc.urn)?.[0];
  if (main) return m.ref(main, "routeTableId", main.inputs.routeTableId, [T.routeTable]);
  const defaults = m.cached("defaultTableByVpc", () => {
    const byVpc = new Map<string, Res>();
    for (const d of m.all(T.defaultRouteTable)) {
      const urn = vpcOfDefaultTable(m, d)?.urn;
      if (urn !== undefined && !byVpc.has(urn)) byVpc.set(urn, d);
    }
    return byVpc;
  });
  return defaults.get(vpc.urn);
}

function vpcOfDefaultTable(m: GraphModel, r: Res): Res | undefined {
  const direct = m.ref(r, "vpcId", r.inputs.vpcId, [T.vpc]);
  if (direct) return direct;
  const vpcs = m.all(T.vpc);
  return vpcs.find(
    (vpc) =>
      r.inputs.defaultRouteTableId !== undefined && vpc.inputs.defaultRouteTableId === r.inputs.defaultRouteTableId,
  );
}

/** Every route of a table: separate Route resources and inline `routes`. */
export function declaredRoutesOf(m: GraphModel, t: Res): DeclaredRoute[] {
  const out: DeclaredRoute[] = [];
  const byTable = m.referrers(
    T.route,
    [T.routeTable, T.defaultRouteTable],
    (r) => ["routeTableId", r.inputs.routeTableId],
    "routeTableId",
  );
  for (const r of byTable.get(t.urn) ?? []) out.push(declaredRoute(m, r, r.inputs, r.name));
  const inline = t.inputs.routes;
  if (Array.isArray(inline))
    inline.forEach((x, i) =>
      out.push(declaredRoute(m, t, (x ?? {}) as Record<string, unknown>, `${t.name}.routes[${i}]`)),
    );
  return out;
}

function declaredRoute(m: GraphModel, owner: Res, p: Record<string, unknown>, name: string): DeclaredRoute {
  const dest =
    str(p.destinationCidrBlock) ??
    str(p.cidrBlock) ??
    str(p.destinationIpv6CidrBlock) ??
    str(p.ipv6CidrBlock) ??
    str(p.destinationPrefixListId) ??
    "?";
  const gw = p.gatewayId;
  const igw =
    owner.type === T.route
      ? m.ref(owner, "gatewayId", gw, [T.igw])
      : typeof gw === "string" && gw !== ""
        ? m.allWithId(gw).find((r) => r.type === T.igw)
        : undefined;
  const toIgw = igw !== undefined || (typeof gw === "string" && gw.startsWith("igw-"));
  return {
    name,
    destination: dest,
    toInternetGateway: toIgw,
    target: igw?.name ?? (typeof gw === "string" ? gw : undefined),
    props: p,
  };
}
