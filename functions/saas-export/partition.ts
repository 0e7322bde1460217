/**
 * Writes one date's partition: `<prefix>dt=<date>/part-00000.ndjson`, `part-00001.ndjson`, … then `_SUCCESS`.
 *
 * Crash consistency. Keys are deterministic (the same date and the same source records give the same keys and
 * bytes), so a rerun overwrites instead of adding. The order of writes is what makes every intermediate state safe:
 *   1. Nothing is touched until the first part is complete in memory; a failure before that (SaaS down, bad
 *      credential) leaves the previous partition exactly as it was, manifest included.
 *   2. `_SUCCESS` is deleted before the first part is written: from here until step 5 the partition has no
 *      manifest, i.e. it is visibly incomplete, whatever mix of new and old parts a crash leaves.
 *   3. Each part is one PutObject of its complete bytes, with ChecksumSHA256 (S3 rejects a body that does not
 *      match): an object is either the old one or the whole new one, never half written.
 *   4. After the last part: list the partition and delete every `part-*.ndjson` this run did not write (stale parts
 *      of an earlier, longer run, or of a crashed one).
 *   5. Write `_SUCCESS` (the manifest: parts, record counts, sizes, sha256). Only now is the partition complete.
 * A rerun after a crash at any step repeats 2-5 from the source and converges to the same final state as a run
 * that never crashed. Readers that need a complete partition check for `_SUCCESS`; readers that need a stable
 * snapshot while a rerun may be in progress verify each part's sha256 against the manifest.
 * Two runs for the same date must not overlap (schedule one at a time; a backfill waits for the scheduled run).
 */
import * as crypto from "crypto";
import type { Logger } from "../shared/log";
import type { S3Store } from "./s3-store";
import type { ManifestPart, PartitionManifest } from "./types";

export const MANIFEST_NAME = "_SUCCESS";
const PART_RE = /^part-\d{5,}\.ndjson$/;

export interface PartitionWriterOptions {
  prefix: string;
  date: string;
  maxBytes: number;
  maxRecords: number;
  log: Logger;
}

export interface PartitionResult {
  parts: ManifestPart[];
  deletedStaleParts: number;
  manifestKey: string;
  records: number;
  bytes: number;
}

export class PartitionWriter {
  readonly dir: string;
  readonly manifestKey: string;
  /** True once the previous manifest is gone, i.e. the partition is being rewritten. */
  started = false;
  /** True once the new manifest is written. */
  completed = false;
  private lines: Buffer[] = [];
  private pendingBytes = 0;
  private readonly parts: ManifestPart[] = [];
  /** At most one PutObject runs while the next part fills. */
  private inFlight: Promise<void> | undefined;

  constructor(
    private readonly store: S3Store,
    private readonly o: PartitionWriterOptions,
  ) {
    this.dir = `${o.prefix}dt=${o.date}/`;
    this.manifestKey = `${this.dir}${MANIFEST_NAME}`;
  }

  get location(): string {
    return `s3://${this.store.bucket}/${this.dir}`;
  }

  partKey(index: number): string {
    return `${this.dir}part-${String(index).padStart(5, "0")}.ndjson`;
  }

  async add(record: Record<string, unknown>): Promise<void> {
    // JSON.stringify escapes line breaks inside strings, so one record is always exactly one line.
    const line = Buffer.from(JSON.stringify(record) + "\n", "utf8");
    if (this.lines.length > 0 && this.pendingBytes + line.length > this.o.maxBytes) await this.flush();
    this.lines.push(line);
    this.pendingBytes += line.length;
    if (this.lines.length >= this.o.maxRecords) await this.flush();
  }

  async finish(meta: { source: string; startedAt: Date; pages: number }): Promise<PartitionResult> {
    await this.flush();
    await this.inFlight;
    await this.begin();
    const written = new Set(this.parts.map((p) => p.key));
    const existing = await this.store.list(this.dir);
    const stale = existing.filter((k) => PART_RE.test(k.slice(this.dir.length)) && !written.has(k));
    const foreign = existing.filter((k) => !written.has(k) && !stale.includes(k) && k !== this.manifestKey);
    if (foreign.length > 0) {
      this.o.log.warn("objects in the partition that the export did not write; Athena reads them too", { partition: this.location, keys: foreign.slice(0, 20) });
    }
    if (stale.length > 0) {
      await this.store.deleteMany(stale);
      this.o.log.info("stale parts deleted", { partition: this.location, keys: stale });
    }
    const records = this.parts.reduce((a, p) => a + p.records, 0);
    const bytes = this.parts.reduce((a, p) => a + p.bytes, 0);
    const manifest: PartitionManifest = {
      format: "vpc-lambda-kit/saas-export/manifest@1",
      date: this.o.date,
      partition: this.location,
      source: meta.source,
      startedAt: meta.startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      pages: meta.pages,
      records,
      bytes,
      parts: this.parts,
    };
    const body = Buffer.from(JSON.stringify(manifest, null, 2) + "\n", "utf8");
    await this.store.put(this.manifestKey, body, digest(body).base64, "application/json");
    this.completed = true;
    return { parts: this.parts, deletedStaleParts: stale.length, manifestKey: this.manifestKey, records, bytes };
  }

  /** Step 2: the partition is about to change, so it must stop claiming to be complete. */
  private async begin(): Promise<void> {
    if (this.started) return;
    await this.store.delete(this.manifestKey);
    this.started = true;
    this.o.log.info("partition marked incomplete while it is rewritten", { partition: this.location, removed: this.manifestKey });
  }

  private async flush(): Promise<void> {
    if (this.lines.length === 0) return;
    const body = Buffer.concat(this.lines, this.pendingBytes);
    const records = this.lines.length;
    this.lines = [];
    this.pendingBytes = 0;
    await this.begin();
    await this.inFlight;
    const { hex, base64 } = digest(body);
    const part: ManifestPart = { key: this.partKey(this.parts.length), records, bytes: body.length, sha256: hex };
    this.parts.push(part);
    const put = this.store.put(part.key, body, base64, "application/x-ndjson").then(() => {
      this.o.log.info("part written", { key: part.key, records, bytes: part.bytes });
    });
    // Observed here so a failure is not reported as unhandled; the next flush or finish() awaits and rethrows it.
    put.catch(() => undefined);
    this.inFlight = put;
  }
}

function digest(body: Buffer): { hex: string; base64: string } {
  const d = crypto.createHash("sha256").update(body).digest();
  return { hex: d.toString("hex"), base64: d.toString("base64") };
}
