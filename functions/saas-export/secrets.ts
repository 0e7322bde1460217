/**
 * The two secrets, read from Secrets Manager once per cold start and kept for warm invocations:
 * - PROXY_HEADER_SECRET_ID: SecretString = the exact value Squid expects in the PROXY_HEADER_NAME header.
 * - SAAS_AUTH_SECRET_ID (optional): the SaaS credential, in one of two forms:
 *     a plain string            → sent as `Authorization: Bearer <string>`
 *     {"header": "X-Api-Key", "value": "<key>"}
 *                               → sent as `<header>: <value>` (use {"header": "Authorization", "value": "Basic …"}
 *                                 for any other Authorization scheme)
 * A failed read is not kept, and `forgetSecret(id)` drops a value the proxy or the SaaS refused, so a rotated secret
 * is picked up by the next invocation without waiting for a new container. Values are never logged and error
 * messages never repeat them.
 */
import { getSecretString, jsonObject, ReadCache, secretFailure } from "../shared/secrets";
import { ExportError } from "./errors";

export interface HeaderCredential {
  name: string;
  value: string;
}

const cache = new ReadCache<string>();

function readCached(secretId: string, variable: string): Promise<string> {
  return cache.get(secretId, () => readSecretString(secretId, variable));
}

export function forgetSecret(secretId: string | undefined): void {
  if (secretId) cache.forget(secretId);
}

export async function getProxyHeaderValue(secretId: string): Promise<string> {
  const raw = await readCached(secretId, "PROXY_HEADER_SECRET_ID");
  const value = raw.trim();
  if (!/^[\x21-\x7e]{1,512}$/.test(value)) {
    throw new ExportError(
      "secret",
      `Secrets Manager secret "${secretId}" (PROXY_HEADER_SECRET_ID) must hold the proxy header value as plain text: 1 to 512 visible ASCII ` +
        "characters without spaces, exactly as the proxy tier's squid.conf expects it.",
    );
  }
  return value;
}

export async function getSaasCredential(secretId: string): Promise<HeaderCredential> {
  return parseAuthSecret(await readCached(secretId, "SAAS_AUTH_SECRET_ID"), secretId);
}

export function parseAuthSecret(secretString: string, secretId: string): HeaderCredential {
  const text = secretString.trim();
  const shape = `must hold the SaaS credential either as a plain bearer token or as JSON {"header": "X-Api-Key", "value": "<key>"}`;
  if (text.startsWith("{")) {
    const parsed = jsonObject(text);
    const header = parsed?.header;
    const value = typeof parsed?.value === "string" ? parsed.value.trim() : undefined;
    if (
      typeof header !== "string" ||
      !/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(header) ||
      value === undefined ||
      !/^[\x20-\x7e]+$/.test(value)
    ) {
      throw new ExportError(
        "secret",
        `Secrets Manager secret "${secretId}" (SAAS_AUTH_SECRET_ID) ${shape}; its JSON has no valid string "header" and "value".`,
      );
    }
    if (["host", "connection", "content-length", "transfer-encoding"].includes(header.toLowerCase())) {
      throw new ExportError(
        "secret",
        `Secrets Manager secret "${secretId}" (SAAS_AUTH_SECRET_ID) names header "${header}", which cannot carry a credential.`,
      );
    }
    return { name: header, value };
  }
  if (!/^[\x21-\x7e]+$/.test(text)) {
    throw new ExportError(
      "secret",
      `Secrets Manager secret "${secretId}" (SAAS_AUTH_SECRET_ID) ${shape}; a plain token must be visible ASCII without spaces.`,
    );
  }
  return { name: "Authorization", value: `Bearer ${text}` };
}

async function readSecretString(secretId: string, variable: string): Promise<string> {
  let secretString: string | undefined;
  try {
    secretString = await getSecretString(secretId);
  } catch (err) {
    throw secretReadError(err, secretId, variable);
  }
  if (secretString === undefined) {
    throw new ExportError(
      "secret",
      `Secrets Manager secret "${secretId}" (${variable}) has no SecretString: store the value as the secret's plaintext.`,
    );
  }
  return secretString;
}

function secretReadError(err: unknown, secretId: string, variable: string): ExportError {
  const { kind, detail } = secretFailure(err);
  if (kind === "notFound") {
    return new ExportError(
      "secret",
      `Secrets Manager secret "${secretId}" was not found (${detail}): create it, or point ${variable} at the right secret name or ARN.`,
    );
  }
  if (kind === "accessDenied") {
    return new ExportError(
      "secret",
      `the function's role may not read Secrets Manager secret "${secretId}" (${variable}; ${detail}): allow secretsmanager:GetSecretValue on it (and kms:Decrypt if it uses a customer managed key).`,
    );
  }
  if (kind === "unreachable") {
    return new ExportError(
      "secret",
      `could not reach Secrets Manager to read secret "${secretId}" (${variable}; ${detail}). A function in a VPC needs a route to it: a secretsmanager ` +
        "interface endpoint with private DNS whose security group allows 443 from the function (and the function's security group allowing 443 out to it), or a NAT route.",
    );
  }
  return new ExportError("secret", `could not read Secrets Manager secret "${secretId}" (${variable}): ${detail}.`);
}
