/**
 * `:name` placeholders (the Data API's syntax) for both access paths. The scanner knows enough PostgreSQL lexing to
 * leave alone everything that merely looks like a placeholder: `::type` casts, 'strings' (E'…' with backslash
 * escapes), "quoted identifiers", $tag$ dollar-quoted bodies $tag$, -- line comments and nested block comments.
 * One limit: an array slice written without spaces (`a[1:n]`) reads as a placeholder; write `a[1 : n]`.
 */
import { DbError } from "./errors";
import type { SqlParams, SqlType, TypedValue } from "./types";

/** A statement with its placeholders found: `names` in order of first use, each once. */
export interface ParsedSql {
  text: string;
  names: string[];
}

const IDENT_START = /[A-Za-z_]/;
const IDENT_PART = /[A-Za-z0-9_$]/;

/**
 * Replaces every `:name` with `replace(name, index)` (index of the name's first use, from 0; a name used twice gets
 * the same index) and leaves the rest of the text byte for byte as it was.
 */
export function rewriteNamed(sql: string, replace: (name: string, index: number) => string): ParsedSql {
  const names: string[] = [];
  const index = new Map<string, number>();
  let out = "";
  let i = 0;
  const n = sql.length;
  const copyUntil = (end: number) => {
    out += sql.slice(i, end);
    i = end;
  };
  while (i < n) {
    const c = sql[i];
    const next = sql[i + 1];
    if (c === "'") {
      // E'…' (or e'…') allows backslash escapes; a standard string only doubles the quote.
      const prev = sql[i - 1];
      const escapes = (prev === "E" || prev === "e") && !IDENT_PART.test(sql[i - 2] ?? "");
      copyUntil(endOfQuoted(sql, i, "'", escapes));
    } else if (c === '"') {
      copyUntil(endOfQuoted(sql, i, '"', false));
    } else if (c === "-" && next === "-") {
      const eol = sql.indexOf("\n", i);
      copyUntil(eol === -1 ? n : eol + 1);
    } else if (c === "/" && next === "*") {
      copyUntil(endOfBlockComment(sql, i));
    } else if (c === "$" && !IDENT_PART.test(sql[i - 1] ?? "")) {
      const tag = /^\$(?:[A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$/.exec(sql.slice(i));
      if (tag) {
        const close = sql.indexOf(tag[0], i + tag[0].length);
        copyUntil(close === -1 ? n : close + tag[0].length);
      } else {
        copyUntil(i + 1);
      }
    } else if (c === ":" && next === ":") {
      copyUntil(i + 2);
    } else if (c === ":" && next !== undefined && IDENT_START.test(next)) {
      let j = i + 2;
      while (j < n && /[A-Za-z0-9_]/.test(sql[j])) j++;
      const name = sql.slice(i + 1, j);
      let k = index.get(name);
      if (k === undefined) {
        k = names.length;
        index.set(name, k);
        names.push(name);
      }
      out += replace(name, k);
      i = j;
    } else {
      // Copy a run of ordinary characters at once.
      let j = i + 1;
      while (j < n && !"'\"-/$:".includes(sql[j])) j++;
      copyUntil(j);
    }
  }
  return { text: out, names };
}

/** The placeholders a statement uses, in order of first use. */
export function placeholderNames(sql: string): string[] {
  return rewriteNamed(sql, (name) => `:${name}`).names;
}

function endOfQuoted(sql: string, start: number, quote: string, backslashEscapes: boolean): number {
  let i = start + 1;
  while (i < sql.length) {
    const c = sql[i];
    if (backslashEscapes && c === "\\") {
      i += 2;
      continue;
    }
    if (c === quote) {
      if (sql[i + 1] === quote) {
        i += 2;
        continue;
      }
      return i + 1;
    }
    i++;
  }
  return sql.length;
}

function endOfBlockComment(sql: string, start: number): number {
  // PostgreSQL block comments nest.
  let depth = 0;
  let i = start;
  while (i < sql.length) {
    if (sql[i] === "/" && sql[i + 1] === "*") {
      depth++;
      i += 2;
    } else if (sql[i] === "*" && sql[i + 1] === "/") {
      depth--;
      i += 2;
      if (depth === 0) return i;
    } else {
      i++;
    }
  }
  return sql.length;
}

/** The PostgreSQL type each declared parameter type is cast to on the pg path. */
export const PG_CASTS: Record<SqlType, string> = {
  text: "text",
  integer: "integer",
  bigint: "bigint",
  numeric: "numeric",
  double: "double precision",
  boolean: "boolean",
  timestamp: "timestamptz",
  date: "date",
  uuid: "uuid",
  json: "jsonb",
};

export function isTypedValue(v: unknown): v is TypedValue {
  return (
    v !== null &&
    typeof v === "object" &&
    !(v instanceof Date) &&
    typeof (v as TypedValue).type === "string" &&
    "value" in (v as object)
  );
}

/** The value of `name` in `params`, or a DbError naming the placeholder and the names that were given. */
export function paramValue(params: SqlParams | undefined, name: string, sql: string): SqlParams[string] {
  if (params && Object.prototype.hasOwnProperty.call(params, name)) {
    const v = params[name];
    if (v !== undefined) return v;
  }
  const given = params ? Object.keys(params).filter((k) => params[k] !== undefined) : [];
  throw new DbError(
    "query",
    `the statement uses :${name} but no value was given for it (names are case-sensitive; given: ${given.length ? given.map((g) => ":" + g).join(", ") : "none"}): ${preview(sql)}`,
  );
}

/**
 * The statement rewritten to `$1…$n` for `pg`, and its values in that order. A typed value gets a cast
 * (`$1::uuid`), so the server never has to guess a type from context; see PG_CASTS.
 */
export function toPositional(sql: string, params?: SqlParams): { text: string; values: unknown[] } {
  const values: unknown[] = [];
  const parsed = rewriteNamed(sql, (name, k) => {
    const v = paramValue(params, name, sql);
    if (k === values.length) values.push(pgValue(name, v));
    return isTypedValue(v) ? `$${k + 1}::${PG_CASTS[v.type]}` : `$${k + 1}`;
  });
  return { text: parsed.text, values };
}

function pgValue(name: string, v: SqlParams[string]): unknown {
  if (!isTypedValue(v)) {
    if (typeof v === "number" && !Number.isFinite(v))
      throw new DbError("query", `parameter :${name} is ${v}, which no SQL column can hold`);
    return v;
  }
  const value = v.value;
  if (value === null || value === undefined) return null;
  if (!(v.type in PG_CASTS))
    throw new DbError(
      "query",
      `parameter :${name} has unknown type "${v.type}": use one of ${Object.keys(PG_CASTS).join(", ")}`,
    );
  switch (v.type) {
    case "json":
      // A string is taken as JSON text already; anything else is serialised.
      return typeof value === "string" ? value : JSON.stringify(value);
    case "date":
      return value instanceof Date ? isoDate(value) : String(value);
    case "timestamp":
      return value instanceof Date ? value.toISOString() : String(value);
    default:
      if (value instanceof Date || typeof value === "object") {
        throw new DbError(
          "query",
          `parameter :${name} is declared ${v.type} but holds ${value instanceof Date ? "a Date" : "an object"}: pass a ${v.type} value`,
        );
      }
      return value;
  }
}

/** YYYY-MM-DD of a Date in UTC. */
export function isoDate(d: Date): string {
  return d.toISOString().slice(0, 10);
}

/** The first line of a statement, shortened, for error messages (never the parameter values). */
export function preview(sql: string): string {
  const one = sql.replace(/\s+/g, " ").trim();
  return one.length > 120 ? `${one.slice(0, 117)}...` : one;
}
