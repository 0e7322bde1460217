/**
 * Database credentials from Secrets Manager: the secret RDS manages for the cluster's master user (or any secret of
 * that shape), SecretString = JSON `{"username": "...", "password": "..."}`. Read once per cold start and kept for
 * warm invocations; a failed read is not kept, and `invalidate()` (called when the database refuses the password,
 * e.g. after RDS rotated it) makes the next connect read it again. Values never reach logs or error messages.
 *
 * The secret usually lives in the database's account (B) and region: the client's region is DB_SECRET_REGION, else
 * the region in the secret's ARN, else the function's. A test points the SDK at a local fake with
 * AWS_ENDPOINT_URL_SECRETS_MANAGER, which the SDK reads itself.
 */
import { getSecretString, jsonObject, secretFailure } from "../secrets";
import { DbError } from "./errors";
import type { CredentialsSource, PgCredentials } from "./pg";

/** The region in `arn:aws:secretsmanager:<region>:<account>:secret:<name>`, if `id` is such an ARN. */
export function regionOfArn(id: string): string | undefined {
  const m = /^arn:aws[a-z-]*:[a-z-]+:([a-z0-9-]+):\d{12}:/.exec(id);
  return m?.[1];
}

export class SecretCredentials implements CredentialsSource {
  private cached: Promise<PgCredentials> | undefined;
  /** Secrets Manager reads made (tests: one per cold start). */
  reads = 0;

  constructor(
    readonly secretId: string,
    private readonly region?: string,
    /** The variable that named the secret, for messages. */
    private readonly variable = "DB_SECRET_ARN",
  ) {}

  get(): Promise<PgCredentials> {
    if (this.cached) return this.cached;
    const p = this.read();
    this.cached = p;
    p.catch(() => {
      if (this.cached === p) this.cached = undefined;
    });
    return p;
  }

  invalidate(): void {
    this.cached = undefined;
  }

  private async read(): Promise<PgCredentials> {
    this.reads++;
    const region = this.region ?? regionOfArn(this.secretId);
    let secretString: string | undefined;
    try {
      secretString = await getSecretString(this.secretId, { region, connectionTimeoutMs: 3_000 });
    } catch (err) {
      throw secretReadError(err, this.secretId, this.variable);
    }
    return parseCredentials(secretString, this.secretId, this.variable);
  }
}

export function parseCredentials(
  secretString: string | undefined,
  secretId: string,
  variable = "DB_SECRET_ARN",
): PgCredentials {
  const shape = `must hold JSON {"username": "...", "password": "..."} (the form RDS uses for the cluster's managed master secret)`;
  if (secretString === undefined)
    throw new DbError("secret", `Secrets Manager secret "${secretId}" (${variable}) has no SecretString: it ${shape}`);
  const parsed = jsonObject(secretString);
  const username = parsed?.username;
  const password = parsed?.password;
  if (typeof username !== "string" || username === "" || typeof password !== "string" || password === "") {
    throw new DbError(
      "secret",
      `Secrets Manager secret "${secretId}" (${variable}) ${shape}; it has no non-empty string "username" and "password"`,
    );
  }
  return { user: username, password };
}

function secretReadError(err: unknown, secretId: string, variable: string): DbError {
  const { kind, name, detail } = secretFailure(err);
  if (kind === "notFound") {
    return new DbError(
      "secret",
      `Secrets Manager secret "${secretId}" was not found (${detail}): point ${variable} at the cluster's credentials secret (its full ARN when it is in another account)`,
      name,
    );
  }
  if (kind === "accessDenied") {
    return new DbError(
      "secret",
      `the function's role may not read Secrets Manager secret "${secretId}" (${variable}; ${detail}): allow secretsmanager:GetSecretValue on it and kms:Decrypt on its key; ` +
        "a secret in another account also needs a resource policy naming this role and a customer managed KMS key (the default aws/secretsmanager key cannot be shared)",
      name,
    );
  }
  if (kind === "unreachable") {
    return new DbError(
      "secret",
      `could not reach Secrets Manager to read secret "${secretId}" (${variable}; ${detail}): a function in a VPC needs a secretsmanager interface endpoint ` +
        "with private DNS (its security group allowing 443 from this function) or a NAT route, and egress 443 to it",
      name,
    );
  }
  return new DbError("secret", `could not read Secrets Manager secret "${secretId}" (${variable}): ${detail}`, name);
}
