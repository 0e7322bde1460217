import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { AthenaFederatedCatalog, athenaCatalogErrors } from "../../components/athena-connector";
import { ConfigError } from "../../components/errors";
import type { SquidProxyTier } from "../../components/squid-proxy-tier";
import type { TableSpec } from "../../functions/athena-connector/tables";
import { EnvConfig, EnvConfigInput, PROJECT } from "../config/schema";
import type { NetworkOutputs } from "../config/outputs";
import { allowToEndpoints, gatewayEndpointErrors, serviceFlow } from "../endpoints";
import type { Feature } from "./feature";

export interface AthenaConnectorOutputs {
  athenaConnector?: {
    catalogName: pulumi.Output<string>;
    workgroupName: pulumi.Output<string>;
    bucketName: pulumi.Output<string>;
    functionName: pulumi.Output<string>;
    /** The IAM policy (JSON) an analysts' role attaches to query the catalog in its workgroup. */
    queryPolicy: pulumi.Output<string>;
  };
}

const KEY = `${PROJECT}:athenaConnector`;

/**
 * Whether Squid lets `host` through an `allowedDomains` entry: ".example.com" covers example.com and every
 * subdomain, "api.example.com" that host only (Squid's dstdomain semantics, as components/squid-conf.ts renders them).
 */
export function domainAllows(entry: string, host: string): boolean {
  const e = entry.toLowerCase();
  const h = host.toLowerCase();
  return e.startsWith(".") ? h === e.slice(1) || h.endsWith(e) : h === e;
}

/**
 * Config-time checks of `athenaConnector`: the proxy tier exists and lets every table's host through, the S3
 * gateway endpoint exists for the spill path, and the component's own checks (catalog name, lower-case table and
 * column names, column types, at least one column, pagination, prefixes), reported under the config's keys.
 */
export function athenaConnectorConfigErrors(cfg: EnvConfigInput, failed: ReadonlySet<string>): ConfigError[] {
  const ac = cfg.athenaConnector;
  if (!ac || !ac.enabled) return [];
  const errors: ConfigError[] = [];
  if (!cfg.proxyTier && !failed.has("proxyTier")) {
    errors.push(
      new ConfigError(
        `${PROJECT}:proxyTier`,
        "athenaConnector reads the SaaS through the proxy tier, which is not configured",
        "add proxyTier (allowedDomains must include every athenaConnector.tables[].url host), or set athenaConnector.enabled to false",
      ),
    );
  }
  errors.push(
    ...athenaCatalogErrors(KEY, {
      catalogName: ac.catalogName,
      schemaName: ac.schemaName,
      tables: ac.tables as TableSpec[],
      spillPrefix: ac.spillPrefix,
    }),
  );
  if (cfg.proxyTier) {
    const domains = cfg.proxyTier.allowedDomains;
    ac.tables.forEach((t, i) => {
      let host: string;
      try {
        host = new URL(t.url).hostname;
      } catch {
        return;
      } // reported by the table checks above
      if (!domains.some((d) => domainAllows(d, host))) {
        errors.push(
          new ConfigError(
            `${KEY}.tables[${i}].url`,
            `host ${host} is not on proxyTier.allowedDomains (${domains.join(", ")}), so the proxy would refuse every query of table ${t.name}`,
            `add "${host}" to ${PROJECT}:proxyTier.allowedDomains, or point the table at an allowed host`,
          ),
        );
      }
    });
  }
  errors.push(
    ...gatewayEndpointErrors(
      cfg,
      failed,
      "s3",
      "athenaConnector writes spilled blocks to S3 through the S3 gateway endpoint, and the network has none",
      "add s3 to network.gatewayEndpoints (free, and keeps S3 traffic off the NAT)",
    ),
  );
  return errors;
}

/**
 * The Athena federated catalog in the apps role: the connector function in the network's private subnets, reaching
 * the SaaS only through the proxy tier, Secrets Manager through its endpoint (or the NAT when the VPC has none), and
 * its spill bucket through the S3 gateway endpoint.
 */
export function athenaConnectorApps(
  cfg: EnvConfig,
  provider: aws.Provider,
  network: NetworkOutputs,
  tier: SquidProxyTier | undefined,
): AthenaConnectorOutputs {
  const ac = cfg.athenaConnector;
  if (!ac || !ac.enabled || !tier) return {};
  // Its own copy of the SaaS credential (the secret saasApiToken), so no other function's secret is shared.
  let authSecret: aws.secretsmanager.Secret | undefined;
  if (cfg.secretsPresent.saasApiToken) {
    authSecret = new aws.secretsmanager.Secret(
      "athena-connector-auth",
      { description: `SaaS credential for the Athena connector (${cfg.stack})` },
      { provider },
    );
    new aws.secretsmanager.SecretVersion(
      "athena-connector-auth-value",
      {
        secretId: authSecret.id,
        secretString: new pulumi.Config(PROJECT).requireSecret("saasApiToken"),
      },
      { provider, parent: authSecret },
    );
  }
  const catalog = new AthenaFederatedCatalog(
    "athena-connector",
    {
      catalogName: ac.catalogName,
      schemaName: ac.schemaName,
      tables: ac.tables as TableSpec[],
      vpcId: network.vpcId,
      subnetIds: network.privateSubnetIds,
      proxy: {
        flow: tier.flow("SaaS API through the Squid proxy tier (Athena queries)"),
        proxyUrl: tier.proxyUrl,
        headerName: tier.headerName,
        headerSecretArn: tier.headerSecretArn,
      },
      secretsManagerFlow: serviceFlow(cfg, network, "secretsmanager", "read the proxy header and SaaS credential"),
      s3PrefixListId: network.s3PrefixListId,
      authSecretArn: authSecret?.arn,
      spillPrefix: ac.spillPrefix,
      memoryMb: ac.memoryMb,
      timeoutSeconds: ac.timeoutSeconds,
      logRetentionInDays: cfg.logRetentionInDays,
      forceDestroy: cfg.environment !== "prod",
    },
    { provider },
  );
  tier.allowFrom(catalog.securityGroupId, "athena connector");
  allowToEndpoints(cfg, network, "athena-connector", catalog.securityGroupId, provider);
  return {
    athenaConnector: {
      catalogName: catalog.catalogName,
      workgroupName: catalog.workgroupName,
      bucketName: catalog.bucketName,
      functionName: catalog.functionName,
      queryPolicy: catalog.queryPolicy,
    },
  };
}

/** The SaaS read live from Athena, through the same proxy tier as saas-export (docs/athena-connector.md). */
export const athenaConnectorFeature: Feature<AthenaConnectorOutputs> = {
  name: "athena-connector",
  configErrors: ({ cfg, failed }) => (failed.has("athenaConnector") ? [] : athenaConnectorConfigErrors(cfg, failed)),
  apps: ({ cfg, provider, network, shared }) => athenaConnectorApps(cfg, provider, network, shared.proxyTier),
};
