/**
 * Create orders AWS requires that data flow alone does not guarantee.
 *
 * Pulumi creates a resource as soon as the resources its inputs come from exist. Some AWS APIs need
 * more: a resource that no input refers to must already exist (an inline role policy, an accepted
 * RAM share, a Lambda permission). Each rule below names the resource that must wait, the resource
 * it must wait for, and the AWS error the wrong order produces. A rule is satisfied when the waiting
 * resource depends on the other one, directly or through other resources (graph.json's
 * `dependencies`: explicit dependsOn plus every resource an input came from).
 *
 * Works on a minimal resource shape so it fits any graph model: {urn, type, name, inputs, dependencies}.
 */
import { T } from "./model/types";

export interface OrderResource {
  urn: string;
  type: string;
  name: string;
  inputs: Record<string, unknown>;
  /** URNs this resource waits for; undefined means the graph did not record them (an old graph.json). */
  dependencies?: string[];
  /** Explicit provider URN (the account a resource lives in); optional, used to tell a TGW owner from a consumer. */
  provider?: string | null;
}

export interface OrderFinding {
  rule: string;
  /** The resource that must be created later. */
  resource: { urn: string; name: string; type: string };
  /** The resource it must wait for; null when no such resource exists in the graph at all. */
  waitsFor: { urn: string; name: string; type: string } | null;
  /** What AWS answers when the order is wrong. */
  awsError: string;
  message: string;
  fix: string;
}

export interface OrderRule {
  id: string;
  /** What AWS answers when the order is wrong, and where that is documented. */
  awsError: string;
  check(g: OrderGraph): OrderFinding[];
}

/** Dependency lookups over one graph. */
export class OrderGraph {
  public readonly byUrn = new Map<string, OrderResource>();
  private readonly closure = new Map<string, Set<string>>();

  constructor(
    public readonly resources: OrderResource[],
    /** Adopted resources (graph.json's `existing: true`): AWS has them already, so nothing waits for them. */
    public readonly existing: (OrderResource & { id?: string })[] = [],
  ) {
    for (const r of resources) this.byUrn.set(r.urn, r);
  }

  public ofType(type: string): OrderResource[] {
    return this.resources.filter((r) => r.type === type);
  }

  /** Every URN `urn` waits for, directly or transitively. */
  public waitsFor(urn: string): Set<string> {
    const cached = this.closure.get(urn);
    if (cached) return cached;
    const seen = new Set<string>();
    const stack = [...(this.byUrn.get(urn)?.dependencies ?? [])];
    while (stack.length > 0) {
      const u = stack.pop() as string;
      if (seen.has(u)) continue;
      seen.add(u);
      for (const d of this.byUrn.get(u)?.dependencies ?? []) stack.push(d);
    }
    this.closure.set(urn, seen);
    return seen;
  }

  public dependsOn(later: OrderResource, earlier: OrderResource): boolean {
    return this.waitsFor(later.urn).has(earlier.urn);
  }

  /** Direct dependencies of `r` of the given type. */
  public directOfType(r: OrderResource, type: string): OrderResource[] {
    return (r.dependencies ?? [])
      .map((u) => this.byUrn.get(u))
      .filter((d): d is OrderResource => d !== undefined && d.type === type);
  }
}

function ref(r: OrderResource): { urn: string; name: string; type: string } {
  return { urn: r.urn, name: r.name, type: r.type };
}

function missing(rule: OrderRule, later: OrderResource, earlier: OrderResource, what: string): OrderFinding {
  return {
    rule: rule.id,
    resource: ref(later),
    waitsFor: ref(earlier),
    awsError: rule.awsError,
    message: `${later.name} (${later.type}) is not ordered after ${earlier.name} (${earlier.type}): ${what}`,
    fix: `add dependsOn: [${earlier.name}] to ${later.name} (or take an input from it)`,
  };
}

/**
 * The finding for `later`, which must wait for one of `candidates`: none of them in the stack (`absent` says what is
 * missing and how to add it), or none it is ordered after (`what` says what may go wrong); undefined when it waits.
 */
function waitForOne(
  rule: OrderRule,
  g: OrderGraph,
  later: OrderResource,
  candidates: OrderResource[],
  what: string,
  absent: { message: string; fix: string },
): OrderFinding | undefined {
  if (candidates.length === 0)
    return { rule: rule.id, resource: ref(later), waitsFor: null, awsError: rule.awsError, ...absent };
  if (!candidates.some((c) => g.dependsOn(later, c))) return missing(rule, later, candidates[0], what);
  return undefined;
}

/** Does an identity policy document (JSON text or object) allow `action` (exact or by a trailing `*`)? */
export function policyGrants(policy: unknown, action: string): boolean {
  let doc: unknown = policy;
  if (typeof policy === "string") {
    try {
      doc = JSON.parse(policy);
    } catch {
      return false;
    }
  }
  const statements = (doc as { Statement?: unknown })?.Statement;
  const list = Array.isArray(statements) ? statements : statements ? [statements] : [];
  return list.some((s: any) => {
    if (s?.Effect !== "Allow") return false;
    const actions: unknown[] = Array.isArray(s.Action) ? s.Action : s.Action !== undefined ? [s.Action] : [];
    return actions.some(
      (a) =>
        typeof a === "string" &&
        new RegExp(`^${a.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*")}$`, "i").test(action),
    );
  });
}

/** Managed policies that carry the ENI permissions a VPC function's role needs. */
const ENI_MANAGED_POLICIES = ["AWSLambdaVPCAccessExecutionRole", "AWSLambdaENIManagementAccess"];

/**
 * A VPC function is created only when its execution role can already manage ENIs.
 * Source: Lambda developer guide, "Giving Lambda functions access to resources in an Amazon VPC"
 * (execution role needs ec2:CreateNetworkInterface, DescribeNetworkInterfaces, DeleteNetworkInterface);
 * CreateFunction answers InvalidParameterValueException otherwise.
 */
const vpcFunctionAfterEniPolicy: OrderRule = {
  id: "vpc-function-after-eni-policy",
  awsError:
    "InvalidParameterValueException: The provided execution role does not have permissions to call CreateNetworkInterface on EC2",
  check(g) {
    const out: OrderFinding[] = [];
    for (const fn of g.ofType(T.lambda)) {
      const vpc = fn.inputs.vpcConfig as { subnetIds?: unknown[] } | undefined;
      if (!vpc || !Array.isArray(vpc.subnetIds) || vpc.subnetIds.length === 0) continue;
      for (const role of g.directOfType(fn, T.role)) {
        const grants = g.resources.filter(
          (p) =>
            (p.dependencies ?? []).includes(role.urn) &&
            ((p.type === T.rolePolicy && policyGrants(p.inputs.policy, "ec2:CreateNetworkInterface")) ||
              (p.type === T.rolePolicyAttachment &&
                ENI_MANAGED_POLICIES.some((m) => String(p.inputs.policyArn ?? "").endsWith(`/${m}`)))),
        );
        const finding = waitForOne(
          this,
          g,
          fn,
          grants,
          "the role may not yet allow ENI management when the function is created",
          {
            message: `${fn.name} runs in a VPC but no policy on role ${role.name} grants ec2:CreateNetworkInterface`,
            fix: `attach a policy granting ec2:CreateNetworkInterface/DescribeNetworkInterfaces/DeleteNetworkInterface to ${role.name} and add it to ${fn.name}'s dependsOn`,
          },
        );
        if (finding) out.push(finding);
      }
    }
    return out;
  },
};

/**
 * An attachment to a TGW shared through RAM by invitation can be made only after the invitation is
 * accepted. Source: Transit Gateway guide, "Sharing a transit gateway" (the shared TGW becomes visible
 * to the consumer account once the share is accepted); CreateTransitGatewayVpcAttachment answers
 * InvalidTransitGatewayID.NotFound before that.
 */
const attachmentAfterShareAccepted: OrderRule = {
  id: "tgw-attachment-after-share-accepted",
  awsError:
    "InvalidTransitGatewayID.NotFound (CreateTransitGatewayVpcAttachment on a TGW whose share is not yet accepted)",
  check(g) {
    const accepters = g.ofType(T.ramAccepter);
    if (accepters.length === 0) return [];
    const out: OrderFinding[] = [];
    for (const att of g.ofType(T.tgwAttachment)) {
      // The owner's attachment is made with the TGW's own provider (account); a consumer's with
      // another, or to a TGW this graph does not hold (another stack's output).
      const tgws = [...g.waitsFor(att.urn)]
        .map((u) => g.byUrn.get(u))
        .filter((t): t is OrderResource => t?.type === T.tgw);
      const ownTgw = tgws.some((t) => (t.provider ?? null) === (att.provider ?? null));
      if (ownTgw) continue;
      if (!accepters.some((a) => g.dependsOn(att, a))) {
        const near = accepters.find((a) => sameParentPrefix(a.urn, att.urn)) ?? accepters[0];
        out.push(missing(this, att, near, "the attachment is to a shared TGW that may not yet be accepted"));
      }
    }
    return out;
  },
};

function sameParentPrefix(a: string, b: string): boolean {
  const parentOf = (u: string) => u.split("::").slice(0, -1).join("::");
  return parentOf(a) === parentOf(b);
}

/**
 * A route to a TGW needs an attachment of the route table's VPC to that TGW. Source: Transit Gateway
 * guide, "Transit gateway attachments to a VPC" (add the route after the attachment is available);
 * CreateRoute answers InvalidTransitGatewayID.NotFound / "route table and network gateway belong to
 * different networks" otherwise.
 */
const tgwRouteAfterAttachment: OrderRule = {
  id: "tgw-route-after-attachment",
  awsError:
    "InvalidTransitGatewayID.NotFound / InvalidParameterValue: route table and network gateway belong to different networks (CreateRoute)",
  check(g) {
    const out: OrderFinding[] = [];
    const attachments = g.ofType(T.tgwAttachment);
    for (const route of g.ofType(T.route)) {
      if (route.inputs.transitGatewayId === undefined) continue;
      // A route added to an adopted table whose VPC an adopted attachment already connects to this TGW.
      const adoptedTable = g.existing.find((r) => r.type === T.routeTable && r.id === route.inputs.routeTableId);
      if (
        adoptedTable &&
        g.existing.some(
          (a) =>
            a.type === T.tgwAttachment &&
            a.inputs.vpcId === adoptedTable.inputs.vpcId &&
            a.inputs.transitGatewayId === route.inputs.transitGatewayId,
        )
      )
        continue;
      const vpcs = new Set(
        g
          .directOfType(route, T.routeTable)
          .flatMap((rt) => g.directOfType(rt, T.vpc))
          .map((v) => v.urn),
      );
      // Attachments of the same VPC; with no VPC known (route table from another stack), any attachment.
      const candidates = attachments.filter(
        (a) => vpcs.size === 0 || g.directOfType(a, T.vpc).some((v) => vpcs.has(v.urn)),
      );
      const finding = waitForOne(
        this,
        g,
        route,
        candidates,
        "the route may be created before its VPC is attached to the TGW",
        {
          message: `${route.name} routes to a transit gateway but no attachment of its VPC is in this stack`,
          fix: `attach the VPC to the TGW (VpcAttachment) and add it to ${route.name}'s dependsOn`,
        },
      );
      if (finding) out.push(finding);
    }
    return out;
  },
};

/**
 * A deployment snapshots the API as it is: it must come after every method, integration and the
 * resource policy of its API. Source: API Gateway REST API reference, CreateDeployment ("The REST API
 * doesn't contain any methods", "No integration defined for method"); API Gateway developer guide,
 * "Create and attach an API Gateway resource policy" (a policy change takes effect on the next
 * deployment; a private API without a policy cannot be deployed).
 */
const deploymentAfterApiParts: OrderRule = {
  id: "apigw-deployment-after-methods-integrations-policy",
  awsError:
    "BadRequestException: The REST API doesn't contain any methods / No integration defined for method / private REST API doesn't have a resource policy attached",
  check(g) {
    const out: OrderFinding[] = [];
    for (const dep of g.ofType(T.apiDeployment)) {
      const api = dep.inputs.restApi;
      const parts = g.resources.filter((r) =>
        r.type === T.apiMethod || r.type === T.apiIntegration
          ? r.inputs.restApi === api
          : r.type === T.restApiPolicy
            ? r.inputs.restApiId === api
            : false,
      );
      for (const p of parts)
        if (!g.dependsOn(dep, p))
          out.push(missing(this, dep, p, "the deployment may snapshot the API before this part exists"));
    }
    return out;
  },
};

/**
 * Access logs and execution logging need the account's CloudWatch role set first. Source: API Gateway
 * developer guide, "Set up CloudWatch logging for REST APIs" (the account-level cloudWatchRoleArn);
 * UpdateStage/CreateStage answers "CloudWatch Logs role ARN must be set in account settings to enable
 * logging" otherwise. Checked only when the stack manages the account setting (apigateway.Account).
 */
const stageAfterAccountRole: OrderRule = {
  id: "apigw-stage-logs-after-account-role",
  awsError: "BadRequestException: CloudWatch Logs role ARN must be set in account settings to enable logging",
  check(g) {
    const accounts = g.ofType(T.apiAccount);
    if (accounts.length === 0) return [];
    const out: OrderFinding[] = [];
    for (const r of g.resources) {
      const logs =
        (r.type === T.apiStage && r.inputs.accessLogSettings !== undefined && r.inputs.accessLogSettings !== null) ||
        (r.type === T.apiMethodSettings &&
          ["INFO", "ERROR"].includes(String((r.inputs.settings as any)?.loggingLevel ?? "")));
      if (!logs) continue;
      if (!accounts.some((a) => g.dependsOn(r, a)))
        out.push(missing(this, r, accounts[0], "logging may be enabled before the account's CloudWatch role is set"));
    }
    return out;
  },
};

/**
 * AppFlow calls the connector Lambda while registering the connector and creating a profile, so the
 * function's resource policy must already let appflow.amazonaws.com invoke it. Source: AppFlow user
 * guide, "Custom connectors" / RegisterConnector (AppFlow needs lambda:InvokeFunction on the function);
 * RegisterConnector / CreateConnectorProfile answer ValidationException (access denied invoking the
 * Lambda) otherwise.
 */
const appflowAfterPermission: OrderRule = {
  id: "appflow-after-lambda-permission",
  awsError:
    "ValidationException: AppFlow is not authorized to invoke the connector Lambda (RegisterConnector / CreateConnectorProfile)",
  check(g) {
    const out: OrderFinding[] = [];
    const perms = g.ofType(T.lambdaPermission).filter((p) => p.inputs.principal === "appflow.amazonaws.com");
    for (const r of g.resources) {
      if (
        r.type !== T.appflowConnector &&
        !(r.type === T.appflowConnectorProfile && r.inputs.connectorType === "CustomConnector")
      )
        continue;
      const finding = waitForOne(this, g, r, perms, "AppFlow may call the connector before it is allowed to", {
        message: `${r.name} uses a custom connector but no Lambda permission lets appflow.amazonaws.com invoke it`,
        fix: "add aws.lambda.Permission for principal appflow.amazonaws.com and add it to dependsOn",
      });
      if (finding) out.push(finding);
    }
    return out;
  },
};

/**
 * A public NAT gateway needs its VPC's internet gateway. Source: VPC user guide, "NAT gateways"
 * (a public NAT gateway in a VPC without an internet gateway fails: "Network vpc-… has no Internet
 * gateway attached").
 */
const natAfterIgw: OrderRule = {
  id: "nat-gateway-after-internet-gateway",
  awsError: "Gateway.NotAttached: Network vpc-… has no Internet gateway attached (NAT gateway goes to failed)",
  check(g) {
    const out: OrderFinding[] = [];
    for (const nat of g.ofType(T.nat)) {
      if (nat.inputs.connectivityType === "private") continue;
      const vpcs = new Set(
        g
          .directOfType(nat, T.subnet)
          .flatMap((s) => g.directOfType(s, T.vpc))
          .map((v) => v.urn),
      );
      const igws = g
        .ofType(T.igw)
        .filter((i) => vpcs.size === 0 || g.directOfType(i, T.vpc).some((v) => vpcs.has(v.urn)));
      if (igws.length > 0 && !igws.some((i) => g.dependsOn(nat, i)))
        out.push(missing(this, nat, igws[0], "the NAT gateway may start before the VPC has an internet gateway"));
    }
    return out;
  },
};

export const ORDER_RULES: OrderRule[] = [
  vpcFunctionAfterEniPolicy,
  attachmentAfterShareAccepted,
  tgwRouteAfterAttachment,
  deploymentAfterApiParts,
  stageAfterAccountRole,
  appflowAfterPermission,
  natAfterIgw,
];

/** Every missing create order in `resources`. A graph without recorded dependencies is one finding. */
export function checkOrder(
  resources: OrderResource[],
  rules: OrderRule[] = ORDER_RULES,
  existing: (OrderResource & { id?: string })[] = [],
): OrderFinding[] {
  const unrecorded = resources.filter((r) => r.dependencies === undefined && !r.type.startsWith("pulumi:"));
  if (unrecorded.length > 0) {
    const r = unrecorded[0];
    return [
      {
        rule: "dependencies-recorded",
        resource: ref(r),
        waitsFor: null,
        awsError: "(none: the check cannot run)",
        message: `graph.json records no dependencies for ${unrecorded.length} resource(s), e.g. ${r.name}`,
        fix: "re-run `npm run synth -- <stack>` with a kit version that records dependencies",
      },
    ];
  }
  const g = new OrderGraph(resources, existing);
  return rules.flatMap((rule) => rule.check(g));
}
