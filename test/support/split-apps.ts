import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { REPO_ROOT } from "../../components/bundle";
import { GraphView, synthForTest } from "./graph";

/** The attachment dev-data (account B) exports to dev-apps in split mode. */
export const DATA_ATTACHMENT = "tgw-attach-0fedcba9876543210";

/** The names the split stacks reference one another by. */
export const NETWORK_STACK = "organization/vpc-lambda-kit/dev-network";
export const DATA_STACK = "organization/vpc-lambda-kit/dev-data";

/** What dev-network exports about its VPC in the split-mode tests; each test adds the outputs it is about. */
export const NETWORK_VPC = {
  vpcId: "vpc-0aaaaaaaaaaaaaaaa",
  vpcCidr: "10.0.0.0/16",
  privateSubnetIds: ["subnet-0private00000000"],
};

/**
 * Answers a synth's StackReference reads from `outputs` (by stack name) and fails it on any other stack;
 * every name asked is appended to `asked` when given.
 */
export function upstreamOutputs(
  outputs: Record<string, Record<string, unknown>>,
  asked?: string[],
): (name: string) => Record<string, unknown> {
  return (name) => {
    asked?.push(name);
    const out = outputs[name];
    if (!out) throw new Error(`no such stack ${name}`);
    return out;
  };
}

/**
 * dev-apps in split mode with only the Transit Gateway wiring under test: every function and feature switched
 * off, `transitGateway` set as given, dev-network exporting `tgwRouteTableId` and dev-data account B's attachment.
 */
export async function synthSplitApps(tgwRouteTableId: string, transitGateway: unknown): Promise<GraphView> {
  const upstream = upstreamOutputs({
    [NETWORK_STACK]: { network: { ...NETWORK_VPC, egressIps: ["198.51.100.7"], tgwRouteTableId } },
    [DATA_STACK]: {
      data: { vpcId: "vpc-0bbbbbbbbbbbbbbbb", vpcCidr: "10.1.0.0/16", tgwAttachmentId: DATA_ATTACHMENT },
    },
  });
  const keep = [
    "aws:region",
    "vpc-lambda-kit:environment",
    "vpc-lambda-kit:roles",
    "vpc-lambda-kit:upstream",
    "vpc-lambda-kit:network",
    "vpc-lambda-kit:accounts",
  ];
  const base = YAML.parse(fs.readFileSync(path.join(REPO_ROOT, "Pulumi.dev-apps.yaml"), "utf8")).config as Record<
    string,
    unknown
  >;
  const patch: Record<string, unknown> = Object.fromEntries(
    Object.keys(base)
      .filter((k) => !keep.includes(k))
      .map((k) => [k, undefined]),
  );
  patch["vpc-lambda-kit:transitGateway"] = transitGateway;
  return (await synthForTest("dev-apps", patch, upstream)).view;
}
