/**
 * The kintone API token, read from Secrets Manager once per cold start and kept for warm invocations. A failed read
 * is not kept (the next invocation tries again), and `forgetApiToken()` drops a token kintone rejected, so a token
 * fixed in the secret is picked up without waiting for a new container. The token is never logged.
 */
import { getSecretString, ReadCache, secretFailure } from "../shared/secrets";
import { SyncError } from "./errors";
import { parseTokenSecret } from "./token";

export { parseTokenSecret };

const cache = new ReadCache<string>();

export function getApiToken(secretId: string): Promise<string> {
  return cache.get(secretId, () => readToken(secretId));
}

export function forgetApiToken(): void {
  cache.forget();
}

async function readToken(secretId: string): Promise<string> {
  let secretString: string | undefined;
  try {
    secretString = await getSecretString(secretId);
  } catch (err) {
    throw secretReadError(err, secretId);
  }
  if (secretString === undefined) {
    throw new SyncError(
      "secret",
      `Secrets Manager secret "${secretId}" (KINTONE_TOKEN_SECRET_ID) has no SecretString: store the kintone API token as the secret's plaintext value.`,
    );
  }
  return parseTokenSecret(secretString, secretId);
}

function secretReadError(err: unknown, secretId: string): SyncError {
  const { kind, detail } = secretFailure(err);
  if (kind === "notFound") {
    return new SyncError(
      "secret",
      `Secrets Manager secret "${secretId}" was not found (${detail}). Create it with the kintone API token as its SecretString, or point KINTONE_TOKEN_SECRET_ID at the right secret name or ARN.`,
    );
  }
  if (kind === "accessDenied") {
    return new SyncError(
      "secret",
      `the function's role may not read Secrets Manager secret "${secretId}" (${detail}). Allow secretsmanager:GetSecretValue on it (and kms:Decrypt if it uses a customer managed key).`,
    );
  }
  if (kind === "unreachable") {
    return new SyncError(
      "secret",
      `could not reach Secrets Manager to read secret "${secretId}" (${detail}). A function in a VPC needs a route to it: ` +
        `a secretsmanager interface endpoint with private DNS (its security group allowing 443 from the function) or a NAT gateway route.`,
    );
  }
  return new SyncError(
    "secret",
    `could not read Secrets Manager secret "${secretId}" (KINTONE_TOKEN_SECRET_ID): ${detail}.`,
  );
}
