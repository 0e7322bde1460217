/**
 * athena-connector: an Amazon Athena federated query connector (a Lambda data catalog) that reads the IP-restricted
 * SaaS live, through the Squid proxy tier, with saas-export's client, pagination and secrets.
 *
 * Protocol: Athena invokes the function with one JSON request per call, as the Athena Query Federation SDK
 * serializes it (`@type`, identity, catalogName, queryId…), and reads back the SDK's JSON response. The connector
 * answers PingRequest with SerDe version 4 (see docs/athena-connector.md), and serves ListSchemas, ListTables
 * (paged), GetTable, GetTableLayout, GetSplits, ReadRecords and GetDataSourceCapabilities. Schemas and rows are
 * Arrow IPC, base64 (./arrow.ts). Response fields are written in the SDK serializers' order: the SDK's readers take
 * fields in sequence.
 *
 * Network flows (its security group's egress):
 *   - TCP <proxy port> to the proxy tier's load balancer, for every SaaS request (CONNECT with the secret header);
 *   - TCP 443 to S3 through the S3 gateway endpoint, to write spilled blocks;
 *   - TCP 443 to the Secrets Manager interface endpoint.
 * IAM: secretsmanager:GetSecretValue on the proxy-header and SaaS secrets; s3:PutObject on the spill prefix.
 *
 * Environment (./config.ts): PROXY_URL, PROXY_HEADER_NAME, PROXY_HEADER_SECRET_ID, SAAS_AUTH_SECRET_ID (optional),
 * ATHENA_TABLES (JSON, ./tables.ts), SCHEMA_NAME (saas), SPILL_BUCKET, SPILL_PREFIX (athena-spill/), and tuning:
 * INLINE_MAX_BYTES, SPILL_BLOCK_BYTES, SAAS_TIMEOUT_MS, PROXY_CONNECT_TIMEOUT_MS, RETRY_*, SAAS_MAX_PAGES, LOG_LEVEL.
 */
import * as crypto from "crypto";
import type { Schema } from "apache-arrow/schema";
import { ExportError } from "../saas-export/errors";
import { fetchPages } from "../saas-export/pages";
import { connectSaas } from "../saas-export/connect";
import { forgetSecret } from "../saas-export/secrets";
import { createLogger, errorFields, Logger } from "../shared/log";
import { ColumnValues, decodeSchema, recordBatchMessage, schemaMessage, schemaOf } from "./arrow";
import { ConnectorConfig, configError, loadConfig } from "./config";
import { parseSummary, Predicate, pushdownParams, satisfies } from "./constraints";
import { ConnectorError, ConnectorErrorKind } from "./errors";
import { parseRequest } from "./protocol";
import { EncryptionKeyJson, encrypt, makeEncryptionKey, putBlock } from "./spill";
import type { Column, Table } from "./tables";
import { comparable, toArrowValue, ValueError } from "./values";

/** The SerDe version this connector speaks, and the SDK capability level that goes with it. */
export const SERDE_VERSION = 4;
export const CAPABILITIES = 23;
export const SOURCE_TYPE = "vpc-lambda-kit-saas";

export interface TableNameJson {
  schemaName: string;
  tableName: string;
}
export interface SpillLocationJson {
  "@type": "S3SpillLocation";
  bucket: string;
  key: string;
  directory: boolean;
}
export interface SplitJson {
  spillLocation: SpillLocationJson;
  encryptionKey: EncryptionKeyJson | null;
  properties: Record<string, string>;
}
interface RequestJson {
  "@type"?: unknown;
  catalogName?: unknown;
  queryId?: unknown;
  schemaName?: unknown;
  nextToken?: unknown;
  pageSize?: unknown;
  tableName?: TableNameJson;
  constraints?: unknown;
  schema?: unknown;
  split?: SplitJson;
  maxBlockSize?: unknown;
  maxInlineBlockSize?: unknown;
  queryPassthroughArguments?: Record<string, string>;
}

export interface LambdaContextLike {
  awsRequestId?: string;
}

let config: ConnectorConfig | undefined;

export async function handler(event: unknown, context?: LambdaContextLike): Promise<Record<string, unknown>> {
  let log: Logger = createLogger("info", { requestId: context?.awsRequestId });
  const req = (event ?? {}) as RequestJson;
  const type = typeof req["@type"] === "string" ? req["@type"] : undefined;
  try {
    try {
      config ??= loadConfig();
    } catch (err) {
      throw err instanceof ConnectorError ? err : configError([(err as Error)?.message ?? String(err)]);
    }
    const cfg = config;
    log = createLogger(cfg.logLevel, { requestId: context?.awsRequestId, request: type, queryId: req.queryId });
    const parsed = parseRequest(event);
    const catalogName = parsed.catalogName;
    switch (parsed.type) {
      case "PingRequest":
        return {
          "@type": "PingResponse",
          catalogName,
          queryId: parsed.queryId,
          sourceType: SOURCE_TYPE,
          capabilities: CAPABILITIES,
          serDeVersion: SERDE_VERSION,
        };
      case "GetDataSourceCapabilitiesRequest":
        // No optimizations are advertised: Athena then sends only the constraint summary, which the connector honours.
        return { "@type": "GetDataSourceCapabilitiesResponse", catalogName, capabilities: {} };
      case "ListSchemasRequest":
        return { "@type": "ListSchemasResponse", catalogName, schemas: [cfg.schemaName] };
      case "ListTablesRequest":
        return listTables(cfg, req, catalogName);
      case "GetTableRequest": {
        noPassthrough(req);
        const table = findTable(cfg, req.tableName);
        return {
          "@type": "GetTableResponse",
          catalogName,
          tableName: { schemaName: cfg.schemaName, tableName: table.name },
          schema: schemaMessage(schemaOf(table.columns)).toString("base64"),
          partitionColumns: [],
        };
      }
      case "GetTableLayoutRequest": {
        const table = findTable(cfg, req.tableName);
        // No partitions: one row in a `partitionId` column tells Athena there is something to read (as the SDK does).
        const partitions = schemaOf([{ name: "partitionId", type: "int" }]);
        return {
          "@type": "GetTableLayoutResponse",
          catalogName,
          tableName: { schemaName: cfg.schemaName, tableName: table.name },
          partitions: {
            aId: crypto.randomUUID(),
            schema: schemaMessage(partitions).toString("base64"),
            records: recordBatchMessage(partitions, [[1]]).toString("base64"),
          },
        };
      }
      case "GetSplitsRequest":
        return getSplits(cfg, req, catalogName);
      case "ReadRecordsRequest":
        return await readRecords(cfg, req, catalogName, log);
    }
  } catch (err) {
    const out = toConnectorError(err);
    log.error("athena connector request failed", { ...errorFields(out), kind: out.kind, request: type });
    throw out;
  }
}

function requiredString(req: RequestJson, field: keyof RequestJson): string {
  const v = req[field];
  if (typeof v !== "string")
    throw new ConnectorError(
      "request",
      `the request has no string ${String(field)}: it is not an Athena federation request`,
    );
  return v;
}

function noPassthrough(req: RequestJson): void {
  if (req.queryPassthroughArguments && Object.keys(req.queryPassthroughArguments).length > 0) {
    throw new ConnectorError(
      "request",
      "query passthrough (system.query) is not supported by this connector: query its tables with SELECT … FROM <catalog>.<schema>.<table>.",
    );
  }
}

function listTables(cfg: ConnectorConfig, req: RequestJson, catalogName: string): Record<string, unknown> {
  const schemaName = req.schemaName;
  const names =
    schemaName === undefined || schemaName === null || String(schemaName).toLowerCase() === cfg.schemaName
      ? cfg.tables.map((t) => t.name).sort()
      : [];
  const pageSize = req.pageSize === undefined || req.pageSize === null ? -1 : Number(req.pageSize);
  if (!Number.isInteger(pageSize) || (pageSize < 1 && pageSize !== -1))
    throw new ConnectorError(
      "request",
      `ListTablesRequest.pageSize must be -1 (unlimited) or a positive integer; got ${JSON.stringify(req.pageSize)}`,
    );
  // The token is the name of the first table of the next page (names are sorted, so it stays valid between calls).
  const start = typeof req.nextToken === "string" ? names.findIndex((n) => n >= (req.nextToken as string)) : 0;
  const from = start < 0 ? names.length : start;
  const end = pageSize === -1 ? names.length : Math.min(names.length, from + pageSize);
  return {
    "@type": "ListTablesResponse",
    tables: names.slice(from, end).map((tableName) => ({ schemaName: cfg.schemaName, tableName })),
    catalogName,
    nextToken: end < names.length ? names[end] : null,
  };
}

function findTable(cfg: ConnectorConfig, name: TableNameJson | undefined): Table {
  if (!name || typeof name.tableName !== "string")
    throw new ConnectorError("request", "the request names no table (tableName.tableName)");
  const schema = String(name.schemaName ?? "").toLowerCase();
  const t = cfg.tables.find((x) => x.name === name.tableName.toLowerCase());
  if (schema !== cfg.schemaName || !t) {
    throw new ConnectorError(
      "request",
      `table ${name.schemaName}.${name.tableName} does not exist in this catalog: it has schema ${cfg.schemaName} with tables ${cfg.tables.map((x) => x.name).join(", ")} (athenaConnector.tables).`,
    );
  }
  return t;
}

function getSplits(cfg: ConnectorConfig, req: RequestJson, catalogName: string): Record<string, unknown> {
  const table = findTable(cfg, req.tableName);
  const queryId = requiredString(req, "queryId").replace(/[^A-Za-z0-9_-]/g, "_");
  const splits: SplitJson[] = [];
  for (let i = 0; i < table.splits; i++) {
    splits.push({
      spillLocation: {
        "@type": "S3SpillLocation",
        bucket: cfg.spillBucket,
        key: `${cfg.spillPrefix}${queryId}/${crypto.randomUUID()}`,
        directory: true,
      },
      encryptionKey: makeEncryptionKey(),
      properties: { table: table.name, stripe: String(i), stripes: String(table.splits) },
    });
  }
  return { "@type": "GetSplitsResponse", catalogName, splits, continuationToken: null };
}

async function readRecords(
  cfg: ConnectorConfig,
  req: RequestJson,
  catalogName: string,
  log: Logger,
): Promise<Record<string, unknown>> {
  const table = findTable(cfg, req.tableName);
  const split = req.split;
  const loc = split?.spillLocation;
  if (
    !split ||
    !loc ||
    loc.bucket !== cfg.spillBucket ||
    typeof loc.key !== "string" ||
    !loc.key.startsWith(cfg.spillPrefix)
  ) {
    throw new ConnectorError(
      "request",
      `the split's spill location is not under s3://${cfg.spillBucket}/${cfg.spillPrefix}: only splits this connector made can be read.`,
    );
  }
  if (split.properties?.table !== undefined && split.properties.table !== table.name) {
    throw new ConnectorError(
      "request",
      `the split was made for table ${split.properties.table}, not ${table.name}: pass each table's own splits.`,
    );
  }
  const stripe = Number(split.properties?.stripe ?? 0);
  const stripes = Number(split.properties?.stripes ?? 1);
  if (!Number.isInteger(stripe) || !Number.isInteger(stripes) || stripe < 0 || stripes < 1 || stripe >= stripes) {
    throw new ConnectorError(
      "request",
      `the split's properties stripe/stripes (${split.properties?.stripe}/${split.properties?.stripes}) are not a valid stripe`,
    );
  }
  // The columns Athena asked for, in its order, typed as declared.
  let requested: Schema;
  try {
    requested = decodeSchema(String(req.schema ?? ""));
  } catch (e) {
    throw new ConnectorError("request", `ReadRecordsRequest.schema is not an Arrow schema (${(e as Error).message})`);
  }
  const projection: Column[] = requested.fields.map((f) => {
    const c = table.columns.find((x) => x.name === f.name);
    if (!c)
      throw new ConnectorError(
        "request",
        `column ${f.name} is not declared for table ${table.name}: its columns are ${table.columns.map((x) => x.name).join(", ")}`,
      );
    return c;
  });
  const predicates = parseSummary(req.constraints, table);
  const params = pushdownParams(table, predicates);

  const values: ColumnValues = projection.map(() => []);
  let rows = 0;
  let scanned = 0;
  for await (const records of readSplit(cfg, table, stripe, stripes, params, log)) {
    for (const record of records) {
      scanned++;
      if (!keep(table, record, predicates)) continue;
      projection.forEach((c, i) => values[i].push(valueOf(table, c, record)));
      rows++;
    }
  }
  const schema = schemaOf(projection);
  const schemaB64 = schemaMessage(schema).toString("base64");
  log.info("split read", { table: table.name, stripe, stripes, scanned, rows, pushdown: Object.keys(params) });
  if (rows === 0)
    return {
      "@type": "ReadRecordsResponse",
      catalogName,
      records: { aId: crypto.randomUUID(), schema: schemaB64, records: "" },
    };

  const batch = recordBatchMessage(schema, values);
  const inlineLimit = Math.min(cfg.inlineMaxBytes, positive(req.maxInlineBlockSize) ?? Infinity);
  if (batch.length <= inlineLimit) {
    return {
      "@type": "ReadRecordsResponse",
      catalogName,
      records: { aId: crypto.randomUUID(), schema: schemaB64, records: batch.toString("base64") },
    };
  }

  // Spill: blocks of about spillBlockBytes (or Athena's maxBlockSize), written in order as <key>.0, <key>.1, …
  const blockLimit = Math.min(cfg.spillBlockBytes, positive(req.maxBlockSize) ?? Infinity);
  const blocks = Math.max(1, Math.ceil(batch.length / blockLimit));
  const perBlock = Math.ceil(rows / blocks);
  const remoteBlocks: SpillLocationJson[] = [];
  for (let b = 0, from = 0; from < rows; b++, from += perBlock) {
    const slice = values.map((col) => col.slice(from, from + perBlock));
    const plain = recordBatchMessage(schema, slice, true);
    const body = split.encryptionKey ? encrypt(split.encryptionKey, plain) : plain;
    const key = `${loc.key}.${b}`;
    await putBlock(loc.bucket, key, body);
    remoteBlocks.push({ "@type": "S3SpillLocation", bucket: loc.bucket, key, directory: false });
  }
  log.info("split spilled", {
    table: table.name,
    stripe,
    blocks: remoteBlocks.length,
    bytes: batch.length,
    encrypted: !!split.encryptionKey,
  });
  return {
    "@type": "RemoteReadRecordsResponse",
    catalogName,
    schema: schemaB64,
    remoteBlocks,
    encryptionKey: split.encryptionKey ?? null,
  };
}

function positive(v: unknown): number | undefined {
  const n = Number(v);
  return Number.isFinite(n) && n > 0 ? n : undefined;
}

/** Pages of one split. `page:` pagination: stripe i of N reads pages start+i, start+i+N, … until an empty page. */
async function* readSplit(
  cfg: ConnectorConfig,
  table: Table,
  stripe: number,
  stripes: number,
  params: Record<string, string>,
  log: Logger,
): AsyncGenerator<Record<string, unknown>[]> {
  const client = await connectSaas(cfg, log);
  const base = new URL(table.url.href);
  for (const [k, v] of Object.entries(params)) base.searchParams.set(k, v);
  try {
    const p = table.pagination;
    if (p.kind !== "page") {
      for await (const page of fetchPages(
        client,
        { saasUrl: base, pagination: p, recordsPath: table.recordsPath, maxPages: cfg.maxPages },
        log,
        () => undefined,
      ))
        yield page.records;
      return;
    }
    const start = Number(base.searchParams.get(p.param) ?? 1);
    for (let k = 0; ; k++) {
      if (k >= cfg.maxPages)
        throw new ConnectorError(
          "saas",
          `table ${table.name}: split ${stripe} still had pages after SAAS_MAX_PAGES=${cfg.maxPages}: raise it, or check that the SaaS answers an empty page past the end.`,
        );
      const url = new URL(base.href);
      url.searchParams.set(p.param, String(start + stripe + k * stripes));
      let records: Record<string, unknown>[] = [];
      for await (const page of fetchPages(
        client,
        { saasUrl: url, pagination: { kind: "none" }, recordsPath: table.recordsPath, maxPages: 1 },
        log,
        () => undefined,
      ))
        records = page.records;
      if (records.length === 0) return;
      yield records;
    }
  } catch (err) {
    if (err instanceof ExportError && err.kind === "proxy-refused") forgetSecret(cfg.proxyHeaderSecretId);
    if (err instanceof ExportError && err.kind === "auth") forgetSecret(cfg.authSecretId);
    if (err instanceof ExportError) throw fromExportError(err, cfg, table);
    throw err;
  } finally {
    client.close();
  }
}

function keep(table: Table, record: Record<string, unknown>, predicates: Map<string, Predicate>): boolean {
  for (const [name, p] of predicates) {
    const c = table.columns.find((x) => x.name === name)!;
    if (!satisfies(p, comparable(valueOf(table, c, record)))) return false;
  }
  return true;
}

function valueOf(table: Table, c: Column, record: Record<string, unknown>): unknown {
  let v: unknown = record;
  for (const s of c.path.segments)
    v = v !== null && typeof v === "object" ? (v as Record<string | number, unknown>)[s] : undefined;
  try {
    return toArrowValue(v, c.type);
  } catch (e) {
    if (e instanceof ValueError) {
      throw new ConnectorError(
        "data",
        `table ${table.name}, column ${c.name} (${c.type}, at ${c.path.text}): the SaaS sent ${e.message}; fix the column's type in athenaConnector.tables.`,
      );
    }
    throw e;
  }
}

const KIND: Record<string, ConnectorErrorKind> = { event: "request", s3: "spill", timeout: "saas" };

function fromExportError(err: ExportError, cfg: ConnectorConfig, table: Table): ConnectorError {
  const kind = (KIND[err.kind] ?? err.kind) as ConnectorErrorKind;
  const port = new URL(cfg.proxyUrl).port;
  let msg = `table ${table.name} (${table.url.origin}${table.url.pathname}): ${err.message}`;
  if (err.kind === "proxy-unreachable")
    msg += ` Missing flow: athena-connector → proxy tier load balancer, TCP ${port} (declare the proxy flow on the function).`;
  if (err.kind === "proxy-refused")
    msg += ` The connector sends ${cfg.proxyHeaderName} on the CONNECT; Squid refused it.`;
  return new ConnectorError(kind, msg);
}

function toConnectorError(err: unknown): ConnectorError {
  if (err instanceof ConnectorError) return err;
  if (err instanceof ExportError)
    return new ConnectorError((KIND[err.kind] ?? err.kind) as ConnectorErrorKind, err.message);
  // Never rethrow a raw client error: it may hold request headers, and both secrets travel in headers.
  return new ConnectorError("saas", `athena connector failed: ${(err as Error)?.message ?? String(err)}`);
}
