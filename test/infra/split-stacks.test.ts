import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { REPO_ROOT } from "../../components/bundle";
import { readStackConfig } from "../../ops/stack-config";
import type { Graph } from "../../ops/synth-core";
import { GraphView, policyDoc } from "../support/graph";

// Split mode: dev-network (A) → dev-data (B) → dev-apps (A), each reading its upstream's
// outputs by StackReference, must be the environment the combined dev stack is. Synthesized the way a
// user does it (`npm run synth -- dev-apps` synthesizes dev-network and dev-data first and answers the
// StackReferences from their graph.json), in child processes: Pulumi's runtime is global.
const outRoot = fs.mkdtempSync(path.join(os.tmpdir(), "vlk-split-"));
type Res = Graph["resources"][number];

function synth(stack: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      "npm",
      ["run", "--silent", "synth", "--", stack, "--out", path.join(outRoot, stack), "--quiet"],
      {
        cwd: REPO_ROOT,
        stdio: ["ignore", "ignore", "pipe"],
        env: { ...process.env, AWS_ACCESS_KEY_ID: "", AWS_PROFILE: "" },
      },
    );
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += String(d)));
    child.on("close", (code) =>
      code === 0 ? resolve() : reject(new Error(`synth ${stack} exited ${code}:\n${stderr}`)),
    );
  });
}

function load(stack: string): GraphView {
  return new GraphView(JSON.parse(fs.readFileSync(path.join(outRoot, stack, "graph.json"), "utf8")));
}

let dev: GraphView;
let network: GraphView;
let data: GraphView;
let apps: GraphView;
let splits: GraphView[];
let netOut: Record<string, any>;
let dataOut: Record<string, any>;

beforeAll(async () => {
  await Promise.all([synth("dev"), synth("dev-apps")]);
  [dev, network, data, apps] = ["dev", "dev-network", "dev-data", "dev-apps"].map(load);
  splits = [network, data, apps];
  netOut = network.graph.outputs.network as Record<string, any>;
  dataOut = data.graph.outputs.data as Record<string, any>;
}, 300000);

/** Per-stack plumbing, not part of the environment: providers (one per account a stack acts in) and StackReferences. */
const plumbing = (r: Res) => r.type.startsWith("pulumi:providers:") || r.type === "pulumi:pulumi:StackReference";
const key = (r: Res) => `${r.type} ${r.name}`;
const env = (g: GraphView, fn: string) =>
  (g.one("aws:lambda/function:Function", fn).inputs.environment as { variables: Record<string, string> }).variables;
const pairs = (g: GraphView, type: string) => g.all(type).map((r) => [r.name, r.inputs.name ?? null]);

test("each split stack runs one role with its own account's provider, and reads only its upstream stacks by StackReference", () => {
  expect(splits.map((g) => g.graph.outputs.roles)).toEqual([["network"], ["data"], ["apps"]]);
  expect(pairs(network, "pulumi:pulumi:StackReference")).toEqual([]);
  expect(pairs(data, "pulumi:pulumi:StackReference")).toEqual([
    ["network-upstream", "organization/vpc-lambda-kit/dev-network"],
  ]);
  expect(pairs(apps, "pulumi:pulumi:StackReference")).toEqual([
    ["data-upstream", "organization/vpc-lambda-kit/dev-data"],
    ["network-upstream", "organization/vpc-lambda-kit/dev-network"],
  ]);
  const providers = (g: GraphView) =>
    g.graph.resources
      .filter((r) => r.type.startsWith("pulumi:providers:"))
      .map((r) => r.name)
      .sort();
  expect(splits.map(providers)).toEqual([["account-a"], ["account-b"], ["account-a", "account-a-native"]]);
  expect(providers(dev)).toEqual(["account-a", "account-a-native", "account-b"]);
  // Account B acts only in dev-data; everything there is on its provider.
  for (const r of data.graph.resources.filter((x) => x.type.startsWith("aws:")))
    expect([r.name, data.providerName(r)]).toEqual([r.name, "account-b"]);
  expect(apps.all("aws:ec2/vpc:Vpc")).toEqual([]);
  expect(apps.all("aws:rds/cluster:Cluster")).toEqual([]);
  expect(apps.all("aws:ec2transitgateway/transitGateway:TransitGateway")).toEqual([]);
});

test("the three split stacks together create what dev creates", () => {
  const union = splits.flatMap((g) => g.graph.resources.filter((r) => !plumbing(r)).map(key));
  // No resource is created twice (by two stacks)...
  expect(union.filter((k, i) => union.indexOf(k) !== i)).toEqual([]);
  // ...and, by type and name, the union is exactly dev's environment.
  expect(union.sort()).toEqual(
    dev.graph.resources
      .filter((r) => !plumbing(r))
      .map(key)
      .sort(),
  );
  for (const [type, name] of [
    ["aws:lambda/function:Function", "db-writer-fn"],
    ["aws:lambda/function:Function", "pets-api-fn"],
    ["aws:lambda/function:Function", "appflow-connector-fn"],
    ["aws:apigateway/restApi:RestApi", "private-api-api"],
    ["aws:ec2/vpcEndpoint:VpcEndpoint", "endpoints-execute-api"],
    ["aws:rds/cluster:Cluster", "data-db-cluster"],
  ])
    expect(union).toContain(`${type} ${name}`);
});

test("apart from the stack's own name, every resource has dev's inputs, parent, provider and id", () => {
  // Intended differences, all from the stack name (pulumi.getStack()): the Stack default tag and the
  // assumed-role session name, the RAM share name, the proxy pool tag (also in the boot script), function
  // and API descriptions, kintone-sync's allowlist hint (egressIps of "dev-network", not "dev"), and the
  // database cluster identifier (vpc-lambda-kit-<stack>-data-db) with every endpoint and ARN derived from it.
  const normalize = (r: Res, split: boolean) => {
    const inputs = { ...r.inputs };
    if (typeof inputs.userData === "string") inputs.userData = Buffer.from(inputs.userData, "base64").toString("utf8");
    const text = JSON.stringify({
      inputs,
      parent: r.parent?.split("::").pop() ?? null,
      provider: r.provider?.split("::").pop() ?? null,
      id: r.id,
    });
    return split ? text.replace(/\bdev-(network|data|apps)\b/g, "dev") : text;
  };
  const fromSplits = new Map(
    splits.flatMap((g) =>
      g.graph.resources.filter((r) => !plumbing(r)).map((r) => [key(r), normalize(r, true)] as const),
    ),
  );
  const differing = dev.graph.resources
    .filter((r) => !plumbing(r) && fromSplits.get(key(r)) !== normalize(r, false))
    .map(key);
  expect(differing).toEqual([]);
  // Without the normalization the cluster identifier does differ: it carries the data stack's name.
  expect(data.one("aws:rds/cluster:Cluster", "data-db-cluster").inputs.clusterIdentifier).toBe(
    "vpc-lambda-kit-dev-data-data-db",
  );
  expect(dev.one("aws:rds/cluster:Cluster", "data-db-cluster").inputs.clusterIdentifier).toBe(
    "vpc-lambda-kit-dev-data-db",
  );
});

test("dev-apps reads the database endpoint and secret ARN from dev-data by StackReference and db-writer's env holds them", () => {
  expect(dataOut.endpoint).toMatch(
    /^vpc-lambda-kit-dev-data-data-db\.cluster-[0-9a-f]+\.ap-northeast-1\.rds\.amazonaws\.com$/,
  );
  expect(dataOut.masterSecretArn).toBe(
    data.one("aws:secretsmanager/secretPolicy:SecretPolicy", "data-db-secret-policy").inputs.secretArn,
  );
  expect(env(apps, "db-writer-fn")).toEqual({
    DB_ACCESS: "pg",
    DB_HOST: dataOut.endpoint,
    DB_PORT: "5432",
    DB_NAME: "app",
    DB_SECRET_ARN: dataOut.masterSecretArn,
    DB_CLUSTER_ARN: dataOut.clusterArn,
    DB_CONNECT_TIMEOUT_MS: "3000",
  });
  expect(env(apps, "pets-api-fn")).toMatchObject({
    DB_ACCESS: "pg",
    DB_HOST: dataOut.endpoint,
    DB_SECRET_ARN: dataOut.masterSecretArn,
  });
  expect(env(apps, "appflow-connector-fn").ALLOWED_DB_HOSTS).toBe(`${dataOut.endpoint},${dataOut.readerEndpoint}`);
  // db-writer may decrypt with the key dev-data exported, and read that one secret.
  const role = apps.one("aws:iam/role:Role", "db-writer-role");
  const doc = policyDoc(apps.all("aws:iam/rolePolicy:RolePolicy").find((p) => p.inputs.role === role.id)!);
  expect(
    doc.Statement.filter((s) => s.Sid === "ReadDbSecret" || s.Sid === "DecryptDbSecret").map((s) => s.Resource),
  ).toEqual([dataOut.masterSecretArn, dataOut.secretKmsKeyArn]);
});

test("dev-data shares the master secret with exactly the roles dev-apps pins in account A: db-writer's and pets-api's", () => {
  const pinned = ["db-writer-role", "pets-api-role"].map(
    (n) => `arn:aws:iam::111111111111:role/${apps.one("aws:iam/role:Role", n).inputs.name}`,
  );
  expect(pinned).toEqual([
    "arn:aws:iam::111111111111:role/vpc-lambda-kit-dev-db-writer",
    "arn:aws:iam::111111111111:role/vpc-lambda-kit-dev-pets-api",
  ]);
  const secretPolicy = JSON.parse(
    data.one("aws:secretsmanager/secretPolicy:SecretPolicy", "data-db-secret-policy").inputs.policy as string,
  );
  expect(secretPolicy.Statement.map((s: any) => s.Condition.ArnEquals["aws:PrincipalArn"])).toEqual([pinned]);
  const keyPolicy = JSON.parse(data.one("aws:kms/key:Key", "data-db-secret-key").inputs.policy as string);
  expect(JSON.stringify(keyPolicy)).toContain(JSON.stringify(pinned));
  expect(data.one("aws:kms/key:Key", "data-db-secret-key").id).toBe(dataOut.secretKmsKeyArn.split("/").pop());
});

test("dev-apps' functions run in dev-network's private subnets, reach its endpoints, and the private API binds to its execute-api endpoint", () => {
  for (const fn of ["kintone-sync", "saas-export", "db-writer", "pets-api", "appflow-connector"]) {
    expect(
      (apps.one("aws:lambda/function:Function", `${fn}-fn`).inputs.vpcConfig as { subnetIds: string[] }).subnetIds,
    ).toEqual(netOut.privateSubnetIds);
    expect(apps.one("aws:ec2/securityGroup:SecurityGroup", `${fn}-sg`).inputs.vpcId).toBe(netOut.vpcId);
  }
  expect(netOut.privateSubnetIds).toEqual([
    network.one("aws:ec2/subnet:Subnet", "egress-private-0").id,
    network.one("aws:ec2/subnet:Subnet", "egress-private-1").id,
  ]);
  const toEndpoints = apps
    .all("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    .filter((r) => r.inputs.securityGroupId === netOut.endpointSecurityGroupId);
  expect(toEndpoints.map((r) => r.name).sort()).toEqual([
    "appflow-connector-to-endpoints",
    "athena-connector-to-endpoints",
    "db-writer-to-endpoints",
    "kintone-sync-to-endpoints",
    "pets-api-to-endpoints",
    "private-api-caller-to-endpoints",
    "saas-export-to-endpoints",
  ]);
  expect(netOut.endpointSecurityGroupId).toBe(network.one("aws:ec2/securityGroup:SecurityGroup", "endpoints-sg").id);

  expect(netOut.executeApiEndpointId).toBe(network.one("aws:ec2/vpcEndpoint:VpcEndpoint", "endpoints-execute-api").id);
  const api = apps.one("aws:apigateway/restApi:RestApi", "private-api-api").inputs as any;
  expect(api.endpointConfiguration).toMatchObject({ types: "PRIVATE", vpcEndpointIds: [netOut.executeApiEndpointId] });
  const policy = JSON.parse(
    apps.one("aws:apigateway/restApiPolicy:RestApiPolicy", "private-api-policy").inputs.policy as string,
  );
  expect(JSON.stringify(policy)).toContain(`"aws:SourceVpce":["${netOut.executeApiEndpointId}"]`);
  expect(apps.graph.outputs.egressIps).toEqual(netOut.egressIps);
  expect(env(apps, "kintone-sync-fn").KINTONE_ALLOWLIST_HINT).toBe('stack output "egressIps" of stack dev-network');
});

test("dev-data attaches to dev-network's Transit Gateway through the share the network stack exported", () => {
  expect(data.one("aws:ram/resourceShareAccepter:ResourceShareAccepter", "data-transit-accepter").inputs).toEqual({
    shareArn: netOut.tgwShareArn,
  });
  expect(netOut.tgwShareArn).toBe(network.one("aws:ram/resourceShare:ResourceShare", "transit-share").id);
  expect(
    data.one("aws:ec2transitgateway/vpcAttachment:VpcAttachment", "data-transit-attachment").inputs.transitGatewayId,
  ).toBe(netOut.transitGatewayId);
  expect(netOut.transitGatewayId).toBe(
    network.one("aws:ec2transitgateway/transitGateway:TransitGateway", "transit-tgw").id,
  );
});

test("no secret crosses a stack boundary", () => {
  // What crosses is the upstream stacks' outputs: plain values, the same keys the combined stack exports.
  for (const [g, role] of [
    [network, "network"],
    [data, "data"],
  ] as const) {
    expect(JSON.stringify(g.graph.outputs)).not.toContain("[secret]");
    expect(Object.keys(g.graph.outputs[role] as object).sort()).toEqual(
      Object.keys(dev.graph.outputs[role] as object).sort(),
    );
    // Nothing upstream holds a secret at all: the secret config keys live in dev-apps only.
    expect(g.graph.resources.filter((r) => JSON.stringify(r.inputs).includes("[secret]")).map((r) => r.name)).toEqual(
      [],
    );
    expect(readStackConfig(path.join(REPO_ROOT, `Pulumi.${g.graph.stack}.yaml`)).secretKeys).toEqual([]);
  }
  // dev-apps' secrets come from its own config, and land exactly where dev puts them.
  const holders = (g: GraphView) =>
    g.graph.resources
      .filter((r) => JSON.stringify(r.inputs).includes("[secret]"))
      .map((r) => r.name)
      .sort();
  expect(holders(apps)).toEqual([
    "appflow-connector-connection",
    "athena-connector-auth-value",
    "kintone-sync-token-value",
    "proxy-header-secret-version",
    "saas-export-auth-value",
  ]);
  expect(holders(apps)).toEqual(holders(dev));
  expect(readStackConfig(path.join(REPO_ROOT, "Pulumi.dev-apps.yaml")).secretKeys.sort()).toEqual(
    ["appflowDbPassword", "kintoneApiToken", "proxyHeaderValue", "saasApiToken"].map((k) => `vpc-lambda-kit:${k}`),
  );
  // The database password never crosses either: dev-apps gets only the secret's ARN, read at run time.
  expect(
    apps
      .all("aws:secretsmanager/secretVersion:SecretVersion")
      .map((r) => r.name)
      .sort(),
  ).toEqual([
    "athena-connector-auth-value",
    "kintone-sync-token-value",
    "proxy-header-secret-version",
    "saas-export-auth-value",
  ]);
});
