/** Input rules of the pets API: one zod schema per input, and issues reduced to { field, message }. */
import * as z from "zod/mini";

export const MAX_PAGE_SIZE = 100;
export const DEFAULT_PAGE_SIZE = 20;
/** Largest request body accepted, in bytes; a pet is a few hundred. */
export const MAX_BODY_BYTES = 16 * 1024;

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * PostgreSQL text cannot hold U+0000 (the server refuses the whole statement), so a NUL is the client's error, not
 * the database's: refused here, naming the field, before anything is sent.
 */
const noNul = (s: string) => !s.includes("\u0000");
const NUL_MESSAGE = { error: "must not contain the NUL character (\\u0000)" };

function isCalendarDate(s: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  if (!m) return false;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.toISOString().slice(0, 10) === s;
}

/** A non-empty text field of at most `max` characters, trimmed. */
const text = (max: number) =>
  z
    .string({ error: "must be a string" })
    .check(
      z.refine(noNul, NUL_MESSAGE),
      z.trim(),
      z.minLength(1, { error: "must not be empty" }),
      z.maxLength(max, { error: `must be at most ${max} characters` }),
    );

/** POST /pets body. Unknown fields are refused (a typo such as "nmae" must not silently drop data). */
export const newPetSchema = z.strictObject({
  name: text(100),
  species: text(50),
  birthDate: z.optional(
    z.nullable(
      z.string({ error: "must be a date string YYYY-MM-DD" }).check(
        z.superRefine((s, ctx) => {
          if (!isCalendarDate(s)) ctx.addIssue({ code: "custom", message: "must be a calendar date YYYY-MM-DD" });
          else if (s > new Date().toISOString().slice(0, 10))
            ctx.addIssue({ code: "custom", message: "must not be in the future" });
        }),
      ),
    ),
  ),
  tags: z.optional(
    z
      .array(text(30), { error: "must be an array of strings" })
      .check(z.maxLength(10, { error: "must have at most 10 tags" })),
  ),
});

export type NewPet = z.infer<typeof newPetSchema>;

export interface FieldIssue {
  field: string;
  message: string;
}

/** zod issues → `{ field: "tags[2]", message }`, unknown keys one issue per key; `input` tells absent from mistyped. */
export function fieldIssues(error: z.core.$ZodError, input: unknown): FieldIssue[] {
  const out: FieldIssue[] = [];
  for (const issue of error.issues) {
    const base = issue.path.reduce<string>(
      (acc, p) => (typeof p === "number" ? `${acc}[${p}]` : acc ? `${acc}.${String(p)}` : String(p)),
      "",
    );
    if (issue.code === "unrecognized_keys") {
      for (const k of issue.keys)
        out.push({
          field: base ? `${base}.${k}` : k,
          message: "is not a known field (name, species, birthDate, tags)",
        });
      continue;
    }
    if (issue.code === "invalid_type" && valueAt(input, issue.path) === undefined) {
      out.push({ field: base || "body", message: "is required" });
      continue;
    }
    out.push({ field: base || "body", message: issue.message });
  }
  return out;
}

function valueAt(input: unknown, path: PropertyKey[]): unknown {
  let v: unknown = input;
  for (const p of path) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<PropertyKey, unknown>)[p];
  }
  return v;
}

/** `limit` query parameter: 1..100, default 20. */
export function parseLimit(raw: string | undefined): number | FieldIssue {
  if (raw === undefined || raw === "") return DEFAULT_PAGE_SIZE;
  if (!/^\d+$/.test(raw))
    return { field: "limit", message: `must be an integer from 1 to ${MAX_PAGE_SIZE}; got "${raw}"` };
  const n = Number(raw);
  if (n < 1 || n > MAX_PAGE_SIZE)
    return { field: "limit", message: `must be an integer from 1 to ${MAX_PAGE_SIZE}; got ${raw}` };
  return n;
}

export function isUuid(s: string): boolean {
  return UUID_RE.test(s);
}
