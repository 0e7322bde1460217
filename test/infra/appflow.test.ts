/**
 * docs/designs.md §4 registered: the AppFlow connector Lambda, its network paths, who may invoke it and the AppFlow
 * resources, asserted on the synthesized graphs of both database modes: dev with appflowConnector.database
 * switched to "local" (an Aurora cluster in the network VPC, the usual recipe's design), synthesized in this process,
 * and prod as checked in ("data": the data role's Aurora across the Transit Gateway), synthesized by the CLI in a
 * child process (Pulumi's runtime is global).
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { REPO_ROOT } from "../../components/bundle";
import { configErrorsOf } from "../support/config-errors";
import { readStackConfig } from "../../ops/stack-config";
import type { Graph } from "../../ops/synth-core";
import { GraphView, policyDoc, synthForTest } from "../support/graph";
import { egressOf, ingressOf } from "../support/sg-rules";

jest.setTimeout(180_000);

const FN = "aws:lambda/function:Function";
const SG = "aws:ec2/securityGroup:SecurityGroup";
const INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule";
const REGION = "ap-northeast-1";

let dev: GraphView;
let prod: GraphView;

beforeAll(async () => {
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "vlk-appflow-")), "prod");
  const child = spawnSync("npm", ["run", "--silent", "synth", "--", "prod", "--out", out, "--quiet"], {
    cwd: REPO_ROOT,
    encoding: "utf8",
  });
  if (child.status !== 0) throw new Error(`synth prod failed:\n${child.stderr}`);
  prod = new GraphView(JSON.parse(fs.readFileSync(path.join(out, "graph.json"), "utf8")) as Graph);
  const devConnector = YAML.parse(fs.readFileSync(path.join(REPO_ROOT, "Pulumi.dev.yaml"), "utf8")).config[
    "vpc-lambda-kit:appflowConnector"
  ];
  dev = (
    await synthForTest("dev", {
      "vpc-lambda-kit:appflowConnector": {
        ...devConnector,
        database: "local",
        local: { minCapacity: 0.5, maxCapacity: 2 },
      },
    })
  ).view;
});

const accountOf = (stack: "dev" | "prod") => (stack === "dev" ? "111111111111" : "333333333333");
const view = (stack: "dev" | "prod") => (stack === "dev" ? dev : prod);
/** The connector function's physical name, from the stack outputs. */
const fnName = (g: GraphView) =>
  String((g.graph.outputs.apps as { appflowConnector: { functionName: string } }).appflowConnector.functionName);

describe.each(["dev", "prod"] as const)("the connector's network paths (%s)", (stack) => {
  test("the function runs in the network's private subnets with its own security group", () => {
    const g = view(stack);
    const fn = g.one(FN, "appflow-connector-fn");
    const vpc = fn.inputs.vpcConfig as { subnetIds: string[]; securityGroupIds: string[] };
    const privates = g
      .all("aws:ec2/subnet:Subnet")
      .filter((s) => s.name.startsWith("egress-private-"))
      .map((s) => s.id)
      .sort();
    expect([...vpc.subnetIds].sort()).toEqual(privates);
    expect(vpc.securityGroupIds).toEqual([g.one(SG, "appflow-connector-sg").id]);
  });

  test("its security group allows exactly 443 to the endpoints' group and 5432 to its database", () => {
    const g = view(stack);
    const sg = g.one(SG, "appflow-connector-sg");
    const rules = egressOf(g, sg.id).map((r) => ({
      port: [r.inputs.fromPort, r.inputs.toPort],
      sg: r.inputs.referencedSecurityGroupId,
      cidr: r.inputs.cidrIpv4,
    }));
    const endpointsSg = g.one(SG, "endpoints-sg").id;
    const db =
      stack === "dev"
        ? { port: [5432, 5432], sg: g.one(SG, "appflow-connector-db-sg").id, cidr: undefined }
        : { port: [5432, 5432], sg: undefined, cidr: "10.1.0.0/16" };
    expect(rules.sort((a, b) => Number(a.port[0]) - Number(b.port[0]))).toEqual([
      { port: [443, 443], sg: endpointsSg, cidr: undefined },
      db,
    ]);
    for (const r of egressOf(g, sg.id)) expect(r.inputs.ipProtocol).toBe("tcp");
  });

  test("the endpoints' group admits 443 from the connector's group", () => {
    const g = view(stack);
    const rule = g.one(INGRESS, "appflow-connector-to-endpoints");
    expect(rule.inputs).toMatchObject({
      securityGroupId: g.one(SG, "endpoints-sg").id,
      referencedSecurityGroupId: g.one(SG, "appflow-connector-sg").id,
      ipProtocol: "tcp",
      fromPort: 443,
      toPort: 443,
    });
  });

  test("Secrets Manager is an interface endpoint with private DNS in a VPC with DNS hostnames and resolution on", () => {
    const g = view(stack);
    const vpc = g.one("aws:ec2/vpc:Vpc", "egress-vpc");
    expect(vpc.inputs).toMatchObject({ enableDnsHostnames: true, enableDnsSupport: true });
    const ep = g.one("aws:ec2/vpcEndpoint:VpcEndpoint", "endpoints-secretsmanager");
    expect(ep.inputs).toMatchObject({
      vpcEndpointType: "Interface",
      serviceName: `com.amazonaws.${REGION}.secretsmanager`,
      privateDnsEnabled: true,
      vpcId: vpc.id,
      securityGroupIds: [g.one(SG, "endpoints-sg").id],
    });
  });

  test("the function may read only the secrets AppFlow creates for this connector's connections", () => {
    const g = view(stack);
    const acct = accountOf(stack);
    const doc = policyDoc(g.one("aws:iam/rolePolicy:RolePolicy", "appflow-connector-policy"));
    const secrets = doc.Statement.filter((s) => JSON.stringify(s.Action).includes("secretsmanager"));
    expect(secrets).toEqual([
      {
        Sid: "ReadAppflowConnectionSecrets",
        Effect: "Allow",
        Action: ["secretsmanager:GetSecretValue"],
        Resource: `arn:aws:secretsmanager:${REGION}:${acct}:secret:appflow!${acct}-vpc-lambda-kit-${stack}-postgres-*`,
      },
    ]);
    expect(doc.Statement.map((s) => s.Sid)).toEqual(["VpcEni", "Logs", "ReadAppflowConnectionSecrets"]);
  });

  test("its environment holds no credentials, and pins the database hosts it may reach", () => {
    const g = view(stack);
    const env = (g.one(FN, "appflow-connector-fn").inputs.environment as { variables: Record<string, string> })
      .variables;
    expect(Object.keys(env).sort()).toEqual([
      "ALLOWED_DB_HOSTS",
      "MAX_PAGE_ROWS",
      "PG_CONNECT_TIMEOUT_MS",
      "PG_STATEMENT_TIMEOUT_MS",
      "RESPONSE_MAX_BYTES",
    ]);
    const cluster = g.one(
      "aws:rds/cluster:Cluster",
      stack === "dev" ? "appflow-connector-db-cluster" : "data-db-cluster",
    );
    expect(env.ALLOWED_DB_HOSTS.split(",")).toEqual([
      expect.stringMatching(new RegExp(`^${cluster.id}\\.cluster-[0-9a-f]+\\.${REGION}\\.rds\\.amazonaws\\.com$`)),
      expect.stringMatching(/\.cluster-ro-/),
    ]);
    expect(JSON.stringify(g.graph)).not.toContain("synth-placeholder-secret");
  });

  test("AppFlow in this account, and only it, may invoke the function", () => {
    const g = view(stack);
    const acct = accountOf(stack);
    const name = fnName(g);
    expect(name).toMatch(/^appflow-connector-fn-[0-9a-f]{7}$/);
    const perms = g.all("aws:lambda/permission:Permission").filter((p) => p.inputs.function === name);
    expect(perms.map((p) => p.inputs)).toEqual([
      {
        action: "lambda:InvokeFunction",
        function: name,
        principal: "appflow.amazonaws.com",
        sourceAccount: acct,
        sourceArn: `arn:aws:appflow:${REGION}:${acct}:*`,
      },
    ]);
  });
});

describe("local database (dev, database: local)", () => {
  test("the database's security group admits 5432 from the connector's group and nothing else", () => {
    const dbSg = dev.one(SG, "appflow-connector-db-sg");
    const rules = ingressOf(dev, dbSg.id);
    expect(rules.map((r) => r.inputs)).toEqual([
      expect.objectContaining({
        ipProtocol: "tcp",
        fromPort: 5432,
        toPort: 5432,
        referencedSecurityGroupId: dev.one(SG, "appflow-connector-sg").id,
      }),
    ]);
    expect(rules[0].inputs.cidrIpv4).toBeUndefined();
  });

  test("the cluster sits in the network VPC's private subnets, never public, TLS forced", () => {
    const cluster = dev.one("aws:rds/cluster:Cluster", "appflow-connector-db-cluster");
    const subnets = dev.one("aws:rds/subnetGroup:SubnetGroup", "appflow-connector-db-subnets");
    // Auto-named: the mocks derive name and id from the same hash.
    expect(cluster.inputs.dbSubnetGroupName).toBe(
      `appflow-connector-db-subnets-${subnets.id.slice("mock-".length, "mock-".length + 7)}`,
    );
    const privates = dev
      .all("aws:ec2/subnet:Subnet")
      .filter((s) => s.name.startsWith("egress-private-"))
      .map((s) => s.id)
      .sort();
    expect([...(subnets.inputs.subnetIds as string[])].sort()).toEqual(privates);
    expect(cluster.inputs.vpcSecurityGroupIds).toEqual([dev.one(SG, "appflow-connector-db-sg").id]);
    expect(dev.one(SG, "appflow-connector-db-sg").inputs.vpcId).toBe(dev.one("aws:ec2/vpc:Vpc", "egress-vpc").id);
    for (const i of dev
      .all("aws:rds/clusterInstance:ClusterInstance")
      .filter((x) => x.name.startsWith("appflow-connector-db-")))
      expect(i.inputs.publiclyAccessible).toBe(false);
    const params = dev.one("aws:rds/clusterParameterGroup:ClusterParameterGroup", "appflow-connector-db-params");
    expect(params.inputs.parameters).toEqual([{ name: "rds.force_ssl", value: "1" }]);
  });
});

describe.each(["dev", "prod"] as const)("AppFlow registration on account A (%s)", (stack) => {
  test("the connector is registered through aws-native as a LAMBDA connector with the function's ARN", () => {
    const g = view(stack);
    const c = g.one("aws-native:appflow:Connector", "appflow-connector-registration");
    expect(c.inputs).toMatchObject({
      connectorLabel: `vpc-lambda-kit-${stack}-postgres`,
      connectorProvisioningType: "LAMBDA",
      connectorProvisioningConfig: {
        lambda: { lambdaArn: `arn:aws:lambda:${REGION}:${accountOf(stack)}:function:${fnName(g)}` },
      },
    });
    // Its provider is account A's aws-native provider, refusing any other account.
    expect(g.providerName(c)).toBe("account-a-native");
    const native = g.one("pulumi:providers:aws-native", "account-a-native");
    const allowed = JSON.parse(String(native.inputs.allowedAccountIds));
    expect(allowed).toEqual([accountOf(stack)]);
    expect(native.inputs.region).toBe(REGION);
    if (stack === "prod")
      expect(JSON.parse(String(native.inputs.assumeRole))).toMatchObject({
        roleArn: "arn:aws:iam::333333333333:role/vpc-lambda-kit-deployer",
      });
    expect(g.graph.outputs.apps).toMatchObject({
      appflowConnector: {
        connectorArn: `arn:aws:appflow:${REGION}:${accountOf(stack)}:connector/vpc-lambda-kit-${stack}-postgres`,
      },
    });
  });

  test("the connection is a CustomConnector profile of that label, its credentials a secret in state", () => {
    const g = view(stack);
    const p = g.one("aws:appflow/connectorProfile:ConnectorProfile", "appflow-connector-connection");
    expect(p.inputs).toMatchObject({
      connectorType: "CustomConnector",
      connectorLabel: `vpc-lambda-kit-${stack}-postgres`,
      connectionMode: "Public",
      name: `vpc-lambda-kit-${stack}-postgres-connection`,
    });
    expect(p.inputs.connectorProfileConfig).toBe("[secret]");
    expect(g.providerName(p)).toBe("account-a");
  });

  test("the example flow reads the users table through the connection and writes JSON to a bucket only AppFlow of this account may write", () => {
    const g = view(stack);
    const f = g.one("aws:appflow/flow:Flow", "appflow-connector-example-flow");
    const bucket = g.one("aws:s3/bucket:Bucket", "appflow-connector-flow-bucket");
    expect(f.inputs.sourceFlowConfig).toEqual({
      apiVersion: "v1",
      connectorType: "CustomConnector",
      connectorProfileName: `vpc-lambda-kit-${stack}-postgres-connection`,
      sourceConnectorProperties: { customConnector: { entityName: "users" } },
    });
    expect((f.inputs.destinationFlowConfigs as any[])[0]).toMatchObject({
      connectorType: "S3",
      destinationConnectorProperties: { s3: { bucketName: bucket.id, bucketPrefix: "appflow/users" } },
    });
    const tasks = f.inputs.tasks as Array<{
      taskType: string;
      sourceFields: string[];
      connectorOperators: Array<{ customConnector: string }>;
    }>;
    expect(tasks[0]).toEqual({
      taskType: "Filter",
      sourceFields: ["id", "email", "name", "created_at"],
      connectorOperators: [{ customConnector: "PROJECTION" }],
    });
    expect(tasks.slice(1).map((t) => t.taskType)).toEqual(["Map", "Map", "Map", "Map"]);
    expect(f.inputs.triggerConfig).toEqual({ triggerType: "OnDemand" });
    expect(g.providerName(f)).toBe("account-a");

    const policy = policyDoc(g.one("aws:s3/bucketPolicy:BucketPolicy", "appflow-connector-flow-bucket-policy"));
    const allow = policy.Statement.filter((s) => s.Effect === "Allow");
    expect(allow).toHaveLength(1);
    expect(allow[0]).toMatchObject({
      Principal: { Service: "appflow.amazonaws.com" },
      Resource: [`arn:aws:s3:::${bucket.id}`, `arn:aws:s3:::${bucket.id}/*`],
      Condition: { StringEquals: { "aws:SourceAccount": accountOf(stack) } },
    });
    expect(allow[0].Action).not.toContain("s3:GetObject");
    expect(policy.Statement.find((s) => s.Sid === "DenyInsecureTransport")).toMatchObject({
      Effect: "Deny",
      Condition: { Bool: { "aws:SecureTransport": "false" } },
    });
    expect(
      g.one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "appflow-connector-flow-bucket-pab").inputs,
    ).toMatchObject({
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
  });
});

describe("config checks name the key and the fix", () => {
  const errorsOf = (patch: Record<string, unknown>) => configErrorsOf(patch);
  const connector = (extra: Record<string, unknown>) => ({
    "vpc-lambda-kit:appflowConnector": { database: "local", flow: { entity: "users", fields: ["id"] }, ...extra },
  });

  test.each([
    [
      "no password for the connection",
      { "vpc-lambda-kit:appflowDbPassword": undefined },
      /^vpc-lambda-kit:appflowDbPassword: the AppFlow connection needs the database user's password.*Fix: pulumi config set --secret vpc-lambda-kit:appflowDbPassword/,
    ],
    [
      "a local database in a one-zone network",
      {
        ...connector({}),
        "vpc-lambda-kit:network": {
          cidrBlock: "10.0.0.0/16",
          availabilityZones: 1,
          interfaceEndpoints: ["secretsmanager", "execute-api"],
        },
        "vpc-lambda-kit:proxyTier": undefined,
        "vpc-lambda-kit:saasExport": undefined,
      },
      /^vpc-lambda-kit:network\.availabilityZones: the connector's local database needs a DB subnet group in two availability zones/,
    ],
    [
      "the data database while data.database is off",
      {
        ...connector({ database: "data" }),
        "vpc-lambda-kit:data": { database: { enabled: false } },
        "vpc-lambda-kit:dbWriter": undefined,
        "vpc-lambda-kit:privateApi": undefined,
      },
      /^vpc-lambda-kit:appflowConnector\.database: "data" reads the data role's Aurora database, which is off/,
    ],
    [
      "a flow without a connection",
      connector({ createConnection: false }),
      /^vpc-lambda-kit:appflowConnector\.flow: the example flow reads through the AppFlow connection, and createConnection is false/,
    ],
    [
      "a bad connector label",
      connector({ connectorLabel: "-bad label" }),
      /^vpc-lambda-kit:appflowConnector\.connectorLabel: "-bad label" is not an AppFlow connector label/,
    ],
    [
      "a statement timeout longer than the function's",
      connector({ timeoutSeconds: 10, statementTimeoutMs: 20000 }),
      /^vpc-lambda-kit:appflowConnector\.statementTimeoutMs: 20000 ms is not shorter than the function timeout/,
    ],
    [
      "bad local capacity",
      connector({ local: { minCapacity: 8, maxCapacity: 2 } }),
      /^vpc-lambda-kit:appflowConnector\.local\.minCapacity: minimum 8 ACU is above maximum 2 ACU/,
    ],
    ["an unknown key", connector({ pageSize: 10 }), /^vpc-lambda-kit:appflowConnector\.pageSize: unknown key/],
  ])("%s", (_label, patch, expected) => {
    expect(errorsOf(patch)).toEqual(expect.arrayContaining([expect.stringMatching(expected)]));
  });

  test("the checked-in configs pass, and the password is a secret key", () => {
    expect(errorsOf({})).toEqual([]);
    expect(readStackConfig(path.join(REPO_ROOT, "Pulumi.dev.yaml")).secretKeys).toContain(
      "vpc-lambda-kit:appflowDbPassword",
    );
  });
});
