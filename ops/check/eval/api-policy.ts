/**
 * API Gateway resource policies: whether a REST API is private, its policy text (a RestApiPolicy
 * resource, else the API's own `policy`), and the verdict for a caller coming through an interface
 * endpoint: the policy must admit that endpoint and only endpoints (an aws:SourceVpce / aws:SourceVpc
 * condition), as API Gateway requires of a private API (AWS docs, "Controlling access to a private
 * API").
 */
import { GraphModel, Res } from "../model/graph";
import { T } from "../model/types";
import { strings } from "../model/values";
import { conditionsHold, coversAction, Statement, statementsOfText } from "./iam";

/** True for a REST API whose endpoint configuration is PRIVATE. */
export function isPrivateApi(api: Res): boolean {
  const ec = api.inputs.endpointConfiguration as Record<string, unknown> | undefined;
  return strings(ec?.types).includes("PRIVATE");
}

export function apiPolicyText(m: GraphModel, api: Res): string | undefined {
  const attached = m
    .all(T.restApiPolicy)
    .find((p) => p.inputs.restApiId === api.id || m.resolve(p.inputs.restApiId, [T.restApi]) === api);
  const text = attached?.inputs.policy ?? api.inputs.policy;
  return typeof text === "string" && text.trim() !== "" ? text : undefined;
}

const VPC_KEYS = ["aws:sourcevpce", "aws:sourcevpc"];

function restrictsVpc(st: Statement): boolean {
  return Object.values(st.Condition ?? {}).some((block) =>
    Object.keys(block ?? {}).some((k) => VPC_KEYS.includes(k.toLowerCase())),
  );
}

/**
 * Whether a Condition has an aws:SourceVpce / aws:SourceVpc key under an equality (StringEquals,
 * StringLike…) or a negated (StringNotEquals, StringNotLike…) operator.
 */
export function hasSourceVpceCondition(cond: Statement["Condition"], kind: "equals" | "notEquals"): boolean {
  if (!cond || typeof cond !== "object") return false;
  for (const [op, body] of Object.entries(cond)) {
    const o = op.toLowerCase();
    const isNot = o.includes("notequals") || o.includes("notlike");
    const fits = kind === "notEquals" ? isNot : !isNot && (o.includes("equals") || o.includes("like"));
    if (!fits || !body || typeof body !== "object") continue;
    if (Object.keys(body).some((k) => VPC_KEYS.includes(k.toLowerCase()))) return true;
  }
  return false;
}

/** Whether the API admits `vpceId` and only endpoints: problem is the first sentence that says otherwise. */
export function privateApiVerdict(
  m: GraphModel,
  api: Res,
  vpceId: string,
  vpcId: string | undefined,
): { problem?: string; admitted: string[]; admitsEndpoint: boolean } {
  const text = apiPolicyText(m, api);
  if (!text)
    return {
      problem: `private API ${api.name} has no resource policy, so API Gateway refuses every invocation`,
      admitted: [],
      admitsEndpoint: false,
    };
  const statements = statementsOfText(text);
  if (!statements)
    return {
      problem: `private API ${api.name}'s resource policy is not valid JSON`,
      admitted: [],
      admitsEndpoint: false,
    };
  const invoke = statements.filter((s) => coversAction(s, "execute-api:Invoke"));
  const allows = invoke.filter((s) => s.Effect === "Allow");
  const denies = invoke.filter((s) => s.Effect === "Deny");
  const decide = (ctx: Record<string, string | undefined>): boolean => {
    if (denies.some((d) => conditionsHold(d, ctx) === true)) return false;
    return allows.some((a) => conditionsHold(a, ctx) !== false);
  };
  const outsider = { "aws:sourcevpce": undefined, "aws:sourcevpc": undefined };
  const otherEndpoint = { "aws:sourcevpce": "vpce-0other0endpoint0", "aws:sourcevpc": "vpc-0other0vpc0" };
  const admitted = [
    ...new Set(
      invoke.flatMap((s) =>
        Object.values(s.Condition ?? {}).flatMap((b) =>
          Object.entries(b ?? {})
            .filter(([k]) => k.toLowerCase() === "aws:sourcevpce")
            .flatMap(([, v]) => (Array.isArray(v) ? v : [v]).map(String)),
        ),
      ),
    ),
  ];
  const admitsEndpoint = decide({ "aws:sourcevpce": vpceId, "aws:sourcevpc": vpcId });
  if (!invoke.some(restrictsVpc) || decide(outsider) || decide(otherEndpoint)) {
    return {
      problem: `private API ${api.name}'s resource policy allows execute-api:Invoke without an aws:SourceVpce condition, so any VPC endpoint, from any account, can invoke it`,
      admitted,
      admitsEndpoint,
    };
  }
  if (!admitsEndpoint) {
    return {
      problem: `private API ${api.name}'s resource policy does not admit interface endpoint ${m.label(vpceId, T.endpoint)} (${vpceId}): its aws:SourceVpce allows ${admitted.join(", ") || "nothing"}`,
      admitted,
      admitsEndpoint,
    };
  }
  return { admitted, admitsEndpoint };
}
