/**
 * The kit's policies as pure functions over a neutral resource shape, so the same rules run over
 * `graph.json` (ops/check/policies.ts, offline) and inside the `@pulumi/policy` pack
 * (policy-pack/, `pulumi preview --policy-pack`).
 *
 * Rules are generic over resource types: they look at properties (`vpcConfig.subnetIds`,
 * `metadataOptions.httpTokens`, `allocationId`…) rather than at the kit's components, so resources
 * other components add later (Transit Gateway, Aurora, private API) are covered as soon as they exist.
 *
 * References between resources are resolved three ways, in order: by physical id (graph.json), by ARN
 * or physical name (a Lambda's `role` is an ARN), and by the engine's property dependencies (the policy
 * pack during `preview`, where ids of new resources are unknown). A value that cannot be known yet
 * (`[unknown]`, `[secret]`) never produces a violation: a rule only reports what it can prove.
 */
import { cidrsOverlap, tryParseCidr } from "../../components/cidr";

/** A resource as the rules see it. */
export interface RuleResource {
  urn: string;
  type: string;
  /** Logical name (the Pulumi resource name). */
  name: string;
  /** Physical id when known (graph.json); absent in the policy pack. */
  id?: string;
  /** Parent URN. */
  parent?: string | null;
  /** Provider URN (the account the resource lives in). */
  provider?: string | null;
  /** Inputs (graph.json) or resolved properties (policy pack). */
  props: Record<string, unknown>;
  /** Top-level property → URNs of the resources its value came from (policy pack only). */
  propertyDeps?: Record<string, string[]>;
}

export interface RuleViolation {
  /** Stable policy id, e.g. "lambda-private-subnets". */
  policy: string;
  /** Logical name of the offending resource. */
  resource: string;
  urn: string;
  /** One sentence naming the resource and the fix. */
  message: string;
}

export interface PolicyRule {
  id: string;
  /** One line for `pulumi preview` and the README. */
  description: string;
  /** Set for rules that need nothing but the resource itself (the pack runs them as validateResource). */
  checkResource?: (r: RuleResource) => string[];
  check(model: ResourceModel): RuleViolation[];
}

/** Stands for a value that is not known (policy pack during preview). */
export const UNKNOWN = "[unknown]";
const SECRET = "[secret]";

export const T = {
  vpc: "aws:ec2/vpc:Vpc",
  subnet: "aws:ec2/subnet:Subnet",
  routeTable: "aws:ec2/routeTable:RouteTable",
  defaultRouteTable: "aws:ec2/defaultRouteTable:DefaultRouteTable",
  route: "aws:ec2/route:Route",
  rta: "aws:ec2/routeTableAssociation:RouteTableAssociation",
  mainRta: "aws:ec2/mainRouteTableAssociation:MainRouteTableAssociation",
  igw: "aws:ec2/internetGateway:InternetGateway",
  nat: "aws:ec2/natGateway:NatGateway",
  eip: "aws:ec2/eip:Eip",
  vpcEndpoint: "aws:ec2/vpcEndpoint:VpcEndpoint",
  vpcCidr: "aws:ec2/vpcIpv4CidrBlockAssociation:VpcIpv4CidrBlockAssociation",
  lambda: "aws:lambda/function:Function",
  role: "aws:iam/role:Role",
  rolePolicy: "aws:iam/rolePolicy:RolePolicy",
  policy: "aws:iam/policy:Policy",
  tgw: "aws:ec2transitgateway/transitGateway:TransitGateway",
} as const;

export function isUnknown(v: unknown): boolean {
  return v === UNKNOWN || v === SECRET;
}

/** Index over resources with the reference resolution every rule needs. */
export class ResourceModel {
  public readonly resources: RuleResource[];
  private readonly byUrnMap = new Map<string, RuleResource>();
  private readonly byIdMap = new Map<string, RuleResource[]>();
  private readonly byArnMap = new Map<string, RuleResource[]>();
  private readonly byTypeMap = new Map<string, RuleResource[]>();
  private rtOfSubnet?: Map<string, RuleResource | undefined>;
  /** Physical-name lookups per type: explicit `name` input and logical name → resources, in resource order. */
  private readonly byNameOfType = new Map<string, { explicit: Map<string, RuleResource[]>; logical: Map<string, RuleResource[]> }>();
  /** Position of each resource in `resources`, to merge index hits back into resource order. */
  private readonly position = new Map<RuleResource, number>();
  /** Indexes built on first use (rules and the cost ask the same question once per resource). */
  private readonly memo = new Map<string, unknown>();

  constructor(resources: RuleResource[]) {
    this.resources = resources;
    resources.forEach((r, i) => this.position.set(r, i));
    for (const r of resources) {
      this.byUrnMap.set(r.urn, r);
      if (r.id) push(this.byIdMap, r.id, r);
      if (typeof r.props.arn === "string" && !isUnknown(r.props.arn)) push(this.byArnMap, r.props.arn, r);
      push(this.byTypeMap, r.type, r);
    }
  }

  all(type: string | RegExp): RuleResource[] {
    if (typeof type === "string") return this.byTypeMap.get(type) ?? [];
    // Rules ask with the same pattern once per role or API: scan the resources once per pattern.
    return this.cached(`all:${type.source}/${type.flags}`, () => this.resources.filter((r) => type.test(r.type)));
  }

  /** A value computed once per model (indexes over resources, which never change after construction). */
  cached<V>(key: string, build: () => V): V {
    if (this.memo.has(key)) return this.memo.get(key) as V;
    const v = build();
    this.memo.set(key, v);
    return v;
  }

  /**
   * Resources of type `from` grouped by the URN of each resource of `types` that their reference
   * (`pick` → [property, value]) resolves to, in resource order: "which route tables' routes, which
   * policies of this role" without a scan of every route or policy per table or role. `key` names
   * `pick` in the cache: one key, one `pick`.
   */
  referrers(from: string | RegExp, types: string[], pick: (r: RuleResource) => [string, unknown], key: string): Map<string, RuleResource[]> {
    return this.cached(`referrers:${String(from)}:${types.join(",")}:${key}`, () => {
      const out = new Map<string, RuleResource[]>();
      for (const r of this.all(from)) {
        const [prop, value] = pick(r);
        for (const t of this.refs(r, prop, value, types)) push(out, t.urn, r);
      }
      return out;
    });
  }

  /** Resources of type `from` grouped by the URN of the first resource of `types` their reference resolves to (`ref`, not `refs`). */
  firstReferrers(from: string | RegExp, types: string[], pick: (r: RuleResource) => [string, unknown], key: string): Map<string, RuleResource[]> {
    return this.cached(`firstReferrers:${String(from)}:${types.join(",")}:${key}`, () => {
      const out = new Map<string, RuleResource[]>();
      for (const r of this.all(from)) {
        const [prop, value] = pick(r);
        const t = this.ref(r, prop, value, types);
        if (t) push(out, t.urn, r);
      }
      return out;
    });
  }

  /** Index of a resource in `resources` (to restore resource order after merging index hits). */
  positionOf(r: RuleResource): number {
    return this.position.get(r) ?? -1;
  }

  byUrn(urn: string | null | undefined): RuleResource | undefined {
    return urn ? this.byUrnMap.get(urn) : undefined;
  }

  /**
   * The resources `value` (a property of `from`, named `prop` at the top level) refers to, optionally
   * of the given types. Unresolvable values fall back to the property's dependencies.
   */
  refs(from: RuleResource, prop: string, value: unknown, types?: string[]): RuleResource[] {
    const ok = (r: RuleResource) => !types || types.includes(r.type);
    const out = new Map<string, RuleResource>();
    let unresolved = false;
    for (const s of strings(value)) {
      if (isUnknown(s)) {
        unresolved = true;
        continue;
      }
      const found = [...(this.byIdMap.get(s) ?? []), ...(this.byArnMap.get(s) ?? [])].filter(ok);
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

  ref(from: RuleResource, prop: string, value: unknown, types?: string[]): RuleResource | undefined {
    return this.refs(from, prop, value, types)[0];
  }

  /**
   * Matches an ARN's or name's last segment against resources' physical names: an explicit `name`,
   * the logical name, or Pulumi's auto-name `<logical>-<7 hex>`.
   */
  private byPhysicalName(s: string, types?: string[]): RuleResource[] {
    if (!types) return [];
    const seg = s.split(/[:/]/).pop() ?? s;
    // An auto-name `<logical>-<7 hex>` names the resource whose logical name is `seg` minus its suffix.
    const autoBase = /-[0-9a-f]{7}$/.test(seg) ? seg.slice(0, -8) : undefined;
    const out: RuleResource[] = [];
    for (const t of types) {
      const { explicit, logical } = this.namesOfType(t);
      const hits = [...(explicit.get(seg) ?? []), ...(logical.get(seg) ?? []), ...(autoBase !== undefined ? logical.get(autoBase) ?? [] : [])];
      // In resource order, each once (a resource can match by its explicit and its logical name).
      out.push(...[...new Set(hits)].sort((a, b) => this.positionOf(a) - this.positionOf(b)));
    }
    return out;
  }

  private namesOfType(type: string): { explicit: Map<string, RuleResource[]>; logical: Map<string, RuleResource[]> } {
    let names = this.byNameOfType.get(type);
    if (!names) {
      names = { explicit: new Map(), logical: new Map() };
      for (const r of this.all(type)) {
        if (typeof r.props.name === "string") push(names.explicit, r.props.name, r);
        push(names.logical, r.name, r);
      }
      this.byNameOfType.set(type, names);
    }
    return names;
  }

  /** The route table a subnet uses: its explicit association, else the VPC's main table (if declared). */
  routeTableOf(subnet: RuleResource): RuleResource | undefined {
    if (!this.rtOfSubnet) {
      this.rtOfSubnet = new Map();
      for (const a of this.all(T.rta)) {
        for (const s of this.refs(a, "subnetId", a.props.subnetId, [T.subnet])) {
          this.rtOfSubnet.set(s.urn, this.ref(a, "routeTableId", a.props.routeTableId, [T.routeTable, T.defaultRouteTable]));
        }
      }
    }
    if (this.rtOfSubnet.has(subnet.urn)) return this.rtOfSubnet.get(subnet.urn);
    const vpc = this.ref(subnet, "vpcId", subnet.props.vpcId, [T.vpc]);
    if (!vpc) return undefined;
    // The first main-table association naming the VPC, else the first default table of the VPC.
    const main = this.referrers(T.mainRta, [T.vpc], (m) => ["vpcId", m.props.vpcId], "vpcId").get(vpc.urn)?.[0];
    if (main) return this.ref(main, "routeTableId", main.props.routeTableId, [T.routeTable]);
    const defaults = this.cached("defaultTableByVpc", () => {
      const byVpc = new Map<string, RuleResource>();
      for (const d of this.all(T.defaultRouteTable)) {
        const urn = vpcIdOf(this, d)?.urn;
        if (urn !== undefined && !byVpc.has(urn)) byVpc.set(urn, d);
      }
      return byVpc;
    });
    return defaults.get(vpc.urn);
  }

  /** Every route of a table: separate Route resources and inline `routes`. */
  routesOf(table: RuleResource): RouteView[] {
    const out: RouteView[] = [];
    const routes = this.referrers(T.route, [T.routeTable, T.defaultRouteTable], (r) => ["routeTableId", r.props.routeTableId], "routeTableId");
    for (const r of routes.get(table.urn) ?? []) out.push(this.routeView(r, r.props, r.name));
    const inline = table.props.routes;
    if (Array.isArray(inline)) inline.forEach((x, i) => out.push(this.routeView(table, (x ?? {}) as Record<string, unknown>, `${table.name}.routes[${i}]`)));
    return out;
  }

  private routeView(owner: RuleResource, p: Record<string, unknown>, name: string): RouteView {
    const dest = str(p.destinationCidrBlock) ?? str(p.cidrBlock) ?? str(p.destinationIpv6CidrBlock) ?? str(p.ipv6CidrBlock) ?? str(p.destinationPrefixListId) ?? "?";
    const gw = p.gatewayId;
    const igw = owner.type === T.route ? this.ref(owner, "gatewayId", gw, [T.igw]) : typeof gw === "string" ? this.byIdMap.get(gw)?.find((r) => r.type === T.igw) : undefined;
    const toIgw = igw !== undefined || (typeof gw === "string" && gw.startsWith("igw-"));
    return { name, destination: dest, toInternetGateway: toIgw, target: igw?.name ?? (typeof gw === "string" ? gw : undefined), props: p };
  }
}

export interface RouteView {
  name: string;
  destination: string;
  toInternetGateway: boolean;
  /** Logical name (or id) of the internet gateway it targets. */
  target?: string;
  props: Record<string, unknown>;
}

// ------------------------------------------------------------------------------------------------
// Rules

const v = (policy: string, r: RuleResource, message: string): RuleViolation => ({ policy, resource: r.name, urn: r.urn, message });

/** AWS managed policies that grant far more than any function needs. */
export const BROAD_MANAGED_POLICY = /^arn:aws[\w-]*:iam::aws:policy\/(?:[\w+=,.@-]+\/)*(AdministratorAccess|PowerUserAccess|[\w+=,.@-]*FullAccess[\w+=,.@-]*)$/;
/** Managed policies that carry the three ENI actions. */
const ENI_MANAGED_POLICY = /^arn:aws[\w-]*:iam::aws:policy\/service-role\/(AWSLambdaVPCAccessExecutionRole|AWSLambdaENIManagementAccess)$/;
export const ENI_ACTIONS = ["ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DeleteNetworkInterface"];

const noBroadRolePolicy: PolicyRule = {
  id: "no-broad-role-policy",
  description: "Function roles carry no broad AWS managed policy (AdministratorAccess, PowerUserAccess, *FullAccess) and no inline Allow of * actions on *.",
  check(m) {
    const out: RuleViolation[] = [];
    for (const role of functionRoles(m)) {
      for (const a of attachmentsOf(m, role)) {
        const match = BROAD_MANAGED_POLICY.exec(a.policyArn);
        if (match) out.push(v("no-broad-role-policy", a.via, `function role ${role.name} has the AWS managed policy ${match[1]} attached (${a.via.name}); detach it and grant explicit inline statements for what the function needs.`));
      }
      for (const d of inlineDocsOf(m, role)) {
        d.statements.forEach((s, i) => {
          if (s.Effect !== "Allow" || !resourceIsStar(s.Resource)) return;
          const wide = s.NotAction !== undefined ? "NotAction" : list(s.Action).find((a) => a === "*" || /^[\w-]+:\*$/.test(a) || a === "*:*");
          if (wide) out.push(v("no-broad-role-policy", d.via, `function role ${role.name} allows ${wide === "NotAction" ? "everything but NotAction" : `"${wide}"`} on * in ${d.via.name} (statement ${s.Sid ?? i}); list the exact actions and resources the function needs.`));
        });
      }
    }
    return out;
  },
};

const vpcFunctionEniActions: PolicyRule = {
  id: "vpc-function-eni-actions",
  description: "A function attached to a VPC has ec2:CreateNetworkInterface, ec2:DescribeNetworkInterfaces and ec2:DeleteNetworkInterface.",
  check(m) {
    const out: RuleViolation[] = [];
    for (const fn of m.all(T.lambda)) {
      if (!inVpc(fn)) continue;
      const role = m.ref(fn, "role", fn.props.role, [T.role]);
      if (!role) continue;
      const attachments = attachmentsOf(m, role);
      if (attachments.some((a) => ENI_MANAGED_POLICY.test(a.policyArn))) continue;
      const docs = [...inlineDocsOf(m, role), ...attachments.flatMap((a) => a.docs)];
      if (docs.some((d) => d.unknown)) continue;
      const statements = docs.flatMap((d) => d.statements);
      const missing = ENI_ACTIONS.filter((a) => !allows(statements, a));
      if (missing.length > 0) {
        out.push(v("vpc-function-eni-actions", fn, `VPC function ${fn.name}'s role ${role.name} lacks ${missing.join(", ")}; add an inline statement allowing ${ENI_ACTIONS.join(", ")} on * (Lambda creates the function's ENIs with them).`));
      }
    }
    return out;
  },
};

const rdsPrivateEncrypted: PolicyRule = {
  id: "rds-private-encrypted",
  description: "RDS instances and clusters are not publicly accessible and are encrypted at rest.",
  checkResource: rdsProblems,
  check(m) {
    return perResource(m, "rds-private-encrypted", rdsProblems);
  },
};

function rdsProblems(r: RuleResource): string[] {
  const msgs: string[] = [];
  if (!/^aws:rds\//.test(r.type)) return msgs;
  const kind = r.type.split(":").pop();
  if (r.props.publiclyAccessible === true) msgs.push(`RDS ${kind} ${r.name} is publicly accessible; set publiclyAccessible: false and reach it from the VPC (or across the Transit Gateway).`);
  const encryptable = r.type === "aws:rds/instance:Instance" || r.type === "aws:rds/cluster:Cluster" || r.type === "aws:rds/globalCluster:GlobalCluster";
  // A v1 serverless cluster is always encrypted; a replica inherits its source's encryption.
  const exempt = r.props.engineMode === "serverless" || r.props.replicateSourceDb !== undefined || r.props.sourceDbClusterIdentifier !== undefined;
  if (encryptable && !exempt && !isUnknown(r.props.storageEncrypted) && r.props.storageEncrypted !== true) {
    msgs.push(`RDS ${kind} ${r.name} is not encrypted at rest; set storageEncrypted: true (and kmsKeyId for a customer-managed key).`);
  }
  return msgs;
}

const squidConfAndDenyAll: PolicyRule = {
  id: "squid-conf-and-deny-all",
  description: "Every squid.conf http_access allow line ANDs the secret-header ACL with the domain whitelist, and the rules end in http_access deny all.",
  checkResource: squidProblems,
  check(m) {
    return perResource(m, "squid-conf-and-deny-all", squidProblems);
  },
};

function squidProblems(r: RuleResource): string[] {
  return findSquidConfs(r.props).flatMap((conf) => squidConfProblems(conf).map((p) => `squid.conf in ${r.name}: ${p}`));
}

const privateApiSourceVpce: PolicyRule = {
  id: "private-api-source-vpce",
  description: "A PRIVATE REST API's resource policy allows execute-api:Invoke only with an aws:SourceVpce condition and explicitly denies every other source.",
  check(m) {
    const out: RuleViolation[] = [];
    const apis = m.all(/apigateway[/:]restApi/i).filter((a) => !/policy/i.test(a.type) && isPrivateApi(a));
    const attachedTypes = /apigateway[/:]restApiPolicy/i;
    for (const api of apis) {
      const sources: { via: RuleResource; policy: unknown }[] = [];
      if (api.props.policy !== undefined && api.props.policy !== null && api.props.policy !== "") sources.push({ via: api, policy: api.props.policy });
      for (const p of m.referrers(attachedTypes, [api.type], (x) => ["restApiId", x.props.restApiId], "restApiId").get(api.urn) ?? []) sources.push({ via: p, policy: p.props.policy });
      if (sources.length === 0) {
        out.push(v("private-api-source-vpce", api, `private API ${api.name} has no resource policy; attach one that allows execute-api:Invoke only with Condition StringEquals aws:SourceVpce <endpoint id> and denies requests with StringNotEquals aws:SourceVpce.`));
        continue;
      }
      for (const { via, policy } of sources) {
        const doc = parseDoc(policy);
        if (doc === "unknown") continue;
        const statements = doc ?? [];
        const invoke = (s: Statement) => list(s.Action).some((a) => glob(a, "execute-api:Invoke"));
        const allowsWithout = statements.map((s, i) => ({ s, i })).filter(({ s }) => s.Effect === "Allow" && invoke(s) && !hasSourceVpceCondition(s.Condition, "equals"));
        for (const { s, i } of allowsWithout) {
          out.push(v("private-api-source-vpce", via, `private API ${api.name}'s resource policy allows execute-api:Invoke without an aws:SourceVpce condition (statement ${s.Sid ?? i}); add Condition StringEquals aws:SourceVpce with the API's VPC endpoint id(s).`));
        }
        const denies = statements.some((s) => s.Effect === "Deny" && invoke(s) && hasSourceVpceCondition(s.Condition, "notEquals"));
        if (!denies) out.push(v("private-api-source-vpce", via, `private API ${api.name}'s resource policy has no explicit Deny for requests from other sources; add a Deny of execute-api:Invoke with Condition StringNotEquals aws:SourceVpce (the endpoint id list).`));
      }
    }
    return out;
  },
};

const privateDnsVpcAttributes: PolicyRule = {
  id: "private-dns-vpc-attributes",
  description: "An interface endpoint with private DNS sits in a VPC with both enableDnsHostnames and enableDnsSupport on.",
  check(m) {
    const out: RuleViolation[] = [];
    for (const ep of m.all(T.vpcEndpoint)) {
      if (ep.props.vpcEndpointType !== "Interface" || ep.props.privateDnsEnabled !== true) continue;
      const vpc = m.ref(ep, "vpcId", ep.props.vpcId, [T.vpc]);
      if (!vpc) continue;
      const off: string[] = [];
      if (!isUnknown(vpc.props.enableDnsHostnames) && vpc.props.enableDnsHostnames !== true) off.push("enableDnsHostnames");
      if (vpc.props.enableDnsSupport === false) off.push("enableDnsSupport");
      if (off.length > 0) {
        out.push(v("private-dns-vpc-attributes", ep, `interface endpoint ${ep.name} has private DNS on, but VPC ${vpc.name} has ${off.join(" and ")} off, so the service name resolves to public addresses; set ${off.map((a) => `${a}: true`).join(" and ")} on the VPC.`));
      }
    }
    return out;
  },
};

/** Tag that marks a SquidProxyTier's EIP pool: its EIPs are associated by the instances at boot. */
const POOL_TAG = "vpc-lambda-kit:proxy-pool";

const eipPerNat: PolicyRule = {
  id: "eip-per-nat",
  description: "Each public NAT gateway has its own Elastic IP, no EIP is left unused, and the NAT count matches the planned strategy (single, or one per AZ).",
  check(m) {
    const out: RuleViolation[] = [];
    const used = new Set<string>();
    const owner = new Map<string, RuleResource>();
    for (const nat of m.all(T.nat)) {
      if (nat.props.connectivityType === "private") continue;
      const alloc = nat.props.allocationId;
      const eip = m.ref(nat, "allocationId", alloc, [T.eip]);
      if (!eip && isUnknown(alloc)) continue;
      const key = eip?.urn ?? (typeof alloc === "string" && alloc !== "" ? alloc : undefined);
      if (key === undefined) {
        if (!nat.propertyDeps?.allocationId) out.push(v("eip-per-nat", nat, `NAT gateway ${nat.name} has no Elastic IP allocation; give it allocationId (one EIP per NAT, the address the SaaS allowlists).`));
        continue;
      }
      used.add(key);
      const first = owner.get(key);
      if (first) out.push(v("eip-per-nat", nat, `NAT gateways ${first.name} and ${nat.name} share the Elastic IP ${eip?.name ?? key}; give each NAT its own EIP.`));
      else owner.set(key, nat);
    }
    // Anything else that takes an allocation (eipAssociation, …) or an EIP bound directly to an instance/ENI counts as use.
    for (const r of m.resources) {
      if (r.type === T.nat || r.props.allocationId === undefined) continue;
      for (const e of m.refs(r, "allocationId", r.props.allocationId, [T.eip])) used.add(e.urn);
    }
    for (const eip of m.all(T.eip)) {
      const tags = (eip.props.tags ?? {}) as Record<string, unknown>;
      if (used.has(eip.urn) || POOL_TAG in tags || eip.props.instance || eip.props.networkInterface) continue;
      out.push(v("eip-per-nat", eip, `Elastic IP ${eip.name} is not used by any NAT gateway (it is billed and may sit on the SaaS allowlist); attach it to a NAT or remove it.`));
    }
    // Components that record their plan (FixedEgressVpc) must have exactly the planned NATs.
    let natsUnder: Map<string, number> | undefined;
    for (const c of m.resources) {
      const plan = c.props.plan as { natGateways?: string; natCount?: number; azCount?: number } | undefined;
      if (!plan || typeof plan !== "object" || typeof plan.natCount !== "number" || typeof plan.natGateways !== "string") continue;
      const expected = plan.natGateways === "onePerAz" ? plan.azCount : 1;
      natsUnder ??= natsPerAncestor(m);
      const nats = natsUnder.get(c.urn) ?? 0;
      if (expected !== undefined && (nats !== expected || plan.natCount !== expected)) {
        out.push(v("eip-per-nat", c, `${c.name} plans natGateways: ${plan.natGateways} over ${plan.azCount} AZ(s), i.e. ${expected} NAT gateway(s) with one EIP each, but has ${nats}; fix the NAT strategy or the AZ count.`));
      }
    }
    return out;
  },
};

const tgwNoCidrOverlap: PolicyRule = {
  id: "tgw-no-cidr-overlap",
  description: "VPCs attached to the same Transit Gateway have disjoint CIDRs.",
  check(m) {
    const out: RuleViolation[] = [];
    const groups = new Map<string, { att: RuleResource; vpc: RuleResource; cidrs: string[] }[]>();
    for (const att of m.all(/^aws:ec2transitgateway\/vpcAttachment:/)) {
      const tgwValue = att.props.transitGatewayId;
      const tgw = m.ref(att, "transitGatewayId", tgwValue, [T.tgw]);
      const key = tgw?.urn ?? (typeof tgwValue === "string" && !isUnknown(tgwValue) ? tgwValue : undefined);
      const vpc = m.ref(att, "vpcId", att.props.vpcId, [T.vpc]);
      if (key === undefined || !vpc) continue;
      const extra = m.firstReferrers(T.vpcCidr, [T.vpc], (a) => ["vpcId", a.props.vpcId], "vpcId").get(vpc.urn) ?? [];
      const cidrs = [vpc.props.cidrBlock, ...extra.map((a) => a.props.cidrBlock)]
        .filter((c): c is string => typeof c === "string" && !isUnknown(c));
      push(groups, key, { att, vpc, cidrs });
    }
    for (const members of groups.values()) {
      for (let i = 0; i < members.length; i++) {
        for (let j = 0; j < i; j++) {
          const a = members[j], b = members[i];
          if (a.vpc.urn === b.vpc.urn) continue;
          const clash = firstOverlap(a.cidrs, b.cidrs);
          if (clash) out.push(v("tgw-no-cidr-overlap", b.att, `Transit Gateway attachments ${a.att.name} (VPC ${a.vpc.name} ${clash[0]}) and ${b.att.name} (VPC ${b.vpc.name} ${clash[1]}) overlap, so routes between them are ambiguous; give the VPCs disjoint CIDRs.`));
        }
      }
    }
    return out;
  },
};

const lambdaPrivateSubnets: PolicyRule = {
  id: "lambda-private-subnets",
  description: "Functions attach only to private subnets (whose route table has no internet-gateway route): a Lambda ENI never gets a public IP.",
  check(m) {
    const out: RuleViolation[] = [];
    for (const fn of m.all(T.lambda)) {
      if (!inVpc(fn)) continue;
      const subnetIds = (fn.props.vpcConfig as Record<string, unknown>).subnetIds;
      for (const subnet of m.refs(fn, "vpcConfig", subnetIds, [T.subnet])) {
        const table = m.routeTableOf(subnet);
        const igwRoute = table ? m.routesOf(table).find((r) => r.toInternetGateway) : undefined;
        if (table && igwRoute) {
          out.push(v("lambda-private-subnets", fn, `function ${fn.name} uses subnet ${subnet.name}, whose route table ${table.name} sends ${igwRoute.destination} to internet gateway ${igwRoute.target}; attach the function to private subnets only (it gets no public IP there, so it has no internet path).`));
        }
      }
    }
    return out;
  },
};

const natPublicSubnet: PolicyRule = {
  id: "nat-public-subnet",
  description: "Public NAT gateways sit in public subnets (whose route table sends 0.0.0.0/0 to an internet gateway).",
  check(m) {
    const out: RuleViolation[] = [];
    for (const nat of m.all(T.nat)) {
      if (nat.props.connectivityType === "private") continue;
      const subnet = m.ref(nat, "subnetId", nat.props.subnetId, [T.subnet]);
      if (!subnet) continue;
      const table = m.routeTableOf(subnet);
      const ok = table ? m.routesOf(table).some((r) => r.toInternetGateway && r.destination === "0.0.0.0/0") : false;
      if (!ok) {
        const where = table ? `whose route table ${table.name} has no 0.0.0.0/0 route to an internet gateway` : "which has no route table with a 0.0.0.0/0 route to an internet gateway";
        out.push(v("nat-public-subnet", nat, `NAT gateway ${nat.name} is in subnet ${subnet.name}, ${where}; put the NAT in a public subnet.`));
      }
    }
    return out;
  },
};

const IMDS_TYPES = new Set([
  "aws:ec2/instance:Instance",
  "aws:ec2/launchTemplate:LaunchTemplate",
  "aws:ec2/launchConfiguration:LaunchConfiguration",
  "aws:ec2/spotInstanceRequest:SpotInstanceRequest",
]);

const imdsv2Required: PolicyRule = {
  id: "imdsv2-required",
  description: "Instances and launch templates require IMDSv2 (metadataOptions.httpTokens: required).",
  checkResource: imdsProblems,
  check(m) {
    return perResource(m, "imdsv2-required", imdsProblems);
  },
};

function imdsProblems(r: RuleResource): string[] {
  if (!IMDS_TYPES.has(r.type)) return [];
  const raw = r.props.metadataOptions;
  const mo = (Array.isArray(raw) ? raw[0] : raw) as Record<string, unknown> | undefined;
  if (isUnknown(raw) || (mo && (isUnknown(mo.httpTokens) || mo.httpTokens === "required" || mo.httpEndpoint === "disabled"))) return [];
  const kind = (r.type.split(":").pop() ?? r.type).replace(/([a-z])([A-Z])/g, "$1 $2").toLowerCase();
  return [`${kind} ${r.name} does not require IMDSv2; set metadataOptions.httpTokens to "required" (and httpPutResponseHopLimit: 1).`];
}

function perResource(m: ResourceModel, policy: string, problems: (r: RuleResource) => string[]): RuleViolation[] {
  return m.resources.flatMap((r) => problems(r).map((msg) => v(policy, r, msg)));
}

/** Every policy, in report order. Ids are stable: CI output and pack configuration refer to them. */
export const POLICY_RULES: PolicyRule[] = [
  noBroadRolePolicy,
  vpcFunctionEniActions,
  rdsPrivateEncrypted,
  squidConfAndDenyAll,
  privateApiSourceVpce,
  privateDnsVpcAttributes,
  eipPerNat,
  tgwNoCidrOverlap,
  lambdaPrivateSubnets,
  natPublicSubnet,
  imdsv2Required,
];

/** Runs every rule (or the given ones) over the resources. */
export function runRules(resources: RuleResource[], rules: PolicyRule[] = POLICY_RULES): RuleViolation[] {
  const model = new ResourceModel(resources);
  return rules.flatMap((r) => r.check(model));
}

// ------------------------------------------------------------------------------------------------
// squid.conf

/** squid.conf texts found in a resource's properties (plain or base64 user data, heredocs in a boot script). */
export function findSquidConfs(props: unknown): string[] {
  const out: string[] = [];
  const visit = (x: unknown, depth: number) => {
    if (depth > 6 || x === null || x === undefined) return;
    if (typeof x === "string") {
      const text = squidText(x);
      if (text) out.push(...extractConfs(text));
      return;
    }
    if (Array.isArray(x)) x.forEach((y) => visit(y, depth + 1));
    else if (typeof x === "object") Object.values(x as Record<string, unknown>).forEach((y) => visit(y, depth + 1));
  };
  visit(props, 0);
  return out;
}

function squidText(s: string): string | undefined {
  if (/^\s*http_access\s/m.test(s)) return s;
  if (s.length >= 64 && /^[A-Za-z0-9+/=\s]+$/.test(s)) {
    const decoded = Buffer.from(s, "base64").toString("utf8");
    if (/^\s*http_access\s/m.test(decoded)) return decoded;
  }
  return undefined;
}

/** Heredoc bodies that hold http_access lines, or the text itself when it is a bare squid.conf. */
function extractConfs(text: string): string[] {
  const bodies: string[] = [];
  const re = /<<-?\s*(['"]?)(\w+)\1[^\n]*\n([\s\S]*?)\n\s*\2\s*(?:\n|$)/g;
  for (let mm = re.exec(text); mm; mm = re.exec(text)) {
    if (/^\s*http_access\s/m.test(mm[3])) bodies.push(mm[3]);
  }
  return bodies.length > 0 ? bodies : [text];
}

const HEADER_ACL_TYPES = new Set(["req_header", "proxy_auth", "proxy_auth_regex", "external"]);
const DOMAIN_ACL_TYPES = new Set(["dstdomain", "dstdom_regex", "ssl::server_name", "ssl::server_name_regex"]);

/** Problems with a squid.conf's access rules, each a clause naming the line and the fix. */
export function squidConfProblems(conf: string): string[] {
  const aclTypes = new Map<string, Set<string>>();
  const access: { action: string; acls: string[]; line: string }[] = [];
  for (const raw of conf.split("\n")) {
    const line = raw.replace(/\s+#.*$/, "").trim();
    if (line === "" || line.startsWith("#")) continue;
    const words = line.split(/\s+/);
    if (words[0] === "acl" && words.length >= 3) {
      const set = aclTypes.get(words[1]) ?? new Set<string>();
      set.add(words[2]);
      aclTypes.set(words[1], set);
    } else if (words[0] === "http_access" && words.length >= 2) {
      access.push({ action: words[1], acls: words.slice(2), line });
    }
  }
  const problems: string[] = [];
  const has = (acls: string[], types: Set<string>) => acls.some((a) => !a.startsWith("!") && [...(aclTypes.get(a) ?? [])].some((t) => types.has(t)));
  for (const a of access.filter((x) => x.action === "allow")) {
    const missing: string[] = [];
    if (!has(a.acls, HEADER_ACL_TYPES)) missing.push("a secret-header (req_header) ACL");
    if (!has(a.acls, DOMAIN_ACL_TYPES)) missing.push("a domain-whitelist (dstdomain) ACL");
    if (missing.length > 0) problems.push(`"${a.line}" lacks ${missing.join(" and ")}, so it admits requests that fail the other check (header OR domain); put the header and domain ACLs on one allow line.`);
  }
  const last = access[access.length - 1];
  if (!last || last.action !== "deny" || last.acls.join(" ") !== "all") {
    problems.push(`the http_access rules end with "${last?.line ?? "(none)"}" instead of "http_access deny all"; add http_access deny all as the last access rule.`);
  }
  return problems;
}

// ------------------------------------------------------------------------------------------------
// IAM helpers

interface Statement {
  Sid?: string;
  Effect?: string;
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: string | string[];
  Condition?: Record<string, Record<string, unknown>>;
}

interface Doc {
  via: RuleResource;
  statements: Statement[];
  unknown: boolean;
}

/** A policy document's statements; "unknown" when it cannot be read yet; undefined when absent/invalid. */
function parseDoc(policy: unknown): Statement[] | "unknown" | undefined {
  if (policy === undefined || policy === null) return undefined;
  if (isUnknown(policy)) return "unknown";
  let doc: unknown = policy;
  if (typeof policy === "string") {
    if (policy.includes(UNKNOWN)) return "unknown";
    try {
      doc = JSON.parse(policy);
    } catch {
      return undefined;
    }
  }
  const st = (doc as { Statement?: unknown })?.Statement;
  if (st === undefined) return [];
  if (isUnknown(st)) return "unknown";
  return (Array.isArray(st) ? st : [st]) as Statement[];
}

function docFrom(via: RuleResource, policy: unknown): Doc {
  const parsed = parseDoc(policy);
  return { via, statements: Array.isArray(parsed) ? parsed : [], unknown: parsed === "unknown" };
}

/** Roles that run functions: trusted by lambda.amazonaws.com, or referenced by a function. */
function functionRoles(m: ResourceModel): RuleResource[] {
  const out = new Map<string, RuleResource>();
  for (const r of m.all(T.role)) {
    const trust = r.props.assumeRolePolicy;
    const text = typeof trust === "string" ? trust : JSON.stringify(trust ?? "");
    if (text.includes("lambda.amazonaws.com")) out.set(r.urn, r);
  }
  for (const fn of m.all(T.lambda)) {
    const role = m.ref(fn, "role", fn.props.role, [T.role]);
    if (role) out.set(role.urn, role);
  }
  return [...out.values()];
}

/** Inline documents of a role: RolePolicy resources and the role's own inlinePolicies. */
function inlineDocsOf(m: ResourceModel, role: RuleResource): Doc[] {
  const docs: Doc[] = [];
  const byRole = m.referrers(T.rolePolicy, [T.role], (p) => ["role", p.props.role], "role");
  for (const p of byRole.get(role.urn) ?? []) docs.push(docFrom(p, p.props.policy));
  const inline = role.props.inlinePolicies;
  if (Array.isArray(inline)) for (const ip of inline) docs.push(docFrom(role, (ip as Record<string, unknown>)?.policy));
  return docs;
}

interface Attachment {
  policyArn: string;
  via: RuleResource;
  /** The document of a customer managed policy defined in the same stack. */
  docs: Doc[];
}

const ATTACHMENT_TYPES = /^aws:iam\/(rolePolicyAttachment|policyAttachment):/;

/** Managed policies attached to a role, by attachment resources or the role's managedPolicyArns. */
function attachmentsOf(m: ResourceModel, role: RuleResource): Attachment[] {
  const out: Attachment[] = [];
  const add = (arn: unknown, via: RuleResource, from: RuleResource) => {
    if (typeof arn !== "string" || isUnknown(arn)) return;
    const policy = m.ref(from, "policyArn", arn, [T.policy]);
    out.push({ policyArn: arn, via, docs: policy ? [docFrom(policy, policy.props.policy)] : [] });
  };
  const byRole = m.referrers(ATTACHMENT_TYPES, [T.role], (a) => (a.props.role !== undefined ? ["role", a.props.role] : ["roles", a.props.roles]), "role|roles");
  for (const a of byRole.get(role.urn) ?? []) add(a.props.policyArn, a, a);
  for (const arn of strings(role.props.managedPolicyArns)) add(arn, role, role);
  return out;
}

function allows(statements: Statement[], action: string): boolean {
  const match = (s: Statement) => list(s.Action).some((a) => glob(a, action)) || (s.NotAction !== undefined && !list(s.NotAction).some((a) => glob(a, action)));
  const allowed = statements.some((s) => s.Effect === "Allow" && match(s));
  const denied = statements.some((s) => s.Effect === "Deny" && match(s) && resourceIsStar(s.Resource) && !s.Condition);
  return allowed && !denied;
}

function resourceIsStar(r: unknown): boolean {
  return list(r).includes("*");
}

/** IAM-style wildcard match, case-insensitive (action names are). */
function glob(pattern: string, value: string): boolean {
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".")}$`, "i");
  return re.test(value);
}

function hasSourceVpceCondition(cond: Statement["Condition"], kind: "equals" | "notEquals"): boolean {
  if (!cond || typeof cond !== "object") return false;
  for (const [op, body] of Object.entries(cond)) {
    const o = op.toLowerCase();
    const isNot = o.includes("notequals") || o.includes("notlike");
    const fits = kind === "notEquals" ? isNot : !isNot && (o.includes("equals") || o.includes("like"));
    if (!fits || !body || typeof body !== "object") continue;
    if (Object.keys(body).some((k) => k.toLowerCase() === "aws:sourcevpce" || k.toLowerCase() === "aws:sourcevpc")) return true;
  }
  return false;
}

function isPrivateApi(api: RuleResource): boolean {
  const ec = api.props.endpointConfiguration as Record<string, unknown> | undefined;
  const types = ec?.types;
  return strings(types).includes("PRIVATE");
}

// ------------------------------------------------------------------------------------------------
// Small helpers

function inVpc(fn: RuleResource): boolean {
  const vc = fn.props.vpcConfig as Record<string, unknown> | undefined;
  if (!vc || typeof vc !== "object") return false;
  const ids = vc.subnetIds;
  return isUnknown(ids) || (Array.isArray(ids) && ids.length > 0);
}

function vpcIdOf(m: ResourceModel, r: RuleResource): RuleResource | undefined {
  const direct = m.ref(r, "vpcId", r.props.vpcId, [T.vpc]);
  if (direct) return direct;
  const vpcs = m.all(T.vpc);
  return vpcs.find((vpc) => r.props.defaultRouteTableId !== undefined && vpc.props.defaultRouteTableId === r.props.defaultRouteTableId);
}

/** How many NAT gateways each resource has among its descendants (up to 64 levels, as deep as the ancestor walk goes). */
function natsPerAncestor(m: ResourceModel): Map<string, number> {
  const out = new Map<string, number>();
  for (const n of m.all(T.nat)) {
    const seen = new Set<string>();
    let p = m.byUrn(n.parent);
    for (let guard = 0; p && guard < 64; guard++) {
      if (!seen.has(p.urn)) {
        seen.add(p.urn);
        out.set(p.urn, (out.get(p.urn) ?? 0) + 1);
      }
      p = m.byUrn(p.parent);
    }
  }
  return out;
}

const parsedCidrs = new Map<string, ReturnType<typeof tryParseCidr>>();

/** tryParseCidr, memoized: the overlap check compares every pair of attachments of a Transit Gateway. */
function cachedCidr(text: string): ReturnType<typeof tryParseCidr> {
  let c = parsedCidrs.get(text);
  if (c === undefined) {
    c = tryParseCidr(text);
    if (parsedCidrs.size < 100000) parsedCidrs.set(text, c);
  }
  return c;
}

function firstOverlap(a: string[], b: string[]): [string, string] | undefined {
  for (const x of a) {
    const cx = cachedCidr(x);
    if (typeof cx === "string") continue;
    for (const y of b) {
      const cy = cachedCidr(y);
      if (typeof cy !== "string" && cidrsOverlap(cx, cy)) return [x, y];
    }
  }
  return undefined;
}

function strings(value: unknown): string[] {
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return value.flatMap((x) => strings(x));
  return [];
}

function list(value: unknown): string[] {
  return strings(value);
}

function str(x: unknown): string | undefined {
  return typeof x === "string" && x !== "" ? x : undefined;
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const arr = map.get(key);
  if (arr) arr.push(value);
  else map.set(key, [value]);
}
