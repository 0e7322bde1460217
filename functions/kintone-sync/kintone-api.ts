/**
 * The three kintone requests the sync makes, each counted (every attempt is charged to the app's daily API budget)
 * and retried on 429/5xx/network errors. Final failures become `SyncError`s with a sentence to act on.
 */
// `import =` makes esbuild take the package's CommonJS entry: its "import" entry (index.mjs) uses top-level await,
// which a CommonJS Lambda bundle cannot contain.
import kintoneClient = require("@kintone/rest-api-client");
import { describeFailure, explainFailure, isRetryable } from "./errors";
import { errorFields, Logger } from "../shared/log";
import { backoffMs, RetryPolicy, sleep } from "../shared/retry";
import type { KintoneRecord } from "./types";

/** kintone's limits (cybozu.dev REST API docs): records per GET, records per PUT, requests per bulkRequest. */
export const MAX_GET_RECORDS = 500;
export const MAX_PUT_RECORDS = 100;
export const MAX_BULK_REQUESTS = 20;

export interface RecordUpdateRequest {
  id: string;
  /** The revision we read: kintone refuses the update (GAIA_CO02) if the record changed since. */
  revision: string;
  record: Record<string, { value: unknown }>;
}

export interface KintoneApiOptions {
  baseUrl: string;
  appId: number;
  guestSpaceId?: number;
  token: string;
  secretId: string;
  allowlistHint: string;
  timeoutMs: number;
  retry: RetryPolicy;
  log: Logger;
}

export type CallKind = "read" | "write" | "recheck";

export class KintoneApi {
  readonly calls: Record<CallKind, number> = { read: 0, write: 0, recheck: 0 };
  retries = 0;
  private readonly client: kintoneClient.KintoneRestAPIClient;

  constructor(private readonly opts: KintoneApiOptions) {
    this.client = new kintoneClient.KintoneRestAPIClient({
      baseUrl: clientBaseUrl(opts.baseUrl),
      auth: { apiToken: opts.token },
      guestSpaceId: opts.guestSpaceId,
      socketTimeout: opts.timeoutMs,
      userAgent: "vpc-lambda-kit/kintone-sync",
    });
  }

  get totalCalls(): number {
    return this.calls.read + this.calls.write + this.calls.recheck;
  }

  /** GET /k/v1/records.json. `query` must carry its own `limit` (≤ 500). */
  async getRecords(
    kind: "read" | "recheck",
    query: string,
    fields: string[] | undefined,
    totalCount: boolean,
  ): Promise<{ records: KintoneRecord[]; totalCount: number | null }> {
    const res = await this.call(kind, kind === "read" ? "read records" : "re-read record revisions", () =>
      this.client.record.getRecords({ app: this.opts.appId, query, fields, totalCount }),
    );
    return {
      records: res.records as unknown as KintoneRecord[],
      totalCount: res.totalCount === null || res.totalCount === undefined ? null : Number(res.totalCount),
    };
  }

  /**
   * One bulkRequest of up to 20 PUT records.json requests of up to 100 records each: up to 2,000 record updates for
   * one API call. kintone applies a bulkRequest all-or-nothing.
   */
  async bulkUpdate(chunks: RecordUpdateRequest[][]): Promise<void> {
    if (chunks.length === 0) return;
    if (chunks.length > MAX_BULK_REQUESTS || chunks.some((c) => c.length === 0 || c.length > MAX_PUT_RECORDS)) {
      throw new Error(`internal: a bulkRequest takes 1-${MAX_BULK_REQUESTS} requests of 1-${MAX_PUT_RECORDS} records`);
    }
    await this.call("write", "update records", () =>
      this.client.bulkRequest({
        requests: chunks.map((records) => ({
          method: "PUT",
          endpointName: "records" as const,
          payload: { app: this.opts.appId, records },
        })),
      }),
    );
  }

  private async call<T>(kind: CallKind, operation: string, op: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      this.calls[kind]++;
      try {
        return await op();
      } catch (err) {
        const failure = describeFailure(err);
        if (!failure) throw err;
        if (isRetryable(failure) && attempt < this.opts.retry.maxAttempts) {
          const wait = backoffMs(attempt, this.opts.retry, failure.retryAfterMs);
          this.retries++;
          this.opts.log.warn("kintone request failed; retrying", {
            operation,
            attempt,
            waitMs: Math.round(wait),
            status: failure.status,
            code: failure.code,
            ...(failure.transport === "network" ? errorFields(err) : {}),
          });
          await sleep(wait);
          continue;
        }
        throw explainFailure(failure, {
          baseUrl: this.opts.baseUrl,
          appId: this.opts.appId,
          secretId: this.opts.secretId,
          allowlistHint: this.opts.allowlistHint,
          operation,
          attempts: attempt,
        });
      }
    }
  }
}

/**
 * The client accepts plain http only for the host name "localhost"; tests run the fake kintone on
 * http://127.0.0.1:<port>, which is the same loopback address, so it is handed over under that name.
 */
function clientBaseUrl(baseUrl: string): string {
  const url = new URL(baseUrl);
  if (url.protocol === "http:" && url.hostname === "127.0.0.1") url.hostname = "localhost";
  return url.origin;
}
