/**
 * Forbidden paths: what must NOT be reachable.
 *  - A function that declares no internet flow has no way to the internet: none of its subnets
 *    routes 0.0.0.0/0 out (NAT / internet gateway / Transit Gateway to an egress VPC), or its
 *    security groups allow no egress to a public address. The result says which gate holds.
 *  - A database admits only its declared sources: not public, no ingress from public ranges or
 *    beyond its port, group references only to functions that declare a flow to it, and no other
 *    function, Auto Scaling group or instance in the graph with a complete path to it.
 *  - A private API is unreachable outside its endpoints: PRIVATE endpoint type and a resource policy
 *    that admits only listed VPC endpoints (aws:SourceVpce).
 *  - A flow declared through a VPC endpoint does not leave through the NAT instead (the endpoint unused: no
 *    endpoint, private DNS not in effect, or the gateway endpoint missing from a route table). The flow itself
 *    still works, so it is OK in the flow proof; the detour is reported here.
 *  - Transit Gateway attachments marked as isolated from each other (transitGateway.isolate) do not
 *    reach each other: the route table associated with each has no route (or a blackhole) to the
 *    other's VPC CIDRs.
 */
import type { Graph } from "../synth-core";
import { analyze, FlowDetail, FunctionView, functionsOf } from "./flows";
import { kindOf, listenPorts } from "./eval/targets";
import { GraphModel, Res } from "./model/graph";
import { T } from "./model/types";
import { ANYWHERE, anyContains, Cidr, cidrOf, isPrivateCidr, touchesPublic } from "./model/values";
import { isPrivateApi, privateApiVerdict } from "./eval/api-policy";
import { lookup, routeTableOf } from "./eval/routes";
import { rulePeers, rulePermits, rulePorts, SgRule, sgRules } from "./eval/security-groups";
import { tgwIsolation } from "./eval/tgw";

export interface ForbiddenResult {
  /** "no-internet" | "database-sources" | "private-api" | "tgw-isolation" | "endpoint-path". */
  check: string;
  /** The function, database or API checked. */
  subject: string;
  status: "OK" | "VIOLATED";
  /** OK: which gate holds. VIOLATED: the open path, in one sentence. */
  detail: string;
}

const DB_TYPES = new Set<string>([T.rdsCluster, T.rdsInstance, "aws:rds/proxy:Proxy"]);

export function checkForbidden(input: Graph | GraphModel, details?: FlowDetail[]): ForbiddenResult[] {
  const ix = input instanceof GraphModel ? input : GraphModel.of(input);
  const flows = details ?? analyze(ix);
  const fns = functionsOf(ix);
  return [
    ...noInternet(ix, fns, flows),
    ...databaseSources(ix, fns, flows),
    ...privateApis(ix),
    ...tgwIsolated(ix),
    ...endpointPaths(flows),
  ];
}

// --- a flow declared through a VPC endpoint that leaves through the NAT instead

function endpointPaths(flows: FlowDetail[]): ForbiddenResult[] {
  return flows
    .filter((d) => d.bypass)
    .map((d) => ({
      check: "endpoint-path",
      subject: `${d.result.fn}: ${d.result.flow}`,
      status: "VIOLATED" as const,
      detail: d.bypass!,
    }));
}

// --- Transit Gateway attachments that must not reach each other (transitGateway.isolate)

function tgwIsolated(ix: GraphModel): ForbiddenResult[] {
  return tgwIsolation(ix).map((v) => ({
    check: "tgw-isolation",
    subject: `${v.fromName} → ${v.toName}`,
    status: v.open ? "VIOLATED" : "OK",
    detail: v.detail,
  }));
}

// --- a function without an internet flow has no way out

function noInternet(ix: GraphModel, fns: FunctionView[], flows: FlowDetail[]): ForbiddenResult[] {
  const out: ForbiddenResult[] = [];
  const byFn = new Map<Res, FlowDetail[]>();
  for (const d of flows) {
    const list = byFn.get(d.fn.lambda);
    if (list) list.push(d);
    else byFn.set(d.fn.lambda, [d]);
  }
  for (const fn of fns) {
    const mine = byFn.get(fn.lambda) ?? [];
    // A declared internet flow (or an AWS API reached over the NAT) legitimately needs the way out.
    if (
      mine.some(
        (d) =>
          d.spec.kind === "internet" ||
          d.usesInternet ||
          (d.spec.kind === "cidr" && d.spec.cidr && !isPrivateCidrText(d.spec.cidr)),
      )
    )
      continue;
    if (fn.subnets.length === 0) {
      if (fn.subnetIds.length === 0)
        out.push({
          check: "no-internet",
          subject: fn.name,
          status: "VIOLATED",
          detail: `function ${fn.name} is not in a VPC, so it reaches the internet through Lambda's own network`,
        });
      continue;
    }
    const routeOut = fn.subnets.map((s) => ({ s, way: internetRoute(ix, s) })).find((x) => x.way !== undefined);
    const publicEgress = fn.sgIds.flatMap((id) => sgRules(ix, id, "egress")).find((r) => r.cidrs.some(touchesPublic));
    const sgNames = fn.sgIds.map((id) => ix.label(id, T.sg)).join(", ");
    if (!routeOut) {
      out.push({
        check: "no-internet",
        subject: fn.name,
        status: "OK",
        detail: `no route out: ${fn.subnets
          .map((s) => routeTableOf(ix, s).label)
          .filter(unique)
          .join(
            ", ",
          )} ${fn.subnets.length > 1 ? "have" : "has"} no route to 0.0.0.0/0 through a NAT or internet gateway`,
      });
    } else if (!publicEgress) {
      out.push({
        check: "no-internet",
        subject: fn.name,
        status: "OK",
        detail: `security group ${sgNames} allows no egress to a public address (subnet ${routeOut.s.name} does route 0.0.0.0/0 to ${routeOut.way})`,
      });
    } else {
      out.push({
        check: "no-internet",
        subject: fn.name,
        status: "VIOLATED",
        detail: `function ${fn.name} declares no internet flow, but subnet ${routeOut.s.name} routes 0.0.0.0/0 to ${routeOut.way} and security group ${ix.label(publicEgress.sgId, T.sg)} allows ${rulePorts(publicEgress)} to ${rulePeers(publicEgress, ix)} (rule ${publicEgress.name})`,
      });
    }
  }
  return out;
}

function isPrivateCidrText(text: string): boolean {
  const c = cidrOf(text);
  return c !== undefined && isPrivateCidr(c);
}

function unique<T>(v: T, i: number, a: T[]): boolean {
  return a.indexOf(v) === i;
}

/** "NAT gateway x" / "internet gateway y" / "transit gateway z" when the subnet's table sends the internet somewhere that leads out. */
function internetRoute(ix: GraphModel, subnet: Res, depth = 0): string | undefined {
  if (depth > 4) return undefined;
  const table = routeTableOf(ix, subnet);
  const r = lookup(ix, table, ANYWHERE);
  if (!r) return undefined;
  switch (r.kind) {
    case "igw":
      return `internet gateway ${ix.label(r.targetId, T.igw)}`;
    case "nat": {
      const nat = ix.byId(r.targetId, T.nat);
      if (!nat) return undefined;
      const natSubnet = ix.subnet(nat.inputs.subnetId);
      if (!natSubnet || (nat.inputs.connectivityType ?? "public") === "private") return undefined;
      const beyond = lookup(ix, routeTableOf(ix, natSubnet), ANYWHERE);
      return beyond && beyond.kind === "igw" ? `NAT gateway ${nat.name}` : undefined;
    }
    case "tgw":
      return `transit gateway ${ix.label(r.targetId, T.tgw)}`;
    default:
      return undefined;
  }
}

// --- databases admit only their declared sources

function databaseSources(ix: GraphModel, fns: FunctionView[], flows: FlowDetail[]): ForbiddenResult[] {
  const out: ForbiddenResult[] = [];
  for (const db of ix.resources.filter((r) => DB_TYPES.has(r.type))) {
    const subject = `${kindOf(db)} ${db.name}`;
    const sgIds = ix.sgIdsOf(db);
    const ports = listenPorts(ix, db) ?? [];
    const declared = flows.filter((d) => d.targets.includes(db));
    const declaredFns = new Set(declared.map((d) => d.fn.lambda));
    const problems: string[] = [];
    if (asTrue(db.inputs.publiclyAccessible)) problems.push(`${subject} is publicly accessible`);
    const rules = sgIds.flatMap((id) => sgRules(ix, id, "ingress"));
    if (sgIds.length === 0)
      problems.push(`${subject} has no security group of its own (it falls back to the VPC's default group)`);
    for (const rule of rules) {
      const p = ruleProblem(ix, rule, fns, declaredFns, ports, subject);
      if (p) problems.push(p);
    }
    // Every other function and instance in the graph: no complete path (egress, route, ingress) to the database.
    for (const c of computeOf(ix, fns)) {
      if (c.lambda && declaredFns.has(c.lambda)) continue;
      const open = reaches(ix, c, db, sgIds, ports);
      if (open) problems.push(`${c.label} declares no flow to ${subject} but can reach it: ${open}`);
    }
    if (problems.length > 0)
      out.push({
        check: "database-sources",
        subject,
        status: "VIOLATED",
        detail:
          problems[0] +
          (problems.length > 1 ? ` (and ${problems.length - 1} more: ${problems.slice(1).join("; ")})` : ""),
      });
    else {
      const all = declared.map((d) => d.fn.name).filter(unique);
      const sources = all.length > 6 ? [...all.slice(0, 5), `${all.length - 5} more functions`] : all;
      const admits = rules.map((r) => `${rulePorts(r)} from ${rulePeers(r, ix)}`).join("; ") || "nothing";
      out.push({
        check: "database-sources",
        subject,
        status: "OK",
        detail:
          sources.length > 0
            ? `reachable only from ${sources.join(", ")}, which ${sources.length === 1 ? "declares" : "declare"} a flow to it (it admits ${admits})`
            : `it admits ${admits}, and nothing in this graph can reach it`,
      });
    }
  }
  return out;
}

function asTrue(v: unknown): boolean {
  return v === true || v === "true";
}

/** Why an ingress rule of a database's group admits more than its declared sources, or undefined. */
function ruleProblem(
  ix: GraphModel,
  rule: SgRule,
  fns: FunctionView[],
  declared: Set<Res>,
  ports: number[],
  subject: string,
): string | undefined {
  const where = `security group ${ix.label(rule.sgId, T.sg)} of ${subject}`;
  if (rule.cidrs.some(touchesPublic))
    return `${where} admits ${rulePorts(rule)} from ${rule.cidrs
      .filter(touchesPublic)
      .map((c) => c.text)
      .join(", ")}, a public range (rule ${rule.name})`;
  if (ports.length > 0 && (rule.protocol === "-1" || rule.fromPort !== rule.toPort || !ports.includes(rule.fromPort)))
    return `${where} admits ${rulePorts(rule)}, more than the database port ${ports.join(", ")} (rule ${rule.name})`;
  const declaredFns = fns.filter((f) => declared.has(f.lambda));
  for (const ref of rule.sgRefs) {
    if (!ix.sg(ref)) continue; // a group from another stack: its owner checks it
    const users = ix.sgUsers(ref);
    if (!declaredFns.some((f) => f.sgIds.includes(ref))) {
      return `${where} admits security group ${ix.label(ref, T.sg)}${users.length > 0 ? ` (used by ${users.map((u) => u.name).join(", ")})` : ""}, which declares no flow to it (rule ${rule.name})`;
    }
  }
  // A private CIDR rule (across a Transit Gateway, security-group references do not apply) admits
  // whole networks: what matters is who in them can use it, which `reaches` proves for everyone.
  return undefined;
}

/** Something that sends traffic from subnets through security groups: a function, an Auto Scaling group, an instance. */
interface Compute {
  label: string;
  lambda?: Res;
  subnets: Res[];
  sgIds: string[];
}

function computeOf(ix: GraphModel, fns: FunctionView[]): Compute[] {
  const out: Compute[] = fns.map((f) => ({
    label: `function ${f.name}`,
    lambda: f.lambda,
    subnets: f.subnets,
    sgIds: f.sgIds,
  }));
  const subnetsOf = (r: Res) =>
    ix
      .subnetIdsOf(r)
      .map((id) => ix.subnet(id))
      .filter((s): s is Res => !!s);
  for (const asg of ix.all(T.asg)) {
    const ltRef = (asg.inputs.launchTemplate ?? {}) as Record<string, unknown>;
    const lt = ix.byId(ltRef.id, T.launchTemplate) ?? ix.resolve(ltRef.name, [T.launchTemplate]);
    if (lt) out.push({ label: `Auto Scaling group ${asg.name}`, subnets: subnetsOf(asg), sgIds: ix.sgIdsOf(lt) });
  }
  for (const inst of ix.all(T.instance))
    out.push({ label: `instance ${inst.name}`, subnets: subnetsOf(inst), sgIds: ix.sgIdsOf(inst) });
  return out;
}

/** A sentence describing an open path from an undeclared source to the database, or undefined. */
function reaches(ix: GraphModel, fn: Compute, db: Res, dbSgs: string[], ports: number[]): string | undefined {
  const dbSubnets = ix
    .subnetIdsOf(db)
    .map((id) => ix.subnet(id))
    .filter((s): s is Res => !!s);
  const dbCidrs = dbSubnets.map((s) => ix.subnetCidr(s)).filter((c): c is Cidr => !!c);
  const fnCidrs = fn.subnets.map((s) => ix.subnetCidr(s)).filter((c): c is Cidr => !!c);
  if (dbCidrs.length === 0 || fnCidrs.length === 0) return undefined;
  for (const port of ports.length > 0 ? ports : [0]) {
    const egress = fn.sgIds
      .flatMap((id) => sgRules(ix, id, "egress"))
      .find(
        (r) =>
          (ports.length === 0 || rulePermits(r, "tcp", port)) &&
          (r.sgRefs.some((x) => dbSgs.includes(x)) || dbCidrs.every((c) => anyContains(r.cidrs, c))),
      );
    if (!egress) continue;
    const ingress = dbSgs
      .flatMap((id) => sgRules(ix, id, "ingress"))
      .find(
        (r) =>
          (ports.length === 0 || rulePermits(r, "tcp", port)) &&
          (r.sgRefs.some((x) => fn.sgIds.includes(x)) || fnCidrs.every((c) => anyContains(r.cidrs, c))),
      );
    if (!ingress) continue;
    const routed = fn.subnets.some((s) =>
      dbCidrs.some((c) => {
        const r = lookup(ix, routeTableOf(ix, s), c);
        return r !== undefined && (r.kind === "local" || r.kind === "tgw" || r.kind === "peering");
      }),
    );
    if (!routed) continue;
    return `its security group ${ix.label(egress.sgId, T.sg)} allows ${rulePorts(egress)} to ${rulePeers(egress, ix)} (rule ${egress.name}), the database's group admits ${rulePeers(ingress, ix)} (rule ${ingress.name}), and its subnets route there`;
  }
  return undefined;
}

// --- private APIs are reachable only through their endpoints

function privateApis(ix: GraphModel): ForbiddenResult[] {
  const out: ForbiddenResult[] = [];
  for (const api of ix.all(T.restApi)) {
    const subject = `API ${api.name}`;
    if (!isPrivateApi(api)) {
      // Only APIs that front private endpoints are in scope; a regional API is public by design.
      const looksPrivate = ix.all(T.endpoint).some((e) => String(e.inputs.serviceName ?? "").endsWith(".execute-api"));
      if (looksPrivate)
        out.push({
          check: "private-api",
          subject,
          status: "VIOLATED",
          detail: `API ${api.name} is not of endpoint type PRIVATE, so it is reachable from the internet`,
        });
      continue;
    }
    const endpoints = ix.all(T.endpoint).filter((e) => String(e.inputs.serviceName ?? "").endsWith(".execute-api"));
    const verdict = privateApiVerdict(
      ix,
      api,
      endpoints[0]?.id ?? "vpce-none",
      endpoints[0] ? String(endpoints[0].inputs.vpcId) : undefined,
    );
    const unrestricted = verdict.problem?.includes("without an aws:SourceVpce condition");
    if (unrestricted || (verdict.problem && /no resource policy|not valid JSON/.test(verdict.problem))) {
      out.push({ check: "private-api", subject, status: "VIOLATED", detail: verdict.problem as string });
      continue;
    }
    const known = new Set(ix.all(T.endpoint).map((e) => e.id));
    const foreign = verdict.admitted.filter((v) => !known.has(v) && !v.includes("*"));
    const wildcard = verdict.admitted.filter((v) => v.includes("*"));
    if (wildcard.length > 0)
      out.push({
        check: "private-api",
        subject,
        status: "VIOLATED",
        detail: `private API ${api.name}'s resource policy admits aws:SourceVpce ${wildcard.join(", ")}, a pattern that matches any endpoint`,
      });
    else
      out.push({
        check: "private-api",
        subject,
        status: "OK",
        detail: `PRIVATE; resource policy admits only aws:SourceVpce ${verdict.admitted.map((v) => (known.has(v) ? `${v} (${ix.label(v, T.endpoint)})` : v)).join(", ")}${foreign.length > 0 ? ` (${foreign.join(", ")} outside this graph)` : ""}`,
      });
  }
  return out;
}
