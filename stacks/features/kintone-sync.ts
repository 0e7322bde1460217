import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import * as fs from "fs";
import * as path from "path";
import { BundleError, bundleFunction, REPO_ROOT } from "../../components/bundle";
import { ConfigError } from "../../components/errors";
import { VpcFunction, validateSchedule } from "../../components/vpc-function";
import { kintoneSyncBundleOptions } from "../../functions/kintone-sync/bundle-options";
import { parseOptions as parseDefaultTransformOptions } from "../../functions/kintone-sync/transform";
import { collectConfigErrors, EnvConfig, EnvConfigInput, PROJECT, secretFix } from "../config/schema";
import type { NetworkOutputs } from "../config/outputs";
import { allowToEndpoints, gatewayEndpointErrors, serviceFlow } from "../endpoints";
import { checkedSecret } from "../config/secrets";
import type { Feature } from "./feature";

export interface KintoneSyncOutputs {
  kintoneSync?: {
    functionName: pulumi.Output<string>;
    securityGroupId: pulumi.Output<string>;
    tokenSecretArn: pulumi.Output<string>;
    /** The DynamoDB table holding the sync position. */
    positionTable: pulumi.Output<string>;
    schedule: string;
  };
}

/** Config-time checks of `kintoneSync`: the token is set, the schedule parses, the shipped transform accepts its options. */
export function kintoneSyncConfigErrors(
  cfg: EnvConfigInput,
  tokenPresent: boolean,
  failed: ReadonlySet<string> = new Set(),
): ConfigError[] {
  const ks = cfg.kintoneSync;
  if (!ks) return [];
  const errors: ConfigError[] = [];
  if (ks.enabled !== false && !tokenPresent && cfg.roles.includes("apps")) {
    errors.push(
      new ConfigError(
        `${PROJECT}:kintoneApiToken`,
        "kintoneSync is enabled but no API token is set",
        `pulumi config set --secret ${PROJECT}:kintoneApiToken <token>`,
      ),
    );
  }
  collectConfigErrors(errors, () => validateSchedule(ks.schedule, `${PROJECT}:kintoneSync.schedule`));
  if (ks.transformModule !== undefined) errors.push(...transformModuleErrors(ks.transformModule));
  else {
    // The shipped transform's rules are checked now, not at the first scheduled run.
    try {
      parseDefaultTransformOptions(ks.transformOptions);
    } catch (e) {
      errors.push(
        new ConfigError(
          `${PROJECT}:kintoneSync.transformOptions`,
          `not valid for the shipped transform: ${(e as Error).message}`,
          `give {"rules": [...]} as documented in functions/kintone-sync/transform.ts, or set kintoneSync.transformModule to your own module`,
        ),
      );
    }
  }
  if (/\b(order\s+by|limit|offset)\b/i.test(ks.query)) {
    errors.push(
      new ConfigError(
        `${PROJECT}:kintoneSync.query`,
        "the query contains order by / limit / offset",
        "give only the condition; the sync pages by $id itself",
      ),
    );
  }
  if (ks.enabled !== false)
    errors.push(
      ...gatewayEndpointErrors(
        cfg,
        failed,
        "dynamodb",
        "kintoneSync keeps its sync position in DynamoDB, reached through the DynamoDB gateway endpoint, and the network has none",
        "add dynamodb to network.gatewayEndpoints, e.g. [s3, dynamodb] (free; set it in the network stack and in the apps stack alike)",
      ),
    );
  return errors;
}

/**
 * A custom transform is compiled into the function: it must be a file inside the project (never a path
 * that climbs out of it, even through a symlink) and it must build. Build errors come back as
 * file:line:column and esbuild's message.
 */
function transformModuleErrors(module: string): ConfigError[] {
  const key = `${PROJECT}:kintoneSync.transformModule`;
  const fix =
    "give the path of a .ts or .js file inside the repository, relative to its root, e.g. ./transforms/my-transform.ts";
  const resolved = path.resolve(REPO_ROOT, module);
  const inside = (p: string) => {
    const rel = path.relative(REPO_ROOT, p);
    return rel !== "" && !rel.startsWith("..") && !path.isAbsolute(rel);
  };
  if (!module.startsWith(".") && !path.isAbsolute(module))
    return [new ConfigError(key, `"${module}" is not a path; a transform module is a file in this project`, fix)];
  if (!inside(resolved)) return [new ConfigError(key, `"${module}" resolves outside the project (${resolved})`, fix)];
  if (!/\.(ts|js|mjs|cjs)$/.test(resolved)) return [new ConfigError(key, `"${module}" is not a .ts or .js file`, fix)];
  if (!fs.existsSync(resolved) || !fs.statSync(resolved).isFile())
    return [
      new ConfigError(key, `"${module}" does not exist (resolved to ${path.relative(REPO_ROOT, resolved)})`, fix),
    ];
  const real = fs.realpathSync(resolved);
  const realRel = path.relative(fs.realpathSync(REPO_ROOT), real);
  if (realRel.startsWith("..") || path.isAbsolute(realRel))
    return [new ConfigError(key, `"${module}" is a link to ${real}, outside the project`, fix)];
  try {
    bundleFunction("kintone-sync", kintoneSyncBundleOptions(module));
  } catch (e) {
    if (e instanceof BundleError)
      return [
        new ConfigError(
          key,
          `the transform does not build: ${e.errors.map((m) => `${m.location ? `${path.relative(REPO_ROOT, path.resolve(REPO_ROOT, m.location.file))}:${m.location.line}:${m.location.column + 1}` : "?"} ${m.text}`).join("; ")}`,
          "fix the transform module at that line",
        ),
      ];
    throw e;
  }
  return [];
}

/**
 * docs/designs.md §1 in the apps role: the scheduled kintone sync in the network's private subnets, reaching
 * kintone through the fixed egress IP(s) and reading its API token from Secrets Manager.
 */
export function kintoneSyncApps(cfg: EnvConfig, provider: aws.Provider, network: NetworkOutputs): KintoneSyncOutputs {
  const ks = cfg.kintoneSync;
  if (!ks || !ks.enabled) return {};
  // The token lives in Secrets Manager (encrypted in stack state as a Pulumi secret); the function
  // reads it once per cold start and may read this one secret only.
  const token = new aws.secretsmanager.Secret(
    "kintone-sync-token",
    {
      description: `kintone API token for app ${ks.appId} (${cfg.stack})`,
      recoveryWindowInDays: cfg.environment === "prod" ? 30 : 7,
    },
    { provider },
  );
  new aws.secretsmanager.SecretVersion(
    "kintone-sync-token-value",
    {
      secretId: token.id,
      secretString: checkedSecret(PROJECT, "kintoneApiToken", secretFix("kintoneApiToken")),
    },
    { provider, parent: token },
  );

  // The sync position (one item per app and query, partition key "id"): the next run resumes where the last one
  // stopped. Point-in-time recovery in prod, so a bad write can be rolled back.
  const positions = new aws.dynamodb.Table(
    "kintone-sync-positions",
    {
      billingMode: "PAY_PER_REQUEST",
      hashKey: "id",
      attributes: [{ name: "id", type: "S" }],
      pointInTimeRecovery: { enabled: cfg.environment === "prod" },
      serverSideEncryption: { enabled: true },
      deletionProtectionEnabled: cfg.environment === "prod",
    },
    { provider },
  );

  const host = new URL(ks.baseUrl).hostname;
  const fn = new VpcFunction(
    "kintone-sync",
    {
      source: "kintone-sync",
      bundle: kintoneSyncBundleOptions(ks.transformModule),
      description: `Syncs kintone app ${ks.appId} through the fixed egress IP(s)`,
      vpcId: network.vpcId,
      subnetIds: network.privateSubnetIds,
      flows: [
        {
          to: { kind: "internet", host },
          port: 443,
          purpose: `kintone REST API on ${host} via NAT (allowlisted egress IP)`,
        },
        serviceFlow(cfg, network, "secretsmanager", "read the kintone API token from Secrets Manager"),
        {
          to: { kind: "awsService", service: "dynamodb", prefixListId: network.dynamodbPrefixListId },
          port: 443,
          purpose: "read and write the sync position through the DynamoDB gateway endpoint",
        },
      ],
      environment: {
        KINTONE_BASE_URL: ks.baseUrl,
        KINTONE_APP_ID: ks.appId,
        KINTONE_QUERY: ks.query,
        KINTONE_TOKEN_SECRET_ID: token.arn,
        KINTONE_CHECKPOINT_TABLE: positions.name,
        KINTONE_ALLOWLIST_HINT: `stack output "egressIps" of stack ${cfg.roles.includes("network") ? cfg.stack : cfg.upstream.network}`,
        ...(ks.transformOptions ? { KINTONE_TRANSFORM_OPTIONS: JSON.stringify(ks.transformOptions) } : {}),
      },
      policyStatements: [
        { Sid: "ReadKintoneToken", Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: token.arn },
        {
          Sid: "SyncPosition",
          Effect: "Allow",
          Action: ["dynamodb:GetItem", "dynamodb:PutItem"],
          Resource: positions.arn,
        },
      ],
      memorySize: ks.memoryMb,
      timeout: ks.timeoutSeconds,
      reservedConcurrency: ks.reservedConcurrency,
      logRetentionInDays: cfg.logRetentionInDays,
    },
    { provider },
  );
  allowToEndpoints(cfg, network, "kintone-sync", fn.securityGroupId, provider);
  fn.schedule(ks.schedule);
  return {
    kintoneSync: {
      functionName: fn.functionName,
      securityGroupId: fn.securityGroupId,
      tokenSecretArn: token.arn,
      positionTable: positions.name,
      schedule: ks.schedule,
    },
  };
}

/** docs/designs.md §1: the kintone sync through the fixed egress IP. */
export const kintoneSyncFeature: Feature<KintoneSyncOutputs> = {
  name: "kintone-sync",
  configErrors: ({ cfg, failed, secretsPresent }) =>
    failed.has("kintoneSync") ? [] : kintoneSyncConfigErrors(cfg, secretsPresent.kintoneApiToken, failed),
  apps: ({ cfg, provider, network }) => kintoneSyncApps(cfg, provider, network),
};
