/**
 * Least privilege by simulation. Each handler declares the AWS calls it makes and calls it must never
 * be able to make (functions/<name>/aws-calls.ts); this module resolves them against a synthesized
 * graph (the function's environment, role, account, the target's resource policy and KMS key) and
 * evaluates every one with evaluate.ts. A declared call that is denied, or a must-deny call that is
 * allowed, is a finding.
 */
import { evaluate, EvalResult } from "./evaluate";
import type { GraphResourceLike } from "./graph-policies";

/**
 * One AWS request a handler makes (or must not be able to make). `resource` and `context` values are
 * templates:
 *   ${env:NAME}       the function's environment variable NAME
 *   ${region}         the function's region;  ${account}  its account
 *   ${logGroup}       the function's log group name (loggingConfig.logGroup)
 *   ${keyOf:NAME}     ARN of the customer managed KMS key encrypting the secret whose ARN is in env NAME
 *   ${accountOf:NAME} the account in the ARN held by env NAME
 *   ${profile}        the AppFlow connector profile name of this stack
 */
export interface DeclaredCall {
  action: string;
  resource: string;
  context?: Record<string, string>;
  /** Why the handler makes it (or why it must be refused). */
  why: string;
  /** Only when the environment variable has this value (e.g. DB_ACCESS=data-api). */
  when?: { env: string; equals: string };
}

export interface FunctionAwsCalls {
  /** The Pulumi name of the VpcFunction component (e.g. "kintone-sync"). */
  functionName: string;
  calls: DeclaredCall[];
  mustDeny: DeclaredCall[];
}

export interface ResolvedCall {
  action: string;
  resource: string;
  resourceAccount: string;
  context: Record<string, string>;
}

export interface CallOutcome {
  kind: "call" | "must-deny";
  declared: DeclaredCall;
  /** Undefined when the call does not apply (its `when` is false) or cannot be resolved. */
  request?: ResolvedCall;
  skipped?: string;
  /** The call does not apply to this stack (its `when` is false, or the secret has no customer managed key). */
  notApplicable?: boolean;
  result?: EvalResult;
}

export interface CallFinding {
  functionName: string;
  kind: "denied-call" | "allowed-must-deny" | "unresolved";
  action: string;
  resource: string;
  problem: string;
  fix: string;
}

/** What the graph says about one function, for template resolution and evaluation. */
export interface FunctionFacts {
  functionName: string;
  roleArn: string;
  region: string;
  account: string;
  env: Record<string, string>;
  logGroup?: string;
  profile?: string;
  identityPolicies: unknown[];
  /** Resource policy of a target ARN, if the graph holds one. */
  resourcePolicyFor(arn: string): unknown | undefined;
  /** The CMK ARN that encrypts a secret, if customer managed and known. */
  keyOf(secretArn: string): string | undefined;
}

function accountOfArn(arn: string): string | undefined {
  return /^arn:[^:]*:[^:]*:[^:]*:(\d{12}):/.exec(arn)?.[1];
}

/** A template that names something this stack does not have by design (not a broken declaration). */
class NotApplicable extends Error {}

function fill(template: string, f: FunctionFacts): string {
  return template.replace(/\$\{([a-zA-Z]+)(?::([A-Z0-9_]+))?\}/g, (whole, kind: string, arg?: string) => {
    const need = (v: string | undefined, what: string) => {
      if (v === undefined || v === "") throw new Error(`${whole}: ${what} is not known for ${f.functionName}`);
      return v;
    };
    switch (kind) {
      case "env":
        return need(f.env[arg ?? ""], `environment variable ${arg}`);
      case "region":
        return f.region;
      case "account":
        return f.account;
      case "logGroup":
        return need(f.logGroup, "the log group");
      case "profile":
        return need(f.profile, "the AppFlow connector profile");
      case "keyOf": {
        const key = f.keyOf(need(f.env[arg ?? ""], `environment variable ${arg}`));
        // The AWS managed key (aws/secretsmanager) lets every principal of the account decrypt through
        // Secrets Manager; there is no key policy of the kit's to check.
        if (key === undefined) throw new NotApplicable(`the secret in ${arg} uses the AWS managed key`);
        return key;
      }
      case "accountOf":
        return need(accountOfArn(need(f.env[arg ?? ""], `environment variable ${arg}`)), `the account of ${arg}`);
      default:
        throw new Error(`unknown template ${whole}`);
    }
  });
}

export function resolveCall(
  call: DeclaredCall,
  f: FunctionFacts,
): ResolvedCall | { skipped: string; notApplicable: boolean } {
  if (call.when && f.env[call.when.env] !== call.when.equals)
    return { skipped: `${call.when.env} is not ${call.when.equals}`, notApplicable: true };
  try {
    const resource = fill(call.resource, f);
    const context = Object.fromEntries(Object.entries(call.context ?? {}).map(([k, v]) => [k, fill(v, f)]));
    return {
      action: call.action,
      resource,
      resourceAccount: accountOfArn(resource) ?? (resource.startsWith("arn:aws:s3:::") ? f.account : f.account),
      context,
    };
  } catch (e) {
    return { skipped: (e as Error).message, notApplicable: e instanceof NotApplicable };
  }
}

/** Evaluates every declared call of one function. */
export function simulateCalls(decl: FunctionAwsCalls, f: FunctionFacts): CallOutcome[] {
  const run = (kind: CallOutcome["kind"], declared: DeclaredCall): CallOutcome => {
    const r = resolveCall(declared, f);
    if ("skipped" in r) return { kind, declared, skipped: r.skipped, notApplicable: r.notApplicable };
    const result = evaluate(
      {
        principal: f.roleArn,
        action: r.action,
        resource: r.resource,
        resourceAccount: r.resourceAccount,
        context: r.context,
      },
      { identity: f.identityPolicies, resource: f.resourcePolicyFor(r.resource) },
    );
    return { kind, declared, request: r, result };
  };
  return [...decl.calls.map((c) => run("call", c)), ...decl.mustDeny.map((c) => run("must-deny", c))];
}

export function callFindings(decl: FunctionAwsCalls, outcomes: CallOutcome[]): CallFinding[] {
  const out: CallFinding[] = [];
  for (const o of outcomes) {
    const base = {
      functionName: decl.functionName,
      action: o.declared.action,
      resource: o.request?.resource ?? o.declared.resource,
    };
    if (o.skipped !== undefined) {
      if (!o.notApplicable) {
        out.push({
          ...base,
          kind: "unresolved",
          problem: `cannot resolve the declared call: ${o.skipped}`,
          fix: `fix functions/${decl.functionName}/aws-calls.ts or the stack`,
        });
      }
      continue;
    }
    const decision = o.result?.decision;
    if (o.kind === "call" && decision !== "Allowed") {
      out.push({
        ...base,
        kind: "denied-call",
        problem: `${decl.functionName} needs ${o.declared.action} on ${base.resource} (${o.declared.why}) but IAM would refuse it: ${o.result?.reasons.join("; ")}`,
        fix: "grant it in the role policy (and the resource/key policy when the resource is in another account)",
      });
    }
    if (o.kind === "must-deny" && decision === "Allowed") {
      out.push({
        ...base,
        kind: "allowed-must-deny",
        problem: `${decl.functionName} can call ${o.declared.action} on ${base.resource}, which it must not (${o.declared.why}): ${o.result?.reasons.join("; ")}`,
        fix: "narrow the role policy's actions/resources or the resource policy's principals",
      });
    }
  }
  return out;
}

function parse(v: unknown): unknown {
  return typeof v === "string" ? JSON.parse(v) : v;
}

/**
 * Facts for the VpcFunction component named `functionName` from graph.json resources: its Lambda's
 * environment, role ARN and the inline policies on that role, and the resource policies and KMS keys
 * the graph holds. `accountOf` maps a provider URN to its account id.
 */
export function functionFacts(
  resources: GraphResourceLike[],
  functionName: string,
  opts: { region: string; accountOf: (provider: string | null | undefined) => string },
): FunctionFacts {
  const fn = resources.find((r) => r.type === "aws:lambda/function:Function" && r.name === `${functionName}-fn`);
  if (!fn) throw new Error(`no Lambda function "${functionName}-fn" in the graph`);
  const roleArn = String(fn.inputs.role ?? "");
  const deps = (fn as { dependencies?: string[] }).dependencies ?? [];
  const role =
    resources.find((r) => r.type === "aws:iam/role:Role" && deps.includes(r.urn)) ??
    resources.find((r) => r.type === "aws:iam/role:Role" && r.name === `${functionName}-role`);
  const identityPolicies = resources
    .filter(
      (r) =>
        r.type === "aws:iam/rolePolicy:RolePolicy" &&
        role !== undefined &&
        (r.inputs.role === role.id || ((r as { dependencies?: string[] }).dependencies ?? []).includes(role.urn)),
    )
    .map((r) => parse(r.inputs.policy));
  const env = (fn.inputs.environment as { variables?: Record<string, string> } | undefined)?.variables ?? {};
  const account = opts.accountOf(fn.provider);
  const keys = resources
    .filter((r) => r.type === "aws:kms/key:Key")
    .map((k) => ({
      arn: `arn:aws:kms:${opts.region}:${opts.accountOf(k.provider)}:key/${k.id}`,
      policy: parse(k.inputs.policy),
    }));
  const secretPolicies = resources
    .filter((r) => r.type === "aws:secretsmanager/secretPolicy:SecretPolicy")
    .map((r) => ({ arn: String(r.inputs.secretArn), policy: parse(r.inputs.policy) }));
  const bucketPolicies = resources
    .filter((r) => r.type === "aws:s3/bucketPolicy:BucketPolicy")
    .map((r) => ({ bucket: String(r.inputs.bucket), policy: parse(r.inputs.policy) }));
  const profile = resources.find((r) => r.type === "aws:appflow/connectorProfile:ConnectorProfile")?.inputs.name;
  return {
    functionName,
    roleArn,
    region: opts.region,
    account,
    env,
    logGroup: (fn.inputs.loggingConfig as { logGroup?: string } | undefined)?.logGroup,
    profile: typeof profile === "string" ? profile : undefined,
    identityPolicies,
    resourcePolicyFor(arn) {
      if (arn.startsWith("arn:aws:kms:")) return keys.find((k) => k.arn === arn)?.policy;
      if (arn.startsWith("arn:aws:secretsmanager:")) return secretPolicies.find((s) => s.arn === arn)?.policy;
      if (arn.startsWith("arn:aws:s3:::")) {
        const bucket = arn.slice("arn:aws:s3:::".length).split("/")[0];
        return bucketPolicies.find((b) => b.bucket === bucket)?.policy;
      }
      return undefined;
    },
    keyOf(secretArn) {
      const own = resources.find((r) => r.type === "aws:secretsmanager/secret:Secret" && r.id === secretArn);
      if (own) return typeof own.inputs.kmsKeyId === "string" ? own.inputs.kmsKeyId : undefined;
      // An RDS-managed master secret is encrypted with the cluster's masterUserSecretKmsKeyId.
      if (/:secret:rds!cluster-/.test(secretArn)) {
        const cluster = resources.find(
          (r) =>
            r.type === "aws:rds/cluster:Cluster" &&
            r.inputs.manageMasterUserPassword === true &&
            typeof r.inputs.masterUserSecretKmsKeyId === "string" &&
            accountOfArn(String(r.inputs.masterUserSecretKmsKeyId)) === accountOfArn(secretArn),
        );
        return cluster ? String(cluster.inputs.masterUserSecretKmsKeyId) : undefined;
      }
      return undefined;
    },
  };
}
