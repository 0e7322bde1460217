import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { REPO_ROOT } from "../../components/bundle";
import { readStackConfig } from "../../ops/stack-config";
import { configErrorsOf } from "../support/config-errors";
import { expectRefused, runOps, writeStackFile } from "../support/ops-cli";

/**
 * `proxyTier`'s load balancer, scaling, logging and alarm keys: every bad value is refused at config
 * time (before anything is registered), naming the key under `proxyTier` and the fix. The ranges are
 * the tier's own rules (components/squid-proxy-tier.ts, sources in docs/proxy-tier.md), run on the
 * values config gives it.
 */
const P = "vpc-lambda-kit";
const base = (stack: string): Record<string, unknown> =>
  JSON.parse(readStackConfig(path.join(REPO_ROOT, `Pulumi.${stack}.yaml`)).config[`${P}:proxyTier`]);
const dev = base("dev");
const pt = (extra: Record<string, unknown>) => ({ [`${P}:proxyTier`]: { ...dev, ...extra } });
const publicPool = (extra: Record<string, unknown>) =>
  pt({ placement: "public", scaling: { min: 2, max: 4 }, ...extra });
const ids = (n: number) => Array.from({ length: n }, (_, i) => `eipalloc-0${i}a1b2c3d4e5f6a7b`);

test("dev and prod set the new keys and pass; prod runs an NLB over 2..4 instances with alarms", () => {
  expect(configErrorsOf({})).toEqual([]);
  expect(configErrorsOf({}, "prod")).toEqual([]);
  const prod = base("prod");
  expect(prod).toMatchObject({
    loadBalancer: "nlb",
    scaling: { min: 2, max: 4, target: { metric: "cpu" } },
    logRetentionInDays: 180,
    alarmActions: [expect.stringMatching(/^arn:aws:sns:/)],
  });
});

test.each([
  [
    "an NLB idle timeout below the TCP listener's range",
    pt({ loadBalancer: "nlb", idleTimeoutSeconds: 30 }),
    /^vpc-lambda-kit:proxyTier\.idleTimeoutSeconds: 30 is outside 60\.\.6000 seconds.*Network Load Balancer TCP listener/,
  ],
  [
    "an NLB idle timeout above the TCP listener's range",
    pt({ idleTimeoutSeconds: 6001 }),
    /^vpc-lambda-kit:proxyTier\.idleTimeoutSeconds: 6001 is outside 60\.\.6000/,
  ],
  [
    "a CLB idle timeout above the Classic Load Balancer's range",
    pt({ loadBalancer: "clb", idleTimeoutSeconds: 4000 }),
    /^vpc-lambda-kit:proxyTier\.idleTimeoutSeconds: 4000 is outside 1\.\.3600 seconds.*Classic Load Balancer/,
  ],
  [
    "PROXY protocol v2 with a Classic Load Balancer",
    pt({ loadBalancer: "clb", proxyProtocolVersion: 2 }),
    /^vpc-lambda-kit:proxyTier\.proxyProtocolVersion: 2: a Classic Load Balancer sends PROXY protocol v1 only\. Fix: omit proxyProtocolVersion/,
  ],
  [
    "PROXY protocol v1 with a Network Load Balancer",
    pt({ proxyProtocolVersion: 1 }),
    /^vpc-lambda-kit:proxyTier\.proxyProtocolVersion: 1: a Network Load Balancer target group sends PROXY protocol v2 only/,
  ],
  ["an unknown load balancer type", pt({ loadBalancer: "alb" }), /^vpc-lambda-kit:proxyTier\.loadBalancer: /],
  [
    "scaling.min above scaling.max",
    pt({ scaling: { min: 3, max: 2 } }),
    /^vpc-lambda-kit:proxyTier\.scaling\.min: 3 is above scaling\.max \(2\)\. Fix: lower scaling\.min or raise scaling\.max/,
  ],
  [
    "scaling.desired above scaling.max",
    pt({ scaling: { min: 2, max: 3, desired: 4 } }),
    /^vpc-lambda-kit:proxyTier\.scaling\.desired: 4 is outside \[scaling\.min, scaling\.max\] = \[2, 3\]/,
  ],
  [
    "scaling.desired below scaling.min",
    pt({ scaling: { min: 3, max: 4, desired: 2 } }),
    /^vpc-lambda-kit:proxyTier\.scaling\.desired: 2 is outside \[scaling\.min, scaling\.max\] = \[3, 4\]/,
  ],
  [
    "target tracking on a fixed size",
    pt({ scaling: { min: 2, max: 2, target: { metric: "cpu", value: 60 } } }),
    /^vpc-lambda-kit:proxyTier\.scaling\.max: equals scaling\.min \(2\)/,
  ],
  [
    "a CPU target above 100 %",
    pt({ scaling: { min: 2, max: 4, target: { metric: "cpu", value: 120 } } }),
    /^vpc-lambda-kit:proxyTier\.scaling\.target\.value: 120 is not a target for cpu/,
  ],
  [
    "an unknown scaling metric",
    pt({ scaling: { min: 2, max: 4, target: { metric: "memory", value: 60 } } }),
    /^vpc-lambda-kit:proxyTier\.scaling\.target\.metric: /,
  ],
  [
    "desiredCapacity together with scaling",
    pt({ desiredCapacity: 2, scaling: { min: 2, max: 4 } }),
    /^vpc-lambda-kit:proxyTier\.desiredCapacity: is given together with proxyTier\.scaling.*Fix: remove desiredCapacity and set proxyTier\.scaling\.desired/,
  ],
  [
    "an EIP pool smaller than scaling.max in public placement",
    publicPool({ eipAllocationIds: ids(2) }),
    /^vpc-lambda-kit:proxyTier\.eipAllocationIds: 2 allocation id\(s\) for scaling\.max 4: an instance beyond the pool would find no address.*Fix: give exactly one EIP allocation id per instance the group may run \(4\)/,
  ],
  [
    "an EIP pool with private placement",
    pt({ eipAllocationIds: ids(2) }),
    /^vpc-lambda-kit:proxyTier\.eipAllocationIds: only placement "public" uses an EIP pool/,
  ],
  [
    "an EIP allocation id of the wrong shape",
    publicPool({ eipAllocationIds: [...ids(3), "eip-123"] }),
    /^vpc-lambda-kit:proxyTier\.eipAllocationIds\.3: not an EIP allocation id/,
  ],
  [
    "an EIP allocation listed twice",
    publicPool({ eipAllocationIds: [...ids(3), ids(1)[0]] }),
    /^vpc-lambda-kit:proxyTier\.eipAllocationIds\.3: .*listed twice/,
  ],
  [
    "a log retention CloudWatch Logs does not offer",
    pt({ logRetentionInDays: 15 }),
    /^vpc-lambda-kit:proxyTier\.logRetentionInDays: not a CloudWatch Logs retention period/,
  ],
  [
    "a deny alarm threshold of 0",
    pt({ deniedRequestsAlarmThreshold: 0 }),
    /^vpc-lambda-kit:proxyTier\.deniedRequestsAlarmThreshold: /,
  ],
  [
    "an alarm action that is not an SNS topic",
    pt({ alarmActions: ["arn:aws:sqs:ap-northeast-1:111111111111:queue"] }),
    /^vpc-lambda-kit:proxyTier\.alarmActions\.0: not an SNS topic ARN/,
  ],
  [
    "more than five alarm actions",
    pt({
      alarmActions: Array.from({ length: 6 }, (_, i) => `arn:aws:sns:ap-northeast-1:111111111111:t${i}`),
    }),
    /^vpc-lambda-kit:proxyTier\.alarmActions: /,
  ],
])("%s is refused with the key and the fix", (_label, patch, expected) => {
  const errors = configErrorsOf(patch);
  expect(errors).toEqual(expect.arrayContaining([expect.stringMatching(expected)]));
  for (const e of errors) expect(e).toMatch(/\. Fix: /);
});

test.each([
  ["desiredCapacity alone (the older fixed-size spelling)", pt({ scaling: undefined, desiredCapacity: 3 })],
  ["neither desiredCapacity nor scaling (2 instances)", pt({ scaling: undefined })],
  ["a CLB with its own idle timeout range", pt({ loadBalancer: "clb", idleTimeoutSeconds: 3600 })],
  ["an NLB at the top of its range", pt({ idleTimeoutSeconds: 6000 })],
  ["a public EIP pool of exactly scaling.max", publicPool({ eipAllocationIds: ids(4) })],
  [
    "target tracking on network bytes",
    pt({ scaling: { min: 1, max: 3, target: { metric: "networkOut", value: 5e8 } } }),
  ],
])("%s is accepted", (_label, patch) => {
  expect(configErrorsOf(patch)).toEqual([]);
});

test("with desiredCapacity (a fixed size), a public EIP pool must hold exactly that many", () => {
  const errors = configErrorsOf(publicPool({ scaling: undefined, desiredCapacity: 3, eipAllocationIds: ids(2) }));
  expect(errors).toEqual([expect.stringMatching(/^vpc-lambda-kit:proxyTier\.eipAllocationIds: 2 allocation id\(s\)/)]);
});

describe("synth and check", () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "vlk-proxy-config-"));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test("exit 2 on an out-of-range idle timeout, naming the key, with nothing written", () => {
    const text = fs
      .readFileSync(path.join(REPO_ROOT, "Pulumi.dev.yaml"), "utf8")
      .replace(/^(\s+idleTimeoutSeconds:) 350$/m, "$1 7000");
    expect(text).toMatch(/idleTimeoutSeconds: 7000/);
    const file = writeStackFile(dir, "idle", text);
    for (const cmd of ["ops/synth.ts", "ops/check.ts"] as const) {
      const r = runOps(cmd, "idle", file, path.join(dir, `out-${path.basename(cmd, ".ts")}`));
      expect(r.stderr).toMatch(/vpc-lambda-kit:proxyTier\.idleTimeoutSeconds: 7000 is outside 60\.\.6000 seconds/);
      expectRefused(r);
    }
  });
});
