/**
 * The kintone API token, read from Secrets Manager once per cold start and kept for warm invocations. A failed read
 * is not kept (the next invocation tries again), and `forgetApiToken()` drops a token kintone rejected, so a token
 * fixed in the secret is picked up without waiting for a new container. The token is never logged.
 */
import { getSecretString, ReadCache, secretFailure } from "../shared/secrets";
import { SyncError } from "./errors";

/** kintone accepts up to 9 comma-separated tokens in X-Cybozu-API-Token (one per app touched). */
const MAX_TOKENS = 9;

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

/**
 * The SecretString is the token itself, several tokens separated by commas, or JSON `{"apiToken": "..."}` (the
 * console's key/value form). Messages never repeat the value.
 */
export function parseTokenSecret(secretString: string, secretId: string): string {
  let text = secretString.trim();
  if (text.startsWith("{")) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    const apiToken = (parsed as { apiToken?: unknown } | undefined)?.apiToken;
    if (typeof apiToken !== "string") {
      throw new SyncError(
        "secret",
        `Secrets Manager secret "${secretId}" holds JSON without a string "apiToken" key: store the kintone API token as plain text, or as {"apiToken": "<token>"}.`,
      );
    }
    text = apiToken.trim();
  }
  const tokens = text
    .split(",")
    .map((t) => t.trim())
    .filter((t) => t.length > 0);
  if (tokens.length === 0 || tokens.length > MAX_TOKENS || tokens.some((t) => !/^[A-Za-z0-9]+$/.test(t))) {
    throw new SyncError(
      "secret",
      `Secrets Manager secret "${secretId}" does not hold a kintone API token: its SecretString must be the token ` +
        `(letters and digits, as shown in the app's Settings > API Token), or up to ${MAX_TOKENS} tokens separated by commas.`,
    );
  }
  return tokens.join(",");
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
