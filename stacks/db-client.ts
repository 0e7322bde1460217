import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import type { Flow } from "../components/flows";
import { ConfigError } from "../components/errors";
import { accountIdOf, EnvConfig, EnvConfigInput, PROJECT as P, regionOf, sameAccount } from "./config/schema";
import type { DataOutputs, NetworkOutputs } from "./config/outputs";
import { serviceFlow } from "./endpoints";

/** The Data API actions a client uses (statements, batches, transactions), granted on its one cluster. */
export const DATA_API_ACTIONS = [
  "rds-data:ExecuteStatement",
  "rds-data:BatchExecuteStatement",
  "rds-data:BeginTransaction",
  "rds-data:CommitTransaction",
  "rds-data:RollbackTransaction",
];

/**
 * What every function that reads the data role's database needs, shared by db-writer and pets-api:
 * upstream outputs checked for presence, the IAM statements for the RDS-managed master secret, and a
 * pinned role name (account B's key and secret policies name the role before it exists).
 */

/** How a database client's config errors name it, its keys and what it needs. */
export interface DbClientWording {
  /** The function's name, e.g. "db-writer". */
  fn: string;
  /** The key that turns the client on. */
  enabledKey: string;
  /** What the client does with the database, e.g. "writes to". */
  usesDb: string;
  /** The key to set to false instead. */
  disableFix: string;
  /** The upstream outputs it needs. */
  needs: string;
  /** What may sit in another account. */
  inAnotherAccount: string;
  /** Appended to the accounts fix. */
  accountsFixNote: string;
  /** The client's access key ("pg" or "data-api"). */
  accessKey: string;
  /** Appended inside the parentheses of the "pg" hint. */
  pgNote: string;
}

/**
 * The config checks every database client shares, in this order: the database is on, its outputs can be read,
 * both accounts are named or neither, the Data API is not asked for across accounts, nor when it is off.
 */
export function dbClientConfigErrors(cfg: EnvConfigInput, access: string, t: DbClientWording): ConfigError[] {
  const errors: ConfigError[] = [];
  if (!cfg.data.database.enabled) {
    errors.push(
      new ConfigError(
        t.enabledKey,
        `${t.fn} ${t.usesDb} the data role's Aurora database, which is off (data.database.enabled: false)`,
        `turn data.database on, or set ${t.disableFix} to false`,
      ),
    );
  }
  if (!cfg.roles.includes("data") && !cfg.upstream.data) {
    errors.push(
      new ConfigError(
        `${P}:upstream.data`,
        `${t.fn} needs ${t.needs}, and this stack does not run the data role`,
        "set upstream.data to the data stack's name, e.g. dev-data",
      ),
    );
  }
  const same = sameAccount(cfg.accounts);
  if (same === undefined) {
    errors.push(
      new ConfigError(
        `${P}:accounts`,
        `one of accounts.a / accounts.b names its account and the other does not, so ${t.fn} cannot tell whether ${t.inAnotherAccount} is in another account`,
        `set both ${P}:accounts.a.accountId and ${P}:accounts.b.accountId${t.accountsFixNote}`,
      ),
    );
  }
  if (access === "data-api" && same === false) {
    errors.push(
      new ConfigError(
        t.accessKey,
        `the Data API only authorizes identities of the cluster's own account (an RDS cluster takes no resource policy), and ${t.fn} runs in account A while the cluster is in account B`,
        `use access "pg" (PostgreSQL over the Transit Gateway${t.pgNote}), or put both roles in one account (accounts.a = accounts.b)`,
      ),
    );
  }
  errors.push(...dataApiOffErrors(cfg, access, t.accessKey));
  return errors;
}

/** Refuses access "data-api" when the cluster's Data API is off. */
function dataApiOffErrors(cfg: EnvConfigInput, access: string, accessKey: string): ConfigError[] {
  return access === "data-api" && !cfg.data.database.dataApi
    ? [
        new ConfigError(
          accessKey,
          "access is data-api but the cluster's Data API is off (data.database.dataApi: false)",
          `turn data.database.dataApi on, or use access "pg"`,
        ),
      ]
    : [];
}

/** An upstream data output, failing with the stack to fix when it is empty. */
export function requiredDataOutput(
  value: pulumi.Output<unknown>,
  key: string,
  cfg: EnvConfig,
  fix = "deploy the data role with data.database enabled first (network → data → apps)",
): pulumi.Output<string> {
  const where = cfg.roles.includes("data") ? "the data role" : `stack ${cfg.upstream.data}`;
  return value.apply((v) => {
    if (!v) throw new Error(`${where} exports no data.${key}. Fix: ${fix}`);
    return String(v);
  });
}

/** A database client's feature cannot build without the data role's outputs: the error names upstream.data. */
export function assertDataOutputs(data: DataOutputs | undefined, client: string): asserts data is DataOutputs {
  if (!data)
    throw new Error(
      `${P}:upstream.data: ${client} needs the data role's outputs. Fix: set upstream.data to the data stack`,
    );
}

/**
 * Read the master secret; across accounts also decrypt with the secret's customer-managed key, and
 * only through Secrets Manager in the database's region (the key cannot be used directly).
 */
export function dbSecretReadStatements(
  secretArn: pulumi.Input<string>,
  dbRegion: string,
  crossAccountKeyArn?: pulumi.Input<string>,
): aws.iam.PolicyStatement[] {
  const statements: aws.iam.PolicyStatement[] = [
    { Sid: "ReadDbSecret", Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: secretArn },
  ];
  if (crossAccountKeyArn !== undefined) {
    statements.push({
      Sid: "DecryptDbSecret",
      Effect: "Allow",
      Action: ["kms:Decrypt"],
      Resource: crossAccountKeyArn,
      Condition: { StringEquals: { "kms:ViaService": `secretsmanager.${dbRegion}.amazonaws.com` } },
    });
  }
  return statements;
}

/** How a function reaches the database: PostgreSQL over the Transit Gateway, or the RDS Data API. */
export type DbAccess = "pg" | "data-api";

/**
 * A database client's role name in account A, `<project>-<environment>-<fn>`. Fixed (not auto-named) because
 * account B's key and secret policies must name it, and in split mode the data stack deploys before it exists.
 */
export function clientRoleName(environment: string, functionName: string): string {
  return `${P}-${environment}-${functionName}`;
}

/** The ARN of {@link clientRoleName} in account A: what the data side's secret readers list. */
export function clientRoleArn(cfg: EnvConfigInput, functionName: string): string {
  return `arn:aws:iam::${accountIdOf(cfg.accounts.a)}:role/${clientRoleName(cfg.environment, functionName)}`;
}

/**
 * Gives the role a VpcFunction creates (`<fn>-role`) its fixed physical name, {@link clientRoleName}. A fixed
 * name cannot be created before the old role is deleted, hence deleteBeforeReplace.
 */
function pinRoleName(functionName: string, environment: string): pulumi.ResourceTransformation {
  const physicalName = clientRoleName(environment, functionName);
  return (r) =>
    r.type === "aws:iam/role:Role" && r.name === `${functionName}-role`
      ? { props: { ...r.props, name: physicalName }, opts: pulumi.mergeOptions(r.opts, { deleteBeforeReplace: true }) }
      : undefined;
}

export interface DbClientAccess {
  flows: Flow[];
  statements: pulumi.Input<aws.iam.PolicyStatement>[];
  secretArn: pulumi.Output<string>;
  clusterArn: pulumi.Output<string>;
  dbRegion: string;
  fnRegion: string;
  crossAccount: boolean;
  /** DB_ACCESS, DB_SECRET_ARN and (when the database is in another region) DB_SECRET_REGION for the handler. */
  environment: Record<string, pulumi.Input<string>>;
  /** For the VpcFunction: across accounts, its role gets the fixed name the data side's policies name. */
  transformations: pulumi.ResourceTransformation[];
  /** The cluster endpoint for DB_HOST (pg), failing with the stack to fix when the data role exports none. */
  host(): pulumi.Output<string>;
}

/**
 * A function's path to the data role's database and the IAM it needs: "pg" opens 5432 to the data VPC
 * (Transit Gateway) and Secrets Manager; "data-api" needs no path to the database, only HTTPS to rds-data
 * (the Data API reads the secret server-side, but checks that the caller may read it too).
 */
export function dbClientAccess(
  cfg: EnvConfig,
  network: NetworkOutputs,
  data: DataOutputs,
  client: { functionName: string; access: DbAccess },
  fixes: { missing?: string; kmsKey?: string } = {},
): DbClientAccess {
  const { functionName, access } = client;
  const dbRegion = regionOf(cfg, "b", cfg.region);
  const fnRegion = regionOf(cfg, "a", cfg.region);
  const crossAccount = sameAccount(cfg.accounts) === false;
  const secretArn = requiredDataOutput(data.masterSecretArn, "masterSecretArn", cfg, fixes.missing);
  const clusterArn = requiredDataOutput(data.clusterArn, "clusterArn", cfg, fixes.missing);
  // A VPC endpoint serves its own region only: a secret or cluster elsewhere is reached over the NAT.
  const awsApi = (service: string, purpose: string): Flow =>
    dbRegion === fnRegion
      ? serviceFlow(cfg, network, service, purpose)
      : { to: { kind: "awsService", service }, port: 443, purpose: `${purpose} in ${dbRegion} via NAT` };
  const flows: Flow[] =
    access === "pg"
      ? [
          {
            to: { kind: "cidr", cidr: cfg.dataPlan.cidrBlock, name: "data VPC" },
            port: 5432,
            purpose: "PostgreSQL on the Aurora cluster in the data VPC via the Transit Gateway",
          },
          awsApi("secretsmanager", "read the database master secret from Secrets Manager"),
        ]
      : [awsApi("rds-data", "run SQL through the RDS Data API")];
  const statements: pulumi.Input<aws.iam.PolicyStatement>[] = dbSecretReadStatements(
    secretArn,
    dbRegion,
    crossAccount ? requiredDataOutput(data.secretKmsKeyArn, "secretKmsKeyArn", cfg, fixes.kmsKey) : undefined,
  );
  if (access === "data-api")
    statements.push({ Sid: "DataApi", Effect: "Allow", Action: DATA_API_ACTIONS, Resource: clusterArn });
  const environment = {
    DB_ACCESS: access,
    DB_SECRET_ARN: secretArn,
    ...(dbRegion !== fnRegion ? { DB_SECRET_REGION: dbRegion } : {}),
  };
  const transformations = crossAccount ? [pinRoleName(functionName, cfg.environment)] : [];
  const host = () => requiredDataOutput(data.endpoint, "endpoint", cfg, fixes.missing);
  return {
    flows,
    statements,
    secretArn,
    clusterArn,
    dbRegion,
    fnRegion,
    crossAccount,
    environment,
    transformations,
    host,
  };
}
