import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { REPO_ROOT } from "../../components/bundle";
import type { CheckReport } from "../../ops/check/report";

// Every stack in the repository checks clean, run the way a user (and CI) runs it:
// `npm run check -- <stack>` (synthesizes first), `npm run synth -- <stack>` (ends with the same
// report) and `npm run check -- --graph <graph.json>`.
const outRoot = fs.mkdtempSync(path.join(os.tmpdir(), "vlk-check-"));

function npm(script: "check" | "synth", args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync("npm", ["run", "--silent", script, "--", ...args], {
    cwd: REPO_ROOT,
    encoding: "utf8",
    env: { ...process.env, AWS_ACCESS_KEY_ID: "", AWS_PROFILE: "" },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function reportOf(stack: string): CheckReport {
  return JSON.parse(fs.readFileSync(path.join(outRoot, stack, "report.json"), "utf8"));
}

function expectClean(stack: string, r: { status: number | null; stdout: string }): void {
  const report = reportOf(stack);
  expect({
    status: r.status,
    broken: report.flows.filter((f) => f.status !== "OK"),
    open: report.forbidden.filter((f) => f.status !== "OK"),
    policies: report.policies,
  }).toEqual({ status: 0, broken: [], open: [], policies: [] });
  expect(report.ok).toBe(true);
  expect(r.stdout).toMatch(
    new RegExp(
      `^check ${stack}: PASS — flows \\d+ OK, 0 BROKEN; forbidden paths \\d+ closed, 0 open; policy violations 0; evidence errors 0$`,
      "m",
    ),
  );
  expect(fs.readFileSync(path.join(outRoot, stack, "report.txt"), "utf8")).toMatch(new RegExp(`^check ${stack}: PASS`));
  expect(fs.readFileSync(path.join(outRoot, stack, "diagram.svg"), "utf8")).toMatch(/<svg[\s\S]*<\/svg>\s*$/);
}

describe("combined stacks", () => {
  test("npm run check -- dev synthesizes the stack and proves every flow", () => {
    const r = npm("check", ["dev", "--out", path.join(outRoot, "dev")]);
    expectClean("dev", r);
    expect(fs.existsSync(path.join(outRoot, "dev", "graph.json"))).toBe(true);
    const report = reportOf("dev");
    const kintone = report.flows.find((f) => f.fn === "kintone-sync" && f.flow.includes("example.cybozu.com"));
    const graph = JSON.parse(fs.readFileSync(path.join(outRoot, "dev", "graph.json"), "utf8"));
    expect(kintone?.egressIps).toEqual(graph.outputs.egressIps);
    expect(report.cost?.total).toBeGreaterThan(0);
  }, 300000);

  test("npm run synth -- prod ends with the same report, and it is clean", () => {
    const r = npm("synth", ["prod", "--out", path.join(outRoot, "prod")]);
    expectClean("prod", r);
    const report = reportOf("prod");
    const graph = JSON.parse(fs.readFileSync(path.join(outRoot, "prod", "graph.json"), "utf8"));
    // One NAT per AZ: every EIP is an egress IP of the kintone flow; the proxies leave from their own pool.
    expect(
      report.flows.find((f) => f.fn === "kintone-sync" && f.flow.includes("example.cybozu.com"))?.egressIps,
    ).toEqual([...graph.outputs.egressIps].sort((a: string, b: string) => a.localeCompare(b, "en", { numeric: true })));
    expect(report.flows.find((f) => f.fn === "saas-export" && f.flow.includes("proxy"))?.egressIps).toEqual(
      [...graph.outputs.apps.proxyTier.egressIps].sort((a: string, b: string) =>
        a.localeCompare(b, "en", { numeric: true }),
      ),
    );
  }, 300000);
});

describe("split stacks", () => {
  let apps: ReturnType<typeof npm>;
  beforeAll(() => {
    apps = npm("check", ["dev-apps", "--out", path.join(outRoot, "dev-apps")]);
  }, 400000);

  test("dev-apps checks clean against its upstream graphs", () => {
    expectClean("dev-apps", apps);
    expect(reportOf("dev-apps").upstream).toEqual({ merged: ["dev-data", "dev-network"], missing: [] });
    expect(reportOf("dev-apps").flows.length).toBeGreaterThan(0);
  });

  test.each(["dev-network", "dev-data"])(
    "%s checks clean from its graph.json",
    (stack) => {
      const r = npm("check", ["--graph", path.join(outRoot, stack, "graph.json")]);
      expectClean(stack, r);
    },
    120000,
  );
});

describe("exit codes", () => {
  test("a broken flow exits 1 and names the missing piece", () => {
    const graph = JSON.parse(fs.readFileSync(path.join(outRoot, "dev", "graph.json"), "utf8"));
    graph.resources = graph.resources.filter((r: { name: string }) => r.name !== "egress-private-rt-0-default");
    const dir = path.join(outRoot, "broken", "dev");
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "graph.json"), JSON.stringify(graph));
    const r = npm("check", ["dev", "--graph", path.join(dir, "graph.json")]);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/^check dev: FAIL — flows \d+ OK, [1-9]\d* BROKEN/m);
    expect(r.stdout).toContain("✗ route table egress-private-rt-0 has no route to 0.0.0.0/0");
    expect(JSON.parse(fs.readFileSync(path.join(dir, "report.json"), "utf8")).ok).toBe(false);
  }, 120000);

  test("usage and configuration errors exit 2", () => {
    const missing = npm("check", ["--graph", path.join(outRoot, "nowhere", "graph.json")]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/graph file .* not found/);
    const badConfig = path.join(outRoot, "bad.yaml");
    fs.writeFileSync(
      badConfig,
      "config:\n  aws:region: ap-northeast-1\n  vpc-lambda-kit:environment: dev\n  vpc-lambda-kit:natGatways: single\n",
    );
    const bad = npm("check", [
      "dev",
      "--graph",
      path.join(outRoot, "dev", "graph.json"),
      "--config",
      badConfig,
      "--out",
      path.join(outRoot, "bad"),
    ]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain("vpc-lambda-kit:natGatways");
    const usage = npm("check", []);
    expect(usage.status).toBe(2);
  }, 120000);
});
