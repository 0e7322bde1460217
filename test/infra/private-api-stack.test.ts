import { GraphView, policyDoc, synthForTest } from "../support/graph";
import { endpointOnlyStatements } from "../support/api-policy";
import { ACCESS_LOG_FORMAT } from "../../components/private-api";

// docs/designs.md §5 in the dev stack: the pets service behind a PRIVATE API on the network's execute-api endpoint.
let g: GraphView;
let warnings: string[] = [];

beforeAll(async () => {
  const warn = jest.spyOn(console, "warn").mockImplementation((...a: unknown[]) => {
    warnings.push(a.join(" "));
  });
  const log = jest.spyOn(console, "log").mockImplementation((...a: unknown[]) => {
    warnings.push(a.join(" "));
  });
  const err = jest.spyOn(console, "error").mockImplementation((...a: unknown[]) => {
    warnings.push(a.join(" "));
  });
  try {
    g = (await synthForTest("dev")).view;
  } finally {
    warn.mockRestore();
    log.mockRestore();
    err.mockRestore();
  }
  warnings = warnings.filter((w) => /pets-api/.test(w));
});

const API = "aws:apigateway/restApi:RestApi";
const FN = "aws:lambda/function:Function";

test("the network's execute-api interface endpoint has private DNS, and the API is PRIVATE and bound to it", () => {
  const ep = g.one("aws:ec2/vpcEndpoint:VpcEndpoint", "endpoints-execute-api");
  expect(ep.inputs).toMatchObject({
    vpcEndpointType: "Interface",
    privateDnsEnabled: true,
    serviceName: "com.amazonaws.ap-northeast-1.execute-api",
    vpcId: g.one("aws:ec2/vpc:Vpc", "egress-vpc").id,
  });
  expect(ep.inputs.subnetIds).toEqual([
    g.one("aws:ec2/subnet:Subnet", "egress-private-0").id,
    g.one("aws:ec2/subnet:Subnet", "egress-private-1").id,
  ]);
  expect(g.one(API, "private-api-api").inputs.endpointConfiguration).toEqual({
    types: "PRIVATE",
    vpcEndpointIds: [ep.id],
  });
  expect((g.graph.outputs.network as Record<string, unknown>).executeApiEndpointId).toBe(ep.id);
});

test("the resource policy admits that endpoint only and denies every other source", () => {
  const ep = g.one("aws:ec2/vpcEndpoint:VpcEndpoint", "endpoints-execute-api");
  const api = g.one(API, "private-api-api");
  const arn = `arn:aws:execute-api:ap-northeast-1:111111111111:${api.id}/*`;
  expect(policyDoc(g.one("aws:apigateway/restApiPolicy:RestApiPolicy", "private-api-policy")).Statement).toEqual(
    endpointOnlyStatements(arn, [ep.id]),
  );
});

test("/pets and /pets/{id} take every method into pets-api, each invoke permission scoped to its path", () => {
  const api = g.one(API, "private-api-api");
  const methods = g.all("aws:apigateway/method:Method").filter((m) => m.inputs.restApi === api.id);
  expect(methods.map((m) => [m.name, m.inputs.httpMethod, m.inputs.authorization])).toEqual([
    ["private-api-method-ANY-pets", "ANY", "NONE"],
    ["private-api-method-ANY-pets-id", "ANY", "NONE"],
  ]);
  for (const i of g.all("aws:apigateway/integration:Integration").filter((x) => x.inputs.restApi === api.id)) {
    expect(i.inputs).toMatchObject({ type: "AWS_PROXY", integrationHttpMethod: "POST" });
    expect(i.inputs.uri).toMatch(
      /^arn:aws:apigateway:ap-northeast-1:lambda:path\/2015-03-31\/functions\/arn:aws:lambda:ap-northeast-1:111111111111:function:pets-api-fn-[0-9a-f]{7}\/invocations$/,
    );
  }
  const exec = `arn:aws:execute-api:ap-northeast-1:111111111111:${api.id}`;
  const perms = g
    .all("aws:lambda/permission:Permission")
    .filter((p) => p.inputs.principal === "apigateway.amazonaws.com");
  expect(perms.map((p) => p.inputs.sourceArn).sort()).toEqual([`${exec}/*/*/pets`, `${exec}/*/*/pets/*`]);
  for (const p of perms) expect(p.inputs.function).toMatch(/^pets-api-fn-[0-9a-f]{7}$/);
});

test("stage v1 with JSON access logs and the dev throttling from config", () => {
  const stage = g.one("aws:apigateway/stage:Stage", "private-api-stage");
  expect(stage.inputs.stageName).toBe("v1");
  expect((stage.inputs.accessLogSettings as { format: string }).format).toBe(ACCESS_LOG_FORMAT);
  expect(g.one("aws:cloudwatch/logGroup:LogGroup", "private-api-access-logs").inputs.retentionInDays).toBe(14);
  expect(
    g.one("aws:apigateway/methodSettings:MethodSettings", "private-api-method-settings").inputs.settings,
  ).toMatchObject({
    throttlingRateLimit: 50,
    throttlingBurstLimit: 100,
    metricsEnabled: true,
    dataTraceEnabled: false,
  });
});

test("pets-api (pg, accounts A and B differ) is a VPC function: 5432 to the data VPC, Secrets Manager through its endpoint, nothing else", () => {
  const fn = g.one(FN, "pets-api-fn");
  expect((fn.inputs.vpcConfig as { subnetIds: string[] }).subnetIds).toEqual([
    g.one("aws:ec2/subnet:Subnet", "egress-private-0").id,
    g.one("aws:ec2/subnet:Subnet", "egress-private-1").id,
  ]);
  const data = g.graph.outputs.data as Record<string, string>;
  expect((fn.inputs.environment as { variables: Record<string, string> }).variables).toEqual({
    DB_ACCESS: "pg",
    DB_NAME: "app",
    DB_SECRET_ARN: data.masterSecretArn,
    DB_HOST: data.endpoint,
    DB_PORT: "5432",
    DB_CONNECT_TIMEOUT_MS: "3000",
  });
  const sg = g.one("aws:ec2/securityGroup:SecurityGroup", "pets-api-sg");
  const egress = g
    .all("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")
    .filter((r) => r.inputs.securityGroupId === sg.id);
  expect(
    egress.map((r) => [r.inputs.fromPort, r.inputs.cidrIpv4 ?? r.inputs.referencedSecurityGroupId]).sort(),
  ).toEqual(
    [
      [443, g.one("aws:ec2/securityGroup:SecurityGroup", "endpoints-sg").id],
      [5432, "10.1.0.0/16"],
    ].sort(),
  );
  const role = g.one("aws:iam/role:Role", "pets-api-role");
  expect(role.inputs.name).toBe("vpc-lambda-kit-dev-pets-api");
  const policy = g.all("aws:iam/rolePolicy:RolePolicy").find((p) => p.inputs.role === role.id)!;
  const bySid = Object.fromEntries(policyDoc(policy).Statement.map((s) => [s.Sid, s]));
  expect(Object.keys(bySid)).toEqual(["VpcEni", "Logs", "ReadDbSecret", "DecryptDbSecret"]);
  expect(bySid.ReadDbSecret.Resource).toBe(data.masterSecretArn);
  expect(bySid.DecryptDbSecret.Resource).toBe(data.secretKmsKeyArn);
});

test("the apps outputs give the private-DNS URL, the endpoint-specific host name and the no-private-DNS recipe", () => {
  const api = g.one(API, "private-api-api");
  const ep = g.one("aws:ec2/vpcEndpoint:VpcEndpoint", "endpoints-execute-api");
  const out = (g.graph.outputs.apps as { privateApi: Record<string, any> }).privateApi;
  expect(out).toMatchObject({
    restApiId: api.id,
    invokeUrl: `https://${api.id}.execute-api.ap-northeast-1.amazonaws.com/v1`,
    endpointHostnames: [`${api.id}-${ep.id}.execute-api.ap-northeast-1.amazonaws.com`],
    stageName: "v1",
    petsAccess: "pg",
  });
  expect(out.withoutPrivateDns.apiIdHeader).toEqual({ "x-apigw-api-id": api.id });
});

test("until the data side shares the master secret with pets-api's role, synth says so", () => {
  const policy = g.one("aws:secretsmanager/secretPolicy:SecretPolicy", "data-db-secret-policy");
  const readers = JSON.stringify(policyDoc(policy).Statement);
  if (readers.includes("vpc-lambda-kit-dev-pets-api")) expect(warnings).toEqual([]);
  else
    expect(warnings).toEqual([
      expect.stringMatching(
        /pets-api \(pg, cross-account\) reads the master secret as arn:aws:iam::111111111111:role\/vpc-lambda-kit-dev-pets-api/,
      ),
    ]);
});
