import { z } from "zod";
import { ConfigError, ConfigErrors, throwIfAny } from "../../components/errors";
import { CLOUDWATCH_RETENTION_DAYS } from "../../components/defaults";
import type { FixedEgressVpcPlan } from "../../components/fixed-egress-vpc";
import type { PrivateVpcPlan } from "../../components/private-vpc";
import type { TgwPlan } from "../../components/tgw-shared-network";
import { AuroraPostgresPlan, DEFAULT_AURORA_POSTGRES_VERSION, SERVERLESS_INSTANCE_CLASS } from "../../components/aurora-postgres";

/**
 * The bottom of the stacks' import order (program → roles → features → this file → components): the
 * config schema, its types and the helpers every feature shares. It imports nothing from stacks/.
 */

export const PROJECT = "vpc-lambda-kit";
export const ROLES = ["network", "data", "apps"] as const;
export type Role = (typeof ROLES)[number];

/** Keys that hold secrets: present-but-secret under `synth` (secure: values cannot be decrypted offline). */
export const SECRET_KEYS = ["kintoneApiToken", "proxyHeaderValue", "saasApiToken", "appflowDbPassword"] as const;

const retention = z.number().int().refine((n) => CLOUDWATCH_RETENTION_DAYS.includes(n), {
  message: `not a CloudWatch Logs retention period (${CLOUDWATCH_RETENTION_DAYS.join(", ")})`,
});
/** An AWS account id. */
export const ACCOUNT_ID_RE = /^\d{12}$/;
/** An IAM role ARN; group 1 is its account id. */
export const ROLE_ARN_RE = /^arn:aws[a-z-]*:iam::(\d{12}):role\/[\w+=,.@\/-]+$/;
const accountId = z.string().regex(ACCOUNT_ID_RE, "an AWS account id is 12 digits");
const roleArn = z.string().regex(ROLE_ARN_RE, "not an IAM role ARN (arn:aws:iam::<account>:role/<name>)");

const account = z.strictObject({
  /** Role the program assumes for this account; absent → ambient credentials. */
  assumeRoleArn: roleArn.optional(),
  /** The account id; the provider refuses to touch any other account. */
  accountId: accountId.optional(),
  /** Region override for this account. Default aws:region. */
  region: z.string().regex(/^[a-z]{2}(-gov)?-[a-z]+-\d$/, "not an AWS region name").optional(),
});

const network = z.strictObject({
  cidrBlock: z.string().default("10.0.0.0/16"),
  /** A count of zones (names from the region), or explicit names. */
  availabilityZones: z.union([z.number().int().min(1).max(6), z.array(z.string().min(1)).min(1).max(6)]).default(1),
  publicSubnetCidrs: z.array(z.string()).optional(),
  privateSubnetCidrs: z.array(z.string()).optional(),
  natGateways: z.enum(["single", "onePerAz"]).default("single"),
  eipAllocationIds: z.array(z.string().regex(/^eipalloc-[0-9a-f]{8,17}$/, "not an EIP allocation id (eipalloc-…)")).optional(),
  /** Interface endpoints (private DNS on) for these services, e.g. [secretsmanager, logs]. Default none. */
  interfaceEndpoints: z.array(z.string()).default([]),
  /** Gateway endpoints on the private route tables. Default [s3]: S3 traffic never crosses the NAT. */
  gatewayEndpoints: z.array(z.enum(["s3", "dynamodb"])).default(["s3"]),
  flowLogs: z.strictObject({
    enabled: z.boolean().default(false),
    retentionInDays: retention.default(30),
    trafficType: z.enum(["ACCEPT", "REJECT", "ALL"]).default("ALL"),
  }).default({ enabled: false, retentionInDays: 30, trafficType: "ALL" }),
});

/** The data role's Aurora PostgreSQL (docs/database.md). */
const database = z.strictObject({
  enabled: z.boolean().default(true),
  engineVersion: z.string().default(DEFAULT_AURORA_POSTGRES_VERSION),
  /** "db.serverless" (Serverless v2) or a provisioned class such as db.r7g.large. */
  instanceClass: z.string().default(SERVERLESS_INSTANCE_CLASS),
  /** Serverless v2 ACUs. Default 0.5 and 4 (0 pauses when idle). */
  minCapacity: z.number().optional(),
  maxCapacity: z.number().optional(),
  secondsUntilAutoPause: z.number().optional(),
  /** Writer plus readers. Default 1; 2 keeps a failover reader in the second zone. */
  instances: z.number().default(1),
  databaseName: z.string().default("app"),
  backupRetentionDays: z.number().default(7),
  /** Default: on when environment is prod. */
  deletionProtection: z.boolean().optional(),
  /** Default: off (a final snapshot is taken) when environment is prod, on elsewhere. */
  skipFinalSnapshot: z.boolean().optional(),
  iamDatabaseAuthentication: z.boolean().default(false),
  dataApi: z.boolean().default(true),
  /** Networks admitted on 5432. Default [network.cidrBlock]; narrower (the private subnets) is allowed. */
  allowedCidrs: z.array(z.string()).optional(),
});

const data = z.strictObject({
  cidrBlock: z.string().default("10.1.0.0/16"),
  availabilityZones: z.union([z.number().int().min(2).max(6), z.array(z.string().min(1)).min(2).max(6)]).default(2),
  /** The write-up's 10.1.128.0/28 plus a second AZ (a DB subnet group needs two). */
  subnetCidrs: z.array(z.string()).default(["10.1.128.0/28", "10.1.128.16/28"]),
  database: database.default(database.parse({})),
});

/** MISSION §3's "insert into users", in account A (docs/database.md). */
const dbWriter = z.strictObject({
  enabled: z.boolean().default(true),
  /** "pg": PostgreSQL over the Transit Gateway; "data-api": the RDS Data API (same account only). */
  access: z.enum(["pg", "data-api"]).default("pg"),
  memoryMb: z.number().int().min(128).max(10240).default(256),
  timeoutSeconds: z.number().int().min(3).max(900).default(60),
  /** How long a connection attempt may take before the error names the missing route or rule. */
  connectTimeoutMs: z.number().int().min(100).max(60000).default(3000),
  reservedConcurrency: z.number().int().min(1).optional(),
});

/** MISSION §5: a PRIVATE REST API in front of the pets service (docs/private-api.md). */
const privateApi = z.strictObject({
  enabled: z.boolean().default(true),
  /** Stage name; the invoke URL ends in /<stageName>. */
  stageName: z.string().default("v1"),
  /** Stage-wide throttling: steady requests/s and burst. */
  throttling: z.strictObject({ rateLimit: z.number().default(100), burstLimit: z.number().default(200) }).default({ rateLimit: 100, burstLimit: 200 }),
  /** Who may call besides the network's own execute-api endpoint: endpoint ids (any account) and accounts (signed requests only). */
  consumers: z.strictObject({ vpcEndpointIds: z.array(z.string()).default([]), accountIds: z.array(z.string()).default([]) }).default({ vpcEndpointIds: [], accountIds: [] }),
  /** "NONE" (the resource policy is the gate) or "AWS_IAM" (SigV4; required for consumers.accountIds). */
  authorization: z.enum(["NONE", "AWS_IAM"]).default("NONE"),
  /** JSON access logs (needs the account's API Gateway CloudWatch role; see manageAccountCloudWatchRole). */
  accessLogs: z.boolean().default(true),
  executionLogging: z.enum(["OFF", "ERROR", "INFO"]).default("OFF"),
  /** Set the region's API Gateway CloudWatch role from this stack (one stack per account and region). */
  manageAccountCloudWatchRole: z.boolean().default(false),
  petsApi: z.strictObject({
    /** "data-api": only HTTPS to the rds-data API, same account only; "pg": PostgreSQL over the Transit Gateway. */
    access: z.enum(["data-api", "pg"]).default("data-api"),
    memoryMb: z.number().int().min(128).max(10240).default(256),
    /** Below API Gateway's 29 s integration timeout, so a slow request fails in the function's own log. */
    timeoutSeconds: z.number().int().min(1).max(28).default(10),
    reservedConcurrency: z.number().int().min(1).optional(),
  }).default({ access: "data-api", memoryMb: 256, timeoutSeconds: 10 }),
});

/** MISSION §4: the AppFlow custom connector for a PostgreSQL source (docs/appflow-connector.md). */
const appflowConnector = z.strictObject({
  enabled: z.boolean().default(true),
  /** "data": the data role's Aurora across the Transit Gateway; "local": an Aurora cluster of its own in the network VPC. */
  database: z.enum(["data", "local"]).default("data"),
  /** AppFlow connector label. Default <project>-<environment>-postgres. */
  connectorLabel: z.string().optional(),
  /** The AppFlow connection (connector profile). Default <label>-connection. */
  connectionName: z.string().optional(),
  /** Create the connection (and the example flow); false until the database user exists. Default true. */
  createConnection: z.boolean().default(true),
  /** How the connection authenticates: CUSTOM (the connector's PostgresPassword) or BASIC. */
  authenticationType: z.enum(["CUSTOM", "BASIC"]).default("CUSTOM"),
  /** Database user of the connection; its password is the secret appflowDbPassword. */
  dbUsername: z.string().default("appflow_reader"),
  /** Default: data.database.databaseName ("data") or "app" ("local"). */
  databaseName: z.string().optional(),
  schema: z.string().default("public"),
  memoryMb: z.number().int().min(128).max(10240).default(512),
  timeoutSeconds: z.number().int().min(5).max(900).default(60),
  reservedConcurrency: z.number().int().min(1).optional(),
  connectTimeoutMs: z.number().int().min(500).max(60000).default(5000),
  statementTimeoutMs: z.number().int().min(1000).max(900000).default(25000),
  /** A QueryData page stays below this response size (Lambda's limit is 6 MB). */
  responseMaxBytes: z.number().int().min(10000).max(6225920).default(5500000),
  maxPageRows: z.number().int().min(1).max(100000).default(10000),
  /** The "local" cluster (AuroraPostgres arguments). */
  local: z.strictObject({
    engineVersion: z.string().optional(),
    instanceClass: z.string().optional(),
    minCapacity: z.number().optional(),
    maxCapacity: z.number().optional(),
    secondsUntilAutoPause: z.number().optional(),
    instanceCount: z.number().optional(),
  }).default({}),
  /** The example flow: one table to S3 (JSON), on demand. */
  flow: z.strictObject({
    enabled: z.boolean().default(true),
    name: z.string().optional(),
    entity: z.string().min(1),
    fields: z.array(z.string().min(1)).min(1),
    bucketPrefix: z.string().regex(/^[a-z0-9][a-z0-9._\/-]*$/, "lower-case path, e.g. appflow/postgres").default("appflow/postgres"),
  }).optional(),
});

const kintoneSync = z.strictObject({
  enabled: z.boolean().default(true),
  /** https://<subdomain>.cybozu.com (or kintone.com, cybozu.cn). */
  baseUrl: z.string().regex(/^https:\/\/[a-z0-9][a-z0-9.-]*[a-z0-9](:\d+)?$/i, "must be https://<subdomain>.cybozu.com with no path"),
  appId: z.union([z.string().regex(/^\d+$/), z.number().int().positive()]).transform(String),
  /** Query condition only (no order by / limit / offset). */
  query: z.string().default(""),
  schedule: z.string().default("rate(15 minutes)"),
  /** Path of a module exporting the transform, relative to the repository root. Default the shipped one. */
  transformModule: z.string().optional(),
  /** JSON passed to the transform. */
  transformOptions: z.record(z.string(), z.unknown()).optional(),
  timeoutSeconds: z.number().int().min(10).max(900).default(300),
  memoryMb: z.number().int().min(128).max(10240).default(512),
  /** Reserved concurrency; 1 guarantees runs never overlap (needs unreserved account headroom). */
  reservedConcurrency: z.number().int().min(1).optional(),
});

const proxyTier = z.strictObject({
  /** "private": instances behind the network's NAT (egress IPs = NAT EIPs); "public": one EIP per instance. */
  placement: z.enum(["private", "public"]).default("private"),
  /** Squid dstdomain entries: ".example.com" = domain and subdomains, "api.example.com" = that host. */
  allowedDomains: z.array(z.string()).min(1),
  port: z.number().int().min(1024).max(65535).default(3128),
  headerName: z.string().default("X-Lambda-Proxy-Token"),
  desiredCapacity: z.number().int().min(1).max(10).default(2),
  instanceType: z.string().default("t4g.small"),
  /** Other networks (e.g. other accounts' VPCs over the Transit Gateway) whose Lambdas may use the proxy. */
  extraClientCidrs: z.array(z.string()).default([]),
});

const saasExport = z.strictObject({
  enabled: z.boolean().default(true),
  /** https URL of the first page. */
  url: z.string().regex(/^https:\/\/[^\s/]+(\/\S*)?$/, "must be an https URL"),
  /** none | link | cursor:<path>:<param> | page:<param>. */
  pagination: z.string().default("none"),
  /** Where each page holds its array of records, e.g. data.items ($ = the body). */
  recordsPath: z.string().default("$"),
  schedule: z.string().default("cron(0 18 * * ? *)"),
  /** Key prefix in the export bucket; ends in "/". */
  prefix: z.string().regex(/^([a-z0-9][a-z0-9._-]*\/)+$/, "lower-case path segments ending in /, e.g. raw/saas/").default("raw/saas/"),
  /** Athena columns of each record (Glue types), e.g. [{name: id, type: string}]. */
  columns: z.array(z.strictObject({ name: z.string().regex(/^[a-z_][a-z0-9_]*$/, "lower-case identifier"), type: z.string().regex(/^[a-z][a-z0-9<>,: _()]*$/, "a Glue/Hive type such as string, bigint, timestamp") })).min(1),
  timeoutSeconds: z.number().int().min(10).max(900).default(900),
  memoryMb: z.number().int().min(128).max(10240).default(1024),
  /** A run with fewer records than this share of the day's published run is kept but not published (0 = off). Default 0.9. */
  publishMinShare: z.number().min(0).max(1).default(0.9),
  /** "anomaly": an empty last page after a non-empty one refuses publication; "normal": that is how this SaaS ends. */
  emptyLastPage: z.enum(["anomaly", "normal"]).default("anomaly"),
});

/** A live, read-only Athena catalog over the SaaS through the proxy tier (docs/athena-connector.md). */
const athenaConnector = z.strictObject({
  enabled: z.boolean().default(true),
  /** FROM "<catalogName>".<schemaName>.<table>; checked against Athena's rules in stacks/features/athena-connector.ts. */
  catalogName: z.string().min(1),
  schemaName: z.string().optional(),
  /** functions/athena-connector/tables.ts validates each table (names, URL, pagination, column types). */
  tables: z.array(z.strictObject({
    name: z.string(),
    url: z.string(),
    pagination: z.string().optional(),
    recordsPath: z.string().optional(),
    splits: z.number().optional(),
    columns: z.array(z.strictObject({
      name: z.string(),
      type: z.string(),
      path: z.string().optional(),
      filter: z.strictObject({ equals: z.string().optional(), min: z.string().optional(), max: z.string().optional() }).optional(),
    })),
  })),
  /** Key prefix of spilled result blocks in the catalog's bucket. Default athena-spill/. */
  spillPrefix: z.string().optional(),
  memoryMb: z.number().int().min(128).max(10240).default(1024),
  timeoutSeconds: z.number().int().min(10).max(900).default(900),
});

/** MISSION §3: account A's Transit Gateway shared with account B through RAM (docs/transit-gateway.md). */
const transitGateway = z.strictObject({
  /** Default: true when the environment has both sides (this stack runs or reads network and data). */
  enabled: z.boolean().optional(),
  /** RAM principals: account ids, an OU ARN or an organization ARN. Default [accounts.b.accountId]. */
  principals: z.array(z.string()).optional(),
  /** Share outside the Organization. Default: acceptShare. */
  allowExternalPrincipals: z.boolean().optional(),
  /** Account B accepts a RAM invitation (outside an Organization with RAM sharing). Default true. */
  acceptShare: z.boolean().default(true),
  defaultRouteTableAssociation: z.boolean().default(true),
  defaultRouteTablePropagation: z.boolean().default(true),
  amazonSideAsn: z.number().int().optional(),
});

export const schema = z.strictObject({
  environment: z.enum(["dev", "stg", "prod"]),
  roles: z.array(z.enum(ROLES)).min(1).default([...ROLES]),
  accounts: z.strictObject({ a: account.default({}), b: account.default({}) }).default({ a: {}, b: {} }),
  upstream: z.strictObject({ network: z.string().min(1).optional(), data: z.string().min(1).optional() }).default({}),
  network: network.default(network.parse({})),
  data: data.default(data.parse({})),
  kintoneSync: kintoneSync.optional(),
  proxyTier: proxyTier.optional(),
  saasExport: saasExport.optional(),
  transitGateway: transitGateway.default(transitGateway.parse({})),
  dbWriter: dbWriter.optional(),
  privateApi: privateApi.optional(),
  appflowConnector: appflowConnector.optional(),
  athenaConnector: athenaConnector.optional(),
  logRetentionInDays: retention.default(30),
  /** Traffic and usage volumes for the offline cost estimate (ops/check/cost.ts CostAssumptions); unset fields take its defaults. */
  costAssumptions: z.strictObject({
    hoursPerMonth: z.number().positive().max(744).optional(),
    internetGbPerFunction: z.number().min(0).optional(),
    awsServiceGbPerFunction: z.number().min(0).optional(),
    s3GbPerFunction: z.number().min(0).optional(),
    tgwGbPerFunction: z.number().min(0).optional(),
    functionSeconds: z.number().min(0).optional(),
    functionSecondsByName: z.record(z.string(), z.number().min(0)).optional(),
    unscheduledInvocationsPerMonth: z.number().int().min(0).optional(),
    logGbPerFunction: z.number().min(0).optional(),
    flowLogGbPerFlowLog: z.number().min(0).optional(),
    auroraAverageAcu: z.number().min(0).max(256).optional(),
    auroraStorageGb: z.number().min(0).optional(),
    auroraIoMillions: z.number().min(0).optional(),
    apiRequestsMillions: z.number().min(0).optional(),
    athenaQueriesPerMonth: z.number().int().min(0).optional(),
    athenaMbScannedPerQuery: z.number().min(0).optional(),
    athenaConnectorSecondsPerQuery: z.number().min(0).optional(),
  }).optional(),
  tags: z.record(z.string(), z.string()).default({}),
});

export type EnvConfigInput = z.infer<typeof schema>;

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

export interface EnvConfig extends EnvConfigInput {
  region: string;
  project: string;
  stack: string;
  networkPlan: FixedEgressVpcPlan;
  dataPlan: PrivateVpcPlan;
  /** AZ names when given; otherwise a count resolved from the region at run time. */
  networkAzs: string[] | number;
  dataAzs: string[] | number;
  /** Which secret keys are set (values are read only as secret Outputs). */
  secretsPresent: Record<(typeof SECRET_KEYS)[number], boolean>;
  /** The validated Transit Gateway plan; undefined when transitGateway is off. */
  tgw?: TgwPlan;
  /** The validated database plan; undefined when data.database is off. */
  database?: DatabasePlan;
}

const FIX_BY_CODE: Record<string, string> = {
  unrecognized_keys: "remove the key or fix its spelling (see the README's config reference)",
  invalid_type: "give a value of the expected type",
  invalid_value: "use one of the allowed values",
  too_small: "give more/larger values",
  too_big: "give fewer/smaller values",
  invalid_format: "fix the format",
  custom: "see the README's config reference",
};

/** A key as `pulumi config` names it: `vpc-lambda-kit:<path>`. */
export function configKey(path: string): string {
  return `${PROJECT}:${path}`;
}

/**
 * Runs a planner that throws ConfigError or ConfigErrors and adds what it threw to `errors`, so one
 * failing planner never hides the others' problems. Returns the planner's result, or undefined when it threw.
 * Anything else it throws is a bug and propagates.
 */
export function collectConfigErrors<T>(errors: ConfigError[], plan: () => T): T | undefined {
  try {
    return plan();
  } catch (e) {
    if (e instanceof ConfigErrors) errors.push(...e.errors);
    else if (e instanceof ConfigError) errors.push(e);
    else throw e;
    return undefined;
  }
}

type Accounts = EnvConfigInput["accounts"];

/** An account's id as config knows it: `accountId`, else the account in `assumeRoleArn`. */
export function accountIdOf(acct: Accounts["a"]): string | undefined {
  return acct.accountId ?? ROLE_ARN_RE.exec(acct.assumeRoleArn ?? "")?.[1];
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

/** The region a side's provider uses. */
export function regionOf(cfg: { accounts: Accounts }, side: "a" | "b", defaultRegion: string): string {
  return cfg.accounts[side].region ?? defaultRegion;
}

/** The schema's verdict on a config map, before any feature's cross-key checks. */
export interface ParsedConfig {
  /** Every top-level key that parsed (a key that failed is absent). */
  cfg: EnvConfigInput;
  region?: string;
  /** Top-level keys that failed the schema: checks that read them are skipped. */
  failed: ReadonlySet<string>;
  secretsPresent: EnvConfig["secretsPresent"];
  errors: ConfigError[];
}

/**
 * Parses the whole configuration map key by key (so one bad key never hides another's problems) and
 * checks the roles and their upstream stacks. Throws at once when `roles` or `upstream` is invalid,
 * since every later check depends on them; otherwise returns the problems found so far.
 */
export function parseConfig(all: Record<string, string>): ParsedConfig {
  const errors: ConfigError[] = [];
  const raw: Record<string, unknown> = {};
  let region: string | undefined;
  for (const [fullKey, value] of Object.entries(all)) {
    const [ns, key] = splitKey(fullKey);
    if (ns === "aws") {
      if (key === "region") region = value;
      continue;
    }
    if (ns !== PROJECT) continue; // other providers' namespaces are theirs to validate
    if ((SECRET_KEYS as readonly string[]).includes(key)) continue;
    raw[key] = parseValue(value);
  }
  if (!region) errors.push(new ConfigError("aws:region", "not set", "pulumi config set aws:region ap-northeast-1"));

  const shape = schema.shape as Record<string, z.ZodType>;
  const parsedKeys: Record<string, unknown> = {};
  const failed = new Set<string>();
  for (const key of Object.keys(raw)) {
    if (!(key in shape)) errors.push(new ConfigError(fullName([key]), "unknown key", FIX_BY_CODE.unrecognized_keys));
  }
  for (const [key, sub] of Object.entries(shape)) {
    const r = sub.safeParse(raw[key]);
    if (r.success) {
      parsedKeys[key] = r.data;
      continue;
    }
    failed.add(key);
    for (const issue of r.error.issues) {
      const path = [key, ...issue.path.map(String)];
      if (issue.code === "unrecognized_keys") {
        for (const k of issue.keys) errors.push(new ConfigError(fullName([...path, k]), "unknown key", FIX_BY_CODE.unrecognized_keys));
        continue;
      }
      const fix = path.length === 1 && raw[key] === undefined ? `set it: pulumi config set ${fullName(path)} <value>` : FIX_BY_CODE[issue.code] ?? "see the README's config reference";
      errors.push(new ConfigError(fullName(path), issue.message, fix));
    }
  }
  const cfg = parsedKeys as EnvConfigInput;
  const secretsPresent = Object.fromEntries(SECRET_KEYS.map((k) => [k, `${PROJECT}:${k}` in all])) as EnvConfig["secretsPresent"];

  if (failed.has("roles") || failed.has("upstream")) {
    throwIfAny(errors);
  }
  if (cfg.roles.includes("apps") && !cfg.roles.includes("network") && !cfg.upstream.network) {
    errors.push(new ConfigError(`${PROJECT}:upstream.network`, "the apps role runs without the network role in this stack, so it needs the network stack's outputs", "set upstream.network to the network stack's name, e.g. dev-network"));
  }
  for (const r of ["network", "data"] as const) {
    if (cfg.roles.includes(r) && cfg.upstream[r]) {
      errors.push(new ConfigError(`${PROJECT}:upstream.${r}`, `this stack runs the ${r} role itself`, `remove upstream.${r}, or remove "${r}" from roles`));
    }
  }
  return { cfg, region, failed, secretsPresent, errors };
}

function splitKey(fullKey: string): [string, string] {
  const i = fullKey.indexOf(":");
  return i < 0 ? ["", fullKey] : [fullKey.slice(0, i), fullKey.slice(i + 1)];
}

function fullName(path: string[]): string {
  return `${PROJECT}:${path.join(".")}`;
}

/** Pulumi passes structured config as JSON text and scalars as plain text. */
function parseValue(value: string): unknown {
  const t = value.trim();
  if (t.startsWith("{") || t.startsWith("[") || t === "true" || t === "false" || /^-?\d+(\.\d+)?$/.test(t)) {
    try { return JSON.parse(t); } catch { return value; }
  }
  return value;
}
