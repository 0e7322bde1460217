/**
 * The kit's own IAM policy evaluation for one request: identity policies of the caller plus the
 * resource policy of the target, same-account and cross-account, KMS key policies, explicit deny.
 * No SCPs, RCPs, permission boundaries, session policies or VPC endpoint policies: the kit creates
 * none (docs/check-evidence.md says what stays unverified).
 *
 * Source: IAM User Guide, "Policy evaluation logic" and "Cross-account policy evaluation logic";
 * AWS KMS Developer Guide, "Key policies" (a key policy is required: identity policies count only
 * when the key policy allows the account) and "kms:ViaService".
 */
import { globToRegExp } from "./catalogue";

export interface EvalRequest {
  /** The caller: an IAM role/user ARN, or a service principal such as "appflow.amazonaws.com". */
  principal: string;
  action: string;
  resource: string;
  /** Account that owns the resource. */
  resourceAccount: string;
  /**
   * Request context keys (aws:SourceVpce, kms:ViaService, aws:SecureTransport, s3:prefix…).
   * aws:PrincipalArn and aws:PrincipalAccount are filled from `principal` when absent.
   */
  context?: Record<string, string | string[]>;
}

export interface EvalPolicies {
  /** Policy documents attached to the caller (JSON text or parsed); none for a service principal. */
  identity: unknown[];
  /** The target's resource policy (secret, key, bucket, REST API, Lambda function), if any. */
  resource?: unknown;
}

export type Decision = "Allowed" | "ExplicitlyDenied" | "ImplicitlyDenied";

export interface EvalResult {
  decision: Decision;
  /** Identity policies alone. */
  identity: Decision;
  /** Resource policy alone; "Allowed" also when it allows only the caller's whole account. */
  resource: Decision;
  sameAccount: boolean;
  /** Why, in a sentence per deciding step. */
  reasons: string[];
}

type Statement = Record<string, any>;

function statements(doc: unknown): Statement[] {
  let d: any = doc;
  if (typeof doc === "string") d = JSON.parse(doc);
  if (!d || d.Statement === undefined) return [];
  return Array.isArray(d.Statement) ? d.Statement : [d.Statement];
}

function list(v: unknown): unknown[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

const IAM_ARN = /^arn:aws[a-z-]*:(?:iam|sts)::(\d{12}):/;

/** Account of an IAM principal ARN; undefined for a service principal. */
export function principalAccount(principal: string): string | undefined {
  return IAM_ARN.exec(principal)?.[1];
}

function matchesAction(s: Statement, action: string): boolean {
  const hit = (pats: unknown[]) => pats.some((p) => typeof p === "string" && globToRegExp(p, true).test(action));
  if (s.Action !== undefined) return hit(list(s.Action));
  if (s.NotAction !== undefined) return !hit(list(s.NotAction));
  return false;
}

function matchesResource(s: Statement, resource: string): boolean {
  const hit = (pats: unknown[]) => pats.some((p) => typeof p === "string" && globToRegExp(p, false).test(resource));
  if (s.Resource !== undefined) return hit(list(s.Resource));
  if (s.NotResource !== undefined) return !hit(list(s.NotResource));
  // Trust and some resource policies omit Resource: the statement covers the resource it is attached to.
  return true;
}

type PrincipalMatch = "exact" | "account" | "none";

/** How a resource policy statement's Principal matches the caller. Source: IAM User Guide, Principal element. */
function matchesPrincipal(s: Statement, principal: string): PrincipalMatch {
  if (s.NotPrincipal !== undefined)
    throw new Error("NotPrincipal is not evaluated by the kit's checker (the kit never writes it)");
  const p = s.Principal;
  if (p === undefined) return "none";
  if (p === "*") return "exact";
  const acct = principalAccount(principal);
  let best: PrincipalMatch = "none";
  for (const [kind, values] of Object.entries(p as Record<string, unknown>)) {
    for (const v of list(values)) {
      if (typeof v !== "string") continue;
      if (v === "*") return "exact";
      if (kind === "Service" && v === principal) return "exact";
      if (kind === "AWS") {
        if (v === principal) return "exact";
        if (acct !== undefined && (v === acct || v === `arn:aws:iam::${acct}:root`)) best = "account";
      }
    }
  }
  return best;
}

// ---------- conditions (IAM User Guide, "IAM JSON policy elements: Condition operators") ----------

function contextValue(ctx: Record<string, string | string[]>, key: string): string[] | undefined {
  const k = Object.keys(ctx).find((c) => c.toLowerCase() === key.toLowerCase());
  if (k === undefined) return undefined;
  return list(ctx[k]).map(String);
}

function ipInCidr(ip: string, cidr: string): boolean {
  const toInt = (a: string) => a.split(".").reduce((n, o) => n * 256 + Number(o), 0);
  const [base, bitsText] = cidr.includes("/") ? cidr.split("/") : [cidr, "32"];
  const bits = Number(bitsText);
  if (!/^\d+\.\d+\.\d+\.\d+$/.test(ip) || !/^\d+\.\d+\.\d+\.\d+$/.test(base)) return false;
  const size = 2 ** (32 - bits);
  return Math.floor(toInt(ip) / size) === Math.floor(toInt(base) / size);
}

/** One value against one policy value, for the operator without Not/IfExists/set prefixes. */
function valueMatches(op: string, actual: string, wanted: string): boolean {
  switch (op) {
    case "StringEquals":
      return actual === wanted;
    case "StringEqualsIgnoreCase":
      return actual.toLowerCase() === wanted.toLowerCase();
    case "StringLike":
      return globToRegExp(wanted, false).test(actual);
    // ArnEquals and ArnLike compare the same way: each of the six ARN fields, wildcards allowed.
    case "ArnEquals":
    case "ArnLike": {
      const a = actual.split(":");
      const w = wanted.split(":");
      if (a.length < 6 || w.length < 6) return false;
      const aFields = [...a.slice(0, 5), a.slice(5).join(":")];
      const wFields = [...w.slice(0, 5), w.slice(5).join(":")];
      return wFields.every((f, i) => globToRegExp(f, false).test(aFields[i]));
    }
    case "Bool":
      return actual.toLowerCase() === wanted.toLowerCase();
    case "IpAddress":
      return ipInCidr(actual, wanted);
    case "NumericEquals":
      return Number(actual) === Number(wanted);
    case "NumericLessThan":
      return Number(actual) < Number(wanted);
    case "NumericLessThanEquals":
      return Number(actual) <= Number(wanted);
    case "NumericGreaterThan":
      return Number(actual) > Number(wanted);
    case "NumericGreaterThanEquals":
      return Number(actual) >= Number(wanted);
    default:
      throw new Error(`condition operator ${op} is not evaluated by the kit's checker`);
  }
}

const NEGATED: Record<string, string> = {
  StringNotEquals: "StringEquals",
  StringNotEqualsIgnoreCase: "StringEqualsIgnoreCase",
  StringNotLike: "StringLike",
  ArnNotEquals: "ArnEquals",
  ArnNotLike: "ArnLike",
  NotIpAddress: "IpAddress",
  NumericNotEquals: "NumericEquals",
};

function conditionHolds(
  opText: string,
  key: string,
  wantedRaw: unknown,
  ctx: Record<string, string | string[]>,
): boolean {
  let op = opText;
  let set: "any" | "all" | undefined;
  if (op.startsWith("ForAnyValue:")) {
    set = "any";
    op = op.slice(12);
  }
  if (op.startsWith("ForAllValues:")) {
    set = "all";
    op = op.slice(13);
  }
  const ifExists = op.endsWith("IfExists");
  if (ifExists) op = op.slice(0, -8);
  const actual = contextValue(ctx, key);
  const wanted = list(wantedRaw).map(String);
  if (op === "Null") return wanted.some((w) => (w.toLowerCase() === "true") === (actual === undefined));
  if (actual === undefined) {
    if (ifExists) return true;
    // A missing key fails a positive operator; ForAllValues over an empty set holds; a negated
    // operator over a missing key holds (there is nothing equal to exclude).
    if (set === "all") return true;
    return NEGATED[op] !== undefined && set !== "any";
  }
  const negated = NEGATED[op] !== undefined;
  const base = NEGATED[op] ?? op;
  const one = (v: string) => wanted.some((w) => valueMatches(base, v, w));
  if (set === "all") return actual.every((v) => (negated ? !one(v) : one(v)));
  if (set === "any") return actual.some((v) => (negated ? !one(v) : one(v)));
  // Single-valued key: the (first) value matches any of the policy's values; negated: none of them.
  return negated ? !actual.some(one) : actual.some(one);
}

function matchesConditions(s: Statement, ctx: Record<string, string | string[]>): boolean {
  if (s.Condition === undefined) return true;
  return Object.entries(s.Condition as Record<string, Record<string, unknown>>).every(([op, block]) =>
    Object.entries(block).every(([key, wanted]) => conditionHolds(op, key, wanted, ctx)),
  );
}

function label(s: Statement, i: number): string {
  return s.Sid ? `"${s.Sid}"` : `statement ${i}`;
}

/** Evaluates one request. Throws only on constructs the kit never writes (NotPrincipal, unknown operators). */
export function evaluate(req: EvalRequest, policies: EvalPolicies): EvalResult {
  const callerAccount = principalAccount(req.principal);
  const ctx: Record<string, string | string[]> = { ...(req.context ?? {}) };
  if (callerAccount !== undefined) {
    if (contextValue(ctx, "aws:PrincipalArn") === undefined) ctx["aws:PrincipalArn"] = req.principal;
    if (contextValue(ctx, "aws:PrincipalAccount") === undefined) ctx["aws:PrincipalAccount"] = callerAccount;
  }
  const sameAccount = callerAccount === req.resourceAccount;
  const reasons: string[] = [];
  const isKms = req.action.toLowerCase().startsWith("kms:");

  // Identity policies.
  let idAllow = false;
  let idDeny = false;
  policies.identity.forEach((doc, d) =>
    statements(doc).forEach((s, i) => {
      if (!matchesAction(s, req.action) || !matchesResource(s, req.resource) || !matchesConditions(s, ctx)) return;
      if (s.Effect === "Deny") {
        idDeny = true;
        reasons.push(`identity policy ${d} ${label(s, i)} denies`);
      }
      if (s.Effect === "Allow") {
        idAllow = true;
        reasons.push(`identity policy ${d} ${label(s, i)} allows`);
      }
    }),
  );

  // Resource policy.
  let resExact = false;
  let resAccount = false;
  let resDeny = false;
  if (policies.resource !== undefined)
    statements(policies.resource).forEach((s, i) => {
      const pm = matchesPrincipal(s, req.principal);
      if (
        pm === "none" ||
        !matchesAction(s, req.action) ||
        !matchesResource(s, req.resource) ||
        !matchesConditions(s, ctx)
      )
        return;
      if (s.Effect === "Deny") {
        resDeny = true;
        reasons.push(`resource policy ${label(s, i)} denies`);
      }
      if (s.Effect === "Allow") {
        if (pm === "exact") resExact = true;
        else resAccount = true;
        reasons.push(`resource policy ${label(s, i)} allows ${pm === "exact" ? "the caller" : "the caller's account"}`);
      }
    });

  const identity: Decision = idDeny ? "ExplicitlyDenied" : idAllow ? "Allowed" : "ImplicitlyDenied";
  const resource: Decision = resDeny ? "ExplicitlyDenied" : resExact || resAccount ? "Allowed" : "ImplicitlyDenied";
  let decision: Decision;
  if (idDeny || resDeny) decision = "ExplicitlyDenied";
  else if (callerAccount === undefined) {
    // A service principal has no identity policies: only the resource policy can allow it.
    decision = resExact ? "Allowed" : "ImplicitlyDenied";
    if (!resExact) reasons.push("no resource policy statement names this service");
  } else if (isKms) {
    // The key policy must allow: the caller directly, or the account (then an identity policy must allow too).
    if (policies.resource === undefined) reasons.push("a KMS key always has a key policy: pass it");
    decision = (sameAccount && resExact) || ((resExact || resAccount) && idAllow) ? "Allowed" : "ImplicitlyDenied";
    if (decision !== "Allowed")
      reasons.push(
        resExact || resAccount
          ? "the key policy allows only through IAM and no identity policy allows"
          : "the key policy does not allow the caller",
      );
  } else if (sameAccount) {
    decision = idAllow || resExact ? "Allowed" : "ImplicitlyDenied";
    if (decision !== "Allowed") reasons.push("neither an identity policy nor the resource policy allows the caller");
  } else {
    decision = idAllow && (resExact || resAccount) ? "Allowed" : "ImplicitlyDenied";
    if (!idAllow) reasons.push("cross-account: the caller's identity policies do not allow it");
    if (!(resExact || resAccount))
      reasons.push("cross-account: the resource policy does not allow the caller or its account");
  }
  return { decision, identity, resource, sameAccount, reasons };
}
