import * as fs from "fs";
import * as YAML from "yaml";

export const SECRET_VALUE_PLACEHOLDER = "synth-placeholder-secret";

export interface StackConfigFile {
  /** PULUMI_CONFIG map: `project:key` → value (objects as JSON text, as the Pulumi engine passes them). */
  config: Record<string, string>;
  /** Keys whose value is (or contains) a `secure:` value. */
  secretKeys: string[];
}

/**
 * Reads `Pulumi.<stack>.yaml` the way the engine would hand it to the program. `secure:` values
 * cannot be decrypted offline: they become a placeholder and their keys are marked secret, so the
 * program sees them as present-but-secret, never as missing.
 */
export function readStackConfig(file: string): StackConfigFile {
  if (!fs.existsSync(file)) throw new Error(`config file ${file} not found: create it or pass --config <file>`);
  const doc = YAML.parse(fs.readFileSync(file, "utf8")) ?? {};
  const raw = doc.config ?? {};
  if (typeof raw !== "object" || Array.isArray(raw)) throw new Error(`${file}: "config" must be a map of keys to values`);
  const config: Record<string, string> = {};
  const secretKeys: string[] = [];
  for (const [key, value] of Object.entries(raw)) {
    let secret = false;
    const replace = (v: unknown): unknown => {
      if (v && typeof v === "object" && !Array.isArray(v)) {
        const o = v as Record<string, unknown>;
        if (Object.keys(o).length === 1 && typeof o.secure === "string") {
          secret = true;
          return SECRET_VALUE_PLACEHOLDER;
        }
        return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, replace(x)]));
      }
      if (Array.isArray(v)) return v.map(replace);
      return v;
    };
    const plain = replace(value);
    config[key] = typeof plain === "string" ? plain : JSON.stringify(plain);
    if (secret) secretKeys.push(key);
  }
  return { config, secretKeys };
}
