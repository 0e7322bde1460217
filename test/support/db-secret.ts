/**
 * The statements the kit writes around an Aurora master secret shared with another account (docs/database.md):
 * the KMS key that encrypts it and the secret's resource policy. The Aurora component test and the dev stack
 * test expect the same documents for their own owner, reader accounts and reader roles.
 */
export interface SecretSharing {
  /** The account that owns the database, the key and the secret. */
  owner: string;
  /** The reader roles' accounts, as the key and the secret policy name them. */
  readerAccounts: string[];
  /** The reader roles' ARNs, the only principals let through. */
  readers: string[];
  region?: string;
}

/** The key policy: the owner administers the key; readers decrypt only through Secrets Manager. */
export function secretKeyStatements(s: SecretSharing): unknown[] {
  return [
    {
      Sid: "OwnerAccount",
      Effect: "Allow",
      Principal: { AWS: `arn:aws:iam::${s.owner}:root` },
      Action: "kms:*",
      Resource: "*",
    },
    {
      Sid: "ReadersDecryptThroughSecretsManager",
      Effect: "Allow",
      Principal: { AWS: s.readerAccounts.map((a) => `arn:aws:iam::${a}:root`) },
      Action: "kms:Decrypt",
      Resource: "*",
      Condition: {
        StringEquals: { "kms:ViaService": `secretsmanager.${s.region ?? "ap-northeast-1"}.amazonaws.com` },
        ArnEquals: { "aws:PrincipalArn": s.readers },
      },
    },
  ];
}

/** The secret's resource policy: GetSecretValue for the reader roles, nobody else. */
export function secretPolicyStatements(s: SecretSharing): unknown[] {
  return [
    {
      Sid: "CrossAccountReaders",
      Effect: "Allow",
      Principal: { AWS: s.readerAccounts.map((a) => `arn:aws:iam::${a}:root`) },
      Action: "secretsmanager:GetSecretValue",
      Resource: "*",
      Condition: { ArnEquals: { "aws:PrincipalArn": s.readers } },
    },
  ];
}

/** The ARN of a KMS key of `account` by its id (the mocks' key id). */
export function kmsKeyArn(account: string, keyId: string, region = "ap-northeast-1"): string {
  return `arn:aws:kms:${region}:${account}:key/${keyId}`;
}
