import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { VpcFunction } from "../components/vpc-function";
import { kintoneSyncBundleOptions } from "../functions/kintone-sync/bundle-options";
import { EnvConfig, PROJECT } from "./config";
import { NetworkOutputs } from "./network";
import { DataOutputs } from "./data";
import { proxyExportApps, ProxyExportOutputs } from "./proxy-export";
import { allowToEndpoints, serviceFlow } from "./endpoints";
import { dbWriterApps, DbWriterAppOutputs } from "./db-writer-app";
import { privateApiApps, PrivateApiAppOutputs } from "./private-api";
import { appflowApps, AppflowAppOutputs } from "./appflow";

export interface AppsOutputs extends ProxyExportOutputs, DbWriterAppOutputs, PrivateApiAppOutputs, AppflowAppOutputs {
  kintoneSync?: {
    functionName: pulumi.Output<string>;
    securityGroupId: pulumi.Output<string>;
    tokenSecretArn: pulumi.Output<string>;
    schedule: string;
  };
}

export interface AppsUpstream {
  network: NetworkOutputs;
  data?: DataOutputs;
}

/** Account A's functions. Every function goes into the network role's private subnets only. */
export function appsRole(cfg: EnvConfig, provider: aws.Provider, up: AppsUpstream): AppsOutputs {
  const out: AppsOutputs = {};
  const ks = cfg.kintoneSync;
  if (ks && ks.enabled) {
    // The token lives in Secrets Manager (encrypted in stack state as a Pulumi secret); the function
    // reads it once per cold start and may read this one secret only.
    const token = new aws.secretsmanager.Secret("kintone-sync-token", {
      description: `kintone API token for app ${ks.appId} (${cfg.stack})`,
      recoveryWindowInDays: cfg.environment === "prod" ? 30 : 7,
    }, { provider });
    new aws.secretsmanager.SecretVersion("kintone-sync-token-value", {
      secretId: token.id,
      secretString: new pulumi.Config(PROJECT).requireSecret("kintoneApiToken"),
    }, { provider, parent: token });

    const host = new URL(ks.baseUrl).hostname;
    const fn = new VpcFunction("kintone-sync", {
      source: "kintone-sync",
      bundle: kintoneSyncBundleOptions(ks.transformModule),
      description: `Syncs kintone app ${ks.appId} through the fixed egress IP(s)`,
      vpcId: up.network.vpcId,
      subnetIds: up.network.privateSubnetIds,
      flows: [
        { to: { kind: "internet", host }, port: 443, purpose: `kintone REST API on ${host} via NAT (allowlisted egress IP)` },
        serviceFlow(cfg, up.network, "secretsmanager", "read the kintone API token from Secrets Manager"),
      ],
      environment: {
        KINTONE_BASE_URL: ks.baseUrl,
        KINTONE_APP_ID: ks.appId,
        KINTONE_QUERY: ks.query,
        KINTONE_TOKEN_SECRET_ID: token.arn,
        KINTONE_ALLOWLIST_HINT: `stack output "egressIps" of stack ${cfg.roles.includes("network") ? cfg.stack : cfg.upstream.network}`,
        ...(ks.transformOptions ? { KINTONE_TRANSFORM_OPTIONS: JSON.stringify(ks.transformOptions) } : {}),
      },
      policyStatements: [{ Sid: "ReadKintoneToken", Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: token.arn }],
      memorySize: ks.memoryMb,
      timeout: ks.timeoutSeconds,
      reservedConcurrency: ks.reservedConcurrency,
      logRetentionInDays: cfg.logRetentionInDays,
    }, { provider });
    allowToEndpoints(cfg, up.network, "kintone-sync", fn.securityGroupId, provider);
    fn.schedule(ks.schedule);
    out.kintoneSync = { functionName: fn.functionName, securityGroupId: fn.securityGroupId, tokenSecretArn: token.arn, schedule: ks.schedule };
  }
  Object.assign(out, proxyExportApps(cfg, provider, up.network));
  Object.assign(out, dbWriterApps(cfg, provider, up.network, up.data));
  Object.assign(out, privateApiApps(cfg, provider, up.network, up.data));
  Object.assign(out, appflowApps(cfg, provider, up.network, up.data));
  return out;
}
