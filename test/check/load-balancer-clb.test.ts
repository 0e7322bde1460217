import * as path from "path";
import { REPO_ROOT } from "../../components/bundle";
import type { Graph } from "../../ops/synth-core";
import { analyzeFlows } from "../../ops/check/flows";
import { readStackConfig } from "../../ops/stack-config";
import { synthForTest } from "../support/graph";
import { brokenLines, check, copy, drop, flowOf, one } from "./mutate";

// dev with `proxyTier.loadBalancer: clb`: the stack builds the Classic Load Balancer variant of the
// tier (PROXY protocol v1), and the checker proves saas-export through it just as through the NLB
// (load-balancer.test.ts); each mutation breaks one link of the CLB hop and the flow turns BROKEN.
const P = "vpc-lambda-kit";
let clb: Graph;
beforeAll(async () => {
  const pt = JSON.parse(readStackConfig(path.join(REPO_ROOT, "Pulumi.dev.yaml")).config[`${P}:proxyTier`]);
  clb = (await synthForTest("dev", { [`${P}:proxyTier`]: { ...pt, loadBalancer: "clb", idleTimeoutSeconds: 900 } }))
    .result.graph;
});

const PROXY = /tcp\/3128 to security group proxy/;

function broken(g: Graph): string {
  const f = flowOf(check(g).flows, "saas-export", PROXY);
  expect(f.status).toBe("BROKEN");
  return f.reason as string;
}

test("the stack builds a CLB with PROXY v1 and the configured idle timeout, and no NLB", () => {
  const lb = one(clb, "aws:elb/loadBalancer:LoadBalancer", "proxy-clb");
  expect(lb.inputs).toMatchObject({ internal: true, idleTimeout: 900 });
  expect(one(clb, "ProxyProtocolPolicy", "proxy-proxy-protocol").inputs.instancePorts).toEqual(["3128"]);
  expect(clb.resources.filter((r) => /^aws:lb\//.test(r.type))).toEqual([]);
  const proxy = (clb.outputs.apps as { proxyTier: Record<string, unknown> }).proxyTier;
  expect(proxy).toMatchObject({ loadBalancerType: "clb", targetGroupArn: "" });
});

test("every flow passes; saas-export goes CLB → ASG → NAT → SaaS", () => {
  expect(brokenLines(analyzeFlows(clb))).toEqual([]);
  const f = flowOf(analyzeFlows(clb), "saas-export", PROXY);
  expect(f.status).toBe("OK");
  expect(f.path).toEqual(["proxy-clb", "proxy-asg", "egress-nat-0", "egress-igw", "api.example-saas.com:443"]);
  expect(f.egressIps).toEqual(clb.outputs.egressIps);
});

describe("mutations of the CLB hop", () => {
  test("the listener forwards to a port the load balancer's security group does not reach", () => {
    const g = copy(clb);
    const lb = one(g, "aws:elb/loadBalancer:LoadBalancer", "proxy-clb");
    (lb.inputs.listeners as Record<string, unknown>[])[0].instancePort = 8080;
    expect(broken(g)).toMatch(
      /^security group proxy-lb-sg of load balancer proxy-clb has no egress rule for tcp\/8080/,
    );
  });

  test("no listener on the flow's port", () => {
    const g = copy(clb);
    const lb = one(g, "aws:elb/loadBalancer:LoadBalancer", "proxy-clb");
    (lb.inputs.listeners as Record<string, unknown>[])[0].lbPort = 3129;
    expect(broken(g)).toBe("load balancer proxy-clb listens on 3129, not on 3128");
  });

  test("the Auto Scaling group no longer registers with the CLB", () => {
    const g = copy(clb);
    one(g, "autoscaling/group:Group", "proxy-asg").inputs.loadBalancers = [];
    expect(broken(g)).toMatch(/^load balancer proxy-clb has no instances behind it/);
  });

  test("no PROXY protocol policy on the CLB while Squid requires the header", () => {
    const g = copy(clb);
    drop(g, "ProxyProtocolPolicy", "proxy-proxy-protocol");
    expect(broken(g)).toMatch(/^load balancer proxy-clb sends no PROXY protocol header to instance port 3128/);
  });
});

test("a CLB in a subnet outside Squid's proxy_protocol_access list is BROKEN", () => {
  const g = copy(clb);
  const lt = one(g, "LaunchTemplate", "proxy-lt");
  const text = Buffer.from(String(lt.inputs.userData), "base64").toString("utf8");
  const after = text.replace(/^(acl vlk_proxy_protocol_lb src) 10\.0\.1\.0\/24/m, "$1 10.0.9.0/24");
  expect(after).not.toBe(text);
  lt.inputs.userData = Buffer.from(after, "utf8").toString("base64");
  expect(broken(g)).toMatch(/accepts PROXY headers only from .*but load balancer proxy-clb sits in egress-private-0/);
});
