/**
 * The constraint summary Athena sends with GetTableLayout, GetSplits and ReadRecords: per column a ValueSet, as the
 * SDK serializes it:
 *   EquatableValueSet  {valueBlock, whiteList, nullAllowed}: the column is (whiteList) or is not one of the block's values
 *   SortedRangeSet     {type, ranges: [{low, high}], nullAllowed}: the column lies in one of the ranges; a bound is a
 *                      Marker {valueBlock, bound: ABOVE | EXACTLY | BELOW, nullValue}, nullValue meaning unbounded
 *   AllOrNoneValueSet  {type, all, nullAllowed}
 * Every row is checked against every constraint on a declared column (Athena filters again; this only saves bytes).
 * A constraint on a column with a `filter` is also sent to the SaaS as query parameters, widened to an interval the
 * SaaS can express (one value, or an inclusive min/max), so the SaaS returns a superset and the check above trims it.
 */
import { decodeBlock } from "./arrow";
import type { Column, Table } from "./tables";
import { compare } from "./values";

interface BlockJson {
  schema: string;
  records: string;
}
interface MarkerJson {
  valueBlock?: BlockJson;
  bound: "ABOVE" | "EXACTLY" | "BELOW";
  nullValue: boolean;
}
type ValueSetJson =
  | { "@type": "EquatableValueSet"; valueBlock: BlockJson; whiteList: boolean; nullAllowed: boolean }
  | { "@type": "SortedRangeSet"; ranges: { low: MarkerJson; high: MarkerJson }[]; nullAllowed: boolean }
  | { "@type": "AllOrNoneValueSet"; all: boolean; nullAllowed: boolean };

export interface Bound {
  value: unknown;
  inclusive: boolean;
}
export type Predicate =
  | { kind: "all" | "none"; nullAllowed: boolean }
  | { kind: "in"; values: unknown[]; whiteList: boolean; nullAllowed: boolean }
  | { kind: "ranges"; ranges: { low?: Bound; high?: Bound }[]; nullAllowed: boolean };

/** Comparable values of a one-column block (dates as epoch ms, Int64 as bigint). */
function blockValues(b: BlockJson | undefined): unknown[] {
  if (!b || !b.records) return [];
  const { schema, rows } = decodeBlock(b);
  const name = schema.fields[0]?.name;
  return name === undefined ? [] : rows.map((r) => r[name]);
}

function marker(m: MarkerJson | undefined): Bound | undefined {
  if (!m || m.nullValue) return undefined;
  const [value] = blockValues(m.valueBlock);
  if (value === undefined || value === null) return undefined;
  return { value, inclusive: m.bound === "EXACTLY" };
}

export class ConstraintError extends Error {}

/** Parses `constraints.summary` for every column it names. */
export function parseValueSets(constraints: unknown): Map<string, Predicate> {
  const out = new Map<string, Predicate>();
  const summary = (constraints as { summary?: Record<string, ValueSetJson> } | undefined)?.summary ?? {};
  for (const [column, vs] of Object.entries(summary)) {
    switch (vs?.["@type"]) {
      case "AllOrNoneValueSet":
        out.set(column, { kind: vs.all ? "all" : "none", nullAllowed: !!vs.nullAllowed });
        break;
      case "EquatableValueSet":
        out.set(column, {
          kind: "in",
          values: blockValues(vs.valueBlock),
          whiteList: !!vs.whiteList,
          nullAllowed: !!vs.nullAllowed,
        });
        break;
      case "SortedRangeSet":
        out.set(column, {
          kind: "ranges",
          ranges: (vs.ranges ?? []).map((r) => ({ low: marker(r.low), high: marker(r.high) })),
          nullAllowed: !!vs.nullAllowed,
        });
        break;
      default:
        throw new ConstraintError(
          `constraint on column ${column} has an unknown value set type ${JSON.stringify((vs as { "@type"?: unknown } | undefined)?.["@type"])}`,
        );
    }
  }
  return out;
}

/** The constraints on the table's declared columns (Athena evaluates any others itself). */
export function parseSummary(constraints: unknown, table: Table): Map<string, Predicate> {
  const all = parseValueSets(constraints);
  return new Map([...all].filter(([c]) => table.columns.some((x) => x.name === c)));
}

/** Whether a comparable value (null for SQL NULL) satisfies `p`. */
export function satisfies(p: Predicate, v: unknown): boolean {
  if (v === null || v === undefined) return p.nullAllowed;
  switch (p.kind) {
    case "all":
      return true;
    case "none":
      return false;
    case "in": {
      const hit = p.values.some((x) => compare(x, v) === 0);
      return p.whiteList ? hit : !hit;
    }
    case "ranges":
      return p.ranges.some((r) => {
        if (r.low) {
          const c = compare(v, r.low.value);
          if (c === undefined || c < 0 || (c === 0 && !r.low.inclusive)) return false;
        }
        if (r.high) {
          const c = compare(v, r.high.value);
          if (c === undefined || c > 0 || (c === 0 && !r.high.inclusive)) return false;
        }
        return true;
      });
  }
}

/** Query parameters that narrow the SaaS's answer to a superset of the rows `predicates` admit. */
export function pushdownParams(table: Table, predicates: Map<string, Predicate>): Record<string, string> {
  const params: Record<string, string> = {};
  for (const col of table.columns) {
    const p = predicates.get(col.name);
    const f = col.filter;
    if (!p || !f || p.nullAllowed) continue;
    if (p.kind === "in" && p.whiteList && p.values.length === 1 && f.equals) {
      params[f.equals] = formatParam(p.values[0], col);
    } else if (p.kind === "ranges" && p.ranges.length > 0) {
      const single = p.ranges.length === 1 ? p.ranges[0] : undefined;
      if (
        single?.low &&
        single.high &&
        single.low.inclusive &&
        single.high.inclusive &&
        compare(single.low.value, single.high.value) === 0 &&
        f.equals
      ) {
        params[f.equals] = formatParam(single.low.value, col);
        continue;
      }
      // The envelope of all ranges: bounded below only if every range is, likewise above.
      const lows = p.ranges.map((r) => r.low);
      const highs = p.ranges.map((r) => r.high);
      if (f.min && lows.every((b) => b)) {
        const min = lows.reduce((a, b) => (compare(b!.value, a!.value)! < 0 ? b : a))!;
        params[f.min] = formatParam(min.value, col);
      }
      if (f.max && highs.every((b) => b)) {
        const max = highs.reduce((a, b) => (compare(b!.value, a!.value)! > 0 ? b : a))!;
        params[f.max] = formatParam(max.value, col);
      }
    }
  }
  return params;
}

function formatParam(v: unknown, col: Column): string {
  if (col.type === "timestamp" && typeof v === "number") return new Date(v).toISOString();
  if (col.type === "date" && typeof v === "number") return new Date(v).toISOString().slice(0, 10);
  return String(v);
}
