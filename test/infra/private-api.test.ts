import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { KitMocks, RecordedResource, resolveOutputs } from "../../ops/mocks";
import { loadConfig } from "../../stacks/config/load";
import { privateApiApps } from "../../stacks/features/private-api";
import type { DataOutputs, NetworkOutputs } from "../../stacks/config/outputs";
import {
  ACCESS_LOG_FORMAT,
  checkResolvedEndpointIds,
  deploymentTrigger,
  LambdaRef,
  planPrivateApi,
  PrivateApi,
  PrivateApiArgs,
  privateApiPolicy,
  RouteSnapshot,
} from "../../components/private-api";
import { outputsOf } from "../support/component-outputs";
import { configMessages } from "../support/config-messages";
import { endpointOnlyStatements } from "../support/api-policy";
import { httpsIngressFrom } from "../support/sg-rules";

// PrivateApi used directly under strict mocks, several instances in one fake stack (docs/designs.md §5).
const REGION = "ap-northeast-1";
const ACCOUNT = "123456789012";
const mocks = new KitMocks({ region: REGION, defaultAccountId: ACCOUNT });
/** URN → URNs it depends on (dependsOn and property references), captured from the monitor. */
const deps = new Map<string, string[]>();

beforeAll(async () => {
  await mocks.install("vpc-lambda-kit", "private-api");

  const monitor = require("@pulumi/pulumi/runtime/settings").getMonitor();
  const original = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req: any, cb: (err: any, resp: any) => void) => {
    const list = req.getDependenciesList() as string[];
    return original(req, (err: any, resp: any) => {
      if (!err) deps.set(resp.getUrn(), list);
      cb(err, resp);
    });
  };
});

const PETS: LambdaRef = {
  functionName: "pets-fn",
  invokeArn: `arn:aws:apigateway:${REGION}:lambda:path/2015-03-31/functions/arn:aws:lambda:${REGION}:${ACCOUNT}:function:pets-fn/invocations`,
};
const OTHER: LambdaRef = {
  functionName: "other-fn",
  invokeArn: `arn:aws:apigateway:${REGION}:lambda:path/2015-03-31/functions/arn:aws:lambda:${REGION}:${ACCOUNT}:function:other-fn/invocations`,
};
const EP1 = "vpce-0a1b2c3d4e5f60718";
const EP2 = "vpce-0fedcba9876543210";
const ROUTES = [
  { method: "GET", path: "/pets", function: PETS },
  { method: "POST", path: "/pets", function: PETS },
  { method: "GET", path: "/pets/{id}", function: PETS },
];

interface Built {
  api: PrivateApi;
  mine: RecordedResource[];
  out: Record<string, any>;
}

async function build(name: string, args: PrivateApiArgs): Promise<Built> {
  const before = mocks.resources.length;
  const api = new PrivateApi(name, args);
  const out = await outputsOf(api, [
    "restApiId",
    "executionArn",
    "invokeUrl",
    "vpcEndpointIds",
    "endpointHostnames",
    "withoutPrivateDns",
    "policy",
    "deploymentTrigger",
    "accessLogGroupName",
  ]);
  await mocks.settle();
  return { api, mine: mocks.resources.slice(before), out };
}

const of = (b: Built, type: string) => b.mine.filter((r) => r.type === `aws:${type}`);
const one = (b: Built, type: string, name: string) => {
  const found = of(b, type).filter((r) => r.name === name);
  if (found.length !== 1) throw new Error(`expected one ${type} named ${name}, found ${found.length}`);
  return found[0];
};

let pets: Built;
beforeAll(async () => {
  pets = await build("pets", { routes: ROUTES, vpcEndpointIds: [EP1, EP2] });
});

describe("the private REST API", () => {
  test("is of endpoint type PRIVATE, bound to exactly the listed VPC endpoints", () => {
    const api = one(pets, "apigateway/restApi:RestApi", "pets-api");
    expect(api.inputs.endpointConfiguration).toEqual({ types: "PRIVATE", vpcEndpointIds: [EP1, EP2] });
    // The policy is its own resource, so the RestApi carries none that could drift against it.
    expect(api.inputs.policy).toBeUndefined();
    expect(pets.out.vpcEndpointIds).toEqual([EP1, EP2]);
  });

  test("its resource policy allows execute-api:Invoke only from the listed endpoints and explicitly denies every other source", () => {
    const api = one(pets, "apigateway/restApi:RestApi", "pets-api");
    const arn = `arn:aws:execute-api:${REGION}:${ACCOUNT}:${api.id}`;
    const policy = one(pets, "apigateway/restApiPolicy:RestApiPolicy", "pets-policy");
    expect(policy.inputs.restApiId).toBe(api.id);
    expect(JSON.parse(policy.inputs.policy as string)).toEqual({
      Version: "2012-10-17",
      Statement: endpointOnlyStatements(`${arn}/*`, [EP1, EP2]),
    });
    expect(pets.out.policy).toBe(policy.inputs.policy);
  });

  test("routes become a resource tree: /pets under the root, {id} under /pets", () => {
    const api = one(pets, "apigateway/restApi:RestApi", "pets-api");
    const resources = of(pets, "apigateway/resource:Resource");
    expect(resources.map((r) => [r.name, r.inputs.pathPart])).toEqual([
      ["pets-res-pets", "pets"],
      ["pets-res-pets-id", "{id}"],
    ]);
    const petsRes = resources[0];
    expect(petsRes.inputs.restApi).toBe(api.id);
    expect(petsRes.inputs.parentId).toMatch(/^[0-9a-f]{10}$/); // the API's root resource
    expect(resources[1].inputs.parentId).toBe(petsRes.id);
    const methods = of(pets, "apigateway/method:Method");
    expect(methods.map((m) => [m.inputs.httpMethod, m.inputs.resourceId, m.inputs.authorization])).toEqual([
      ["GET", petsRes.id, "NONE"],
      ["POST", petsRes.id, "NONE"],
      ["GET", resources[1].id, "NONE"],
    ]);
  });

  test("every route is a Lambda proxy integration invoked with POST on the function's invoke ARN", () => {
    const integrations = of(pets, "apigateway/integration:Integration");
    expect(
      integrations.map((i) => [
        i.name,
        i.inputs.httpMethod,
        i.inputs.type,
        i.inputs.integrationHttpMethod,
        i.inputs.uri,
      ]),
    ).toEqual([
      ["pets-integration-GET-pets", "GET", "AWS_PROXY", "POST", PETS.invokeArn],
      ["pets-integration-POST-pets", "POST", "AWS_PROXY", "POST", PETS.invokeArn],
      ["pets-integration-GET-pets-id", "GET", "AWS_PROXY", "POST", PETS.invokeArn],
    ]);
  });

  test("each invoke permission is scoped to its own method and path on this API, never /*/*", () => {
    const api = one(pets, "apigateway/restApi:RestApi", "pets-api");
    const arn = `arn:aws:execute-api:${REGION}:${ACCOUNT}:${api.id}`;
    const perms = of(pets, "lambda/permission:Permission");
    expect(perms.map((p) => [p.inputs.action, p.inputs.function, p.inputs.principal, p.inputs.sourceArn])).toEqual([
      ["lambda:InvokeFunction", "pets-fn", "apigateway.amazonaws.com", `${arn}/*/GET/pets`],
      ["lambda:InvokeFunction", "pets-fn", "apigateway.amazonaws.com", `${arn}/*/POST/pets`],
      ["lambda:InvokeFunction", "pets-fn", "apigateway.amazonaws.com", `${arn}/*/GET/pets/*`],
    ]);
  });

  test("stage v1 writes JSON access logs to the API's own log group with retention, and throttles with the stated defaults", () => {
    const stage = one(pets, "apigateway/stage:Stage", "pets-stage");
    const deployment = one(pets, "apigateway/deployment:Deployment", "pets-deployment");
    const logs = one(pets, "cloudwatch/logGroup:LogGroup", "pets-access-logs");
    expect(stage.inputs.stageName).toBe("v1");
    expect(stage.inputs.deployment).toBe(deployment.id);
    expect(logs.inputs.retentionInDays).toBe(30);
    expect(stage.inputs.accessLogSettings).toEqual({
      destinationArn: `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${pets.out.accessLogGroupName}`,
      format: ACCESS_LOG_FORMAT,
    });
    const format = JSON.parse(ACCESS_LOG_FORMAT);
    expect(format).toMatchObject({
      requestId: "$context.requestId",
      status: "$context.status",
      vpceId: "$context.identity.vpceId",
      resourcePath: "$context.resourcePath",
    });
    const settings = one(pets, "apigateway/methodSettings:MethodSettings", "pets-method-settings");
    expect(settings.inputs).toMatchObject({ stageName: "v1", methodPath: "*/*" });
    expect(settings.inputs.settings).toEqual({
      metricsEnabled: true,
      throttlingRateLimit: 100,
      throttlingBurstLimit: 200,
      loggingLevel: "OFF",
      dataTraceEnabled: false,
    });
    expect(of(pets, "apigateway/account:Account")).toEqual([]);
  });

  test("the deployment waits for the policy and every method and integration, and carries the content hash", () => {
    const deployment = one(pets, "apigateway/deployment:Deployment", "pets-deployment");
    const mustWaitFor = pets.mine.filter((r) =>
      [
        "aws:apigateway/restApiPolicy:RestApiPolicy",
        "aws:apigateway/method:Method",
        "aws:apigateway/integration:Integration",
      ].includes(r.type),
    );
    expect(mustWaitFor).toHaveLength(7);
    expect(deps.get(deployment.urn)).toEqual(expect.arrayContaining(mustWaitFor.map((r) => r.urn)));
    expect(deployment.inputs.triggers).toEqual({ redeployment: pets.out.deploymentTrigger });
    expect(pets.out.deploymentTrigger).toMatch(/^[0-9a-f]{64}$/);
  });

  test("outputs: the private-DNS invoke URL, endpoint-specific host names, and how to call without private DNS", () => {
    const id = pets.out.restApiId;
    expect(pets.out.executionArn).toBe(`arn:aws:execute-api:${REGION}:${ACCOUNT}:${id}`);
    expect(pets.out.invokeUrl).toBe(`https://${id}.execute-api.${REGION}.amazonaws.com/v1`);
    expect(pets.out.endpointHostnames).toEqual([
      `${id}-${EP1}.execute-api.${REGION}.amazonaws.com`,
      `${id}-${EP2}.execute-api.${REGION}.amazonaws.com`,
    ]);
    expect(pets.out.withoutPrivateDns).toMatchObject({
      endpointInvokeUrls: [
        `https://${id}-${EP1}.execute-api.${REGION}.amazonaws.com/v1`,
        `https://${id}-${EP2}.execute-api.${REGION}.amazonaws.com/v1`,
      ],
      apiIdHeader: { "x-apigw-api-id": id },
      hostHeader: `${id}.execute-api.${REGION}.amazonaws.com`,
    });
    expect(pets.out.withoutPrivateDns.howTo).toMatch(/x-apigw-api-id: [0-9a-f]{10}/);
  });

  test("every child is named after the instance and parented inside it", () => {
    for (const r of pets.mine) expect(r.name.startsWith("pets-") || r.name === "pets").toBe(true);
    const component = pets.mine.find((r) => r.type === "vpc-lambda-kit:api:PrivateApi")!;
    expect(component.name).toBe("pets");
    for (const r of pets.mine.filter((x) => x !== component)) expect(r.parent).not.toBeNull();
  });
});

describe("the deployment trigger", () => {
  test("is the same for the same routes and policy, and changes when a route or the policy changes", async () => {
    const same = await build("same", { routes: ROUTES, vpcEndpointIds: [EP1, EP2] });
    const reordered = await build("reordered", {
      routes: [ROUTES[2], ROUTES[0], ROUTES[1]],
      vpcEndpointIds: [EP1, EP2],
    });
    const newRoute = await build("new-route", {
      routes: [...ROUTES, { method: "DELETE", path: "/pets/{id}", function: PETS }],
      vpcEndpointIds: [EP1, EP2],
    });
    const otherTarget = await build("other-target", {
      routes: [ROUTES[0], ROUTES[1], { ...ROUTES[2], function: OTHER }],
      vpcEndpointIds: [EP1, EP2],
    });
    const newPolicy = await build("new-policy", { routes: ROUTES, vpcEndpointIds: [EP1] });
    expect(same.out.deploymentTrigger).toBe(pets.out.deploymentTrigger);
    expect(reordered.out.deploymentTrigger).toBe(pets.out.deploymentTrigger);
    const triggers = [pets, newRoute, otherTarget, newPolicy].map((b) => b.out.deploymentTrigger);
    expect(new Set(triggers).size).toBe(4);
    expect(one(newPolicy, "apigateway/deployment:Deployment", "new-policy-deployment").inputs.triggers).toEqual({
      redeployment: newPolicy.out.deploymentTrigger,
    });
  });

  test("as a pure function: authorization, integration and policy each move the hash", () => {
    const base: RouteSnapshot[] = [
      {
        method: "GET",
        path: "/pets",
        authorization: "NONE",
        integration: { type: "AWS_PROXY", httpMethod: "POST", uri: PETS.invokeArn as string },
      },
    ];
    const policy = privateApiPolicy("<api>", [EP1]);
    const h = deploymentTrigger(base, policy);
    expect(deploymentTrigger(base, policy)).toBe(h);
    expect(deploymentTrigger([{ ...base[0], authorization: "AWS_IAM" }], policy)).not.toBe(h);
    expect(
      deploymentTrigger(
        [{ ...base[0], integration: { ...base[0].integration, uri: OTHER.invokeArn as string } }],
        policy,
      ),
    ).not.toBe(h);
    expect(deploymentTrigger(base, privateApiPolicy("<api>", [EP1], ["111122223333"]))).not.toBe(h);
    expect(deploymentTrigger([{ ...base[0], path: "/pets/{id}" }], policy)).not.toBe(h);
  });
});

describe("consumers", () => {
  test.each([
    ["*", /wildcards\.vpcEndpointIds\[1\]: "\*" is a wildcard consumer.*Fix: list each allowed VPC endpoint by its id/],
    ["", /wildcards\.vpcEndpointIds\[1\]: "" is a wildcard consumer/],
    ["vpce-*", /wildcards\.vpcEndpointIds\[1\]: "vpce-\*" is a wildcard consumer/],
    ["vpce-0a1b?c3d", /wildcards\.vpcEndpointIds\[1\]: "vpce-0a1b\?c3d" is a wildcard consumer/],
  ])("a wildcard endpoint %j is refused before anything is registered", (bad, message) => {
    const before = mocks.resources.length;
    expect(() => new PrivateApi("wildcards", { routes: ROUTES, vpcEndpointIds: [EP1, bad] })).toThrow(message);
    expect(mocks.resources.length).toBe(before);
  });

  test.each(["*", ""])("a wildcard account %j is refused", (bad) => {
    const before = mocks.resources.length;
    expect(
      () =>
        new PrivateApi("acct", {
          routes: ROUTES,
          vpcEndpointIds: [EP1],
          authorization: "AWS_IAM",
          consumerAccountIds: [bad],
        }),
    ).toThrow(
      /acct\.consumerAccountIds\[0\]: ".*" is a wildcard consumer: it would let every AWS account call this API\. Fix: list each consumer account by its 12-digit id/,
    );
    expect(mocks.resources.length).toBe(before);
  });

  test("an endpoint id known only at deploy time is checked then, with the same message", async () => {
    const plan = planPrivateApi("late", { routes: ROUTES, vpcEndpointIds: [pulumi.output("*")] });
    expect(plan.routes).toHaveLength(3); // nothing to check up front
    expect(() => checkResolvedEndpointIds("late", ["vpce-0123456789abcdef0", EP1, "*"], 1)).toThrow(
      /^late\.vpcEndpointIds\[1\]: "\*" is a wildcard consumer/,
    );
    expect(() => checkResolvedEndpointIds("late", [""], 0)).toThrow(
      /^late\.vpcEndpointIds\[0\]: "" is a wildcard consumer/,
    );
    expect(checkResolvedEndpointIds("late", [EP1, EP2, EP1], 0)).toEqual([EP1, EP2]);
  });

  test("consumer accounts are allowed by principal and excused from the endpoint deny only on signed requests", async () => {
    const b = await build("xacct", {
      routes: ROUTES,
      vpcEndpointIds: [EP1],
      authorization: "AWS_IAM",
      consumerAccountIds: ["111122223333", "444455556666"],
    });
    const arn = b.out.executionArn;
    expect(JSON.parse(b.out.policy).Statement).toEqual([
      {
        Sid: "AllowListedVpcEndpoints",
        Effect: "Allow",
        Principal: "*",
        Action: "execute-api:Invoke",
        Resource: `${arn}/*`,
        Condition: { StringEquals: { "aws:SourceVpce": [EP1] } },
      },
      {
        Sid: "AllowListedAccounts",
        Effect: "Allow",
        Principal: { AWS: ["arn:aws:iam::111122223333:root", "arn:aws:iam::444455556666:root"] },
        Action: "execute-api:Invoke",
        Resource: `${arn}/*`,
      },
      {
        Sid: "DenyUnlistedSources",
        Effect: "Deny",
        Principal: "*",
        Action: "execute-api:Invoke",
        Resource: `${arn}/*`,
        Condition: {
          StringNotEquals: { "aws:SourceVpce": [EP1], "aws:PrincipalAccount": ["111122223333", "444455556666"] },
        },
      },
    ]);
    expect(of(b, "apigateway/method:Method").map((m) => m.inputs.authorization)).toEqual([
      "AWS_IAM",
      "AWS_IAM",
      "AWS_IAM",
    ]);
  });

  test("consumer accounts with unsigned routes are refused: an anonymous request carries no account", () => {
    expect(
      () =>
        new PrivateApi("unsigned", {
          routes: [ROUTES[0], { ...ROUTES[1], authorization: "AWS_IAM" }],
          vpcEndpointIds: [EP1],
          consumerAccountIds: ["111122223333"],
        }),
    ).toThrow(
      /unsigned\.consumerAccountIds: accounts can only be recognised on SigV4-signed requests, and GET \/pets uses authorization NONE\. Fix: set authorization: "AWS_IAM"/,
    );
  });
});

describe("validation before anything is registered", () => {
  const problems = (args: PrivateApiArgs): string[] => configMessages(() => planPrivateApi("bad", args));

  test("duplicate routes, bad methods and bad paths are all reported at once", () => {
    expect(
      problems({
        vpcEndpointIds: [EP1],
        routes: [
          { method: "GET", path: "/pets", function: PETS },
          { method: "get", path: "/pets", function: PETS },
          { method: "FETCH", path: "/pets", function: PETS },
          { method: "GET", path: "pets", function: PETS },
          { method: "GET", path: "/pets/", function: PETS },
          { method: "GET", path: "/pets//x", function: PETS },
          { method: "GET", path: "/a/{x}/{x}", function: PETS },
          { method: "GET", path: "/files/{proxy+}/meta", function: PETS },
          { method: "GET", path: "/pets/{petId}", function: PETS },
          { method: "GET", path: "/pets/{id}", function: PETS },
          { method: "GET", path: "/p%20s", function: PETS },
        ],
      }),
    ).toEqual([
      "bad.routes[1]: GET /pets is already routes[0]. Fix: route each method and path once",
      expect.stringMatching(
        /^bad\.routes\[2\]\.method: "FETCH" is not an HTTP method API Gateway routes\. Fix: use one of GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS, ANY$/,
      ),
      expect.stringMatching(/^bad\.routes\[3\]\.path: "pets" does not start with \//),
      expect.stringMatching(/^bad\.routes\[4\]\.path: "\/pets\/" ends with \//),
      expect.stringMatching(/^bad\.routes\[5\]\.path: "\/pets\/\/x" has an empty segment/),
      expect.stringMatching(/^bad\.routes\[6\]\.path: "\/a\/\{x\}\/\{x\}" uses the parameter \{x\} twice/),
      expect.stringMatching(
        /^bad\.routes\[7\]\.path: "\/files\/\{proxy\+\}\/meta" has a greedy \{param\+\} segment that is not the last/,
      ),
      expect.stringMatching(
        /^bad\.routes\[9\]\.path: "\/pets\/\{id\}" puts \{param\} segment \{id\} beside \{petId\} under \/pets; API Gateway allows one variable segment per parent\. Fix: use the same parameter name at that level \(\{petId\}\)$/,
      ),
      expect.stringMatching(
        /^bad\.routes\[10\]\.path: "\/p%20s" has a segment "p%20s" with characters API Gateway does not allow/,
      ),
    ]);
  });

  test("no endpoint, an empty endpoint list, no routes, and bad stage settings are refused", () => {
    expect(problems({ routes: ROUTES })).toEqual([
      expect.stringMatching(
        /^bad\.vpcEndpointIds: no VPC endpoint given.*Fix: list the execute-api endpoint ids, or pass `endpoint` to create one$/,
      ),
    ]);
    expect(problems({ routes: ROUTES, vpcEndpointIds: [] })).toEqual([
      expect.stringMatching(/^bad\.vpcEndpointIds: the list is empty, so nothing could ever invoke the API/),
    ]);
    expect(problems({ routes: [], vpcEndpointIds: [EP1] })).toEqual([
      expect.stringMatching(/^bad\.routes: no routes given/),
    ]);
    expect(problems({ routes: ROUTES, vpcEndpointIds: ["vpc-123", EP1, EP1] })).toEqual([
      expect.stringMatching(/^bad\.vpcEndpointIds\[0\]: "vpc-123" is not a VPC endpoint id/),
      expect.stringMatching(/^bad\.vpcEndpointIds\[2\]: vpce-0a1b2c3d4e5f60718 is listed twice/),
    ]);
    expect(
      problems({
        routes: ROUTES,
        vpcEndpointIds: [EP1],
        stageName: "v 1",
        throttling: { rateLimit: 0, burstLimit: 1.5 },
        logRetentionInDays: 10,
      }),
    ).toEqual([
      expect.stringMatching(/^bad\.stageName: "v 1" is not a valid stage name/),
      expect.stringMatching(/^bad\.throttling\.rateLimit: 0 requests\/s is outside/),
      expect.stringMatching(/^bad\.throttling\.burstLimit: 1\.5 is outside/),
      expect.stringMatching(/^bad\.logRetentionInDays: 10 is not a CloudWatch Logs retention period/),
    ]);
    expect(
      problems({
        routes: ROUTES,
        endpoint: {
          vpcId: "vpc-1",
          subnetIds: ["subnet-1"],
          region: REGION,
          vpcDns: { hostnames: false, support: true },
        },
      }),
    ).toEqual([
      expect.stringMatching(
        /^bad\.endpoint\.vpcDns\.hostnames: private DNS for execute-api needs DNS hostnames on the VPC/,
      ),
    ]);
  });
});

describe("options", () => {
  test("an endpoint it creates: execute-api interface endpoint with private DNS, its own SG, allowed and associated", async () => {
    const b = await build("made", {
      routes: [{ method: "ANY", path: "/", function: PETS }],
      endpoint: {
        vpcId: "vpc-9",
        subnetIds: ["subnet-a", "subnet-b"],
        region: REGION,
        vpcDns: { hostnames: true, support: true },
      },
      vpcEndpointIds: [EP2],
    });
    b.api.allowFrom("sg-caller", "pets caller");
    await mocks.settle();
    const mine = mocks.resources.slice(mocks.resources.indexOf(b.mine[0]));
    const ep = mine.filter((r) => r.type === "aws:ec2/vpcEndpoint:VpcEndpoint");
    expect(
      ep.map((e) => [
        e.name,
        e.inputs.serviceName,
        e.inputs.vpcEndpointType,
        e.inputs.privateDnsEnabled,
        e.inputs.subnetIds,
      ]),
    ).toEqual([
      ["made-endpoint-execute-api", `com.amazonaws.${REGION}.execute-api`, "Interface", true, ["subnet-a", "subnet-b"]],
    ]);
    expect(b.out.vpcEndpointIds).toEqual([ep[0].id, EP2]);
    expect(one(b, "apigateway/restApi:RestApi", "made-api").inputs.endpointConfiguration).toEqual({
      types: "PRIVATE",
      vpcEndpointIds: [ep[0].id, EP2],
    });
    const sg = mine.find((r) => r.type === "aws:ec2/securityGroup:SecurityGroup")!;
    const ingress = mine.filter((r) => r.type === "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule");
    expect(ingress.map((r) => r.inputs)).toEqual([httpsIngressFrom(sg.id, "sg-caller", "pets caller")]);
    // ANY on the root: the method is * in the permission's ARN, and no Resource is created.
    expect(of(b, "apigateway/resource:Resource")).toEqual([]);
    expect(of(b, "lambda/permission:Permission")[0].inputs.sourceArn).toBe(`${b.out.executionArn}/*/*/`);
    expect(() => pets.api.allowFrom("sg-x", "x")).toThrow(/pets\.allowFrom: this API did not create its endpoint/);
  });

  test("stage name, throttling, execution logs and the opt-in account CloudWatch role", async () => {
    const b = await build("tuned", {
      routes: ROUTES,
      vpcEndpointIds: [EP1],
      stageName: "prod",
      throttling: { rateLimit: 25, burstLimit: 50 },
      logRetentionInDays: 90,
      executionLogging: "ERROR",
      metricsEnabled: false,
      manageAccountCloudWatchRole: true,
    });
    const stage = one(b, "apigateway/stage:Stage", "tuned-stage");
    expect(stage.inputs.stageName).toBe("prod");
    expect(b.out.invokeUrl).toBe(`https://${b.out.restApiId}.execute-api.${REGION}.amazonaws.com/prod`);
    expect(one(b, "apigateway/methodSettings:MethodSettings", "tuned-method-settings").inputs.settings).toEqual({
      metricsEnabled: false,
      throttlingRateLimit: 25,
      throttlingBurstLimit: 50,
      loggingLevel: "ERROR",
      dataTraceEnabled: false,
    });
    expect(one(b, "cloudwatch/logGroup:LogGroup", "tuned-execution-logs").inputs).toMatchObject({
      name: `API-Gateway-Execution-Logs_${b.out.restApiId}/prod`,
      retentionInDays: 90,
    });
    expect(one(b, "cloudwatch/logGroup:LogGroup", "tuned-access-logs").inputs.retentionInDays).toBe(90);
    const role = one(b, "iam/role:Role", "tuned-apigw-logs-role");
    expect(JSON.parse(role.inputs.assumeRolePolicy as string).Statement).toEqual([
      {
        Effect: "Allow",
        Principal: { Service: "apigateway.amazonaws.com" },
        Action: "sts:AssumeRole",
        Condition: { StringEquals: { "aws:SourceAccount": ACCOUNT } },
      },
    ]);
    expect(
      JSON.parse(one(b, "iam/rolePolicy:RolePolicy", "tuned-apigw-logs-policy").inputs.policy as string).Statement[0]
        .Resource,
    ).toBe(`arn:aws:logs:${REGION}:${ACCOUNT}:*`);
    expect(b.mine.filter((r) => r.type.startsWith("aws:iam/") && /Attachment/.test(r.type))).toEqual([]);
    const account = one(b, "apigateway/account:Account", "tuned-apigw-account");
    expect(account.inputs.cloudwatchRoleArn).toMatch(
      new RegExp(`^arn:aws:iam::${ACCOUNT}:role/tuned-apigw-logs-role-[0-9a-f]{7}$`),
    );
    expect(deps.get(stage.urn)).toContain(account.urn);
  });

  test("access logs can be turned off (for accounts without the CloudWatch role)", async () => {
    const b = await build("quiet", { routes: ROUTES, vpcEndpointIds: [EP1], accessLogs: false });
    expect(one(b, "apigateway/stage:Stage", "quiet-stage").inputs.accessLogSettings).toBeUndefined();
    expect(of(b, "cloudwatch/logGroup:LogGroup")).toEqual([]);
  });
});

describe("the apps-role wiring (stacks/features/private-api.ts)", () => {
  const base = {
    "aws:region": REGION,
    "vpc-lambda-kit:environment": "dev",
    "vpc-lambda-kit:roles": JSON.stringify(["apps"]),
    "vpc-lambda-kit:upstream": JSON.stringify({ network: "dev-network", data: "dev-data" }),
    "vpc-lambda-kit:accounts": JSON.stringify({ a: { accountId: ACCOUNT }, b: { accountId: ACCOUNT } }),
    "vpc-lambda-kit:network": JSON.stringify({
      availabilityZones: 2,
      interfaceEndpoints: ["secretsmanager", "execute-api"],
    }),
  };
  const config = (privateApi: unknown, extra: Record<string, string> = {}) => ({
    ...base,
    "vpc-lambda-kit:privateApi": JSON.stringify(privateApi),
    ...extra,
  });
  const configErrors = (cfg: Record<string, string>): string[] => configMessages(() => loadConfig(cfg));

  test("config refuses wildcard consumers, accounts on unsigned routes, the Data API across accounts, and an API with no endpoint", () => {
    expect(configErrors(config({ consumers: { vpcEndpointIds: ["vpce-*", "*"], accountIds: ["*"] } }))).toEqual([
      expect.stringMatching(
        /^vpc-lambda-kit:privateApi\.consumers\.vpcEndpointIds\[0\]: "vpce-\*" is a wildcard consumer/,
      ),
      expect.stringMatching(/^vpc-lambda-kit:privateApi\.consumers\.vpcEndpointIds\[1\]: "\*" is a wildcard consumer/),
      expect.stringMatching(/^vpc-lambda-kit:privateApi\.consumers\.accountIds\[0\]: "\*" is a wildcard consumer/),
      expect.stringMatching(
        /^vpc-lambda-kit:privateApi\.consumers\.accountIds: accounts can only be recognised on SigV4-signed requests.*Fix: set vpc-lambda-kit:privateApi\.authorization to AWS_IAM/,
      ),
    ]);
    expect(
      configErrors(
        config(
          {},
          {
            "vpc-lambda-kit:accounts": JSON.stringify({ a: { accountId: ACCOUNT }, b: { accountId: "210987654321" } }),
          },
        ),
      ),
    ).toEqual([
      expect.stringMatching(
        /^vpc-lambda-kit:privateApi\.petsApi\.access: the Data API only authorizes identities of the cluster's own account.*Fix: use access "pg"/,
      ),
    ]);
    expect(
      configErrors(
        config(
          { stageName: "v/1", throttling: { rateLimit: 0 } },
          { "vpc-lambda-kit:network": JSON.stringify({ availabilityZones: 2 }) },
        ),
      ),
    ).toEqual([
      expect.stringMatching(/^vpc-lambda-kit:privateApi\.stageName: "v\/1" is not a valid stage name/),
      expect.stringMatching(/^vpc-lambda-kit:privateApi\.throttling\.rateLimit: 0 requests\/s is outside/),
      expect.stringMatching(
        /^vpc-lambda-kit:privateApi\.enabled: a private API is reachable only through execute-api VPC endpoints.*Fix: add execute-api to vpc-lambda-kit:network\.interfaceEndpoints/,
      ),
    ]);
    expect(
      configErrors(
        config({ consumers: { vpcEndpointIds: [EP2], accountIds: ["111122223333"] }, authorization: "AWS_IAM" }),
      ),
    ).toEqual([]);
  });

  test("pets-api over the Data API is a VpcFunction with no path to the database: only 443 to the rds-data API, rds-data on its one cluster, read on its one secret", async () => {
    const cfg = loadConfig(config({ petsApi: { access: "data-api" }, consumers: { vpcEndpointIds: [EP2] } }));
    const before = mocks.resources.length;
    const provider = new aws.Provider("account-a", { region: REGION });
    const CLUSTER = `arn:aws:rds:${REGION}:${ACCOUNT}:cluster:vpc-lambda-kit-dev-data-db`;
    const SECRET = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:rds!cluster-0000-abcdef`;
    const o = pulumi.output;
    const network = {
      vpcId: o("vpc-0aaa"),
      privateSubnetIds: o(["subnet-0a", "subnet-0b"]),
      executeApiEndpointId: o(EP1),
      endpointSecurityGroupId: o("sg-0endpoints"),
    } as unknown as NetworkOutputs;
    const data = {
      clusterArn: o(CLUSTER),
      masterSecretArn: o(SECRET),
      databaseName: o("app"),
      endpoint: o("db.example"),
      port: o(5432),
      secretKmsKeyArn: o(""),
    } as unknown as DataOutputs;
    const out = privateApiApps(cfg, provider, network, data);
    const resolved = (await resolveOutputs(out)) as any;
    await mocks.settle();
    const mine = mocks.resources.slice(before);
    expect(mine.filter((r) => r.type === "vpc-lambda-kit:functions:VpcFunction").map((r) => r.name)).toEqual([
      "pets-api",
    ]);
    const fn = mine.find((r) => r.type === "aws:lambda/function:Function" && r.name === "pets-api-fn")!;
    expect((fn.inputs.vpcConfig as any).subnetIds).toEqual(["subnet-0a", "subnet-0b"]);
    expect(fn.inputs).toMatchObject({
      runtime: "nodejs24.x",
      architectures: ["arm64"],
      handler: "index.handler",
      timeout: 10,
      memorySize: 256,
    });
    expect((fn.inputs.environment as any).variables).toEqual({
      DB_ACCESS: "data-api",
      DB_NAME: "app",
      DB_SECRET_ARN: SECRET,
      DB_CLUSTER_ARN: CLUSTER,
    });
    // Egress: HTTPS to the Data API only (over the NAT here: this config has no rds-data interface endpoint); never 5432.
    const sg = mine.find((r) => r.type === "aws:ec2/securityGroup:SecurityGroup" && r.name === "pets-api-sg")!;
    const egress = mine.filter(
      (r) => r.type === "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule" && r.inputs.securityGroupId === sg.id,
    );
    expect(egress.map((r) => [r.inputs.ipProtocol, r.inputs.fromPort, r.inputs.toPort, r.inputs.cidrIpv4])).toEqual([
      ["tcp", 443, 443, "0.0.0.0/0"],
    ]);
    const policy = mine.find((r) => r.type === "aws:iam/rolePolicy:RolePolicy" && r.name === "pets-api-policy")!;
    const statements = JSON.parse(policy.inputs.policy as string).Statement;
    expect(statements.filter((x: any) => x.Sid !== "VpcEni" && x.Sid !== "Logs")).toEqual([
      { Sid: "ReadDbSecret", Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: SECRET },
      {
        Sid: "DataApi",
        Effect: "Allow",
        Action: [
          "rds-data:ExecuteStatement",
          "rds-data:BatchExecuteStatement",
          "rds-data:BeginTransaction",
          "rds-data:CommitTransaction",
          "rds-data:RollbackTransaction",
        ],
        Resource: CLUSTER,
      },
    ]);
    const api = mine.find((r) => r.type === "aws:apigateway/restApi:RestApi")!;
    expect(api.inputs.endpointConfiguration).toEqual({ types: "PRIVATE", vpcEndpointIds: [EP1, EP2] });
    const perms = mine
      .filter((r) => r.type === "aws:lambda/permission:Permission")
      .map((p) => [p.inputs.function, p.inputs.sourceArn]);
    const fnName = resolved.privateApi.petsFunctionName;
    expect(fnName).toMatch(/^pets-api-fn-[0-9a-f]{7}$/);
    // ANY routes: the function itself answers 405 for methods it does not serve.
    expect(perms).toEqual([
      [fnName, `arn:aws:execute-api:${REGION}:${ACCOUNT}:${api.id}/*/*/pets`],
      [fnName, `arn:aws:execute-api:${REGION}:${ACCOUNT}:${api.id}/*/*/pets/*`],
    ]);
    expect(resolved.privateApi).toMatchObject({
      petsAccess: "data-api",
      stageName: "v1",
      invokeUrl: `https://${api.id}.execute-api.${REGION}.amazonaws.com/v1`,
      vpcEndpointIds: [EP1, EP2],
    });
  });
});
