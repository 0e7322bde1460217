/**
 * JSON values from the SaaS → values of the declared column type. A value that does not fit its column is an error
 * naming the table and column (a wrong type in config would otherwise turn real data into NULLs without a word).
 */
import type { ColumnType } from "./tables";

export class ValueError extends Error {}

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** The value apache-arrow's vectorFromArray takes for `type`; null for null/absent. */
export function toArrowValue(v: unknown, type: ColumnType): unknown {
  if (v === null || v === undefined) return null;
  switch (type) {
    case "string":
      return typeof v === "string" ? v : typeof v === "object" ? JSON.stringify(v) : String(v);
    case "int": {
      const n = typeof v === "number" ? v : typeof v === "string" && /^-?\d+$/.test(v.trim()) ? Number(v) : NaN;
      if (!Number.isInteger(n) || n < INT32_MIN || n > INT32_MAX)
        throw new ValueError(`${describe(v)} is not a 32-bit integer (use type bigint or double)`);
      return n;
    }
    case "bigint": {
      let b: bigint | undefined;
      if (typeof v === "number" && Number.isSafeInteger(v)) b = BigInt(v);
      else if (typeof v === "string" && /^-?\d+$/.test(v.trim())) b = BigInt(v.trim());
      if (b === undefined || b < INT64_MIN || b > INT64_MAX)
        throw new ValueError(`${describe(v)} is not a 64-bit integer (use type double or string)`);
      return b;
    }
    case "double": {
      const n = typeof v === "number" ? v : typeof v === "string" && v.trim() !== "" ? Number(v) : NaN;
      if (!Number.isFinite(n)) throw new ValueError(`${describe(v)} is not a number (use type string)`);
      return n;
    }
    case "boolean":
      if (typeof v === "boolean") return v;
      if (v === "true" || v === "false") return v === "true";
      throw new ValueError(`${describe(v)} is not a boolean (use type string)`);
    case "timestamp": {
      const ms = typeof v === "number" ? v : typeof v === "string" ? Date.parse(v) : NaN;
      if (!Number.isFinite(ms))
        throw new ValueError(`${describe(v)} is not an ISO 8601 timestamp or epoch milliseconds (use type string)`);
      return new Date(ms);
    }
    case "date": {
      const m = typeof v === "string" ? /^(\d{4}-\d{2}-\d{2})(?:$|T)/.exec(v) : null;
      const ms = m ? Date.parse(`${m[1]}T00:00:00Z`) : NaN;
      if (!Number.isFinite(ms)) throw new ValueError(`${describe(v)} is not a date YYYY-MM-DD (use type string)`);
      return new Date(ms);
    }
  }
}

/** The form constraints compare: numbers, bigints, strings, booleans; dates and timestamps as epoch ms. */
export function comparable(arrowValue: unknown): unknown {
  return arrowValue instanceof Date ? arrowValue.getTime() : arrowValue;
}

/** Orders two comparable values of one column; undefined when they cannot be compared. */
export function compare(a: unknown, b: unknown): number | undefined {
  if (typeof a === "bigint" && typeof b === "number") return compare(Number(a), b);
  if (typeof a === "number" && typeof b === "bigint") return compare(a, Number(b));
  if (typeof a !== typeof b) return undefined;
  if (typeof a === "string" || typeof a === "number" || typeof a === "bigint" || typeof a === "boolean") {
    return a < (b as typeof a) ? -1 : a > (b as typeof a) ? 1 : 0;
  }
  return undefined;
}

function describe(v: unknown): string {
  if (typeof v === "string") return `"${v.length > 40 ? `${v.slice(0, 40)}…` : v}"`;
  if (typeof v === "object") return Array.isArray(v) ? "an array" : "an object";
  return String(v);
}
