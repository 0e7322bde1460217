import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { LAMBDA_RUNTIME, REPO_ROOT } from "../../components/bundle";
import { RUNTIME_NODE_MAJOR, onRuntimeNode, runtimeNode, runtimeNodePackage } from "../../ops/runtime-node";

describe("runtime parity", () => {
  test("the pinned Node major is the Lambda runtime's", () => {
    expect(LAMBDA_RUNTIME).toBe(`nodejs${RUNTIME_NODE_MAJOR}.x`);
  });

  test("runtimeNode() is an executable Node 24 from node_modules", () => {
    const bin = runtimeNode();
    expect(bin.startsWith(path.join(REPO_ROOT, "node_modules", runtimeNodePackage()))).toBe(true);
    const r = spawnSync(bin, ["-p", "process.versions.node"], { encoding: "utf8" });
    expect(r.status).toBe(0);
    expect(r.stdout.trim().split(".")[0]).toBe(String(RUNTIME_NODE_MAJOR));
  });

  test("this test process itself runs on the runtime's major", () => {
    expect(onRuntimeNode()).toBe(true);
    expect(process.versions.node.split(".")[0]).toBe(String(RUNTIME_NODE_MAJOR));
  });

  test("the version package.json pins is the installed one, and npm ci installs it for this platform", () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "package.json"), "utf8"));
    const pinned = pkg.optionalDependencies[runtimeNodePackage()];
    expect(pinned).toMatch(new RegExp(`^${RUNTIME_NODE_MAJOR}\\.`));
    const installed = JSON.parse(
      fs.readFileSync(path.join(REPO_ROOT, "node_modules", runtimeNodePackage(), "package.json"), "utf8"),
    );
    expect(installed.version).toBe(pinned);
    expect(spawnSync(runtimeNode(), ["-v"], { encoding: "utf8" }).stdout.trim()).toBe(`v${pinned}`);
  });

  test("a missing binary fails with the install command, not a stack trace", () => {
    const r = spawnSync(
      runtimeNode(),
      [
        "-r",
        "ts-node/register/transpile-only",
        "-e",
        `process.env.RUNTIME_NODE="/nonexistent/node"; try { require("./ops/runtime-node").runtimeNode() } catch (e) { console.log(e.message) }`,
      ],
      { cwd: REPO_ROOT, encoding: "utf8" },
    );
    expect(r.stdout).toMatch(/RUNTIME_NODE=\/nonexistent\/node does not exist/);
    expect(r.stdout).toMatch(/npm ci/);
  });

  test("the jest config refuses another Node major with the command to use", () => {
    const r = spawnSync(
      process.execPath,
      ["-e", `Object.defineProperty(process.versions, "node", { value: "20.1.0" }); require("./jest.config.js")`],
      {
        cwd: REPO_ROOT,
        encoding: "utf8",
        env: { ...process.env, JEST_ANY_NODE: "" },
      },
    );
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/functions deploy on Node 24 .*npm test/s);
  });
});
