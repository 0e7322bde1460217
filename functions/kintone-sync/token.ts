/**
 * The kintone API token's format, apart from reading it (./secret.ts): the stack's config checks read this too, and
 * importing it must not load the Secrets Manager client into `npm run synth|check`.
 */
import { jsonObject } from "../shared/secrets";
import { SyncError } from "./errors";

/** kintone accepts up to 9 comma-separated tokens in X-Cybozu-API-Token (one per app touched). */
const MAX_TOKENS = 9;

/**
 * The SecretString is the token itself, several tokens separated by commas, or JSON `{"apiToken": "..."}` (the
 * console's key/value form). Messages never repeat the value.
 */
export function parseTokenSecret(secretString: string, secretId: string): string {
  let text = secretString.trim();
  if (text.startsWith("{")) {
    const apiToken = jsonObject(text)?.apiToken;
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
