/**
 * The sync engine: read every matching record, transform it, write back the records whose values change, in as few
 * kintone API calls as the limits allow.
 *
 * Reading: seek by `$id` — `(<condition>) and $id > <last id> order by $id asc limit 500` — rather than offset
 * paging (capped at 10,000 and slower the deeper it pages) or the cursor API. For n records this is ceil(n/500)
 * calls, the minimum any method can reach at 500 records per response; `totalCount` on the first page tells when
 * the last page has been read, so no empty page is fetched to find the end. The cursor API needs those same
 * ceil(n/500) GETs plus a POST to create the cursor (plus a DELETE whenever a run stops early), holds one of only
 * 10 cursors per domain (shared with every other integration) for up to 10 minutes after a crash, and fails on
 * expiry if the run pauses; seeking holds no kintone state at all, so a failed run leaves nothing to clean up.
 * Writes never move a record's `$id`, so reading and writing can interleave safely.
 *
 * Resuming: a run starts after `startAfterId` (the position the handler keeps in DynamoDB, ./checkpoint.ts) and
 * reports through `progress` every `$id` up to which all records are settled (read, and written or found unchanged),
 * so a run stopped by its time budget, or one that fails midway, is continued by the next run instead of starting
 * over at the first record.
 *
 * Writing: changed records are queued and sent 2,000 at a time — one bulkRequest of 20 PUT records.json requests of
 * 100 records — so n changes cost ceil(n/2000) calls. Every update carries the revision that was read; if a person
 * saved the record since, kintone refuses (GAIA_CO02) and, a bulkRequest being all-or-nothing, refuses the whole
 * call. The records of the refused request are then re-read (one GET of up to 100 records) to find the ones that
 * changed; they are dropped and reported as conflicts, and the rest is sent again. A conflicting record is never
 * overwritten: the next run reads the person's version and transforms that. Likewise a record whose new value
 * kintone refuses (a validation error names it by position) is dropped and reported, so one bad value cannot
 * block the rest of its batch on every run.
 */
import { SyncError } from "./errors";
import { KintoneApi, MAX_BULK_REQUESTS, MAX_GET_RECORDS, MAX_PUT_RECORDS, RecordUpdateRequest } from "./kintone-api";
import { errorFields, Logger } from "../shared/log";
import type { KintoneRecord, RecordUpdate, SyncSummary } from "./types";

/** Record updates per write call: 20 requests x 100 records in one bulkRequest. */
export const WRITE_BATCH = MAX_PUT_RECORDS * MAX_BULK_REQUESTS;

/** Field types kintone computes or owns: a write to one would fail the whole bulkRequest. */
const READ_ONLY_TYPES = new Set([
  "__ID__",
  "__REVISION__",
  "RECORD_NUMBER",
  "CALC",
  "CREATOR",
  "CREATED_TIME",
  "MODIFIER",
  "UPDATED_TIME",
  "STATUS",
  "STATUS_ASSIGNEE",
  "CATEGORY",
  "REFERENCE_TABLE",
  "GROUP",
  "LABEL",
  "SPACER",
  "HR",
]);

/** Refused bulk updates tolerated per batch before giving up (each drops at least one record). */
const MAX_REFUSALS_PER_BATCH = 2 * MAX_BULK_REQUESTS;

const LISTED_IDS_KEPT = 100;

export interface SyncOptions {
  api: Pick<KintoneApi, "getRecords" | "bulkUpdate" | "calls" | "retries" | "totalCalls">;
  appId: number;
  /** Record condition ("" = all records); never contains order by / limit / offset. */
  condition: string;
  /** Field codes to fetch (`$id` and `$revision` are added); undefined = all fields. */
  fields: string[] | undefined;
  transform(record: KintoneRecord): RecordUpdate | Promise<RecordUpdate>;
  log: Logger;
  /** Asked before each page after the first: true stops reading (the queued writes are still sent). */
  shouldStop(): boolean;
  /** Read records with `$id` greater than this (default 0: from the first record). */
  startAfterId?: number;
  /**
   * Called whenever every record up to `$id` = afterId is settled (read, and written, refused or unchanged): the
   * position a later run may resume from. Awaited; a throw ends the run.
   */
  progress?(afterId: number): Promise<void>;
}

export function pageQuery(condition: string, afterId: number): string {
  const seek = `$id > ${afterId} order by $id asc limit ${MAX_GET_RECORDS}`;
  return condition ? `(${condition}) and ${seek}` : seek;
}

export async function runSync(o: SyncOptions): Promise<SyncSummary> {
  const started = Date.now();
  const s = {
    read: 0,
    changed: 0,
    written: 0,
    conflictIds: [] as string[],
    vanished: 0,
    rejected: 0,
    rejectedIds: [] as string[],
    unstable: 0,
    unstableIds: [] as string[],
    pages: 0,
    complete: true,
  };
  const fields = o.fields === undefined ? undefined : unique(["$id", "$revision", ...o.fields]);
  const pending: RecordUpdateRequest[] = [];

  const plan = async (record: KintoneRecord): Promise<RecordUpdateRequest | "unchanged" | "unstable"> => {
    const id = String(record.$id?.value ?? "");
    const revision = String(record.$revision?.value ?? "");
    if (!id || !revision) throw new Error("internal: a record came back without $id/$revision");
    const diff = changedFields(record, await runTransform(o, record, id), id);
    if (Object.keys(diff).length === 0) return "unchanged";
    const after = applyUpdate(record, diff);
    if (Object.keys(changedFields(after, await runTransform(o, after, id), id)).length > 0) return "unstable";
    return { id, revision, record: diff };
  };

  const writeBatch = async (batch: RecordUpdateRequest[]): Promise<void> => {
    let remaining = batch;
    for (let refusals = 0; remaining.length > 0;) {
      const chunks = chunk(remaining, MAX_PUT_RECORDS);
      try {
        await o.api.bulkUpdate(chunks);
        s.written += remaining.length;
        o.log.info("records written", {
          records: remaining.length,
          requests: chunks.length,
          apiCalls: o.api.totalCalls,
        });
        return;
      } catch (err) {
        const f = err instanceof SyncError ? err.failure : undefined;
        if (!f || f.bulkRequestIndex === undefined || !chunks[f.bulkRequestIndex]) throw err;
        const recordState = f.code === "GAIA_CO02" || f.code === "GAIA_RE01" || f.status === 409;
        const invalid = recordState ? [] : invalidRecords(f.errors, chunks[f.bulkRequestIndex]);
        if (!recordState && invalid.length === 0) throw err;
        if (++refusals > MAX_REFUSALS_PER_BATCH) {
          throw new SyncError(
            "kintone",
            `kintone refused ${refusals - 1} bulk updates of the same batch in a row (records of app ${o.appId} kept ` +
              `changing, or kept being refused); the run stopped and the next run retries the records`,
            f,
          );
        }
        if (invalid.length > 0) {
          // One record kintone will never accept must not block the other 1,999 of its batch on every run.
          s.rejected += invalid.length;
          for (const r of invalid) if (s.rejectedIds.length < LISTED_IDS_KEPT) s.rejectedIds.push(r.id);
          o.log.warn("kintone refused the new values of some records; they were left unchanged", {
            code: f.code,
            rejected: invalid.map((r) => ({ id: r.id, problems: r.problems })),
          });
          const bad = new Set(invalid.map((r) => r.id));
          remaining = remaining.filter((u) => !bad.has(u.id));
          continue;
        }
        const settled = await settleRefusal(o, chunks, f.bulkRequestIndex, s);
        if (settled.size === 0) throw err;
        remaining = remaining.filter((u) => !settled.has(u.id));
      }
    }
  };

  let afterId = o.startAfterId ?? 0;
  let expected: number | null = null;
  /** Every record up to this `$id` is read, and written or left alone for good. */
  let settledId = afterId;
  let reported = afterId;
  const report = async () => {
    if (settledId > reported && o.progress) {
      await o.progress(settledId);
      reported = settledId;
    }
  };
  for (;;) {
    if (s.pages > 0 && o.shouldStop()) {
      s.complete = false;
      o.log.warn("stopping early to finish inside the Lambda timeout; the next run carries on", {
        read: s.read,
        afterId,
      });
      break;
    }
    const page = await o.api.getRecords("read", pageQuery(o.condition, afterId), fields, s.pages === 0);
    if (s.pages === 0) expected = page.totalCount;
    s.pages++;
    s.read += page.records.length;
    for (const record of page.records) {
      const outcome = await plan(record);
      if (outcome === "unchanged") continue;
      if (outcome === "unstable") {
        s.unstable++;
        if (s.unstableIds.length < LISTED_IDS_KEPT) s.unstableIds.push(String(record.$id.value));
        continue;
      }
      s.changed++;
      pending.push(outcome);
    }
    o.log.debug("page read", { page: s.pages, records: page.records.length, read: s.read, expected, afterId });
    while (pending.length >= WRITE_BATCH) await writeBatch(pending.splice(0, WRITE_BATCH));
    const last = page.records[page.records.length - 1];
    // Records are planned in $id order, so everything before the oldest queued write is settled; $ids are
    // integers, so "$id > (that id - 1)" reads it again.
    if (last) {
      settledId = pending.length === 0 ? Number(last.$id.value) : Number(pending[0].id) - 1;
      await report();
    }
    if (page.records.length < MAX_GET_RECORDS || (expected !== null && s.read >= expected) || !last) {
      if (last) afterId = Number(last.$id.value);
      break;
    }
    afterId = Number(last.$id.value);
  }
  if (pending.length > 0) await writeBatch(pending.splice(0));
  settledId = afterId;
  if (s.unstable > 0) {
    o.log.warn("transform is not idempotent for some records; they were not written", {
      unstable: s.unstable,
      unstableIds: s.unstableIds,
    });
  }

  return {
    appId: o.appId,
    read: s.read,
    changed: s.changed,
    written: s.written,
    conflicts: s.conflictIds.length,
    conflictIds: s.conflictIds,
    vanished: s.vanished,
    rejected: s.rejected,
    rejectedIds: s.rejectedIds,
    unstable: s.unstable,
    unstableIds: s.unstableIds,
    apiCalls: o.api.totalCalls,
    apiCallsByKind: { ...o.api.calls },
    retries: o.api.retries,
    pages: s.pages,
    complete: s.complete,
    startedAfterId: o.startAfterId ?? 0,
    lastId: settledId,
    durationMs: Date.now() - started,
  };
}

/**
 * After kintone refused request `index` of a bulkRequest for a record's state, re-reads that request's records and
 * sorts them: changed by someone else (conflict), deleted (vanished), or already holding our values (the update
 * landed earlier — a retried write whose response was lost — or someone made the same change). Returns the ids to
 * drop. When a whole request turns out to be already applied, the requests after it are likely applied as well
 * (the lost response covered all of them), so they are checked too rather than refused one call at a time.
 */
async function settleRefusal(
  o: SyncOptions,
  chunks: RecordUpdateRequest[][],
  index: number,
  s: { written: number; conflictIds: string[]; vanished: number },
): Promise<Set<string>> {
  const settled = new Set<string>();
  for (let i = index; i < chunks.length; i++) {
    const updates = chunks[i];
    const fieldCodes = unique(updates.flatMap((u) => Object.keys(u.record)));
    const query = `$id in (${updates.map((u) => `"${u.id}"`).join(",")}) order by $id asc limit ${updates.length}`;
    const { records } = await o.api.getRecords("recheck", query, ["$id", "$revision", ...fieldCodes], false);
    const current = new Map(records.map((r) => [String(r.$id.value), r]));
    const conflicts: string[] = [];
    let applied = 0;
    let vanished = 0;
    for (const u of updates) {
      const now = current.get(u.id);
      if (!now) {
        vanished++;
        settled.add(u.id);
      } else if (String(now.$revision.value) !== u.revision) {
        settled.add(u.id);
        if (Object.keys(changedFields(now, u.record, u.id)).length === 0) applied++;
        else conflicts.push(u.id);
      }
    }
    s.written += applied;
    s.vanished += vanished;
    s.conflictIds.push(...conflicts);
    if (conflicts.length > 0 || vanished > 0) {
      o.log.warn("records changed since they were read; left for the next run", { conflictIds: conflicts, vanished });
    }
    if (applied !== updates.length) break;
  }
  return settled;
}

/**
 * The records a validation error names. kintone keys its per-field errors by position in the request, e.g.
 * `{"records[3].record.price.value": {"messages": ["Enter a number."]}}` (the key shape @kintone/rest-api-client's
 * KintoneAllRecordsError parses too).
 */
function invalidRecords(errors: unknown, updates: RecordUpdateRequest[]): { id: string; problems: string[] }[] {
  if (!errors || typeof errors !== "object") return [];
  const byIndex = new Map<number, string[]>();
  for (const [key, detail] of Object.entries(errors as Record<string, { messages?: unknown }>)) {
    const m = /^records\[(\d+)\](?:\.(.*))?$/.exec(key);
    if (!m || !updates[Number(m[1])]) continue;
    const messages = Array.isArray(detail?.messages) ? detail.messages.map(String) : [];
    const list = byIndex.get(Number(m[1])) ?? [];
    list.push(`${m[2] ?? "record"}: ${messages.join(" ") || "refused"}`);
    byIndex.set(Number(m[1]), list);
  }
  return [...byIndex].map(([i, problems]) => ({ id: updates[i].id, problems }));
}

async function runTransform(o: SyncOptions, record: KintoneRecord, id: string): Promise<RecordUpdate> {
  let out: unknown;
  try {
    out = await o.transform(record);
  } catch (err) {
    o.log.error("transform failed", { recordId: id, ...errorFields(err) });
    throw new SyncError(
      "transform",
      `the transform failed on record $id=${id}: ${(err as Error)?.message ?? String(err)}`,
    );
  }
  if (out === undefined || out === null) return {};
  if (typeof out !== "object" || Array.isArray(out)) {
    throw new SyncError(
      "transform",
      `the transform returned ${Array.isArray(out) ? "an array" : typeof out} for record $id=${id}; it must return an object of {fieldCode: {value}}`,
    );
  }
  return out as RecordUpdate;
}

/** The fields of `update` whose value differs from `record`'s; rejects fields the record lacks or kintone owns. */
export function changedFields(record: KintoneRecord, update: RecordUpdate, id: string): RecordUpdate {
  const diff: RecordUpdate = {};
  for (const [code, field] of Object.entries(update)) {
    if (field === undefined) continue;
    if (field === null || typeof field !== "object" || !("value" in field)) {
      throw new SyncError(
        "transform",
        `the transform returned field "${code}" of record $id=${id} without {value: ...}`,
      );
    }
    const current = record[code];
    if (!current) {
      throw new SyncError(
        "transform",
        `the transform wrote field "${code}", which record $id=${id} does not have: check the field code, and list every field the transform reads or writes in its fields()`,
      );
    }
    if (code.startsWith("$") || (current.type !== undefined && READ_ONLY_TYPES.has(current.type))) {
      throw new SyncError(
        "transform",
        `the transform wrote field "${code}" (${current.type ?? "system field"}), which kintone does not let API clients set`,
      );
    }
    if (!sameValue(current.value, field.value)) diff[code] = { value: field.value };
  }
  return diff;
}

function applyUpdate(record: KintoneRecord, update: RecordUpdate): KintoneRecord {
  const next: KintoneRecord = { ...record };
  for (const [code, field] of Object.entries(update)) next[code] = { type: record[code]?.type, value: field.value };
  return next;
}

/**
 * kintone returns numbers as strings and empty values as "" (or null), so 5 and "5", null and "" are the same value;
 * without this a transform returning numbers would rewrite the record on every run.
 */
export function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

function canonical(v: unknown): unknown {
  if (v === null || v === undefined) return "";
  if (typeof v === "number" || typeof v === "boolean" || typeof v === "bigint") return String(v);
  if (Array.isArray(v)) return v.map(canonical);
  if (typeof v === "object") {
    const o = v as Record<string, unknown>;
    return Object.fromEntries(
      Object.keys(o)
        .sort()
        .map((k) => [k, canonical(o[k])]),
    );
  }
  return v;
}

function chunk<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

function unique(items: string[]): string[] {
  return [...new Set(items)];
}
