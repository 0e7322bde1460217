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
