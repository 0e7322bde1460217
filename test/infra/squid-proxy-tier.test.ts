import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { KitMocks, RecordedResource, resolveOutputs, SECRET_PLACEHOLDER } from "../../ops/mocks";
import {
  HEADER_PLACEHOLDER,
  HEADER_REGEX_META,
  PROXY_POOL_TAG,
  SESSION_MANAGER_ACTIONS,
  proxyMetricNamespace,
  renderBootScript,
  SquidProxyTier,
  SquidProxyTierArgs,
} from "../../components/squid-proxy-tier";
import { exactHeaderRegex, renderSquidConf, SQUID_ACL } from "../../components/squid-conf";
import { ConfigError, ConfigErrors } from "../../components/errors";
import { egressRulesFor } from "../../components/flows";
import { GraphView, policyDoc } from "../support/graph";
import { outputsOf } from "../support/component-outputs";
import { squidParse } from "../support/squid";

/**
 * Stand-ins for attributes AWS computes that ops/mocks.ts does not answer yet (CLB DNS name, launch
 * template version, secret version id, ASG name). They only fill what is missing, so they become
 * no-ops once the shared mocks answer them.
 */
const mocks = new KitMocks({ region: "ap-northeast-1", defaultAccountId: "123456789012" });
beforeAll(() => mocks.install("vpc-lambda-kit", "proxy"));

const T = {
  clb: "aws:elb/loadBalancer:LoadBalancer",
  nlb: "aws:lb/loadBalancer:LoadBalancer",
  tg: "aws:lb/targetGroup:TargetGroup",
  listener: "aws:lb/listener:Listener",
  policy: "aws:autoscaling/policy:Policy",
  logGroup: "aws:cloudwatch/logGroup:LogGroup",
  metricFilter: "aws:cloudwatch/logMetricFilter:LogMetricFilter",
  alarm: "aws:cloudwatch/metricAlarm:MetricAlarm",
  ppp: "aws:ec2/proxyProtocolPolicy:ProxyProtocolPolicy",
  asg: "aws:autoscaling/group:Group",
  lt: "aws:ec2/launchTemplate:LaunchTemplate",
  sg: "aws:ec2/securityGroup:SecurityGroup",
  ingress: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
  egress: "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
  eip: "aws:ec2/eip:Eip",
  tag: "aws:ec2/tag:Tag",
  secret: "aws:secretsmanager/secret:Secret",
  secretVersion: "aws:secretsmanager/secretVersion:SecretVersion",
  role: "aws:iam/role:Role",
  rolePolicy: "aws:iam/rolePolicy:RolePolicy",
  profile: "aws:iam/instanceProfile:InstanceProfile",
};

const ZONES = ["ap-northeast-1a", "ap-northeast-1c"];
/** Distinctive, and full of characters that need escaping in a regex and quoting in a shell. */
const SECRET = "Zq9.UNIQUE+hdr$val'ue`7731|^";
const AL2023 = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64";
const NAT_IPS = ["198.51.100.7", "198.51.100.8"];

function baseArgs(over: Partial<SquidProxyTierArgs> = {}): SquidProxyTierArgs {
  return {
    vpcId: "vpc-0123456789abcdef0",
    placement: "public",
    instanceSubnetIds: ["subnet-public-a", "subnet-public-c"],
    lbSubnetIds: ["subnet-private-a", "subnet-private-c"],
    lbSubnetCidrs: ["10.0.1.0/24", "10.0.2.0/24"],
    availabilityZones: ZONES,
    clientCidrs: ["10.0.1.0/24", "10.0.2.0/24"],
    allowedDomains: [".cybozu.com"],
    headerValue: SECRET,
    tags: { project: "vlk-test" },
    ...over,
  };
}

function view(): GraphView {
  return new GraphView({ project: "p", stack: "s", resources: mocks.resources, outputs: {} });
}

/** Resources registered under the component `name` (all descendants). */
function under(name: string): RecordedResource[] {
  const v = view();
  return mocks.resources.filter((r) => v.ancestors(r).includes(name));
}

async function build(
  name: string,
  args: SquidProxyTierArgs,
): Promise<{ tier: SquidProxyTier; outputs: Record<string, unknown> }> {
  const tier = new SquidProxyTier(name, args);
  const outputs: Record<string, unknown> = await outputsOf(tier, [
    "proxyUrl",
    "egressIps",
    "securityGroupId",
    "instanceSecurityGroupId",
    "headerSecretArn",
    "port",
    "autoScalingGroupName",
    "allowlistAddressCount",
    "loadBalancerArn",
    "targetGroupArn",
    "logGroupName",
    "unhealthyHostsAlarmName",
    "deniedRequestsAlarmName",
  ]);
  await mocks.settle();
  return { tier, outputs };
}

function userDataOf(name: string): string {
  const lt = view().one(T.lt, `${name}-lt`);
  expect(typeof lt.inputs.userData).toBe("string");
  return Buffer.from(lt.inputs.userData as string, "base64").toString("utf8");
}

/** Writes the user data to a file and runs one of its functions with real bash (the script is sourced, not run). */
function bashFn(
  script: string,
  fn: string,
  ...fnArgs: string[]
): { status: number | null; stdout: string; stderr: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vlk-userdata-"));
  try {
    const file = path.join(dir, "user-data.sh");
    fs.writeFileSync(file, script);
    const r = spawnSync("bash", ["-c", 'source "$1"; shift; "$@"', "vlk-test", file, fn, ...fnArgs], {
      encoding: "utf8",
      timeout: 30_000,
    });
    return { status: r.status, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The conf renderSquidConf produces for this tier's args with the real header value. */
function expectedConf(headerValue: string, over: { lbSubnetCidrs?: string[]; clientCidrs?: string[] } = {}): string {
  return renderSquidConf({
    port: 3128,
    headerName: "X-Lambda-Proxy-Token",
    headerValue,
    allowedDomains: [".cybozu.com"],
    clientCidrs: over.clientCidrs ?? ["10.0.1.0/24", "10.0.2.0/24"],
    proxyProtocolFrom: over.lbSubnetCidrs ?? ["10.0.1.0/24", "10.0.2.0/24"],
    shutdownLifetimeSeconds: 20,
  });
}

function ingressOf(sgId: unknown): RecordedResource[] {
  return mocks.resources.filter((r) => r.type === T.ingress && r.inputs.securityGroupId === sgId);
}
function egressOf(sgId: unknown): RecordedResource[] {
  return mocks.resources.filter((r) => r.type === T.egress && r.inputs.securityGroupId === sgId);
}
const ruleShape = (r: RecordedResource) => ({
  protocol: r.inputs.ipProtocol,
  from: r.inputs.fromPort,
  to: r.inputs.toPort,
  cidr: r.inputs.cidrIpv4 ?? null,
  sg: r.inputs.referencedSecurityGroupId ?? null,
});

// One public tier ("pub", with an allowFrom) and one private tier ("priv") shared by most tests.
let pub: { tier: SquidProxyTier; outputs: Record<string, unknown> };
let priv: { tier: SquidProxyTier; outputs: Record<string, unknown> };
const FN_SG = "sg-0f00f00f00f00f00f";
beforeAll(async () => {
  pub = await build("pub", baseArgs());
  pub.tier.allowFrom(FN_SG, "kintone sync function");
  priv = await build(
    "priv",
    baseArgs({
      placement: "private",
      instanceSubnetIds: ["subnet-private-a", "subnet-private-c"],
      natEgressIps: pulumi.output(NAT_IPS),
      headerValue: pulumi.secret("priv-secret-value-42"),
    }),
  );
  await mocks.settle();
});

describe("load balancer", () => {
  test("default: an internal NLB with the load balancer SG, cross-zone, a TCP listener with the idle timeout, forwarding to the target group", () => {
    const nlb = view().one(T.nlb, "pub-nlb");
    const tg = view().one(T.tg, "pub-tg");
    const lbSg = view().one(T.sg, "pub-lb-sg");
    expect(nlb.inputs).toMatchObject({
      loadBalancerType: "network",
      internal: true,
      subnets: ["subnet-private-a", "subnet-private-c"],
      securityGroups: [lbSg.id],
      enableCrossZoneLoadBalancing: true,
    });
    expect(view().one(T.listener, "pub-listener").inputs).toMatchObject({
      loadBalancerArn: nlb.id,
      port: 3128,
      protocol: "TCP",
      tcpIdleTimeoutSeconds: 350,
      defaultActions: [{ type: "forward", targetGroupArn: tg.id }],
    });
    expect(under("pub").filter((r) => r.type === T.clb || r.type === T.ppp)).toEqual([]);
    expect(pub.outputs.proxyUrl).toMatch(
      /^http:\/\/internal-pub-nlb-[0-9a-f]{7}-[0-9a-f]{16}\.elb\.ap-northeast-1\.amazonaws\.com:3128$/,
    );
    expect(pub.outputs.loadBalancerArn).toBe(nlb.id);
    expect(pub.outputs.targetGroupArn).toBe(tg.id);
    expect(pub.outputs.securityGroupId).toBe(lbSg.id);
    expect(pub.outputs.port).toBe(3128);
    expect(pub.tier.loadBalancerType).toBe("nlb");
  });

  test("the target group sends PROXY protocol v2 without client IP preservation (Squid sees the NLB node, inside lbSubnetCidrs) and checks TCP on the Squid port", () => {
    const tg = view().one(T.tg, "pub-tg");
    expect(tg.inputs).toMatchObject({
      vpcId: "vpc-0123456789abcdef0",
      port: 3128,
      protocol: "TCP",
      targetType: "instance",
      proxyProtocolV2: true,
      preserveClientIp: "false",
      deregistrationDelay: 30,
      healthCheck: { enabled: true, protocol: "TCP", port: "traffic-port" },
    });
    expect(pub.tier.plan.proxyProtocolVersion).toBe(2);
    expect(pub.tier.plan.squidConfTemplate).toContain("http_port 3128 require-proxy-header\n");
    expect(pub.tier.plan.squidConfTemplate).toContain(`acl ${SQUID_ACL.proxyLb} src 10.0.1.0/24 10.0.2.0/24\n`);
  });

  test('loadBalancer "clb": the internal CLB with PROXY protocol v1, a TCP health check and the idle timeout (its 60 s default closes idle tunnels)', async () => {
    const { tier, outputs } = await build("classic", baseArgs({ loadBalancer: "clb", idleTimeoutSeconds: 900 }));
    const clb = view().one(T.clb, "classic-clb");
    expect(clb.inputs).toMatchObject({
      internal: true,
      listeners: [{ lbPort: 3128, lbProtocol: "tcp", instancePort: 3128, instanceProtocol: "tcp" }],
      healthCheck: { target: "TCP:3128" },
      subnets: ["subnet-private-a", "subnet-private-c"],
      securityGroups: [view().one(T.sg, "classic-lb-sg").id],
      crossZoneLoadBalancing: true,
      idleTimeout: 900,
    });
    expect(view().one(T.ppp, "classic-proxy-protocol").inputs).toEqual({
      loadBalancer: clb.id,
      instancePorts: ["3128"],
    });
    expect(under("classic").filter((r) => r.type === T.nlb || r.type === T.tg || r.type === T.listener)).toEqual([]);
    expect(view().one(T.asg, "classic-asg").inputs).toMatchObject({ loadBalancers: [clb.id] });
    expect(view().one(T.asg, "classic-asg").inputs.targetGroupArns).toBeUndefined();
    expect(view().one(T.alarm, "classic-unhealthy-hosts").inputs).toMatchObject({
      namespace: "AWS/ELB",
      dimensions: { LoadBalancerName: clb.inputs.name ?? expect.stringMatching(/^classic-clb-/) },
    });
    expect(outputs.proxyUrl).toMatch(
      /^http:\/\/internal-classic-clb-[0-9a-f]{7}-\d+\.ap-northeast-1\.elb\.amazonaws\.com:3128$/,
    );
    expect(outputs.targetGroupArn).toBeUndefined();
    expect(tier.plan.proxyProtocolVersion).toBe(1);
  });
});

describe("auto scaling group and launch template", () => {
  test("the group runs 2 instances over both zones' subnets, registers with the CLB, uses ELB health checks and a rolling instance refresh", () => {
    const asg = view().one(T.asg, "pub-asg");
    const lt = view().one(T.lt, "pub-lt");
    expect(asg.inputs).toMatchObject({
      desiredCapacity: 2,
      minSize: 2,
      maxSize: 2,
      vpcZoneIdentifiers: ["subnet-public-a", "subnet-public-c"],
      targetGroupArns: [view().one(T.tg, "pub-tg").id],
      healthCheckType: "ELB",
      healthCheckGracePeriod: 300,
      // The version is the template's latest, not "$Latest": only then does a template change start a refresh.
      launchTemplate: { id: lt.id, version: "1" },
      instanceRefresh: {
        strategy: "Rolling",
        preferences: { minHealthyPercentage: 50, maxHealthyPercentage: 100, instanceWarmup: "300", autoRollback: true },
      },
      // Public placement: AZ rebalancing (launch before terminate) could find every pool EIP taken.
      suspendedProcesses: ["AZRebalance"],
    });
    expect(asg.inputs.loadBalancers).toBeUndefined();
    expect(view().one(T.asg, "priv-asg").inputs.suspendedProcesses).toBeUndefined();
    expect(pub.outputs.autoScalingGroupName).toMatch(/^pub-asg-/);
  });

  test("the launch template: IMDSv2 required with hop limit 1, no SSH key, AL2023 arm64 from the public SSM parameter, encrypted EBS, the instance SG", async () => {
    const lt = view().one(T.lt, "pub-lt");
    const ami = await aws.ssm.getParameter({ name: AL2023 });
    expect(lt.inputs.imageId).toBe(ami.insecureValue);
    expect(lt.inputs.instanceType).toBe("t4g.small");
    expect(lt.inputs.metadataOptions).toEqual({
      httpEndpoint: "enabled",
      httpTokens: "required",
      httpPutResponseHopLimit: 1,
      instanceMetadataTags: "disabled",
    });
    expect(lt.inputs.keyName).toBeUndefined();
    expect(lt.inputs.blockDeviceMappings).toEqual([
      { deviceName: "/dev/xvda", ebs: { encrypted: "true", volumeType: "gp3", deleteOnTermination: "true" } },
    ]);
    expect(lt.inputs.networkInterfaces).toEqual([
      {
        deviceIndex: 0,
        associatePublicIpAddress: "true",
        securityGroups: [view().one(T.sg, "pub-instance-sg").id],
        deleteOnTermination: "true",
      },
    ]);
    expect(lt.inputs.iamInstanceProfile).toEqual({ arn: expect.stringContaining("pub-instance-profile") });
    // Instances, volumes and ENIs carry the pool tag (the EIP association permission is conditioned on it).
    const specs = lt.inputs.tagSpecifications as { resourceType: string; tags: Record<string, string> }[];
    expect(specs.map((s) => s.resourceType)).toEqual(["instance", "volume", "network-interface"]);
    for (const s of specs)
      expect(s.tags).toEqual({ project: "vlk-test", Name: "pub-proxy", [PROXY_POOL_TAG]: "vpc-lambda-kit/proxy/pub" });
  });
});

describe("the header secret", () => {
  test("the value appears nowhere in the recorded graph, the user data or the outputs; the SecretVersion holds it as a secret", () => {
    const mine = under("pub");
    const dump = JSON.stringify(mine);
    expect(dump).not.toContain(SECRET);
    expect(dump).not.toContain("UNIQUE+hdr");
    expect(userDataOf("pub")).not.toContain("UNIQUE");
    expect(userDataOf("pub")).not.toContain(SECRET_PLACEHOLDER);
    expect(JSON.stringify(pub.outputs)).not.toContain("UNIQUE");
    expect(JSON.stringify(mocks.resources)).not.toContain("priv-secret-value-42");
    const version = view().one(T.secretVersion, "pub-header-secret-version");
    expect(version.inputs).toEqual({
      secretId: view().one(T.secret, "pub-header-secret").id,
      secretString: SECRET_PLACEHOLDER,
    });
    // Only the SecretVersion carries a secret input.
    expect(mine.filter((r) => JSON.stringify(r.inputs).includes(SECRET_PLACEHOLDER)).map((r) => r.name)).toEqual([
      "pub-header-secret-version",
    ]);
  });

  test("the user data reads the secret by its ARN, pinned to the version the tier wrote, with the instance role's credentials", () => {
    const ud = userDataOf("pub");
    const secret = view().one(T.secret, "pub-header-secret");
    expect(pub.outputs.headerSecretArn).toBe(secret.id);
    expect(secret.id).toMatch(/^arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:pub-header-secret-/);
    expect(ud).toContain(`VLK_SECRET_ARN='${secret.id}'`);
    expect(ud).toMatch(/^VLK_SECRET_SELECTOR=\(--version-id '[0-9a-f-]{36}'\)$/m);
    expect(ud).toContain(
      'aws secretsmanager get-secret-value --region "$1" --secret-id "$VLK_SECRET_ARN" "${VLK_SECRET_SELECTOR[@]}" --query SecretString --output text',
    );
    expect(ud).toContain("X-aws-ec2-metadata-token");
  });

  test("the boot script installs Squid, writes the conf root:squid 0640, checks it with squid -k parse before starting, and fails loudly", () => {
    const ud = userDataOf("pub");
    expect(ud.startsWith("#!/bin/bash\n")).toBe(true);
    expect(ud).toContain("set -Eeuo pipefail");
    const order = [
      "dnf install -y squid",
      'vlk_render_conf "$value" >"$conf"',
      'chown root:squid "$conf"',
      'chmod 0640 "$conf"',
      'squid -k parse -f "$conf" || vlk_fail',
      'mv -f "$conf" /etc/squid/squid.conf',
      "systemctl enable --now squid",
    ];
    const at = order.map((s) => ud.indexOf(s));
    expect(at.every((i) => i > 0)).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
    expect(ud).toContain("trap 'vlk_fail \"command failed");
    expect(ud).not.toMatch(/set -x|set -o xtrace/);
    // Run, never sourced-and-run: the last line only acts when executed.
    expect(ud.trimEnd().split("\n").pop()).toBe('if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then vlk_main; fi');
    const syntax = spawnSync("bash", ["-n"], { input: ud, encoding: "utf8" });
    expect(syntax.stderr).toBe("");
    expect(syntax.status).toBe(0);
  });

  test("the conf template (run with bash) has one allow line ANDing source, domain and header, then deny all; the header is the placeholder", () => {
    const r = bashFn(userDataOf("pub"), "vlk_squid_conf_template");
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(pub.tier.plan.squidConfTemplate);
    const access = r.stdout.split("\n").filter((l) => l.startsWith("http_access "));
    const allows = access.filter((l) => l.startsWith("http_access allow"));
    expect(allows).toHaveLength(1);
    for (const acl of [SQUID_ACL.clients, SQUID_ACL.domains, SQUID_ACL.header])
      expect(allows[0].split(" ")).toContain(acl);
    expect(access[access.length - 1]).toBe("http_access deny all");
    expect(r.stdout).toContain(`acl ${SQUID_ACL.header} req_header X-Lambda-Proxy-Token ^${HEADER_PLACEHOLDER}$\n`);
    expect(r.stdout).toContain("http_port 3128 require-proxy-header\n");
    expect(r.stdout).toContain(`acl ${SQUID_ACL.proxyLb} src 10.0.1.0/24 10.0.2.0/24\n`);
  });
});

describe("the boot script's escaping equals exactHeaderRegex (real bash)", () => {
  let NASTY = "";
  for (let c = 0x21; c <= 0x7e; c++) NASTY += String.fromCharCode(c);
  NASTY += "${process_number}#end\\";
  const TRICKY = [
    NASTY,
    SECRET,
    "a",
    "^",
    "$",
    "\\",
    "\\\\",
    "'",
    '"',
    "`",
    "a*b+c?d",
    "[x]{1,2}(y|z)",
    ".*",
    "&&&",
    "%s%d%%",
    "-n",
    "-e",
    "--",
    "$(id)",
    "`id`",
    "!!",
    "~",
    "${HOME}",
    "#comment",
    '"quoted"',
    "x".repeat(512),
    "base64url_-AZaz09",
    "a]b[c",
  ];

  test("the metacharacter set is derived from exactHeaderRegex itself", () => {
    expect([...HEADER_REGEX_META].sort().join("")).toBe("$()*+.?[\\]^{|}".split("").sort().join(""));
  });

  test("vlk_header_regex(value) === exactHeaderRegex(value) for every tricky value", () => {
    const ud = userDataOf("pub");
    for (const value of TRICKY) {
      const r = bashFn(ud, "vlk_header_regex", value);
      expect({ value, status: r.status, out: r.stdout }).toEqual({ value, status: 0, out: exactHeaderRegex(value) });
    }
  });

  test("vlk_render_conf(value) is byte-identical to renderSquidConf with the real value", () => {
    const ud = userDataOf("pub");
    for (const value of TRICKY) {
      const r = bashFn(ud, "vlk_render_conf", value);
      expect(r.status).toBe(0);
      expect(r.stdout === expectedConf(value)).toBe(true);
    }
  });

  test("values renderSquidConf refuses are refused by the boot script too (no config injection through the secret)", () => {
    const ud = userDataOf("pub");
    const bad = ["", "has space", "tab\there", "ok\nhttp_access allow all", "é", "x".repeat(513), "del\x7f", "cr\rx"];
    for (const value of bad) {
      expect(() => expectedConf(value)).toThrow(/headerValue/);
      expect({ value, status: bashFn(ud, "vlk_valid_header_value", value).status }).toEqual({ value, status: 1 });
      const r = bashFn(ud, "vlk_render_conf", value);
      expect({ value, status: r.status, out: r.stdout }).toEqual({ value, status: 1, out: "" });
    }
    expect(bashFn(ud, "vlk_valid_header_value", NASTY).status).toBe(0);
  });

  test("the boot-rendered conf with the nastiest value parses with the real Squid (squid -k parse)", () => {
    const r = bashFn(userDataOf("pub"), "vlk_render_conf", NASTY);
    const parsed = squidParse(r.stdout);
    expect({ status: parsed.status, problems: parsed.problems }).toEqual({ status: 0, problems: [] });
  });
});

describe("instance role", () => {
  test("public tier: read exactly its secret, Session Manager, find pool EIPs and associate only pool-tagged ones; nothing broader", () => {
    const policy = view().one(T.rolePolicy, "pub-role-policy");
    const role = view().one(T.role, "pub-role");
    expect(policy.inputs.role).toBe(role.id);
    expect(policyDoc(policy).Statement).toEqual([
      {
        Sid: "ReadHeaderSecret",
        Effect: "Allow",
        Action: "secretsmanager:GetSecretValue",
        Resource: pub.outputs.headerSecretArn,
      },
      {
        Sid: "ShipSquidLogs",
        Effect: "Allow",
        Action: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
        Resource: `arn:aws:logs:ap-northeast-1:123456789012:log-group:${pub.outputs.logGroupName}:*`,
      },
      { Sid: "SessionManager", Effect: "Allow", Action: SESSION_MANAGER_ACTIONS, Resource: "*" },
      { Sid: "FindPoolEips", Effect: "Allow", Action: "ec2:DescribeAddresses", Resource: "*" },
      {
        Sid: "AssociatePoolEip",
        Effect: "Allow",
        Action: "ec2:AssociateAddress",
        Resource: [
          "arn:aws:ec2:ap-northeast-1:123456789012:elastic-ip/*",
          "arn:aws:ec2:ap-northeast-1:123456789012:instance/*",
          "arn:aws:ec2:ap-northeast-1:123456789012:network-interface/*",
        ],
        Condition: { StringEquals: { [`aws:ResourceTag/${PROXY_POOL_TAG}`]: "vpc-lambda-kit/proxy/pub" } },
      },
    ]);
    for (const s of policyDoc(policy).Statement) for (const a of [s.Action].flat()) expect(a).not.toMatch(/\*/);
    expect(JSON.parse(role.inputs.assumeRolePolicy as string).Statement).toEqual([
      { Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" },
    ]);
    expect(role.inputs.managedPolicyArns).toBeUndefined();
    expect(
      mocks.resources.filter(
        (r) => r.type.startsWith("aws:iam/rolePolicyAttachment") || r.type.startsWith("aws:iam/policyAttachment"),
      ),
    ).toEqual([]);
    expect(view().one(T.profile, "pub-instance-profile").inputs.role).toMatch(/^pub-role-[0-9a-f]{7}$/);
  });

  test("private tier: the secret and Session Manager only, no EC2 permissions", () => {
    const doc = policyDoc(view().one(T.rolePolicy, "priv-role-policy"));
    expect(doc.Statement.map((s) => s.Sid)).toEqual(["ReadHeaderSecret", "ShipSquidLogs", "SessionManager"]);
    expect(doc.Statement[0].Resource).toBe(priv.outputs.headerSecretArn);
  });
});

describe("security groups", () => {
  test("instances accept the proxy port only from the load balancer's group; egress only 80 and 443", () => {
    const lbSg = view().one(T.sg, "pub-lb-sg").id;
    const instSg = view().one(T.sg, "pub-instance-sg").id;
    expect(pub.outputs.instanceSecurityGroupId).toBe(instSg);
    expect(ingressOf(instSg).map(ruleShape)).toEqual([{ protocol: "tcp", from: 3128, to: 3128, cidr: null, sg: lbSg }]);
    expect(egressOf(instSg).map(ruleShape)).toEqual([
      { protocol: "tcp", from: 443, to: 443, cidr: "0.0.0.0/0", sg: null },
      { protocol: "tcp", from: 80, to: 80, cidr: "0.0.0.0/0", sg: null },
    ]);
  });

  test("the load balancer accepts the port only from the client CIDRs and the group given to allowFrom; it sends only to the instances", () => {
    const lbSg = view().one(T.sg, "pub-lb-sg").id;
    const instSg = view().one(T.sg, "pub-instance-sg").id;
    expect(ingressOf(lbSg).map(ruleShape)).toEqual([
      { protocol: "tcp", from: 3128, to: 3128, cidr: "10.0.1.0/24", sg: null },
      { protocol: "tcp", from: 3128, to: 3128, cidr: "10.0.2.0/24", sg: null },
      { protocol: "tcp", from: 3128, to: 3128, cidr: null, sg: FN_SG },
    ]);
    // Named after the peer and the port, never after the description.
    const fromFn = view().one(T.ingress, "pub-from-sg-0f00f00f00f00f00f-3128");
    expect(fromFn.inputs.description).toBe("kintone sync function");
    expect(view().ancestors(fromFn)[0]).toBe("pub");
    expect(egressOf(lbSg).map(ruleShape)).toEqual([{ protocol: "tcp", from: 3128, to: 3128, cidr: null, sg: instSg }]);
  });

  test("openToClientCidrs false: only allowFrom groups reach the load balancer", async () => {
    const { tier } = await build("sgonly", baseArgs({ openToClientCidrs: false }));
    tier.allowFrom(FN_SG, "only this function");
    await mocks.settle();
    expect(ingressOf(view().one(T.sg, "sgonly-lb-sg").id).map(ruleShape)).toEqual([
      { protocol: "tcp", from: 3128, to: 3128, cidr: null, sg: FN_SG },
    ]);
  });

  test("allowFrom refuses a description without letters or digits, the same peer twice, and a peer without a stable key", () => {
    const before = mocks.resources.length;
    expect(() => pub.tier.allowFrom(FN_SG, "!!!")).toThrow(
      /^pub\.allowFrom: description "!!!" has no letters or digits\. Fix:/,
    );
    expect(() => pub.tier.allowFrom(FN_SG, "the same function, reworded")).toThrow(
      /^pub\.allowFrom: sg-0f00f00f00f00f00f is already allowed on port 3128 \(rule "pub-from-sg-0f00f00f00f00f00f-3128"\)/,
    );
    expect(() =>
      pub.tier.allowFrom(
        pulumi.output("sg-0abc").apply((x) => x),
        "computed id",
      ),
    ).toThrow(
      /^pub\.allowFrom: the security group's id is not known before deployment.*Fix: pass \{ securityGroupId, name \}/,
    );
    expect(() => pub.tier.allowFrom({ cidr: "0.0.0.0/0" }, "everyone")).toThrow(
      /^pub\.allowFrom: 0\.0\.0\.0\/0 would admit every address/,
    );
    expect(mocks.resources.length).toBe(before);
  });

  test("tier.flow() is the VpcFunction flow to the load balancer's group on the proxy port", async () => {
    const flow = pub.tier.flow("kintone through the proxy");
    expect(flow).toMatchObject({
      to: { kind: "securityGroup", name: "pub" },
      port: 3128,
      purpose: "kintone through the proxy",
    });
    const [rule] = egressRulesFor("fn", [flow]);
    expect(rule).toMatchObject({
      protocol: "tcp",
      port: 3128,
      key: "tcp-3128-sg-pub",
      description: "kintone through the proxy",
    });
    expect(await resolveOutputs(pulumi.output(rule.referencedSecurityGroupId))).toBe(pub.outputs.securityGroupId);
  });
});

describe("placement", () => {
  test("public: one pool-tagged EIP per desired instance; egressIps are exactly those EIPs", () => {
    const eips = under("pub").filter((r) => r.type === T.eip);
    expect(eips.map((e) => e.name)).toEqual(["pub-eip-0", "pub-eip-1"]);
    for (const e of eips)
      expect(e.inputs).toMatchObject({
        domain: "vpc",
        tags: { [PROXY_POOL_TAG]: "vpc-lambda-kit/proxy/pub", project: "vlk-test" },
      });
    const ips = pub.outputs.egressIps as string[];
    expect(ips).toHaveLength(2);
    for (const ip of ips) expect(ip).toMatch(/^203\.0\.113\.\d+$/);
    expect(new Set(ips).size).toBe(2);
    const ud = userDataOf("pub");
    expect(ud).toContain("VLK_PLACEMENT='public'");
    expect(ud).toContain(`VLK_POOL_TAG_KEY='${PROXY_POOL_TAG}'`);
    expect(ud).toContain("VLK_POOL_ID='vpc-lambda-kit/proxy/pub'");
    expect(ud).toContain("--no-allow-reassociation");
  });

  test("private: no EIPs, egressIps are the NAT's, instances in the private subnets without public IPs", () => {
    const mine = under("priv");
    expect(mine.filter((r) => r.type === T.eip || r.type === T.tag)).toEqual([]);
    expect(priv.outputs.egressIps).toEqual(NAT_IPS);
    expect(view().one(T.asg, "priv-asg").inputs.vpcZoneIdentifiers).toEqual(["subnet-private-a", "subnet-private-c"]);
    expect(
      (view().one(T.lt, "priv-lt").inputs.networkInterfaces as Record<string, unknown>[])[0].associatePublicIpAddress,
    ).toBe("false");
    expect(userDataOf("priv")).toContain("VLK_PLACEMENT='private'");
  });

  test("public with existing EIP allocations: no new EIPs, each gets the pool tag, egressIps are their addresses", async () => {
    const byo = ["eipalloc-0aaaaaaaaaaaaaaa1", "eipalloc-0aaaaaaaaaaaaaaa2"];
    const { outputs } = await build("byo", baseArgs({ eipAllocationIds: byo }));
    const mine = under("byo");
    expect(mine.filter((r) => r.type === T.eip)).toEqual([]);
    expect(mine.filter((r) => r.type === T.tag).map((t) => t.inputs)).toEqual(
      byo.map((resourceId) => ({ resourceId, key: PROXY_POOL_TAG, value: "vpc-lambda-kit/proxy/byo" })),
    );
    expect(outputs.egressIps).toHaveLength(2);
    for (const ip of outputs.egressIps as string[]) expect(ip).toMatch(/^203\.0\.113\.\d+$/);
  });

  test("an existing secret (with a customer-managed key): no secret created, GetSecretValue on exactly that ARN, kms:Decrypt via Secrets Manager only, AWSCURRENT read", async () => {
    const arn = "arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:proxy/header-AbC123";
    const key = "arn:aws:kms:ap-northeast-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    const { outputs } = await build(
      "ext",
      baseArgs({
        headerValue: undefined,
        headerSecretArn: arn,
        headerSecretKmsKeyArn: key,
        placement: "private",
        instanceSubnetIds: ["subnet-private-a", "subnet-private-c"],
        natEgressIps: NAT_IPS,
      }),
    );
    expect(under("ext").filter((r) => r.type === T.secret || r.type === T.secretVersion)).toEqual([]);
    expect(outputs.headerSecretArn).toBe(arn);
    expect(policyDoc(view().one(T.rolePolicy, "ext-role-policy")).Statement.slice(0, 2)).toEqual([
      { Sid: "ReadHeaderSecret", Effect: "Allow", Action: "secretsmanager:GetSecretValue", Resource: arn },
      {
        Sid: "DecryptHeaderSecret",
        Effect: "Allow",
        Action: "kms:Decrypt",
        Resource: key,
        Condition: { StringEquals: { "kms:ViaService": "secretsmanager.ap-northeast-1.amazonaws.com" } },
      },
    ]);
    expect(userDataOf("ext")).toContain("VLK_SECRET_SELECTOR=(--version-stage AWSCURRENT)");
  });
});

describe("validation before registration", () => {
  const cases: [string, Partial<SquidProxyTierArgs>, RegExp][] = [
    [
      "one zone",
      {
        availabilityZones: ["ap-northeast-1a"],
        instanceSubnetIds: ["s1"],
        lbSubnetIds: ["s2"],
        lbSubnetCidrs: ["10.0.1.0/24"],
      },
      /^bad\.availabilityZones: 1 zone\(s\) given\. Fix: spread the tier over at least 2 availability zones/,
    ],
    [
      "the same zone twice",
      { availabilityZones: ["ap-northeast-1a", "ap-northeast-1a"] },
      /^bad\.availabilityZones: "ap-northeast-1a" is listed twice/,
    ],
    [
      "subnet lists of the wrong length",
      { lbSubnetIds: ["only-one"] },
      /^bad\.lbSubnetIds: 1 entries for 2 availability zones\. Fix: give exactly one per zone/,
    ],
    [
      "a port the CLB refuses",
      { loadBalancer: "clb", port: 1000 },
      /^bad\.port: 1000 is not a port a Classic Load Balancer listener accepts/,
    ],
    ["a port nobody accepts", { port: 0 }, /^bad\.port: 0 is not a TCP port\. Fix: use 1\.\.65535/],
    [
      "an unknown load balancer",
      { loadBalancer: "alb" as never },
      /^bad\.loadBalancer: "alb" is not a load balancer type\. Fix: use "nlb"/,
    ],
    [
      "an NLB idle timeout below 60 s",
      { idleTimeoutSeconds: 30 },
      /^bad\.idleTimeoutSeconds: 30 is outside 60\.\.6000 seconds, the range a Network Load Balancer TCP listener accepts\. Fix: use 60\.\.6000/,
    ],
    [
      "an NLB idle timeout above 6000 s",
      { idleTimeoutSeconds: 7200 },
      /^bad\.idleTimeoutSeconds: 7200 is outside 60\.\.6000 seconds/,
    ],
    [
      "a CLB idle timeout above 3600 s",
      { loadBalancer: "clb", idleTimeoutSeconds: 4000 },
      /^bad\.idleTimeoutSeconds: 4000 is outside 1\.\.3600 seconds, the range a Classic Load Balancer accepts/,
    ],
    [
      "PROXY v2 with a CLB",
      { loadBalancer: "clb", proxyProtocolVersion: 2 },
      /^bad\.proxyProtocolVersion: 2: a Classic Load Balancer sends PROXY protocol v1 only\. Fix: omit proxyProtocolVersion \(v1\), or use loadBalancer "nlb" for v2/,
    ],
    [
      "PROXY v1 with an NLB",
      { proxyProtocolVersion: 1 },
      /^bad\.proxyProtocolVersion: 1: a Network Load Balancer target group sends PROXY protocol v2 only/,
    ],
    ["desired 0", { scaling: { desired: 0, min: 0, max: 2 } }, /^bad\.scaling\.desired: 0 is not a whole number ≥ 1/],
    [
      "min above max",
      { scaling: { min: 3, max: 2 } },
      /^bad\.scaling\.min: 3 is above scaling\.max \(2\)\. Fix: lower scaling\.min or raise scaling\.max/,
    ],
    [
      "desired below min",
      { scaling: { min: 2, max: 4, desired: 1 } },
      /^bad\.scaling\.desired: 1 is outside \[scaling\.min, scaling\.max\] = \[2, 4\]\. Fix: use a value from 2 to 4/,
    ],
    [
      "desired above max",
      { scaling: { min: 1, max: 2, desired: 3 } },
      /^bad\.scaling\.desired: 3 is outside \[scaling\.min, scaling\.max\] = \[1, 2\]/,
    ],
    [
      "legacy desiredCapacity 0",
      { desiredCapacity: 0, maxSize: 2 },
      /^bad\.desiredCapacity: 0 is not a whole number ≥ 1/,
    ],
    [
      "legacy max below desired",
      { placement: "private", instanceSubnetIds: ["a", "b"], natEgressIps: NAT_IPS, maxSize: 1 },
      /^bad\.desiredCapacity: 2 is outside \[minSize, maxSize\] = \[2, 1\]|^bad\.minSize: 2 is above maxSize \(1\)/,
    ],
    [
      "scaling together with the older args",
      { scaling: { max: 3 }, desiredCapacity: 2 },
      /^bad\.scaling: given together with desiredCapacity\/minSize\/maxSize/,
    ],
    [
      "a target with min = max",
      { scaling: { min: 2, max: 2, target: { metric: "cpu", value: 60 } } },
      /^bad\.scaling\.max: equals scaling\.min \(2\), so target tracking could never change the size/,
    ],
    [
      "a CPU target above 100 %",
      { scaling: { min: 2, max: 4, target: { metric: "cpu", value: 120 } } },
      /^bad\.scaling\.target\.value: 120 is not a target for cpu\. Fix: use a CPU percentage 1\.\.100/,
    ],
    [
      "an unknown scaling metric",
      { scaling: { min: 2, max: 4, target: { metric: "memory" as never, value: 60 } } },
      /^bad\.scaling\.target\.metric: "memory" is not a scaling metric/,
    ],
    [
      "an EIP pool smaller than max",
      { scaling: { min: 2, max: 4 }, eipAllocationIds: ["eipalloc-1", "eipalloc-2"] },
      /^bad\.eipAllocationIds: 2 allocation id\(s\) for scaling\.max 4: an instance beyond the pool would find no address and never serve\. Fix: give exactly one EIP allocation id per instance the group may run \(4\), or lower scaling\.max/,
    ],
    [
      "a log retention CloudWatch does not offer",
      { logRetentionInDays: 10 },
      /^bad\.logRetentionInDays: 10 is not a CloudWatch Logs retention period/,
    ],
    [
      "a deny alarm threshold of 0",
      { deniedRequestsAlarmThreshold: 0 },
      /^bad\.deniedRequestsAlarmThreshold: 0 is not a whole number ≥ 1/,
    ],
    [
      "private without NAT IPs",
      { placement: "private" },
      /^bad\.natEgressIps: placement "private" needs the NAT's public IPs\. Fix: pass the FixedEgressVpc's egressIps/,
    ],
    [
      "public with NAT IPs",
      { natEgressIps: NAT_IPS },
      /^bad\.natEgressIps: placement "public" instances leave from their own EIPs/,
    ],
    ["no allowed domains", { allowedDomains: [] }, /^bad\.allowedDomains: must be a non-empty array of domains/],
    [
      "a wildcard domain",
      { allowedDomains: ["*.cybozu.com"] },
      /^bad\.allowedDomains\[0\]: "\*\.cybozu\.com" uses a '\*' wildcard/,
    ],
    [
      "a bad load balancer CIDR",
      { lbSubnetCidrs: ["10.0.1.0/24", "10.0.2.1/24"] },
      /^bad\.lbSubnetCidrs\[1\]: "10\.0\.2\.1\/24" has host bits set.*Fix: list the load balancer subnets' CIDRs/,
    ],
    ["no client CIDRs", { clientCidrs: [] }, /^bad\.clientCidrs: must be a non-empty array of IPv4 CIDRs/],
    [
      "a reserved header name",
      { headerName: "Authorization" },
      /^bad\.headerName: "Authorization" is a standard HTTP header/,
    ],
    [
      "a header value with a space",
      { headerValue: "not a token" },
      /^bad\.headerValue: contains a space at position 3/,
    ],
    [
      "no header secret",
      { headerValue: undefined },
      /^bad\.headerValue: no header secret given\. Fix: pass exactly one/,
    ],
    [
      "both header sources",
      { headerSecretArn: "arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:x-AbC123" },
      /^bad\.headerSecretArn: both headerValue and headerSecretArn are set/,
    ],
    [
      "a partial secret ARN",
      {
        headerValue: undefined,
        headerSecretArn: "arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:proxy/header",
      },
      /^bad\.headerSecretArn: .* is not a complete Secrets Manager secret ARN/,
    ],
    [
      "an x86 instance type with the arm64 AMI",
      { instanceType: "t3.small" },
      /^bad\.instanceType: "t3\.small" is not a Graviton \(arm64\) type/,
    ],
    ["an unknown placement", { placement: "dmz" as never }, /^bad\.placement: "dmz" is not a placement/],
    [
      "EIPs that do not match the capacity",
      { eipAllocationIds: ["eipalloc-1"] },
      /^bad\.eipAllocationIds: 1 allocation id\(s\) for scaling\.max 2/,
    ],
  ];
  test.each(cases)("%s fails before anything is registered, naming the arg and the fix", (_label, over, message) => {
    const before = mocks.resources.length;
    let err: unknown;
    try {
      new SquidProxyTier("bad", baseArgs(over));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(message);
    expect((err as Error).message).not.toContain("UNIQUE");
    expect(mocks.resources.length).toBe(before);
  });

  test("several mistakes are reported at once", () => {
    const before = mocks.resources.length;
    let err: unknown;
    try {
      new SquidProxyTier(
        "bad",
        baseArgs({ port: 70000, allowedDomains: [], clientCidrs: ["10.0.0.0/33"], idleTimeoutSeconds: 10 }),
      );
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigErrors);
    expect((err as ConfigErrors).errors.map((e) => e.key)).toEqual([
      "bad.idleTimeoutSeconds",
      "bad.port",
      "bad.allowedDomains",
      "bad.clientCidrs[0]",
    ]);
    expect(mocks.resources.length).toBe(before);
  });
});

test("two tiers in one stack never collide: unique URNs, every child named after its tier, distinct pool tags", async () => {
  await build("second", baseArgs({ lbSubnetCidrs: ["10.0.3.0/24", "10.0.4.0/24"] }));
  const urns = mocks.resources.map((r) => r.urn);
  expect(new Set(urns).size).toBe(urns.length);
  for (const inst of ["pub", "second"]) {
    const mine = under(inst);
    expect(mine.length).toBeGreaterThan(15);
    for (const r of mine) expect(r.name.startsWith(`${inst}-`)).toBe(true);
  }
  expect(userDataOf("second")).toContain("VLK_POOL_ID='vpc-lambda-kit/proxy/second'");
  const pubEipTags = under("pub")
    .filter((r) => r.type === T.eip)
    .map((e) => (e.inputs.tags as Record<string, string>)[PROXY_POOL_TAG]);
  const secondEipTags = under("second")
    .filter((r) => r.type === T.eip)
    .map((e) => (e.inputs.tags as Record<string, string>)[PROXY_POOL_TAG]);
  expect(new Set([...pubEipTags, ...secondEipTags]).size).toBe(2);
  expect(bashFn(userDataOf("second"), "vlk_render_conf", "v").stdout).toBe(
    expectedConf("v", { lbSubnetCidrs: ["10.0.3.0/24", "10.0.4.0/24"] }),
  );
});

describe("scaling", () => {
  test("public placement: min/max/desired with CPU target tracking; one EIP per instance the group may run (max), all of them allowlisted", async () => {
    const { outputs } = await build(
      "scaled",
      baseArgs({ scaling: { min: 2, max: 4, target: { metric: "cpu", value: 60 } } }),
    );
    const asg = view().one(T.asg, "scaled-asg");
    expect(asg.inputs).toMatchObject({ minSize: 2, maxSize: 4, desiredCapacity: 2, minElbCapacity: 2 });
    const policy = view().one(T.policy, "scaled-target-tracking");
    expect(policy.inputs).toMatchObject({
      autoscalingGroupName: outputs.autoScalingGroupName,
      policyType: "TargetTrackingScaling",
      targetTrackingConfiguration: {
        predefinedMetricSpecification: { predefinedMetricType: "ASGAverageCPUUtilization" },
        targetValue: 60,
      },
    });
    expect(
      under("scaled")
        .filter((r) => r.type === T.eip)
        .map((e) => e.name),
    ).toEqual(["scaled-eip-0", "scaled-eip-1", "scaled-eip-2", "scaled-eip-3"]);
    expect(outputs.egressIps).toHaveLength(4);
    expect(outputs.allowlistAddressCount).toBe(4);
  });

  test("network-bytes target; private placement allowlists the NAT's addresses; a fixed-size tier has no policy", async () => {
    const { outputs } = await build(
      "netscaled",
      baseArgs({
        placement: "private",
        instanceSubnetIds: ["subnet-private-a", "subnet-private-c"],
        natEgressIps: NAT_IPS,
        scaling: { min: 1, max: 6, desired: 3, target: { metric: "networkOut", value: 500_000_000 } },
      }),
    );
    expect(view().one(T.asg, "netscaled-asg").inputs).toMatchObject({ minSize: 1, maxSize: 6, desiredCapacity: 3 });
    expect(view().one(T.policy, "netscaled-target-tracking").inputs).toMatchObject({
      targetTrackingConfiguration: {
        predefinedMetricSpecification: { predefinedMetricType: "ASGAverageNetworkOut" },
        targetValue: 500_000_000,
      },
    });
    expect(under("netscaled").filter((r) => r.type === T.eip)).toEqual([]);
    expect(outputs.allowlistAddressCount).toBe(2);
    expect(under("pub").filter((r) => r.type === T.policy)).toEqual([]);
    expect(pub.outputs.allowlistAddressCount).toBe(2);
  });
});

describe("rolling changes", () => {
  test("changing the domain list changes the launch template's user data; the group follows the template's version with a rolling instance refresh", async () => {
    await build("roll-a", baseArgs({ lbSubnetCidrs: ["10.0.5.0/24", "10.0.6.0/24"] }));
    await build(
      "roll-b",
      baseArgs({ lbSubnetCidrs: ["10.0.5.0/24", "10.0.6.0/24"], allowedDomains: [".cybozu.com", "api.example.net"] }),
    );
    const ua = userDataOf("roll-a");
    const ub = userDataOf("roll-b");
    expect(ua).not.toBe(ub);
    expect(ua).not.toContain("api.example.net");
    expect(ub).toContain("acl vlk_allowed_domains dstdomain -n api.example.net\n");
    // Everything else equal: the difference is the domain list (and the tier's own names).
    const norm = (u: string, n: string) =>
      u.replace(new RegExp(n, "g"), "X").replace(/^VLK_(SECRET_ARN|SECRET_SELECTOR|LOG_GROUP)=.*$/gm, "");
    expect(norm(ub, "roll-b").replace("acl vlk_allowed_domains dstdomain -n api.example.net\n", "")).toBe(
      norm(ua, "roll-a"),
    );
    for (const n of ["roll-a", "roll-b"]) {
      const lt = view().one(T.lt, `${n}-lt`);
      const asg = view().one(T.asg, `${n}-asg`);
      expect(lt.inputs.updateDefaultVersion).toBe(true);
      // The template's latest version (not "$Latest"): a new version is a change of the group, which starts the refresh.
      expect(asg.inputs.launchTemplate).toEqual({ id: lt.id, version: "1" });
      expect(asg.inputs.instanceRefresh).toEqual({
        strategy: "Rolling",
        preferences: { minHealthyPercentage: 50, maxHealthyPercentage: 100, instanceWarmup: "300", autoRollback: true },
      });
    }
  });

  test("a new header secret version is pinned in the user data (so it rolls the fleet too)", () => {
    const version = mocks.resources.find((r) => r.name === "pub-header-secret-version")!;
    expect(version).toBeDefined();
    expect(userDataOf("pub")).toMatch(/^VLK_SECRET_SELECTOR=\(--version-id '[0-9a-f-]{36}'\)$/m);
  });
});

describe("logs, metrics and alarms", () => {
  test("a log group per tier with retention; the boot script installs and configures the CloudWatch agent for access.log and cache.log", () => {
    const lg = view().one(T.logGroup, "pub-squid-logs");
    expect(lg.inputs).toMatchObject({ retentionInDays: 30 });
    expect(pub.outputs.logGroupName).toMatch(/^pub-squid-logs-[0-9a-f]{7}$/);
    const ud = userDataOf("pub");
    expect(ud).toContain(`VLK_LOG_GROUP='${pub.outputs.logGroupName}'`);
    expect(ud).toContain("dnf install -y squid amazon-cloudwatch-agent");
    expect(ud).toContain(
      '"$dir/bin/amazon-cloudwatch-agent-ctl" -a fetch-config -m ec2 -s -c "file:$dir/etc/vlk-squid-logs.json"',
    );
    const r = bashFn(ud, "vlk_log_agent_config");
    expect(r.status).toBe(0);
    const cfg = JSON.parse(r.stdout);
    expect(cfg.logs.logs_collected.files.collect_list).toEqual([
      {
        file_path: "/var/log/squid/access.log",
        log_group_name: pub.outputs.logGroupName,
        log_stream_name: "{instance_id}/access.log",
        timezone: "UTC",
      },
      {
        file_path: "/var/log/squid/cache.log",
        log_group_name: pub.outputs.logGroupName,
        log_stream_name: "{instance_id}/cache.log",
        timezone: "UTC",
      },
    ]);
    expect(cfg.metrics).toBeUndefined();
  });

  test("a metric filter counts TCP_DENIED lines; alarms on unhealthy NLB targets and on deny spikes; their names are outputs", () => {
    const filter = view().one(T.metricFilter, "pub-denied-filter");
    const ns = proxyMetricNamespace();
    expect(ns).toBe("VpcLambdaKit/SquidProxy/vpc-lambda-kit/proxy");
    expect(filter.inputs).toMatchObject({
      logGroupName: pub.outputs.logGroupName,
      pattern: '"TCP_DENIED"',
      metricTransformation: {
        name: "pub-denied-requests",
        namespace: ns,
        value: "1",
        defaultValue: "0",
        unit: "Count",
      },
    });
    const nlb = view().one(T.nlb, "pub-nlb");
    const tg = view().one(T.tg, "pub-tg");
    const unhealthy = view().one(T.alarm, "pub-unhealthy-hosts");
    expect(unhealthy.inputs).toMatchObject({
      namespace: "AWS/NetworkELB",
      metricName: "UnHealthyHostCount",
      statistic: "Maximum",
      threshold: 0,
      comparisonOperator: "GreaterThanThreshold",
      dimensions: {
        LoadBalancer: expect.stringMatching(/^net\/pub-nlb-[0-9a-f]{7}\/[0-9a-f]{16}$/),
        TargetGroup: expect.stringMatching(/^targetgroup\/pub-tg-[0-9a-f]{7}\/[0-9a-f]{16}$/),
      },
    });
    expect(String(nlb.id)).toContain((unhealthy.inputs.dimensions as Record<string, string>).LoadBalancer);
    expect(String(tg.id)).toContain((unhealthy.inputs.dimensions as Record<string, string>).TargetGroup);
    const denied = view().one(T.alarm, "pub-denied-spike");
    expect(denied.inputs).toMatchObject({
      namespace: ns,
      metricName: "pub-denied-requests",
      statistic: "Sum",
      period: 300,
      threshold: 50,
      comparisonOperator: "GreaterThanOrEqualToThreshold",
      treatMissingData: "notBreaching",
    });
    expect(pub.outputs.unhealthyHostsAlarmName).toMatch(/^pub-unhealthy-hosts-[0-9a-f]{7}$/);
    expect(pub.outputs.deniedRequestsAlarmName).toMatch(/^pub-denied-spike-[0-9a-f]{7}$/);
  });

  test("alarm actions and the deny threshold are args", async () => {
    const topic = "arn:aws:sns:ap-northeast-1:123456789012:proxy-alerts";
    await build(
      "alerted",
      baseArgs({
        lbSubnetCidrs: ["10.0.7.0/24", "10.0.8.0/24"],
        alarmActions: [topic],
        deniedRequestsAlarmThreshold: 5,
        logRetentionInDays: 90,
      }),
    );
    for (const a of ["alerted-unhealthy-hosts", "alerted-denied-spike"])
      expect(view().one(T.alarm, a).inputs).toMatchObject({ alarmActions: [topic], okActions: [topic] });
    expect(view().one(T.alarm, "alerted-denied-spike").inputs.threshold).toBe(5);
    expect(view().one(T.logGroup, "alerted-squid-logs").inputs.retentionInDays).toBe(90);
  });
});

describe("allowFrom rule names", () => {
  test("rewording a description keeps the rule's URN (the name comes from the peer and the port); the old description-based name is an alias", async () => {
    const urnOf = async (
      tier: SquidProxyTier,
      peer: Parameters<SquidProxyTier["allowFrom"]>[0],
      description: string,
    ) => {
      const rule = tier.allowFrom(peer, description);
      return (await resolveOutputs(rule.urn)) as string;
    };
    const first = await build("urn-a", baseArgs({ lbSubnetCidrs: ["10.0.9.0/24", "10.0.10.0/24"] }));
    const second = await build("urn-b", baseArgs({ lbSubnetCidrs: ["10.0.9.0/24", "10.0.10.0/24"] }));
    const u1 = await urnOf(
      first.tier,
      { securityGroupId: pulumi.output("sg-0123"), name: "saas-export" },
      "saas-export function",
    );
    const u2 = await urnOf(
      second.tier,
      { securityGroupId: pulumi.output("sg-0123"), name: "saas-export" },
      "SaaS export Lambda (reworded)",
    );
    expect(u1.split("::").pop()).toBe("urn-a-from-sg-saas-export-3128");
    expect(u2.split("::").pop()).toBe("urn-b-from-sg-saas-export-3128");
    expect(u1.replace("urn-a", "urn-b").replace(/urn-a/g, "urn-b")).toBe(u2);
    // A security group's id Output names the rule after that group.
    const sg = new aws.ec2.SecurityGroup("urn-client-sg", { vpcId: "vpc-0123456789abcdef0" });
    expect((await urnOf(first.tier, sg.id, "a client")).split("::").pop()).toBe("urn-a-from-sg-urn-client-sg-3128");
    expect((await urnOf(first.tier, { cidr: "10.20.0.0/16" }, "peered VPC")).split("::").pop()).toBe(
      "urn-a-from-cidr-10-20-0-0-16-3128",
    );
  });
});

describe("boot script file", () => {
  test("components/squid-boot.sh renders to a stable script (snapshot of a fixed plan), with every placeholder filled", () => {
    const plan = pub.tier.plan;
    const script = renderBootScript({
      plan,
      secretArn: "arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:snap-AbC123",
      secretVersionId: "00000000-0000-4000-8000-000000000000",
      poolId: "vpc-lambda-kit/proxy/snap",
      logGroupName: "snap-squid-logs",
    });
    expect(script).not.toMatch(/@@[A-Z_]+@@/);
    expect(spawnSync("bash", ["-n"], { input: script, encoding: "utf8" }).status).toBe(0);
    expect(script).toMatchSnapshot();
  });
});
