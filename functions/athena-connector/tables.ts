/**
 * The connector's tables: each one SaaS endpoint read the way saas-export reads it (the same URL, pagination and
 * records-path syntax, parsed by saas-export's own code), plus the typed columns Athena sees. The same validation
 * runs at deploy time (components/athena-connector.ts) and at cold start (./config.ts), so a bad table never reaches
 * Athena.
 *
 * Naming rules come from the Athena user guide ("Name databases, tables, and columns"): names are lower case and at
 * most 255 characters, and Athena lower-cases every identifier in a query before it asks the connector. The kit
 * narrows that to letters, digits and '_' so that a name never needs quoting.
 */
import { pagination as parsePagination, Pagination, saasUrl as parseSaasUrl } from "../saas-export/settings";
import { JsonPath, parseJsonPath } from "../saas-export/json-path";

/** Column types the connector can serve, with the Athena type each becomes. */
export const COLUMN_TYPES = {
  string: "varchar",
  int: "integer",
  bigint: "bigint",
  double: "double",
  boolean: "boolean",
  /** An ISO 8601 string or epoch milliseconds in the SaaS; Arrow DateMilli, which Athena reads as timestamp. */
  timestamp: "timestamp",
  /** YYYY-MM-DD (or an ISO timestamp, whose date part is kept); Arrow DateDay. */
  date: "date",
} as const;
export type ColumnType = keyof typeof COLUMN_TYPES;

/** Query parameters through which the SaaS filters a column itself (pushdown). */
export interface ColumnFilterSpec {
  /** Parameter taking one value the column must equal, e.g. "status". */
  equals?: string;
  /** Parameter taking an inclusive lower bound, e.g. "updated_since". */
  min?: string;
  /** Parameter taking an inclusive upper bound, e.g. "updated_until". */
  max?: string;
}

export interface ColumnSpec {
  name: string;
  type: ColumnType;
  /** Where the value sits in a record (./json-path syntax); default: the column name. */
  path?: string;
  filter?: ColumnFilterSpec;
}

/** One table as written in config (`athenaConnector.tables[]`) and in the function's ATHENA_TABLES variable. */
export interface TableSpec {
  name: string;
  /** https URL of the first page, as saas-export's SAAS_URL. */
  url: string;
  /** none | link | cursor:<path>:<param> | page:<param>, as saas-export's SAAS_PAGINATION. Default none. */
  pagination?: string;
  /** Where each page holds its records, as saas-export's SAAS_RECORDS_PATH. Default $. */
  recordsPath?: string;
  columns: ColumnSpec[];
  /**
   * Parallel splits for `page:` pagination: split i of N reads pages i, i+N, i+2N… until its first empty page.
   * Default 4 for page pagination; other styles follow one cursor or link chain and always read as one split.
   */
  splits?: number;
}

export interface Column {
  name: string;
  type: ColumnType;
  path: JsonPath;
  filter?: ColumnFilterSpec;
}

export interface Table {
  name: string;
  url: URL;
  pagination: Pagination;
  recordsPath: JsonPath;
  columns: Column[];
  splits: number;
}

export const NAME = /^[a-z_][a-z0-9_]{0,254}$/;
const PARAM = /^[A-Za-z0-9_.\-[\]]{1,128}$/;
export const MAX_SPLITS = 100;

/**
 * Validates `specs` (config key `key`, e.g. "athenaConnector.tables") and returns the tables or every problem found,
 * each naming the bad key and the fix.
 */
export function parseTables(specs: unknown, key: string): { tables: Table[]; problems: string[] } {
  const problems: string[] = [];
  const tables: Table[] = [];
  if (!Array.isArray(specs) || specs.length === 0) {
    return {
      tables,
      problems: [
        `${key}: must list at least one table, e.g. [{"name": "customers", "url": "https://api.example.com/v1/customers", "pagination": "page:page", "recordsPath": "data", "columns": [{"name": "id", "type": "bigint"}]}]`,
      ],
    };
  }
  const seen = new Set<string>();
  specs.forEach((raw, i) => {
    const t = (raw ?? {}) as Partial<TableSpec>;
    const at = `${key}[${i}]`;
    const before = problems.length;
    if (typeof t.name !== "string" || !NAME.test(t.name)) {
      problems.push(
        `${at}.name: ${JSON.stringify(t.name)} is not a name Athena can query: use lower case letters, digits and '_' (starting with a letter or '_', at most 255), e.g. "customers" — Athena lower-cases table names before asking the connector`,
      );
    } else if (seen.has(t.name)) {
      problems.push(`${at}.name: "${t.name}" is listed twice: give every table its own name`);
    } else seen.add(t.name);
    const where = at;

    const url =
      typeof t.url === "string" ? parseSaasUrl(t.url) : { problem: "is not set: give the https URL of the first page" };
    if ("problem" in url) problems.push(`${where}.url: ${url.problem}`);
    const pag = parsePagination(t.pagination ?? "none");
    if ("problem" in pag) problems.push(`${where}.pagination: ${pag.problem}`);
    const rp = parseJsonPath(t.recordsPath ?? "$");
    if (typeof rp === "string") problems.push(`${where}.recordsPath: ${rp}`);

    const isPage = !("problem" in pag) && pag.kind === "page";
    const splits = t.splits ?? (isPage ? 4 : 1);
    if (!Number.isInteger(splits) || splits < 1 || splits > MAX_SPLITS) {
      problems.push(`${where}.splits: must be an integer from 1 to ${MAX_SPLITS}; got ${JSON.stringify(t.splits)}`);
    } else if (splits > 1 && !isPage && !("problem" in pag)) {
      problems.push(
        `${where}.splits: is ${splits}, but only page:<param> pagination can be read in parallel (a cursor or link chain is sequential): remove splits or use page pagination`,
      );
    }

    const columns: Column[] = [];
    if (!Array.isArray(t.columns) || t.columns.length === 0) {
      problems.push(
        `${where}.columns: is empty: declare the columns Athena should see, e.g. [{"name": "id", "type": "bigint"}, {"name": "email", "type": "string"}]`,
      );
    } else {
      const names = new Set<string>();
      t.columns.forEach((rawCol, j) => {
        const c = (rawCol ?? {}) as Partial<ColumnSpec>;
        const cat = `${where}.columns[${j}]`;
        if (typeof c.name !== "string" || !NAME.test(c.name)) {
          problems.push(
            `${cat}.name: ${JSON.stringify(c.name)} is not a column name Athena can query: use lower case letters, digits and '_', e.g. "created_at"; map a differently spelt field with "path"`,
          );
          return;
        }
        if (names.has(c.name)) problems.push(`${cat}.name: "${c.name}" is declared twice in table ${t.name}`);
        names.add(c.name);
        if (typeof c.type !== "string" || !Object.prototype.hasOwnProperty.call(COLUMN_TYPES, c.type)) {
          problems.push(
            `${cat}.type: ${JSON.stringify(c.type)} is not a supported column type: use one of ${Object.keys(COLUMN_TYPES).join(", ")}`,
          );
          return;
        }
        const path = parseJsonPath(c.path ?? c.name);
        if (typeof path === "string") {
          problems.push(`${cat}.path: ${path}`);
          return;
        }
        if (path.segments.length === 0) {
          problems.push(`${cat}.path: must name a field inside the record, not the whole record ($)`);
          return;
        }
        const f = c.filter;
        if (f !== undefined) {
          const keys = Object.keys(f);
          const unknown = keys.filter((k) => !["equals", "min", "max"].includes(k));
          if (unknown.length > 0 || keys.length === 0) {
            problems.push(
              `${cat}.filter: must map equals, min and/or max to the SaaS's query parameters, e.g. {"min": "updated_since"}; got keys ${JSON.stringify(keys)}`,
            );
          }
          for (const k of ["equals", "min", "max"] as const) {
            const p = f[k];
            if (p !== undefined && (typeof p !== "string" || !PARAM.test(p)))
              problems.push(`${cat}.filter.${k}: ${JSON.stringify(p)} is not a query parameter name`);
          }
          if ((f.min || f.max) && c.type === "boolean")
            problems.push(`${cat}.filter: a boolean column has no range; use equals`);
          if (!("problem" in url)) {
            for (const k of ["equals", "min", "max"] as const) {
              const p = f[k];
              if (typeof p === "string" && url.searchParams.has(p))
                problems.push(
                  `${cat}.filter.${k}: "${p}" is already set in ${where}.url: remove it from the URL so the connector can set it per query`,
                );
            }
          }
          if (
            !("problem" in pag) &&
            pag.kind !== "none" &&
            "param" in pag &&
            [f.equals, f.min, f.max].includes(pag.param)
          ) {
            problems.push(`${cat}.filter: uses "${pag.param}", the pagination parameter`);
          }
        }
        columns.push({ name: c.name, type: c.type as ColumnType, path, filter: f });
      });
    }
    if (problems.length === before && !("problem" in url) && !("problem" in pag) && typeof rp !== "string") {
      tables.push({ name: t.name!, url, pagination: pag, recordsPath: rp, columns, splits });
    }
  });
  return { tables, problems };
}
