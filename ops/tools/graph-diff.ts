// npx ts-node --transpile-only ops/tools/graph-diff.ts <before/graph.json> <after/graph.json>
// A semantic diff of two synthesized graphs (ops/synth-core.ts): resources matched by URN, every
// field (id, type, name, parent, provider, inputs) and the stack outputs compared as JSON values, key
// order ignored. Prints each difference with its path; exits 1 when there is one, 2 on bad usage.
import * as fs from "fs";

interface GraphResource {
  urn: string;
  [field: string]: unknown;
}
interface Graph {
  project?: unknown;
  stack?: unknown;
  resources: GraphResource[];
  outputs?: unknown;
}

/** Every difference between two JSON values, as "path: before → after" lines. */
export function diffValues(path: string, a: unknown, b: unknown, out: string[] = []): string[] {
  if (a === b) return out;
  const bothObjects = a !== null && b !== null && typeof a === "object" && typeof b === "object";
  if (!bothObjects || Array.isArray(a) !== Array.isArray(b)) {
    out.push(`${path}: ${show(a)} → ${show(b)}`);
    return out;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) out.push(`${path}: ${a.length} items → ${b.length} items`);
    for (let i = 0; i < Math.min(a.length, b.length); i++) diffValues(`${path}[${i}]`, a[i], b[i], out);
    return out;
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  for (const k of [...new Set([...Object.keys(ao), ...Object.keys(bo)])].sort()) {
    if (!(k in bo)) out.push(`${path}.${k}: removed (was ${show(ao[k])})`);
    else if (!(k in ao)) out.push(`${path}.${k}: added (${show(bo[k])})`);
    else diffValues(`${path}.${k}`, ao[k], bo[k], out);
  }
  return out;
}

function show(v: unknown): string {
  const s = JSON.stringify(v);
  return s === undefined ? "undefined" : s.length > 160 ? `${s.slice(0, 157)}...` : s;
}

/** The differences between two graphs; [] when they are the same. */
export function diffGraphs(before: Graph, after: Graph): string[] {
  const out: string[] = [];
  diffValues("project", before.project, after.project, out);
  diffValues("stack", before.stack, after.stack, out);
  const index = (g: Graph, label: string) => {
    const m = new Map<string, GraphResource>();
    for (const r of g.resources) {
      if (m.has(r.urn)) out.push(`${label}: duplicate resource ${r.urn}`);
      m.set(r.urn, r);
    }
    return m;
  };
  const a = index(before, "before");
  const b = index(after, "after");
  for (const urn of [...a.keys()].filter((u) => !b.has(u)).sort()) out.push(`resource removed: ${urn}`);
  for (const urn of [...b.keys()].filter((u) => !a.has(u)).sort()) out.push(`resource added: ${urn}`);
  for (const urn of [...a.keys()].filter((u) => b.has(u)).sort())
    diffValues(`resource ${urn}`, a.get(urn), b.get(urn), out);
  diffValues("outputs", before.outputs, after.outputs, out);
  return out;
}

function main(argv: string[]): number {
  if (argv.length !== 2) {
    console.error("usage: ts-node ops/tools/graph-diff.ts <before/graph.json> <after/graph.json>");
    return 2;
  }
  const [before, after] = argv.map((f) => JSON.parse(fs.readFileSync(f, "utf8")) as Graph);
  const diffs = diffGraphs(before, after);
  if (diffs.length === 0) {
    console.log(`no difference: ${argv[0]} and ${argv[1]} (${before.resources.length} resources, outputs equal)`);
    return 0;
  }
  console.log(diffs.join("\n"));
  console.log(`${diffs.length} difference(s) between ${argv[0]} and ${argv[1]}`);
  return 1;
}

if (require.main === module) process.exit(main(process.argv.slice(2)));
