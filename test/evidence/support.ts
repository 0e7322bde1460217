import type { Graph } from "../../ops/synth-core";
import { checkOrder } from "../../ops/check/order";
import { checkLimits } from "../../ops/check/limits";
import { validatePolicy, PolicyFinding } from "../../ops/check/iam/validate";
import { policiesInGraph } from "../../ops/check/iam/graph-policies";
import { callFindings, functionFacts, FunctionAwsCalls, simulateCalls, CallOutcome } from "../../ops/check/iam/calls";
/** The declarations and the graph glue are the offline check's own (ops/check/evidence.ts). */
import { DECLARATIONS, graphContext } from "../../ops/check/evidence";

export { DECLARATIONS, graphContext };

type Res = Graph["resources"][number];

export interface PolicyFindingAt extends PolicyFinding {
  label: string;
}

export function policyFindings(resources: Res[]): PolicyFindingAt[] {
  const ctx = graphContext(resources);
  return policiesInGraph(resources, ctx).flatMap((p) =>
    validatePolicy(p.document, { kind: p.kind, resourceArn: p.resourceArn, label: p.label }).map((f) => ({
      ...f,
      label: p.label,
    })),
  );
}

export function orderFindings(resources: Res[]) {
  return checkOrder(resources);
}

export function limitFindings(resources: Res[]) {
  const ctx = graphContext(resources);
  return checkLimits(resources, { defaultTags: ctx.defaultTags });
}

export function callOutcomes(
  resources: Res[],
  decls: FunctionAwsCalls[] = DECLARATIONS,
): { decl: FunctionAwsCalls; outcomes: CallOutcome[] }[] {
  const ctx = graphContext(resources);
  // A declaration of a function this stack does not create (prod has no Athena connector) is checked in
  // the stacks that do, as the report's functionsNotInStack says.
  const inStack = (d: FunctionAwsCalls) =>
    resources.some((r) => r.type === "aws:lambda/function:Function" && r.name === `${d.functionName}-fn`);
  return decls.filter(inStack).map((decl) => ({
    decl,
    outcomes: simulateCalls(decl, functionFacts(resources, decl.functionName, ctx)),
  }));
}

export function allCallFindings(resources: Res[], decls: FunctionAwsCalls[] = DECLARATIONS) {
  return callOutcomes(resources, decls).flatMap(({ decl, outcomes }) => callFindings(decl, outcomes));
}

/** A deep copy of the resources, for mutation tests. */
export function cloneResources(resources: Res[]): Res[] {
  return JSON.parse(JSON.stringify(resources));
}

/**
 * Limit findings the kit's own stacks still carry, each a real AWS refusal or risk reported to the
 * maintainers (docs/check-evidence.md lists them). A test fails when one disappears (then drop it
 * here) or a new one appears.
 */
export const KNOWN_LIMIT_FINDINGS: string[] = [
  // None: the security group rule descriptions and the AppFlow flow description were fixed.
];
