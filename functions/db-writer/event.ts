/**
 * The invocation event: `{ "batchId": "2026-11-21-import-7", "users": [{ "externalId", "email", "name", ...more }] }`.
 * `batchId` is the caller's idempotency key: one id, one set of users. Any further fields of a user are kept as its
 * `attributes` (jsonb). Every problem is reported at once, each with its path (`users[3].email`).
 *
 * Two readers that agree on every event they both accept:
 *   - the fast check (`readFast`): hand-written, one pass over the users for the named fields and the duplicate
 *     check, one for the attributes (canonical JSON, which is also what is stored and hashed). It does not word
 *     errors: at the first thing it does not like (a bad field, a duplicate, an attribute needing a closer look) it
 *     gives up and
 *   - the schema (`readWithSchema`, zod plus a walk of the attributes) reads the event again from the start and
 *     words every problem, or accepts what the fast check was only wary of (e.g. a string holding a control
 *     character, which JSON writes as \u00XX).
 * Both produce the same batch, byte for byte, and so the same payload hash: a batch written by either can be
 * replayed through the other.
 */
import { createHash } from "crypto";
import * as z from "zod/mini";
import { WriterError } from "./errors";
import type { Batch, UserRow } from "./types";

/** Users per event at most. A synchronous Lambda payload (6 MB) holds roughly 60,000 typical users anyway. */
export const MAX_USERS = 100_000;

const mustBeString = (iss: { input?: unknown }) =>
  iss.input === undefined ? "is required" : `must be a string, got ${typeOf(iss.input)}`;

const text = (max: number) =>
  z
    .string({ error: mustBeString })
    .check(
      z.trim(),
      z.minLength(1, { error: "must not be empty" }),
      z.maxLength(max, { error: `must be at most ${max} characters` }),
    );

const userSchema = z.catchall(
  z.object(
    {
      externalId: text(255),
      // zod's own email pattern as a check on the trimmed string (a z.pipe to z.email() costs a second schema per user).
      email: z
        .string({ error: mustBeString })
        .check(
          z.trim(),
          z.maxLength(320, { error: "must be at most 320 characters" }),
          z.regex(z.regexes.email, { error: "is not an email address" }),
        ),
      name: text(500),
    },
    { error: (iss) => `must be an object, got ${typeOf(iss.input)}` },
  ),
  z.unknown(),
);

const eventSchema = z
  .object(
    {
      batchId: text(200).check(
        z.regex(/^[\x21-\x7e]+$/, {
          error: "must be visible ASCII without spaces, e.g. 2026-11-21-crm-export-7",
        }),
      ),
      users: z
        .array(userSchema, {
          error: (iss) =>
            iss.input === undefined
              ? "is required: a list of users"
              : `must be a list of users, got ${typeOf(iss.input)}`,
        })
        .check(
          z.minLength(1, { error: "must hold at least one user" }),
          z.maxLength(MAX_USERS, {
            error: `holds more than ${MAX_USERS} users: split it into several batches, each with its own batchId`,
          }),
        ),
    },
    { error: (iss) => `the event must be an object {"batchId": "...", "users": [...]}, got ${typeOf(iss.input)}` },
  )
  .check(
    z.superRefine((e, ctx) => {
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
    }),
  );

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

/** Where parseEvent spent its time (logged with every batch; the benchmark prints it). */
export interface ParseTimings {
  /** Which reader accepted the event: "fast", or "schema" when the fast check gave up. */
  reader: "fast" | "schema";
  /** Milliseconds spent checking the event (both readers when the fast one gave up). */
  validateMs: number;
}

/**
 * The batch in the event, or a WriterError("event") listing every problem (at most 20, then a count). Only checks:
 * the attributes' JSON and the payload hash are made later, while the users stream to the database
 * (`PayloadHasher`), so that work overlaps the server's.
 */
export function parseEvent(event: unknown, timings?: ParseTimings): Batch {
  const t0 = performance.now();
  let reader: ParseTimings["reader"] = "fast";
  let batch = readFast(event);
  if (!batch) {
    reader = "schema";
    batch = readWithSchema(event);
  }
  if (timings) Object.assign(timings, { reader, validateMs: performance.now() - t0 });
  return batch;
}

/** The schema's reading: every problem worded, or the batch. The fallback for whatever readFast gives up on. */
function readWithSchema(event: unknown): Batch {
  const r = eventSchema.safeParse(event);
  if (!r.success) throw eventError(r.error.issues.map((i) => `${formatPath(i.path)}: ${i.message}`));
  const raw = (event as { users: Record<string, unknown>[] }).users;
  const deep = attributeProblems(raw);
  if (deep.length > 0) throw eventError(deep);
  // The schema's copy holds the trimmed named fields; the attributes are read from the user as received (the
  // schema keeps them as they are).
  const users: UserRow[] = r.data.users.map(({ externalId, email, name }, i) => ({
    externalId,
    email,
    name,
    source: raw[i],
    attributesJson: undefined,
  }));
  return { batchId: r.data.batchId, users };
}

/** Both readers on their own, for the tests that hold them to agreeing (test/handlers/db-writer-event.test.ts). */
export const readers = { fast: readFast, schema: readWithSchema };

/** Thrown inside readFast when it gives up; a symbol carries no stack, so it costs nothing to throw. */
const GIVE_UP: unique symbol = Symbol("give up");
const PRINTABLE_ASCII = /^[\x21-\x7e]+$/;
const EMAIL = z.regexes.email;
/** One of the fields every user has (compared as interned strings: cheaper than a Set lookup). */
const isNamed = (k: string): boolean => k === "externalId" || k === "email" || k === "name";

/**
 * The common case, checked without zod in one pass: the schema's rules (the same trimmed values) and the attribute
 * walk's. Returns undefined, leaving the wording to the schema, at the first problem and wherever it would need to
 * look closer than it does (an object that is not a plain one).
 */
function readFast(event: unknown): Batch | undefined {
  if (!isPlain(event)) return undefined;
  const rawId = event.batchId;
  const list = event.users;
  if (typeof rawId !== "string" || !Array.isArray(list)) return undefined;
  const batchId = rawId.trim();
  if (batchId.length === 0 || batchId.length > 200 || !PRINTABLE_ASCII.test(batchId)) return undefined;
  const n = list.length;
  if (n === 0 || n > MAX_USERS) return undefined;
  const users: UserRow[] = new Array(n);
  const seen = new Set<string>();
  try {
    for (let i = 0; i < n; i++) {
      const u: unknown = list[i];
      if (!isPlain(u)) return undefined;
      const e = u.externalId;
      const m = u.email;
      const nm = u.name;
      if (typeof e !== "string" || typeof m !== "string" || typeof nm !== "string") return undefined;
      const externalId = e.trim();
      const email = m.trim();
      const name = nm.trim();
      if (externalId.length === 0 || externalId.length > 255) return undefined;
      if (name.length === 0 || name.length > 500) return undefined;
      if (email.length > 320 || !EMAIL.test(email)) return undefined;
      if (!storable(e) || !storable(m) || !storable(nm)) return undefined;
      const before = seen.size;
      seen.add(externalId);
      if (seen.size === before) return undefined;
      let extra = 0;
      for (const k in u)
        if (!isNamed(k)) {
          checkAttribute(k, u[k], 2);
          extra++;
        }
      // A user with no further fields has its attributes JSON now; the others get it as they stream.
      users[i] = { externalId, email, name, source: u, attributesJson: extra === 0 ? "{}" : undefined };
    }
  } catch (err) {
    if (err === GIVE_UP) return undefined;
    throw err;
  }
  return { batchId, users };
}

/** A string PostgreSQL text and jsonb can hold: well-formed UTF-16 (no lone surrogate) without U+0000. */
function storable(s: string): boolean {
  // String.prototype.isWellFormed (ES2024, Node 20+) is past the ES2022 library the compiler is given.
  return (s as string & { isWellFormed(): boolean }).isWellFormed() && !s.includes("\u0000");
}

/** The attribute walk's rules for one key and its value at `depth` (the user is 1); GIVE_UP where one fails. */
function checkAttribute(key: string, v: unknown, depth: number): void {
  if (key === "__proto__" || !storable(key)) throw GIVE_UP;
  checkValue(v, depth);
}

function checkValue(v: unknown, depth: number): void {
  if (typeof v === "string") {
    if (!storable(v)) throw GIVE_UP;
    return;
  }
  if (v === null || typeof v !== "object") return;
  if (depth > MAX_ATTRIBUTE_DEPTH) throw GIVE_UP;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) checkValue(v[i], depth + 1);
    return;
  }
  if (!isPlain(v)) throw GIVE_UP;
  for (const k in v) checkAttribute(k, v[k], depth + 1);
}

function isPlain(v: unknown): v is Record<string, unknown> {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/**
 * The user's attributes (its fields other than the named three) as canonical JSON: what is stored, and hashed.
 * Computed once per user and kept on the row. The event was checked (depth, keys), so the recursion is bounded.
 */
export function attributesJson(row: UserRow): string {
  if (row.attributesJson !== undefined) return row.attributesJson;
  const u = row.source as Record<string, unknown>;
  const rest: string[] = [];
  let sorted = true;
  for (const k of Object.keys(u)) {
    if (isNamed(k)) continue;
    if (rest.length > 0 && !(rest[rest.length - 1] < k)) sorted = false;
    rest.push(k);
  }
  if (!sorted) rest.sort();
  let s = "{";
  let first = true;
  for (const k of rest) {
    const v = u[k];
    if (v === undefined) continue;
    s +=
      (first ? "" : ",") + JSON.stringify(k) + ":" + (stringifiesCanonically(v) ? JSON.stringify(v) : canonicalJson(v));
    first = false;
  }
  return (row.attributesJson = s + "}");
}

/**
 * True when JSON.stringify(v) already is canonicalJson(v), so the native serialiser can write it: strings, finite
 * or not numbers, booleans, null, and lists and plain objects of them whose keys come in sorted order at every
 * level (as most producers write them). Anything else (an undefined, a function, keys out of order, an object
 * that is not a plain one) goes the long way.
 */
function stringifiesCanonically(v: unknown): boolean {
  if (typeof v !== "object") return typeof v === "string" || typeof v === "number" || typeof v === "boolean";
  if (v === null) return true;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) if (!stringifiesCanonically(v[i])) return false;
    return true;
  }
  if (!isPlain(v)) return false;
  let prev: string | undefined;
  for (const k in v) {
    if (prev !== undefined && !(prev < k)) return false;
    if (!stringifiesCanonically(v[k])) return false;
    prev = k;
  }
  return true;
}

/**
 * The batch's payload hash, built while the users stream to the database: sha256 over one line per user,
 * `["externalId","email","name"]{canonical attributes}\n`, in event order. Key order inside a user does not
 * change it; a different user, value or order of users does. The hash recorded for a batch id is compared on
 * every rerun of that id (write.ts).
 */
export class PayloadHasher {
  private readonly hash = createHash("sha256");
  private buf = "";
  /** Users added so far. */
  count = 0;

  /** Adds the next user (in event order) and returns its attributes JSON. */
  add(row: UserRow): string {
    const attrs = attributesJson(row);
    this.buf += JSON.stringify([row.externalId, row.email, row.name]) + attrs + "\n";
    if (this.buf.length >= 65_536) {
      this.hash.update(this.buf);
      this.buf = "";
    }
    this.count++;
    return attrs;
  }

  digest(): string {
    this.hash.update(this.buf);
    this.buf = "";
    return this.hash.digest("hex");
  }
}

/** The payload hash of the whole batch at once (a replay, the Data API path, a COPY that did not finish). */
export function payloadHash(batch: Batch): string {
  const h = new PayloadHasher();
  for (const u of batch.users) h.add(u);
  return h.digest();
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
