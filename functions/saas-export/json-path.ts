/**
 * The small path language of SAAS_RECORDS_PATH and the cursor pagination: dot-separated keys with optional `[n]`
 * array indexes, an optional leading `$.`; `$` (or "") is the whole body. Examples: `data.items`, `results`,
 * `meta.paging.next`, `pages[0].rows`. Keys may hold any character except `.`, `[`, `]`.
 */

export type JsonPath = { text: string; segments: Array<string | number> };

/** Parses a path or returns what is wrong with it. */
export function parseJsonPath(text: string): JsonPath | string {
  const t = text.trim();
  if (t === "" || t === "$") return { text: "$", segments: [] };
  const body = t.startsWith("$.") ? t.slice(2) : t;
  const segments: Array<string | number> = [];
  for (const part of body.split(".")) {
    const m = /^([^.[\]]+)((?:\[\d+\])*)$/.exec(part);
    if (!m) return `"${text}" is not a path like data.items or results[0].rows (empty or malformed segment "${part}")`;
    segments.push(m[1]);
    for (const idx of m[2].matchAll(/\[(\d+)\]/g)) segments.push(Number(idx[1]));
  }
  return { text: t, segments };
}

/** The value at `path`, or undefined when any step is missing. */
export function getPath(value: unknown, path: JsonPath): unknown {
  let cur = value;
  for (const s of path.segments) {
    if (cur === null || typeof cur !== "object") return undefined;
    if (typeof s === "number") {
      if (!Array.isArray(cur)) return undefined;
      cur = cur[s];
    } else {
      if (Array.isArray(cur)) return undefined;
      cur = (cur as Record<string, unknown>)[s];
    }
  }
  return cur;
}

/** A short description of a JSON value's shape, for error messages (never its content). */
export function shapeOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === "object") {
    const keys = Object.keys(value as object);
    return `an object with keys ${keys
      .slice(0, 10)
      .map((k) => JSON.stringify(k))
      .join(", ")}${keys.length > 10 ? ", …" : ""}`;
  }
  return `a ${typeof value}`;
}
