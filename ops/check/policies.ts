/**
 * The kit's policies over a synthesized graph (graph.json): the same rules the `@pulumi/policy` pack
 * in policy-pack/ runs during `pulumi preview`, plus the checks only the stack config can answer
 * (how many NAT gateways and which EIPs the config asked for).
 */
import type { Graph } from "../synth-core";
import type { EnvConfig } from "../../stacks/config/schema";
import { GraphModel } from "./model/graph";
import { T } from "./model/types";
import { POLICY_RULES, runRules } from "./policy-rules";

export interface PolicyViolation {
  /** Stable policy id (see POLICY_IDS). */
  policy: string;
  /** Logical name of the offending resource. */
  resource: string;
  /** One sentence naming the resource and the fix. */
  message: string;
  /** The resource's URN, when the violation is about one resource. */
  urn?: string;
}

/** Every policy id, in report order. */
export const POLICY_IDS: string[] = [...POLICY_RULES.map((r) => r.id)];

/** Runs every policy over the graph; with the stack's config, also checks the NAT strategy against it. */
export function checkPolicies(graph: Graph, cfg?: EnvConfig): PolicyViolation[] {
  const model = GraphModel.of(graph);
  const out: PolicyViolation[] = runRules(model).map(({ policy, resource, message, urn }) => ({
    policy,
    resource,
    message,
    urn,
  }));
  if (cfg) out.push(...natStrategyFromConfig(model, cfg));
  return out;
}

/**
 * The configured NAT strategy (network.natGateways, the AZ count, BYO EIPs) against the NAT gateways
 * in the network VPC (the one with network.cidrBlock).
 */
function natStrategyFromConfig(m: GraphModel, cfg: EnvConfig): PolicyViolation[] {
  if (!cfg.roles?.includes("network") || !cfg.networkPlan) return [];
  const plan = cfg.networkPlan;
  const vpcs = m.all(T.vpc).filter((v) => (v.inputs.cidrBlock ?? v.allocated?.cidrBlock) === plan.cidrBlock);
  if (vpcs.length !== 1) return [];
  const vpc = vpcs[0];
  const nats = m.all(T.nat).filter((n) => {
    const subnet = m.ref(n, "subnetId", n.inputs.subnetId, [T.subnet]);
    return subnet !== undefined && m.ref(subnet, "vpcId", subnet.inputs.vpcId, [T.vpc])?.urn === vpc.urn;
  });
  const out: PolicyViolation[] = [];
  const key = "vpc-lambda-kit:network.natGateways";
  if (nats.length !== plan.natCount) {
    out.push({
      policy: "eip-per-nat",
      resource: vpc.name,
      urn: vpc.urn,
      message: `VPC ${vpc.name} has ${nats.length} NAT gateway(s) but ${key} is ${plan.natGateways} over ${plan.azCount} AZ(s), i.e. ${plan.natCount}; fix the program or the config so each planned NAT exists with its own EIP.`,
    });
  }
  const byo = cfg.network.eipAllocationIds;
  if (byo && byo.length > 0) {
    const used = new Set(nats.map((n) => n.inputs.allocationId));
    const missing = byo.filter((id) => !used.has(id));
    if (missing.length > 0) {
      out.push({
        policy: "eip-per-nat",
        resource: vpc.name,
        urn: vpc.urn,
        message: `the allocations ${missing.join(", ")} in vpc-lambda-kit:network.eipAllocationIds are used by no NAT gateway in VPC ${vpc.name}; the allowlisted addresses would not be the egress IPs. List exactly one allocation per NAT.`,
      });
    }
  }
  return out;
}

/** One line per violation, grouped by policy, for the check report. */
export function formatViolations(violations: PolicyViolation[]): string {
  if (violations.length === 0) return `policies: all ${POLICY_IDS.length} pass`;
  const lines = [`policies: ${violations.length} violation(s)`];
  for (const id of [...new Set(violations.map((v) => v.policy))]) {
    for (const v of violations.filter((x) => x.policy === id)) lines.push(`  [${id}] ${v.message}`);
  }
  return lines.join("\n");
}
