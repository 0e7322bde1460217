import type { Graph } from "../../ops/synth-core";
import { synthForTest } from "../support/graph";
import { evaluate } from "../../ops/check/iam/evaluate";
import { functionFacts } from "../../ops/check/iam/calls";
import {
  allCallFindings,
  callOutcomes,
  graphContext,
  KNOWN_LIMIT_FINDINGS,
  limitFindings,
  orderFindings,
  policyFindings,
} from "./support";
import { oracleDecision } from "./oracle";

/**
 * The evidence checks on one of the repository's stacks, synthesized in this worker: every policy
 * validates, every create order holds, the only limit findings are the known ones, every declared AWS
 * call is allowed and every must-deny call refused, and the oracle agrees with our evaluator on each.
 */
export function describeStackEvidence(stack: string): void {
  describe(`stack ${stack}`, () => {
    let resources: Graph["resources"];
    beforeAll(async () => {
      resources = (await synthForTest(stack)).result.graph.resources;
    });

    test("graph.json records dependencies (explicit and through inputs)", () => {
      const fn = resources.find((r) => r.name === "kintone-sync-fn");
      const names = (fn?.dependencies ?? []).map((u) => u.split("::").pop());
      // dependsOn (the role policy, the log group) and inputs (the role, the security group, the secret).
      expect(names).toEqual(
        expect.arrayContaining([
          "kintone-sync-policy",
          "kintone-sync-logs",
          "kintone-sync-role",
          "kintone-sync-sg",
          "kintone-sync-token",
        ]),
      );
    });

    test("every IAM policy validates against the service authorization reference", () => {
      const found = policyFindings(resources).filter((f) => f.severity !== "info");
      expect(found).toEqual([]);
    });

    test("every create order AWS needs holds", () => {
      expect(orderFindings(resources)).toEqual([]);
    });

    test("the only limit findings are the known real issues", () => {
      const found = limitFindings(resources)
        .map((f) => `${f.resource} ${f.property}`)
        .sort();
      expect(found).toEqual([...KNOWN_LIMIT_FINDINGS].sort());
    });

    test("each handler's declared calls are allowed and its must-deny calls refused", () => {
      expect(allCallFindings(resources)).toEqual([]);
      const evaluated = callOutcomes(resources)
        .flatMap((o) => o.outcomes)
        .filter((o) => o.result);
      // Not vacuous: the cross-account chain and the must-deny requests were evaluated.
      expect(evaluated.filter((o) => o.kind === "call" && o.declared.action === "kms:Decrypt").length).toBe(2);
      expect(evaluated.filter((o) => o.kind === "must-deny").length).toBeGreaterThanOrEqual(20);
    });

    test("iam-simulate agrees with our evaluator on every declared and must-deny call", async () => {
      const disagreements: string[] = [];
      let n = 0;
      for (const { decl, outcomes } of callOutcomes(resources)) {
        const facts = functionFacts(resources, decl.functionName, graphContext(resources));
        for (const o of outcomes) {
          if (!o.request || !o.result) continue;
          // A "*" resource makes iam-simulate run a wildcard simulation; a concrete ENI ARN stands in.
          const resource =
            o.request.resource === "*"
              ? `arn:aws:ec2:ap-northeast-1:${o.request.resourceAccount}:network-interface/eni-0123456789abcdef0`
              : o.request.resource;
          const c = {
            name: `${decl.functionName} ${o.request.action}`,
            request: {
              principal: facts.roleArn,
              action: o.request.action,
              resource,
              resourceAccount: o.request.resourceAccount,
              context: o.request.context,
            },
            policies: { identity: facts.identityPolicies, resource: facts.resourcePolicyFor(resource) },
          };
          const ours = evaluate(c.request, c.policies).decision;
          const oracle = await oracleDecision(c);
          n++;
          if (ours !== oracle)
            disagreements.push(
              `${decl.functionName} ${o.request.action} ${resource}: ours ${ours}, iam-simulate ${oracle}`,
            );
        }
      }
      expect(disagreements).toEqual([]);
      expect(n).toBeGreaterThanOrEqual(30);
    });
  });
}
