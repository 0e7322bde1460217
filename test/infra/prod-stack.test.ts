import { GraphView, policyDoc, synthForTest } from "../support/graph";

// prod: one NAT gateway per AZ over three AZs, flow logs on.
let g: GraphView;
beforeAll(async () => {
  g = (await synthForTest("prod")).view;
});

const SUBNET = "aws:ec2/subnet:Subnet";
const NAT = "aws:ec2/natGateway:NatGateway";

test("prod spreads public and private subnets over three availability zones", () => {
  const zones = (prefix: string) =>
    [0, 1, 2].map((i) => g.one(SUBNET, `egress-${prefix}-${i}`).inputs.availabilityZone);
  expect(zones("public")).toEqual(["ap-northeast-1a", "ap-northeast-1c", "ap-northeast-1d"]);
  expect(zones("private")).toEqual(zones("public"));
  expect([0, 1, 2].map((i) => g.one(SUBNET, `egress-private-${i}`).inputs.cidrBlock)).toEqual([
    "10.0.1.0/24",
    "10.0.2.0/24",
    "10.0.3.0/24",
  ]);
  expect([0, 1, 2].map((i) => g.one(SUBNET, `egress-public-${i}`).inputs.cidrBlock)).toEqual([
    "10.0.10.0/24",
    "10.0.11.0/24",
    "10.0.12.0/24",
  ]);
});

test("each private subnet default-routes to the NAT gateway in its own availability zone", () => {
  expect(g.all(NAT)).toHaveLength(3);
  for (let i = 0; i < 3; i++) {
    const priv = g.one(SUBNET, `egress-private-${i}`);
    const nat = g.routeTarget(g.routeTableOf(priv), "0.0.0.0/0");
    expect(nat.type).toBe(NAT);
    const natSubnet = g.byId(nat.inputs.subnetId);
    expect(natSubnet.name).toMatch(/^egress-public-\d$/);
    expect(natSubnet.inputs.availabilityZone).toBe(priv.inputs.availabilityZone);
  }
});

test("each NAT gateway has its own EIP and all three are output for the allowlist", () => {
  const allocations = g.all(NAT).map((n) => n.inputs.allocationId);
  expect(new Set(allocations).size).toBe(3);
  const ips = allocations.map((a) => g.byId(a)).map((e) => e.type);
  expect(ips).toEqual(["aws:ec2/eip:Eip", "aws:ec2/eip:Eip", "aws:ec2/eip:Eip"]);
  const out = g.graph.outputs.egressIps as string[];
  expect(out).toHaveLength(3);
  expect(new Set(out).size).toBe(3);
});

test("flow logs go to a CloudWatch log group with 90-day retention through a role only flow logs of account A can assume", () => {
  const fl = g.one("aws:ec2/flowLog:FlowLog", "egress-flow-log");
  expect(fl.inputs).toMatchObject({
    trafficType: "ALL",
    logDestinationType: "cloud-watch-logs",
    vpcId: g.one("aws:ec2/vpc:Vpc", "egress-vpc").id,
  });
  const group = g.one("aws:cloudwatch/logGroup:LogGroup", "egress-flow-logs");
  expect(group.inputs.retentionInDays).toBe(90);
  const role = g.one("aws:iam/role:Role", "egress-flow-logs-role");
  expect(JSON.parse(role.inputs.assumeRolePolicy as string).Statement).toEqual([
    {
      Effect: "Allow",
      Principal: { Service: "vpc-flow-logs.amazonaws.com" },
      Action: "sts:AssumeRole",
      Condition: { StringEquals: { "aws:SourceAccount": "333333333333" } },
    },
  ]);
  const policy = g.all("aws:iam/rolePolicy:RolePolicy").find((p) => p.inputs.role === role.id)!;
  const stmt = policyDoc(policy).Statement;
  expect(stmt).toHaveLength(1);
  expect(stmt[0].Action).toEqual(["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"]);
  expect(stmt[0].Resource).toEqual([
    expect.stringMatching(/^arn:aws:logs:ap-northeast-1:333333333333:log-group:egress-flow-logs-[0-9a-f]{7}$/),
    expect.stringMatching(/:\*$/),
  ]);
});

test("prod's kintone sync never overlaps itself and runs in all three private subnets", () => {
  const fn = g.one("aws:lambda/function:Function", "kintone-sync-fn");
  expect(fn.inputs.reservedConcurrentExecutions).toBe(1);
  expect((fn.inputs.vpcConfig as { subnetIds: string[] }).subnetIds).toEqual(
    [0, 1, 2].map((i) => g.one(SUBNET, `egress-private-${i}`).id),
  );
});

test("prod's providers assume the deployer role in each account and refuse any other account", () => {
  for (const [key, acct] of [
    ["a", "333333333333"],
    ["b", "444444444444"],
  ]) {
    const p = g.one("pulumi:providers:aws", `account-${key}`);
    expect(JSON.parse(p.inputs.allowedAccountIds as string)).toEqual([acct]);
    expect(JSON.parse(p.inputs.assumeRoles as string)[0].roleArn).toBe(
      `arn:aws:iam::${acct}:role/vpc-lambda-kit-deployer`,
    );
  }
});

test("prod's proxies run in the public subnets with one EIP per instance the group may run, and the SaaS allowlists those", () => {
  const apps = g.graph.outputs.apps as any;
  const poolEips = g.all("aws:ec2/eip:Eip").filter((e) => e.name.startsWith("proxy-"));
  // proxyTier.scaling.max is 4 in Pulumi.prod.yaml.
  expect(poolEips).toHaveLength(4);
  expect(apps.proxyTier.egressIps).toHaveLength(4);
  expect(apps.proxyTier.egressIps.some((ip: string) => (g.graph.outputs.egressIps as string[]).includes(ip))).toBe(
    false,
  );
  const asg = g.one("aws:autoscaling/group:Group", "proxy-asg");
  expect(asg.inputs.vpcZoneIdentifiers).toEqual([0, 1, 2].map((i) => g.one(SUBNET, `egress-public-${i}`).id));
});

test("prod's database is protected from deletion, takes a final snapshot, and keeps a failover reader", () => {
  const cluster = g.one("aws:rds/cluster:Cluster", "data-db-cluster");
  expect(cluster.inputs).toMatchObject({
    deletionProtection: true,
    skipFinalSnapshot: false,
    finalSnapshotIdentifier: "vpc-lambda-kit-prod-data-db-final",
    backupRetentionPeriod: 14,
    storageEncrypted: true,
    serverlessv2ScalingConfiguration: { minCapacity: 0.5, maxCapacity: 16 },
  });
  expect(
    g
      .all("aws:rds/clusterInstance:ClusterInstance")
      .map((i) => [i.name, i.inputs.publiclyAccessible, i.inputs.promotionTier]),
  ).toEqual([
    ["data-db-instance-0", false, 0],
    ["data-db-instance-1", false, 1],
  ]);
  expect(g.one("aws:iam/role:Role", "db-writer-role").inputs.name).toBe("vpc-lambda-kit-prod-db-writer");
});

test("prod keeps kintone-sync's position table recoverable: point-in-time recovery and deletion protection on", () => {
  expect(g.one("aws:dynamodb/table:Table", "kintone-sync-positions").inputs).toMatchObject({
    billingMode: "PAY_PER_REQUEST",
    hashKey: "id",
    pointInTimeRecovery: { enabled: true },
    serverSideEncryption: { enabled: true },
    deletionProtectionEnabled: true,
  });
});
