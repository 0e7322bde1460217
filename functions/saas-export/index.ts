/**
 * saas-export: a scheduled Lambda that reads a SaaS's JSON API through the Squid proxy tier (docs/designs.md §2) and writes
 * the records to S3 as NDJSON, one partition per day, for Athena.
 *
 * Network flows this function needs (its security group's egress; nothing else is required):
 *   - TCP <proxy port> (3128) to the proxy tier's load balancer (its security group), for every SaaS request.
 *     The SaaS is never reached directly: HTTPS goes through `CONNECT` on the proxy, which adds the egress IPs the
 *     SaaS allowlists.
 *   - TCP 443 to S3 through the VPC's S3 gateway endpoint (egress to the endpoint's prefix list; the endpoint
 *     associated with the route tables of the function's subnets). S3 traffic does not use the proxy.
 *   - TCP 443 to Secrets Manager: a secretsmanager interface endpoint with private DNS (egress to its security
 *     group, which allows 443 from the function), or a NAT route.
 * IAM: secretsmanager:GetSecretValue on both secrets; s3:PutObject, s3:GetObject and s3:DeleteObject on
 * arn:aws:s3:::BUCKET/PREFIX*; s3:ListBucket on arn:aws:s3:::BUCKET (prefix PREFIX*). The bucket must be in the
 * function's region (gateway endpoints are regional).
 *
 * Environment (validated once per cold start, every problem in one error; see ./config.ts):
 *   PROXY_URL               http://<proxy load balancer DNS name>:<port>, e.g. …elb.amazonaws.com:3128
 *   PROXY_HEADER_NAME       the header Squid requires on CONNECT, e.g. X-Lambda-Proxy-Token
 *   PROXY_HEADER_SECRET_ID  Secrets Manager secret whose SecretString is that header's exact value
 *   SAAS_URL                https URL of the first page
 *   SAAS_AUTH_SECRET_ID     optional; secret holding the SaaS credential: a bearer token as plain text, or
 *                           {"header": "X-Api-Key", "value": "<key>"} for any other header (./secrets.ts)
 *   SAAS_PAGINATION         none | link | cursor:<path of next cursor>:<query param> | page:<query param>
 *                           (e.g. cursor:meta.next_cursor:cursor, page:page; see `Pagination` in ./config.ts)
 *   SAAS_RECORDS_PATH       where each page holds its array of record objects, e.g. data.items ($ = the body)
 *   BUCKET, PREFIX          output location, PREFIX ending in '/', e.g. raw/saas/: each run's parts go to
 *                           PREFIXdata/dt=YYYY-MM-DD/run=<run id>/, and PREFIXcurrent/dt=YYYY-MM-DD/symlink.txt
 *                           lists the parts Athena reads (./partition.ts)
 *   PUBLISH_MIN_SHARE       0..1 (0.9): a run with fewer records than this share of the export published before
 *                           (same date, else the day before) is not published
 *   SAAS_EMPTY_LAST_PAGE    anomaly (default) | normal: whether an empty last page after a non-empty one refuses
 *                           publication
 *   Optional tuning: SAAS_TIMEOUT_MS (30000), PROXY_CONNECT_TIMEOUT_MS (5000), RETRY_MAX_ATTEMPTS (5),
 *   RETRY_BASE_MS (500), RETRY_MAX_MS (20000), SAAS_MAX_PAGES (10000), PART_MAX_BYTES (32 MiB),
 *   PART_MAX_RECORDS (1000000), DEADLINE_MARGIN_MS (10000), LOG_LEVEL (info).
 *   SAAS_CA_FILE            tests only: a PEM CA trusted in addition to the public roots (TLS is always verified).
 *
 * Event: `{"date": "YYYY-MM-DD"}` exports that date (backfill); an EventBridge scheduled event exports the UTC date
 * of its `time`; anything else exports today's UTC date. `"force": true` publishes a run the checks refused. A rerun
 * of a date replaces what Athena reads for it in one switch; see ./partition.ts for the layout and what a failure at
 * any point leaves behind.
 */
import * as crypto from "crypto";
import { configError, ExportConfig, loadConfig } from "./config";
import { ExportError } from "./errors";
import { createLogger, errorFields, Logger } from "../shared/log";
import { fetchPages } from "./pages";
import { PartitionWriter } from "./partition";
import { S3Store } from "./s3-store";
import type { SaasClient } from "./saas-client";
import { connectSaas } from "./connect";
import { forgetSecret } from "./secrets";
import type { ExportSummary } from "./types";

export type { ExportSummary, PartitionManifest, ManifestPart } from "./types";

/** The part of the Lambda context the handler uses. */
export interface LambdaContextLike {
  awsRequestId?: string;
  getRemainingTimeInMillis?(): number;
}

let config: ExportConfig | undefined;

export async function handler(event?: unknown, context?: LambdaContextLike): Promise<ExportSummary> {
  const started = new Date();
  let log: Logger = createLogger("info", { requestId: context?.awsRequestId });
  let date: string;
  try {
    config ??= loadConfig();
    log = createLogger(config.logLevel, { requestId: context?.awsRequestId });
    date = runDate(event, started);
  } catch (err) {
    log.error("saas export cannot start", errorFields(err));
    throw err instanceof ExportError ? err : configError([(err as Error)?.message ?? String(err)]);
  }
  const cfg = config;
  log = createLogger(cfg.logLevel, { requestId: context?.awsRequestId, date });

  // Give up cleanly before the Lambda timeout, so the log says why; never keep more than a quarter of the budget.
  const initial = context?.getRemainingTimeInMillis?.();
  const margin = initial === undefined ? 0 : Math.min(cfg.deadlineMarginMs, initial / 4);
  const beforePage = (n: number) => {
    const left = context?.getRemainingTimeInMillis?.();
    if (left !== undefined && left < margin) {
      throw new ExportError(
        "timeout",
        `stopped before page ${n} with ${left} ms of the Lambda timeout left (DEADLINE_MARGIN_MS=${cfg.deadlineMarginMs}): raise the function's timeout, ` +
          "or the page size in SAAS_URL if the SaaS allows, so that one run reads the whole data set.",
      );
    }
  };

  const force = event !== null && typeof event === "object" && (event as { force?: unknown }).force === true;
  const runId = `${started
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(
      /\.\d+Z$/,
      "Z",
    )}-${(context?.awsRequestId ?? crypto.randomUUID()).replace(/[^A-Za-z0-9]/g, "").slice(0, 12)}`;
  const store = new S3Store(cfg.bucket, cfg.retry, log);
  const writer = new PartitionWriter(store, {
    prefix: cfg.prefix,
    date,
    runId,
    maxBytes: cfg.partMaxBytes,
    maxRecords: cfg.partMaxRecords,
    minShare: cfg.publishMinShare,
    log,
  });
  const anomalies: string[] = [];
  let client: SaasClient | undefined;
  let pages = 0;
  try {
    client = await connectSaas(cfg, log);
    log.info("saas export started", { partition: writer.location, source: sourceOf(cfg.saasUrl), proxy: cfg.proxyUrl });
    for await (const page of fetchPages(
      client,
      { ...cfg, emptyLastPageIsNormal: cfg.emptyLastPageIsNormal },
      log,
      beforePage,
    )) {
      pages = page.number;
      if (page.anomaly) anomalies.push(page.anomaly);
      for (const record of page.records) await writer.add(record);
    }
    const result = await writer.finish({ source: sourceOf(cfg.saasUrl), startedAt: started, pages, anomalies, force });
    const summary: ExportSummary = {
      date,
      runId,
      pages,
      records: result.records,
      objects: result.parts.length,
      bytes: result.bytes,
      published: result.published,
      deletedOldObjects: result.deletedOldObjects,
      durationMs: Date.now() - started.getTime(),
      partition: writer.location,
      symlink: writer.published,
      manifestKey: result.manifestKey,
      retries: client.retries + store.retries,
    };
    if (!result.published) {
      throw new ExportError(
        "refused",
        `the export of ${date} was not published, so Athena keeps reading the previous data: ${result.refusedBecause.join("; ")}. ` +
          `The run's ${result.records} records are in ${writer.location} and its manifest ${result.manifestKey} says why. ` +
          `If the SaaS really holds less data now, invoke the function with {"date": "${date}", "force": true} to publish it.`,
      );
    }
    log.info("saas export finished", { ...summary });
    return summary;
  } catch (err) {
    // A refused secret is read again next time, so fixing or rotating it takes effect without a cold start.
    if (err instanceof ExportError && err.kind === "proxy-refused") forgetSecret(cfg.proxyHeaderSecretId);
    if (err instanceof ExportError && err.kind === "auth") forgetSecret(cfg.authSecretId);
    // Never rethrow a raw client error: it may hold request headers, and both secrets travel in headers.
    let out =
      err instanceof ExportError
        ? err
        : new ExportError("saas", `saas export failed: ${(err as Error)?.message ?? String(err)}`);
    if (out.kind !== "refused") {
      out = new ExportError(
        out.kind,
        `${out.message} Nothing was published: Athena still reads what ${writer.published} listed before this run` +
          (writer.started
            ? ` (this run's unpublished parts under ${writer.location} are deleted by the next published run).`
            : "."),
        out.status,
      );
    }
    log.error("saas export failed", {
      ...errorFields(out),
      partition: writer.location,
      partitionState: writer.completed ? "published" : "unchanged",
      pages,
      retries: (client?.retries ?? 0) + store.retries,
      durationMs: Date.now() - started.getTime(),
    });
    throw out;
  } finally {
    client?.close();
  }
}

/** The logical date of the run, YYYY-MM-DD in UTC: the event's `date` (backfill), else its `time` (schedule), else now. */
export function runDate(event: unknown, now: Date): string {
  const e = event !== null && typeof event === "object" ? (event as { date?: unknown; time?: unknown }) : {};
  if (e.date !== undefined) {
    if (typeof e.date !== "string" || !isCalendarDate(e.date)) {
      throw new ExportError(
        "event",
        `event.date must be a calendar date YYYY-MM-DD, e.g. {"date": "2026-11-21"}; got ${JSON.stringify(e.date)}.`,
      );
    }
    return e.date;
  }
  if (e.time !== undefined) {
    const t = typeof e.time === "string" ? Date.parse(e.time) : NaN;
    if (!Number.isFinite(t))
      throw new ExportError(
        "event",
        `event.time must be an ISO 8601 timestamp (EventBridge sets it); got ${JSON.stringify(e.time)}.`,
      );
    return new Date(t).toISOString().slice(0, 10);
  }
  return now.toISOString().slice(0, 10);
}

function isCalendarDate(s: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  if (!m) return false;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.toISOString().slice(0, 10) === s;
}

function sourceOf(url: URL): string {
  return `${url.origin}${url.pathname}`;
}
