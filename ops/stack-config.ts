import * as fs from "fs";
import * as YAML from "yaml";
import { ConfigError, throwIfAny } from "../components/errors";

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
 * program sees them as present-but-secret, never as missing. A file the engine would refuse (YAML
 * syntax, tabs, duplicate keys, `config` not a map, a `secure:` that is not a string) throws
 * ConfigError(s) naming file:line:column and the fix, every problem at once.
 */
export function readStackConfig(file: string): StackConfigFile {
  if (!fs.existsSync(file)) throw new Error(`config file ${file} not found: create it or pass --config <file>`);
  const text = fs.readFileSync(file, "utf8");
  const lines = new YAML.LineCounter();
  const doc = YAML.parseDocument(text, { uniqueKeys: true, prettyErrors: false, lineCounter: lines });
  const at = (offset: number | undefined) => {
    const p = lines.linePos(offset ?? 0);
    return `${file}:${p.line}:${p.col}`;
  };
  const errors: ConfigError[] = doc.errors.map((e) => new ConfigError(at(e.pos[0]), yamlProblem(e), yamlFix(e)));
  throwIfAny(errors);
  const root = doc.contents;
  if (root !== null && !YAML.isMap(root))
    throw new ConfigError(
      at(root.range?.[0]),
      "the file is not a map of top-level keys",
      "start the file with config: and the keys below it, as in Pulumi.dev.yaml",
    );
  const node = YAML.isMap(root) ? root.get("config", true) : undefined;
  if (node !== undefined && node !== null && !YAML.isMap(node)) {
    const n = node as YAML.Node;
    throw new ConfigError(
      at(n.range?.[0]),
      '"config" must be a map of keys to values',
      "indent each key under config: as key: value (e.g.   vpc-lambda-kit:environment: dev)",
    );
  }
  const secretKeys: string[] = [];
  const config: Record<string, string> = {};
  if (!node) return { config, secretKeys };
  for (const pair of (node as YAML.YAMLMap).items) {
    const key = String(YAML.isScalar(pair.key) ? pair.key.value : pair.key);
    let secret = false;
    const replace = (v: unknown): unknown => {
      if (YAML.isMap(v)) {
        if (v.items.length === 1 && YAML.isScalar(v.items[0].key) && v.items[0].key.value === "secure") {
          const s = v.items[0].value;
          if (!YAML.isScalar(s) || typeof s.value !== "string" || s.value === "") {
            errors.push(
              new ConfigError(
                at((s as YAML.Node | null)?.range?.[0] ?? v.range?.[0]),
                `${key}: a secure: value must be the encrypted text pulumi config set --secret wrote`,
                `run pulumi config set --secret ${key} <value> instead of editing the file`,
              ),
            );
            return undefined;
          }
          secret = true;
          return SECRET_VALUE_PLACEHOLDER;
        }
        return Object.fromEntries(
          v.items.map((p) => [String(YAML.isScalar(p.key) ? p.key.value : p.key), replace(p.value)]),
        );
      }
      if (YAML.isSeq(v)) return v.items.map(replace);
      if (YAML.isScalar(v)) return v.value;
      return v ?? null;
    };
    const plain = replace(pair.value);
    config[key] = typeof plain === "string" ? plain : JSON.stringify(plain);
    if (secret) secretKeys.push(key);
  }
  throwIfAny(errors);
  return { config, secretKeys };
}

function yamlProblem(e: YAML.YAMLError): string {
  const first = e.message.split("\n")[0].replace(/ at line \d+, column \d+:?$/, "");
  if (e.code === "DUPLICATE_KEY") return `a key is given twice (${first})`;
  if (e.code === "TAB_AS_INDENT") return "indented with a tab; YAML indents with spaces only";
  return `YAML syntax: ${first}`;
}

function yamlFix(e: YAML.YAMLError): string {
  if (e.code === "DUPLICATE_KEY") return "keep one of the two entries (the engine refuses a file with both)";
  if (e.code === "TAB_AS_INDENT") return "replace the tab with spaces";
  return "fix the YAML at that line (check indentation, colons and quotes)";
}
