/**
 * The kit's policies as pure functions over the graph model (ops/check/model/graph.ts), so the same
 * rules run over `graph.json` (ops/check/policies.ts, offline) and inside the `@pulumi/policy` pack
 * (policy-pack/, `pulumi preview --policy-pack`), which builds the same model from the stack's
 * resources. IAM documents, API policies, squid.conf and routes are read by the evaluators in
 * ops/check/eval/, the same ones the flow proofs use.
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
import { GraphModel, Res } from "./model/graph";
import { T } from "./model/types";
import { cidrOf, cidrsOverlap, isUnknown, push } from "./model/values";
import { hasSourceVpceCondition, isPrivateApi } from "./eval/api-policy";
import {
  allowsAction,
  attachmentsOf,
  functionRoles,
  globMatch,
  inlineDocsOf,
  list,
  parsePolicyDocument,
  resourceIsStar,
  Statement,
} from "./eval/iam";
import { findSquidConfs, squidConfProblems } from "./eval/proxy";
import { declaredRouteTableOf, declaredRoutesOf } from "./eval/routes";

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
  checkResource?: (r: Res) => string[];
  check(model: GraphModel): RuleViolation[];
}

// ------------------------------------------------------------------------------------------------
// Rules

const v = (policy: string, r: Res, message: string): RuleViolation => ({
  policy,
  resource: r.name,
  urn: r.urn,
  message,
});

/** AWS managed policies that grant far more than any function needs. */
export const BROAD_MANAGED_POLICY =
  /^arn:aws[\w-]*:iam::aws:policy\/(?:[\w+=,.@-]+\/)*(AdministratorAccess|PowerUserAccess|[\w+=,.@-]*FullAccess[\w+=,.@-]*)$/;
/** Managed policies that carry the three ENI actions. */
const ENI_MANAGED_POLICY =
  /^arn:aws[\w-]*:iam::aws:policy\/service-role\/(AWSLambdaVPCAccessExecutionRole|AWSLambdaENIManagementAccess)$/;
export const ENI_ACTIONS = [
  "ec2:CreateNetworkInterface",
  "ec2:DescribeNetworkInterfaces",
  "ec2:DeleteNetworkInterface",
];

const noBroadRolePolicy: PolicyRule = {
  id: "no-broad-role-policy",
  description:
    "Function roles carry no broad AWS managed policy (AdministratorAccess, PowerUserAccess, *FullAccess) and no inline Allow of * actions on *.",
  check(m) {
    const out: RuleViolation[] = [];
    for (const role of functionRoles(m)) {
      for (const a of attachmentsOf(m, role)) {
        const match = BROAD_MANAGED_POLICY.exec(a.policyArn);
        if (match)
          out.push(
            v(
              "no-broad-role-policy",
              a.via,
              `function role ${role.name} has the AWS managed policy ${match[1]} attached (${a.via.name}); detach it and grant explicit inline statements for what the function needs.`,
            ),
          );
      }
      for (const d of inlineDocsOf(m, role)) {
        d.statements.forEach((s, i) => {
          if (s.Effect !== "Allow" || !resourceIsStar(s.Resource)) return;
          const wide =
            s.NotAction !== undefined
              ? "NotAction"
              : list(s.Action).find((a) => a === "*" || /^[\w-]+:\*$/.test(a) || a === "*:*");
          if (wide)
            out.push(
              v(
                "no-broad-role-policy",
                d.via,
                `function role ${role.name} allows ${wide === "NotAction" ? "everything but NotAction" : `"${wide}"`} on * in ${d.via.name} (statement ${s.Sid ?? i}); list the exact actions and resources the function needs.`,
              ),
            );
        });
      }
    }
    return out;
  },
};

const vpcFunctionEniActions: PolicyRule = {
  id: "vpc-function-eni-actions",
  description:
    "A function attached to a VPC has ec2:CreateNetworkInterface, ec2:DescribeNetworkInterfaces and ec2:DeleteNetworkInterface.",
  check(m) {
    const out: RuleViolation[] = [];
    for (const fn of m.all(T.lambda)) {
      if (!inVpc(fn)) continue;
      const role = m.ref(fn, "role", fn.inputs.role, [T.role]);
      if (!role) continue;
      const attachments = attachmentsOf(m, role);
      if (attachments.some((a) => ENI_MANAGED_POLICY.test(a.policyArn))) continue;
      const docs = [...inlineDocsOf(m, role), ...attachments.flatMap((a) => a.docs)];
      if (docs.some((d) => d.unknown)) continue;
      const statements = docs.flatMap((d) => d.statements);
      const missing = ENI_ACTIONS.filter((a) => !allowsAction(statements, a));
      if (missing.length > 0) {
        out.push(
          v(
            "vpc-function-eni-actions",
            fn,
            `VPC function ${fn.name}'s role ${role.name} lacks ${missing.join(", ")}; add an inline statement allowing ${ENI_ACTIONS.join(", ")} on * (Lambda creates the function's ENIs with them).`,
          ),
        );
      }
    }
    return out;
  },
};

const rdsPrivateEncrypted = resourceRule(
  "rds-private-encrypted",
  "RDS instances and clusters are not publicly accessible and are encrypted at rest.",
  rdsProblems,
);

function rdsProblems(r: Res): string[] {
  const msgs: string[] = [];
  if (!/^aws:rds\//.test(r.type)) return msgs;
  const kind = r.type.split(":").pop();
  if (r.inputs.publiclyAccessible === true)
    msgs.push(
      `RDS ${kind} ${r.name} is publicly accessible; set publiclyAccessible: false and reach it from the VPC (or across the Transit Gateway).`,
    );
  const encryptable =
    r.type === "aws:rds/instance:Instance" ||
    r.type === "aws:rds/cluster:Cluster" ||
    r.type === "aws:rds/globalCluster:GlobalCluster";
  // A v1 serverless cluster is always encrypted; a replica inherits its source's encryption.
  const exempt =
    r.inputs.engineMode === "serverless" ||
    r.inputs.replicateSourceDb !== undefined ||
    r.inputs.sourceDbClusterIdentifier !== undefined;
  if (encryptable && !exempt && !isUnknown(r.inputs.storageEncrypted) && r.inputs.storageEncrypted !== true) {
    msgs.push(
      `RDS ${kind} ${r.name} is not encrypted at rest; set storageEncrypted: true (and kmsKeyId for a customer-managed key).`,
    );
  }
  return msgs;
}

const squidConfAndDenyAll = resourceRule(
  "squid-conf-and-deny-all",
  "Every squid.conf http_access allow line ANDs the secret-header ACL with the domain whitelist, and the rules end in http_access deny all.",
  squidProblems,
);

function squidProblems(r: Res): string[] {
  return findSquidConfs(r.inputs).flatMap((conf) =>
    squidConfProblems(conf).map((p) => `squid.conf in ${r.name}: ${p}`),
  );
}

const privateApiSourceVpce: PolicyRule = {
  id: "private-api-source-vpce",
  description:
    "A PRIVATE REST API's resource policy allows execute-api:Invoke only with an aws:SourceVpce condition and explicitly denies every other source.",
  check(m) {
    const out: RuleViolation[] = [];
    const apis = m.all(/apigateway[/:]restApi/i).filter((a) => !/policy/i.test(a.type) && isPrivateApi(a));
    const attachedTypes = /apigateway[/:]restApiPolicy/i;
    for (const api of apis) {
      const sources: { via: Res; policy: unknown }[] = [];
      if (api.inputs.policy !== undefined && api.inputs.policy !== null && api.inputs.policy !== "")
        sources.push({ via: api, policy: api.inputs.policy });
      for (const p of m
        .referrers(attachedTypes, [api.type], (x) => ["restApiId", x.inputs.restApiId], "restApiId")
        .get(api.urn) ?? [])
        sources.push({ via: p, policy: p.inputs.policy });
      if (sources.length === 0) {
        out.push(
          v(
            "private-api-source-vpce",
            api,
            `private API ${api.name} has no resource policy; attach one that allows execute-api:Invoke only with Condition StringEquals aws:SourceVpce <endpoint id> and denies requests with StringNotEquals aws:SourceVpce.`,
          ),
        );
        continue;
      }
      for (const { via, policy } of sources) {
        const doc = parsePolicyDocument(policy);
        if (doc === "unknown") continue;
        const statements = doc ?? [];
        const invoke = (s: Statement) => list(s.Action).some((a) => globMatch(a, "execute-api:Invoke"));
        const allowsWithout = statements
          .map((s, i) => ({ s, i }))
          .filter(({ s }) => s.Effect === "Allow" && invoke(s) && !hasSourceVpceCondition(s.Condition, "equals"));
        for (const { s, i } of allowsWithout) {
          out.push(
            v(
              "private-api-source-vpce",
              via,
              `private API ${api.name}'s resource policy allows execute-api:Invoke without an aws:SourceVpce condition (statement ${s.Sid ?? i}); add Condition StringEquals aws:SourceVpce with the API's VPC endpoint id(s).`,
            ),
          );
        }
        const denies = statements.some(
          (s) => s.Effect === "Deny" && invoke(s) && hasSourceVpceCondition(s.Condition, "notEquals"),
        );
        if (!denies)
          out.push(
            v(
              "private-api-source-vpce",
              via,
              `private API ${api.name}'s resource policy has no explicit Deny for requests from other sources; add a Deny of execute-api:Invoke with Condition StringNotEquals aws:SourceVpce (the endpoint id list).`,
            ),
          );
      }
    }
    return out;
  },
};

const privateDnsVpcAttributes: PolicyRule = {
  id: "private-dns-vpc-attributes",
  description:
    "An interface endpoint with private DNS sits in a VPC with both enableDnsHostnames and enableDnsSupport on.",
  check(m) {
    const out: RuleViolation[] = [];
    for (const ep of m.all(T.endpoint)) {
      if (ep.inputs.vpcEndpointType !== "Interface" || ep.inputs.privateDnsEnabled !== true) continue;
      const vpc = m.ref(ep, "vpcId", ep.inputs.vpcId, [T.vpc]);
      if (!vpc) continue;
      const off: string[] = [];
      if (!isUnknown(vpc.inputs.enableDnsHostnames) && vpc.inputs.enableDnsHostnames !== true)
        off.push("enableDnsHostnames");
      if (vpc.inputs.enableDnsSupport === false) off.push("enableDnsSupport");
      if (off.length > 0) {
        out.push(
          v(
            "private-dns-vpc-attributes",
            ep,
            `interface endpoint ${ep.name} has private DNS on, but VPC ${vpc.name} has ${off.join(" and ")} off, so the service name resolves to public addresses; set ${off.map((a) => `${a}: true`).join(" and ")} on the VPC.`,
          ),
        );
      }
    }
    return out;
  },
};

/** Tag that marks a SquidProxyTier's EIP pool: its EIPs are associated by the instances at boot. */
const POOL_TAG = "vpc-lambda-kit:proxy-pool";

const eipPerNat: PolicyRule = {
  id: "eip-per-nat",
  description:
    "Each public NAT gateway has its own Elastic IP, no EIP is left unused, and the NAT count matches the planned strategy (single, or one per AZ).",
  check(m) {
    const out: RuleViolation[] = [];
    const used = new Set<string>();
    const owner = new Map<string, Res>();
    for (const nat of m.all(T.nat)) {
      if (nat.inputs.connectivityType === "private") continue;
      const alloc = nat.inputs.allocationId;
      const eip = m.ref(nat, "allocationId", alloc, [T.eip]);
      if (!eip && isUnknown(alloc)) continue;
      const key = eip?.urn ?? (typeof alloc === "string" && alloc !== "" ? alloc : undefined);
      if (key === undefined) {
        if (!nat.propertyDeps?.allocationId)
          out.push(
            v(
              "eip-per-nat",
              nat,
              `NAT gateway ${nat.name} has no Elastic IP allocation; give it allocationId (one EIP per NAT, the address the SaaS allowlists).`,
            ),
          );
        continue;
      }
      used.add(key);
      const first = owner.get(key);
      if (first)
        out.push(
          v(
            "eip-per-nat",
            nat,
            `NAT gateways ${first.name} and ${nat.name} share the Elastic IP ${eip?.name ?? key}; give each NAT its own EIP.`,
          ),
        );
      else owner.set(key, nat);
    }
    // Anything else that takes an allocation (eipAssociation, …) or an EIP bound directly to an instance/ENI counts as use.
    for (const r of m.resources) {
      if (r.type === T.nat || r.inputs.allocationId === undefined) continue;
      for (const e of m.refs(r, "allocationId", r.inputs.allocationId, [T.eip])) used.add(e.urn);
    }
    for (const eip of m.all(T.eip)) {
      const tags = (eip.inputs.tags ?? {}) as Record<string, unknown>;
      if (used.has(eip.urn) || POOL_TAG in tags || eip.inputs.instance || eip.inputs.networkInterface) continue;
      out.push(
        v(
          "eip-per-nat",
          eip,
          `Elastic IP ${eip.name} is not used by any NAT gateway (it is billed and may sit on the SaaS allowlist); attach it to a NAT or remove it.`,
        ),
      );
    }
    // Components that record their plan (FixedEgressVpc) must have exactly the planned NATs.
    let natsUnder: Map<string, number> | undefined;
    for (const c of m.resources) {
      const plan = c.inputs.plan as { natGateways?: string; natCount?: number; azCount?: number } | undefined;
      if (
        !plan ||
        typeof plan !== "object" ||
        typeof plan.natCount !== "number" ||
        typeof plan.natGateways !== "string"
      )
        continue;
      const expected = plan.natGateways === "onePerAz" ? plan.azCount : 1;
      natsUnder ??= natsPerAncestor(m);
      const nats = natsUnder.get(c.urn) ?? 0;
      if (expected !== undefined && (nats !== expected || plan.natCount !== expected)) {
        out.push(
          v(
            "eip-per-nat",
            c,
            `${c.name} plans natGateways: ${plan.natGateways} over ${plan.azCount} AZ(s), i.e. ${expected} NAT gateway(s) with one EIP each, but has ${nats}; fix the NAT strategy or the AZ count.`,
          ),
        );
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
    const groups = new Map<string, { att: Res; vpc: Res; cidrs: string[] }[]>();
    for (const att of m.all(/^aws:ec2transitgateway\/vpcAttachment:/)) {
      const tgwValue = att.inputs.transitGatewayId;
      const tgw = m.ref(att, "transitGatewayId", tgwValue, [T.tgw]);
      const key = tgw?.urn ?? (typeof tgwValue === "string" && !isUnknown(tgwValue) ? tgwValue : undefined);
      const vpc = m.ref(att, "vpcId", att.inputs.vpcId, [T.vpc]);
      if (key === undefined || !vpc) continue;
      const extra =
        m.referrers(T.vpcCidr, [T.vpc], (a) => ["vpcId", a.inputs.vpcId], "vpcId", "first").get(vpc.urn) ?? [];
      const cidrs = [vpc.inputs.cidrBlock, ...extra.map((a) => a.inputs.cidrBlock)].filter(
        (c): c is string => typeof c === "string" && !isUnknown(c),
      );
      push(groups, key, { att, vpc, cidrs });
    }
    for (const members of groups.values()) {
      for (let i = 0; i < members.length; i++) {
        for (let j = 0; j < i; j++) {
          const a = members[j],
            b = members[i];
          if (a.vpc.urn === b.vpc.urn) continue;
          const clash = firstOverlap(a.cidrs, b.cidrs);
          if (clash)
            out.push(
              v(
                "tgw-no-cidr-overlap",
                b.att,
                `Transit Gateway attachments ${a.att.name} (VPC ${a.vpc.name} ${clash[0]}) and ${b.att.name} (VPC ${b.vpc.name} ${clash[1]}) overlap, so routes between them are ambiguous; give the VPCs disjoint CIDRs.`,
              ),
            );
        }
      }
    }
    return out;
  },
};

const lambdaPrivateSubnets: PolicyRule = {
  id: "lambda-private-subnets",
  description:
    "Functions attach only to private subnets (whose route table has no internet-gateway route): a Lambda ENI never gets a public IP.",
  check(m) {
    const out: RuleViolation[] = [];
    for (const fn of m.all(T.lambda)) {
      if (!inVpc(fn)) continue;
      const subnetIds = (fn.inputs.vpcConfig as Record<string, unknown>).subnetIds;
      for (const subnet of m.refs(fn, "vpcConfig", subnetIds, [T.subnet])) {
        const table = declaredRouteTableOf(m, subnet);
        const igwRoute = table ? declaredRoutesOf(m, table).find((r) => r.toInternetGateway) : undefined;
        if (table && igwRoute) {
          out.push(
            v(
              "lambda-private-subnets",
              fn,
              `function ${fn.name} uses subnet ${subnet.name}, whose route table ${table.name} sends ${igwRoute.destination} to internet gateway ${igwRoute.target}; attach the function to private subnets only (it gets no public IP there, so it has no internet path).`,
            ),
          );
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
      if (nat.inputs.connectivityType === "private") continue;
      const subnet = m.ref(nat, "subnetId", nat.inputs.subnetId, [T.subnet]);
      if (!subnet) continue;
      const table = declaredRouteTableOf(m, subnet);
      const ok = table
        ? declaredRoutesOf(m, table).some((r) => r.toInternetGateway && r.destination === "0.0.0.0/0")
        : false;
      if (!ok) {
        const where = table
          ? `whose route table ${table.name} has no 0.0.0.0/0 route to an internet gateway`
          : "which has no route table with a 0.0.0.0/0 route to an internet gateway";
        out.push(
          v(
            "nat-public-subnet",
            nat,
            `NAT gateway ${nat.name} is in subnet ${subnet.name}, ${where}; put the NAT in a public subnet.`,
          ),
        );
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

const imdsv2Required = resourceRule(
  "imdsv2-required",
  "Instances and launch templates require IMDSv2 (metadataOptions.httpTokens: required).",
  imdsProblems,
);

function imdsProblems(r: Res): string[] {
  if (!IMDS_TYPES.has(r.type)) return [];
  const raw = r.inputs.metadataOptions;
  const mo = (Array.isArray(raw) ? raw[0] : raw) as Record<string, unknown> | undefined;
  if (
    isUnknown(raw) ||
    (mo && (isUnknown(mo.httpTokens) || mo.httpTokens === "required" || mo.httpEndpoint === "disabled"))
  )
    return [];
  const kind = (r.type.split(":").pop() ?? r.type).replace(/([a-z])([A-Z])/g, "$1 $2").toLowerCase();
  return [
    `${kind} ${r.name} does not require IMDSv2; set metadataOptions.httpTokens to "required" (and httpPutResponseHopLimit: 1).`,
  ];
}

/** A rule that needs nothing but the resource itself: the same `problems` serve the graph and the pack's validateResource. */
function resourceRule(id: string, description: string, problems: (r: Res) => string[]): PolicyRule {
  return {
    id,
    description,
    checkResource: problems,
    check: (m) => m.resources.flatMap((r) => problems(r).map((msg) => v(id, r, msg))),
  };
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
export function runRules(resources: Res[] | GraphModel, rules: PolicyRule[] = POLICY_RULES): RuleViolation[] {
  const model = resources instanceof GraphModel ? resources : new GraphModel(resources);
  return rules.flatMap((r) => r.check(model));
}

// ------------------------------------------------------------------------------------------------
// Small helpers

function inVpc(fn: Res): boolean {
  const vc = fn.inputs.vpcConfig as Record<string, unknown> | undefined;
  if (!vc || typeof vc !== "object") return false;
  const ids = vc.subnetIds;
  return isUnknown(ids) || (Array.isArray(ids) && ids.length > 0);
}

/** How many NAT gateways each resource has among its descendants (up to 64 levels, as deep as the ancestor walk goes). */
function natsPerAncestor(m: GraphModel): Map<string, number> {
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

function firstOverlap(a: string[], b: string[]): [string, string] | undefined {
  for (const x of a) {
    const cx = cidrOf(x);
    if (cx === undefined) continue;
    for (const y of b) {
      const cy = cidrOf(y);
      if (cy !== undefined && cidrsOverlap(cx, cy)) return [x, y];
    }
  }
  return undefined;
}
