import * as pulumi from "@pulumi/pulumi";
import { ConfigError } from "../../components/errors";
import { VpcFunction } from "../../components/vpc-function";
import { EnvConfigInput, PROJECT as P, sameAccount } from "../config/schema";
import { allowToEndpoints } from "../endpoints";
import { assertDataOutputs, clientRoleArn, DbAccess, dbClientAccess, dbClientConfigErrors } from "../db-client";
import { AppsBuildContext, Feature, FunctionOutputs, functionOutputs } from "./feature";

export interface DbWriterAppOutputs {
  dbWriter?: FunctionOutputs & {
    roleArn: pulumi.Output<string>;
    access: DbAccess;
  };
}

/**
 * Config-time checks of `dbWriter` against the rest of the environment. Unsupported combinations are
 * refused here, with the reason, before anything is registered.
 */
export function dbWriterConfigErrors(cfg: EnvConfigInput): ConfigError[] {
  const w = cfg.dbWriter;
  if (!w || !w.enabled || !cfg.roles.includes("apps")) return [];
  const errors: ConfigError[] = [];
  errors.push(
    ...dbClientConfigErrors(cfg, w.access, {
      fn: "db-writer",
      enabledKey: `${P}:dbWriter`,
      usesDb: "writes to",
      disableFix: `${P}:dbWriter.enabled`,
      needs: "the database's endpoint, secret and cluster ARNs",
      inAnotherAccount: "the database's secret",
      accountsFixNote: " (in a split apps stack too)",
      accessKey: `${P}:dbWriter.access`,
      pgNote: "; the master secret is shared across accounts",
    }),
  );
  if (w.access === "pg" && cfg.transitGateway?.enabled === false) {
    errors.push(
      new ConfigError(
        `${P}:dbWriter.access`,
        "pg reaches the database on 5432 across the Transit Gateway, which is off (transitGateway.enabled: false)",
        `turn the Transit Gateway on, or use access "data-api" (same account only)`,
      ),
    );
  }
  if (w.connectTimeoutMs >= w.timeoutSeconds * 1000) {
    errors.push(
      new ConfigError(
        `${P}:dbWriter.connectTimeoutMs`,
        `${w.connectTimeoutMs} ms is not shorter than the function timeout (${w.timeoutSeconds} s), so a missing route would surface as a Lambda timeout instead of the connect error that names it`,
        "keep connectTimeoutMs well below timeoutSeconds × 1000, e.g. 3000",
      ),
    );
  }
  return errors;
}

/**
 * The db-writer Lambda in account A (docs/designs.md §3): in the network role's private subnets, reaching
 * the database in account B either as PostgreSQL on 5432 across the Transit Gateway ("pg") or through
 * the Data API over HTTPS ("data-api", same account only). Its egress and IAM cover exactly that.
 */
export function dbWriterApps({ cfg, provider, network, data }: AppsBuildContext): DbWriterAppOutputs {
  const w = cfg.dbWriter;
  if (!w || !w.enabled) return {};
  assertDataOutputs(data, "db-writer");
  const { flows, statements, clusterArn, environment, transformations, host } = dbClientAccess(
    cfg,
    network,
    data,
    { functionName: "db-writer", access: w.access },
    {
      missing: "deploy the data role with data.database enabled first (network → data → apps)",
      kmsKey:
        "the data stack shares the secret with account A only when it knows both account ids: set accounts.a/b.accountId there and redeploy it",
    },
  );

  const fn = new VpcFunction(
    "db-writer",
    {
      source: "db-writer",
      description:
        w.access === "pg"
          ? "Writes user batches to Aurora PostgreSQL in the data account over the Transit Gateway"
          : "Writes user batches to Aurora PostgreSQL through the RDS Data API",
      vpcId: network.vpcId,
      subnetIds: network.privateSubnetIds,
      flows,
      environment: {
        ...environment,
        DB_HOST: host(),
        DB_PORT: data.port.apply(String),
        DB_NAME: data.databaseName,
        DB_CLUSTER_ARN: clusterArn,
        DB_CONNECT_TIMEOUT_MS: String(w.connectTimeoutMs),
      },
      policyStatements: statements,
      memorySize: w.memoryMb,
      timeout: w.timeoutSeconds,
      reservedConcurrency: w.reservedConcurrency,
      logRetentionInDays: cfg.logRetentionInDays,
    },
    // Account B's key and secret policies name this role before it exists: pin its physical name.
    { provider, transformations },
  );
  allowToEndpoints(cfg, network, "db-writer", fn.securityGroupId, provider);
  return {
    dbWriter: {
      ...functionOutputs(fn),
      roleArn: fn.roleArn,
      access: w.access,
    },
  };
}

/** docs/designs.md §3's writer: the db-writer Lambda in account A, writing to the data role's database. */
export const dbWriterFeature: Feature<DbWriterAppOutputs> = {
  name: "db-writer",
  configErrors: ({ cfg, failed }) =>
    failed.has("dbWriter") || failed.has("data") || failed.has("accounts") ? [] : dbWriterConfigErrors(cfg),
  // Granted whenever the accounts differ: a split data stack cannot see whether dbWriter is on.
  dbSecretReaders: (cfg) => (sameAccount(cfg.accounts) === false ? [clientRoleArn(cfg, "db-writer")] : []),
  apps: dbWriterApps,
};
