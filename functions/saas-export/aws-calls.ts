/**
 * The AWS calls saas-export makes (read by the offline check, never bundled): two secrets, writes and
 * deletes under its prefix, reading back the date's published symlink file, a prefix-limited listing. And
 * what its role must refuse.
 * Templates: see ops/check/iam/calls.ts.
 */
import type { DeclaredCall, FunctionAwsCalls } from "../../ops/check/iam/calls";

/** A request on the export bucket (`path` after the bucket name), over TLS unless `context` says otherwise. */
function s3(action: string, path: string, why: string, context: Record<string, string> = {}): DeclaredCall {
  return {
    action,
    resource: "arn:aws:s3:::${env:BUCKET}" + path,
    context: { "aws:SecureTransport": "true", ...context },
    why,
  };
}

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
    s3("s3:PutObject", "/${env:PREFIX}dt=2026-01-01/part-00000.ndjson", "writes a partition (./s3-store.ts)"),
    s3("s3:DeleteObject", "/${env:PREFIX}dt=2026-01-01/_SUCCESS", "replaces a partition (DeleteObject/DeleteObjects)"),
    s3("s3:ListBucket", "", "lists a partition before replacing it", { "s3:prefix": "${env:PREFIX}dt=2026-01-01/" }),
    s3(
      "s3:GetObject",
      "/${env:PREFIX}current/dt=2026-01-01/symlink.txt",
      "reads the published run's size before replacing it (docs/saas-export-publishing.md)",
    ),
    {
      action: "logs:PutLogEvents",
      resource: "arn:aws:logs:${region}:${account}:log-group:${logGroup}:log-stream:2026/01/01/[$LATEST]0",
      why: "writes its logs",
    },
  ],
  mustDeny: [
    s3("s3:PutObject", "/other/dt=2026-01-01/x.ndjson", "another prefix of the bucket"),
    s3("s3:ListBucket", "", "listing another prefix", { "s3:prefix": "other/" }),
    s3("s3:PutObject", "/${env:PREFIX}x", "plain HTTP is refused by the bucket policy", {
      "aws:SecureTransport": "false",
    }),
    s3("s3:GetObject", "/other/x", "it reads back only under its own prefix"),
    {
      action: "secretsmanager:GetSecretValue",
      resource: "arn:aws:secretsmanager:${region}:${account}:secret:another-secret-AbCdEf",
      why: "another secret of the account",
    },
    { action: "iam:PassRole", resource: "arn:aws:iam::${account}:role/any-role", why: "no privilege escalation" },
  ],
};
