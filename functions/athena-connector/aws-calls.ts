/**
 * The AWS calls the Athena connector makes (read by the offline check, never bundled): the proxy header
 * and SaaS credential secrets, spilled result blocks under its spill prefix, its logs. And what its role
 * must refuse. Templates: see ops/check/iam/calls.ts. The function is the AthenaFederatedCatalog's
 * `<name>-connector` VpcFunction (athena-connector-connector in the repository's stacks).
 */
import type { FunctionAwsCalls } from "../../ops/check/iam/calls";

const TLS = { "aws:SecureTransport": "true" };

export const awsCalls: FunctionAwsCalls = {
  functionName: "athena-connector-connector",
  calls: [
    {
      action: "secretsmanager:GetSecretValue",
      resource: "${env:PROXY_HEADER_SECRET_ID}",
      why: "reads the proxy header value (../saas-export/secrets.ts)",
    },
    {
      action: "secretsmanager:GetSecretValue",
      resource: "${env:SAAS_AUTH_SECRET_ID}",
      why: "reads the SaaS credential (../saas-export/secrets.ts)",
    },
    {
      action: "s3:PutObject",
      resource: "arn:aws:s3:::${env:SPILL_BUCKET}/${env:SPILL_PREFIX}q-1/0b0e6c1e-0000-4000-8000-000000000000.0",
      context: TLS,
      why: "spills a result block too large for the response (./spill.ts)",
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
      resource: "arn:aws:s3:::${env:SPILL_BUCKET}/other/x",
      context: TLS,
      why: "another prefix of the spill bucket",
    },
    {
      action: "s3:GetObject",
      resource: "arn:aws:s3:::${env:SPILL_BUCKET}/${env:SPILL_PREFIX}q-1/x.0",
      context: TLS,
      why: "Athena reads the spill, the connector only writes it",
    },
    {
      action: "secretsmanager:GetSecretValue",
      resource: "arn:aws:secretsmanager:${region}:${account}:secret:another-secret-AbCdEf",
      why: "another secret of the account",
    },
    { action: "iam:PassRole", resource: "arn:aws:iam::${account}:role/any-role", why: "no privilege escalation" },
  ],
};
