/**
 * The request envelope as the federation SDK serializes it: `@type` first, then `identity` (the caller's account,
 * ARN, tags, groups and config options), `queryId` and `catalogName`, then the fields of the request type. Later
 * SerDe versions only append fields (v5 queryPassthroughArguments, v4+ constraint expressions, orderByClause and
 * limit, v6 queryPlan), so one tolerant reader serves every version up to the newest; fields the connector does not
 * use are ignored, as the SDK's forwards-compatible readers do.
 */
import type { Schema } from "apache-arrow/schema";
import { decodeSchema } from "./arrow";
import { ConstraintError, parseValueSets, Predicate } from "./constraints";
import { ConnectorError } from "./errors";

export const REQUEST_TYPES = [
  "PingRequest",
  "ListSchemasRequest",
  "ListTablesRequest",
  "GetTableRequest",
  "GetTableLayoutRequest",
  "GetSplitsRequest",
  "ReadRecordsRequest",
  "GetDataSourceCapabilitiesRequest",
] as const;
export type RequestType = (typeof REQUEST_TYPES)[number];

export interface FederatedIdentity {
  id?: string;
  principal?: string;
  account?: string;
  arn?: string;
  tags?: Record<string, string>;
  groups?: string[];
  configOptions?: Record<string, string>;
}

export interface ParsedRequest {
  type: RequestType;
  identity: FederatedIdentity;
  catalogName: string;
  queryId: string;
  schemaName?: string | null;
  tableName?: { schemaName: string; tableName: string };
  nextToken?: string | null;
  pageSize?: number;
  /** Decoded constraint summary, per column. */
  constraints: Map<string, Predicate>;
  /** Decoded `schema` (GetTableLayout, ReadRecords). */
  schema?: Schema;
  partitionColumns?: string[];
  split?: {
    spillLocation: { bucket: string; key: string; directory: boolean };
    encryptionKey: { key: string; nonce: string } | null;
    properties: Record<string, string>;
  };
  continuationToken?: string | null;
  maxBlockSize?: number;
  maxInlineBlockSize?: number;
  queryPassthroughArguments?: Record<string, string>;
}

const bad = (msg: string) =>
  new ConnectorError("request", `not an Athena federation request this connector serves: ${msg}`);

export function parseRequest(event: unknown): ParsedRequest {
  if (event === null || typeof event !== "object" || Array.isArray(event)) throw bad("the event is not a JSON object");
  const e = event as Record<string, unknown>;
  const type = e["@type"];
  if (typeof type !== "string") throw bad('it has no "@type"');
  if (!(REQUEST_TYPES as readonly string[]).includes(type)) {
    throw new ConnectorError(
      "request",
      `request type ${JSON.stringify(type)} is not served: this connector answers ${REQUEST_TYPES.join(", ")} (it defines no user-defined functions).`,
    );
  }
  const str = (k: string, optional = false): string | undefined => {
    const v = e[k];
    if (v === undefined || v === null) {
      if (optional) return undefined;
      throw bad(`${type} has no ${k}`);
    }
    if (typeof v !== "string") throw bad(`${type}.${k} is not a string`);
    return v;
  };
  const num = (k: string): number | undefined => {
    const v = e[k];
    if (v === undefined || v === null) return undefined;
    const n = Number(v); // the SDK writes block sizes as strings
    if (!Number.isFinite(n)) throw bad(`${type}.${k} is not a number`);
    return n;
  };
  const identity = e.identity;
  if (identity === null || typeof identity !== "object") throw bad(`${type} has no identity`);
  const out: ParsedRequest = {
    type: type as RequestType,
    identity: identity as FederatedIdentity,
    catalogName: str("catalogName")!,
    queryId: str("queryId")!,
    constraints: new Map(),
  };
  const tn = e.tableName as { schemaName?: unknown; tableName?: unknown } | undefined;
  const needsTable = ["GetTableRequest", "GetTableLayoutRequest", "GetSplitsRequest", "ReadRecordsRequest"].includes(
    type,
  );
  if (needsTable) {
    if (!tn || typeof tn.schemaName !== "string" || typeof tn.tableName !== "string")
      throw bad(`${type}.tableName must be {schemaName, tableName}`);
    out.tableName = { schemaName: tn.schemaName, tableName: tn.tableName };
  }
  if (type === "ListTablesRequest") {
    out.schemaName = str("schemaName", true) ?? null;
    out.nextToken = str("nextToken", true) ?? null;
    out.pageSize = num("pageSize") ?? -1;
  }
  if (["GetTableLayoutRequest", "GetSplitsRequest", "ReadRecordsRequest"].includes(type)) {
    try {
      out.constraints = parseValueSets(e.constraints);
    } catch (err) {
      if (err instanceof ConstraintError) throw bad(err.message);
      throw bad(`${type}.constraints cannot be decoded (${(err as Error).message})`);
    }
  }
  if (type === "GetTableLayoutRequest" || type === "ReadRecordsRequest") {
    try {
      out.schema = decodeSchema(str("schema")!);
    } catch (err) {
      if (err instanceof ConnectorError) throw err;
      throw bad(`${type}.schema is not an Arrow IPC schema (${(err as Error).message})`);
    }
  }
  if (type === "GetTableLayoutRequest" || type === "GetSplitsRequest") {
    const pc = e.partitionColumns;
    out.partitionColumns = Array.isArray(pc) ? pc.map(String) : [];
  }
  if (type === "GetSplitsRequest") out.continuationToken = str("continuationToken", true) ?? null;
  if (type === "ReadRecordsRequest") {
    const s = e.split as ParsedRequest["split"] | undefined;
    if (!s || !s.spillLocation || typeof s.spillLocation.bucket !== "string" || typeof s.spillLocation.key !== "string")
      throw bad("ReadRecordsRequest.split has no S3 spill location");
    out.split = {
      spillLocation: s.spillLocation,
      encryptionKey: s.encryptionKey ?? null,
      properties: s.properties ?? {},
    };
    out.maxBlockSize = num("maxBlockSize");
    out.maxInlineBlockSize = num("maxInlineBlockSize");
  }
  if (e.queryPassthroughArguments && typeof e.queryPassthroughArguments === "object")
    out.queryPassthroughArguments = e.queryPassthroughArguments as Record<string, string>;
  return out;
}
