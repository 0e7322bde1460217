/**
 * The default transform: declarative clean-up rules read from KINTONE_TRANSFORM_OPTIONS, e.g.
 *
 *   {"rules": [
 *     {"op": "collapseWhitespace", "fields": ["company", "contact"]},
 *     {"op": "halfWidth", "fields": ["customerNo", "tel"]},
 *     {"op": "zeroPad", "fields": ["customerNo"], "length": 8},
 *     {"op": "normalizePhone", "fields": ["tel"], "format": "e164", "countryCode": "81"},
 *     {"op": "normalizeDate", "fields": ["contractDate"]},
 *     {"op": "concat", "from": ["lastName", "firstName"], "to": "fullName", "separator": " "},
 *     {"op": "setConstant", "field": "source", "value": "kintone-sync", "onlyIfEmpty": true}
 *   ]}
 *
 * Rules run in order on a working copy, so a later rule sees an earlier one's result. Every rule is idempotent, so
 * a second run over the output changes nothing. Text rules touch string values only (multi-choice, user and table
 * fields are left alone) and leave empty values empty. Replace this module with your own through
 * `kintoneSyncBundleOptions("<your file>")`; see `TransformModule` in ./types.
 */
import type { KintoneRecord, RecordUpdate } from "./types";

/** The rules (one per `op`); text rules take `fields`, a non-empty list of field codes. */
export type TransformRule =
  /**
   * trim: removes leading and trailing whitespace (including the ideographic space U+3000).
   * collapseWhitespace: trims, then turns every run of whitespace (tabs, newlines, U+3000 included) into one space.
   * halfWidth: Unicode NFKC: full-width letters, digits and symbols become ASCII; half-width katakana full-width.
   * normalizeDate: rewrites a date as kintone's YYYY-MM-DD. Accepts 2024/1/5, 2024.01.05, 2024-1-5, 20240105 and
   * 2024年1月5日 (full-width digits too); values that are not a valid calendar date are left alone.
   */
  | { op: "trim" | "collapseWhitespace" | "upperCase" | "lowerCase" | "halfWidth" | "normalizeDate"; fields: string[] }
  /** Left-pads an all-digit value with zeros to `length` digits ("42" -> "00000042"); other values are left alone. */
  | { op: "zeroPad"; fields: string[]; length: number }
  /** Copies `from`'s value into `to` (both must be of compatible types); with onlyIfEmpty, only into an empty `to`. */
  | { op: "copy"; from: string; to: string; onlyIfEmpty: boolean }
  /** Sets `field` to `value` (a string, or a list for check boxes / multi-choice); with onlyIfEmpty, only when empty. */
  | { op: "setConstant"; field: string; value: string | string[]; onlyIfEmpty: boolean }
  /** Joins the text of `from` fields into `to`, with `separator` (default " "), skipping empty parts. */
  | { op: "concat"; from: string[]; to: string; separator: string }
  /**
   * "digits": keeps only the digits (and a leading +): "03-1234-5678" -> "0312345678".
   * "e164": "+<countryCode><number>": a leading trunk 0 is dropped, "00" becomes "+": "03-1234-5678" -> "+81312345678".
   * Values with letters (e.g. "ext. 12") are left alone.
   */
  | { op: "normalizePhone"; fields: string[]; format: "digits" | "e164"; countryCode?: string };

export interface TransformOptions {
  rules: TransformRule[];
}

const EXAMPLE = `{"rules":[{"op":"trim","fields":["name"]}]}`;

/**
 * Validates KINTONE_TRANSFORM_OPTIONS (already JSON-parsed) and returns them with field codes trimmed and defaults
 * filled in. Every problem is reported at once, each with its path ("rules.2.length: …"). Plain checks rather than a
 * schema library: building schemas at import was a third of the bundle's cold init (README "Benchmarks"); the
 * messages are the ones the kit's zod schemas gave, which test/handlers/kintone-sync.test.ts pins.
 */
export function parseOptions(raw: unknown): TransformOptions {
  if (raw === undefined) {
    throw new Error(`the default transform needs rules; set it to JSON such as ${EXAMPLE}`);
  }
  const issues: Issue[] = [];
  const parsed = readOptions(raw, issues);
  if (issues.length > 0) {
    const problems = issues.map((i) => `${i.path.length ? i.path.join(".") : "(top level)"}: ${i.message}`);
    throw new Error(`${problems.join("; ")} (expected JSON such as ${EXAMPLE})`);
  }
  return parsed as TransformOptions;
}

interface Issue {
  path: (string | number)[];
  message: string;
  /** A wrong type: the rule-level check (e164 needs countryCode) is skipped after one. */
  type?: boolean;
}

const OPS = [
  "trim",
  "collapseWhitespace",
  "upperCase",
  "lowerCase",
  "halfWidth",
  "zeroPad",
  "copy",
  "setConstant",
  "concat",
  "normalizeDate",
  "normalizePhone",
] as const;

/** A reader checks one value at `path`, records its problems and returns the value to keep. */
type Reader = (v: unknown, path: (string | number)[], issues: Issue[]) => unknown;

function typeName(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "number" && !Number.isFinite(v)) return Number.isNaN(v) ? "NaN" : "Infinity";
  return typeof v;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function wrongType(expected: string, v: unknown, path: (string | number)[], issues: Issue[]): void {
  issues.push({ path, message: `Invalid input: expected ${expected}, received ${typeName(v)}`, type: true });
}

/** Minimum-length checks apply to whatever has a length, even a value of the wrong type (zod's `when`). */
function tooShort(v: unknown, min: number): boolean {
  const length = (v as { length?: unknown } | null | undefined)?.length;
  return typeof length === "number" && length < min;
}

const text: Reader = (v, path, issues) => {
  if (typeof v !== "string") wrongType("string", v, path, issues);
  return v;
};

const fieldCode: Reader = (v, path, issues) => {
  const s = typeof v === "string" ? v.trim() : v;
  if (typeof v !== "string") wrongType("string", v, path, issues);
  if (tooShort(s, 1)) issues.push({ path, message: "a field code cannot be empty" });
  return s;
};

const listOf =
  (item: Reader, min: number, tooFew: string): Reader =>
  (v, path, issues) => {
    let out = v;
    if (Array.isArray(v)) out = v.map((x, i) => item(x, [...path, i], issues));
    else wrongType("array", v, path, issues);
    if (tooShort(v, min)) issues.push({ path, message: tooFew });
    return out;
  };

const fieldCodes = listOf(fieldCode, 1, "list at least one field code");

const flag: Reader = (v, path, issues) => {
  if (v === undefined) return false;
  if (typeof v !== "boolean") wrongType("boolean", v, path, issues);
  return v;
};

const padLength: Reader = (v, path, issues) => {
  if (typeof v !== "number" || !Number.isFinite(v)) {
    wrongType("number", v, path, issues);
    return v;
  }
  if (!Number.isInteger(v)) {
    wrongType("int", v, path, issues);
    return v;
  }
  if (v > Number.MAX_SAFE_INTEGER)
    issues.push({ path, message: `Too big: expected int to be <=${Number.MAX_SAFE_INTEGER}` });
  if (v < 1) issues.push({ path, message: "Too small: expected number to be >=1" });
  if (v > 30) issues.push({ path, message: "Too big: expected number to be <=30" });
  return v;
};

const constant: Reader = (v, path, issues) => {
  if (typeof v !== "string" && !(Array.isArray(v) && v.every((x) => typeof x === "string")))
    issues.push({ path, message: "Invalid input", type: true });
  return v;
};

const separator: Reader = (v, path, issues) => (v === undefined ? " " : text(v, path, issues));

const phoneFormat: Reader = (v, path, issues) => {
  if (v !== "digits" && v !== "e164")
    issues.push({ path, message: 'Invalid option: expected one of "digits"|"e164"', type: true });
  return v;
};

const countryCode: Reader = (v, path, issues) => {
  if (typeof v !== "string") wrongType("string", v, path, issues);
  else if (!/^[1-9]\d{0,2}$/.test(v))
    issues.push({ path, message: 'countryCode is the calling code without +, e.g. "81"' });
  return v;
};

/** Each op's keys in order, with their readers; keys marked optional are left out when absent. */
const TEXT_RULE: [string, Reader][] = [["fields", fieldCodes]];
const RULES: Record<(typeof OPS)[number], [key: string, read: Reader, optional?: true][]> = {
  trim: TEXT_RULE,
  collapseWhitespace: TEXT_RULE,
  upperCase: TEXT_RULE,
  lowerCase: TEXT_RULE,
  halfWidth: TEXT_RULE,
  normalizeDate: TEXT_RULE,
  zeroPad: [
    ["fields", fieldCodes],
    ["length", padLength],
  ],
  copy: [
    ["from", fieldCode],
    ["to", fieldCode],
    ["onlyIfEmpty", flag],
  ],
  setConstant: [
    ["field", fieldCode],
    ["value", constant],
    ["onlyIfEmpty", flag],
  ],
  concat: [
    ["from", listOf(fieldCode, 2, "concat needs at least two source fields")],
    ["to", fieldCode],
    ["separator", separator],
  ],
  normalizePhone: [
    ["fields", fieldCodes],
    ["format", phoneFormat],
    ["countryCode", countryCode, true],
  ],
};

/** Reads an object with exactly the given keys (unknown keys are a problem); returns it with the keys' values. */
function readObject(
  v: Record<string, unknown>,
  keys: [key: string, read: Reader, optional?: true][],
  path: (string | number)[],
  issues: Issue[],
  out: Record<string, unknown>,
  alsoKnown: string[] = [],
): Record<string, unknown> {
  for (const [key, read, optional] of keys) {
    if (optional && v[key] === undefined) continue;
    out[key] = read(v[key], [...path, key], issues);
  }
  const unknown = Object.keys(v).filter((k) => !keys.some(([key]) => key === k) && !alsoKnown.includes(k));
  if (unknown.length > 0) {
    const names = unknown.map((k) => JSON.stringify(k)).join(", ");
    issues.push({ path, message: `Unrecognized key${unknown.length > 1 ? "s" : ""}: ${names}` });
  }
  return out;
}

const readRule: Reader = (v, path, issues) => {
  if (!isObject(v)) {
    wrongType("object", v, path, issues);
    return v;
  }
  const op = v.op;
  if (typeof op !== "string" || !(OPS as readonly string[]).includes(op)) {
    issues.push({ path: [...path, "op"], message: `unknown op: use one of ${OPS.join(", ")}`, type: true });
    return v;
  }
  const before = issues.length;
  const rule = readObject(v, RULES[op as (typeof OPS)[number]], path, issues, { op }, ["op"]);
  if (op === "normalizePhone" && !issues.slice(before).some((i) => i.type)) {
    if (rule.format === "e164" && rule.countryCode === undefined)
      issues.push({ path, message: 'format "e164" needs countryCode, e.g. "81"' });
  }
  return rule;
};

function readOptions(raw: unknown, issues: Issue[]): unknown {
  if (!isObject(raw)) {
    wrongType("object", raw, [], issues);
    return raw;
  }
  return readObject(raw, [["rules", listOf(readRule, 1, "give at least one rule")]], [], issues, {});
}

/** Every field a rule reads or writes: the only fields the sync fetches. */
export function fields(options: TransformOptions): string[] {
  const out = new Set<string>();
  for (const r of options.rules) {
    switch (r.op) {
      case "copy":
        out.add(r.from).add(r.to);
        break;
      case "setConstant":
        out.add(r.field);
        break;
      case "concat":
        r.from.forEach((f) => out.add(f));
        out.add(r.to);
        break;
      default:
        r.fields.forEach((f) => out.add(f));
    }
  }
  return [...out];
}

export function transform(record: KintoneRecord, options: TransformOptions): RecordUpdate {
  const work = new Map<string, unknown>();
  const get = (code: string, r: TransformRule, i: number): unknown => {
    if (work.has(code)) return work.get(code);
    if (!(code in record)) {
      throw new Error(
        `rule ${i} (${r.op}) names field "${code}", which the record does not have: check the field code in KINTONE_TRANSFORM_OPTIONS`,
      );
    }
    return record[code].value;
  };
  const mapText = (code: string, r: TransformRule, i: number, fn: (s: string) => string): void => {
    const v = get(code, r, i);
    if (typeof v === "string" && v !== "") work.set(code, fn(v));
  };

  options.rules.forEach((r, i) => {
    switch (r.op) {
      case "trim":
        r.fields.forEach((f) => mapText(f, r, i, (s) => s.replace(/^[\s\u3000]+|[\s\u3000]+$/g, "")));
        break;
      case "collapseWhitespace":
        r.fields.forEach((f) => mapText(f, r, i, (s) => s.replace(/[\s\u3000]+/g, " ").replace(/^ | $/g, "")));
        break;
      case "upperCase":
        r.fields.forEach((f) => mapText(f, r, i, (s) => s.toUpperCase()));
        break;
      case "lowerCase":
        r.fields.forEach((f) => mapText(f, r, i, (s) => s.toLowerCase()));
        break;
      case "halfWidth":
        r.fields.forEach((f) => mapText(f, r, i, (s) => s.normalize("NFKC")));
        break;
      case "zeroPad":
        r.fields.forEach((f) => mapText(f, r, i, (s) => (/^\d+$/.test(s) ? s.padStart(r.length, "0") : s)));
        break;
      case "copy": {
        const v = get(r.from, r, i);
        if (!r.onlyIfEmpty || isEmpty(get(r.to, r, i))) work.set(r.to, structuredClone(v));
        break;
      }
      case "setConstant":
        if (!r.onlyIfEmpty || isEmpty(get(r.field, r, i))) work.set(r.field, structuredClone(r.value));
        break;
      case "concat": {
        const parts = r.from.map((f) => textOf(get(f, r, i), f, r, i)).filter((p) => p !== "");
        get(r.to, r, i);
        work.set(r.to, parts.join(r.separator));
        break;
      }
      case "normalizeDate":
        r.fields.forEach((f) => mapText(f, r, i, normalizeDate));
        break;
      case "normalizePhone":
        r.fields.forEach((f) => mapText(f, r, i, (s) => normalizePhone(s, r.format, r.countryCode)));
        break;
    }
  });

  const update: RecordUpdate = {};
  for (const [code, value] of work) update[code] = { value };
  return update;
}

function isEmpty(v: unknown): boolean {
  return v === null || v === undefined || v === "" || (Array.isArray(v) && v.length === 0);
}

function textOf(v: unknown, code: string, r: TransformRule, i: number): string {
  if (v === null || v === undefined) return "";
  if (typeof v === "string" || typeof v === "number") return String(v);
  if (Array.isArray(v) && v.every((x) => typeof x === "string")) return v.join(", ");
  throw new Error(`rule ${i} (${r.op}) cannot use field "${code}": its value is not text`);
}

export function normalizeDate(value: string): string {
  const s = value.normalize("NFKC").trim();
  const m = /^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$/.exec(s) ?? /^(\d{4})(\d{2})(\d{2})$/.exec(s);
  if (!m) return value;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(y, mo - 1, d));
  if (date.getUTCFullYear() !== y || date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d) return value;
  return `${m[1]}-${String(mo).padStart(2, "0")}-${String(d).padStart(2, "0")}`;
}

export function normalizePhone(value: string, format: "digits" | "e164", countryCode?: string): string {
  const s = value.normalize("NFKC").trim();
  if (!/^\+?[\d\s\-().]+$/.test(s)) return value;
  const plus = s.startsWith("+");
  const digits = s.replace(/\D/g, "");
  if (digits.length < 4) return value;
  if (format === "digits") return (plus ? "+" : "") + digits;
  let e164: string;
  if (plus) e164 = "+" + digits;
  else if (digits.startsWith("00")) e164 = "+" + digits.slice(2);
  else if (digits.startsWith("0")) e164 = "+" + countryCode + digits.slice(1);
  else e164 = "+" + countryCode + digits;
  // E.164 numbers have at most 15 digits; anything longer was not a phone number to begin with.
  return e164.length - 1 <= 15 ? e164 : value;
}
