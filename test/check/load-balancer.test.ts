import type { Graph } from "../../ops/synth-core";
import { analyzeFlows } from "../../ops/check/flows";
import { synthForTest } from "../support/graph";
import { check, copy, DEV_PROXY_PATH, drop, flowOf, one, PROXY } from "./mutate";

// The proxy tier's Network Load Balancer hop (ops/check/eval/load-balancer.ts): the dev and prod
// stack proves saas-export through the NLB (prod: load-balancer-prod.test.ts, one synthesis per process); each mutation breaks one consistency rule between the
// listener, the target group and Squid, and the flow turns BROKEN naming that rule and its fix.
let dev: Graph;
beforeAll(async () => {
  dev = (await synthForTest("dev")).result.graph;
});

function broken(g: Graph): string {
  const f = flowOf(check(g).flows, "saas-export", PROXY);
  expect(f.status).toBe("BROKEN");
  return f.reason as string;
}

/** Rewrites the squid.conf inside the launch template's base64 boot script. */
function editSquid(g: Graph, edit: (text: string) => string): void {
  const lt = one(g, "LaunchTemplate", "proxy-lt");
  const before = Buffer.from(String(lt.inputs.userData), "base64").toString("utf8");
  const after = edit(before);
  expect(after).not.toBe(before);
  lt.inputs.userData = Buffer.from(after, "utf8").toString("base64");
}

describe("saas-export through the network load balancer", () => {
  test("dev: NLB → target group → ASG → NAT, with the NAT's EIP as egress IP", () => {
    const f = flowOf(analyzeFlows(dev), "saas-export", PROXY);
    expect(f.status).toBe("OK");
    expect(f.path).toEqual(DEV_PROXY_PATH);
    expect(f.egressIps).toEqual(dev.outputs.egressIps);
  });
});

describe("mutations: each consistency break is BROKEN with its fix", () => {
  test("listener port differs from the target group port", () => {
    const g = copy(dev);
    one(g, "TargetGroup", "proxy-tg").inputs.port = 8080;
    expect(broken(g)).toBe(
      "listener proxy-listener listens on 3128 but target group proxy-tg forwards to 8080; set both to Squid's port",
    );
  });

  test("target group port differs from Squid's http_port", () => {
    const g = copy(dev);
    editSquid(g, (t) => t.replace(/^http_port (\S*?)3128/m, "http_port $13130"));
    expect(broken(g)).toBe(
      "target group proxy-tg forwards to port 3128, but Squid listens on 3130 (http_port); set the target group port to 3130",
    );
  });

  test("target group without PROXY protocol v2", () => {
    const g = copy(dev);
    one(g, "TargetGroup", "proxy-tg").inputs.proxyProtocolV2 = false;
    expect(broken(g)).toMatch(/^target group proxy-tg does not send PROXY protocol v2, .*; set proxyProtocolV2: true$/);
  });

  test("target group preserving the client IP", () => {
    const g = copy(dev);
    one(g, "TargetGroup", "proxy-tg").inputs.preserveClientIp = "true";
    expect(broken(g)).toMatch(
      /^target group proxy-tg preserves the client IP \(preserveClientIp "true"\).*; set preserveClientIp: "false"$/,
    );
    const h = copy(dev);
    delete one(h, "TargetGroup", "proxy-tg").inputs.preserveClientIp;
    expect(broken(h)).toMatch(/preserveClientIp unset, which is true for instance targets/);
  });

  test("an NLB subnet outside Squid's proxy_protocol_access list", () => {
    const g = copy(dev);
    editSquid(g, (t) => t.replace(/^(acl vlk_proxy_protocol_lb src) .*$/m, "$1 10.0.1.0/24"));
    expect(broken(g)).toMatch(
      /^squid\.conf in launch template proxy-lt accepts PROXY headers only from 10\.0\.1\.0\/24, but load balancer proxy-nlb sits in egress-private-1 \(10\.0\.2\.0\/24\); add the load balancer subnets' CIDRs/,
    );
  });

  test("no proxy_protocol_access at all", () => {
    const g = copy(dev);
    editSquid(g, (t) => t.replace(/^proxy_protocol_access .*$/gm, ""));
    expect(broken(g)).toMatch(
      /has no proxy_protocol_access line, so Squid rejects the PROXY v2 header load balancer proxy-nlb sends/,
    );
  });

  test("listener forwarding to no target group", () => {
    const g = copy(dev);
    drop(g, "TargetGroup", "proxy-tg");
    expect(broken(g)).toMatch(
      /^listener proxy-listener of load balancer proxy-nlb does not forward to a target group in the graph/,
    );
  });

  test("no Auto Scaling group in the target group", () => {
    const g = copy(dev);
    one(g, "autoscaling/group:Group", "proxy-asg").inputs.targetGroupArns = [];
    expect(broken(g)).toBe(
      "target group proxy-tg has no instances (no Auto Scaling group lists it in targetGroupArns)",
    );
  });

  test("instance security group does not admit the NLB's security group", () => {
    const g = copy(dev);
    const rules = g.resources.filter(
      (r) =>
        /SecurityGroupIngressRule|SecurityGroupRule/.test(r.type) &&
        /^proxy-/.test(r.name) &&
        r.inputs.referencedSecurityGroupId !== undefined &&
        String(r.name).includes("instance"),
    );
    expect(rules.length).toBeGreaterThan(0);
    g.resources = g.resources.filter((r) => !rules.includes(r));
    expect(broken(g)).toMatch(/of the proxy instances does not admit tcp\/3128 from load balancer proxy-nlb/);
  });

  test("an internet-facing load balancer", () => {
    const g = copy(dev);
    one(g, "lb/loadBalancer:LoadBalancer", "proxy-nlb").inputs.internal = false;
    expect(broken(g)).toBe(
      "load balancer proxy-nlb is internet-facing: the proxy must be reachable only from inside; set internal: true",
    );
  });
});
