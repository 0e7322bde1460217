/**
 * Finds every IAM policy document in a synthesized graph (graph.json resources) and says what kind of
 * policy it is, so validatePolicy and the evaluator see exactly what would be sent to AWS.
 */
import type { PolicyKind } from "./validate";

export interface GraphResourceLike {
  urn: string;
  type: string;
  name: string;
  id?: string;
  inputs: Record<string, unknown>;
  provider?: string | null;
}

export interface FoundPolicy {
  urn: string;
  /** Pulumi resource name, and the input property that holds the document. */
  label: string;
  property: string;
  kind: PolicyKind;
  /** Parsed document (Lambda permissions are rendered as the one statement Lambda stores). */
  document: unknown;
  /** ARN of the resource a resource policy is attached to, when the graph says it. */
  resourceArn?: string;
}

function parse(v: unknown): unknown {
  if (typeof v !== "string") return v;
  try {
    return JSON.parse(v);
  } catch {
    return v; // validatePolicy reports the bad JSON
  }
}

/**
 * The statement Lambda's AddPermission stores in the function's resource policy.
 * Source: Lambda API Reference, AddPermission (Principal, SourceArn -> ArnLike aws:SourceArn,
 * SourceAccount -> StringEquals aws:SourceAccount, PrincipalOrgID -> aws:PrincipalOrgID).
 */
export function lambdaPermissionStatement(
  inputs: Record<string, unknown>,
  region: string,
  account: string,
): Record<string, unknown> {
  const fn = String(inputs.function ?? "");
  const resource = fn.startsWith("arn:") ? fn : `arn:aws:lambda:${region}:${account}:function:${fn}`;
  const principal = String(inputs.principal ?? "");
  const condition: Record<string, Record<string, string>> = {};
  if (inputs.sourceArn !== undefined) condition.ArnLike = { "aws:SourceArn": String(inputs.sourceArn) };
  if (inputs.sourceAccount !== undefined)
    condition.StringEquals = { ...(condition.StringEquals ?? {}), "aws:SourceAccount": String(inputs.sourceAccount) };
  if (inputs.principalOrgId !== undefined)
    condition.StringEquals = { ...(condition.StringEquals ?? {}), "aws:PrincipalOrgID": String(inputs.principalOrgId) };
  const statement: Record<string, unknown> = {
    Effect: "Allow",
    Principal: principal.endsWith(".amazonaws.com")
      ? { Service: principal }
      : principal === "*"
        ? "*"
        : { AWS: principal },
    Action: inputs.action,
    Resource: resource,
  };
  if (Object.keys(condition).length > 0) statement.Condition = condition;
  return { Version: "2012-10-17", Statement: [statement] };
}

/** Every policy document the graph's resources carry. `accountOf` maps a provider URN to its account id. */
export function policiesInGraph(
  resources: GraphResourceLike[],
  opts: { region: string; accountOf: (provider: string | null | undefined) => string },
): FoundPolicy[] {
  const out: FoundPolicy[] = [];
  const buckets = new Map<string, string>();
  for (const r of resources) {
    const base = { urn: r.urn, label: r.name };
    /** The document in the resource's `policy` input; `arn` (resource policies) names what it governs. */
    const policyInput = (kind: PolicyKind, arn?: { resourceArn: string | undefined }) =>
      out.push({ ...base, property: "policy", kind, document: parse(r.inputs.policy), ...arn });
    switch (r.type) {
      case "aws:iam/role:Role":
        if (r.inputs.assumeRolePolicy !== undefined)
          out.push({
            ...base,
            property: "assumeRolePolicy",
            kind: "trust",
            document: parse(r.inputs.assumeRolePolicy),
          });
        for (const [i, p] of ((r.inputs.inlinePolicies as { policy?: unknown }[] | undefined) ?? []).entries()) {
          if (p.policy !== undefined)
            out.push({ ...base, property: `inlinePolicies[${i}].policy`, kind: "identity", document: parse(p.policy) });
        }
        break;
      case "aws:iam/rolePolicy:RolePolicy":
      case "aws:iam/policy:Policy":
      case "aws:iam/userPolicy:UserPolicy":
        policyInput("identity");
        break;
      case "aws:secretsmanager/secretPolicy:SecretPolicy":
        policyInput("resource", { resourceArn: String(r.inputs.secretArn ?? "") || undefined });
        break;
      case "aws:kms/key:Key":
        if (r.inputs.policy !== undefined)
          policyInput("resource", {
            resourceArn:
              r.id && /^[0-9a-f-]{36}$/.test(r.id)
                ? `arn:aws:kms:${opts.region}:${opts.accountOf(r.provider)}:key/${r.id}`
                : undefined,
          });
        break;
      case "aws:s3/bucketPolicy:BucketPolicy": {
        const bucket = String(r.inputs.bucket ?? "");
        buckets.set(r.urn, bucket);
        policyInput("resource", { resourceArn: bucket ? `arn:aws:s3:::${bucket}` : undefined });
        break;
      }
      case "aws:apigateway/restApiPolicy:RestApiPolicy":
        policyInput("resource");
        break;
      case "aws:lambda/permission:Permission":
        out.push({
          ...base,
          property: "(AddPermission statement)",
          kind: "resource",
          document: lambdaPermissionStatement(r.inputs, opts.region, opts.accountOf(r.provider)),
        });
        break;
      default:
        break;
    }
  }
  return out;
}
