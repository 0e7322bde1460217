/**
 * The AWS calls the AppFlow connector makes (read by the offline check, never bundled): the connection
 * secret AppFlow created for its connector profile (name appflow!<account>-<profile>-<suffix>). And what
 * its role must refuse. Templates: see ops/check/iam/calls.ts.
 */
import type { FunctionAwsCalls } from "../../ops/check/iam/calls";

export const awsCalls: FunctionAwsCalls = {
  functionName: "appflow-connector",
  calls: [
    {
      action: "secretsmanager:GetSecretValue",
      resource: "arn:aws:secretsmanager:${region}:${account}:secret:appflow!${account}-${profile}-AbCdEf",
      why: "reads the connection credentials AppFlow passes by ARN (./secrets.ts)",
    },
    {
      action: "logs:PutLogEvents",
      resource: "arn:aws:logs:${region}:${account}:log-group:${logGroup}:log-stream:2026/01/01/[$LATEST]0",
      why: "writes its logs",
    },
  ],
  mustDeny: [
    {
      action: "secretsmanager:GetSecretValue",
      resource: "arn:aws:secretsmanager:${region}:${account}:secret:appflow!${account}-another-profile-AbCdEf",
      why: "another AppFlow connection's secret",
    },
    {
      action: "secretsmanager:GetSecretValue",
      resource: "arn:aws:secretsmanager:${region}:${account}:secret:another-secret-AbCdEf",
      why: "another secret of the account",
    },
    { action: "iam:PassRole", resource: "arn:aws:iam::${account}:role/any-role", why: "no privilege escalation" },
  ],
};
