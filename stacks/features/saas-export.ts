import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { ConfigError } from "../../components/errors";
import { guardPrivateBucket } from "../../components/private-bucket";
import type { SquidProxyTier } from "../../components/squid-proxy-tier";
import { VpcFunction, validateSchedule } from "../../components/vpc-function";
import { collectConfigErrors, EnvConfig, EnvConfigInput, PROJECT, secretFix } from "../config/schema";
import type { NetworkOutputs } from "../config/outputs";
import { allowToEndpoints, serviceFlow } from "../endpoints";
import { checkedSecret } from "../config/secrets";
import type { Feature } from "./feature";

export interface SaasExportOutputs {
  saasExport?: {
    functionName: pulumi.Output<string>;
    bucket: pulumi.Output<string>;
    prefix: string;
    glueDatabase: pulumi.Output<string>;
    glueTable: pulumi.Output<string>;
  };
}

/** Config-time checks of `saasExport` (`failed`: top-level keys that failed the schema). */
export function saasExportConfigErrors(cfg: EnvConfigInput, failed: ReadonlySet<string>): ConfigError[] {
  const errors: ConfigError[] = [];
  if (cfg.saasExport?.enabled && !cfg.proxyTier && !failed.has("proxyTier")) {
    errors.push(
      new ConfigError(
        `${PROJECT}:proxyTier`,
        "saasExport reaches the SaaS through the proxy tier, which is not configured",
        "add proxyTier (allowedDomains must include the SaaS host), or disable saasExport",
      ),
    );
  }
  const se = cfg.saasExport;
  if (
    se?.enabled &&
    cfg.roles.includes("apps") &&
    !failed.has("network") &&
    !cfg.network.interfaceEndpoints.includes("secretsmanager")
  ) {
    // Without the endpoint the function needs 443 to anywhere for Secrets Manager, and could reach the SaaS around the proxy.
    errors.push(
      new ConfigError(
        `${PROJECT}:network.interfaceEndpoints`,
        "saasExport reads its secrets from Secrets Manager, and without a secretsmanager endpoint it would be given 443 to 0.0.0.0/0, a way to the SaaS around the proxy tier",
        "add secretsmanager to network.interfaceEndpoints",
      ),
    );
  }
  if (se?.enabled && !failed.has("saasExport")) {
    collectConfigErrors(errors, () => validateSchedule(se.schedule, `${PROJECT}:saasExport.schedule`));
  }
  return errors;
}

/**
 * docs/designs.md §2: the SaaS → S3 export through the proxy tier (NDJSON day partitions, an Athena table
 * with partition projection).
 */
export function saasExportApps(
  cfg: EnvConfig,
  provider: aws.Provider,
  network: NetworkOutputs,
  tier: SquidProxyTier | undefined,
): SaasExportOutputs {
  if (!tier) return {};
  const se = cfg.saasExport;
  if (!se || !se.enabled) return {};
  const child = { provider };
  const bucket = new aws.s3.Bucket("saas-export-bucket", { forceDestroy: cfg.environment !== "prod" }, child);
  guardPrivateBucket("saas-export-bucket", bucket, child, { ownerEnforced: true, tlsOnlyPolicy: true });

  let authSecret: aws.secretsmanager.Secret | undefined;
  if (cfg.secretsPresent.saasApiToken) {
    authSecret = new aws.secretsmanager.Secret(
      "saas-export-auth",
      { description: `SaaS credential for saas-export (${cfg.stack})` },
      child,
    );
    new aws.secretsmanager.SecretVersion(
      "saas-export-auth-value",
      { secretId: authSecret.id, secretString: checkedSecret(PROJECT, "saasApiToken", secretFix("saasApiToken")) },
      { provider, parent: authSecret },
    );
  }
  const secretArns = authSecret ? [tier.headerSecretArn, authSecret.arn] : [tier.headerSecretArn];

  const fn = new VpcFunction(
    "saas-export",
    {
      source: "saas-export",
      description: "Exports a SaaS API through the proxy tier to S3 (NDJSON, partitioned by day)",
      vpcId: network.vpcId,
      subnetIds: network.privateSubnetIds,
      flows: [
        tier.flow("SaaS API through the Squid proxy tier"),
        {
          to: { kind: "awsService", service: "s3", prefixListId: network.s3PrefixListId },
          port: 443,
          purpose: "write NDJSON to S3 through the gateway endpoint",
        },
        // Through the interface endpoint when the VPC has one: a 443-to-anywhere rule would let the
        // function reach the SaaS around the proxy, through the NAT.
        serviceFlow(cfg, network, "secretsmanager", "read the proxy header and SaaS credential"),
      ],
      environment: {
        PROXY_URL: tier.proxyUrl,
        PROXY_HEADER_NAME: tier.headerName,
        PROXY_HEADER_SECRET_ID: tier.headerSecretArn,
        SAAS_URL: se.url,
        SAAS_PAGINATION: se.pagination,
        SAAS_RECORDS_PATH: se.recordsPath,
        BUCKET: bucket.bucket,
        PREFIX: se.prefix,
        PUBLISH_MIN_SHARE: String(se.publishMinShare),
        SAAS_EMPTY_LAST_PAGE: se.emptyLastPage,
        ...(authSecret ? { SAAS_AUTH_SECRET_ID: authSecret.arn } : {}),
      },
      policyStatements: [
        { Sid: "ReadSecrets", Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: secretArns },
        {
          Sid: "WritePartitions",
          Effect: "Allow",
          Action: ["s3:PutObject", "s3:DeleteObject"],
          Resource: pulumi.interpolate`${bucket.arn}/${se.prefix}*`,
        },
        // Reads the published symlink file (and its run's manifest) to compare a new run with the published one.
        {
          Sid: "ReadPublished",
          Effect: "Allow",
          Action: ["s3:GetObject"],
          Resource: pulumi.interpolate`${bucket.arn}/${se.prefix}*`,
        },
        {
          Sid: "ListPartitions",
          Effect: "Allow",
          Action: ["s3:ListBucket"],
          Resource: bucket.arn,
          Condition: { StringLike: { "s3:prefix": [`${se.prefix}*`] } },
        },
      ],
      memorySize: se.memoryMb,
      timeout: se.timeoutSeconds,
      // Two overlapping runs of one date would race on the same partition.
      reservedConcurrency: cfg.environment === "prod" ? 1 : undefined,
      logRetentionInDays: cfg.logRetentionInDays,
    },
    { provider },
  );
  tier.allowFrom(fn.securityGroupId, "saas-export function");
  allowToEndpoints(cfg, network, "saas-export", fn.securityGroupId, provider);
  fn.schedule(se.schedule);

  // Athena reads the day partitions through partition projection (no crawler, no MSCK REPAIR), and each day
  // through its symlink file under current/, which names the parts of the published run only
  // (docs/saas-export-publishing.md).
  const db = new aws.glue.CatalogDatabase("saas-export-db", { name: `${cfg.environment}_saas_export` }, child);
  const location = pulumi.interpolate`s3://${bucket.bucket}/${se.prefix}current/`;
  const table = new aws.glue.CatalogTable(
    "saas-export-table",
    {
      databaseName: db.name,
      name: "records",
      tableType: "EXTERNAL_TABLE",
      parameters: {
        classification: "json",
        "projection.enabled": "true",
        "projection.dt.type": "date",
        "projection.dt.format": "yyyy-MM-dd",
        "projection.dt.range": "2020-01-01,NOW",
        "projection.dt.interval": "1",
        "projection.dt.interval.unit": "DAYS",
        "storage.location.template": pulumi.interpolate`${location}dt=\${dt}/`,
      },
      partitionKeys: [{ name: "dt", type: "string" }],
      storageDescriptor: {
        location,
        inputFormat: "org.apache.hadoop.hive.ql.io.SymlinkTextInputFormat",
        outputFormat: "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
        serDeInfo: {
          serializationLibrary: "org.openx.data.jsonserde.JsonSerDe",
          parameters: { "ignore.malformed.json": "false" },
        },
        columns: se.columns.map((c) => ({ name: c.name, type: c.type })),
      },
    },
    { provider, parent: db },
  );
  return {
    saasExport: {
      functionName: fn.functionName,
      bucket: bucket.bucket,
      prefix: se.prefix,
      glueDatabase: db.name,
      glueTable: table.name,
    },
  };
}

/** docs/designs.md §2's export that uses the proxy tier. */
export const saasExportFeature: Feature<SaasExportOutputs> = {
  name: "saas-export",
  configErrors: ({ cfg, failed }) => saasExportConfigErrors(cfg, failed),
  apps: ({ cfg, provider, network, shared }) => saasExportApps(cfg, provider, network, shared.proxyTier),
};
