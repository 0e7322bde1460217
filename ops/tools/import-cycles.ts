// npx ts-node --transpile-only ops/tools/import-cycles.ts [root]
// The import graph of every .ts file under a root (node_modules, out, bin and dot-directories left
// out) and its cycles. Every edge counts: value and type-only imports, `export … from`, `import x =
// require()`, require() and import() calls. Only relative specifiers are followed (packages cannot
// import the repository back). Exits 1 listing each cycle.
import * as fs from "fs";
import * as path from "path";
import * as ts from "typescript";

const SKIP_DIRS = new Set(["node_modules", "out", "bin"]);

/** Every .ts file under root, as absolute paths, sorted. */
export function listTsFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory()) {
        if (!SKIP_DIRS.has(e.name) && !e.name.startsWith(".")) walk(path.join(dir, e.name));
      } else if (e.isFile() && e.name.endsWith(".ts")) out.push(path.join(dir, e.name));
    }
  };
  walk(path.resolve(root));
  return out.sort();
}

/** The module specifiers a file names, whatever the import form. */
export function moduleSpecifiers(fileName: string, text: string): string[] {
  const sf = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const specs: string[] = [];
  const visit = (node: ts.Node) => {
    if (
      (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) &&
      node.moduleSpecifier &&
      ts.isStringLiteral(node.moduleSpecifier)
    ) {
      specs.push(node.moduleSpecifier.text);
    } else if (
      ts.isImportEqualsDeclaration(node) &&
      ts.isExternalModuleReference(node.moduleReference) &&
      ts.isStringLiteral(node.moduleReference.expression)
    ) {
      specs.push(node.moduleReference.expression.text);
    } else if (
      ts.isCallExpression(node) &&
      node.arguments.length >= 1 &&
      ts.isStringLiteralLike(node.arguments[0]) &&
      (node.expression.kind === ts.SyntaxKind.ImportKeyword ||
        (ts.isIdentifier(node.expression) && node.expression.text === "require"))
    ) {
      specs.push(node.arguments[0].text);
    } else if (
      ts.isImportTypeNode(node) &&
      ts.isLiteralTypeNode(node.argument) &&
      ts.isStringLiteral(node.argument.literal)
    ) {
      specs.push(node.argument.literal.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return specs;
}

/** A relative specifier resolved to a file of the set, the way Node and TypeScript would; undefined otherwise. */
export function resolveRelative(from: string, spec: string, files: ReadonlySet<string>): string | undefined {
  if (!spec.startsWith("./") && !spec.startsWith("../") && spec !== "." && spec !== "..") return undefined;
  const base = path.resolve(path.dirname(from), spec);
  const stem = base.replace(/\.(js|ts)$/, "");
  for (const candidate of [base, `${stem}.ts`, path.join(base, "index.ts")]) {
    if (files.has(candidate)) return candidate;
  }
  return undefined;
}

/** file → the files of the set it imports. */
export function importGraph(files: string[]): Map<string, string[]> {
  const set = new Set(files);
  const graph = new Map<string, string[]>();
  for (const f of files) {
    const targets = new Set<string>();
    for (const spec of moduleSpecifiers(f, fs.readFileSync(f, "utf8"))) {
      const t = resolveRelative(f, spec, set);
      if (t) targets.add(t);
    }
    graph.set(f, [...targets].sort());
  }
  return graph;
}

/** Files that import each other in a circle: all of them, and one closed path through them (first file repeated at the end). */
export interface ImportCycle {
  files: string[];
  path: string[];
}

/** The cycles of a graph: one per strongly connected component with more than one file (or a file importing itself). */
export function findCycles(graph: Map<string, string[]>): ImportCycle[] {
  // Tarjan's algorithm, iterative so a deep import chain cannot overflow the stack.
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const components: string[][] = [];
  for (const start of graph.keys()) {
    if (index.has(start)) continue;
    const work: { node: string; next: number }[] = [{ node: start, next: 0 }];
    index.set(start, counter);
    low.set(start, counter);
    counter++;
    stack.push(start);
    onStack.add(start);
    while (work.length > 0) {
      const top = work[work.length - 1];
      const edges = graph.get(top.node) ?? [];
      if (top.next < edges.length) {
        const w = edges[top.next++];
        if (!index.has(w)) {
          index.set(w, counter);
          low.set(w, counter);
          counter++;
          stack.push(w);
          onStack.add(w);
          work.push({ node: w, next: 0 });
        } else if (onStack.has(w)) {
          low.set(top.node, Math.min(low.get(top.node)!, index.get(w)!));
        }
        continue;
      }
      work.pop();
      if (work.length > 0) {
        const parent = work[work.length - 1].node;
        low.set(parent, Math.min(low.get(parent)!, low.get(top.node)!));
      }
      if (low.get(top.node) === index.get(top.node)) {
        const comp: string[] = [];
        let w: string;
        do {
          w = stack.pop()!;
          onStack.delete(w);
          comp.push(w);
        } while (w !== top.node);
        if (comp.length > 1 || (graph.get(top.node) ?? []).includes(top.node)) components.push(comp.sort());
      }
    }
  }
  return components.map((files) => ({ files, path: cyclePath(graph, new Set(files), files[0]) }));
}

/** A shortest closed path from start back to itself inside one component. */
function cyclePath(graph: Map<string, string[]>, comp: Set<string>, start: string): string[] {
  const prev = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const n = queue.shift()!;
    for (const w of graph.get(n) ?? []) {
      if (!comp.has(w)) continue;
      if (w === start) {
        const pathBack = [n];
        while (pathBack[0] !== start) pathBack.unshift(prev.get(pathBack[0])!);
        return [...pathBack, start];
      }
      if (!prev.has(w)) {
        prev.set(w, n);
        queue.push(w);
      }
    }
  }
  return [start, start];
}

/** The import cycles among the .ts files under root, paths relative to root. */
export function importCycles(root: string): ImportCycle[] {
  const abs = path.resolve(root);
  const rel = (fs: string[]) => fs.map((f) => path.relative(abs, f));
  return findCycles(importGraph(listTsFiles(abs))).map((c) => ({ files: rel(c.files), path: rel(c.path) }));
}

/** One line per cycle: its files, then one closed path through them. */
export function describeCycles(cycles: ImportCycle[]): string {
  return cycles
    .map((c) => `cycle of ${c.files.length} file(s): ${c.files.join(", ")}\n  e.g. ${c.path.join(" → ")}`)
    .join("\n");
}

if (require.main === module) {
  const root = process.argv[2] ?? path.resolve(__dirname, "../..");
  const cycles = importCycles(root);
  if (cycles.length === 0) {
    console.log(`no import cycles among ${listTsFiles(root).length} .ts files under ${root}`);
  } else {
    console.log(describeCycles(cycles));
    process.exit(1);
  }
}
