/**
 * The AWS calls every handler that uses the data account's database makes (read by the offline check,
 * never bundled): the database secret in the data account, decrypted with that account's key through
 * Secrets Manager, and, in Data API mode, the Data API on its cluster. And what its role must refuse,
 * above all anything else in the data account. Templates: see ops/check/iam/calls.ts.
 */
import type { FunctionAwsCalls } from "../../../ops/check/iam/calls";

const VIA_SM = { "kms:ViaService": "secretsmanager.${region}.amazonaws.com" };

/**
 * The calls of a handler that reaches the data account's database: `functionName` names it and
 * `transactionWhy` says what its Data API transaction wraps.
 */
export function dbClientAwsCalls(functionName: string, transactionWhy: string): FunctionAwsCalls {
  return {
    functionName,
    calls: [
      {
        action: "secretsmanager:GetSecretValue",
        resource: "${env:DB_SECRET_ARN}",
        why: "reads the database credentials (functions/shared/db/credentials.ts)",
      },
      {
        action: "kms:Decrypt",
        resource: "${keyOf:DB_SECRET_ARN}",
        context: VIA_SM,
        why: "Secrets Manager decrypts the secret with the data account's key on the caller's behalf",
      },
      {
        action: "rds-data:ExecuteStatement",
        resource: "${env:DB_CLUSTER_ARN}",
        when: { env: "DB_ACCESS", equals: "data-api" },
        why: "runs SQL through the Data API",
      },
      {
        action: "rds-data:BeginTransaction",
        resource: "${env:DB_CLUSTER_ARN}",
        when: { env: "DB_ACCESS", equals: "data-api" },
        why: transactionWhy,
      },
      {
        action: "logs:PutLogEvents",
        resource: "arn:aws:logs:${region}:${account}:log-group:${logGroup}:log-stream:2026/01/01/[$LATEST]0",
        why: "writes its logs",
      },
    ],
    mustDeny: [
      {
        action: "kms:Decrypt",
        resource: "${keyOf:DB_SECRET_ARN}",
        why: "decrypting directly, not through Secrets Manager",
      },
      { action: "kms:Encrypt", resource: "${keyOf:DB_SECRET_ARN}", context: VIA_SM, why: "only Decrypt is needed" },
      {
        action: "secretsmanager:GetSecretValue",
        resource: "arn:aws:secretsmanager:${region}:${accountOf:DB_SECRET_ARN}:secret:another-secret-AbCdEf",
        why: "another secret in the data account",
      },
      {
        action: "secretsmanager:PutSecretValue",
        resource: "${env:DB_SECRET_ARN}",
        why: "the credentials are read-only for it",
      },
      {
        action: "rds:DeleteDBCluster",
        resource: "arn:aws:rds:${region}:${accountOf:DB_SECRET_ARN}:cluster:any",
        why: "anything else in the data account",
      },
      { action: "iam:PassRole", resource: "arn:aws:iam::${account}:role/any-role", why: "no privilege escalation" },
    ],
  };
}
