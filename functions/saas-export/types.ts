/** What the export returns, logs and writes beside its data. */

/** The run summary: returned by the handler and logged as "saas export finished". */
export interface ExportSummary {
  /** The partition's logical date, YYYY-MM-DD (UTC). */
  date: string;
  /** This run's id: its data is under `<prefix>data/dt=<date>/run=<runId>/`. */
  runId: string;
  /** SaaS pages read. */
  pages: number;
  /** Records written (= NDJSON lines across all parts). */
  records: number;
  /** Part objects written (the manifest not counted). */
  objects: number;
  /** Bytes of NDJSON written (the manifest not counted). */
  bytes: number;
  /** True when Athena now reads this run (the symlink file points at its parts). */
  published: boolean;
  /** Objects of older runs of the same date deleted after the switch. */
  deletedOldObjects: number;
  durationMs: number;
  /** `s3://<bucket>/<prefix>data/dt=<date>/run=<runId>/`. */
  partition: string;
  /** `s3://<bucket>/<prefix>current/dt=<date>/symlink.txt`, what Athena reads for the date. */
  symlink: string;
  /** Key of the run's manifest. */
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
 * `<prefix>data/dt=<date>/run=<runId>/_manifest.json`, written by every run that read the SaaS to the end, before any
 * switch. Athena never reads it (the symlink file lists only parts).
 */
export interface PartitionManifest {
  format: "vpc-lambda-kit/saas-export/manifest@2";
  date: string;
  runId: string;
  /** "published": the date's symlink file points at this run; "refused": it was not published (see refusedBecause). */
  status: "published" | "refused";
  /** Why the run was not published: too few records against the previous export, or an anomalous last page. */
  refusedBecause?: string[];
  /** Reasons that would have refused it, overridden by `{"force": true}`. */
  forcedOver?: string[];
  /** The export published before this run (same date, else the day before) that it was compared with. */
  previous?: { runId: string; date: string; records: number };
  /** `s3://<bucket>/<prefix>data/dt=<date>/run=<runId>/`. */
  location: string;
  /** The symlink file Athena reads for the date. */
  symlink: string;
  /** Origin and path of SAAS_URL (no query). */
  source: string;
  startedAt: string;
  finishedAt: string;
  pages: number;
  records: number;
  bytes: number;
  parts: ManifestPart[];
}
