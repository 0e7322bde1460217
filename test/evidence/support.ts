import type { Graph } from "../../ops/synth-core";
import { checkOrder } from "../../ops/check/order";
import { checkLimits } from "../../ops/check/limits";
import { validatePolicy, PolicyFinding } from "../../ops/check/iam/validate";
import { policiesInGraph } from "../../ops/check/iam/graph-policies";
import { callFindings, functionFacts, FunctionAwsCalls, simulateCalls, CallOutcome } from "../../ops/check/iam/calls";
import { awsCalls as kintone } from "../../functions/kintone-sync/aws-calls";
import { awsCalls as saas } from "../../functions/saas-export/aws-calls";
import { awsCalls as dbWriter } from "../../functions/db-writer/aws-calls";
import { awsCalls as pets } from "../../functions/pets-api/aws-calls";
import { awsCalls as appflow } from "../../functions/appflow-connector/aws-calls";

export const DECLARATIONS: FunctionAwsCalls[] = [kintone, saas, dbWriter, pets, appflow];

type Res = Graph["resources"][number];

/** Region and provider -> account, read from the graph's provider resources. */
export function graphContext(resources: Res[]): {
  region: string;
  accountOf: (provider: string | null | undefined) => string;
  defaultTags: (p: string | null | undefined) => Record<string, string>;
} {
  const accounts = new Map<string, string>();
  const tags = new Map<string, Record<string, string>>();
  let region = "";
  for (const r of resources) {
    if (r.type !== "pulumi:providers:aws") continue;
    const ids = JSON.parse(String(r.inputs.allowedAccountIds ?? "[]")) as string[];
    if (ids[0]) accounts.set(r.urn, ids[0]);
    tags.set(r.urn, (JSON.parse(String(r.inputs.defaultTags ?? "{}")) as { tags?: Record<string, string> }).tags ?? {});
    region ||= String(r.inputs.region ?? "");
  }
  const first = [...accounts.values()][0];
  return {
    region,
    accountOf: (p) => (p ? accounts.get(p) : undefined) ?? first,
    defaultTags: (p) => (p ? tags.get(p) : undefined) ?? {},
  };
}

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
  return decls.map((decl) => ({
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
