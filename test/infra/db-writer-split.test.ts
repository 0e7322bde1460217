import { GraphView, policyDoc, synthForTest } from "../support/graph";
import { DATA_STACK, NETWORK_STACK, NETWORK_VPC, upstreamOutputs } from "../support/split-apps";

// Split mode, account A: dev-apps runs db-writer against the database dev-data exported (docs/designs.md §3).
const SECRET =
  "arn:aws:secretsmanager:ap-northeast-1:222222222222:secret:rds!cluster-0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d-AbCdEf";
const KEY = "arn:aws:kms:ap-northeast-1:222222222222:key/0f1e2d3c-4b5a-4978-8796-a5b4c3d2e1f0";
const CLUSTER = "arn:aws:rds:ap-northeast-1:222222222222:cluster:vpc-lambda-kit-dev-data-db";
const ENDPOINT = "vpc-lambda-kit-dev-data-db.cluster-c0ffee123456.ap-northeast-1.rds.amazonaws.com";
const upstream: Record<string, Record<string, unknown>> = {
  [NETWORK_STACK]: {
    network: {
      ...NETWORK_VPC,
      publicSubnetIds: ["subnet-0public000000000"],
      privateSubnetCidrs: ["10.0.1.0/24"],
      privateRouteTableIds: ["rtb-0private00000000"],
      natGatewayIds: ["nat-0aaaaaaaaaaaaaaaa"],
      egressIps: ["198.51.100.7"],
      s3PrefixListId: "pl-61a54008",
      dynamodbPrefixListId: "pl-78a54011",
      endpointSecurityGroupId: "sg-0endpoints000000000",
      executeApiEndpointId: "vpce-0e0e0e0e0e0e0e0e0",
      transitGatewayId: "tgw-0123456789abcdef0",
      tgwShareArn: "",
      tgwRouteTableId: "",
    },
  },
  [DATA_STACK]: {
    data: {
      vpcId: "vpc-0bbbbbbbbbbbbbbbb",
      vpcCidr: "10.1.0.0/16",
      subnetIds: ["subnet-0d1", "subnet-0d2"],
      routeTableId: "rtb-0d",
      dbSubnetGroupName: "data-db",
      tgwAttachmentId: "tgw-attach-0d",
      clusterArn: CLUSTER,
      endpoint: ENDPOINT,
      readerEndpoint: ENDPOINT.replace(".cluster-", ".cluster-ro-"),
      port: 5432,
      databaseName: "app",
      masterSecretArn: SECRET,
      secretKmsKeyArn: KEY,
      securityGroupId: "sg-0database00000000",
    },
  },
};
let g: GraphView;

beforeAll(async () => {
  g = (
    await synthForTest(
      "dev-apps",
      {
        "vpc-lambda-kit:accounts": { a: { accountId: "111111111111" }, b: { accountId: "222222222222" } },
        "vpc-lambda-kit:dbWriter": { access: "pg" },
      },
      upstreamOutputs(upstream),
    )
  ).view;
});

test("db-writer takes the endpoint, secret and cluster from dev-data's outputs, and no database resource is created here", () => {
  const env = (
    g.one("aws:lambda/function:Function", "db-writer-fn").inputs.environment as { variables: Record<string, string> }
  ).variables;
  expect(env).toEqual({
    DB_ACCESS: "pg",
    DB_HOST: ENDPOINT,
    DB_PORT: "5432",
    DB_NAME: "app",
    DB_SECRET_ARN: SECRET,
    DB_CLUSTER_ARN: CLUSTER,
    DB_CONNECT_TIMEOUT_MS: "3000",
  });
  expect(g.all("aws:rds/cluster:Cluster")).toEqual([]);
  expect(g.all("aws:kms/key:Key")).toEqual([]);
  expect(g.all("pulumi:providers:aws").map((p) => p.name)).toEqual(["account-a"]);
});

test("its role carries the name dev-data's policies grant, and may read that secret and decrypt with that key only", () => {
  const role = g.one("aws:iam/role:Role", "db-writer-role");
  expect(role.inputs.name).toBe("vpc-lambda-kit-dev-db-writer");
  const doc = policyDoc(g.all("aws:iam/rolePolicy:RolePolicy").find((p) => p.inputs.role === role.id)!);
  expect(doc.Statement.filter((s) => s.Sid !== "VpcEni" && s.Sid !== "Logs")).toEqual([
    { Sid: "ReadDbSecret", Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: SECRET },
    {
      Sid: "DecryptDbSecret",
      Effect: "Allow",
      Action: ["kms:Decrypt"],
      Resource: KEY,
      Condition: { StringEquals: { "kms:ViaService": "secretsmanager.ap-northeast-1.amazonaws.com" } },
    },
  ]);
});

test("its egress is 5432 to the data VPC and 443 to the upstream VPC's endpoints, which admit it", () => {
  const sg = g.one("aws:ec2/securityGroup:SecurityGroup", "db-writer-sg");
  expect(sg.inputs.vpcId).toBe("vpc-0aaaaaaaaaaaaaaaa");
  const egress = g
    .all("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")
    .filter((r) => r.inputs.securityGroupId === sg.id);
  expect(
    egress.map((r) => [r.inputs.fromPort, r.inputs.cidrIpv4 ?? r.inputs.referencedSecurityGroupId]).sort(),
  ).toEqual([
    [443, "sg-0endpoints000000000"],
    [5432, "10.1.0.0/16"],
  ]);
  expect(
    g.one("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "db-writer-to-endpoints").inputs,
  ).toMatchObject({ securityGroupId: "sg-0endpoints000000000", referencedSecurityGroupId: sg.id, fromPort: 443 });
});
