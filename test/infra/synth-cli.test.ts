import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { bundleFunction, REPO_ROOT } from "../../components/bundle";
import { kintoneSyncBundleOptions } from "../../functions/kintone-sync/bundle-options";

// The offline main job, run the way a user runs it: `npm run synth -- <stack> --out <dir>`.
const outRoot = fs.mkdtempSync(path.join(os.tmpdir(), "vlk-synth-"));

function synth(stack: string): { status: number | null; stdout: string; stderr: string; out: string } {
  const out = path.join(outRoot, stack);
  const r = spawnSync("npm", ["run", "--silent", "synth", "--", stack, "--out", out], {
    cwd: REPO_ROOT,
    encoding: "utf8",
    env: { ...process.env, AWS_ACCESS_KEY_ID: "", AWS_PROFILE: "" },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, out };
}

function graphOf(out: string) {
  return JSON.parse(fs.readFileSync(path.join(out, "graph.json"), "utf8"));
}

describe.each(["dev", "prod"])("npm run synth -- %s", (stack) => {
  let r: ReturnType<typeof synth>;
  beforeAll(() => {
    r = synth(stack);
  });

  test("exits 0 and prints resources by type, outputs and bundle sizes", () => {
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^stack ${stack}: \\d+ resources`, "m"));
    expect(r.stdout).toMatch(/^\s+\d+\s+aws:ec2\/natGateway:NatGateway$/m);
    expect(r.stdout).toMatch(/^\s+egressIps: \["203\.0\.113\.\d+"/m);
    expect(r.stdout).toMatch(/^\s+kintone-sync: \d+\.\d KiB\s+sha256 [0-9a-f]{12}$/m);
  });

  test("graph.json has the documented shape, with resolved inputs and deterministic ids", () => {
    const g = graphOf(r.out);
    expect(Object.keys(g).sort()).toEqual(["outputs", "project", "resources", "stack"]);
    expect(g.project).toBe("vpc-lambda-kit");
    expect(g.stack).toBe(stack);
    for (const res of g.resources) {
      expect(Object.keys(res).sort()).toEqual([
        "dependencies",
        "id",
        "inputs",
        "name",
        "parent",
        "provider",
        "type",
        "urn",
      ]);
      expect(res.urn).toMatch(/^urn:pulumi:/);
      // Every dependency is another resource of the graph.
      for (const d of res.dependencies) expect(g.resources.some((x: any) => x.urn === d)).toBe(true);
    }
    const nat = g.resources.find((x: any) => x.type === "aws:ec2/natGateway:NatGateway");
    const subnetIds = g.resources.filter((x: any) => x.type === "aws:ec2/subnet:Subnet").map((x: any) => x.id);
    expect(subnetIds).toContain(nat.inputs.subnetId);
    const again = synth(stack);
    expect(again.status).toBe(0);
    expect(fs.readFileSync(path.join(again.out, "graph.json"), "utf8")).toBe(
      fs.readFileSync(path.join(r.out, "graph.json"), "utf8"),
    );
  });

  test("every function bundle is written exactly as deployed", () => {
    const written = fs.readFileSync(path.join(r.out, "functions", "kintone-sync", "index.js"), "utf8");
    expect(written).toBe(bundleFunction("kintone-sync", kintoneSyncBundleOptions()).code);
    const g = graphOf(r.out);
    const fn = g.resources.find((x: any) => x.type === "aws:lambda/function:Function" && x.name === "kintone-sync-fn");
    expect(fn.inputs.code.archive["index.js"].asset.bytes).toBe(Buffer.byteLength(written));
  });

  test("secrets appear only as [secret]", () => {
    const text = fs.readFileSync(path.join(r.out, "graph.json"), "utf8");
    expect(text).not.toContain("synth-placeholder-secret");
    expect(text).toContain('"secretString": "[secret]"');
  });
});

test("a split stack synthesizes its upstream stacks first and reads their outputs", () => {
  const r = synth("dev-apps");
  expect(r.stderr).toBe("");
  expect(r.status).toBe(0);
  const net = graphOf(path.join(outRoot, "dev-network"));
  const apps = graphOf(r.out);
  expect(apps.outputs.egressIps).toEqual(net.outputs.egressIps);
  const fn = apps.resources.find((x: any) => x.type === "aws:lambda/function:Function");
  expect(fn.inputs.vpcConfig.subnetIds).toEqual(net.outputs.network.privateSubnetIds);
});
