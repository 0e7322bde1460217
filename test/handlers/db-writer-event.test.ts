/**
 * db-writer's event check and payload hash (functions/db-writer/event.ts), without a database. The writer has two
 * readers: a hand-written fast one for the common case and the zod schema, which words every problem and takes
 * over whenever the fast one gives up. These tests hold them to agreeing: on every valid event both give the same
 * batch, on every invalid one the fast reader gives up (so the error is always the schema's), and the payload hash
 * is the one earlier versions of the writer recorded, so a batch written before this reader existed replays.
 */
import { attributesJson, parseEvent, payloadHash, readers, MAX_ATTRIBUTE_DEPTH } from "../../functions/db-writer/event";
import type { Batch } from "../../functions/db-writer/types";

/** Trimming, escapes, a literal backslash-u, a control character, nesting, undefined, empty containers. */
const fixture = () => ({
  batchId: "  fixture-2026-12-07  ",
  users: [
    { externalId: " c-1 ", email: " a@example.com ", name: "  Ann  " },
    { name: "Bob\tTab", email: "b@example.co.jp", externalId: "c-2", plan: "pro", seats: 3 },
    {
      externalId: "c-3",
      email: "c@example.com",
      name: '日本語 "q" back\\slash \\u0000 literal',
      zeta: [1, "x", null, { b: 2, a: [true, false] }],
      alpha: { y: null, x: "ctl\u0001char", nested: { d: { c: 1.5 } } },
    },
    { externalId: "c-4", email: "d@example.com", name: "Emoji 😀", skip: undefined, tags: [], meta: {} },
  ] as Array<Record<string, unknown>>,
});

/** The sha256 the writer recorded for `fixture()` before the fast reader (computed with that version's event.ts). */
const RECORDED_SHA256 = "ba6350076f471ff77a1f2586903a94b98c747510de8cbfe5a80bf7fd517f0ce4";

/** The same value with every object's keys in reverse order. */
function reversedKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(reversedKeys);
  if (v === null || typeof v !== "object") return v;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v).reverse()) out[k] = reversedKeys((v as Record<string, unknown>)[k]);
  return out;
}

/** What a batch stores: the rows without the reference to the event's object. */
function stored(b: Batch) {
  return {
    batchId: b.batchId,
    users: b.users.map((u) => ({
      externalId: u.externalId,
      email: u.email,
      name: u.name,
      attributes: attributesJson(u),
    })),
    sha256: payloadHash(b),
  };
}

function eventError(read: () => unknown): string {
  try {
    read();
  } catch (err) {
    expect((err as { kind?: string }).kind).toBe("event");
    return (err as Error).message;
  }
  throw new Error("expected an event error");
}

test("the fast reader takes a valid event; both readers give the same rows, attributes JSON and hash", () => {
  const timings = { reader: "schema" as "fast" | "schema", validateMs: -1 };
  const batch = parseEvent(fixture(), timings);
  expect(timings.reader).toBe("fast");
  expect(timings.validateMs).toBeGreaterThanOrEqual(0);
  const fast = stored(readers.fast(fixture())!);
  expect(fast).toEqual(stored(readers.schema(fixture())));
  expect(stored(batch)).toEqual(fast);
  expect(fast.batchId).toBe("fixture-2026-12-07");
  expect(fast.users.map((u) => [u.externalId, u.email, u.name])).toEqual([
    ["c-1", "a@example.com", "Ann"],
    ["c-2", "b@example.co.jp", "Bob\tTab"],
    ["c-3", "c@example.com", '日本語 "q" back\\slash \\u0000 literal'],
    ["c-4", "d@example.com", "Emoji 😀"],
  ]);
  expect(fast.users.map((u) => u.attributes)).toEqual([
    "{}",
    '{"plan":"pro","seats":3}',
    '{"alpha":{"nested":{"d":{"c":1.5}},"x":"ctl\\u0001char","y":null},"zeta":[1,"x",null,{"a":[true,false],"b":2}]}',
    '{"meta":{},"tags":[]}',
  ]);
});

test("the payload hash is the one earlier versions recorded, whatever the key order, and changes with any value or the user order", () => {
  expect(payloadHash(parseEvent(fixture()))).toBe(RECORDED_SHA256);
  expect(payloadHash(parseEvent(reversedKeys(fixture())))).toBe(RECORDED_SHA256);
  expect(payloadHash(parseEvent(JSON.parse(JSON.stringify(fixture()))))).toBe(RECORDED_SHA256);
  const changed = fixture();
  (changed.users[2].alpha as { nested: { d: { c: number } } }).nested.d.c = 1.25;
  expect(payloadHash(parseEvent(changed))).not.toBe(RECORDED_SHA256);
  const swapped = fixture();
  swapped.users = [swapped.users[1], swapped.users[0], ...swapped.users.slice(2)];
  expect(payloadHash(parseEvent(swapped))).not.toBe(RECORDED_SHA256);
});

test("an object the fast reader does not know (not a plain object) is read by the schema, to the same batch", () => {
  class User {
    constructor(
      readonly externalId: string,
      readonly email: string,
      readonly name: string,
    ) {}
  }
  const event = {
    batchId: "b-1",
    users: [new User("u-1", "u1@example.com", "U"), { ...new User("u-2", "u2@example.com", "V") }],
  };
  expect(readers.fast(event)).toBeUndefined();
  const timings = { reader: "fast" as "fast" | "schema", validateMs: 0 };
  const batch = parseEvent(event, timings);
  expect(timings.reader).toBe("schema");
  expect(stored(batch).users).toEqual([
    { externalId: "u-1", email: "u1@example.com", name: "U", attributes: "{}" },
    { externalId: "u-2", email: "u2@example.com", name: "V", attributes: "{}" },
  ]);
});

describe("on every invalid event the fast reader gives up, and the schema's error is the one raised", () => {
  const ok = (i: number) => ({ externalId: `ok-${i}`, email: `ok${i}@example.com`, name: `OK ${i}` });
  // An attribute is at depth 2 (the user is 1): 63 nested objects put the innermost at the limit, 64 one past it.
  let deep: unknown = ["bottom"];
  for (let i = 0; i < MAX_ATTRIBUTE_DEPTH - 2; i++) deep = { a: deep };
  const cases: Array<[string, unknown, RegExp]> = [
    ["not an object", "users", /^invalid db-writer event: event: the event must be an object/],
    ["no batchId", { users: [ok(1)] }, /batchId: is required$/],
    ["a batchId with a space", { batchId: "a b", users: [ok(1)] }, /batchId: must be visible ASCII/],
    ["a blank batchId", { batchId: "   ", users: [ok(1)] }, /batchId: must not be empty/],
    ["a batchId of 201 characters", { batchId: "b".repeat(201), users: [ok(1)] }, /batchId: must be at most 200/],
    ["no users", { batchId: "b", users: [] }, /users: must hold at least one user/],
    ["users not a list", { batchId: "b", users: { 0: ok(1) } }, /users: must be a list of users, got an object/],
    ["a user that is a list", { batchId: "b", users: [ok(1), [ok(2)]] }, /users\[1\]: must be an object, got a list/],
    ["a user that is null", { batchId: "b", users: [null] }, /users\[0\]: must be an object, got null/],
    ["a missing email", { batchId: "b", users: [{ externalId: "x", name: "X" }] }, /users\[0\]\.email: is required/],
    [
      "a numeric name",
      { batchId: "b", users: [{ ...ok(1), name: 7 }] },
      /users\[0\]\.name: must be a string, got number/,
    ],
    ["a blank externalId", { batchId: "b", users: [{ ...ok(1), externalId: "  " }] }, /externalId: must not be empty/],
    [
      "a 256-character externalId",
      { batchId: "b", users: [{ ...ok(1), externalId: "x".repeat(256) }] },
      /externalId: must be at most 255/,
    ],
    [
      "a 501-character name",
      { batchId: "b", users: [{ ...ok(1), name: "n".repeat(501) }] },
      /name: must be at most 500/,
    ],
    [
      "a bad email",
      { batchId: "b", users: [{ ...ok(1), email: "a@b" }] },
      /users\[0\]\.email: is not an email address/,
    ],
    [
      "a duplicate after trimming",
      { batchId: "b", users: [ok(1), { ...ok(2), externalId: " ok-1" }] },
      /users\[1\]\.externalId: duplicates users\[0\]\.externalId "ok-1"/,
    ],
    [
      "a NUL in a name",
      { batchId: "b", users: [{ ...ok(1), name: "a\u0000b" }] },
      /users\[0\]\.name \(externalId "ok-1"\): contains a NUL character/,
    ],
    [
      "a lone surrogate in an email",
      { batchId: "b", users: [{ ...ok(1), email: "a\ud800@example.com" }] },
      /users\[0\]\.email: is not an email address/,
    ],
    [
      "a lone surrogate in an externalId",
      { batchId: "b", users: [{ ...ok(1), externalId: "x\udc00" }] },
      /users\[0\]\.externalId: contains a lone UTF-16 surrogate/,
    ],
    [
      "a NUL in a nested key",
      { batchId: "b", users: [{ ...ok(1), meta: { ["k\u0000"]: 1 } }] },
      /users\[0\]\.meta\["k\\u0000"\] \(externalId "ok-1"\): has a key with a NUL/,
    ],
    [
      "a lone surrogate deep in a list",
      { batchId: "b", users: [{ ...ok(1), t: [[{ v: "\ud83d" }]] }] },
      /users\[0\]\.t\[0\]\[0\]\.v \(externalId "ok-1"\): contains a lone UTF-16 surrogate/,
    ],
    [
      "a __proto__ attribute",
      JSON.parse('{"batchId":"b","users":[{"externalId":"p","email":"p@example.com","name":"P","__proto__":1}]}'),
      /users\[0\]\.__proto__ \(externalId "p"\): is an attribute named "__proto__"/,
    ],
    [
      "nesting one level too deep",
      { batchId: "b", users: [{ ...ok(1), deep: { a: deep } }] },
      /users\[0\]\.deep(\.a){63} \(externalId "ok-1"\): is nested more than 64 levels deep/,
    ],
  ];
  test.each(cases)("%s", (_, event, message) => {
    expect(readers.fast(event)).toBeUndefined();
    expect(eventError(() => parseEvent(event))).toMatch(message);
  });

  test("nesting exactly at the limit is accepted by both readers", () => {
    const event = { batchId: "b", users: [{ ...ok(1), deep }] };
    expect(stored(readers.fast(event)!)).toEqual(stored(readers.schema(event)));
  });
});
