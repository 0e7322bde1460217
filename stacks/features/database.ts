import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { AuroraPostgres, AuroraPostgresPlan, planAuroraPostgres } from "../../components/aurora-postgres";
import { cidrContains, tryParseCidr } from "../../components/cidr";
import { ConfigError, throwIfAny } from "../../components/errors";
import type { PrivateVpc } from "../../components/private-vpc";
import {
  collectConfigErrors,
  DatabasePlan,
  EnvConfig,
  EnvConfigInput,
  PROJECT as P,
  sameAccount,
} from "../config/schema";
import { DATABASE_KEYS, DatabaseOutputs } from "../config/outputs";
import type { Feature } from "./feature";

/**
 * Config-time checks of `data.database` (nothing registered yet): the Aurora arguments, each
 * allowed CIDR inside a network attached to the Transit Gateway (`clientNetworks`), and, when this
 * stack runs the data role and the accounts differ, the roles in account A the master secret is shared
 * with: `secretReaders`, what the features name (db-writer's role always, so a split data stack that
 * cannot see dbWriter's config still grants it; pets-api's when it reads over pg).
 */
export function planDatabase(
  cfg: EnvConfigInput,
  clientNetworks: string[],
  secretReaders: string[] = [],
): DatabasePlan | undefined {
  const db = cfg.data.database;
  if (!db.enabled) return undefined;
  const errors: ConfigError[] = [];
  const k = (s: string) => `${P}:data.database.${s}`;
  const prod = cfg.environment === "prod";

  const allowedCidrs = db.allowedCidrs ?? clientNetworks.slice(0, 1);
  if (allowedCidrs.length === 0)
    errors.push(
      new ConfigError(
        k("allowedCidrs"),
        "no network is admitted, so nothing can reach the database",
        `list account A's VPC CIDR (${clientNetworks[0] ?? "network.cidrBlock"}) or its private subnet CIDRs`,
      ),
    );
  const networks = clientNetworks
    .map((c) => tryParseCidr(c))
    .filter((c): c is Exclude<ReturnType<typeof tryParseCidr>, string> => typeof c !== "string");
  allowedCidrs.forEach((text, i) => {
    const c = tryParseCidr(text);
    if (typeof c === "string")
      errors.push(new ConfigError(k(`allowedCidrs[${i}]`), c, `give a CIDR inside ${clientNetworks.join(" or ")}`));
    else if (!networks.some((n) => cidrContains(n, c))) {
      errors.push(
        new ConfigError(
          k(`allowedCidrs[${i}]`),
          `${text} is outside every network attached to the Transit Gateway (${clientNetworks.join(", ")}), so the database would admit addresses that cannot route to it`,
          `use ${clientNetworks[0]} or a subnet of it, e.g. the private subnet CIDRs`,
        ),
      );
    }
  });

  let crossAccount = false;
  const secretReaderArns: string[] = [];
  if (cfg.roles.includes("data")) {
    const same = sameAccount(cfg.accounts);
    if (same === undefined) {
      errors.push(
        new ConfigError(
          `${P}:accounts`,
          "one of accounts.a / accounts.b names its account and the other does not, so the database cannot tell whether db-writer (account A) reads its master secret from another account",
          `set both ${P}:accounts.a.accountId and ${P}:accounts.b.accountId (in a split data stack too)`,
        ),
      );
    } else if (!same) {
      crossAccount = true;
      for (const arn of secretReaders) if (!secretReaderArns.includes(arn)) secretReaderArns.push(arn);
    }
  }

  const aurora = collectConfigErrors(errors, () =>
    planAuroraPostgres(
      {
        engineVersion: db.engineVersion,
        instanceClass: db.instanceClass,
        minCapacity: db.minCapacity,
        maxCapacity: db.maxCapacity,
        secondsUntilAutoPause: db.secondsUntilAutoPause,
        instanceCount: db.instances,
        databaseName: db.databaseName,
        backupRetentionDays: db.backupRetentionDays,
        deletionProtection: db.deletionProtection ?? prod,
        skipFinalSnapshot: db.skipFinalSnapshot ?? !prod,
        iamDatabaseAuthentication: db.iamDatabaseAuthentication,
        dataApi: db.dataApi,
        secretReaders: secretReaderArns,
        logRetentionInDays: cfg.logRetentionInDays,
      },
      `${P}:data.database.`,
    ),
  );
  throwIfAny(errors);
  return { aurora: aurora as AuroraPostgresPlan, allowedCidrs, crossAccount, secretReaderArns };
}

function empty(): DatabaseOutputs {
  return Object.fromEntries(DATABASE_KEYS.map((k) => [k, pulumi.output("")])) as unknown as DatabaseOutputs;
}

/**
 * Account B (data role): Aurora PostgreSQL in the data VPC's DB subnet group, admitting the database
 * port only from account A's network across the Transit Gateway (by CIDR, as the usual recipe does: TGW
 * security-group referencing is opt-in, inbound-only and same-region). Cross-account, its master secret
 * is encrypted with a key of its own and shared with db-writer's role in account A, nothing else.
 */
export function databaseSide(cfg: EnvConfig, provider: aws.Provider, vpc: PrivateVpc): DatabaseOutputs {
  const plan = cfg.database;
  if (!plan) return empty();
  if (!vpc.dbSubnetGroupName)
    throw new Error("the data VPC has no DB subnet group; PrivateVpc creates one unless dbSubnetGroup is false");
  const a = plan.aurora;
  // Parented to the data VPC, so the resource tree reads like the network: the database lives in it.
  const db = new AuroraPostgres(
    "data-db",
    {
      vpcId: vpc.vpcId,
      subnetGroupName: vpc.dbSubnetGroupName,
      engineVersion: a.engineVersion,
      instanceClass: a.instanceClass,
      minCapacity: a.minCapacity,
      maxCapacity: a.maxCapacity,
      secondsUntilAutoPause: a.secondsUntilAutoPause,
      instanceCount: a.instanceCount,
      databaseName: a.databaseName,
      masterUsername: a.masterUsername,
      port: a.port,
      backupRetentionDays: a.backupRetentionDays,
      deletionProtection: a.deletionProtection,
      skipFinalSnapshot: a.skipFinalSnapshot,
      iamDatabaseAuthentication: a.iamDatabaseAuthentication,
      dataApi: a.dataApi,
      secretReaders: plan.secretReaderArns,
      logRetentionInDays: a.logRetentionInDays,
    },
    { provider, parent: vpc },
  );
  for (const cidr of plan.allowedCidrs) {
    const whole = cidr === cfg.network.cidrBlock;
    db.allowFromCidr(
      cidr,
      whole
        ? `PostgreSQL from the account A VPC ${cidr} via the Transit Gateway`
        : `PostgreSQL from account A network ${cidr} via the Transit Gateway`,
    );
  }
  return {
    clusterArn: db.clusterArn,
    endpoint: db.endpoint,
    readerEndpoint: db.readerEndpoint,
    port: db.port,
    databaseName: db.databaseName,
    masterSecretArn: db.masterSecretArn,
    secretKmsKeyArn: db.secretKmsKeyArn,
    securityGroupId: db.securityGroupId,
  };
}

/** The data role's Aurora PostgreSQL (docs/database.md). */
export const databaseFeature: Feature = {
  name: "database",
  configErrors({ cfg, failed, plans, dbSecretReaders }) {
    // Without a valid network plan the client network is unknown: its own error is reported already.
    if (failed.has("data") || failed.has("network") || failed.has("accounts") || !plans.network) return [];
    const errors: ConfigError[] = [];
    // The database admits networks attached to the Transit Gateway on account A's side.
    const tgw = plans.tgw;
    plans.database = collectConfigErrors(errors, () =>
      planDatabase(
        cfg,
        tgw?.owner.cidrBlocks.length ? tgw.owner.cidrBlocks : [cfg.network.cidrBlock],
        dbSecretReaders(),
      ),
    );
    return errors;
  },
  data: ({ cfg, provider, vpc }) => databaseSide(cfg, provider, vpc),
};
