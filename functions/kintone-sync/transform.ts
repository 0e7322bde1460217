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
import * as z from "zod";
import type { KintoneRecord, RecordUpdate } from "./types";

const fieldCode = z.string().trim().min(1, { error: "a field code cannot be empty" });
const fieldCodes = z.array(fieldCode).min(1, { error: "list at least one field code" });

/** One rule per `op`. */
const rule = z.discriminatedUnion(
  "op",
  [
    /** Removes leading and trailing whitespace (including the ideographic space U+3000). */
    z.object({ op: z.literal("trim"), fields: fieldCodes }).strict(),
    /** Trims, then turns every run of whitespace (tabs, newlines, U+3000 included) into one ASCII space. */
    z.object({ op: z.literal("collapseWhitespace"), fields: fieldCodes }).strict(),
    z.object({ op: z.literal("upperCase"), fields: fieldCodes }).strict(),
    z.object({ op: z.literal("lowerCase"), fields: fieldCodes }).strict(),
    /** Unicode NFKC: full-width letters, digits and symbols become ASCII; half-width katakana become full-width. */
    z.object({ op: z.literal("halfWidth"), fields: fieldCodes }).strict(),
    /** Left-pads an all-digit value with zeros to `length` digits ("42" -> "00000042"); other values are left alone. */
    z.object({ op: z.literal("zeroPad"), fields: fieldCodes, length: z.number().int().min(1).max(30) }).strict(),
    /** Copies `from`'s value into `to` (both must be of compatible types); with onlyIfEmpty, only into an empty `to`. */
    z
      .object({ op: z.literal("copy"), from: fieldCode, to: fieldCode, onlyIfEmpty: z.boolean().default(false) })
      .strict(),
    /** Sets `field` to `value` (a string, or a list for check boxes / multi-choice); with onlyIfEmpty, only when empty. */
    z
      .object({
        op: z.literal("setConstant"),
        field: fieldCode,
        value: z.union([z.string(), z.array(z.string())]),
        onlyIfEmpty: z.boolean().default(false),
      })
      .strict(),
    /** Joins the text of `from` fields into `to`, with `separator` (default " "), skipping empty parts. */
    z
      .object({
        op: z.literal("concat"),
        from: z.array(fieldCode).min(2, { error: "concat needs at least two source fields" }),
        to: fieldCode,
        separator: z.string().default(" "),
      })
      .strict(),
    /**
     * Rewrites a date as kintone's YYYY-MM-DD. Accepts 2024/1/5, 2024.01.05, 2024-1-5, 20240105 and 2024年1月5日
     * (full-width digits too); values that are not a valid calendar date are left alone.
     */
    z.object({ op: z.literal("normalizeDate"), fields: fieldCodes }).strict(),
    /**
     * "digits": keeps only the digits (and a leading +): "03-1234-5678" -> "0312345678".
     * "e164": "+<countryCode><number>": a leading trunk 0 is dropped, "00" becomes "+": "03-1234-5678" -> "+81312345678".
     * Values with letters (e.g. "ext. 12") are left alone.
     */
    z
      .object({
        op: z.literal("normalizePhone"),
        fields: fieldCodes,
        format: z.enum(["digits", "e164"]),
        countryCode: z
          .string()
          .regex(/^[1-9]\d{0,2}$/, { error: 'countryCode is the calling code without +, e.g. "81"' })
          .optional(),
      })
      .strict()
      .refine((r) => r.format !== "e164" || r.countryCode !== undefined, {
        error: 'format "e164" needs countryCode, e.g. "81"',
      }),
  ],
  {
    error: (iss) =>
      iss.code === "invalid_union"
        ? "unknown op: use one of trim, collapseWhitespace, upperCase, lowerCase, halfWidth, zeroPad, copy, setConstant, concat, normalizeDate, normalizePhone"
        : undefined,
  },
);

export const transformOptionsSchema = z
  .object({ rules: z.array(rule).min(1, { error: "give at least one rule" }) })
  .strict();

export type TransformRule = z.infer<typeof rule>;
export type TransformOptions = z.infer<typeof transformOptionsSchema>;

const EXAMPLE = `{"rules":[{"op":"trim","fields":["name"]}]}`;

export function parseOptions(raw: unknown): TransformOptions {
  if (raw === undefined) {
    throw new Error(`the default transform needs rules; set it to JSON such as ${EXAMPLE}`);
  }
  const parsed = transformOptionsSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (i) => `${i.path.length ? i.path.join(".") : "(top level)"}: ${i.message}`,
    );
    throw new Error(`${problems.join("; ")} (expected JSON such as ${EXAMPLE})`);
  }
  return parsed.data;
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
