/**
 * The invocation event: `{ "batchId": "2026-11-21-import-7", "users": [{ "externalId", "email", "name", ...more }] }`.
 * `batchId` is the caller's idempotency key: one id, one set of users. Any further fields of a user are kept as its
 * `attributes` (jsonb). Every problem is reported at once, each with its path (`users[3].email`).
 */
import { createHash } from "crypto";
import * as z from "zod";
import { WriterError } from "./errors";
import type { Batch, UserRow } from "./_old_types";

/** Users per event at most. A synchronous Lambda payload (6 MB) holds roughly 60,000 typical users anyway. */
export const MAX_USERS = 100_000;

const text = (max: number) =>
  z
    .string({
      error: (iss) => (iss.input === undefined ? "is required" : `must be a string, got ${typeOf(iss.input)}`),
    })
    .trim()
    .min(1, { error: "must not be empty" })
    .max(max, { error: `must be at most ${max} characters` });

const userSchema = z
  .object(
    {
      externalId: text(255),
      // zod's own email pattern as a check on the trimmed string (a .pipe(z.email()) costs a second schema per user).
      email: z
        .string({
          error: (iss) => (iss.input === undefined ? "is required" : `must be a string, got ${typeOf(iss.input)}`),
        })
        .trim()
        .max(320, { error: "must be at most 320 characters" })
        .regex(z.regexes.email, { error: "is not an email address" }),
      name: text(500),
    },
    { error: (iss) => `must be an object, got ${typeOf(iss.input)}` },
  )
  .catchall(z.unknown());

const eventSchema = z
  .object(
    {
      batchId: text(200).regex(/^[\x21-\x7e]+$/, {
        error: "must be visible ASCII without spaces, e.g. 2026-11-21-crm-export-7",
      }),
      users: z
        .array(userSchema, {
          error: (iss) =>
            iss.input === undefined
              ? "is required: a list of users"
              : `must be a list of users, got ${typeOf(iss.input)}`,
        })
        .min(1, { error: "must hold at least one user" })
        .max(MAX_USERS, {
          error: `holds more than ${MAX_USERS} users: split it into several batches, each with its own batchId`,
        }),
    },
    { error: (iss) => `the event must be an object {"batchId": "...", "users": [...]}, got ${typeOf(iss.input)}` },
  )
  .superRefine((e, ctx) => {
    const first = new Map<string, number>();
    e.users.forEach((u, i) => {
      const j = first.get(u.externalId);
      if (j !== undefined)
        ctx.addIssue({
          code: "custom",
          path: ["users", i, "externalId"],
          message: `duplicates users[${j}].externalId "${u.externalId}"`,
        });
      else first.set(u.externalId, i);
    });
  });

/** Deepest nesting of a user's attributes (the user object is level 1). */
export const MAX_ATTRIBUTE_DEPTH = 64;

const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/**
 * What zod does not look at: the values under each user, walked without recursion (an event nested thousands deep
 * must be an event error, not a RangeError from a recursive serialiser). Refused, naming the user and the field:
 *   - nesting deeper than MAX_ATTRIBUTE_DEPTH;
 *   - a key or string with a lone UTF-16 surrogate: JSON.stringify writes it as a \uD8xx escape, which jsonb
 *     refuses, failing the whole batch inside the database with no user named;
 *   - a key or string holding U+0000, which PostgreSQL text and jsonb cannot store;
 *   - a "__proto__" key: JSON.parse makes it an own property, but copying the user into an object (as the schema
 *     does) sets the prototype instead, so the attribute would vanish without a word.
 * Runs on the event as received, before the schema copies the users.
 */
function attributeProblems(users: unknown[]): string[] {
  const problems: string[] = [];
  interface Item {
    value: unknown;
    depth: number;
    key: string | number;
    parent: Item | undefined;
  }
  const pathOf = (item: Item, index: number): string => {
    const keys: (string | number)[] = [];
    for (let it: Item | undefined = item; it && it.parent; it = it.parent) keys.push(it.key);
    let out = `users[${index}]`;
    for (const k of keys.reverse())
      out += typeof k === "number" ? `[${k}]` : /^[A-Za-z_$][\w$]*$/.test(k) ? `.${k}` : `[${JSON.stringify(k)}]`;
    return out.length > 200 ? `${out.slice(0, 200)}…` : out;
  };
  const who = (u: unknown) => {
    const id = (u as { externalId?: unknown })?.externalId;
    return typeof id === "string" && !LONE_SURROGATE.test(id) && !id.includes("\u0000")
      ? ` (externalId ${JSON.stringify(id.slice(0, 100))})`
      : "";
  };
  for (let i = 0; i < users.length && problems.length < 20; i++) {
    const root: Item = { value: users[i], depth: 1, key: "", parent: undefined };
    const stack: Item[] = [root];
    const add = (item: Item, what: string) => {
      const path = pathOf(item, i);
      problems.push(`${path}${who(users[i])}: ${what}`);
    };
    while (stack.length > 0) {
      const item = stack.pop()!;
      const v = item.value;
      if (typeof v === "string") {
        if (v.includes("\u0000")) add(item, "contains a NUL character (U+0000), which PostgreSQL cannot store");
        else if (LONE_SURROGATE.test(v))
          add(
            item,
            "contains a lone UTF-16 surrogate (not valid Unicode), which PostgreSQL cannot store: send well-formed text",
          );
        continue;
      }
      if (v === null || typeof v !== "object") continue;
      if (item.depth > MAX_ATTRIBUTE_DEPTH) {
        add(item, `is nested more than ${MAX_ATTRIBUTE_DEPTH} levels deep: flatten the attribute`);
        break;
      }
      if (Array.isArray(v)) {
        for (let k = v.length - 1; k >= 0; k--)
          stack.push({ value: v[k], depth: item.depth + 1, key: k, parent: item });
        continue;
      }
      const keys = Object.keys(v);
      for (let k = keys.length - 1; k >= 0; k--) {
        const key = keys[k];
        const child: Item = { value: (v as Record<string, unknown>)[key], depth: item.depth + 1, key, parent: item };
        if (key === "__proto__")
          add(child, 'is an attribute named "__proto__", which the writer cannot store as data: rename it');
        else if (key.includes("\u0000"))
          add(child, "has a key with a NUL character (U+0000), which PostgreSQL cannot store");
        else if (LONE_SURROGATE.test(key))
          add(
            child,
            "has a key with a lone UTF-16 surrogate (not valid Unicode), which PostgreSQL cannot store: rename it",
          );
        else stack.push(child);
      }
      if (problems.length >= 20) break;
    }
  }
  return problems;
}

/** The batch in the event, or a WriterError("event") listing every problem (at most 20, then a count). */
export function parseEvent(event: unknown): Batch {
  const r = eventSchema.safeParse(event);
  if (!r.success) throw eventError(r.error.issues.map((i) => `${formatPath(i.path)}: ${i.message}`));
  const deep = attributeProblems((event as { users: unknown[] }).users);
  if (deep.length > 0) throw eventError(deep);
  // One pass serialises each user once: for the payload hash, for the NUL check, and as the attributes column.
  const hash = createHash("sha256");
  const problems: string[] = [];
  let buf = "";
  const users: UserRow[] = r.data.users.map(({ externalId, email, name, ...rest }, i) => {
    const attributesJson = hasKeys(rest) ? canonicalJson(rest) : "{}";
    const line = `${JSON.stringify([externalId, email, name])}${attributesJson}\n`;
    // PostgreSQL text and jsonb cannot hold U+0000, which JSON.stringify writes as \u0000; an escaped backslash
    // followed by "u0000" is ordinary text.
    if (line.includes("\\u0000") && /(?:^|[^\\])(?:\\\\)*\\u0000/.test(line))
      problems.push(`users[${i}]: contains a NUL character (U+0000), which PostgreSQL cannot store`);
    buf += line;
    if (buf.length >= 65_536) {
      hash.update(buf);
      buf = "";
    }
    return { externalId, email, name, attributes: rest, attributesJson };
  });
  if (problems.length > 0) throw eventError(problems);
  hash.update(buf);
  return { batchId: r.data.batchId, users, sha256: hash.digest("hex") };
}

function hasKeys(o: object): boolean {
  for (const k in o) if (Object.prototype.hasOwnProperty.call(o, k)) return true;
  return false;
}

function eventError(issues: string[]): WriterError {
  const shown = issues.slice(0, 20);
  const more = issues.length > shown.length ? `; and ${issues.length - shown.length} more problems` : "";
  return new WriterError("event", `invalid db-writer event: ${shown.join("; ")}${more}`);
}

function formatPath(path: PropertyKey[]): string {
  if (path.length === 0) return "event";
  let out = "";
  for (const p of path) out += typeof p === "number" ? `[${p}]` : out === "" ? String(p) : `.${String(p)}`;
  return out;
}

function typeOf(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  return typeof v === "object" ? "an object" : typeof v;
}

/** JSON with object keys sorted at every level, so the same users hash the same whatever their key order. */
export function canonicalJson(v: unknown): string {
  if (v === null || typeof v !== "object") return JSON.stringify(v) ?? "null";
  if (Array.isArray(v)) {
    let s = "[";
    for (let i = 0; i < v.length; i++) s += (i > 0 ? "," : "") + (v[i] === undefined ? "null" : canonicalJson(v[i]));
    return s + "]";
  }
  const o = v as Record<string, unknown>;
  let s = "{";
  let first = true;
  for (const k of Object.keys(o).sort()) {
    if (o[k] === undefined) continue;
    s += (first ? "" : ",") + JSON.stringify(k) + ":" + canonicalJson(o[k]);
    first = false;
  }
  return s + "}";
}
