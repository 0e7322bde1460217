/**
 * The AWS calls kintone-sync makes (read by the offline check, never bundled): its one secret, its saved
 * position in DynamoDB, its logs and, for the Lambda service, the ENIs of its VPC attachment. And what its role must refuse.
 * Templates: see ops/check/iam/calls.ts.
 */
import type { FunctionAwsCalls } from "../../ops/check/iam/calls";

export const awsCalls: FunctionAwsCalls = {
  functionName: "kintone-sync",
  calls: [
    {
      action: "dynamodb:GetItem",
      resource: "arn:aws:dynamodb:${region}:${account}:table/${env:KINTONE_CHECKPOINT_TABLE}",
      why: "reads where the last run stopped (./checkpoint.ts)",
    },
    {
      action: "dynamodb:PutItem",
      resource: "arn:aws:dynamodb:${region}:${account}:table/${env:KINTONE_CHECKPOINT_TABLE}",
      why: "saves its position with a conditional write",
    },
    {
      action: "secretsmanager:GetSecretValue",
      resource: "${env:KINTONE_TOKEN_SECRET_ID}",
      why: "reads the kintone API token (./secret.ts)",
    },
    {
      action: "logs:PutLogEvents",
      resource: "arn:aws:logs:${region}:${account}:log-group:${logGroup}:log-stream:2026/01/01/[$LATEST]0",
      why: "writes its logs",
    },
    {
      action: "ec2:CreateNetworkInterface",
      resource: "*",
      why: "the Lambda service attaches the function to its subnets",
    },
  ],
  mustDeny: [
    {
      action: "dynamodb:DeleteTable",
      resource: "arn:aws:dynamodb:${region}:${account}:table/${env:KINTONE_CHECKPOINT_TABLE}",
      why: "the position table is only read and written",
    },
    {
      action: "dynamodb:GetItem",
      resource: "arn:aws:dynamodb:${region}:${account}:table/another-table",
      why: "another table of the account",
    },
    {
      action: "secretsmanager:GetSecretValue",
      resource: "arn:aws:secretsmanager:${region}:${account}:secret:another-secret-AbCdEf",
      why: "another secret of the account",
    },
    { action: "iam:PassRole", resource: "arn:aws:iam::${account}:role/any-role", why: "no privilege escalation" },
    { action: "s3:GetObject", resource: "arn:aws:s3:::any-bucket/any-key", why: "no data access beyond kintone" },
  ],
};
