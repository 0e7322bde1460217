/** What the export returns, logs and writes beside its data. */

/** The run summary: returned by the handler and logged as "saas export finished". */
export interface ExportSummary {
  /** The partition's logical date, YYYY-MM-DD (UTC). */
  date: string;
  /** SaaS pages read. */
  pages: number;
  /** Records written (= NDJSON lines across all parts). */
  records: number;
  /** Part objects written (the manifest not counted). */
  objects: number;
  /** Bytes of NDJSON written (the manifest not counted). */
  bytes: number;
  /** Parts of an earlier, longer run of the same date that were deleted. */
  deletedStaleParts: number;
  durationMs: number;
  /** `s3://<bucket>/<prefix>dt=<date>/`. */
  partition: string;
  /** Key of the manifest, written last. */
  manifestKey: string;
  /** Requests repeated after a 429, a 5xx or a network error (SaaS and S3). */
  retries: number;
}

/** One part object as listed in the manifest. */
export interface ManifestPart {
  /** Full S3 key. */
  key: string;
  records: number;
  bytes: number;
  /** Hex SHA-256 of the object's bytes (S3 stored the same digest as its ChecksumSHA256). */
  sha256: string;
}

/**
 * `<prefix>dt=<date>/_SUCCESS`, written only after every part is in place and stale parts are gone. Its presence
 * means the partition is complete and consists of exactly `parts`; Athena skips it (keys starting with `_` are
 * ignored), so it never shows up as a row.
 */
export interface PartitionManifest {
  format: "vpc-lambda-kit/saas-export/manifest@1";
  date: string;
  partition: string;
  /** Origin and path of SAAS_URL (no query). */
  source: string;
  startedAt: string;
  finishedAt: string;
  pages: number;
  records: number;
  bytes: number;
  parts: ManifestPart[];
}
