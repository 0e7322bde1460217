import * as path from "path";
import { REPO_ROOT } from "../../components/bundle";
import { runCheck } from "../../ops/check/report";
import { requiredForbiddenPaths } from "../../ops/check/required";
import type { Graph } from "../../ops/synth-core";
import { readStackConfig } from "../../ops/stack-config";
import { loadConfig } from "../../stacks/config/load";
import type { EnvConfig } from "../../stacks/config/schema";
import { GraphView, synthForTest } from "../support/graph";

// The dev stack under the strict mocks: endpoint policies, trust policies and the required forbidden paths.
let view: GraphView;
let graph: Graph;
let cfg: EnvConfig;
beforeAll(async () => {
  // Flow logs and the account's API Gateway CloudWatch role on, so both service trust policies exist.
  const r = await synthForTest("dev", {
    "vpc-lambda-kit:network": {
      cidrBlock: "10.0.0.0/16",
      availabilityZones: 2,
      natGateways: "single",
      interfaceEndpoints: ["secretsmanager", "execute-api"],
      gatewayEndpoints: ["s3", "dynamodb"],
      flowLogs: { enabled: true },
    },
    "vpc-lambda-kit:privateApi": {
      stageName: "v1",
      consumers: { vpcEndpointIds: [], accountIds: [], sampleCaller: true },
      petsApi: { access: "pg" },
      manageAccountCloudWatchRole: true,
    },
  });
  view = r.view;
  graph = r.result.graph;
  const file = readStackConfig(path.join(REPO_ROOT, "Pulumi.dev.yaml"));
  cfg = loadConfig(file.config, file.secretKeys);
});

type Statement = {
  Sid?: string;
  Effect: string;
  Principal?: unknown;
  Action: string | string[];
  Resource: string | string[];
  Condition?: Record<string, Record<string, unknown>>;
};
const policyOf = (name: string): Statement[] =>
  JSON.parse(view.one("aws:ec2/vpcEndpoint:VpcEndpoint", name).inputs.policy as string).Statement;

test("the S3 gateway endpoint reaches only the kit's accounts' buckets, and the Amazon Linux repository read-only", () => {
  const st = policyOf("endpoints-s3-gateway");
  expect(st).toEqual([
    {
      Sid: "KitAccountsOnly",
      Effect: "Allow",
      Principal: "*",
      Action: "s3:*",
      Resource: "*",
      Condition: { StringEquals: { "aws:ResourceAccount": ["111111111111", "222222222222"] } },
    },
    {
      Sid: "AmazonLinuxRepositories",
      Effect: "Allow",
      Principal: "*",
      Action: "s3:GetObject",
      Resource: "arn:aws:s3:::al2023-repos-ap-northeast-1-de612dc2/*",
    },
  ]);
});

test("the Secrets Manager and execute-api endpoints admit only the kit's accounts' secrets and APIs", () => {
  expect(policyOf("endpoints-secretsmanager")).toEqual([
    {
      Sid: "KitSecretsOnly",
      Effect: "Allow",
      Principal: "*",
      Action: ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
      Resource: ["arn:aws:secretsmanager:*:111111111111:secret:*", "arn:aws:secretsmanager:*:222222222222:secret:*"],
    },
  ]);
  expect(policyOf("endpoints-execute-api")).toEqual([
    {
      Sid: "KitApisOnly",
      Effect: "Allow",
      Principal: "*",
      Action: "execute-api:Invoke",
      Resource: [
        "arn:aws:execute-api:ap-northeast-1:111111111111:*",
        "arn:aws:execute-api:ap-northeast-1:222222222222:*",
      ],
    },
  ]);
});

test("every secret a function or instance reads is inside the Secrets Manager endpoint's accounts", () => {
  const allowed = (policyOf("endpoints-secretsmanager")[0].Resource as string[]).map((r) => r.split(":")[4]);
  const reads = view
    .all("aws:iam/rolePolicy:RolePolicy")
    .flatMap((p) => JSON.parse(p.inputs.policy as string).Statement as Statement[])
    .filter((s) => [s.Action].flat().includes("secretsmanager:GetSecretValue"))
    .flatMap((s) => [s.Resource].flat())
    .filter((r): r is string => typeof r === "string" && r.startsWith("arn:"));
  expect(reads.length).toBeGreaterThan(0);
  for (const arn of reads) expect([arn, allowed.includes(arn.split(":")[4])]).toEqual([arn, true]);
});

test("the AppFlow invoke permission is scoped to this account's AppFlow resources", () => {
  const perm = view.one("aws:lambda/permission:Permission", "appflow-connector-appflow-invoke");
  expect(perm.inputs).toMatchObject({
    principal: "appflow.amazonaws.com",
    sourceAccount: "111111111111",
    sourceArn: "arn:aws:appflow:ap-northeast-1:111111111111:*",
  });
});

test("service trust policies carry aws:SourceAccount where the service sets it", () => {
  const trust = (r: { inputs: Record<string, unknown> }) =>
    JSON.parse(r.inputs.assumeRolePolicy as string).Statement as Statement[];
  const byService = (svc: string) =>
    view.all("aws:iam/role:Role").filter((r) => JSON.stringify(trust(r)).includes(`"${svc}"`));
  const flowRoles = byService("vpc-flow-logs.amazonaws.com");
  const apigwRoles = byService("apigateway.amazonaws.com");
  expect([flowRoles.length, apigwRoles.length]).toEqual([1, 1]);
  for (const r of [...flowRoles, ...apigwRoles])
    expect(trust(r)[0].Condition).toEqual({ StringEquals: { "aws:SourceAccount": expect.stringMatching(/^\d{12}$/) } });
});

test("the dev stack requires the six no-internet verdicts, and has them", async () => {
  expect(requiredForbiddenPaths(cfg).map((r) => r.subject)).toEqual([
    "saas-export",
    "db-writer",
    "pets-api",
    "appflow-connector",
    "athena-connector-connector",
    "private-api-caller",
  ]);
  const out = await runCheck(graph, { cfg });
  const noInternet = out.report.forbidden.filter((f) => f.check === "no-internet");
  expect(noInternet.map((f) => [f.subject, f.status]).sort()).toEqual([
    ["appflow-connector", "OK"],
    ["athena-connector-connector", "OK"],
    ["db-writer", "OK"],
    ["pets-api", "OK"],
    ["private-api-caller", "OK"],
    ["saas-export", "OK"],
  ]);
});

test("a required verdict that is missing fails the check instead of vanishing", async () => {
  // Without saas-export's function in the graph the checker has nothing to judge: before the required
  // list, its no-internet verdict silently disappeared and the check still passed.
  const g: Graph = JSON.parse(JSON.stringify(graph));
  g.resources = g.resources.filter(
    (r) => !(r.type === "aws:lambda/function:Function" && r.urn.includes("saas-export")),
  );
  const out = await runCheck(g, { cfg });
  const saas = out.report.forbidden.filter((f) => f.subject === "saas-export" && f.check === "no-internet");
  expect(saas).toHaveLength(1);
  expect(saas[0].status).toBe("VIOLATED");
  expect(saas[0].detail).toMatch(/gives no no-internet verdict/);
  expect(out.report.ok).toBe(false);
});
