import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { ROLE_ARN_RE } from "./arns";
import { ConfigError, throwIfAny } from "./errors";
import { retentionErrors } from "./defaults";
import { IngressPeer, IngressRules, legacyDescriptionName } from "./ingress";
import { PlannedComponent } from "./planned";

/**
 * The default engine: Aurora PostgreSQL 16.6 (PostgreSQL community 16.6, November 2024). It runs
 * Serverless v2 including scale-to-zero (16.3+) and the Data API, and is offered in every region
 * that has Aurora PostgreSQL 16. Pin a newer minor in config when you have tested it.
 */
export const DEFAULT_AURORA_POSTGRES_VERSION = "16.6";
export const SERVERLESS_INSTANCE_CLASS = "db.serverless";

/** First minor of each major that runs db.serverless (Aurora Serverless v2). */
const SERVERLESS_V2_MIN_MINOR: Record<number, number> = { 13: 6, 14: 3, 15: 2, 16: 1, 17: 4 };
/** First minor of each major whose Serverless v2 capacity may go down to 0 ACU (automatic pause). */
const ZERO_ACU_MIN_MINOR: Record<number, number> = { 13: 15, 14: 12, 15: 7, 16: 3, 17: 4 };
/** Names PostgreSQL or RDS reserve for themselves. */
const RESERVED_NAMES = new Set([
  "postgres",
  "template0",
  "template1",
  "rdsadmin",
  "rds_superuser",
  "rds_iam",
  "rds_replication",
  "rds_password",
  "public",
]);
const IDENT_RE = /^[a-z][a-z0-9_]{0,62}$/;

export interface AuroraPostgresArgs {
  /** The VPC the cluster's security group lives in. */
  vpcId: pulumi.Input<string>;
  /** DB subnet group spanning at least two availability zones, with no route to the internet. */
  subnetGroupName: pulumi.Input<string>;
  /** Aurora PostgreSQL engine version `<major>.<minor>`. Default DEFAULT_AURORA_POSTGRES_VERSION (16.6). */
  engineVersion?: string;
  /** "db.serverless" for Aurora Serverless v2, or a provisioned class such as "db.r7g.large". Default "db.serverless". */
  instanceClass?: string;
  /** Serverless v2 minimum capacity in ACUs (0–256, steps of 0.5; 0 pauses when idle). Default 0.5. */
  minCapacity?: number;
  /** Serverless v2 maximum capacity in ACUs (1–256, steps of 0.5, ≥ minCapacity). Default 4. */
  maxCapacity?: number;
  /** Idle seconds before a 0-ACU cluster pauses (300–86400); only with minCapacity 0. Default 300 then. */
  secondsUntilAutoPause?: number;
  /** DB instances: one writer plus readers (spread over the subnet group's zones by RDS). Default 1. */
  instanceCount?: number;
  /** Database created in the cluster. Default "app". */
  databaseName?: string;
  /** Master user; its password is generated, stored and rotated by RDS in Secrets Manager. Default "postgres". */
  masterUsername?: string;
  /** PostgreSQL port. Default 5432. */
  port?: number;
  /** Days of automated backups (point-in-time recovery), 1–35. Default 7. */
  backupRetentionDays?: number;
  /** Refuse deletion until switched off. Default false (turn it on for production). */
  deletionProtection?: boolean;
  /** Delete without a final snapshot. Default false: deletion takes the snapshot `<clusterIdentifier>-final`. */
  skipFinalSnapshot?: boolean;
  /** IAM database authentication (rds-db:connect tokens) besides passwords. Default false. */
  iamDatabaseAuthentication?: boolean;
  /** The RDS Data API (HTTPS SQL endpoint, rds-data). Default true. */
  dataApi?: boolean;
  /**
   * Customer-managed KMS key for the RDS-managed master secret. Default: AWS-managed aws/secretsmanager
   * key, or a key this component creates when `secretReaders` is non-empty (the AWS-managed key cannot
   * be used from another account).
   */
  secretKmsKeyArn?: pulumi.Input<string>;
  /**
   * IAM role ARNs in other accounts that may read the master secret. Each gets GetSecretValue in the
   * secret's resource policy and kms:Decrypt through Secrets Manager on the secret's key; their own
   * account must grant the same in the role's policy. Roles need not exist yet. Default none.
   */
  secretReaders?: string[];
  /** KMS key for storage encryption (always on). Default the AWS-managed aws/rds key. */
  storageKmsKeyArn?: pulumi.Input<string>;
  /** Cluster identifier (also names its log group and final snapshot). Default `<project>-<stack>-<name>`. */
  clusterIdentifier?: string;
  /** Retention of the exported PostgreSQL log. Default 30 days. */
  logRetentionInDays?: number;
  /** Tags for every taggable child. */
  tags?: Record<string, string>;
}

export interface SecretReader {
  roleArn: string;
  accountId: string;
}

/** The validated, defaulted shape of an AuroraPostgres: what config checks and the component share. */
export interface AuroraPostgresPlan {
  engineVersion: string;
  majorVersion: number;
  instanceClass: string;
  serverless: boolean;
  minCapacity?: number;
  maxCapacity?: number;
  secondsUntilAutoPause?: number;
  instanceCount: number;
  databaseName: string;
  masterUsername: string;
  port: number;
  backupRetentionDays: number;
  deletionProtection: boolean;
  skipFinalSnapshot: boolean;
  iamDatabaseAuthentication: boolean;
  dataApi: boolean;
  secretReaders: SecretReader[];
  logRetentionInDays: number;
}

type PlanInput = Omit<
  AuroraPostgresArgs,
  "vpcId" | "subnetGroupName" | "secretKmsKeyArn" | "storageKmsKeyArn" | "tags" | "clusterIdentifier"
>;

/**
 * Validates and defaults the arguments before anything is registered. Every problem is reported at
 * once, each under `<keyPrefix><arg>` (a config key such as `vpc-lambda-kit:data.database.` or
 * `<component>.`), with the fix.
 */
export function planAuroraPostgres(args: PlanInput, keyPrefix = ""): AuroraPostgresPlan {
  const errors: ConfigError[] = [];
  const k = (s: string) => `${keyPrefix}${s}`;
  const engineVersion = args.engineVersion ?? DEFAULT_AURORA_POSTGRES_VERSION;
  const m = /^(\d+)\.(\d+)$/.exec(engineVersion);
  const major = m ? Number(m[1]) : NaN;
  const minor = m ? Number(m[2]) : NaN;
  if (!m)
    errors.push(
      new ConfigError(
        k("engineVersion"),
        `"${engineVersion}" is not an Aurora PostgreSQL version`,
        `give <major>.<minor>, e.g. ${DEFAULT_AURORA_POSTGRES_VERSION} (aws rds describe-db-engine-versions --engine aurora-postgresql lists them)`,
      ),
    );
  else if (major < 13)
    errors.push(
      new ConfigError(
        k("engineVersion"),
        `Aurora PostgreSQL ${major} is past its end of standard support`,
        `use ${DEFAULT_AURORA_POSTGRES_VERSION} or another supported version (13 or later)`,
      ),
    );

  const instanceClass = args.instanceClass ?? SERVERLESS_INSTANCE_CLASS;
  const serverless = instanceClass === SERVERLESS_INSTANCE_CLASS;
  if (!serverless && !/^db\.[a-z0-9-]+\.[a-z0-9]+$/.test(instanceClass)) {
    errors.push(
      new ConfigError(
        k("instanceClass"),
        `"${instanceClass}" is not a DB instance class`,
        `use "${SERVERLESS_INSTANCE_CLASS}" (Aurora Serverless v2) or a provisioned class such as "db.r7g.large"`,
      ),
    );
  }
  if (serverless && m && major >= 13 && minor < (SERVERLESS_V2_MIN_MINOR[major] ?? 0)) {
    errors.push(
      new ConfigError(
        k("engineVersion"),
        `Aurora PostgreSQL ${engineVersion} cannot run Serverless v2 (db.serverless)`,
        `use ${major}.${SERVERLESS_V2_MIN_MINOR[major]} or later, or a provisioned instanceClass`,
      ),
    );
  }

  let minCapacity: number | undefined;
  let maxCapacity: number | undefined;
  let secondsUntilAutoPause: number | undefined;
  if (serverless) {
    minCapacity = args.minCapacity ?? 0.5;
    maxCapacity = args.maxCapacity ?? 4;
    const acuOk = (v: number) => Number.isFinite(v) && v >= 0 && v <= 256 && Number.isInteger(v * 2);
    if (!acuOk(minCapacity))
      errors.push(
        new ConfigError(
          k("minCapacity"),
          `${minCapacity} ACU is not a Serverless v2 capacity`,
          "use 0 to 256 in steps of 0.5, e.g. 0.5",
        ),
      );
    if (!acuOk(maxCapacity) || maxCapacity < 1)
      errors.push(
        new ConfigError(
          k("maxCapacity"),
          `${maxCapacity} ACU is not a Serverless v2 maximum`,
          "use 1 to 256 in steps of 0.5, e.g. 4",
        ),
      );
    else if (acuOk(minCapacity) && minCapacity > maxCapacity)
      errors.push(
        new ConfigError(
          k("minCapacity"),
          `minimum ${minCapacity} ACU is above maximum ${maxCapacity} ACU`,
          "make minCapacity ≤ maxCapacity",
        ),
      );
    if (minCapacity === 0) {
      if (m && major >= 13 && minor < (ZERO_ACU_MIN_MINOR[major] ?? 0)) {
        errors.push(
          new ConfigError(
            k("minCapacity"),
            `0 ACU (automatic pause) needs Aurora PostgreSQL ${major}.${ZERO_ACU_MIN_MINOR[major]} or later, and the engine is ${engineVersion}`,
            `raise engineVersion, or use minCapacity 0.5`,
          ),
        );
      }
      secondsUntilAutoPause = args.secondsUntilAutoPause ?? 300;
      if (!Number.isInteger(secondsUntilAutoPause) || secondsUntilAutoPause < 300 || secondsUntilAutoPause > 86400) {
        errors.push(
          new ConfigError(
            k("secondsUntilAutoPause"),
            `${secondsUntilAutoPause} s is outside 300–86400`,
            "use 300 (5 minutes) to 86400 (a day)",
          ),
        );
      }
    } else if (args.secondsUntilAutoPause !== undefined) {
      errors.push(
        new ConfigError(
          k("secondsUntilAutoPause"),
          `the cluster never pauses with minCapacity ${minCapacity}`,
          "remove secondsUntilAutoPause, or set minCapacity to 0",
        ),
      );
    }
  } else {
    for (const key of ["minCapacity", "maxCapacity", "secondsUntilAutoPause"] as const) {
      if (args[key] !== undefined)
        errors.push(
          new ConfigError(
            k(key),
            `capacity in ACUs applies to Serverless v2 only, and instanceClass is ${instanceClass}`,
            `remove ${key}, or set instanceClass to "${SERVERLESS_INSTANCE_CLASS}"`,
          ),
        );
    }
  }

  const instanceCount = args.instanceCount ?? 1;
  if (!Number.isInteger(instanceCount) || instanceCount < 1 || instanceCount > 16)
    errors.push(
      new ConfigError(
        k("instanceCount"),
        `${instanceCount} instances`,
        "use 1 (writer only) to 16 (writer plus 15 readers); 2 puts a failover reader in a second zone",
      ),
    );

  const databaseName = args.databaseName ?? "app";
  if (!IDENT_RE.test(databaseName) || RESERVED_NAMES.has(databaseName))
    errors.push(
      new ConfigError(
        k("databaseName"),
        `"${databaseName}" is not a usable database name`,
        "use lower-case letters, digits and _ (starting with a letter, ≤ 63), not a reserved name like postgres",
      ),
    );
  const masterUsername = args.masterUsername ?? "postgres";
  if (!IDENT_RE.test(masterUsername) || (RESERVED_NAMES.has(masterUsername) && masterUsername !== "postgres"))
    errors.push(
      new ConfigError(
        k("masterUsername"),
        `"${masterUsername}" is not a usable master user name`,
        "use lower-case letters, digits and _ (starting with a letter, ≤ 63), not an rds_* role",
      ),
    );

  const port = args.port ?? 5432;
  if (!Number.isInteger(port) || port < 1150 || port > 65535)
    errors.push(
      new ConfigError(
        k("port"),
        `${port} is outside the ports Aurora accepts`,
        "use 1150 to 65535 (5432 is PostgreSQL's own)",
      ),
    );
  const backupRetentionDays = args.backupRetentionDays ?? 7;
  if (!Number.isInteger(backupRetentionDays) || backupRetentionDays < 1 || backupRetentionDays > 35)
    errors.push(
      new ConfigError(
        k("backupRetentionDays"),
        `${backupRetentionDays} days`,
        "Aurora keeps automated backups for 1 to 35 days",
      ),
    );
  const logRetentionInDays = args.logRetentionInDays ?? 30;
  errors.push(...retentionErrors(k("logRetentionInDays"), logRetentionInDays));

  const dataApi = args.dataApi ?? true;
  if (dataApi && /^db\.t\d/.test(instanceClass))
    errors.push(
      new ConfigError(
        k("instanceClass"),
        `the Data API does not run on T instance classes (${instanceClass})`,
        `use "${SERVERLESS_INSTANCE_CLASS}" or an R/X class, or turn the Data API off`,
      ),
    );

  const secretReaders: SecretReader[] = [];
  (args.secretReaders ?? []).forEach((arn, i) => {
    const rm = ROLE_ARN_RE.exec(arn);
    if (!rm)
      errors.push(
        new ConfigError(
          k(`secretReaders[${i}]`),
          `"${arn}" is not an IAM role ARN`,
          "give arn:aws:iam::<account>:role/<name>",
        ),
      );
    else secretReaders.push({ roleArn: arn, accountId: rm[1] });
  });
  throwIfAny(errors);
  return {
    engineVersion,
    majorVersion: major,
    instanceClass,
    serverless,
    minCapacity,
    maxCapacity,
    secondsUntilAutoPause,
    instanceCount,
    databaseName,
    masterUsername,
    port,
    backupRetentionDays,
    deletionProtection: args.deletionProtection ?? false,
    skipFinalSnapshot: args.skipFinalSnapshot ?? false,
    iamDatabaseAuthentication: args.iamDatabaseAuthentication ?? false,
    dataApi,
    secretReaders,
    logRetentionInDays,
  };
}

/** `<project>-<stack>-<name>` squeezed into an RDS identifier (letters, digits, single hyphens, ≤ 63). */
function defaultIdentifier(name: string): string {
  const raw = `${pulumi.getProject()}-${pulumi.getStack()}-${name}`
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/-+/g, "-");
  const trimmed = raw
    .replace(/^[^a-z]+/, "")
    .slice(0, 63)
    .replace(/-+$/, "");
  return trimmed || "aurora";
}

/**
 * An Aurora PostgreSQL cluster (Serverless v2 by default) that nothing can reach until told: private
 * instances in a DB subnet group, storage encrypted, TLS enforced by the cluster parameter group,
 * automated backups, the master password generated and rotated by RDS in Secrets Manager (never in
 * code, config or state), the Data API on, and its own security group with no ingress at all until
 * `allowFromCidr` / `allowFrom`.
 */
export class AuroraPostgres extends PlannedComponent<AuroraPostgresPlan> {
  /** Cluster ARN: the Data API's resourceArn and the rds-data IAM resource. */
  public readonly clusterArn: pulumi.Output<string>;
  public readonly clusterIdentifier: pulumi.Output<string>;
  /** Writer endpoint host name (resolves to private addresses only). */
  public readonly endpoint: pulumi.Output<string>;
  /** Reader endpoint host name (the writer when there are no readers). */
  public readonly readerEndpoint: pulumi.Output<string>;
  public readonly port: pulumi.Output<number>;
  public readonly databaseName: pulumi.Output<string>;
  /** ARN of the RDS-managed master secret (JSON {username, password}); grant GetSecretValue on it. */
  public readonly masterSecretArn: pulumi.Output<string>;
  /** The customer-managed key encrypting the master secret, or "" for the AWS-managed key. */
  public readonly secretKmsKeyArn: pulumi.Output<string>;
  /** The cluster's security group: no ingress except what allowFrom/allowFromCidr add. */
  public readonly securityGroupId: pulumi.Output<string>;
  private readonly ingress: IngressRules;

  constructor(name: string, args: AuroraPostgresArgs, opts: pulumi.ComponentResourceOptions = {}) {
    const plan = planAuroraPostgres(args, `${name}.`);
    const identifier = args.clusterIdentifier ?? defaultIdentifier(name);
    if (!/^[a-z](?!.*--)[a-z0-9-]{0,62}$/.test(identifier) || identifier.endsWith("-")) {
      throw new ConfigError(
        `${name}.clusterIdentifier`,
        `"${identifier}" is not an RDS cluster identifier`,
        "use 1–63 lower-case letters, digits and single hyphens, starting with a letter",
      );
    }
    super("vpc-lambda-kit:data:AuroraPostgres", name, plan, { plan, clusterIdentifier: identifier }, opts);
    const child = { parent: this };
    const tags = args.tags ?? {};

    const sg = new aws.ec2.SecurityGroup(
      `${name}-sg`,
      {
        vpcId: args.vpcId,
        description: `${name}: Aurora PostgreSQL; ingress only where allowed explicitly`,
        revokeRulesOnDelete: true,
        tags: { ...tags, Name: `${name}-sg` },
      },
      child,
    );
    this.securityGroupId = sg.id;
    this.ingress = new IngressRules({ owner: name, namePrefix: name, securityGroupId: sg.id, parent: this });

    // The AWS-managed aws/secretsmanager key only works inside its own account: readers in other
    // accounts need a customer-managed key whose policy lets them decrypt through Secrets Manager.
    let secretKey: pulumi.Input<string> | undefined = args.secretKmsKeyArn;
    if (!secretKey && plan.secretReaders.length > 0) {
      const caller = aws.getCallerIdentityOutput({}, child);
      const region = aws.getRegionOutput({}, child);
      const readers = plan.secretReaders;
      const key = new aws.kms.Key(
        `${name}-secret-key`,
        {
          description: `${name}: encrypts the RDS-managed master secret so the listed roles in other accounts can read it`,
          enableKeyRotation: true,
          deletionWindowInDays: 30,
          policy: pulumi.all([caller.accountId, region.region]).apply(([account, rgn]) =>
            JSON.stringify({
              Version: "2012-10-17",
              Statement: [
                // The owning account keeps full control through IAM (no lock-out, RDS and Secrets Manager act for it).
                {
                  Sid: "OwnerAccount",
                  Effect: "Allow",
                  Principal: { AWS: `arn:aws:iam::${account}:root` },
                  Action: "kms:*",
                  Resource: "*",
                },
                {
                  Sid: "ReadersDecryptThroughSecretsManager",
                  Effect: "Allow",
                  Principal: { AWS: [...new Set(readers.map((r) => `arn:aws:iam::${r.accountId}:root`))] },
                  Action: "kms:Decrypt",
                  Resource: "*",
                  // The principal ARN condition (not a role principal) works before the role exists and survives its re-creation.
                  Condition: {
                    StringEquals: { "kms:ViaService": `secretsmanager.${rgn}.amazonaws.com` },
                    ArnEquals: { "aws:PrincipalArn": readers.map((r) => r.roleArn) },
                  },
                },
              ],
            }),
          ),
          tags: { ...tags, Name: `${name}-secret-key` },
        },
        child,
      );
      secretKey = key.arn;
    }
    this.secretKmsKeyArn = secretKey ? pulumi.output(secretKey) : pulumi.output("");

    const params = new aws.rds.ClusterParameterGroup(
      `${name}-params`,
      {
        family: `aurora-postgresql${plan.majorVersion}`,
        description: `${name}: TLS required for every connection`,
        parameters: [{ name: "rds.force_ssl", value: "1" }],
        tags,
      },
      child,
    );

    // Created first with a retention, so RDS does not create it with logs kept forever.
    const logGroup = new aws.cloudwatch.LogGroup(
      `${name}-postgresql-logs`,
      {
        name: `/aws/rds/cluster/${identifier}/postgresql`,
        retentionInDays: plan.logRetentionInDays,
        tags,
      },
      child,
    );

    const cluster = new aws.rds.Cluster(
      `${name}-cluster`,
      {
        clusterIdentifier: identifier,
        engine: "aurora-postgresql",
        engineMode: "provisioned",
        engineVersion: plan.engineVersion,
        databaseName: plan.databaseName,
        masterUsername: plan.masterUsername,
        manageMasterUserPassword: true,
        masterUserSecretKmsKeyId: secretKey,
        port: plan.port,
        dbSubnetGroupName: args.subnetGroupName,
        vpcSecurityGroupIds: [sg.id],
        dbClusterParameterGroupName: params.name,
        storageEncrypted: true,
        kmsKeyId: args.storageKmsKeyArn,
        backupRetentionPeriod: plan.backupRetentionDays,
        copyTagsToSnapshot: true,
        deletionProtection: plan.deletionProtection,
        skipFinalSnapshot: plan.skipFinalSnapshot,
        finalSnapshotIdentifier: plan.skipFinalSnapshot ? undefined : `${identifier}-final`,
        enableHttpEndpoint: plan.dataApi,
        iamDatabaseAuthenticationEnabled: plan.iamDatabaseAuthentication,
        enabledCloudwatchLogsExports: ["postgresql"],
        serverlessv2ScalingConfiguration: plan.serverless
          ? {
              minCapacity: plan.minCapacity as number,
              maxCapacity: plan.maxCapacity as number,
              secondsUntilAutoPause: plan.secondsUntilAutoPause,
            }
          : undefined,
        allowMajorVersionUpgrade: false,
        tags: { ...tags, Name: identifier },
      },
      { parent: this, dependsOn: [logGroup] },
    );

    for (let i = 0; i < plan.instanceCount; i++) {
      new aws.rds.ClusterInstance(
        `${name}-instance-${i}`,
        {
          clusterIdentifier: cluster.id,
          instanceClass: plan.instanceClass,
          engine: "aurora-postgresql",
          engineVersion: cluster.engineVersion,
          dbSubnetGroupName: args.subnetGroupName,
          publiclyAccessible: false,
          autoMinorVersionUpgrade: true,
          // Serverless v2 readers in tiers 0–1 scale with the writer, so the first reader is a warm
          // failover target; further readers (tier 2) scale on their own read load.
          promotionTier: i === 0 ? 0 : i === 1 ? 1 : 2,
          tags: { ...tags, Name: `${identifier}-${i}` },
        },
        { parent: cluster },
      );
    }

    this.clusterArn = cluster.arn;
    this.clusterIdentifier = cluster.clusterIdentifier;
    this.endpoint = cluster.endpoint;
    this.readerEndpoint = cluster.readerEndpoint;
    this.port = cluster.port;
    this.databaseName = cluster.databaseName;
    this.masterSecretArn = cluster.masterUserSecrets.apply((s) => {
      const arn = s?.[0]?.secretArn;
      if (!arn)
        throw new Error(
          `${name}: the cluster reports no RDS-managed master secret (manageMasterUserPassword is on; check the cluster in the RDS console)`,
        );
      return arn;
    });

    if (plan.secretReaders.length > 0) {
      // Secrets Manager leaves a managed secret's value, rotation and deletion to RDS, but its
      // resource policy is ours: cross-account reads need it besides the reader's own IAM policy.
      new aws.secretsmanager.SecretPolicy(
        `${name}-secret-policy`,
        {
          secretArn: this.masterSecretArn,
          blockPublicPolicy: true,
          policy: JSON.stringify({
            Version: "2012-10-17",
            Statement: [
              {
                Sid: "CrossAccountReaders",
                Effect: "Allow",
                Principal: { AWS: [...new Set(plan.secretReaders.map((r) => `arn:aws:iam::${r.accountId}:root`))] },
                Action: "secretsmanager:GetSecretValue",
                Resource: "*",
                Condition: { ArnEquals: { "aws:PrincipalArn": plan.secretReaders.map((r) => r.roleArn) } },
              },
            ],
          }),
        },
        { parent: cluster },
      );
    }

    this.registerOutputs({
      clusterArn: this.clusterArn,
      endpoint: this.endpoint,
      readerEndpoint: this.readerEndpoint,
      port: this.port,
      databaseName: this.databaseName,
      masterSecretArn: this.masterSecretArn,
      securityGroupId: this.securityGroupId,
    });
  }

  /** Admits a network (another VPC across the Transit Gateway, a subnet) on the database port. */
  public allowFromCidr(cidr: string, description: string): aws.vpc.SecurityGroupIngressRule {
    // Earlier releases named this rule "<name>-from-cidr-<cidr>" (no port): kept as an alias.
    const previous = `${this.name}-from-${`cidr-${cidr}`
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, "-")
      .replace(/^-|-$/g, "")}`;
    return this.ingress.allow({ cidr }, this.plan.port, description, "allowFromCidr", [previous]);
  }

  /** Admits a peer (a security group in the same VPC or a peered one in this account, see components/ingress.ts) on the database port. */
  public allowFrom(peer: IngressPeer, description: string): aws.vpc.SecurityGroupIngressRule {
    const previous = legacyDescriptionName(this.name, `sg-${description}`);
    return this.ingress.allow(peer, this.plan.port, description, "allowFrom", previous ? [previous] : []);
  }
}
