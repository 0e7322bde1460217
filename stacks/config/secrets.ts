import * as pulumi from "@pulumi/pulumi";
import { ConfigError } from "../../components/errors";
import { HEADER_VALUE_MAX } from "../../components/squid-conf";
import { parseTokenSecret } from "../../functions/kintone-sync/token";

/**
 * The shape each secret key must have, checked on a plain value before anything is registered (only
 * with allowPlainSecrets, for local experiments) and again on the decrypted value where the program
 * reads it. Problems name the position and kind, never the value.
 */
export function secretShapeProblem(key: string, value: unknown): string | undefined {
  if (typeof value !== "string") return `must be a string (got ${value === null ? "null" : typeof value})`;
  if (value.length === 0) return "is empty";
  const control = [...value].findIndex((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f);
  switch (key) {
    case "proxyHeaderValue": {
      // Squid matches the header with one whitespace-delimited acl token (components/squid-conf.ts).
      if (value.length < 16 || value.length > HEADER_VALUE_MAX)
        return `is ${value.length} characters long; use 16 to ${HEADER_VALUE_MAX}`;
      const bad = [...value].findIndex((c) => c.charCodeAt(0) < 0x21 || c.charCodeAt(0) > 0x7e);
      if (bad >= 0)
        return `contains ${value[bad] === " " ? "a space" : "a character outside visible ASCII"} at position ${bad}; Squid and HTTP cannot match it exactly`;
      return undefined;
    }
    case "kintoneApiToken":
      try {
        parseTokenSecret(value, "kintoneApiToken");
        return undefined;
      } catch {
        return "is not a kintone API token (letters and digits as shown in the app's Settings > API Token, or several separated by commas)";
      }
    default:
      // Sent in an HTTP header (saasApiToken) or a PostgreSQL login (appflowDbPassword); Secrets Manager holds at most 65536 bytes.
      if (control >= 0) return `contains a control character at position ${control}`;
      if (Buffer.byteLength(value) > 65536) return "is longer than Secrets Manager's 65536 bytes";
      return undefined;
  }
}

/** What ops/stack-config.ts substitutes for a `secure:` value offline; it has no shape to check. */
const OFFLINE_PLACEHOLDER = "synth-placeholder-secret";

/**
 * A secret key's value as a secret Output, shape-checked where the decrypted value arrives (a
 * `secure:` value cannot be read before): a wrong shape fails with the key and the fix, without the value.
 */
export function checkedSecret(project: string, key: string, fix: string): pulumi.Output<string> {
  return new pulumi.Config(project).requireSecret(key).apply((v) => {
    const problem = v === OFFLINE_PLACEHOLDER ? undefined : secretShapeProblem(key, v);
    if (problem) throw new ConfigError(`${project}:${key}`, `the decrypted value ${problem}`, fix);
    return v;
  });
}
