import { VPC_ENI_ACTIONS } from "../../components/vpc-function";
import { DATA_API_ACTIONS } from "../../stacks/db-client";
import { GraphView, policyDoc, synthForTest } from "../support/graph";
import { devOnDataApi } from "../support/data-api";
import { egressRules } from "../support/sg-rules";

// dev with both roles in one account and db-writer on the Data API: HTTPS to rds-data only, no 5432.
let g: GraphView;
beforeAll(async () => {
  g = (await synthForTest("dev", devOnDataApi())).view;
});

test("in one account the master secret keeps the AWS-managed key: no key, no secret policy, no pinned role name", () => {
  expect(g.all("aws:kms/key:Key")).toEqual([]);
  expect(g.all("aws:secretsmanager/secretPolicy:SecretPolicy")).toEqual([]);
  expect(g.one("aws:rds/cluster:Cluster", "data-db-cluster").inputs.masterUserSecretKmsKeyId).toBeUndefined();
  expect(g.one("aws:iam/role:Role", "db-writer-role").inputs.name).toBeUndefined();
});

test("db-writer's only egress is 443 to the VPC's rds-data endpoint; it never opens 5432", () => {
  const sg = g.one("aws:ec2/securityGroup:SecurityGroup", "db-writer-sg");
  const endpointSg = g.one("aws:ec2/securityGroup:SecurityGroup", "endpoints-sg");
  expect(egressRules(g, sg)).toEqual([["tcp", 443, 443, endpointSg.id]]);
  expect(g.one("aws:ec2/vpcEndpoint:VpcEndpoint", "endpoints-rds-data").inputs).toMatchObject({
    serviceName: "com.amazonaws.ap-northeast-1.rds-data",
    vpcEndpointType: "Interface",
    privateDnsEnabled: true,
  });
  expect(g.one("vpc-lambda-kit:functions:VpcFunction", "db-writer").inputs.flows).toEqual([
    {
      to: { kind: "awsService", service: "rds-data" },
      port: 443,
      protocol: "tcp",
      purpose: "run SQL through the RDS Data API",
    },
  ]);
});

test("its role may run Data API statements and transactions on that one cluster and read its secret, nothing else", () => {
  const data = g.graph.outputs.data as Record<string, string>;
  const role = g.one("aws:iam/role:Role", "db-writer-role");
  const doc = policyDoc(g.all("aws:iam/rolePolicy:RolePolicy").find((p) => p.inputs.role === role.id)!);
  expect(doc.Statement.map((s) => s.Sid)).toEqual(["VpcEni", "Logs", "ReadDbSecret", "DataApi"]);
  expect(doc.Statement[0].Action).toEqual(VPC_ENI_ACTIONS);
  expect(doc.Statement.slice(2)).toEqual([
    { Sid: "ReadDbSecret", Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: data.masterSecretArn },
    { Sid: "DataApi", Effect: "Allow", Action: DATA_API_ACTIONS, Resource: data.clusterArn },
  ]);
  expect(DATA_API_ACTIONS).toEqual([
    "rds-data:ExecuteStatement",
    "rds-data:BatchExecuteStatement",
    "rds-data:BeginTransaction",
    "rds-data:CommitTransaction",
    "rds-data:RollbackTransaction",
  ]);
  expect(data.clusterArn).toBe("arn:aws:rds:ap-northeast-1:111111111111:cluster:vpc-lambda-kit-dev-data-db");
  const env = (
    g.one("aws:lambda/function:Function", "db-writer-fn").inputs.environment as { variables: Record<string, string> }
  ).variables;
  expect(env).toMatchObject({
    DB_ACCESS: "data-api",
    DB_CLUSTER_ARN: data.clusterArn,
    DB_SECRET_ARN: data.masterSecretArn,
  });
});
