import * as path from "path";
import { REPO_ROOT } from "../../components/bundle";
import { readStackConfig } from "../../ops/stack-config";
import { GraphView, synthForTest } from "../support/graph";

// The stack-level contract of `proxyTier` (Pulumi.prod.yaml under mocks): each config key reaches the
// resource AWS would apply it to, and the apps outputs carry what an operator and the SaaS need.
const P = "vpc-lambda-kit";
const prodCfg = JSON.parse(readStackConfig(path.join(REPO_ROOT, "Pulumi.prod.yaml")).config[`${P}:proxyTier`]);
let g: GraphView;
beforeAll(async () => {
  g = (await synthForTest("prod")).view;
});

const proxyOutputs = () => (g.graph.outputs.apps as { proxyTier: Record<string, unknown> }).proxyTier;

test("loadBalancer nlb: an internal NLB whose TCP listener carries idleTimeoutSeconds and forwards to the target group", () => {
  const nlb = g.one("aws:lb/loadBalancer:LoadBalancer", "proxy-nlb");
  expect(nlb.inputs).toMatchObject({ loadBalancerType: "network", internal: true });
  const listener = g.one("aws:lb/listener:Listener", "proxy-listener");
  const tg = g.one("aws:lb/targetGroup:TargetGroup", "proxy-tg");
  expect(listener.inputs).toMatchObject({
    protocol: "TCP",
    port: prodCfg.port,
    tcpIdleTimeoutSeconds: prodCfg.idleTimeoutSeconds,
  });
  expect(JSON.stringify(listener.inputs.defaultActions)).toContain(String(tg.id));
  expect(g.all("aws:elb/loadBalancer:LoadBalancer")).toEqual([]);
});

test("the target group sends PROXY protocol v2 and does not preserve the client IP", () => {
  expect(g.one("aws:lb/targetGroup:TargetGroup", "proxy-tg").inputs).toMatchObject({
    protocol: "TCP",
    port: prodCfg.port,
    proxyProtocolV2: true,
    preserveClientIp: "false",
  });
});

test("scaling: the group's bounds, a CPU target-tracking policy, and an instance refresh that rolls changes", () => {
  const asg = g.one("aws:autoscaling/group:Group", "proxy-asg");
  expect(asg.inputs).toMatchObject({
    minSize: prodCfg.scaling.min,
    maxSize: prodCfg.scaling.max,
    desiredCapacity: prodCfg.scaling.desired,
    targetGroupArns: [g.one("aws:lb/targetGroup:TargetGroup", "proxy-tg").id],
    instanceRefresh: { strategy: "Rolling", preferences: { autoRollback: true, maxHealthyPercentage: 100 } },
  });
  const policy = g.one("aws:autoscaling/policy:Policy", "proxy-target-tracking");
  expect(policy.inputs).toMatchObject({
    policyType: "TargetTrackingScaling",
    targetTrackingConfiguration: {
      predefinedMetricSpecification: { predefinedMetricType: "ASGAverageCPUUtilization" },
      targetValue: prodCfg.scaling.target.value,
    },
  });
});

test("public placement allocates one EIP per instance the group may run, and outputs the count to allowlist", () => {
  const pool = g.all("aws:ec2/eip:Eip").filter((e) => /^proxy-eip-\d+$/.test(e.name));
  expect(pool).toHaveLength(prodCfg.scaling.max);
  const out = proxyOutputs();
  expect(out.allowlistAddressCount).toBe(prodCfg.scaling.max);
  expect(out.egressIps).toHaveLength(prodCfg.scaling.max);
});

test("the Squid log group keeps logs for proxyTier.logRetentionInDays, and both alarms notify alarmActions", () => {
  const lg = g.all("aws:cloudwatch/logGroup:LogGroup").filter((r) => r.name === "proxy-squid-logs");
  expect(lg).toHaveLength(1);
  expect(lg[0].inputs.retentionInDays).toBe(prodCfg.logRetentionInDays);
  // Its own key, not the stack-wide logRetentionInDays the function log groups keep.
  expect(prodCfg.logRetentionInDays).not.toBe(
    g.one("aws:cloudwatch/logGroup:LogGroup", "saas-export-logs").inputs.retentionInDays,
  );
  const alarms = ["proxy-unhealthy-hosts", "proxy-denied-spike"].map((n) =>
    g.one("aws:cloudwatch/metricAlarm:MetricAlarm", n),
  );
  for (const a of alarms) {
    expect(a.inputs.alarmActions).toEqual(prodCfg.alarmActions);
    expect(a.inputs.okActions).toEqual(prodCfg.alarmActions);
  }
  expect(alarms[0].inputs.namespace).toBe("AWS/NetworkELB");
  expect(alarms[1].inputs.threshold).toBe(prodCfg.deniedRequestsAlarmThreshold);
});

test("the apps outputs name the load balancer, target group, log group and alarms", () => {
  const out = proxyOutputs();
  expect(out).toMatchObject({
    loadBalancerType: "nlb",
    loadBalancerArn: expect.stringMatching(/^arn:aws:elasticloadbalancing:/),
    targetGroupArn: expect.stringMatching(/^arn:aws:elasticloadbalancing:.*targetgroup/),
    logGroupName: expect.stringMatching(/^proxy-squid-logs/),
    proxyUrl: expect.stringMatching(/^http:\/\/.+:3128$/),
  });
  expect(out.alarmNames).toEqual([
    expect.stringMatching(/^proxy-unhealthy-hosts/),
    expect.stringMatching(/^proxy-denied-spike/),
  ]);
  expect(out.autoScalingGroupName).toMatch(/^proxy-asg/);
});
