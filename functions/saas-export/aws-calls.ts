/**
 * The AWS calls saas-export makes (read by the offline check, never bundled): two secrets, writes and
 * deletes under its prefix, reading back the date's published symlink file, a prefix-limited listing. And
 * what its role must refuse.
 * Templates: see ops/check/iam/calls.ts.
 */
import type { FunctionAwsCalls } from "../../ops/check/iam/calls";

export const awsCalls: FunctionAwsCalls = {
  functionName: "saas-export",
  calls: [
    {
      action: "secretsmanager:GetSecretValue",
      resource: "${env:PROXY_HEADER_SECRET_ID}",
      why: "reads the proxy header value (./secrets.ts)",
    },
    {
      action: "secretsmanager:GetSecretValue",
      resource: "${env:SAAS_AUTH_SECRET_ID}",
      why: "reads the SaaS credential (./secrets.ts)",
    },
    {
      action: "s3:PutObject",
      resource: "arn:aws:s3:::${env:BUCKET}/${env:PREFIX}dt=2026-01-01/part-00000.ndjson",
      context: { "aws:SecureTransport": "true" },
      why: "writes a partition (./s3-store.ts)",
    },
    {
      action: "s3:DeleteObject",
      resource: "arn:aws:s3:::${env:BUCKET}/${env:PREFIX}dt=2026-01-01/_SUCCESS",
      context: { "aws:SecureTransport": "true" },
      why: "replaces a partition (DeleteObject/DeleteObjects)",
    },
    {
      action: "s3:ListBucket",
      resource: "arn:aws:s3:::${env:BUCKET}",
      context: { "s3:prefix": "${env:PREFIX}dt=2026-01-01/", "aws:SecureTransport": "true" },
      why: "lists a partition before replacing it",
    },
    {
      action: "s3:GetObject",
      resource: "arn:aws:s3:::${env:BUCKET}/${env:PREFIX}current/dt=2026-01-01/symlink.txt",
      context: { "aws:SecureTransport": "true" },
      why: "reads the published run's size before replacing it (docs/saas-export-publishing.md)",
    },
    {
      action: "logs:PutLogEvents",
      resource: "arn:aws:logs:${region}:${account}:log-group:${logGroup}:log-stream:2026/01/01/[$LATEST]0",
      why: "writes its logs",
    },
  ],
  mustDeny: [
    {
      action: "s3:PutObject",
      resource: "arn:aws:s3:::${env:BUCKET}/other/dt=2026-01-01/x.ndjson",
      context: { "aws:SecureTransport": "true" },
      why: "another prefix of the bucket",
    },
    {
      action: "s3:ListBucket",
      resource: "arn:aws:s3:::${env:BUCKET}",
      context: { "s3:prefix": "other/", "aws:SecureTransport": "true" },
      why: "listing another prefix",
    },
    {
      action: "s3:PutObject",
      resource: "arn:aws:s3:::${env:BUCKET}/${env:PREFIX}x",
      context: { "aws:SecureTransport": "false" },
      why: "plain HTTP is refused by the bucket policy",
    },
    {
      action: "s3:GetObject",
      resource: "arn:aws:s3:::${env:BUCKET}/other/x",
      context: { "aws:SecureTransport": "true" },
      why: "it reads back only under its own prefix",
    },
    {
      action: "secretsmanager:GetSecretValue",
      resource: "arn:aws:secretsmanager:${region}:${account}:secret:another-secret-AbCdEf",
      why: "another secret of the account",
    },
    { action: "iam:PassRole", resource: "arn:aws:iam::${account}:role/any-role", why: "no privilege escalation" },
  ],
};
