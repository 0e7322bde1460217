import { bundleFunction, LAMBDA_RUNTIME } from "../../components/bundle";
import { VPC_ENI_ACTIONS } from "../../components/vpc-function";
import { kintoneSyncBundleOptions } from "../../functions/kintone-sync/bundle-options";
import { GraphView, policyDoc, synthForTest } from "../support/graph";
import { admittedPorts, egressOf, egressRules, egressTargets, ingressOf, ingressRules } from "../support/sg-rules";
import { logGroupOf, rolePoliciesOf, vpcFunctionBaseStatements } from "../support/function-policy";
import { kmsKeyArn, secretKeyStatements, secretPolicyStatements } from "../support/db-secret";
import { SECRET_VALUE_PLACEHOLDER } from "../../ops/stack-config";

// The dev stack: the whole environment in one stack, docs/designs.md §1 topology asserted resource by resource.
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

describe("docs/designs.md §1 fixed egress topology (dev)", () => {
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
    // Besides the default route, only the Transit Gateway route to the data VPC (docs/designs.md §3).
    expect(
      g
        .routesOf(g.routeTableOf(priv))
        .map((r) => r.inputs.destinationCidrBlock)
        .sort(),
    ).toEqual(["0.0.0.0/0", "10.1.0.0/16"]);
  });

  test("the NAT gateway owns an Elastic IP and the stack outputs that IP as egressIps", () => {
    const nat = g.one("aws:ec2/natGateway:NatGateway", "egress-nat-0");
    const eip = g.byId(nat.inputs.allocationId);
    expect(eip.type).toBe("aws:ec2/eip:Eip");
    expect(eip.inputs.domain).toBe("vpc");
    expect(g.graph.outputs.egressIps).toEqual([expect.stringMatching(/^203\.0\.113\.\d+$/)]);
    expect((g.graph.outputs.network as any).egressIps).toEqual(g.graph.outputs.egressIps);
  });

  test("dev runs a single NAT gateway, which both zones' private subnets route to", () => {
    expect(g.all("aws:ec2/natGateway:NatGateway")).toHaveLength(1);
    const nat = g.one("aws:ec2/natGateway:NatGateway", "egress-nat-0");
    for (const i of [0, 1])
      expect(g.routeTarget(g.routeTableOf(g.one(SUBNET, `egress-private-${i}`)), "0.0.0.0/0").id).toBe(nat.id);
  });

  test("an S3 gateway endpoint serves every private route table, so S3 traffic never crosses the NAT", () => {
    const ep = g.one("aws:ec2/vpcEndpoint:VpcEndpoint", "endpoints-s3-gateway");
    expect(ep.inputs).toMatchObject({
      vpcEndpointType: "Gateway",
      serviceName: "com.amazonaws.ap-northeast-1.s3",
      vpcId: g.one(VPC, "egress-vpc").id,
    });
    expect(ep.inputs.routeTableIds).toEqual([0, 1].map((i) => g.routeTableOf(g.one(SUBNET, `egress-private-${i}`)).id));
    expect((g.graph.outputs.network as any).s3PrefixListId).toMatch(/^pl-[0-9a-f]{8}$/);
  });

  test("no subnet auto-assigns public IPs", () => {
    for (const s of g.all(SUBNET)) expect(s.inputs.mapPublicIpOnLaunch).toBe(false);
  });
});

describe("kintone-sync as a VPC function", () => {
  test("the function is attached to the private subnets only, with its own security group", () => {
    const fn = g.one(FN, "kintone-sync-fn");
    const vpcConfig = fn.inputs.vpcConfig as { subnetIds: string[]; securityGroupIds: string[] };
    expect(vpcConfig.subnetIds).toEqual([g.one(SUBNET, "egress-private-0").id, g.one(SUBNET, "egress-private-1").id]);
    expect(vpcConfig.securityGroupIds).toEqual([g.one("aws:ec2/securityGroup:SecurityGroup", "kintone-sync-sg").id]);
  });

  test("every function in the stack is in private subnets only", () => {
    const privateIds = g
      .all(SUBNET)
      .filter((s) => /-private-\d+$/.test(s.name))
      .map((s) => s.id);
    for (const fn of g.all(FN)) {
      for (const id of (fn.inputs.vpcConfig as { subnetIds: string[] }).subnetIds) expect(privateIds).toContain(id);
    }
  });

  test("the deployed code is the esbuild bundle, for the current Node.js runtime on arm64", () => {
    const fn = g.one(FN, "kintone-sync-fn");
    expect(fn.inputs).toMatchObject({ runtime: LAMBDA_RUNTIME, architectures: ["arm64"], handler: "index.handler" });
    const bundle = bundleFunction("kintone-sync", kintoneSyncBundleOptions());
    expect(fn.inputs.code).toEqual({
      archive: { "index.js": { asset: { sha256: bundle.sha256, bytes: bundle.bytes } } },
    });
  });

  test("the role has the three ENI actions, its log group, its one secret, and nothing broader", () => {
    const role = g.one("aws:iam/role:Role", "kintone-sync-role");
    expect(JSON.parse(role.inputs.assumeRolePolicy as string).Statement).toEqual([
      { Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" },
    ]);
    const policies = rolePoliciesOf(g, role);
    expect(policies).toHaveLength(1);
    // The function writes to its own log group; the role may write to that group only.
    const logGroupName = logGroupOf(g, "kintone-sync-fn");
    expect(logGroupName).toMatch(/^kintone-sync-logs-[0-9a-f]{7}$/);
    const secret = g.one("aws:secretsmanager/secret:Secret", "kintone-sync-token");
    expect(policyDoc(policies[0]).Statement).toEqual([
      ...vpcFunctionBaseStatements(logGroupName),
      { Sid: "ReadKintoneToken", Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: secret.id },
      {
        Sid: "SyncPosition",
        Effect: "Allow",
        Action: ["dynamodb:GetItem", "dynamodb:PutItem"],
        Resource: `arn:aws:dynamodb:ap-northeast-1:111111111111:table/${g.one("aws:dynamodb/table:Table", "kintone-sync-positions").id}`,
      },
    ]);
    expect(VPC_ENI_ACTIONS).toEqual([
      "ec2:CreateNetworkInterface",
      "ec2:DescribeNetworkInterfaces",
      "ec2:DeleteNetworkInterface",
    ]);
    expect(g.all("aws:iam/rolePolicyAttachment:RolePolicyAttachment")).toHaveLength(0);
    expect(g.all("aws:iam/policyAttachment:PolicyAttachment")).toHaveLength(0);
    expect(role.inputs.managedPolicyArns ?? []).toEqual([]);
  });

  test("the security group has no ingress and exactly the declared egress: kintone via the NAT, Secrets Manager via its endpoint, DynamoDB via its gateway endpoint", () => {
    const sg = g.one("aws:ec2/securityGroup:SecurityGroup", "kintone-sync-sg");
    expect(sg.inputs.ingress ?? []).toEqual([]);
    expect(sg.inputs.egress ?? []).toEqual([]);
    expect(ingressOf(g, sg)).toEqual([]);
    const endpointSg = g.one("aws:ec2/securityGroup:SecurityGroup", "endpoints-sg");
    const egress = egressOf(g, sg);
    expect(egressRules(g, sg)).toEqual(
      [
        ["tcp", 443, 443, "0.0.0.0/0"],
        ["tcp", 443, 443, endpointSg.id],
        ["tcp", 443, 443, (g.graph.outputs.network as any).dynamodbPrefixListId],
      ].sort(),
    );
    expect(egress.find((r) => r.inputs.cidrIpv4)!.inputs.description).toMatch(
      /^kintone REST API on example\.cybozu\.com/,
    );
    // The endpoint admits the function on 443, from its security group only.
    const admit = ingressOf(g, endpointSg).filter((r) => r.inputs.referencedSecurityGroupId === sg.id);
    expect(admit.map((r) => [r.inputs.fromPort, r.inputs.toPort, r.inputs.ipProtocol])).toEqual([[443, 443, "tcp"]]);
  });

  test("the declared flows are recorded on the function component for the offline checker", () => {
    const comp = g.one("vpc-lambda-kit:functions:VpcFunction", "kintone-sync");
    expect(comp.inputs.flows).toEqual([
      { to: { kind: "internet", host: "example.cybozu.com" }, port: 443, protocol: "tcp", purpose: expect.any(String) },
      {
        to: { kind: "awsService", service: "secretsmanager" },
        port: 443,
        protocol: "tcp",
        purpose: expect.any(String),
      },
      {
        to: { kind: "awsService", service: "dynamodb" },
        port: 443,
        protocol: "tcp",
        purpose: expect.stringMatching(/DynamoDB gateway endpoint/),
      },
    ]);
    expect(g.one("aws:ec2/vpcEndpoint:VpcEndpoint", "endpoints-secretsmanager").inputs).toMatchObject({
      vpcEndpointType: "Interface",
      privateDnsEnabled: true,
      serviceName: "com.amazonaws.ap-northeast-1.secretsmanager",
    });
  });

  test("the log group keeps logs for the configured retention and the function logs JSON to it", () => {
    const logs = g.one("aws:cloudwatch/logGroup:LogGroup", "kintone-sync-logs");
    expect(logs.inputs.retentionInDays).toBe(14);
    expect(g.one(FN, "kintone-sync-fn").inputs.loggingConfig as any).toMatchObject({ logFormat: "JSON" });
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
    expect(
      g.one("aws:secretsmanager/secretVersion:SecretVersion", "kintone-sync-token-value").inputs.secretString,
    ).toBe("[secret]");
    expect(text).not.toContain(SECRET_VALUE_PLACEHOLDER);
  });
});

describe("accounts and providers", () => {
  test("account A's resources use account A's provider, account B's resources account B's", () => {
    const b = g.one("pulumi:providers:aws", "account-b");
    expect(JSON.parse(b.inputs.assumeRoles as string)).toEqual([
      { roleArn: "arn:aws:iam::222222222222:role/vpc-lambda-kit-deployer", sessionName: "vpc-lambda-kit-dev" },
    ]);
    expect(JSON.parse(b.inputs.allowedAccountIds as string)).toEqual(["222222222222"]);
    const custom = g.graph.resources.filter(
      (r) => !r.type.startsWith("pulumi:") && !r.type.startsWith("vpc-lambda-kit:"),
    );
    const dataSide = custom.filter((r) => g.ancestors(r).includes("data"));
    expect(dataSide.length).toBeGreaterThanOrEqual(6);
    for (const r of dataSide) expect([r.name, g.providerName(r)]).toEqual([r.name, "account-b"]);
    // aws-native resources (the AppFlow connector registration) use account A's aws-native provider.
    for (const r of custom.filter((x) => !dataSide.includes(x))) {
      expect([r.name, g.providerName(r)]).toEqual([
        r.name,
        r.type.startsWith("aws-native:") ? "account-a-native" : "account-a",
      ]);
    }
  });

  test("the data VPC is 10.1.0.0/16 with the usual recipe's subnet in two zones and no internet route", () => {
    const vpc = g.one(VPC, "data-vpc");
    expect(vpc.inputs).toMatchObject({ cidrBlock: "10.1.0.0/16", enableDnsHostnames: true, enableDnsSupport: true });
    const subnets = [g.one(SUBNET, "data-subnet-0"), g.one(SUBNET, "data-subnet-1")];
    expect(subnets.map((s) => s.inputs.cidrBlock)).toEqual(["10.1.128.0/28", "10.1.128.16/28"]);
    expect(new Set(subnets.map((s) => s.inputs.availabilityZone)).size).toBe(2);
    // Its only route leaves through the Transit Gateway, to account A's VPC.
    for (const s of subnets)
      expect(
        g
          .routesOf(g.routeTableOf(s))
          .map((r) => [r.inputs.destinationCidrBlock, g.byId(r.inputs.transitGatewayId).type]),
      ).toEqual([["10.0.0.0/16", "aws:ec2transitgateway/transitGateway:TransitGateway"]]);
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

describe("docs/designs.md §2 in dev: the proxy tier and the SaaS export", () => {
  const SG = "aws:ec2/securityGroup:SecurityGroup";

  test("the proxies sit in the private subnets behind the NAT, so the SaaS allowlists the NAT's EIP", () => {
    const apps = g.graph.outputs.apps as any;
    expect(apps.proxyTier.egressIps).toEqual(g.graph.outputs.egressIps);
    // The tier's default load balancer is an internal NLB (docs/proxy-tier.md).
    expect(apps.proxyTier.proxyUrl).toMatch(
      /^http:\/\/internal-proxy-nlb-[0-9a-f]{7}-[0-9a-f]{16}\.elb\.ap-northeast-1\.amazonaws\.com:3128$/,
    );
    const asg = g.one("aws:autoscaling/group:Group", "proxy-asg");
    expect(asg.inputs.vpcZoneIdentifiers).toEqual([0, 1].map((i) => g.one(SUBNET, `egress-private-${i}`).id));
    expect(g.one("aws:lb/loadBalancer:LoadBalancer", "proxy-nlb").inputs).toMatchObject({
      internal: true,
      loadBalancerType: "network",
    });
  });

  test("saas-export reaches the proxy, S3 through the gateway endpoint and Secrets Manager through its endpoint, and nothing else", () => {
    const sg = g.one(SG, "saas-export-sg");
    const lbSg = g.byId((g.graph.outputs.apps as any).proxyTier.securityGroupId);
    expect(egressTargets(g, sg)).toEqual(
      [
        [3128, lbSg.id],
        [443, (g.graph.outputs.network as any).s3PrefixListId],
        [443, g.one(SG, "endpoints-sg").id],
      ].sort(),
    );
    expect(egressOf(g, sg).some((r) => r.inputs.cidrIpv4 === "0.0.0.0/0")).toBe(false);
    // The load balancer admits the function's group on the proxy port.
    expect(admittedPorts(g, lbSg, sg)).toEqual([3128]);
  });

  test("the export role writes only under its prefix and reads only its two secrets", () => {
    const role = g.one("aws:iam/role:Role", "saas-export-role");
    const doc = policyDoc(g.all("aws:iam/rolePolicy:RolePolicy").find((p) => p.inputs.role === role.id)!);
    const bucket = g.one("aws:s3/bucket:Bucket", "saas-export-bucket");
    const bySid = Object.fromEntries(doc.Statement.map((s) => [s.Sid, s]));
    expect(bySid.WritePartitions).toEqual({
      Sid: "WritePartitions",
      Effect: "Allow",
      Action: ["s3:PutObject", "s3:DeleteObject"],
      Resource: `arn:aws:s3:::${bucket.id}/raw/saas/*`,
    });
    expect(bySid.ListPartitions).toEqual({
      Sid: "ListPartitions",
      Effect: "Allow",
      Action: ["s3:ListBucket"],
      Resource: `arn:aws:s3:::${bucket.id}`,
      Condition: { StringLike: { "s3:prefix": ["raw/saas/*"] } },
    });
    expect((bySid.ReadSecrets.Resource as string[]).sort()).toEqual(
      [
        g.one("aws:secretsmanager/secret:Secret", "proxy-header-secret").id,
        g.one("aws:secretsmanager/secret:Secret", "saas-export-auth").id,
      ].sort(),
    );
    // It reads the published symlink file under the same prefix (docs/saas-export-publishing.md).
    expect(bySid.ReadPublished).toEqual({
      Sid: "ReadPublished",
      Effect: "Allow",
      Action: ["s3:GetObject"],
      Resource: `arn:aws:s3:::${bucket.id}/raw/saas/*`,
    });
    expect(Object.keys(bySid).sort()).toEqual([
      "ListPartitions",
      "Logs",
      "ReadPublished",
      "ReadSecrets",
      "VpcEni",
      "WritePartitions",
    ]);
  });

  test("the bucket is private, encrypted and TLS-only; Athena reads it through a projected Glue table", () => {
    const bucket = g.one("aws:s3/bucket:Bucket", "saas-export-bucket");
    expect(
      g.one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "saas-export-bucket-pab").inputs,
    ).toMatchObject({
      bucket: bucket.id,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    const tls = JSON.parse(g.one("aws:s3/bucketPolicy:BucketPolicy", "saas-export-bucket-tls").inputs.policy as string);
    expect(tls.Statement[0]).toMatchObject({ Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": "false" } } });
    const table = g.one("aws:glue/catalogTable:CatalogTable", "saas-export-table");
    expect(table.inputs.partitionKeys).toEqual([{ name: "dt", type: "string" }]);
    expect((table.inputs.parameters as Record<string, string>)["storage.location.template"]).toBe(
      `s3://${bucket.id}/raw/saas/current/dt=\${dt}/`,
    );
    expect((table.inputs.storageDescriptor as any).columns).toEqual([
      { name: "id", type: "string" },
      { name: "name", type: "string" },
      { name: "updated_at", type: "timestamp" },
    ]);
  });

  test("the proxy header value is in no resource input but its secret version", () => {
    const versions = g.all("aws:secretsmanager/secretVersion:SecretVersion").map((v) => v.inputs.secretString);
    // kintone token, proxy header, saas-export's and the Athena connector's SaaS credential.
    expect(versions).toEqual(["[secret]", "[secret]", "[secret]", "[secret]"]);
    const userData = Buffer.from(
      String(g.one("aws:ec2/launchTemplate:LaunchTemplate", "proxy-lt").inputs.userData),
      "base64",
    ).toString();
    expect(userData).toContain(g.one("aws:secretsmanager/secret:Secret", "proxy-header-secret").id);
    expect(userData).not.toContain("synth-placeholder-secret");
  });
});

describe("docs/designs.md §3 in dev: Aurora PostgreSQL in account B, db-writer in account A", () => {
  const SG = "aws:ec2/securityGroup:SecurityGroup";
  const INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule";
  const CLUSTER = "aws:rds/cluster:Cluster";
  const WRITER_ROLE_ARN = "arn:aws:iam::111111111111:role/vpc-lambda-kit-dev-db-writer";
  // pets-api (docs/designs.md §5) also reads the database over pg from account A.
  const READER_ARNS = [WRITER_ROLE_ARN, "arn:aws:iam::111111111111:role/vpc-lambda-kit-dev-pets-api"];

  test("the cluster is private, encrypted, backed up, Data API on, its master password managed by RDS, deletable in dev", () => {
    const cluster = g.one(CLUSTER, "data-db-cluster");
    expect(cluster.inputs).toMatchObject({
      engine: "aurora-postgresql",
      engineMode: "provisioned",
      engineVersion: "16.6",
      storageEncrypted: true,
      enableHttpEndpoint: true,
      manageMasterUserPassword: true,
      backupRetentionPeriod: 7,
      deletionProtection: false,
      skipFinalSnapshot: true,
      serverlessv2ScalingConfiguration: { minCapacity: 0.5, maxCapacity: 4 },
      databaseName: "app",
      port: 5432,
      dbSubnetGroupName: expect.stringMatching(/^data-db-subnets-[0-9a-f]{7}$/),
    });
    expect(cluster.inputs.masterPassword).toBeUndefined();
    const instances = g.all("aws:rds/clusterInstance:ClusterInstance");
    expect(instances.map((i) => [i.name, i.inputs.instanceClass, i.inputs.publiclyAccessible])).toEqual([
      ["data-db-instance-0", "db.serverless", false],
    ]);
    // The DB subnets route only to account A's VPC, through the Transit Gateway.
    for (const s of [0, 1].map((i) => g.one(SUBNET, `data-subnet-${i}`)))
      expect(g.routesOf(g.routeTableOf(s)).map((r) => r.inputs.destinationCidrBlock)).toEqual(["10.0.0.0/16"]);
  });

  test("the database's security group admits exactly 5432 from account A's VPC 10.0.0.0/16, and nothing else", () => {
    const dbSg = g.one(SG, "data-db-sg");
    expect(dbSg.inputs.vpcId).toBe(g.one(VPC, "data-vpc").id);
    expect(dbSg.inputs.ingress ?? []).toEqual([]);
    expect(g.one(CLUSTER, "data-db-cluster").inputs.vpcSecurityGroupIds).toEqual([dbSg.id]);
    expect(ingressRules(g, dbSg)).toEqual([["tcp", 5432, 5432, "10.0.0.0/16"]]);
    expect(egressOf(g, dbSg)).toEqual([]);
  });

  test("every database resource is created with account B's provider", () => {
    const dbResources = g.graph.resources.filter(
      (r) =>
        g.ancestors(r).includes("data-db") ||
        /^aws:(rds|kms)\//.test(r.type) ||
        r.type === "aws:secretsmanager/secretPolicy:SecretPolicy",
    );
    expect(dbResources.map((r) => r.type).sort()).toEqual(
      expect.arrayContaining([
        CLUSTER,
        "aws:rds/clusterInstance:ClusterInstance",
        "aws:rds/clusterParameterGroup:ClusterParameterGroup",
        "aws:kms/key:Key",
        "aws:secretsmanager/secretPolicy:SecretPolicy",
        SG,
        INGRESS,
        "aws:cloudwatch/logGroup:LogGroup",
      ]),
    );
    for (const r of dbResources.filter((x) => !x.type.startsWith("vpc-lambda-kit:")))
      expect([r.type, r.name, g.providerName(r)]).toEqual([r.type, r.name, "account-b"]);
    expect(g.ancestors(g.one(CLUSTER, "data-db-cluster"))).toEqual(["data-db", "data"]);
  });

  test("the master secret is encrypted with account B's own key, readable from account A only by the listed client roles through Secrets Manager", () => {
    const key = g.one("aws:kms/key:Key", "data-db-secret-key");
    const keyArn = kmsKeyArn("222222222222", key.id);
    expect(g.one(CLUSTER, "data-db-cluster").inputs.masterUserSecretKmsKeyId).toBe(keyArn);
    const sharing = { owner: "222222222222", readerAccounts: ["111111111111"], readers: READER_ARNS };
    expect(JSON.parse(key.inputs.policy as string).Statement).toEqual(secretKeyStatements(sharing));
    const data = g.graph.outputs.data as Record<string, string>;
    const policy = g.one("aws:secretsmanager/secretPolicy:SecretPolicy", "data-db-secret-policy");
    expect(policy.inputs.secretArn).toBe(data.masterSecretArn);
    expect(JSON.parse(policy.inputs.policy as string).Statement).toEqual(secretPolicyStatements(sharing));
    expect(data).toMatchObject({
      clusterArn: "arn:aws:rds:ap-northeast-1:222222222222:cluster:vpc-lambda-kit-dev-data-db",
      endpoint: expect.stringMatching(
        /^vpc-lambda-kit-dev-data-db\.cluster-[0-9a-f]{12}\.ap-northeast-1\.rds\.amazonaws\.com$/,
      ),
      port: 5432,
      databaseName: "app",
      secretKmsKeyArn: keyArn,
      securityGroupId: g.one(SG, "data-db-sg").id,
      masterSecretArn: expect.stringMatching(/^arn:aws:secretsmanager:ap-northeast-1:222222222222:secret:rds!cluster-/),
    });
  });

  test("db-writer egress is exactly 5432 to 10.1.0.0/16 plus Secrets Manager through its endpoint", () => {
    const sg = g.one(SG, "db-writer-sg");
    const endpointSg = g.one(SG, "endpoints-sg");
    expect(egressRules(g, sg)).toEqual(
      [
        ["tcp", 443, 443, endpointSg.id],
        ["tcp", 5432, 5432, "10.1.0.0/16"],
      ].sort(),
    );
    expect(ingressOf(g, sg)).toEqual([]);
    expect(admittedPorts(g, endpointSg, sg)).toEqual([443]);
    expect(g.one("vpc-lambda-kit:functions:VpcFunction", "db-writer").inputs.flows).toEqual([
      {
        to: { kind: "cidr", cidr: "10.1.0.0/16", name: "data VPC" },
        port: 5432,
        protocol: "tcp",
        purpose: expect.stringMatching(/Transit Gateway/),
      },
      {
        to: { kind: "awsService", service: "secretsmanager" },
        port: 443,
        protocol: "tcp",
        purpose: expect.any(String),
      },
    ]);
  });

  test("db-writer's role has a fixed name and exactly: the ENI actions, its logs, that one secret, and decrypt on that one key via Secrets Manager", () => {
    const role = g.one("aws:iam/role:Role", "db-writer-role");
    expect(role.inputs.name).toBe("vpc-lambda-kit-dev-db-writer");
    const data = g.graph.outputs.data as Record<string, string>;
    const policies = rolePoliciesOf(g, role);
    expect(policies).toHaveLength(1);
    expect(policyDoc(policies[0]).Statement).toEqual([
      ...vpcFunctionBaseStatements(logGroupOf(g, "db-writer-fn")),
      {
        Sid: "ReadDbSecret",
        Effect: "Allow",
        Action: ["secretsmanager:GetSecretValue"],
        Resource: data.masterSecretArn,
      },
      {
        Sid: "DecryptDbSecret",
        Effect: "Allow",
        Action: ["kms:Decrypt"],
        Resource: data.secretKmsKeyArn,
        Condition: { StringEquals: { "kms:ViaService": "secretsmanager.ap-northeast-1.amazonaws.com" } },
      },
    ]);
    expect(g.providerName(role)).toBe("account-a");
  });

  test("db-writer's environment names the endpoint and the secret, never a password", () => {
    const data = g.graph.outputs.data as Record<string, string>;
    const fn = g.one(FN, "db-writer-fn");
    expect((fn.inputs.environment as { variables: Record<string, string> }).variables).toEqual({
      DB_ACCESS: "pg",
      DB_HOST: data.endpoint,
      DB_PORT: "5432",
      DB_NAME: "app",
      DB_SECRET_ARN: data.masterSecretArn,
      DB_CLUSTER_ARN: data.clusterArn,
      DB_CONNECT_TIMEOUT_MS: "3000",
    });
    expect((fn.inputs.vpcConfig as { subnetIds: string[] }).subnetIds).toEqual(
      [0, 1].map((i) => g.one(SUBNET, `egress-private-${i}`).id),
    );
    expect((g.graph.outputs.apps as any).dbWriter).toMatchObject({ access: "pg", roleArn: WRITER_ROLE_ARN });
  });
});

describe("docs/designs.md §3 in dev: the Transit Gateway between account A and account B", () => {
  const TGW_TYPE = "aws:ec2transitgateway/transitGateway:TransitGateway";

  test("account A's private route tables reach 10.1.0.0/16 and account B's reaches 10.0.0.0/16, through the same TGW", () => {
    const tgw = g.one(TGW_TYPE, "transit-tgw");
    for (const i of [0, 1])
      expect(g.routeTarget(g.routeTableOf(g.one(SUBNET, `egress-private-${i}`)), "10.1.0.0/16").id).toBe(tgw.id);
    expect(g.routeTarget(g.routeTableOf(g.one(SUBNET, "data-subnet-0")), "10.0.0.0/16").id).toBe(tgw.id);
    expect(g.all(TGW_TYPE)).toHaveLength(1);
  });

  test("both VPCs attach in their private subnets; account B accepts account A's share first", () => {
    const tgw = g.one(TGW_TYPE, "transit-tgw");
    const attachments = g.all("aws:ec2transitgateway/vpcAttachment:VpcAttachment");
    expect(attachments.map((a) => [a.name, a.inputs.transitGatewayId, a.inputs.subnetIds])).toEqual(
      expect.arrayContaining([
        ["transit-attachment", tgw.id, [0, 1].map((i) => g.one(SUBNET, `egress-private-${i}`).id)],
        ["data-transit-attachment", tgw.id, [0, 1].map((i) => g.one(SUBNET, `data-subnet-${i}`).id)],
      ]),
    );
    expect(attachments).toHaveLength(2);
    const share = g.one("aws:ram/resourceShare:ResourceShare", "transit-share");
    expect(share.inputs.allowExternalPrincipals).toBe(true);
    expect(
      g.one("aws:ram/principalAssociation:PrincipalAssociation", "transit-share-principal-0").inputs.principal,
    ).toBe("222222222222");
    expect(g.one("aws:ram/resourceShareAccepter:ResourceShareAccepter", "data-transit-accepter").inputs.shareArn).toBe(
      share.id,
    );
    expect((g.graph.outputs.network as Record<string, unknown>).transitGatewayId).toBe(tgw.id);
  });

  test("the TGW and its share are on account A's provider, account B's accepter, attachment and route on account B's", () => {
    for (const name of [
      "transit-tgw",
      "transit-share",
      "transit-attachment",
      "transit-rt0-to-data",
      "transit-rt1-to-data",
    ]) {
      const r = g.graph.resources.find((x) => x.name === name && x.type.startsWith("aws:"));
      expect([name, r && g.providerName(r)]).toEqual([name, "account-a"]);
    }
    for (const name of ["data-transit-accepter", "data-transit-attachment", "data-transit-rt0-to-egress"]) {
      const r = g.graph.resources.find((x) => x.name === name && x.type.startsWith("aws:"));
      expect([name, r && g.providerName(r)]).toEqual([name, "account-b"]);
    }
  });
});
