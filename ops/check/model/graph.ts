/**
 * The one model of a stack's resource graph that every offline check reads: the flow proofs
 * (ops/check/flows.ts and the evaluators in ops/check/eval/), the forbidden paths, the policies
 * (ops/check/policy-rules.ts, also run by the `@pulumi/policy` pack in policy-pack/), the cost,
 * the diagram and the tests (test/support/graph.ts).
 *
 * A resource (`Res`) is what graph.json records: URN, type, logical name, physical id ("" when
 * none is known: components, and every resource in the policy pack during `preview`), parent and
 * provider URNs and its inputs as plain JSON (references as ids, secrets as "[secret]"). The
 * policy pack adds the engine's property dependencies, which stand in for ids it cannot know yet.
 *
 * The model indexes resources once, by id, URN, type and parent, and answers two kinds of
 * reference question:
 *  - `resolve(ref, types)`: how AWS would find what a program wrote (an id, a physical or mock
 *    auto-name, an ARN); the flow proofs use it over graph.json.
 *  - `refs(from, prop, value, types)` / `ref(...)`: the same, falling back to the property's
 *    dependencies, and never asserting what it cannot prove; the policy rules use it, so they run
 *    unchanged over graph.json and inside the policy pack.
 * Typed accessors (VPC CIDRs, subnets, AZs, security groups and subnets a resource attaches to,
 * accounts per provider, public IPs from the outputs) sit on the model; how traffic is decided
 * (routes, security-group rules, Transit Gateway, endpoints, proxy, API and IAM policies) lives in
 * ops/check/eval/, each evaluator over this model. Derived indexes are built on first use and
 * cached per model (`cached`), so a check that does not need routes never builds them.
 *
 * Room to grow: `dependencies` (URNs a resource depends on, when graph.json records them) and
 * `existing` (an adopted resource the stack reads but does not create) are optional fields every
 * reader tolerates; `dependenciesOf` and `isExisting` are the accessors to use. A new hop (an NLB,
 * say) is a type token in model/types.ts, an evaluator in eval/ and a case in the flow walk.
 */
import * as crypto from "crypto";
import { ACCOUNT_ID_RE } from "../../../components/arns";
import type { Graph } from "../../synth-core";
import { T } from "./types";
import { asBool, Cidr, cidrContains, cidrOf, isUnknown, push, str, strings, strs } from "./values";

/** A resource as every check reads it (graph.json's shape; the policy pack fills the same fields). */
export interface Res {
  urn: string;
  type: string;
  /** Logical name (the Pulumi resource name). */
  name: string;
  /** Physical id; "" when not known. */
  id: string;
  /** Parent URN. */
  parent: string | null;
  /** Provider URN (the account the resource lives in); null for the default provider. */
  provider: string | null;
  /** Inputs (graph.json) or resolved properties (policy pack). */
  inputs: Record<string, unknown>;
  /** Top-level property → URNs of the resources its value came from (policy pack only). */
  propertyDeps?: Record<string, string[]>;
  /** URNs this resource depends on, when the graph records them. */
  dependencies?: string[];
  /** True for a resource the stack adopts (reads) rather than creates. */
  existing?: boolean;
  /** Values AWS assigns at create time, answered offline (a VPC's IPAM-allocated CIDR). */
  allocated?: Record<string, unknown>;
  /** Who built an existing resource when the stack's own program asked for it ("awsx": an awsx.ec2.Vpc's children). */
  origin?: string;
}

/** sha256-based auto-name the offline mocks give resources without a physical name (`<name>-<7 hex>`). */
export function mockAutoName(type: string, name: string): string {
  return `${name}-${crypto.createHash("sha256").update(`${type}::${name}`).digest("hex").slice(0, 7)}`;
}

/** Builds the base indexes once; every query afterwards is a map lookup or a short scan. */
export class GraphModel {
  public readonly resources: Res[];
  public readonly outputs: Record<string, unknown>;
  private readonly byIdMap = new Map<string, Res[]>();
  private readonly byTypeMap = new Map<string, Res[]>();
  private readonly byUrnMap = new Map<string, Res>();
  private readonly childrenMap = new Map<string, Res[]>();
  /** Position of each resource in `resources`, to merge index hits back into resource order. */
  private readonly position = new Map<Res, number>();
  /** Indexes built on first use. */
  private readonly memo = new Map<string, unknown>();

  constructor(resources: Res[], outputs: Record<string, unknown> = {}) {
    this.resources = resources;
    this.outputs = outputs;
    resources.forEach((r, i) => {
      this.position.set(r, i);
      push(this.byIdMap, r.id, r);
      push(this.byTypeMap, r.type, r);
      if (r.urn) this.byUrnMap.set(r.urn, r);
      if (r.parent) push(this.childrenMap, r.parent, r);
    });
  }

  /** The model of a synthesized graph (graph.json). */
  static of(graph: Graph): GraphModel {
    return new GraphModel(graph.resources, graph.outputs ?? {});
  }

  /** A value computed once per model (indexes over resources, which never change after construction). */
  cached<V>(key: string, build: () => V): V {
    if (this.memo.has(key)) return this.memo.get(key) as V;
    const v = build();
    this.memo.set(key, v);
    return v;
  }

  // --- generic lookups

  /** Resources of a type (a token from model/types.ts, or a pattern over type tokens), in resource order. */
  all(type: string | RegExp): Res[] {
    if (typeof type === "string") return this.byTypeMap.get(type) ?? [];
    return this.cached(`all:${type.source}/${type.flags}`, () => this.resources.filter((r) => type.test(r.type)));
  }

  /** The resource with this id (of `type` when given); ids are unique per type. */
  byId(id: unknown, type?: string): Res | undefined {
    if (typeof id !== "string") return undefined;
    const found = this.byIdMap.get(id);
    if (!found) return undefined;
    return type ? found.find((r) => r.type === type) : (found.find((r) => r.id !== "") ?? found[0]);
  }

  /** Every resource with this id (several types may share one in hand-written graphs). */
  allWithId(id: unknown): Res[] {
    return typeof id === "string" ? (this.byIdMap.get(id) ?? []) : [];
  }

  byUrn(urn: string | null | undefined): Res | undefined {
    return urn ? this.byUrnMap.get(urn) : undefined;
  }

  children(r: Res): Res[] {
    return this.childrenMap.get(r.urn) ?? [];
  }

  /** Ancestors, nearest first (up to 64 levels). */
  ancestors(r: Res): Res[] {
    const out: Res[] = [];
    let p = this.byUrn(r.parent);
    for (let guard = 0; p && guard < 64; guard++) {
      out.push(p);
      p = this.byUrn(p.parent);
    }
    return out;
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

  /** Index of a resource in `resources` (to restore resource order after merging index hits). */
  positionOf(r: Res): number {
    return this.position.get(r) ?? -1;
  }

  /** Resources this one depends on: recorded dependencies and property dependencies, each once. */
  dependenciesOf(r: Res): Res[] {
    const urns = new Set([...(r.dependencies ?? []), ...Object.values(r.propertyDeps ?? {}).flat()]);
    return [...urns].map((u) => this.byUrn(u)).filter((x): x is Res => x !== undefined);
  }

  /** True for an adopted resource (the stack reads it, AWS already has it). */
  isExisting(r: Res): boolean {
    return r.existing === true;
  }

  /** A resource's display name: its Pulumi name. */
  label(id: unknown, type?: string): string {
    const r = this.byId(id, type);
    return r ? r.name : String(id);
  }

  // --- references as AWS resolves them (graph.json)

  /**
   * Resolves a reference as programs write it: an id, a physical name (`name` input or the mocks'
   * auto-name), or an ARN whose last segment is the id or name.
   */
  resolve(ref: unknown, types?: string[]): Res | undefined {
    if (typeof ref !== "string" || ref === "") return undefined;
    const ok = (r: Res) => !types || types.includes(r.type);
    const byRef = this.physicalRefs();
    const direct = (this.byIdMap.get(ref) ?? []).find(ok) ?? (byRef.get(ref) ?? []).find(ok);
    if (direct) return direct;
    if (ref.startsWith("arn:")) {
      const tail = ref.split(/[:/]/).pop() as string;
      return (this.byIdMap.get(tail) ?? []).find(ok) ?? (byRef.get(tail) ?? []).find(ok);
    }
    return undefined;
  }

  /** Physical name, ARN and mock auto-name → resources. */
  private physicalRefs(): Map<string, Res[]> {
    return this.cached("physicalRefs", () => {
      const out = new Map<string, Res[]>();
      for (const r of this.resources) {
        const name = r.inputs.name;
        if (typeof name === "string" && name !== "" && name !== r.id) push(out, name, r);
        if (typeof r.inputs.arn === "string") push(out, r.inputs.arn, r);
        if (r.type.startsWith("aws:")) push(out, mockAutoName(r.type, r.name), r);
      }
      return out;
    });
  }

  // --- references as the policy rules resolve them (graph.json and the policy pack)

  /**
   * The resources `value` (a property of `from`, named `prop` at the top level) refers to, optionally
   * of the given types, by id, ARN or physical name. Unresolvable values fall back to the property's
   * dependencies. A value that cannot be known yet resolves to nothing rather than to a guess.
   */
  refs(from: Res, prop: string, value: unknown, types?: string[]): Res[] {
    const ok = (r: Res) => !types || types.includes(r.type);
    const out = new Map<string, Res>();
    let unresolved = false;
    const arns = this.arns();
    for (const s of strings(value)) {
      if (isUnknown(s)) {
        unresolved = true;
        continue;
      }
      const byId = s === "" ? [] : (this.byIdMap.get(s) ?? []);
      const found = [...byId, ...(arns.get(s) ?? [])].filter(ok);
      const hits = found.length > 0 ? found : this.byPhysicalName(s, types);
      if (hits.length === 0) unresolved = true;
      for (const h of hits) out.set(h.urn, h);
    }
    if (strings(value).length === 0) unresolved = true;
    if (unresolved && from.propertyDeps?.[prop]) {
      for (const urn of from.propertyDeps[prop]) {
        const r = this.byUrn(urn);
        if (r && ok(r)) out.set(r.urn, r);
      }
    }
    return [...out.values()];
  }

  ref(from: Res, prop: string, value: unknown, types?: string[]): Res | undefined {
    return this.refs(from, prop, value, types)[0];
  }

  /**
   * Resources of type `from` grouped by the URN of each resource of `types` that their reference
   * (`pick` → [property, value]) resolves to, in resource order: "which route tables' routes, which
   * policies of this role" without a scan of every route or policy per table or role. `key` names
   * `pick` in the cache: one key, one `pick`. `which`: "first" groups by only the first resource the
   * reference resolves to (`ref`, not `refs`).
   */
  referrers(
    from: string | RegExp,
    types: string[],
    pick: (r: Res) => [string, unknown],
    key: string,
    which: "all" | "first" = "all",
  ): Map<string, Res[]> {
    return this.cached(`referrers:${which}:${String(from)}:${types.join(",")}:${key}`, () => {
      const out = new Map<string, Res[]>();
      for (const r of this.all(from)) {
        const [prop, value] = pick(r);
        const targets = this.refs(r, prop, value, types);
        for (const t of which === "first" ? targets.slice(0, 1) : targets) push(out, t.urn, r);
      }
      return out;
    });
  }

  private arns(): Map<string, Res[]> {
    return this.cached("arns", () => {
      const out = new Map<string, Res[]>();
      for (const r of this.resources)
        if (typeof r.inputs.arn === "string" && !isUnknown(r.inputs.arn)) push(out, r.inputs.arn, r);
      return out;
    });
  }

  /**
   * Matches an ARN's or name's last segment against resources' physical names: an explicit `name`,
   * the logical name, or Pulumi's auto-name `<logical>-<7 hex>`.
   */
  private byPhysicalName(s: string, types?: string[]): Res[] {
    if (!types) return [];
    const seg = s.split(/[:/]/).pop() ?? s;
    // An auto-name `<logical>-<7 hex>` names the resource whose logical name is `seg` minus its suffix.
    const autoBase = /-[0-9a-f]{7}$/.test(seg) ? seg.slice(0, -8) : undefined;
    const out: Res[] = [];
    for (const t of types) {
      const { explicit, logical } = this.namesOfType(t);
      const hits = [
        ...(explicit.get(seg) ?? []),
        ...(logical.get(seg) ?? []),
        ...(autoBase !== undefined ? (logical.get(autoBase) ?? []) : []),
      ];
      // In resource order, each once (a resource can match by its explicit and its logical name).
      out.push(...[...new Set(hits)].sort((a, b) => this.positionOf(a) - this.positionOf(b)));
    }
    return out;
  }

  private namesOfType(type: string): { explicit: Map<string, Res[]>; logical: Map<string, Res[]> } {
    return this.cached(`names:${type}`, () => {
      const names = { explicit: new Map<string, Res[]>(), logical: new Map<string, Res[]>() };
      for (const r of this.all(type)) {
        if (typeof r.inputs.name === "string") push(names.explicit, r.inputs.name, r);
        push(names.logical, r.name, r);
      }
      return names;
    });
  }

  // --- accounts

  /** The account a resource is created in: its explicit provider's allowed/assumed account. */
  accountOf(r: Res): string | undefined {
    // An adopted resource of another account (a network account's Transit Gateway, its RAM share) names its owner.
    if (r.existing && typeof r.inputs.ownerId === "string" && ACCOUNT_ID_RE.test(r.inputs.ownerId))
      return r.inputs.ownerId;
    const accounts = this.cached("accountByProvider", () => {
      const m = new Map<string, string | undefined>();
      for (const p of this.all(T.provider)) m.set(p.urn, providerAccount(p.inputs));
      return m;
    });
    if (r.provider) return accounts.get(r.provider);
    let p = this.byUrn(r.parent);
    while (p) {
      if (p.provider) return accounts.get(p.provider);
      p = this.byUrn(p.parent);
    }
    return undefined;
  }

  // --- VPCs and subnets

  vpcCidrs(vpcId: string): Cidr[] {
    const byVpc = this.cached("vpcCidrs", () => {
      const m = new Map<string, Cidr[]>();
      for (const v of this.all(T.vpc)) {
        const c = cidrOf(v.inputs.cidrBlock ?? v.allocated?.cidrBlock);
        m.set(v.id, c ? [c] : []);
      }
      for (const a of this.all(T.vpcCidr)) {
        const c = cidrOf(a.inputs.cidrBlock);
        const vpcId = str(a.inputs.vpcId);
        if (c && vpcId) push(m, vpcId, c);
      }
      return m;
    });
    return byVpc.get(vpcId) ?? [];
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
    return {
      support: asBool(vpc.inputs.enableDnsSupport, true),
      hostnames: asBool(vpc.inputs.enableDnsHostnames, false),
    };
  }

  // --- attachments: security groups and subnets a resource uses

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
    const users = this.cached("sgUsers", () => {
      const m = new Map<string, Res[]>();
      for (const r of this.resources) for (const sg of this.sgIdsOf(r)) push(m, sg, r);
      return m;
    });
    return users.get(sgId) ?? [];
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
    return [...out];
  }

  // --- public addresses the stack outputs name

  /** The public IP of a NAT gateway (EIP), from the stack outputs that list NATs beside their IPs. */
  natPublicIp(nat: Res): string | undefined {
    return this.outputIps().natIps.get(nat.id);
  }

  /** Public IPs the outputs attribute to a security group's tier (e.g. a proxy pool's EIPs). */
  egressIpsOfSg(sgId: string): string[] | undefined {
    return this.outputIps().sgEgressIps.get(sgId);
  }

  /** Stack outputs that list NAT ids beside their public IPs, or a tier's security group beside its egress IPs. */
  private outputIps(): { natIps: Map<string, string>; sgEgressIps: Map<string, string[]> } {
    return this.cached("outputIps", () => {
      const natIps = new Map<string, string>();
      const sgEgressIps = new Map<string, string[]>();
      const visit = (o: unknown, depth: number): void => {
        if (!o || typeof o !== "object" || depth > 6) return;
        if (Array.isArray(o)) {
          for (const x of o) visit(x, depth + 1);
          return;
        }
        const rec = o as Record<string, unknown>;
        const ips = strs(rec.egressIps);
        const nats = strs(rec.natGatewayIds);
        if (ips.length > 0 && nats.length === ips.length) nats.forEach((n, i) => natIps.set(n, ips[i]));
        const sg = str(rec.securityGroupId);
        if (ips.length > 0 && sg && !sgEgressIps.has(sg)) sgEgressIps.set(sg, ips);
        for (const v of Object.values(rec)) visit(v, depth + 1);
      };
      visit(this.outputs, 0);
      return { natIps, sgEgressIps };
    });
  }
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
