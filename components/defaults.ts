/** Values several components share. */

import { ConfigError } from "./errors";

/** The usual recipe's ranges: the egress VPC, the database VPC and its two subnets (config's defaults). */
export const DEFAULT_NETWORK_CIDR = "10.0.0.0/16";
export const DEFAULT_DATA_CIDR = "10.1.0.0/16";
export const DEFAULT_DATA_SUBNET_CIDRS: readonly string[] = ["10.1.128.0/28", "10.1.128.16/28"];

/** Retention periods CloudWatch Logs accepts (PutRetentionPolicy rejects any other). */
export const CLOUDWATCH_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

/** The error for a log retention CloudWatch Logs would refuse, keyed `key`; none when `days` is accepted. */
export function retentionErrors(key: string, days: number): ConfigError[] {
  if (CLOUDWATCH_RETENTION_DAYS.includes(days)) return [];
  return [
    new ConfigError(
      key,
      `${days} is not a CloudWatch Logs retention period`,
      `use one of ${CLOUDWATCH_RETENTION_DAYS.join(", ")}`,
    ),
  ];
}

/** Tags for a component's children: the caller's `tags` plus `Name: <component name>-<role>`. */
export function nameTags(name: string, tags: Record<string, string> = {}): (role: string) => Record<string, string> {
  return (role) => ({ ...tags, Name: `${name}-${role}` });
}

/**
 * The trust policy (JSON) of a role an AWS service assumes on this account's behalf. The aws:SourceAccount
 * condition is the confused-deputy guard: only that service acting for `accountId` may use the role.
 */
export function serviceTrustPolicy(service: string, accountId: string): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Principal: { Service: service },
        Action: "sts:AssumeRole",
        Condition: { StringEquals: { "aws:SourceAccount": accountId } },
      },
    ],
  });
}
