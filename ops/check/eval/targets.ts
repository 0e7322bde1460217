/**
 * What a flow can be delivered to: resources that listen on known ports from known subnets
 * (databases, load balancers, instances, interface endpoints), the ports each listens on (an
 * explicit port, else the engine's default; a load balancer's listeners; 443 for an endpoint) and
 * the word a sentence uses for each kind.
 */
import { GraphModel, Res } from "../model/graph";
import { T } from "../model/types";
import { Cidr } from "../model/values";
import { endpointType } from "./endpoints";

const DEFAULT_DB_PORTS: Record<string, number> = {
  postgres: 5432,
  mysql: 3306,
  mariadb: 3306,
  oracle: 1521,
  sqlserver: 1433,
};

export interface Listener {
  res: Res;
  cidrs: Cidr[];
  ports: number[];
}

const listenerCache = new WeakMap<GraphModel, Listener[]>();

/** Every resource that listens on known ports from known subnets, computed once per graph. */
export function listenersOf(ix: GraphModel): Listener[] {
  const cached = listenerCache.get(ix);
  if (cached) return cached;
  const out: Listener[] = [];
  for (const r of ix.resources) {
    if (!LISTENER_TYPES.has(r.type) && !(r.type === T.endpoint && endpointType(r) === "Interface")) continue;
    const subnets = ix
      .subnetIdsOf(r)
      .map((id) => ix.subnet(id))
      .filter((s): s is Res => !!s);
    const cidrs = subnets.map((s) => ix.subnetCidr(s));
    const ports = listenPorts(ix, r);
    if (subnets.length === 0 || !ports || cidrs.some((c) => c === undefined)) continue;
    out.push({ res: r, cidrs: cidrs as Cidr[], ports });
  }
  listenerCache.set(ix, out);
  return out;
}

const LISTENER_TYPES = new Set<string>([
  T.rdsCluster,
  T.rdsInstance,
  T.classicLb,
  T.lb,
  T.instance,
  T.rdsProxy,
  T.elasticacheReplicationGroup,
]);

/** Ports a target listens on, when the graph says; undefined when unknown. */
export function listenPorts(ix: GraphModel, r: Res): number[] | undefined {
  const i = r.inputs;
  if (r.type === T.rdsCluster || r.type === T.rdsInstance) {
    if (i.port !== undefined && i.port !== null) return [Number(i.port)];
    const engine = String(i.engine ?? "");
    const key = Object.keys(DEFAULT_DB_PORTS).find((k) => engine.includes(k));
    return key ? [DEFAULT_DB_PORTS[key]] : undefined;
  }
  if (r.type === T.classicLb)
    return (Array.isArray(i.listeners) ? i.listeners : []).map((l) => Number((l as Record<string, unknown>).lbPort));
  if (r.type === T.lb) {
    const ports = ix
      .all(T.lbListener)
      .filter((l) => l.inputs.loadBalancerArn === r.id || ix.resolve(l.inputs.loadBalancerArn) === r)
      .map((l) => Number(l.inputs.port));
    return ports.length > 0 ? ports : undefined;
  }
  if (r.type === T.endpoint) return [443];
  return undefined;
}

export function kindOf(r: Res): string {
  switch (r.type) {
    case T.rdsCluster:
      return "database cluster";
    case T.rdsInstance:
      return "database";
    case T.classicLb:
    case T.lb:
      return "load balancer";
    case T.endpoint:
      return "interface endpoint";
    case T.lambda:
      return "function";
    case T.instance:
      return "instance";
    default:
      return r.type.split(":").pop() ?? r.type;
  }
}
