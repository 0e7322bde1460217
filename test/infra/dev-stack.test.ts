import { bundleFunction, LAMBDA_RUNTIME } from "../../components/bundle";
import { VPC_ENI_ACTIONS } from "../../components/vpc-function";
import { kintoneSyncBundleOptions } from "../../functions/kintone-sync/bundle-options";
import { GraphView, policyDoc, synthForTest } from "../support/graph";
import { SECRET_VALUE_PLACEHOLDER } from "../../ops/stack-config";

// The dev stack: the whole environment in one stack, MISSION §1 topology asserted resource by resource.
let g: GraphView;
let text: string;

beforeAll(async () => {
  const { view } = await synthForTest("dev");
  g = view;
  text = JSON.stringify(view.graph);
});

const VPC = "aws:ec2/vpc:Vpc";
const SUBNET = "aws:ec2/subnet:Subnet";
const FN = "aws:lambda/function:Function";

describe("MISSION §1 fixed egress topology (dev)", () => {
  test("the VPC is 10.0.0.0/16 with DNS hostnames and DNS support on", () => {
    const vpc = g.one(VPC, "egress-vpc");
    expect(vpc.inputs).toMatchObject({ cidrBlock: "10.0.0.0/16", enableDnsHostnames: true, enableDnsSupport: true });
  });

  test("the public subnet 10.0.10.0/24 default-routes to the VPC's internet gateway", () => {
    const pub = g.one(SUBNET, "egress-public-0");
    expect(pub.inputs.cidrBlock).toBe("10.0.10.0/24");
    expect(pub.inputs.vpcId).toBe(g.one(VPC, "egress-vpc").id);
    const target = g.routeTarget(g.routeTableOf(pub), "0.0.0.0/0");
    expect(target.type).toBe("aws:ec2/internetGateway:InternetGateway");
    expect(target.inputs.vpcId).toBe(g.one(VPC, "egress-vpc").id);
  });

  test("the private subnet 10.0.1.0/24 default-routes to a NAT gateway that sits in the public subnet", () => {
    const priv = g.one(SUBNET, "egress-private-0");
    expect(priv.inputs.cidrBlock).toBe("10.0.1.0/24");
    const nat = g.routeTarget(g.routeTableOf(priv), "0.0.0.0/0");
    expect(nat.type).toBe("aws:ec2/natGateway:NatGateway");
    expect(nat.inputs.subnetId).toBe(g.one(SUBNET, "egress-public-0").id);
    expect(g.routesOf(g.routeTableOf(priv)).map((r) => r.inputs.destinationCidrBlock)).toEqual(["0.0.0.0/0"]);
  });

  test("the NAT gateway owns an Elastic IP and the stack outputs that IP as egressIps", () => {
    const nat = g.one("aws:ec2/natGateway:NatGateway", "egress-nat-0");
    const eip = g.byId(nat.inputs.allocationId);
    expect(eip.type).toBe("aws:ec2/eip:Eip");
    expect(eip.inputs.domain).toBe("vpc");
    expect(g.graph.outputs.egressIps).toEqual([expect.stringMatching(/^203\.0\.113\.\d+$/)]);
    expect((g.graph.outputs.network as any).egressIps).toEqual(g.graph.outputs.egressIps);
  });

  test("dev runs a single NAT gateway", () => {
    expect(g.all("aws:ec2/natGateway:NatGateway")).toHaveLength(1);
  });

  test("an S3 gateway endpoint serves every private route table, so S3 traffic never crosses the NAT", () => {
    const ep = g.one("aws:ec2/vpcEndpoint:VpcEndpoint", "endpoints-s3-gateway");
    expect(ep.inputs).toMatchObject({ vpcEndpointType: "Gateway", serviceName: "com.amazonaws.ap-northeast-1.s3", vpcId: g.one(VPC, "egress-vpc").id });
    expect(ep.inputs.routeTableIds).toEqual([g.routeTableOf(g.one(SUBNET, "egress-private-0")).id]);
    expect((g.graph.outputs.network as any).s3PrefixListId).toMatch(/^pl-[0-9a-f]{8}$/);
  });

  test("no subnet auto-assigns public IPs", () => {
    for (const s of g.all(SUBNET)) expect(s.inputs.mapPublicIpOnLaunch).toBe(false);
  });
});

describe("kintone-sync as a VPC function", () => {
  test("the function is attached to the private subnet only, with its own security group", () => {
    const fn = g.one(FN, "kintone-sync-fn");
    const vpcConfig = fn.inputs.vpcConfig as { subnetIds: string[]; securityGroupIds: string[] };
    expect(vpcConfig.subnetIds).toEqual([g.one(SUBNET, "egress-private-0").id]);
    expect(vpcConfig.securityGroupIds).toEqual([g.one("aws:ec2/securityGroup:SecurityGroup", "kintone-sync-sg").id]);
  });

  test("every function in the stack is in private subnets only", () => {
    const privateIds = g.all(SUBNET).filter((s) => /-private-\d+$/.test(s.name)).map((s) => s.id);
    for (const fn of g.all(FN)) {
      for (const id of (fn.inputs.vpcConfig as { subnetIds: string[] }).subnetIds) expect(privateIds).toContain(id);
    }
  });

  test("the deployed code is the esbuild bundle, for the current Node.js runtime on arm64", () => {
    const fn = g.one(FN, "kintone-sync-fn");
    expect(fn.inputs).toMatchObject({ runtime: LAMBDA_RUNTIME, architectures: ["arm64"], handler: "index.handler" });
    const bundle = bundleFunction("kintone-sync", kintoneSyncBundleOptions());
    expect(fn.inputs.code).toEqual({ archive: { "index.js": { asset: { sha256: bundle.sha256, bytes: bundle.bytes } } } });
  });

  test("the role has the three ENI actions, its log group, its one secret, and nothing broader", () => {
    const role = g.one("aws:iam/role:Role", "kintone-sync-role");
    expect(JSON.parse(role.inputs.assumeRolePolicy as string).Statement).toEqual([
      { Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" },
    ]);
    const policies = g.all("aws:iam/rolePolicy:RolePolicy").filter((p) => p.inputs.role === role.id);
    expect(policies).toHaveLength(1);
    // The function writes to its own log group; the role may write to that group only.
    const logGroupName = (g.one(FN, "kintone-sync-fn").inputs.loggingConfig as { logGroup: string }).logGroup;
    expect(logGroupName).toMatch(/^kintone-sync-logs-[0-9a-f]{7}$/);
    const secret = g.one("aws:secretsmanager/secret:Secret", "kintone-sync-token");
    expect(policyDoc(policies[0]).Statement).toEqual([
      { Sid: "VpcEni", Effect: "Allow", Action: VPC_ENI_ACTIONS, Resource: "*" },
      { Sid: "Logs", Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: `arn:aws:logs:ap-northeast-1:111111111111:log-group:${logGroupName}:*` },
      { Sid: "ReadKintoneToken", Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: secret.id },
    ]);
    expect(VPC_ENI_ACTIONS).toEqual(["ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DeleteNetworkInterface"]);
    expect(g.all("aws:iam/rolePolicyAttachment:RolePolicyAttachment")).toHaveLength(0);
    expect(g.all("aws:iam/policyAttachment:PolicyAttachment")).toHaveLength(0);
    expect(role.inputs.managedPolicyArns ?? []).toEqual([]);
  });

  test("the security group has no ingress and exactly the declared egress: HTTPS out through the NAT", () => {
    const sg = g.one("aws:ec2/securityGroup:SecurityGroup", "kintone-sync-sg");
    expect(sg.inputs.ingress ?? []).toEqual([]);
    expect(sg.inputs.egress ?? []).toEqual([]);
    expect(g.all("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule").filter((r) => r.inputs.securityGroupId === sg.id)).toEqual([]);
    const egress = g.all("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule").filter((r) => r.inputs.securityGroupId === sg.id);
    expect(egress.map((r) => ({ ...r.inputs, description: undefined, securityGroupId: undefined }))).toEqual([
      { ipProtocol: "tcp", fromPort: 443, toPort: 443, cidrIpv4: "0.0.0.0/0", description: undefined, securityGroupId: undefined },
    ]);
    expect(egress[0].inputs.description).toMatch(/kintone REST API on example\.cybozu\.com.*; read the kintone API token/);
  });

  test("the declared flows are recorded on the function component for the offline checker", () => {
    const comp = g.one("vpc-lambda-kit:functions:VpcFunction", "kintone-sync");
    expect(comp.inputs.flows).toEqual([
      { to: { kind: "internet", host: "example.cybozu.com" }, port: 443, protocol: "tcp", purpose: expect.any(String) },
      { to: { kind: "awsService", service: "secretsmanager" }, port: 443, protocol: "tcp", purpose: expect.any(String) },
    ]);
  });

  test("the log group keeps logs for the configured retention and the function logs JSON to it", () => {
    const logs = g.one("aws:cloudwatch/logGroup:LogGroup", "kintone-sync-logs");
    expect(logs.inputs.retentionInDays).toBe(14);
    expect((g.one(FN, "kintone-sync-fn").inputs.loggingConfig as any)).toMatchObject({ logFormat: "JSON" });
  });

  test("an EventBridge schedule from config invokes it, with the permission scoped to that rule", () => {
    const rule = g.one("aws:cloudwatch/eventRule:EventRule", "kintone-sync-schedule");
    expect(rule.inputs.scheduleExpression).toBe("rate(15 minutes)");
    const fnState = g.one(FN, "kintone-sync-fn");
    const target = g.one("aws:cloudwatch/eventTarget:EventTarget", "kintone-sync-schedule-target");
    expect(target.inputs.arn).toMatch(/^arn:aws:lambda:ap-northeast-1:111111111111:function:kintone-sync-fn-/);
    const perm = g.one("aws:lambda/permission:Permission", "kintone-sync-schedule-invoke");
    expect(perm.inputs).toMatchObject({ action: "lambda:InvokeFunction", principal: "events.amazonaws.com" });
    expect(perm.inputs.sourceArn).toMatch(/^arn:aws:events:ap-northeast-1:111111111111:rule\/kintone-sync-schedule-/);
    expect(fnState.inputs.environment).toMatchObject({ variables: expect.objectContaining({ KINTONE_APP_ID: "1" }) });
  });

  test("the function's environment names the secret, never the token", () => {
    const env = (g.one(FN, "kintone-sync-fn").inputs.environment as { variables: Record<string, string> }).variables;
    expect(env.KINTONE_TOKEN_SECRET_ID).toBe(g.one("aws:secretsmanager/secret:Secret", "kintone-sync-token").id);
    expect(env.KINTONE_ALLOWLIST_HINT).toBe('stack output "egressIps" of stack dev');
    expect(g.one("aws:secretsmanager/secretVersion:SecretVersion", "kintone-sync-token-value").inputs.secretString).toBe("[secret]");
    expect(text).not.toContain(SECRET_VALUE_PLACEHOLDER);
  });
});

describe("accounts and providers", () => {
  test("account A's resources use account A's provider, account B's resources account B's", () => {
    const b = g.one("pulumi:providers:aws", "account-b");
    expect(JSON.parse(b.inputs.assumeRoles as string)).toEqual([{ roleArn: "arn:aws:iam::222222222222:role/vpc-lambda-kit-deployer", sessionName: "vpc-lambda-kit-dev" }]);
    expect(JSON.parse(b.inputs.allowedAccountIds as string)).toEqual(["222222222222"]);
    const custom = g.graph.resources.filter((r) => !r.type.startsWith("pulumi:") && !r.type.startsWith("vpc-lambda-kit:"));
    const dataSide = custom.filter((r) => g.ancestors(r).includes("data"));
    expect(dataSide.length).toBeGreaterThanOrEqual(6);
    for (const r of dataSide) expect([r.name, g.providerName(r)]).toEqual([r.name, "account-b"]);
    for (const r of custom.filter((x) => !dataSide.includes(x))) expect([r.name, g.providerName(r)]).toEqual([r.name, "account-a"]);
  });

  test("the data VPC is 10.1.0.0/16 with the write-up's subnet in two zones and no internet route", () => {
    const vpc = g.one(VPC, "data-vpc");
    expect(vpc.inputs).toMatchObject({ cidrBlock: "10.1.0.0/16", enableDnsHostnames: true, enableDnsSupport: true });
    const subnets = [g.one(SUBNET, "data-subnet-0"), g.one(SUBNET, "data-subnet-1")];
    expect(subnets.map((s) => s.inputs.cidrBlock)).toEqual(["10.1.128.0/28", "10.1.128.16/28"]);
    expect(new Set(subnets.map((s) => s.inputs.availabilityZone)).size).toBe(2);
    for (const s of subnets) expect(g.routesOf(g.routeTableOf(s))).toEqual([]);
    expect(g.all("aws:ec2/internetGateway:InternetGateway").filter((i) => i.inputs.vpcId === vpc.id)).toEqual([]);
  });

  test("every child is named after its component and parented to it", () => {
    for (const r of g.graph.resources) {
      const parent = g.byUrn(r.parent);
      if (parent && parent.type.startsWith("vpc-lambda-kit:")) expect(r.name.startsWith(`${parent.name}-`)).toBe(true);
    }
    const vpcChildren = g.graph.resources.filter((r) => r.name.startsWith("egress-"));
    for (const r of vpcChildren) expect(g.ancestors(r)).toContain("egress");
  });
});
