/**
 * QueryData and RetrieveData. Records are JSON objects built by PostgreSQL itself (`to_json` of the selected
 * columns: bigint and numeric stay exact, timestamps are ISO 8601, json stays nested), returned as the serialized
 * strings the protocol asks for.
 *
 * Pages are keyset pages over the primary key (the ctid for a table without one): each page is
 * `WHERE <filter> AND key > <last key of the previous page> ORDER BY key LIMIT n`, so every page costs the same
 * however deep the flow has read, and rows inserted meanwhile are never returned twice. `nextToken` carries the
 * last key (as text) and a hash of the entity and filter it belongs to. A page ends at maxResults rows (at most
 * MAX_PAGE_ROWS) or before the response would exceed RESPONSE_MAX_BYTES, whichever comes first: Lambda refuses
 * responses over 6 MB.
 */
import * as crypto from "crypto";
import type { ConnectorConfig } from "./config";
import { Binds, Db, ident } from "./db";
import { compileCondition, parseFilter } from "./filter";
import { Column, TableInfo, tableInfo } from "./metadata";
import { ConnectorError } from "./protocol";

/** SDK default when a request has no maxResults. */
export const DEFAULT_MAX_RESULTS = 1000;

/** What an empty response with a token costs, generously: `{"isSuccess":true,"records":[],"nextToken":"…"}` plus null fields. */
const RESPONSE_OVERHEAD_BYTES = 2048;

export interface QueryInput {
  entity: string;
  selectedFieldNames?: string[] | null;
  filterExpression?: string | null;
  nextToken?: string | null;
  maxResults?: number | null;
}

export interface Page {
  records: string[];
  nextToken?: string;
  /** Bytes the records add to the response (for logs and the benchmark). */
  bytes: number;
}

interface Token {
  v: 1;
  /** Hash of entity, filter and key columns: a token is only valid for the query that issued it. */
  h: string;
  /** The last row's key values, as text. */
  k: string[];
  /** Records still allowed by the filter's LIMIT. */
  r?: number;
}

interface Key {
  exprs: string[];
  casts: string[];
  names: string[];
}

function keyOf(info: TableInfo): Key {
  if (info.primaryKey.length > 0) {
    return {
      exprs: info.primaryKey.map((c) => `t.${ident(c.name)}`),
      casts: info.primaryKey.map((c) => c.castType),
      names: info.primaryKey.map((c) => c.name),
    };
  }
  if (info.partitioned) {
    throw new ConnectorError(
      "InvalidArgument",
      `entity "${info.name}" is a partitioned table without a primary key, which cannot be paged reliably; add a primary key`,
    );
  }
  // Ordinary tables without a key page by physical row id (a TID range scan); see the README's limits.
  return { exprs: ["t.ctid"], casts: ["tid"], names: ["ctid"] };
}

function selectedColumns(info: TableInfo, names: string[] | null | undefined): Column[] {
  if (!names || names.length === 0) return info.columns;
  const unknown = names.filter((n) => !info.byName.has(n));
  if (unknown.length > 0) {
    throw new ConnectorError(
      "InvalidArgument",
      `selectedFieldNames: ${unknown.map((n) => `"${n}"`).join(", ")} ${unknown.length === 1 ? "is not a field" : "are not fields"} of ${info.name}`,
    );
  }
  return [...new Set(names)].map((n) => info.byName.get(n) as Column);
}

function fromClause(info: TableInfo, columns: Column[]): string {
  const projection = columns.map((c) => `t.${ident(c.name)} AS ${ident(c.name)}`).join(", ");
  return `FROM ${ident(info.schema)}.${ident(info.name)} AS t CROSS JOIN LATERAL (SELECT ${projection}) AS r`;
}

function tokenHash(info: TableInfo, filter: string, key: Key): string {
  return crypto
    .createHash("sha256")
    .update(JSON.stringify([info.schema, info.name, filter, key.names]))
    .digest("base64url")
    .slice(0, 16);
}

function decodeToken(token: string, hash: string, keyLength: number): Token {
  let t: Token | undefined;
  try {
    t = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as Token;
  } catch {
    t = undefined;
  }
  if (
    !t ||
    t.v !== 1 ||
    !Array.isArray(t.k) ||
    t.k.length !== keyLength ||
    !t.k.every((x) => typeof x === "string") ||
    (t.r !== undefined && !(Number.isInteger(t.r) && t.r > 0))
  ) {
    throw new ConnectorError("InvalidArgument", "nextToken is not one this connector issued");
  }
  if (t.h !== hash)
    throw new ConnectorError(
      "InvalidArgument",
      "nextToken belongs to a different entity or filter expression; start the query again without it",
    );
  return t;
}

function encodeToken(t: Token): string {
  return Buffer.from(JSON.stringify(t), "utf8").toString("base64url");
}

/** The bytes `s` takes inside the response JSON: as a JSON string (quotes and backslashes escaped) plus a comma. */
export function recordBytes(s: string): number {
  let extra = 3;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 34 || c === 92) extra++;
  }
  return Buffer.byteLength(s, "utf8") + extra;
}

export async function queryData(db: Db, input: QueryInput, cfg: ConnectorConfig): Promise<Page> {
  const info = await tableInfo(db, input.entity, cfg);
  const columns = selectedColumns(info, input.selectedFieldNames);
  const filter = parseFilter(input.filterExpression);
  const key = keyOf(info);
  const hash = tokenHash(info, input.filterExpression?.trim() ?? "", key);
  const token = input.nextToken ? decodeToken(input.nextToken, hash, key.exprs.length) : undefined;

  const requested = input.maxResults ?? DEFAULT_MAX_RESULTS;
  if (!Number.isInteger(requested) || requested < 1)
    throw new ConnectorError("InvalidArgument", `maxResults must be a positive whole number; got ${requested}`);
  const remaining = token?.r ?? filter.limit;
  const pageRows = Math.min(requested, cfg.maxPageRows, remaining ?? Infinity);

  const binds = new Binds();
  const where: string[] = [];
  if (filter.condition) where.push(compileCondition(filter.condition, info, binds));
  if (token) {
    const bounds = token.k.map((v, i) => `CAST(${binds.add(v)} AS ${key.casts[i]})`);
    where.push(
      key.exprs.length === 1 ? `${key.exprs[0]} > ${bounds[0]}` : `(${key.exprs.join(", ")}) > (${bounds.join(", ")})`,
    );
  }
  const sql =
    `SELECT to_json(r)::text AS record, ${key.exprs.map((e, i) => `CAST(${e} AS text) AS k${i}`).join(", ")} ` +
    `${fromClause(info, columns)}${where.length ? ` WHERE ${where.join(" AND ")}` : ""} ` +
    `ORDER BY ${key.exprs.join(", ")} LIMIT ${binds.add(pageRows + 1)}`;
  const rows = await db.query<Record<string, string>>(sql, binds.values);

  const records: string[] = [];
  let bytes = 0;
  let cut = false;
  for (let i = 0; i < rows.length && records.length < pageRows; i++) {
    const b = recordBytes(rows[i].record);
    if (RESPONSE_OVERHEAD_BYTES + bytes + b > cfg.responseMaxBytes) {
      if (records.length === 0) {
        throw new ConnectorError(
          "ClientError",
          `one record of ${info.name} is ${b} bytes, more than a response may hold (RESPONSE_MAX_BYTES=${cfg.responseMaxBytes}); select fewer fields`,
        );
      }
      cut = true;
      break;
    }
    records.push(rows[i].record);
    bytes += b;
  }
  const left = remaining === undefined ? undefined : remaining - records.length;
  const more = (cut || rows.length > records.length) && (left === undefined || left > 0);
  if (!more) return { records, bytes };
  const last = rows[records.length - 1];
  return {
    records,
    bytes,
    nextToken: encodeToken({
      v: 1,
      h: hash,
      k: key.exprs.map((_, i) => last[`k${i}`]),
      ...(left !== undefined ? { r: left } : {}),
    }),
  };
}

export interface RetrieveInput {
  entity: string;
  selectedFieldNames?: string[] | null;
  idFieldName?: string | null;
  ids?: string[] | null;
}

export async function retrieveData(db: Db, input: RetrieveInput, cfg: ConnectorConfig): Promise<Page> {
  const info = await tableInfo(db, input.entity, cfg);
  const columns = selectedColumns(info, input.selectedFieldNames);
  let idColumn: Column;
  if (input.idFieldName) {
    const c = info.byName.get(input.idFieldName);
    if (!c)
      throw new ConnectorError("InvalidArgument", `idFieldName "${input.idFieldName}" is not a field of ${info.name}`);
    if (c.dataType === "Struct" || c.dataType === "List" || c.dataType === "ByteArray")
      throw new ConnectorError(
        "InvalidArgument",
        `idFieldName "${c.name}" is ${c.dataType} and cannot identify records`,
      );
    idColumn = c;
  } else if (info.primaryKey.length === 1) {
    idColumn = info.primaryKey[0];
  } else {
    throw new ConnectorError(
      "InvalidArgument",
      `${info.name} has ${info.primaryKey.length === 0 ? "no primary key" : "a composite primary key"}: give idFieldName`,
    );
  }
  const ids = [...new Set(input.ids ?? [])];
  if (ids.length === 0) return { records: [], bytes: 0 };
  if (ids.length > cfg.maxPageRows)
    throw new ConnectorError(
      "InvalidArgument",
      `ids lists ${ids.length} values; at most ${cfg.maxPageRows} (MAX_PAGE_ROWS) per request`,
    );
  const binds = new Binds();
  const list = ids.map((id) => `CAST(${binds.add(id)} AS ${idColumn.castType})`).join(", ");
  const sql = `SELECT to_json(r)::text AS record ${fromClause(info, columns)} WHERE t.${ident(idColumn.name)} IN (${list}) ORDER BY t.${ident(idColumn.name)}`;
  const rows = await db.query<{ record: string }>(sql, binds.values);
  let bytes = 0;
  const records = rows.map((r) => {
    bytes += recordBytes(r.record);
    return r.record;
  });
  if (RESPONSE_OVERHEAD_BYTES + bytes > cfg.responseMaxBytes) {
    throw new ConnectorError(
      "ClientError",
      `the ${records.length} records asked for take ${bytes} bytes, more than a response may hold (RESPONSE_MAX_BYTES=${cfg.responseMaxBytes}); ask for fewer ids per request`,
    );
  }
  return { records, bytes };
}
