/**
 * The independent oracle for ops/check/iam/evaluate.ts: @cloud-copilot/iam-simulate (AGPL-3.0,
 * a devDependency used only here, in tests; never imported by ops/ or components/).
 */
import { runSimulation } from "@cloud-copilot/iam-simulate";
import type { Decision, EvalPolicies, EvalRequest } from "../../ops/check/iam/evaluate";
import { principalAccount } from "../../ops/check/iam/evaluate";

export interface OracleCase {
  name: string;
  request: EvalRequest;
  policies: EvalPolicies;
}

function parse(v: unknown): unknown {
  return typeof v === "string" ? JSON.parse(v) : v;
}

/** The oracle's decision, with the same context our evaluator derives (aws:PrincipalArn/Account). */
export async function oracleDecision(c: OracleCase): Promise<Decision | string> {
  const ctx: Record<string, string | string[]> = { ...(c.request.context ?? {}) };
  const acct = principalAccount(c.request.principal);
  if (acct !== undefined) {
    if (!Object.keys(ctx).some((k) => k.toLowerCase() === "aws:principalarn"))
      ctx["aws:PrincipalArn"] = c.request.principal;
    if (!Object.keys(ctx).some((k) => k.toLowerCase() === "aws:principalaccount")) ctx["aws:PrincipalAccount"] = acct;
  }
  const result = await runSimulation(
    {
      request: {
        principal: c.request.principal,
        action: c.request.action,
        resource: { resource: c.request.resource, accountId: c.request.resourceAccount },
        contextVariables: ctx,
      },
      identityPolicies: c.policies.identity.map((p, i) => ({ name: `identity-${i}`, policy: parse(p) })),
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      ...(c.policies.resource !== undefined ? { resourcePolicy: parse(c.policies.resource) } : {}),
    },
    { simulationMode: "Strict" },
  );
  if (result.resultType === "error") return `oracle error: ${result.errors.message}`;
  if (result.resultType === "single") return result.overallResult;
  return `oracle returned ${result.resultType}`;
}
