/**
 * The caches that make `npm run synth|check` start fast must never serve stale code: ops/ts-register.js keys
 * transpiled files by their contents, components/bundle.ts keys bundles by the contents of every file esbuild read.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { bundleFunction, REPO_ROOT } from "../../components/bundle";
import { runtimeNode } from "../../ops/runtime-node";

const dir = fs.mkdtempSync(path.join(REPO_ROOT, "out", "test-cache-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

test("a TypeScript file run through ts-register reflects each edit, and an enum and a dynamic import work", () => {
  const dep = path.join(dir, "dep.ts");
  const main = path.join(dir, "main.ts");
  fs.writeFileSync(
    main,
    `enum Kind { A = "a" }\nconst x: number = 1;\nvoid import("./dep").then((d) => console.log(Kind.A, x, d.value));\n`,
  );
  const run = () =>
    spawnSync(runtimeNode(), ["-r", "./ops/ts-register.js", main], { cwd: REPO_ROOT, encoding: "utf8" });
  fs.writeFileSync(dep, `export const value: string = "first";\n`);
  expect(run().stdout.trim()).toBe("a 1 first");
  expect(run().stdout.trim()).toBe("a 1 first"); // from the cache
  fs.writeFileSync(dep, `export const value: string = "second";\n`);
  expect(run().stdout.trim()).toBe("a 1 second");
  const off = spawnSync(runtimeNode(), ["-r", "./ops/ts-register.js", main], {
    cwd: REPO_ROOT,
    encoding: "utf8",
    env: { ...process.env, VLK_TS_CACHE: "off" },
  });
  expect(off.stdout.trim()).toBe("a 1 second");
});

test("a cached bundle is rebuilt when a file it was built from changes", () => {
  const entry = path.join(dir, "fn", "index.ts");
  const helper = path.join(dir, "fn", "helper.ts");
  fs.mkdirSync(path.dirname(entry), { recursive: true });
  fs.writeFileSync(entry, `import { word } from "./helper";\nexport const handler = async () => word;\n`);
  fs.writeFileSync(helper, `export const word = "alpha-7f3";\n`);
  // A fresh process each time, so only the on-disk cache can carry a bundle over.
  const build = () =>
    spawnSync(
      runtimeNode(),
      [
        "-r",
        "./ops/ts-register.js",
        "-e",
        `process.stdout.write(require("./components/bundle").bundleFunction("cache-probe", { entry: ${JSON.stringify(entry)} }).code)`,
      ],
      { cwd: REPO_ROOT, encoding: "utf8" },
    ).stdout;
  expect(build()).toContain("alpha-7f3");
  expect(build()).toContain("alpha-7f3");
  fs.writeFileSync(helper, `export const word = "beta-9c1";\n`);
  const rebuilt = build();
  expect(rebuilt).toContain("beta-9c1");
  expect(rebuilt).not.toContain("alpha-7f3");
  // In this process the same options give the same bytes.
  expect(bundleFunction("cache-probe", { entry }).code).toBe(rebuilt);
});

/** Runs `script` under ops/ts-register.js (and so ops/lazy-modules.js) in a fresh process; returns its stdout. */
function underRegister(script: string, env: Record<string, string> = {}): string {
  const r = spawnSync(runtimeNode(), ["-r", "./ops/ts-register.js", "-e", script], {
    cwd: REPO_ROOT,
    encoding: "utf8",
    env: { ...process.env, ...env },
  });
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout.trim();
}

const loadedCount = (pattern: string) => `Object.keys(require.cache).filter((f) => ${pattern}.test(f)).length`;

test("@pulumi/pulumi loads without its closure serializer and Automation API, which still work when used", () => {
  const ts = loadedCount("/node_modules[\\\\/]typescript[\\\\/]/");
  const execa = loadedCount("/node_modules[\\\\/]execa[\\\\/]/");
  const arborist = loadedCount("/node_modules[\\\\/]@npmcli[\\\\/]arborist[\\\\/]/");
  const probe = `
    const pulumi = require("@pulumi/pulumi");
    const before = { ts: ${ts}, arborist: ${arborist}, execa: ${execa} };
    const workspace = typeof pulumi.automation.LocalWorkspace.create;
    pulumi.runtime.serializeFunction(() => 6 * 7).then((f) => {
      console.log(JSON.stringify({ before, workspace, ts: ${ts} > 0, text: f.text.includes("6 * 7"), codePaths: typeof pulumi.runtime.computeCodePaths }));
    });`;
  const lazy = JSON.parse(underRegister(probe).split("\n").pop() as string);
  expect(lazy).toEqual({
    before: { ts: 0, arborist: 0, execa: 0 },
    workspace: "function",
    ts: true,
    text: true,
    codePaths: "function",
  });
  // With the deferral off both load up front, so the check above can tell the two apart.
  const eager = JSON.parse(underRegister(probe, { VLK_LAZY_MODULES: "off" }).split("\n").pop() as string);
  expect(eager.before.ts).toBeGreaterThan(0);
  expect(eager.before.arborist).toBeGreaterThan(0);
  expect(eager.before.execa).toBeGreaterThan(0);
});

test("@pulumi/aws's namespaces load on first use and are the package's own modules", () => {
  const probe = `
    const aws = require("@pulumi/aws");
    const namespaces = () => new Set(Object.keys(require.cache).map((f) => (/@pulumi[\\\\/]aws[\\\\/]([a-z0-9]+)[\\\\/]index\\.js$/.exec(f) || [])[1]).filter(Boolean)).size;
    const before = namespaces();
    const same = aws.ec2 === require("@pulumi/aws/ec2") && aws.ec2.Vpc === require("@pulumi/aws/ec2/vpc").Vpc;
    console.log(JSON.stringify({ before, after: namespaces(), same, keys: Object.keys(aws).includes("xray"), provider: typeof aws.Provider }));`;
  const lazy = JSON.parse(underRegister(probe));
  const eager = JSON.parse(underRegister(probe, { VLK_LAZY_MODULES: "off" }));
  expect(lazy).toMatchObject({ same: true, keys: true, provider: "function" });
  expect(eager).toMatchObject({ same: true, keys: true, provider: "function" });
  // Eager: every namespace (200+); deferred: the few the index itself needs (types), then ec2 on first use.
  expect(eager.before).toBeGreaterThan(200);
  expect(lazy.before).toBeLessThan(10);
  expect(lazy.after).toBe(lazy.before + 1);
});
