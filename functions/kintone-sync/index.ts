/**
 * kintone-sync: a scheduled Lambda that reads the records of one kintone app, transforms them, and writes back the
 * ones that change. It runs in the private subnets of a FixedEgressVpc so that kintone sees the NAT gateway's
 * Elastic IP, which the domain's IP allowlist admits.
 *
 * Environment (validated once per cold start; see ./config.ts):
 *   KINTONE_BASE_URL         https://<subdomain>.cybozu.com
 *   KINTONE_APP_ID           the app's numeric ID
 *   KINTONE_QUERY            optional record condition, without order by / limit / offset
 *   KINTONE_TOKEN_SECRET_ID  Secrets Manager secret (name or ARN) whose SecretString is the API token
 *   KINTONE_ALLOWLIST_HINT   where the egress IPs to allowlist are published, quoted in the IP-rejection error
 *   KINTONE_CHECKPOINT_TABLE DynamoDB table (partition key "id", String) keeping the position a run stopped by its
 *                            time budget resumes from (./checkpoint.ts). IAM: dynamodb:GetItem and dynamodb:PutItem
 *                            on that table; network: a DynamoDB gateway endpoint on the private route tables (or NAT).
 *   KINTONE_TRANSFORM_OPTIONS  optional JSON for the transform (the default transform's rules)
 *   KINTONE_GUEST_SPACE_ID, KINTONE_RETRY_MAX_ATTEMPTS, KINTONE_RETRY_BASE_MS, KINTONE_RETRY_MAX_MS,
 *   KINTONE_TIMEOUT_MS, KINTONE_DEADLINE_MARGIN_MS, LOG_LEVEL  optional tuning
 *
 * The transform comes from the module specifier "kintone-sync-transform", bound at bundle time by
 * `kintoneSyncBundleOptions()` in ./bundle-options.ts.
 */
import * as transformNamespace from "kintone-sync-transform";
import { configError, loadConfig, SyncConfig } from "./config";
import { checkpointKey, DynamoCheckpoint, Position } from "./checkpoint";
import { SyncError } from "./errors";
import { KintoneApi } from "./kintone-api";
import { createLogger, errorFields } from "../shared/log";
import { forgetApiToken, getApiToken } from "./secret";
import { runSync } from "./sync";
import type { SyncSummary, TransformModule } from "./types";

/** The part of the Lambda context the handler uses. */
export interface LambdaContextLike {
  awsRequestId?: string;
  getRemainingTimeInMillis?(): number;
}

interface Runtime {
  config: SyncConfig;
  transform: TransformModule["transform"];
  options: unknown;
  fields: string[] | undefined;
}

let runtime: Runtime | undefined;

/** Configuration and transform options, validated on the first invocation of a container and kept after. */
function coldStart(): Runtime {
  if (runtime) return runtime;
  const config = loadConfig();
  const mod = resolveTransformModule(transformNamespace as unknown);
  let options: unknown;
  let fields: string[] | undefined;
  try {
    options = mod.parseOptions ? mod.parseOptions(config.transformOptions) : config.transformOptions;
    fields = mod.fields ? mod.fields(options) : undefined;
  } catch (err) {
    throw configError([
      `KINTONE_TRANSFORM_OPTIONS is not valid for the transform: ${(err as Error)?.message ?? String(err)}`,
    ]);
  }
  runtime = { config, transform: mod.transform, options, fields };
  return runtime;
}

/** Accepts named exports (`export function transform`), a default-exported module object, or a default function. */
function resolveTransformModule(ns: unknown): TransformModule {
  const n = ns as { transform?: unknown; default?: unknown };
  if (typeof n.transform === "function") return n as TransformModule;
  const d = n.default as { transform?: unknown } | undefined;
  if (d && typeof d === "object" && typeof d.transform === "function") return d as TransformModule;
  if (typeof d === "function") return { transform: d as TransformModule["transform"] };
  throw new SyncError(
    "config",
    'the module bundled as "kintone-sync-transform" exports no transform function: export `transform(record, options)` from the file given to kintoneSyncBundleOptions()',
  );
}

export async function handler(_event?: unknown, context?: LambdaContextLike): Promise<SyncSummary> {
  const started = Date.now();
  let rt: Runtime;
  try {
    rt = coldStart();
  } catch (err) {
    createLogger("info", { requestId: context?.awsRequestId }).error("kintone sync cannot start", errorFields(err));
    throw err;
  }
  const { config } = rt;
  const log = createLogger(config.logLevel, { requestId: context?.awsRequestId, appId: config.appId });

  // Keep a margin before the Lambda timeout to send the queued writes; never more than a quarter of the budget.
  const remaining = () => context?.getRemainingTimeInMillis?.();
  const initial = remaining();
  const margin = initial === undefined ? 0 : Math.min(config.deadlineMarginMs, initial / 4);
  const shouldStop = () => {
    const left = remaining();
    return left !== undefined && left < margin;
  };

  let api: KintoneApi | undefined;
  try {
    const token = await getApiToken(config.tokenSecretId);
    api = new KintoneApi({
      baseUrl: config.baseUrl,
      appId: config.appId,
      guestSpaceId: config.guestSpaceId,
      token,
      secretId: config.tokenSecretId,
      allowlistHint: config.allowlistHint,
      timeoutMs: config.timeoutMs,
      retry: config.retry,
      log,
    });
    const store = new DynamoCheckpoint(
      config.checkpointTable,
      checkpointKey(config.baseUrl, config.appId, config.condition),
    );
    let position: Position = await store.load();
    let superseded = false;
    const save = async (afterId: number, cycleDone: boolean) => {
      if (superseded) return;
      const saved = await store.save(afterId, position, cycleDone);
      if (saved === "superseded") {
        superseded = true;
        log.warn(
          "another run saved the sync position first; this run's position is not stored and its records are read again later",
          {
            table: store.table,
            key: store.key,
            afterId,
          },
        );
      } else {
        position = saved;
      }
    };
    if (position.afterId > 0)
      log.info("resuming after the last settled record", { afterId: position.afterId, cycles: position.cycles });
    const summary = await runSync({
      api,
      appId: config.appId,
      condition: config.condition,
      fields: rt.fields,
      transform: (record) => rt.transform(record, rt.options),
      log,
      shouldStop,
      startAfterId: position.afterId,
      progress: (afterId) => save(afterId, false),
    });
    // A finished pass starts the next one at the first record; a stopped one resumes where it stopped.
    await save(summary.complete ? 0 : summary.lastId, summary.complete);
    summary.position = superseded ? "superseded" : "saved";
    log.info("kintone sync finished", { ...summary });
    return summary;
  } catch (err) {
    // A token kintone refused is read again next time, so fixing the secret takes effect without a cold start.
    if (err instanceof SyncError && err.kind === "token") forgetApiToken();
    log.error("kintone sync failed", {
      ...errorFields(err),
      kind: err instanceof SyncError ? err.kind : "internal",
      apiCalls: api?.totalCalls ?? 0,
      durationMs: Date.now() - started,
    });
    // Never rethrow a raw HTTP client error: it holds the request headers, the API token among them.
    throw err instanceof SyncError
      ? err
      : new SyncError("kintone", `kintone sync failed: ${(err as Error)?.message ?? String(err)}`);
  }
}
