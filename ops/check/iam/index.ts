/**
 * IAM evidence for the check report: policy validation against the AWS service authorization
 * reference, the kit's own policy evaluator, and per-handler declared calls (docs/check-evidence.md).
 */
export { validatePolicy, resourceFitsPattern } from "./validate";
export type { PolicyContext, PolicyFinding, PolicyKind, Severity } from "./validate";
export { policiesInGraph, lambdaPermissionStatement } from "./graph-policies";
export type { FoundPolicy, GraphResourceLike } from "./graph-policies";
export { evaluate, principalAccount } from "./evaluate";
export type { Decision, EvalPolicies, EvalRequest, EvalResult } from "./evaluate";
export { callFindings, functionFacts, resolveCall, simulateCalls } from "./calls";
export type { CallFinding, CallOutcome, DeclaredCall, FunctionAwsCalls, FunctionFacts, ResolvedCall } from "./calls";
