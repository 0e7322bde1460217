/**
 * Split-mode stacks read their upstream stacks' outputs through StackReferences; synthForTest answers those from a
 * map. These are the upstream names and the fake exports the split tests start from.
 */
export const DEV_NETWORK_STACK = "organization/vpc-lambda-kit/dev-network";
export const DEV_DATA_STACK = "organization/vpc-lambda-kit/dev-data";

/** dev-network's `network` export: the egress VPC with one private subnet, plus `extra` outputs. */
export function devNetworkExport(extra: Record<string, unknown>): Record<string, unknown> {
  return {
    vpcId: "vpc-0aaaaaaaaaaaaaaaa",
    vpcCidr: "10.0.0.0/16",
    privateSubnetIds: ["subnet-0private00000000"],
    ...extra,
  };
}

/**
 * A stackOutputs callback for synthForTest answering from `outputs` (stack name → its outputs), noting every name
 * asked in `asked`; a stack not in the map throws, as a missing stack would.
 */
export function upstreamStacks(
  outputs: Record<string, Record<string, unknown>>,
  asked: string[] = [],
): (name: string) => Record<string, unknown> {
  return (name) => {
    asked.push(name);
    const out = outputs[name];
    if (!out) throw new Error(`no such stack ${name}`);
    return out;
  };
}
