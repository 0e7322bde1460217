/**
 * IAM policy documents as the checker reads them: one statement type, one parser, the wildcard
 * match IAM applies to actions and to StringLike conditions, and the small evaluations the checks
 * need (does a statement cover an action, do its conditions hold for a request, does a set of
 * statements allow an action). Identity-policy simulation over whole roles lives apart, in
 * ops/check/iam/; this module is the shared reading of a document.
 *
 * Semantics follow the IAM policy reference (AWS docs, "IAM JSON policy elements"): `*` matches any
 * run of characters and `?` one character, case-insensitively for actions; an explicit Deny wins.
 */
import { GraphModel, Res } from "../model/graph";
import { T } from "../model/types";
import { isUnknown, strings, UNKNOWN } from "../model/values";

export interface Statement {
  Sid?: string;
  Effect?: string;
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: string | string[];
  NotResource?: string | string[];
  Principal?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

/** A document's Statement as a list (a single statement object is allowed). */
function statementList(doc: unknown): Statement[] | "unknown" {
  const st = (doc as { Statement?: unknown } | null | undefined)?.Statement;
  if (st === undefined || st === null) return [];
  if (isUnknown(st)) return "unknown";
  return (Array.isArray(st) ? st : [st]) as Statement[];
}

/**
 * A policy document (JSON text or an object) as statements; "unknown" when it cannot be read yet
 * (policy pack during preview); undefined when absent or not JSON.
 */
export function parsePolicyDocument(policy: unknown): Statement[] | "unknown" | undefined {
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
  return statementList(doc);
}

/** The statements of a policy's JSON text as synthesized (graph.json); undefined when it is not JSON. */
export function statementsOfText(text: string): Statement[] | undefined {
  try {
    const st = statementList(JSON.parse(text));
    return st === "unknown" ? [] : st;
  } catch {
    return undefined;
  }
}

/** IAM wildcard match (`*` any run, `?` one character), case-insensitive. */
export function globMatch(pattern: string, value: string): boolean {
  const re = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, "\\$&")
      .replace(/\*/g, ".*")
      .replace(/\?/g, ".")}$`,
    "i",
  );
  return re.test(value);
}

/** Every string of an Action / Resource / condition value. */
export function list(value: unknown): string[] {
  return strings(value);
}

/** Whether a statement's Action (or NotAction) covers `action`. */
export function coversAction(st: Statement, action: string): boolean {
  if (st.NotAction !== undefined) return !list(st.NotAction).some((a) => globMatch(a, action));
  return list(st.Action).some((a) => globMatch(a, action));
}

/** True when the statement's Resource is exactly "*" (or lists it). */
export function resourceIsStar(r: unknown): boolean {
  return list(r).includes("*");
}

/**
 * Whether a set of identity statements allows `action` on "*": some Allow covers it and no
 * unconditional Deny on "*" does.
 */
export function allowsAction(statements: Statement[], action: string): boolean {
  const match = (s: Statement) =>
    list(s.Action).some((a) => globMatch(a, action)) ||
    (s.NotAction !== undefined && !list(s.NotAction).some((a) => globMatch(a, action)));
  const allowed = statements.some((s) => s.Effect === "Allow" && match(s));
  const denied = statements.some((s) => s.Effect === "Deny" && match(s) && resourceIsStar(s.Resource) && !s.Condition);
  return allowed && !denied;
}

/**
 * Whether a statement's conditions hold for a request whose context keys (lower case) are `ctx`;
 * undefined when a key or operator the checker does not model decides. A key absent from the
 * request (value undefined) satisfies only ...IfExists and the negated string operators.
 */
export function conditionsHold(st: Statement, ctx: Record<string, string | undefined>): boolean | undefined {
  let unknown = false;
  for (const [op, block] of Object.entries(st.Condition ?? {})) {
    for (const [key, raw] of Object.entries(block ?? {})) {
      const k = key.toLowerCase();
      if (!(k in ctx)) {
        unknown = true;
        continue;
      }
      const values = (Array.isArray(raw) ? raw : [raw]).map(String);
      const actual = ctx[k];
      const base = op.replace(/^ForAnyValue:|^ForAllValues:/, "").replace(/IfExists$/, "");
      let ok: boolean;
      if (actual === undefined) ok = op.endsWith("IfExists") || base.startsWith("StringNot");
      else if (base === "StringEquals" || base === "StringEqualsIgnoreCase") ok = values.some((v) => v === actual);
      else if (base === "StringLike") ok = values.some((v) => globMatch(v, actual));
      else if (base === "StringNotEquals" || base === "StringNotEqualsIgnoreCase")
        ok = !values.some((v) => v === actual);
      else if (base === "StringNotLike") ok = !values.some((v) => globMatch(v, actual));
      else {
        unknown = true;
        continue;
      }
      if (!ok) return false;
    }
  }
  return unknown ? undefined : true;
}

// ------------------------------------------------------------------------------------------------
// A role's identity policies

export interface Doc {
  via: Res;
  statements: Statement[];
  unknown: boolean;
}

export function docFrom(via: Res, policy: unknown): Doc {
  const parsed = parsePolicyDocument(policy);
  return { via, statements: Array.isArray(parsed) ? parsed : [], unknown: parsed === "unknown" };
}

/** Roles that run functions: trusted by lambda.amazonaws.com, or referenced by a function. */
export function functionRoles(m: GraphModel): Res[] {
  const out = new Map<string, Res>();
  for (const r of m.all(T.role)) {
    const trust = r.inputs.assumeRolePolicy;
    const text = typeof trust === "string" ? trust : JSON.stringify(trust ?? "");
    if (text.includes("lambda.amazonaws.com")) out.set(r.urn, r);
  }
  for (const fn of m.all(T.lambda)) {
    const role = m.ref(fn, "role", fn.inputs.role, [T.role]);
    if (role) out.set(role.urn, role);
  }
  return [...out.values()];
}

/** Inline documents of a role: RolePolicy resources and the role's own inlinePolicies. */
export function inlineDocsOf(m: GraphModel, role: Res): Doc[] {
  const docs: Doc[] = [];
  const byRole = m.referrers(T.rolePolicy, [T.role], (p) => ["role", p.inputs.role], "role");
  for (const p of byRole.get(role.urn) ?? []) docs.push(docFrom(p, p.inputs.policy));
  const inline = role.inputs.inlinePolicies;
  if (Array.isArray(inline)) for (const ip of inline) docs.push(docFrom(role, (ip as Record<string, unknown>)?.policy));
  return docs;
}

export interface Attachment {
  policyArn: string;
  via: Res;
  /** The document of a customer managed policy defined in the same stack. */
  docs: Doc[];
}

export const ATTACHMENT_TYPES = /^aws:iam\/(rolePolicyAttachment|policyAttachment):/;

/** Managed policies attached to a role, by attachment resources or the role's managedPolicyArns. */
export function attachmentsOf(m: GraphModel, role: Res): Attachment[] {
  const out: Attachment[] = [];
  const add = (arn: unknown, via: Res, from: Res) => {
    if (typeof arn !== "string" || isUnknown(arn)) return;
    const policy = m.ref(from, "policyArn", arn, [T.policy]);
    out.push({ policyArn: arn, via, docs: policy ? [docFrom(policy, policy.inputs.policy)] : [] });
  };
  const byRole = m.referrers(
    ATTACHMENT_TYPES,
    [T.role],
    (a) => (a.inputs.role !== undefined ? ["role", a.inputs.role] : ["roles", a.inputs.roles]),
    "role|roles",
  );
  for (const a of byRole.get(role.urn) ?? []) add(a.inputs.policyArn, a, a);
  for (const arn of strings(role.inputs.managedPolicyArns)) add(arn, role, role);
  return out;
}
