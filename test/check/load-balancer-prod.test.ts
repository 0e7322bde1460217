import type { Graph } from "../../ops/synth-core";
import { analyzeFlows } from "../../ops/check/flows";
import { synthForTest } from "../support/graph";
import { brokenLines, flowOf } from "./mutate";

// prod places the proxies in public subnets with a pool of Elastic IPs: the flow proof must still
// go through the Network Load Balancer and leave with the pool's addresses, not a NAT's.
let prod: Graph;
beforeAll(async () => {
  prod = (await synthForTest("prod")).result.graph;
});

const PROXY = /tcp\/3128 to security group proxy/;

describe("saas-export through the network load balancer", () => {
  test("prod: NLB → target group → ASG in public subnets, leaving with the pool's EIPs", () => {
    expect(brokenLines(analyzeFlows(prod))).toEqual([]);
    const f = flowOf(analyzeFlows(prod), "saas-export", PROXY);
    expect(f.path.slice(0, 3)).toEqual(["proxy-nlb", "proxy-tg", "proxy-asg"]);
    expect(f.path).toContain("api.example-saas.com:443");
    expect(f.path.some((p) => /nat/.test(p))).toBe(false);
    expect(f.egressIps?.length).toBeGreaterThan(0);
    expect(f.egressIps?.every((ip) => /^\d+\.\d+\.\d+\.\d+$/.test(ip))).toBe(true);
  });
});
