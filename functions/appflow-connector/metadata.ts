/**
 * Entities are the schema's tables (ordinary and partitioned; views have no key to page by); fields are their
 * columns, read from information_schema (which also hides what the connection's user may not see), typed as
 * AppFlow field data types, with the primary key as identifier.
 */
import type { ConnectorConfig } from "./config";
import { Db, ident } from "./db";
import {
  CacheControl,
  ConnectorError,
  ConnectorOperator,
  Entity,
  EntityDefinition,
  FieldDataType,
  FieldDefinition,
} from "./protocol";

/** Lets AppFlow reuse metadata for the SDK's minimum of 10 minutes. */
export const METADATA_CACHE_CONTROL: CacheControl = { timeToLive: 600, timeToLiveUnit: "SECONDS" };

/** A column as the query builder needs it. */
export interface Column {
  name: string;
  dataType: FieldDataType;
  /** PostgreSQL's name for the type, e.g. "timestamp with time zone". */
  pgType: string;
  /** The type to cast filter and key parameters to: a quoted, schema-qualified type name. */
  castType: string;
  nullable: boolean;
  /** The column's comment. */
  description?: string;
  /** 1-based position in the primary key; 0 when not part of it. */
  pkPosition: number;
  filterOperators: ConnectorOperator[];
}

export interface TableInfo {
  schema: string;
  name: string;
  description?: string;
  partitioned: boolean;
  columns: Column[];
  byName: Map<string, Column>;
  /** Primary-key columns in key order; empty when the table has none. */
  primaryKey: Column[];
}

const NUMERIC_OPS: ConnectorOperator[] = [
  "EQUAL_TO",
  "NOT_EQUAL_TO",
  "LESS_THAN",
  "LESS_THAN_OR_EQUAL_TO",
  "GREATER_THAN",
  "GREATER_THAN_OR_EQUAL_TO",
  "BETWEEN",
];
/** Timestamps compare like numbers. */
const TIME_OPS: ConnectorOperator[] = NUMERIC_OPS;
const STRING_OPS: ConnectorOperator[] = [
  "EQUAL_TO",
  "NOT_EQUAL_TO",
  "CONTAINS",
  "LESS_THAN",
  "LESS_THAN_OR_EQUAL_TO",
  "GREATER_THAN",
  "GREATER_THAN_OR_EQUAL_TO",
  "BETWEEN",
];
const BOOLEAN_OPS: ConnectorOperator[] = ["EQUAL_TO", "NOT_EQUAL_TO"];

/** information_schema.columns.data_type → AppFlow FieldDataType. Anything not listed is a String. */
const TYPE_MAP: Record<string, FieldDataType> = {
  smallint: "Short",
  integer: "Integer",
  bigint: "Long",
  numeric: "BigDecimal",
  real: "Float",
  "double precision": "Double",
  boolean: "Boolean",
  date: "Date",
  "timestamp without time zone": "DateTime",
  "timestamp with time zone": "DateTime",
  bytea: "ByteArray",
  json: "Struct",
  jsonb: "Struct",
  ARRAY: "List",
};

export function fieldDataType(pgDataType: string): FieldDataType {
  return TYPE_MAP[pgDataType] ?? "String";
}

export function operatorsFor(t: FieldDataType): ConnectorOperator[] {
  switch (t) {
    case "Short":
    case "Integer":
    case "Long":
    case "BigInteger":
    case "BigDecimal":
    case "Float":
    case "Double":
      return NUMERIC_OPS;
    case "Date":
    case "DateTime":
      return TIME_OPS;
    case "String":
      return STRING_OPS;
    case "Boolean":
      return BOOLEAN_OPS;
    default:
      // json, arrays and bytea are returned but not filtered on.
      return [];
  }
}

export async function listEntities(
  db: Db,
  maxResult: number,
  nextToken: string | undefined,
): Promise<{ entities: Entity[]; nextToken?: string }> {
  let after = "";
  if (nextToken) {
    try {
      after = Buffer.from(nextToken, "base64url").toString("utf8");
    } catch {
      after = "";
    }
    if (!after)
      throw new ConnectorError("InvalidArgument", "nextToken is not one this connector issued for ListEntities");
  }
  const rows = await db.query<{ name: string; description: string | null; kind: string }>(
    `SELECT c.relname AS name, obj_description(c.oid, 'pg_class') AS description, c.relkind::text AS kind
       FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = :schema AND c.relkind IN ('r', 'p') AND NOT c.relispartition
        AND has_table_privilege(c.oid, 'SELECT') AND c.relname COLLATE "C" > :after
      ORDER BY c.relname COLLATE "C"
      LIMIT :limit`,
    { schema: db.target.schema, after, limit: maxResult + 1 },
  );
  const page = rows.slice(0, maxResult);
  const entities = page.map((r) => ({
    entityIdentifier: r.name,
    hasNestedEntities: false,
    isWritable: false,
    label: r.name,
    description: r.description ?? `${r.kind === "p" ? "Partitioned table" : "Table"} ${db.target.schema}.${r.name}`,
  }));
  const more = rows.length > maxResult;
  return {
    entities,
    nextToken: more ? Buffer.from(page[page.length - 1].name, "utf8").toString("base64url") : undefined,
  };
}

interface CacheEntry {
  at: number;
  info: Promise<TableInfo>;
}
const tableCache = new Map<string, CacheEntry>();

/** The table's columns and key, cached per pool for METADATA_CACHE_SECONDS; InvalidArgument when there is no such table. */
export function tableInfo(db: Db, table: string, cfg: ConnectorConfig): Promise<TableInfo> {
  const key = `${db.key}|${db.target.schema}|${table}`;
  const hit = tableCache.get(key);
  if (hit && Date.now() - hit.at < cfg.metadataCacheMs) return hit.info;
  const info = loadTableInfo(db, table);
  tableCache.set(key, { at: Date.now(), info });
  info.catch(() => {
    if (tableCache.get(key)?.info === info) tableCache.delete(key);
  });
  return info;
}

async function loadTableInfo(db: Db, table: string): Promise<TableInfo> {
  const schema = db.target.schema;
  const tables = await db.query<{ description: string | null; kind: string }>(
    `SELECT obj_description(c.oid, 'pg_class') AS description, c.relkind::text AS kind
       FROM information_schema.tables t
       JOIN pg_catalog.pg_namespace n ON n.nspname = t.table_schema
       JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = t.table_name
      WHERE t.table_schema = :schema AND t.table_name = :table AND c.relkind IN ('r', 'p')`,
    { schema, table },
  );
  if (tables.length === 0) {
    throw new ConnectorError(
      "InvalidArgument",
      `entity "${table}" is not a table the connection's user can read in schema "${schema}"; list the entities to see the valid ones`,
    );
  }
  const cols = await db.query<{
    name: string;
    data_type: string;
    udt_schema: string;
    udt_name: string;
    is_nullable: string;
    description: string | null;
    pk_position: number | null;
  }>(
    // Primary-key positions come from pg_index: information_schema's constraint views hide constraints from a user
    // who may only SELECT, which is exactly the user a connector should have.
    `SELECT c.column_name AS name, c.data_type, c.udt_schema, c.udt_name, c.is_nullable,
            col_description(t.oid, c.ordinal_position::int) AS description,
            (SELECT k.n::int FROM pg_catalog.pg_index i, unnest(i.indkey) WITH ORDINALITY AS k(attnum, n)
              WHERE i.indrelid = t.oid AND i.indisprimary AND k.attnum = c.ordinal_position::int) AS pk_position
       FROM information_schema.columns c,
            (SELECT format('%I.%I', CAST(:schema AS text), CAST(:table AS text))::regclass::oid AS oid) t
      WHERE c.table_schema = :schema AND c.table_name = :table
      ORDER BY c.ordinal_position`,
    { schema, table },
  );
  const columns: Column[] = cols.map((c) => {
    const dataType = fieldDataType(c.data_type);
    return {
      name: c.name,
      dataType,
      pgType: c.data_type === "USER-DEFINED" ? c.udt_name : c.data_type,
      castType: `${ident(c.udt_schema)}.${ident(c.udt_name)}`,
      nullable: c.is_nullable === "YES",
      pkPosition: c.pk_position ?? 0,
      filterOperators: operatorsFor(dataType),
      ...(c.description ? { description: c.description } : {}),
    };
  });
  const info: TableInfo = {
    schema,
    name: table,
    description: tables[0].description ?? undefined,
    partitioned: tables[0].kind === "p",
    columns,
    byName: new Map(columns.map((c) => [c.name, c])),
    primaryKey: columns.filter((c) => c.pkPosition > 0).sort((a, b) => a.pkPosition - b.pkPosition),
  };
  return info;
}

export function entityDefinition(info: TableInfo): EntityDefinition {
  const fields: FieldDefinition[] = info.columns.map((c) => ({
    fieldName: c.name,
    dataType: c.dataType,
    dataTypeLabel: c.pgType,
    label: c.name,
    ...(c.description ? { description: c.description } : {}),
    isPrimaryKey: c.pkPosition > 0,
    isDeprecated: false,
    readProperties: {
      isRetrievable: true,
      isNullable: c.nullable,
      isQueryable: c.filterOperators.length > 0,
      isTimestampFieldForIncrementalQueries: c.dataType === "DateTime" || c.dataType === "Date",
    },
    filterOperators: c.filterOperators,
    customProperties: { postgresType: c.pgType },
  }));
  return {
    entity: {
      entityIdentifier: info.name,
      hasNestedEntities: false,
      isWritable: false,
      label: info.name,
      description: info.description ?? `Table ${info.schema}.${info.name}`,
    },
    fields,
    customProperties: {
      schema: info.schema,
      primaryKey: info.primaryKey.map((c) => c.name).join(","),
      pagination: info.primaryKey.length > 0 ? "primary key" : "ctid (no primary key)",
    },
  };
}
