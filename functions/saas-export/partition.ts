/**
 * Writes one date's export as a run of its own and publishes it to Athena with a single object write.
 *
 * Layout under PREFIX (P):
 *   P data/dt=<date>/run=<runId>/part-00000.ndjson …   the run's records (never overwritten: each run has its own id)
 *   P data/dt=<date>/run=<runId>/_manifest.json        the run's manifest: parts, counts, sha256, and whether it was
 *                                                      published or refused, and why
 *   P current/dt=<date>/symlink.txt                    what Athena reads for that date: the s3:// URI of every part of
 *                                                      the published run, one per line (Hive SymlinkTextInputFormat);
 *                                                      its object metadata names the run (x-amz-meta-run)
 * The Glue table's location is `P current/` with SymlinkTextInputFormat, so a query sees exactly the parts the
 * symlink file lists. A PutObject replaces an object atomically, so publishing is one switch: a query reads the
 * previous run's parts or the new run's, never a mix, and a run that fails at any point (SaaS down, crash between
 * parts, S3 refusing the last write) leaves the symlink, and so what Athena reads, as it was.
 *
 * Before the switch the run is checked against what is published now (the same date's current run, else the day
 * before's): a run that holds fewer records than PUBLISH_MIN_SHARE of it, or whose last page was anomalous (see
 * ./pages.ts), is not published. Its manifest says `"status": "refused"` with the reasons, the previous data stays
 * visible, and the handler fails so the schedule's alarm fires. An operator who knows the smaller day is right
 * reruns with `{"date": "<date>", "force": true}`; the manifest then lists the reasons it overrode.
 *
 * After a switch, runs of that date other than the new one and the one it replaced are deleted (the replaced run
 * stays until the next switch, for queries that started before this one).
 * Two runs of the same date must not overlap (reserved concurrency 1; a backfill waits for the scheduled run).
 */
import * as crypto from "crypto";
import type { Logger } from "../shared/log";
import type { S3Store } from "./s3-store";
import type { ManifestPart, PartitionManifest } from "./types";

export const SYMLINK_NAME = "symlink.txt";
export const RUN_MANIFEST_NAME = "_manifest.json";

export interface PartitionWriterOptions {
  prefix: string;
  date: string;
  /** Sortable and unique per run, e.g. 20261121T010203Z-1a2b3c4d. */
  runId: string;
  maxBytes: number;
  maxRecords: number;
  /** Publish only if the run has at least this share of the records published before (0 = no check). */
  minShare: number;
  log: Logger;
}

export interface PublishInput {
  source: string;
  startedAt: Date;
  pages: number;
  /** Why the walk's end looked wrong (./pages.ts); any entry refuses publication. */
  anomalies: string[];
  /** Publish despite the refusal reasons (the manifest records them). */
  force: boolean;
}

export interface PartitionResult {
  parts: ManifestPart[];
  manifestKey: string;
  records: number;
  bytes: number;
  published: boolean;
  /** Why the run was not published (empty when published). */
  refusedBecause: string[];
  /** The run that was published before, if any. */
  previous?: { runId: string; date: string; records: number };
  /** Objects of older runs of this date deleted after the switch. */
  deletedOldObjects: number;
}

export function currentDir(prefix: string, date: string): string {
  return `${prefix}current/dt=${date}/`;
}

export function runDir(prefix: string, date: string, runId: string): string {
  return `${prefix}data/dt=${date}/run=${runId}/`;
}

export class PartitionWriter {
  readonly dir: string;
  readonly manifestKey: string;
  readonly symlinkKey: string;
  /** True once a part of this run is in S3 (they are invisible to Athena until published). */
  started = false;
  /** True once this run is what Athena reads. */
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
    this.dir = runDir(o.prefix, o.date, o.runId);
    this.manifestKey = `${this.dir}${RUN_MANIFEST_NAME}`;
    this.symlinkKey = `${currentDir(o.prefix, o.date)}${SYMLINK_NAME}`;
  }

  /** Where this run's data goes. */
  get location(): string {
    return `s3://${this.store.bucket}/${this.dir}`;
  }

  /** What Athena reads for the date. */
  get published(): string {
    return `s3://${this.store.bucket}/${this.symlinkKey}`;
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

  async finish(input: PublishInput): Promise<PartitionResult> {
    await this.flush();
    await this.inFlight;
    const records = this.parts.reduce((a, p) => a + p.records, 0);
    const bytes = this.parts.reduce((a, p) => a + p.bytes, 0);

    const previous = await this.publishedBefore();
    const reasons = [...input.anomalies];
    if (previous && this.o.minShare > 0 && records < previous.records * this.o.minShare) {
      reasons.push(
        `${records} records is less than PUBLISH_MIN_SHARE=${this.o.minShare} of the ${previous.records} records published for ${previous.date} (run ${previous.runId})`,
      );
    }
    const publish = reasons.length === 0 || input.force;

    const manifest: PartitionManifest = {
      format: "vpc-lambda-kit/saas-export/manifest@2",
      date: this.o.date,
      runId: this.o.runId,
      status: publish ? "published" : "refused",
      ...(publish ? {} : { refusedBecause: reasons }),
      ...(publish && reasons.length > 0 ? { forcedOver: reasons } : {}),
      ...(previous ? { previous } : {}),
      location: this.location,
      symlink: this.published,
      source: input.source,
      startedAt: input.startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      pages: input.pages,
      records,
      bytes,
      parts: this.parts,
    };
    // The run's manifest is written before the switch, so whatever the symlink names always has one.
    const body = Buffer.from(JSON.stringify(manifest, null, 2) + "\n", "utf8");
    await this.store.put(this.manifestKey, body, digest(body).base64, "application/json");
    const result: PartitionResult = {
      parts: this.parts,
      manifestKey: this.manifestKey,
      records,
      bytes,
      published: false,
      refusedBecause: publish ? [] : reasons,
      previous,
      deletedOldObjects: 0,
    };
    if (!publish) {
      this.o.log.warn("run not published; Athena keeps reading the previous data", {
        run: this.location,
        reasons,
        previous,
      });
      return result;
    }

    // The switch: one PutObject of the symlink file. Readers see the old list or the new one, never a mix.
    const links = Buffer.from(this.parts.map((p) => `s3://${this.store.bucket}/${p.key}\n`).join(""), "utf8");
    await this.store.put(this.symlinkKey, links, digest(links).base64, "text/plain", {
      run: this.o.runId,
      date: this.o.date,
    });
    this.completed = true;
    result.published = true;
    this.o.log.info("run published", {
      symlink: this.published,
      run: this.o.runId,
      replaced: previous?.date === this.o.date ? previous.runId : undefined,
    });

    result.deletedOldObjects = await this.deleteOldRuns(previous?.date === this.o.date ? previous.runId : undefined);
    return result;
  }

  /** The manifest of the run Athena reads now for this date, else for the day before; undefined if none. */
  private async publishedBefore(): Promise<{ runId: string; date: string; records: number } | undefined> {
    for (const date of [this.o.date, dayBefore(this.o.date)]) {
      const link = await this.store.get(`${currentDir(this.o.prefix, date)}${SYMLINK_NAME}`);
      const runId = link?.metadata.run;
      if (!link || !runId) continue;
      const m = await this.store.get(`${runDir(this.o.prefix, date, runId)}${RUN_MANIFEST_NAME}`);
      if (!m) continue;
      try {
        const parsed = JSON.parse(m.body.toString("utf8")) as { records?: unknown };
        if (typeof parsed.records === "number") return { runId, date, records: parsed.records };
      } catch {
        // A manifest that is not JSON is not ours: nothing to compare with.
      }
    }
    return undefined;
  }

  private async deleteOldRuns(replaced: string | undefined): Promise<number> {
    const dateDir = `${this.o.prefix}data/dt=${this.o.date}/`;
    const keep = [this.dir, ...(replaced ? [runDir(this.o.prefix, this.o.date, replaced)] : [])];
    const old = (await this.store.list(dateDir)).filter((k) => !keep.some((d) => k.startsWith(d)));
    if (old.length > 0) {
      await this.store.deleteMany(old);
      this.o.log.info("objects of older runs deleted", { date: this.o.date, objects: old.length });
    }
    return old.length;
  }

  private async flush(): Promise<void> {
    if (this.lines.length === 0) return;
    const body = Buffer.concat(this.lines, this.pendingBytes);
    const records = this.lines.length;
    this.lines = [];
    this.pendingBytes = 0;
    await this.inFlight;
    const { hex, base64 } = digest(body);
    const part: ManifestPart = { key: this.partKey(this.parts.length), records, bytes: body.length, sha256: hex };
    this.parts.push(part);
    this.started = true;
    const put = this.store.put(part.key, body, base64, "application/x-ndjson").then(() => {
      this.o.log.info("part written", { key: part.key, records, bytes: part.bytes });
    });
    // Observed here so a failure is not reported as unhandled; the next flush or finish() awaits and rethrows it.
    put.catch(() => undefined);
    this.inFlight = put;
  }
}

function dayBefore(date: string): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() - 1);
  return d.toISOString().slice(0, 10);
}

function digest(body: Buffer): { hex: string; base64: string } {
  const d = crypto.createHash("sha256").update(body).digest();
  return { hex: d.toString("hex"), base64: d.toString("base64") };
}
