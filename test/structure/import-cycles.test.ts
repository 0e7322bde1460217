import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { REPO_ROOT } from "../../components/bundle";
import { describeCycles, importCycles, importGraph, listTsFiles } from "../../ops/tools/import-cycles";

/** Writes files (relative path → text) into a fresh temp directory. */
function tree(files: Record<string, string>): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "import-cycles-"));
  for (const [rel, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    fs.writeFileSync(path.join(root, rel), text);
  }
  return root;
}

describe("the repository's import graph", () => {
  it("has no cycles (type-only imports and re-exports count)", () => {
    const cycles = importCycles(REPO_ROOT);
    if (cycles.length > 0) throw new Error(`import cycles:\n${describeCycles(cycles)}`);
    expect(cycles).toEqual([]);
  });

  it("covers stacks, components, ops, functions, tests and benchmarks, and no dependency or build output", () => {
    const files = listTsFiles(REPO_ROOT).map((f) => path.relative(REPO_ROOT, f));
    for (const dir of ["stacks/", "components/", "ops/", "functions/", "test/", "bench/", "policy-pack/"]) {
      expect(files.some((f) => f.startsWith(dir))).toBe(true);
    }
    expect(files).toContain("index.ts");
    expect(files.filter((f) => /^(node_modules|out|bin)\//.test(f))).toEqual([]);
  });

  it("sees the stacks' layering: features import the config schema, never the loader or a role", () => {
    const graph = importGraph(listTsFiles(REPO_ROOT));
    const rel = (f: string) => path.relative(REPO_ROOT, f);
    const loader = path.join(REPO_ROOT, "stacks/config/load.ts");
    expect((graph.get(loader) ?? []).map(rel)).toContain("stacks/features/index.ts");
    for (const [file, targets] of graph) {
      if (!rel(file).startsWith("stacks/features/")) continue;
      expect(
        targets
          .map(rel)
          .filter((t) => t.startsWith("stacks/roles/") || t === "stacks/config/load.ts" || t === "stacks/program.ts"),
      ).toEqual([]);
    }
  });
});

describe("the cycle detector", () => {
  it("finds a planted cycle closed by a type-only import, naming its files", () => {
    const root = tree({
      "a.ts": `import { b } from "./lib/b";\nexport const a = () => b;\n`,
      "lib/b.ts": `export { c as b } from "./c";\n`,
      // The edge that closes the circle is type-only: it still counts.
      "lib/c.ts": `import type { A } from "../a";\nexport const c: A | undefined = undefined;\nexport type A = typeof import("./d");\n`,
      "lib/d.ts": `export const d = 1;\n`,
      "clean.ts": `import { d } from "./lib/d";\nexport const e = d;\n`,
    });
    try {
      const cycles = importCycles(root);
      expect(cycles).toHaveLength(1);
      expect(cycles[0].files).toEqual(["a.ts", "lib/b.ts", "lib/c.ts"]);
      expect(cycles[0].path).toEqual(["a.ts", "lib/b.ts", "lib/c.ts", "a.ts"]);
      expect(describeCycles(cycles)).toContain("a.ts, lib/b.ts, lib/c.ts");
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it("follows index files, .js specifiers, require and dynamic import, and ignores node_modules", () => {
    const root = tree({
      "x/index.ts": `export const x = async () => (await import("../y.js")).y;\n`,
      "y.ts": `const z = require("./z");\nexport const y = z;\n`,
      "z.ts": `import { x } from "./x";\nexport = x;\n`,
      "node_modules/pkg/index.ts": `import "../../y";\nimport "./self";\n`,
      "node_modules/pkg/self.ts": `import "./index";\n`,
    });
    try {
      const cycles = importCycles(root);
      expect(cycles.map((c) => c.files)).toEqual([["x/index.ts", "y.ts", "z.ts"]]);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it("reports nothing for an acyclic tree and a self-import as a cycle", () => {
    const acyclic = tree({
      "a.ts": `import type { B } from "./b";\nexport type A = B;\n`,
      "b.ts": `export type B = 1;\n`,
    });
    const self = tree({ "s.ts": `import type { S } from "./s";\nexport type S = 1 | S;\n` });
    try {
      expect(importCycles(acyclic)).toEqual([]);
      expect(importCycles(self).map((c) => c.files)).toEqual([["s.ts"]]);
    } finally {
      fs.rmSync(acyclic, { recursive: true, force: true });
      fs.rmSync(self, { recursive: true, force: true });
    }
  });
});
