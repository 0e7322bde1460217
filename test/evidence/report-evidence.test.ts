import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { spawnSync } from "child_process";
import type { Graph } from "../../ops/synth-core";
import { synthForTest } from "../support/graph";
import { runCheck } from "../../ops/check/report";
import { checkEvidence, configKeyFor } from "../../ops/check/evidence";

/**
 * The evidence section of the check report (ops/check/evidence.ts): IAM validation, simulated calls,
 * create order and limits run inside `npm run check`, an error finding fails the check and names the
 * resource, the problem, the fix and (for limits) the config key.
 */
describe("check report: evidence section", () => {
  let graph: Graph;
  beforeAll(async () => {
    graph = (await synthForTest("dev")).result.graph;
  });
  const clone = (): Graph => JSON.parse(JSON.stringify(graph));
  const res = (g: Graph, name: string) => {
    const r = g.resources.find((x) => x.name === name);
    if (!r) throw new Error(`no ${name}`);
    return r;
  };
  /** A clone of the graph whose first rule of `type` with a description gets `description` instead. */
  const withDescription = (type: string, description: string) => {
    const g = clone();
    const rule = g.resources.find((r) => r.type === type && typeof r.inputs.description === "string");
    if (!rule) throw new Error(`no ${type} with a description`);
    rule.inputs.description = description;
    return { g, rule };
  };

  test("the dev stack passes with every evidence check run (not vacuous)", async () => {
    const { report, text } = await runCheck(graph, { diagram: false });
    expect(report.evidence?.summary.errors).toBe(0);
    expect(report.evidence?.summary.policies).toBeGreaterThanOrEqual(15);
    expect(report.evidence?.summary.callsAllowed).toBeGreaterThanOrEqual(15);
    expect(report.evidence?.summary.mustDenyRefused).toBeGreaterThanOrEqual(20);
    expect(report.evidence?.findings).toEqual([]);
    expect(text).toMatch(/^evidence: \d+ IAM policies validated/m);
  });

  test("an apostrophe in a security group rule description fails the check, naming resource and fix", async () => {
    const { g, rule } = withDescription(
      "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
      "to the VPC's endpoints",
    );
    const { report, text } = await runCheck(g, { diagram: false });
    expect(report.ok).toBe(false);
    const f = report.evidence?.findings.find((x) => x.check === "limits" && x.resource === rule.name);
    expect(f?.severity).toBe("error");
    expect(f?.problem).toContain("description");
    expect(f?.fix).toMatch(/allowed characters/);
    expect(text).toContain(`ERROR   [limits] ${rule.name}`);
  });

  test("a Lambda memory size out of range names the config key that set it", () => {
    const g = clone();
    res(g, "kintone-sync-fn").inputs.memorySize = 20000;
    res(g, "pets-api-fn").inputs.timeout = 1000;
    const found = checkEvidence(g.resources).findings.filter((f) => f.check === "limits");
    expect(found.map((f) => [f.resource, f.configKey])).toEqual(
      expect.arrayContaining([
        ["kintone-sync-fn", "kintoneSync.memoryMb"],
        ["pets-api-fn", "privateApi.petsApi.timeoutSeconds"],
      ]),
    );
    expect(found.find((f) => f.resource === "kintone-sync-fn")?.fix).toContain("kintoneSync.memoryMb");
  });

  test("configKeyFor maps log retention, names and the flow description", () => {
    const lr = { urn: "u", type: "aws:cloudwatch/logGroup:LogGroup", name: "db-writer-logs", inputs: {} };
    expect(configKeyFor(lr, "retentionInDays")).toBe("logRetentionInDays");
    expect(configKeyFor({ ...lr, type: "aws:lambda/function:Function", name: "saas-export-fn" }, "name")).toMatch(
      /stack name and saasExport/,
    );
    expect(
      configKeyFor({ ...lr, type: "aws:appflow/flow:Flow", name: "appflow-connector-example-flow" }, "description"),
    ).toContain("appflowConnector.flow.entity");
  });

  test("a role policy granting an action that does not exist fails as an IAM error", async () => {
    const g = clone();
    const pol = g.resources.find(
      (r) => r.type === "aws:iam/rolePolicy:RolePolicy" && r.name.startsWith("kintone-sync"),
    );
    if (!pol) throw new Error("no kintone-sync role policy");
    const doc = JSON.parse(String(pol.inputs.policy));
    doc.Statement.push({ Effect: "Allow", Action: "secretsmanager:GetSecretValues", Resource: "*" });
    pol.inputs.policy = JSON.stringify(doc);
    const { report } = await runCheck(g, { diagram: false });
    expect(report.ok).toBe(false);
    expect(
      report.evidence?.findings.some(
        (f) =>
          f.check === "iam-policy" &&
          f.severity === "error" &&
          f.resource === pol.name &&
          /GetSecretValues/.test(f.problem),
      ),
    ).toBe(true);
  });

  test("a declared call the role does not allow fails, naming the function and the action", () => {
    const g = clone();
    const pol = g.resources.find((r) => r.type === "aws:iam/rolePolicy:RolePolicy" && r.name.startsWith("saas-export"));
    if (!pol) throw new Error("no saas-export role policy");
    const doc = JSON.parse(String(pol.inputs.policy));
    doc.Statement = doc.Statement.filter(
      (s: { Action: string | string[] }) => ![s.Action].flat().some((a) => a.startsWith("s3:Put")),
    );
    pol.inputs.policy = JSON.stringify(doc);
    const f = checkEvidence(g.resources).findings.filter((x) => x.check === "iam-calls");
    expect(f.length).toBeGreaterThan(0);
    expect(f[0]).toMatchObject({ severity: "error", resource: "saas-export-fn" });
    expect(f[0].problem).toMatch(/s3:PutObject/);
  });

  test("a missing upstream stack leaves cross-account calls UNVERIFIED, never allowed or skipped", () => {
    const g = clone();
    // Drop what the data account holds (the secret's policy and key): as if dev-data were not merged in.
    g.resources = g.resources.filter(
      (r) => !["aws:secretsmanager/secretPolicy:SecretPolicy", "aws:kms/key:Key"].includes(r.type),
    );
    const e = checkEvidence(g.resources, { splitStack: true, missingUpstream: ["dev-data"] });
    const un = e.findings.filter((f) => f.severity === "unverified");
    expect(un.length).toBeGreaterThan(0);
    expect(un.every((f) => /dev-data/.test(f.problem))).toBe(true);
    expect(un.some((f) => f.resource === "db-writer-fn" && /kms:Decrypt/.test(f.problem))).toBe(true);
  });

  test("npm run check exits 1 on an evidence error (graph with a broken rule description)", () => {
    const { g, rule } = withDescription("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "it's refused");
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vlk-ev-"));
    fs.mkdirSync(path.join(dir, "dev"));
    const file = path.join(dir, "dev", "graph.json");
    fs.writeFileSync(file, JSON.stringify(g));
    const root = path.resolve(__dirname, "../..");
    const r = spawnSync(
      process.execPath,
      [require.resolve("ts-node/dist/bin.js"), "--transpile-only", path.join(root, "ops/check.ts"), "--graph", file],
      { cwd: root, encoding: "utf8" },
    );
    expect(r.status).toBe(1);
    expect(r.stdout).toContain(`[limits] ${rule.name}`);
    expect(
      JSON.parse(fs.readFileSync(path.join(dir, "dev", "report.json"), "utf8")).evidence.summary.errors,
    ).toBeGreaterThan(0);
    fs.rmSync(dir, { recursive: true, force: true });
  }, 120000);
});
