/**
 * The check report: flows (proven or broken), forbidden paths, policies, cost and the
 * diagram for one stack, as report.json / report.txt / diagram.svg beside graph.json. `npm run
 * check` and `npm run synth` both end here, so they print and gate on the same thing.
 */
import * as fs from "fs";
import * as path from "path";
import type { Graph } from "../synth-core";
import type { EnvConfig } from "../../stacks/config/schema";
import { analyze, FlowResult } from "./flows";
import { checkForbidden, ForbiddenResult } from "./forbidden";
import { GraphModel } from "./model/graph";
import { T } from "./model/types";
import { missingRequired, requiredForbiddenPaths } from "./required";
import { checkPolicies, formatViolations, PolicyViolation } from "./policies";
import { CostReport, estimateCost, formatCost } from "./cost";
import { defaultDiagramCache, existingLabel, renderDiagram } from "./diagram";
// --- evidence (IAM, calls, order, limits) ---
import { checkEvidence, EvidenceReport, formatEvidence } from "./evidence";
import { privateApiPaths } from "./eval/api-path";
// --- end evidence ---

export interface CheckReport {
  stack: string;
  /** True when every flow is OK, no forbidden path is open and no policy is violated. */
  ok: boolean;
  summary: {
    flows: number;
    flowsOk: number;
    flowsBroken: number;
    forbiddenOk: number;
    forbiddenViolated: number;
    policyViolations: number;
  };
  /** Upstream stacks whose graphs were merged in (split stacks), and those that were missing. */
  upstream: { merged: string[]; missing: string[] };
  flows: FlowResult[];
  forbidden: ForbiddenResult[];
  policies: PolicyViolation[];
  cost?: CostReport;
  /** IAM validation, simulated handler calls, create order and limits (ops/check/evidence.ts). */
  evidence?: EvidenceReport;
  /** Private API consumer paths, caller to function, one per caller (ops/check/eval/api-path.ts). */
  apiPaths?: FlowResult[];
  /** VPCs whose range an IPAM pool allocates: the range the check used, and whether it is only predicted. */
  ipam?: IpamAllocation[];
}

/** A VPC's range from an IPAM pool as the check used it (graph.json `allocated`). */
export interface IpamAllocation {
  vpc: string;
  pool: string;
  cidrBlock: string;
  /** Set when config states no ipamAllocatedCidr: the inventory's pool predicted it (first free block); AWS picks the real one. */
  predicted?: { key: string };
}

/** The IPAM ranges of this stack's VPCs. */
function ipamAllocations(graph: Graph): IpamAllocation[] {
  return graph.resources
    .filter((r) => r.type === T.vpc && typeof r.allocated?.cidrBlock === "string")
    .map((r) => ({
      vpc: r.name,
      pool: String(r.inputs.ipv4IpamPoolId),
      cidrBlock: String(r.allocated!.cidrBlock),
      ...(r.allocated!.predicted ? { predicted: { key: String(r.allocated!.key) } } : {}),
    }));
}

export interface CheckOptions {
  /** The stack's validated config (policies and cost read it). */
  cfg?: EnvConfig;
  /** Graphs of the stacks this one reads through StackReferences (split stacks). */
  upstream?: Graph[];
  /** Upstream stacks that were looked for and not found. */
  missingUpstream?: string[];
  /** Render the SVG diagram. Default true. */
  diagram?: boolean;
}

export interface CheckOutput {
  report: CheckReport;
  text: string;
  svg?: string;
}

/** Runs every check over a stack's graph (merged with its upstream graphs) and formats the report. */
export async function runCheck(graph: Graph, opts: CheckOptions = {}): Promise<CheckOutput> {
  const merged = mergeGraphs(graph, opts.upstream ?? []);
  const ix = GraphModel.of(merged);
  const details = analyze(ix);
  const flows = details.map((d) => d.result);
  markExistingHops(merged, flows);
  const forbidden = checkForbidden(ix, details);
  // A path config says must be proven, yet absent from the graph's verdicts, is a failure, never a silent drop.
  if (opts.cfg) forbidden.push(...missingRequired(forbidden, requiredForbiddenPaths(opts.cfg)));
  // Policies see the merged graph: a function's subnets may live in the upstream network stack.
  const policies = checkPolicies(merged, opts.cfg);
  // Cost is this stack's own bill.
  const cost = estimateCost(graph, opts.cfg);
  // --- evidence: its error findings fail the check like a broken flow ---
  const evidence = checkEvidence(merged.resources, {
    splitStack: upstreamStacks(graph).length > 0,
    missingUpstream: opts.missingUpstream,
  });
  const apiPaths = privateApiPaths(ix);
  // --- end evidence ---
  const broken = flows.filter((f) => f.status === "BROKEN").length;
  const violated = forbidden.filter((f) => f.status === "VIOLATED").length;
  const report: CheckReport = {
    stack: graph.stack,
    ok:
      broken === 0 &&
      violated === 0 &&
      policies.length === 0 &&
      evidence.summary.errors === 0 &&
      apiPaths.every((p) => p.status === "OK"),
    summary: {
      flows: flows.length,
      flowsOk: flows.length - broken,
      flowsBroken: broken,
      forbiddenOk: forbidden.length - violated,
      forbiddenViolated: violated,
      policyViolations: policies.length,
    },
    upstream: { merged: (opts.upstream ?? []).map((g) => g.stack), missing: opts.missingUpstream ?? [] },
    flows,
    forbidden,
    policies,
    cost,
    evidence,
    apiPaths,
  };
  const ipam = ipamAllocations(graph);
  if (ipam.length > 0) report.ipam = ipam;
  const svg =
    opts.diagram === false
      ? undefined
      : await renderDiagram(merged, [...flows, ...apiPaths], { cacheDir: defaultDiagramCache() });
  return { report, text: formatReport(report), svg };
}

/** Records on each flow which of its hops exist already (adopted, or built by awsx) rather than by this stack. */
function markExistingHops(graph: Graph, flows: FlowResult[]): void {
  const existing = new Map<string, string>();
  for (const r of graph.resources) {
    const label = existingLabel(r as { existing?: boolean; origin?: string });
    if (label) existing.set(r.name, label);
  }
  if (existing.size === 0) return;
  for (const f of flows) {
    const hops = Object.fromEntries(f.path.filter((h) => existing.has(h)).map((h) => [h, existing.get(h) as string]));
    if (Object.keys(hops).length > 0) f.existingHops = hops;
  }
}

/** One graph of a stack and its upstream stacks (resources deduplicated by URN). */
export function mergeGraphs(graph: Graph, upstream: Graph[]): Graph {
  if (upstream.length === 0) return graph;
  const seen = new Set(graph.resources.map((r) => r.urn));
  const resources = [...graph.resources];
  for (const g of upstream) {
    for (const r of g.resources) {
      if (seen.has(r.urn)) continue;
      seen.add(r.urn);
      resources.push(r);
    }
  }
  return { ...graph, resources };
}

/** Short names of the stacks a graph reads through StackReferences (`org/project/dev-network` → `dev-network`). */
export function upstreamStacks(graph: Graph): string[] {
  return graph.resources
    .filter((r) => r.type === T.stackReference)
    .map(
      (r) =>
        String(r.inputs.name ?? r.id)
          .split("/")
          .pop() as string,
    )
    .filter((n, i, a) => n !== "" && a.indexOf(n) === i);
}

/**
 * Upstream graphs as synth writes them: `<root>/<stack>/graph.json`, recursively (an apps stack's
 * upstream may have its own).
 */
export function loadUpstreamGraphs(graph: Graph, root: string): { graphs: Graph[]; missing: string[] } {
  const graphs: Graph[] = [];
  const missing: string[] = [];
  const visit = (g: Graph, depth: number) => {
    if (depth > 4) return;
    for (const name of upstreamStacks(g)) {
      if (graphs.some((x) => x.stack === name) || missing.includes(name)) continue;
      const file = path.join(root, name, "graph.json");
      if (!fs.existsSync(file)) {
        missing.push(name);
        continue;
      }
      const up = JSON.parse(fs.readFileSync(file, "utf8")) as Graph;
      graphs.push(up);
      visit(up, depth + 1);
    }
  };
  visit(graph, 0);
  return { graphs, missing };
}

/** Writes report.json, report.txt and diagram.svg into `dir`; returns the paths written. */
export function writeReport(dir: string, out: CheckOutput): string[] {
  fs.mkdirSync(dir, { recursive: true });
  const files = [path.join(dir, "report.json"), path.join(dir, "report.txt")];
  fs.writeFileSync(files[0], JSON.stringify(out.report, null, 2) + "\n");
  fs.writeFileSync(files[1], out.text + "\n");
  if (out.svg !== undefined) {
    const svgFile = path.join(dir, "diagram.svg");
    fs.writeFileSync(svgFile, out.svg);
    files.push(svgFile);
  }
  return files;
}

/** The report as text: a summary line, every flow with its path and proof, forbidden paths, policies, cost. */
export function formatReport(r: CheckReport): string {
  const s = r.summary;
  const L: string[] = [];
  L.push(
    `check ${r.stack}: ${r.ok ? "PASS" : "FAIL"} — flows ${s.flowsOk} OK, ${s.flowsBroken} BROKEN; forbidden paths ${s.forbiddenOk} closed, ${s.forbiddenViolated} open; policy violations ${s.policyViolations}${r.evidence ? `; evidence errors ${r.evidence.summary.errors}` : ""}`,
  );
  if (r.upstream.merged.length > 0) L.push(`  with upstream graph(s): ${r.upstream.merged.join(", ")}`);
  if (r.upstream.missing.length > 0)
    L.push(`  upstream graph(s) not found: ${r.upstream.missing.join(", ")} (synthesize them beside this one)`);
  for (const a of r.ipam ?? [])
    L.push(
      a.predicted
        ? `  ${a.vpc}: ${a.cidrBlock} from IPAM pool ${a.pool} is a prediction (the pool's first free block in the inventory); AWS picks the real range at deploy: state it in ${a.predicted.key}`
        : `  ${a.vpc}: ${a.cidrBlock} from IPAM pool ${a.pool} (stated)`,
    );
  L.push("", "flows:");
  if (r.flows.some((f) => f.existingHops))
    L.push("  (a hop marked [existing] or [built by awsx] is proven but not created by this stack)");
  if (r.flows.length === 0) L.push("  (no function declares a flow in this stack)");
  for (const f of r.flows) {
    L.push(`  ${f.status.padEnd(6)} ${f.fn}: ${f.flow}`);
    if (f.status === "BROKEN") L.push(`         ✗ ${f.reason}`);
    const mark = (h: string) => (f.existingHops?.[h] ? `${h} [${f.existingHops[h]}]` : h);
    if (f.path.length > 0) L.push(`         path: ${f.fn} → ${f.path.map(mark).join(" → ")}`);
    if (f.egressIps && f.egressIps.length > 0) L.push(`         egress IPs: ${f.egressIps.join(", ")}`);
    for (const step of f.steps) L.push(`           · ${step}`);
  }
  L.push("", "forbidden paths:");
  if (r.forbidden.length === 0)
    L.push("  (nothing to check: no function without an internet flow, no database, no private API)");
  for (const f of r.forbidden)
    L.push(`  ${f.status === "OK" ? "closed" : "OPEN  "} ${f.check} ${f.subject}: ${f.detail}`);
  L.push("", formatViolations(r.policies));
  if (r.apiPaths && r.apiPaths.length > 0) {
    L.push("", "private API consumer paths:");
    for (const f of r.apiPaths) {
      L.push(`  ${f.status.padEnd(6)} ${f.fn}: ${f.flow}`);
      if (f.status === "BROKEN") L.push(`         ✗ ${f.reason}`);
      for (const step of f.steps) L.push(`           · ${step}`);
    }
  }
  if (r.evidence) L.push("", formatEvidence(r.evidence));
  if (r.cost) L.push("", formatCost([r.cost]));
  return L.join("\n");
}

/**
 * What `synth` and `check` both do after synthesizing: read the stack's config (for policies and
 * cost), merge the upstream graphs found beside `upstreamRoot`, check, and write the report into
 * `outDir`. Config errors throw ConfigError(s), as the program's own validation does.
 */
export async function checkAndWrite(
  graph: Graph,
  o: { outDir: string; upstreamRoot?: string; configFile?: string; diagram?: boolean },
): Promise<CheckOutput & { files: string[] }> {
  // Lazy: config loading pulls in @pulumi/pulumi, which a pure --graph check can do without until here.
  const { readStackConfig } = await import("../stack-config");
  const { loadConfig } = await import("../../stacks/config/load");
  const { REPO_ROOT } = await import("../../components/bundle");
  const configFile = o.configFile ?? path.join(REPO_ROOT, `Pulumi.${graph.stack}.yaml`);
  const file = o.configFile || fs.existsSync(configFile) ? readStackConfig(configFile) : undefined;
  // Another program's stack file (no vpc-lambda-kit: keys, e.g. examples/awsx-vpc) feeds no kit policy or cost setting.
  const kitConfig = file && Object.keys(file.config).some((k) => k.startsWith("vpc-lambda-kit:"));
  const cfg = file && kitConfig ? loadConfig(file.config, file.secretKeys) : undefined;
  const upstream = loadUpstreamGraphs(graph, o.upstreamRoot ?? path.dirname(o.outDir));
  const out = await runCheck(graph, {
    cfg,
    upstream: upstream.graphs,
    missingUpstream: upstream.missing,
    diagram: o.diagram,
  });
  return { ...out, files: writeReport(o.outDir, out) };
}
