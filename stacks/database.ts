import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { AuroraPostgres, AuroraPostgresPlan, planAuroraPostgres } from "../components/aurora-postgres";
import { cidrContains, tryParseCidr } from "../components/cidr";
import { ConfigError, ConfigErrors } from "../components/errors";
import type { PrivateVpc } from "../components/private-vpc";
// Types only: config.ts calls the checks below, so a value import of it here would be a cycle.
import type { EnvConfig, EnvConfigInput } from "./config";

const P = "vpc-lambda-kit";

/** The database's non-secret outputs, exported by the data role ("" when the database is off). */
export const DATABASE_KEYS = ["clusterArn", "endpoint", "readerEndpoint", "port", "databaseName", "masterSecretArn", "secretKmsKeyArn", "securityGroupId"] as const;
export type DatabaseOutputs = Record<(typeof DATABASE_KEYS)[number], pulumi.Output<any>>;

/** What config validation decided about the data role's database. */
export interface DatabasePlan {
  aurora: AuroraPostgresPlan;
  /** Networks admitted on the database port (account A's VPC by default). */
  allowedCidrs: string[];
  /** The apps role (account A) runs in another account than the database (account B). */
  crossAccount: boolean;
  /** Roles in account A granted the master secret (cross-account only). */
  secretReaderArns: string[];
}

type Accounts = EnvConfigInput["accounts"];

/** An account's id as config knows it: `accountId`, else the account in `assumeRoleArn`. */
export function accountIdOf(acct: Accounts["a"]): string | undefined {
  return acct.accountId ?? /^arn:aws[a-z-]*:iam::(\d{12}):/.exec(acct.assumeRoleArn ?? "")?.[1];
}

/**
 * Whether account A (network, apps) and account B (data) are one account: known from their ids, or
 * true when neither names an account nor a role (both providers then use the same ambient
 * credentials); undefined when config cannot tell.
 */
export function sameAccount(accounts: Accounts): boolean | undefined {
  const a = accountIdOf(accounts.a);
  const b = accountIdOf(accounts.b);
  if (a && b) return a === b;
  if (!a && !b) return true;
  return undefined;
}

/**
 * db-writer's role name in account A. Fixed (not auto-named) because account B's key policy and
 * secret policy must name it, and in split mode the data stack deploys before the role exists.
 */
export function dbWriterRoleName(environment: string): string {
  return `${P}-${environment}-db-writer`;
}

/** The region a side's provider uses. */
export function regionOf(cfg: { accounts: Accounts }, side: "a" | "b", defaultRegion: string): string {
  return cfg.accounts[side].region ?? defaultRegion;
}

/**
 * Config-time checks of `data.database` (nothing registered yet): the Aurora arguments, each
 * allowed CIDR inside a network attached to the Transit Gateway (`clientNetworks`), and, when this
 * stack runs the data role, the roles in account A the master secret is shared with: db-writer's
 * (the database's designated client, granted even when a split data stack cannot see dbWriter's
 * config) plus `otherSecretReaders` (other account-A clients reading it over pg, e.g. pets-api).
 */
export function planDatabase(cfg: EnvConfigInput, clientNetworks: string[], otherSecretReaders: string[] = []): DatabasePlan | undefined {
  const db = cfg.data.database;
  if (!db.enabled) return undefined;
  const errors: ConfigError[] = [];
  const k = (s: string) => `${P}:data.database.${s}`;
  const prod = cfg.environment === "prod";

  const allowedCidrs = db.allowedCidrs ?? clientNetworks.slice(0, 1);
  if (allowedCidrs.length === 0) errors.push(new ConfigError(k("allowedCidrs"), "no network is admitted, so nothing can reach the database", `list account A's VPC CIDR (${clientNetworks[0] ?? "network.cidrBlock"}) or its private subnet CIDRs`));
  const networks = clientNetworks.map((c) => tryParseCidr(c)).filter((c): c is Exclude<ReturnType<typeof tryParseCidr>, string> => typeof c !== "string");
  allowedCidrs.forEach((text, i) => {
    const c = tryParseCidr(text);
    if (typeof c === "string") errors.push(new ConfigError(k(`allowedCidrs[${i}]`), c, `give a CIDR inside ${clientNetworks.join(" or ")}`));
    else if (!networks.some((n) => cidrContains(n, c))) {
      errors.push(new ConfigError(k(`allowedCidrs[${i}]`), `${text} is outside every network attached to the Transit Gateway (${clientNetworks.join(", ")}), so the database would admit addresses that cannot route to it`, `use ${clientNetworks[0]} or a subnet of it, e.g. the private subnet CIDRs`));
    }
  });

  let crossAccount = false;
  const secretReaderArns: string[] = [];
  if (cfg.roles.includes("data")) {
    const same = sameAccount(cfg.accounts);
    if (same === undefined) {
      errors.push(new ConfigError(`${P}:accounts`, "one of accounts.a / accounts.b names its account and the other does not, so the database cannot tell whether db-writer (account A) reads its master secret from another account", `set both ${P}:accounts.a.accountId and ${P}:accounts.b.accountId (in a split data stack too)`));
    } else if (!same) {
      crossAccount = true;
      secretReaderArns.push(`arn:aws:iam::${accountIdOf(cfg.accounts.a)}:role/${dbWriterRoleName(cfg.environment)}`);
      for (const arn of otherSecretReaders) if (!secretReaderArns.includes(arn)) secretReaderArns.push(arn);
    }
  }

  let aurora: AuroraPostgresPlan | undefined;
  try {
    aurora = planAuroraPostgres({
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
    }, `${P}:data.database.`);
  } catch (e) {
    if (e instanceof ConfigErrors) errors.push(...e.errors);
    else if (e instanceof ConfigError) errors.push(e);
    else throw e;
  }
  if (errors.length > 0) throw errors.length === 1 ? errors[0] : new ConfigErrors(errors);
  return { aurora: aurora as AuroraPostgresPlan, allowedCidrs, crossAccount, secretReaderArns };
}

function empty(): DatabaseOutputs {
  return Object.fromEntries(DATABASE_KEYS.map((k) => [k, pulumi.output("")])) as DatabaseOutputs;
}

/**
 * Account B (data role): Aurora PostgreSQL in the data VPC's DB subnet group, admitting the database
 * port only from account A's network across the Transit Gateway (by CIDR, as the write-up does: TGW
 * security-group referencing is opt-in, inbound-only and same-region). Cross-account, its master secret
 * is encrypted with a key of its own and shared with db-writer's role in account A, nothing else.
 */
export function databaseSide(cfg: EnvConfig, provider: aws.Provider, vpc: PrivateVpc): DatabaseOutputs {
  const plan = cfg.database;
  if (!plan) return empty();
  if (!vpc.dbSubnetGroupName) throw new Error("the data VPC has no DB subnet group; PrivateVpc creates one unless dbSubnetGroup is false");
  const a = plan.aurora;
  // Parented to the data VPC, so the resource tree reads like the network: the database lives in it.
  const db = new AuroraPostgres("data-db", {
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
  }, { provider, parent: vpc });
  for (const cidr of plan.allowedCidrs) {
    const whole = cidr === cfg.network.cidrBlock;
    db.allowFromCidr(cidr, whole ? `PostgreSQL from the account A VPC ${cidr} via the Transit Gateway` : `PostgreSQL from account A network ${cidr} via the Transit Gateway`);
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
