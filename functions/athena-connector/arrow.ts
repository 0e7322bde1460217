/**
 * Arrow IPC as the federation protocol carries it, done with the apache-arrow package:
 * - a schema is one IPC Schema message, base64 in JSON;
 * - a block is `{aId, schema, records}`: the Schema message and one RecordBatch message ("" when it has no rows);
 * - a spilled block in S3 is one RecordBatch message in the legacy framing (no 0xFFFFFFFF continuation marker), as
 *   the SDK writes spill objects; SerDe v3+ JSON uses the current framing. Readers accept both.
 * The messages are cut out of an IPC stream written by apache-arrow's own writer, so their bytes are Arrow's.
 */
// From the modules that define them, not the package index: the index (Arrow.dom.mjs) also loads the WHATWG stream
// readers and writers and attaches them to the reader and writer classes at import, which no tree-shaking removes
// (8 KB of the bundle; ~6 M instructions when Arrow loads alone, ~2 M, within the noise, in the connector's bundle).
import { Bool, DataType, DateDay, DateMillisecond, Float64, Int32, Int64, Utf8 } from "apache-arrow/type";
import { Field, Schema } from "apache-arrow/schema";
import { Table as ArrowTable } from "apache-arrow/table";
import { vectorFromArray } from "apache-arrow/factories";
import { RecordBatchStreamWriter } from "apache-arrow/ipc/writer";
import { tableFromIPC } from "apache-arrow/ipc/serialization";
import type { Column, ColumnType } from "./tables";

export function arrowType(t: ColumnType): DataType {
  switch (t) {
    case "string":
      return new Utf8();
    case "int":
      return new Int32();
    case "bigint":
      return new Int64();
    case "double":
      return new Float64();
    case "boolean":
      return new Bool();
    case "timestamp":
      return new DateMillisecond();
    case "date":
      return new DateDay();
  }
}

export function schemaOf(columns: Pick<Column, "name" | "type">[]): Schema {
  return new Schema(columns.map((c) => new Field(c.name, arrowType(c.type), true)));
}

const eosBytes = (legacy: boolean) => (legacy ? 4 : 8);

function streamBytes(schema: Schema, table: ArrowTable | undefined, legacy: boolean): Uint8Array {
  const w = new RecordBatchStreamWriter({ writeLegacyIpcFormat: legacy });
  if (table) {
    for (const b of table.batches) w.write(b);
  } else {
    w.reset(undefined, schema);
  }
  w.close();
  return w.toUint8Array(true);
}

/** The IPC Schema message of `schema`. */
export function schemaMessage(schema: Schema, legacy = false): Buffer {
  const s = streamBytes(schema, undefined, legacy);
  return Buffer.from(s.subarray(0, s.length - eosBytes(legacy)));
}

/** Column-major values for `schema`, one array per field, in field order (see `toArrowValue`). */
export type ColumnValues = unknown[][];

/** The IPC RecordBatch message holding `values` (all arrays the same length, > 0). */
export function recordBatchMessage(schema: Schema, values: ColumnValues, legacy = false): Buffer {
  const vectors: Record<string, ReturnType<typeof vectorFromArray>> = {};
  schema.fields.forEach((f, i) => (vectors[f.name] = vectorFromArray(values[i] as never[], f.type)));
  const table = new ArrowTable(schema, vectors);
  if (table.batches.length !== 1) throw new Error(`expected one record batch, built ${table.batches.length}`);
  const stream = streamBytes(schema, table, legacy);
  const schemaLen = schemaMessage(schema, legacy).length;
  return Buffer.from(stream.subarray(schemaLen, stream.length - eosBytes(legacy)));
}

/** Decodes a base64 Schema message (either framing). */
export function decodeSchema(b64: string): Schema {
  return tableFromIPC(Buffer.from(b64, "base64")).schema;
}

/** Decodes a protocol block into its schema and rows (plain objects; Int64 as bigint, dates as epoch ms). */
export function decodeBlock(block: { schema: string; records: string }): {
  schema: Schema;
  rows: Record<string, unknown>[];
} {
  const bytes = Buffer.concat([Buffer.from(block.schema, "base64"), Buffer.from(block.records ?? "", "base64")]);
  const t = tableFromIPC(bytes);
  return {
    schema: t.schema,
    rows: t.toArray().map((r) => ({ ...(r as { toJSON(): Record<string, unknown> }).toJSON() })),
  };
}

/** Decodes a RecordBatch message (from a spill object) against a base64 schema. */
export function decodeBatch(schemaB64: string, batch: Buffer): Record<string, unknown>[] {
  return decodeBlock({ schema: schemaB64, records: batch.toString("base64") }).rows;
}
