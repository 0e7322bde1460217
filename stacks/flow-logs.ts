import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { flowLogsBucketPolicy } from "../components/flow-logs";
import { ConfigError } from "../components/errors";
import type { EnvConfig, EnvConfigInput } from "./config/schema";
import { PROJECT } from "./config/schema";

/**
 * The bucket policies the owners of given flow-log buckets add (network.flowLogs and
 * transitGateway.flowLogs with destination s3 and s3BucketArn), by bucket ARN; undefined when no flow
 * log goes to a given bucket. Account A's id comes from its provider, as the flow logs' own does.
 */
export function flowLogsBucketPolicies(
  cfg: EnvConfig,
  provider: aws.Provider,
): pulumi.Output<Record<string, unknown>> | undefined {
  const given = [
    cfg.network.flowLogs,
    ...(cfg.tgw && !cfg.transitGateway.existing ? [cfg.transitGateway.flowLogs] : []),
  ]
    .filter((f) => f.enabled && f.destination === "s3" && f.s3BucketArn !== undefined)
    .map((f) => f.s3BucketArn as string);
  if (given.length === 0) return undefined;
  const account = aws.getCallerIdentityOutput({}, { provider }).accountId;
  return account.apply((a) =>
    Object.fromEntries([...new Set(given)].map((arn) => [arn, flowLogsBucketPolicy(arn, a, cfg.region)])),
  );
}

/** transitGateway.flowLogs needs a Transit Gateway this stack creates: an existing one's owner logs it. */
export function flowLogsConfigErrors(cfg: EnvConfigInput, failed: ReadonlySet<string>): ConfigError[] {
  if (failed.has("transitGateway")) return [];
  const tg = cfg.transitGateway;
  if (tg.flowLogs.enabled && tg.existing)
    return [
      new ConfigError(
        `${PROJECT}:transitGateway.flowLogs`,
        `flow logs are asked for Transit Gateway ${tg.existing.id}, which this stack does not create; only its owner (or an account the owner permits) can create them`,
        "drop transitGateway.flowLogs and ask the Transit Gateway's owner to log it",
      ),
    ];
  return [];
}
