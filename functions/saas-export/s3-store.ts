/**
 * The S3 calls the export makes, with the same bounded retry as the SaaS calls (the SDK's own retry is off so the
 * policy, the jitter and the retry count are one thing), and failures explained.
 *
 * The client is a plain SDK client: no proxy agent. S3 is reached through the VPC's S3 gateway endpoint, which the
 * function's route tables send S3 traffic to; routing it through the Squid tier would only add load and a
 * dependency. The endpoint comes from the SDK's normal resolution (AWS_REGION; AWS_ENDPOINT_URL_S3 in tests).
 */
import {
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { ExportError } from "./errors";
import type { Logger } from "../shared/log";
import { AttemptFailure, RetriesExhausted, RetryPolicy, withRetry } from "../shared/retry";

let client: S3Client | undefined;

function s3(): S3Client {
  client ??= new S3Client({ maxAttempts: 1, requestHandler: { connectionTimeout: 5_000, requestTimeout: 60_000 } });
  return client;
}

const RETRYABLE_NAMES = new Set([
  "SlowDown",
  "ThrottlingException",
  "RequestTimeout",
  "RequestTimeoutException",
  "InternalError",
  "ServiceUnavailable",
  "TimeoutError",
]);
const NETWORK =
  /ECONNRESET|ECONNREFUSED|EPIPE|ETIMEDOUT|EAI_AGAIN|ENOTFOUND|EHOSTUNREACH|ENETUNREACH|socket hang up|TimeoutError|timed out/i;

type S3Action = "PutObject" | "DeleteObject" | "ListBucket" | "GetObject";

export class S3Store {
  retries = 0;
  requests = 0;

  constructor(
    readonly bucket: string,
    private readonly retry: RetryPolicy,
    private readonly log: Logger,
  ) {}

  async put(
    key: string,
    body: Buffer,
    sha256Base64: string,
    contentType: string,
    metadata?: Record<string, string>,
  ): Promise<void> {
    await this.call("PutObject", key, () =>
      s3().send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Body: body,
          ContentType: contentType,
          ChecksumSHA256: sha256Base64,
          Metadata: metadata,
        }),
      ),
    );
  }

  /** The object's bytes and user metadata, or undefined when there is no such key. */
  async get(key: string): Promise<{ body: Buffer; metadata: Record<string, string> } | undefined> {
    try {
      return await this.call("GetObject", key, async () => {
        const res = await s3().send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
        const bytes = await res.Body!.transformToByteArray();
        return { body: Buffer.from(bytes), metadata: res.Metadata ?? {} };
      });
    } catch (err) {
      if ((err as { notFound?: boolean }).notFound) return undefined;
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    await this.call("DeleteObject", key, () => s3().send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key })));
  }

  /** Every key under `prefix`. */
  async list(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const res = await this.call("ListBucket", prefix, () =>
        s3().send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token })),
      );
      for (const o of res.Contents ?? []) if (o.Key) keys.push(o.Key);
      token = res.IsTruncated ? res.NextContinuationToken : undefined;
    } while (token);
    return keys;
  }

  async deleteMany(keys: string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += 1000) {
      const batch = keys.slice(i, i + 1000);
      const res = await this.call("DeleteObject", batch[0], () =>
        s3().send(
          new DeleteObjectsCommand({
            Bucket: this.bucket,
            Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true },
          }),
        ),
      );
      const failed = res.Errors ?? [];
      if (failed.length > 0) {
        const f = failed[0];
        throw new ExportError(
          "s3",
          `S3 refused to delete ${failed.length} object(s) in s3://${this.bucket}/, e.g. ${f.Key} (${f.Code}: ${f.Message})` +
            (f.Code === "AccessDenied" ? `: ${permissionFix(this.bucket, "DeleteObject")}.` : "."),
        );
      }
    }
  }

  private async call<T>(action: S3Action, key: string, op: () => Promise<T>): Promise<T> {
    try {
      const { value } = await withRetry(
        () => {
          this.requests++;
          return op();
        },
        classify,
        this.retry,
        (err, attempt, waitMs) => {
          this.retries++;
          this.log.warn("S3 request failed; retrying", { action, key, attempt, waitMs, ...facts(err) });
        },
      );
      return value;
    } catch (err) {
      const { cause, attempts } = err as RetriesExhausted;
      throw explain(cause, action, this.bucket, key, attempts);
    }
  }
}

function facts(err: unknown): { errorName?: string; status?: number; error?: string } {
  const e = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  return { errorName: e?.name, status: e?.$metadata?.httpStatusCode, error: e?.message };
}

function classify(err: unknown): AttemptFailure {
  const { errorName = "", status, error = "" } = facts(err);
  const code = (err as { code?: string })?.code ?? "";
  if (status === 429 || (status !== undefined && status >= 500)) return { retryable: true };
  if (RETRYABLE_NAMES.has(errorName)) return { retryable: true };
  if (status === undefined && NETWORK.test(`${errorName} ${code} ${error}`)) return { retryable: true };
  return { retryable: false };
}

function permissionFix(bucket: string, action: S3Action): string {
  return (
    `allow s3:${action} for the function's role (s3:PutObject, s3:GetObject and s3:DeleteObject on arn:aws:s3:::${bucket}/<PREFIX>*, s3:ListBucket on ` +
    `arn:aws:s3:::${bucket} for that prefix), and check that the bucket policy and the S3 gateway endpoint's policy allow it too`
  );
}

function explain(err: unknown, action: S3Action, bucket: string, key: string, attempts: number): ExportError {
  if (err instanceof ExportError) return err;
  const { errorName = "Error", status, error = String(err) } = facts(err);
  const where = action === "ListBucket" ? `s3://${bucket}/${key}*` : `s3://${bucket}/${key}`;
  const tries = attempts > 1 ? ` after ${attempts} attempts` : "";
  const detail = `${errorName}${status ? ` ${status}` : ""}: ${error}`;
  if (errorName === "NoSuchKey" && action === "GetObject") {
    return Object.assign(new ExportError("s3", `no object at ${where}`, status), { notFound: true });
  }
  if (errorName === "NoSuchBucket") {
    return new ExportError(
      "s3",
      `bucket "${bucket}" (BUCKET) does not exist in this region (${detail}): create it, or set BUCKET to the export bucket's name.`,
      status,
    );
  }
  if (errorName === "AccessDenied" || status === 403) {
    return new ExportError(
      "s3",
      `S3 denied ${action} on ${where} (${detail}): ${permissionFix(bucket, action)}.`,
      status,
    );
  }
  if (status === undefined && NETWORK.test(`${errorName} ${(err as { code?: string })?.code ?? ""} ${error}`)) {
    return new ExportError(
      "s3",
      `could not reach S3 for ${action} on ${where} (${detail})${tries}. The function reaches S3 without the proxy, through the VPC's S3 gateway endpoint: ` +
        "associate the endpoint with the route tables of the function's subnets, and let the function's security group send 443 to the S3 prefix list.",
    );
  }
  return new ExportError("s3", `S3 ${action} on ${where} failed${tries} (${detail}).`, status);
}
