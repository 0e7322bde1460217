import { z } from "zod";
import { ACCOUNT_ID_RE, IPAM_POOL_ID_RE, ROLE_ARN_RE } from "../../components/arns";
export { ACCOUNT_ID_RE, ROLE_ARN_RE };
import { collectConfigErrors, ConfigError, throwIfAny } from "../../components/errors";
import { tryParseCidr } from "../../components/cidr";
import {
  CLOUDWATCH_RETENTION_DAYS,
  DEFAULT_DATA_CIDR,
  DEFAULT_DATA_SUBNET_CIDRS,
  DEFAULT_NETWORK_CIDR,
} from "../../components/defaults";
import { s3BucketArnProblem } from "../../components/flow-logs";
import type { FixedEgressVpcPlan } from "../../components/fixed-egress-vpc";
import type { VpcIpam } from "../../components/vpc-parts";
import type { PrivateVpcPlan } from "../../components/private-vpc";
import type { TgwPlan } from "../../components/tgw-shared-network";
import {
  AuroraPostgresPlan,
  DEFAULT_AURORA_POSTGRES_VERSION,
  SERVERLESS_INSTANCE_CLASS,
} from "../../components/aurora-postgres";
import { parseJsonPath } from "../../functions/saas-export/json-path";
import { parsePagination } from "../../functions/saas-export/settings";
import {
  AURORA_INSTANCE_CLASSES,
  auroraVersionProblem,
  EC2_ARM_INSTANCE_TYPES,
  hiveTypeProblem,
  INTERFACE_ENDPOINT_SERVICES,
  kintoneUrlProblem,
  regionProblem,
} from "./rules";
import { secretShapeProblem } from "./secrets";

/**
 * The bottom of the stacks' import order (program → roles → features → this file → components): the
 * config schema, its types and the helpers every feature shares. It imports nothing from stacks/.
 */

export const PROJECT = "vpc-lambda-kit";
export const ROLES = ["network", "data", "apps"] as const;
export type Role = (typeof ROLES)[number];

/** Keys that hold secrets: present-but-secret under `synth` (secure: values cannot be decrypted offline). */
export const SECRET_KEYS = ["kintoneApiToken", "proxyHeaderValue", "saasApiToken", "appflowDbPassword"] as const;

const retention = z
  .number()
  .int()
  .refine((n) => CLOUDWATCH_RETENTION_DAYS.includes(n), {
    message: `not a CloudWatch Logs retention period (${CLOUDWATCH_RETENTION_DAYS.join(", ")})`,
  });
/**
 * Flow logs of a VPC or the Transit Gateway (components/flow-logs.ts): CloudWatch Logs, or S3 (a given
 * log-archive bucket, or one the kit creates). Transit Gateway flow logs take no traffic type.
 */
const flowLogsFields = {
  enabled: z.boolean().default(false),
  destination: z.enum(["cloudwatch", "s3"]).default("cloudwatch"),
  s3BucketArn: z
    .string()
    .superRefine((v, ctx) => {
      const p = s3BucketArnProblem(v);
      if (p) ctx.addIssue({ code: "custom", message: p });
    })
    .optional(),
  retentionInDays: retention.default(30),
};
function withBucketOnlyForS3<T extends z.ZodType<{ destination: string; s3BucketArn?: string }>>(o: T) {
  return o.superRefine((v, ctx) => {
    if (v.s3BucketArn !== undefined && v.destination !== "s3")
      ctx.addIssue({
        code: "custom",
        path: ["s3BucketArn"],
        message: `a bucket is given but the destination is ${v.destination}: set destination: s3, or drop s3BucketArn`,
      });
  });
}
/** An AWS account id. */
/** An IAM role ARN; group 1 is its account id. */
const accountId = z.string().regex(ACCOUNT_ID_RE, "an AWS account id is 12 digits");
/** Checks a string with `problem` (undefined = fine), reporting its sentence. */
const checked = (problem: (v: string) => string | undefined) =>
  z.string().superRefine((v, ctx) => {
    const p = problem(v);
    if (p) ctx.addIssue({ code: "custom", message: p });
  });
/** Lists in which no value may repeat. */
const unique = <T extends z.ZodType>(item: T, what: string) =>
  z.array(item).superRefine((list, ctx) => {
    list.forEach((v, i) => {
      if (list.indexOf(v) !== i)
        ctx.addIssue({ code: "custom", path: [i], message: `${JSON.stringify(v)} is listed twice; ${what}` });
    });
  });
const auroraVersion = checked(auroraVersionProblem);
const auroraClass = checked((v) =>
  AURORA_INSTANCE_CLASSES.has(v)
    ? undefined
    : `"${v}" is not a DB instance class Aurora PostgreSQL runs on (db.serverless, or e.g. db.r7g.large, db.t4g.medium; table in stacks/config/rules.ts)`,
);
/** AWS tag keys (1-128) and values (0-256); the aws: prefix is reserved (Tagging AWS resources, "Tag naming limits"). */
const TAG_RE = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
/** An SNS topic ARN (SNS API reference: topic names are 1-256 letters, digits, hyphens, underscores; FIFO ends in .fifo). */
const SNS_TOPIC_ARN_RE = /^arn:aws[a-z-]*:sns:[a-z]{2}(-[a-z]+)+-\d:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$/;
const roleArn = z.string().regex(ROLE_ARN_RE, "not an IAM role ARN (arn:aws:iam::<account>:role/<name>)");

const account = z.strictObject({
  /** Role the program assumes for this account; absent → ambient credentials. */
  assumeRoleArn: roleArn.optional(),
  /** The account id; the provider refuses to touch any other account. */
  accountId: accountId.optional(),
  /** Region override for this account. Default aws:region. */
  region: checked(regionProblem).optional(),
});

// --- Existing (landing-zone) VPCs: docs/landing-zone.md. Kept in one block; network and data each name it once.
const EXISTING_ID = {
  vpc: /^vpc-[0-9a-f]{8,17}$/,
  subnet: /^subnet-[0-9a-f]{8,17}$/,
  routeTable: /^rtb-[0-9a-f]{8,17}$/,
  nat: /^nat-[0-9a-f]{8,17}$/,
};
/** Tags a lookup filters on (tag:<key> = value, all must match): one to fifty pairs. */
const lookupTags = z
  .record(z.string().min(1).max(128), z.string().max(256))
  .refine((t) => Object.keys(t).length >= 1 && Object.keys(t).length <= 50, "give 1 to 50 tag pairs to look up by");
/**
 * What network.existingVpc and data.existingVpc share: the VPC and its private subnets by id or by
 * tags (exactly one form each), their route tables, and whether the kit may add routes to them.
 */
const existingVpcBase = {
  /** The VPC by id; or give `tags`. */
  vpcId: z.string().regex(EXISTING_ID.vpc, "not a VPC id (vpc- and 8 or 17 hex digits)").optional(),
  /** The VPC by its tags (aws.ec2.getVpc with tag filters): exactly one VPC must match. */
  tags: lookupTags.optional(),
  /** Subnets the kit places its ENIs in, one per zone; or give `privateSubnetTags`. */
  privateSubnetIds: z
    .array(z.string().regex(EXISTING_ID.subnet, "not a subnet id (subnet-…)"))
    .min(1)
    .max(6)
    .optional(),
  /** The subnets by tags (aws.ec2.getSubnets in the VPC): exactly one subnet per stated CIDR must match. */
  privateSubnetTags: lookupTags.optional(),
  /** Route tables of the private subnets, same order; one shared table may be listed once. Default: looked up by subnet. */
  routeTableIds: z.array(z.string().regex(EXISTING_ID.routeTable, "not a route table id (rtb-…)")).optional(),
  /** The kit may add routes (default route to its NAT, gateway endpoints, Transit Gateway routes) to the existing route tables. Default false: it reports them instead. */
  manageRoutes: z.boolean().default(false),
};
/** Exactly one of `a` and `b`, else an issue on the first key. */
function oneOf(v: Record<string, unknown>, ctx: z.RefinementCtx, a: string, b: string): void {
  const has = (k: string) => v[k] !== undefined;
  if (has(a) === has(b))
    ctx.addIssue({
      code: "custom",
      path: [a],
      message: has(a)
        ? `give ${a} or ${b}, not both (the lookup uses one)`
        : `the adopted VPC needs ${a} (ids) or ${b} (a tag lookup)`,
    });
}
const existingVpcForms = (v: Record<string, unknown>, ctx: z.RefinementCtx) => {
  oneOf(v, ctx, "vpcId", "tags");
  oneOf(v, ctx, "privateSubnetIds", "privateSubnetTags");
};
/** Adopt a VPC the landing zone already has: the kit reads it through lookups and adds only what is missing. */
export const existingVpc = z
  .strictObject({
    ...existingVpcBase,
    /** Public subnets (only needed when the kit creates a NAT gateway). */
    publicSubnetIds: z.array(z.string().regex(EXISTING_ID.subnet, "not a subnet id (subnet-…)")).optional(),
    /** NAT gateways already serving the private subnets: their EIPs become the egress IPs, no NAT is created. */
    natGatewayIds: z.array(z.string().regex(EXISTING_ID.nat, "not a NAT gateway id (nat-…)")).optional(),
  })
  .superRefine(existingVpcForms);
export type ExistingVpcConfig = z.infer<typeof existingVpc>;
/** The data role's adopted VPC: Aurora goes into its subnets; the kit adds the DB subnet group, security groups, TGW attachment and (manageRoutes) routes. */
export const existingDataVpc = z.strictObject(existingVpcBase).superRefine(existingVpcForms);
export type ExistingDataVpcConfig = z.infer<typeof existingDataVpc>;
// --- end existing VPCs

// --- IPAM (docs/landing-zone.md): a kit-created VPC's range from an IPAM pool instead of a literal CIDR.
const ipamFields = {
  /** Take the VPC's range from this IPAM pool (CreateVpc Ipv4IpamPoolId) instead of cidrBlock. */
  ipv4IpamPoolId: z.string().regex(IPAM_POOL_ID_RE, "not an IPAM pool id (ipam-pool- and 17 hex digits)").optional(),
  /** The netmask length to ask the pool for (AWS accepts VPC ranges from /16 to /28). */
  ipv4NetmaskLength: z.number().int().min(16).max(28).optional(),
  /** The CIDR the pool allocated (or will) to this VPC: subnets and rules are planned from it before deploy. */
  ipamAllocatedCidr: z.string().optional(),
};
/** Checks the IPAM keys agree with each other and with cidrBlock, then gives cidrBlock its value. */
function withIpam<
  T extends { cidrBlock?: string; existingVpc?: unknown } & { [K in keyof typeof ipamFields]?: unknown },
>() {
  return (v: T, ctx: z.RefinementCtx) => {
    const issue = (key: string, message: string) => ctx.addIssue({ code: "custom", path: [key], message });
    if (v.ipv4IpamPoolId === undefined) {
      for (const k of ["ipv4NetmaskLength", "ipamAllocatedCidr"] as const)
        if (v[k] !== undefined) issue(k, "is only read with ipv4IpamPoolId: set the pool, or remove it");
      return;
    }
    if (v.cidrBlock !== undefined)
      issue(
        "cidrBlock",
        "give cidrBlock or ipv4IpamPoolId, not both: with a pool, IPAM picks the range (state it in ipamAllocatedCidr)",
      );
    if (v.existingVpc !== undefined)
      issue(
        "ipv4IpamPoolId",
        "an adopted VPC has its range already: remove the pool, and state the range in cidrBlock",
      );
    if (v.ipv4NetmaskLength === undefined)
      issue("ipv4NetmaskLength", "a VPC from an IPAM pool needs the netmask length to ask for, e.g. 16");
    const alloc = typeof v.ipamAllocatedCidr === "string" ? tryParseCidr(v.ipamAllocatedCidr) : undefined;
    if (v.ipamAllocatedCidr === undefined)
      issue(
        "ipamAllocatedCidr",
        "the kit plans subnets and rules before IPAM allocates: state the CIDR the pool gives this VPC (its allocation, or the next free block of the pool; offline, an inventory that lists the pool predicts it)",
      );
    else if (typeof alloc === "string") issue("ipamAllocatedCidr", alloc);
    else if (alloc && v.ipv4NetmaskLength !== undefined && alloc.prefix !== v.ipv4NetmaskLength)
      issue(
        "ipamAllocatedCidr",
        `is a /${alloc.prefix}, but ipv4NetmaskLength asks the pool for a /${String(v.ipv4NetmaskLength)}`,
      );
  };
}

/** A VPC's keys with the IPAM ones checked, and cidrBlock given its value: stated, else the pool's stated allocation, else `dflt`. */
function withIpamCidr<S extends z.ZodType<Parameters<ReturnType<typeof withIpam>>[0] & { ipamAllocatedCidr?: string }>>(
  schema: S,
  dflt: string,
) {
  return schema
    .superRefine(withIpam())
    .transform((v) => ({ ...v, cidrBlock: v.cidrBlock ?? v.ipamAllocatedCidr ?? dflt }));
}
// --- end IPAM

const network = z.strictObject({
  ...ipamFields,
  /** Default 10.0.0.0/16; with ipv4IpamPoolId, ipamAllocatedCidr. */
  cidrBlock: z.string().optional(),
  /** A count of zones (names from the region), or explicit names. */
  availabilityZones: z.union([z.number().int().min(1).max(6), z.array(z.string().min(1)).min(1).max(6)]).default(1),
  publicSubnetCidrs: z.array(z.string()).optional(),
  privateSubnetCidrs: z.array(z.string()).optional(),
  natGateways: z.enum(["single", "onePerAz"]).default("single"),
  /** One per NAT gateway; an address sits on one NAT only. */
  eipAllocationIds: unique(
    z.string().regex(/^eipalloc-[0-9a-f]{8,17}$/, "not an EIP allocation id (eipalloc-…)"),
    "an Elastic IP can be associated with one NAT gateway only",
  ).optional(),
  /** Interface endpoints (private DNS on) for these services, e.g. [secretsmanager, logs]. Default none. */
  interfaceEndpoints: unique(
    checked((v) =>
      INTERFACE_ENDPOINT_SERVICES.has(v)
        ? undefined
        : `"${v}" is not an interface endpoint service (the name after com.amazonaws.<region>., e.g. secretsmanager, logs, execute-api; table in stacks/config/rules.ts from the AWS PrivateLink guide)`,
    ),
    "list each service once",
  ).default([]),
  /** Gateway endpoints on the private route tables. Default [s3]: S3 traffic never crosses the NAT. */
  gatewayEndpoints: z.array(z.enum(["s3", "dynamodb"])).default(["s3"]),
  flowLogs: withBucketOnlyForS3(
    z.strictObject({
      ...flowLogsFields,
      trafficType: z.enum(["ACCEPT", "REJECT", "ALL"]).default("ALL"),
    }),
  ).default({ enabled: false, destination: "cloudwatch", retentionInDays: 30, trafficType: "ALL" }),
  /** Adopt this existing VPC instead of creating one (docs/landing-zone.md). */
  existingVpc: existingVpc.optional(),
});
/** network with the IPAM keys checked and cidrBlock given its value. */
const networkConfig = withIpamCidr(network, DEFAULT_NETWORK_CIDR);

/** The data role's Aurora PostgreSQL (docs/database.md). */
const database = z.strictObject({
  enabled: z.boolean().default(true),
  engineVersion: auroraVersion.default(DEFAULT_AURORA_POSTGRES_VERSION),
  /** "db.serverless" (Serverless v2) or a provisioned class such as db.r7g.large. */
  instanceClass: auroraClass.default(SERVERLESS_INSTANCE_CLASS),
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
  ...ipamFields,
  /** Default 10.1.0.0/16; with ipv4IpamPoolId, ipamAllocatedCidr. */
  cidrBlock: z.string().optional(),
  availabilityZones: z.union([z.number().int().min(2).max(6), z.array(z.string().min(1)).min(2).max(6)]).default(2),
  /** The usual recipe's 10.1.128.0/28 plus a second AZ (a DB subnet group needs two). */
  subnetCidrs: z.array(z.string()).default([...DEFAULT_DATA_SUBNET_CIDRS]),
  database: database.default(database.parse({})),
  /** Adopt this existing VPC for the database instead of creating one (docs/landing-zone.md). */
  existingVpc: existingDataVpc.optional(),
});
/** data with the IPAM keys checked and cidrBlock given its value. */
const dataConfig = withIpamCidr(data, DEFAULT_DATA_CIDR);

/** docs/designs.md §3's "insert into users", in account A (docs/database.md). */
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

/** docs/designs.md §5: a PRIVATE REST API in front of the pets service (docs/private-api.md). */
const privateApi = z.strictObject({
  enabled: z.boolean().default(true),
  /** Stage name; the invoke URL ends in /<stageName>. */
  stageName: z.string().default("v1"),
  /** Stage-wide throttling: steady requests/s and burst. */
  throttling: z
    .strictObject({ rateLimit: z.number().default(100), burstLimit: z.number().default(200) })
    .default({ rateLimit: 100, burstLimit: 200 }),
  /**
   * Who may call besides the network's own execute-api endpoint: endpoint ids (any account) and accounts
   * (signed requests only); and who in the network VPC calls through its endpoint: security groups,
   * address blocks, and/or a sample caller function the kit creates (each admitted to the endpoint on 443).
   */
  consumers: z
    .strictObject({
      vpcEndpointIds: z.array(z.string()).default([]),
      accountIds: z.array(z.string()).default([]),
      securityGroupIds: z.array(z.string()).default([]),
      cidrs: z.array(z.string()).default([]),
      sampleCaller: z.boolean().default(false),
    })
    .default({ vpcEndpointIds: [], accountIds: [], securityGroupIds: [], cidrs: [], sampleCaller: false }),
  /** "NONE" (the resource policy is the gate) or "AWS_IAM" (SigV4; required for consumers.accountIds). */
  authorization: z.enum(["NONE", "AWS_IAM"]).default("NONE"),
  /** JSON access logs (needs the account's API Gateway CloudWatch role; see manageAccountCloudWatchRole). */
  accessLogs: z.boolean().default(true),
  executionLogging: z.enum(["OFF", "ERROR", "INFO"]).default("OFF"),
  /** Set the region's API Gateway CloudWatch role from this stack (one stack per account and region). */
  manageAccountCloudWatchRole: z.boolean().default(false),
  petsApi: z
    .strictObject({
      /** "data-api": only HTTPS to the rds-data API, same account only; "pg": PostgreSQL over the Transit Gateway. */
      access: z.enum(["data-api", "pg"]).default("data-api"),
      memoryMb: z.number().int().min(128).max(10240).default(256),
      /** Below API Gateway's 29 s integration timeout, so a slow request fails in the function's own log. */
      timeoutSeconds: z.number().int().min(1).max(28).default(10),
      reservedConcurrency: z.number().int().min(1).optional(),
    })
    .default({ access: "data-api", memoryMb: 256, timeoutSeconds: 10 }),
});

/** docs/designs.md §4: the AppFlow custom connector for a PostgreSQL source (docs/appflow-connector.md). */
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
  local: z
    .strictObject({
      engineVersion: auroraVersion.optional(),
      instanceClass: auroraClass.optional(),
      minCapacity: z.number().optional(),
      maxCapacity: z.number().optional(),
      secondsUntilAutoPause: z.number().optional(),
      instanceCount: z.number().optional(),
    })
    .default({}),
  /** The example flow: one table to S3 (JSON), on demand. */
  flow: z
    .strictObject({
      enabled: z.boolean().default(true),
      name: z.string().optional(),
      entity: z.string().min(1),
      fields: z.array(z.string().min(1)).min(1),
      bucketPrefix: z
        .string()
        .regex(/^[a-z0-9][a-z0-9._/-]*$/, "lower-case path, e.g. appflow/postgres")
        .default("appflow/postgres"),
    })
    .optional(),
});

const kintoneSync = z.strictObject({
  enabled: z.boolean().default(true),
  /** https://<subdomain>.cybozu.com (or kintone.com, cybozu.cn). */
  baseUrl: checked(kintoneUrlProblem),
  appId: z
    .union([
      z.string().regex(/^[1-9]\d{0,17}$/, 'a kintone app id is a positive number without leading zeros, e.g. "12"'),
      z.number().int().positive(),
    ])
    .transform(String),
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
  /** "nlb": Network Load Balancer with PROXY protocol v2 (default); "clb": Classic Load Balancer with v1. */
  loadBalancer: z.enum(["nlb", "clb"]).default("nlb"),
  /** PROXY protocol version; only v2 on an NLB, v1 on a CLB exist (checked with the tier's other rules). Default: the load balancer's. */
  proxyProtocolVersion: z.union([z.literal(1), z.literal(2)]).optional(),
  /** Load balancer idle timeout; the range depends on `loadBalancer` (checked with the tier's other rules). Default 350. */
  idleTimeoutSeconds: z.number().int().optional(),
  /** Fleet size and target tracking; `desiredCapacity` is its older spelling (a fixed size), never both. */
  scaling: z
    .strictObject({
      min: z.number().int().min(0).max(10).optional(),
      max: z.number().int().min(1).max(10).optional(),
      desired: z.number().int().min(1).max(10).optional(),
      target: z
        .strictObject({ metric: z.enum(["cpu", "networkIn", "networkOut"]), value: z.number().positive() })
        .optional(),
    })
    .optional(),
  /** Fixed fleet size (min = max = desired); default 2 when `scaling` is absent. */
  desiredCapacity: z.number().int().min(1).max(10).optional(),
  instanceType: checked((v) =>
    EC2_ARM_INSTANCE_TYPES.has(v)
      ? undefined
      : `"${v}" is not a Graviton (arm64) EC2 instance type the tier's AL2023 arm64 AMI runs on (e.g. t4g.small, m7g.medium; table in stacks/config/rules.ts)`,
  ).default("t4g.small"),
  /** Other networks (e.g. other accounts' VPCs over the Transit Gateway) whose Lambdas may use the proxy. */
  extraClientCidrs: z.array(z.string()).default([]),
  /** The tier's Squid log group; default the stack's `logRetentionInDays`. */
  logRetentionInDays: retention.optional(),
  /** TCP_DENIED lines per 5 minutes (fleet total) that raise the deny alarm. Default 50. */
  deniedRequestsAlarmThreshold: z.number().int().min(1).optional(),
  /** SNS topics both alarms notify (alarm and OK). */
  alarmActions: unique(
    z.string().regex(SNS_TOPIC_ARN_RE, "not an SNS topic ARN, e.g. arn:aws:sns:ap-northeast-1:111111111111:alerts"),
    "each topic is notified once",
  )
    .max(5)
    .default([]),
  /** Placement "public" only: existing EIP allocations, exactly one per instance the group may run (scaling.max). */
  eipAllocationIds: unique(
    z
      .string()
      .regex(
        /^eipalloc-[0-9a-f]{8,17}$/,
        "not an EIP allocation id (eipalloc- and 8 or 17 hex digits, as `aws ec2 describe-addresses` lists them)",
      ),
    "an address can serve one instance",
  ).optional(),
});

const saasExport = z.strictObject({
  enabled: z.boolean().default(true),
  /** https URL of the first page. */
  url: z.string().regex(/^https:\/\/[^\s/]+(\/\S*)?$/, "must be an https URL"),
  /** none | link | cursor:<path>:<param> | page:<param>. */
  pagination: checked((v) => {
    const r = parsePagination(v);
    return "problem" in r ? `pagination ${r.problem}` : undefined;
  }).default("none"),
  /** Where each page holds its array of records, e.g. data.items ($ = the body). */
  recordsPath: checked((v) => {
    const r = parseJsonPath(v);
    return typeof r === "string" ? `not a records path the handler reads: ${r}` : undefined;
  }).default("$"),
  schedule: z.string().default("cron(0 18 * * ? *)"),
  /** Key prefix in the export bucket; ends in "/". */
  prefix: z
    .string()
    .regex(/^([a-z0-9][a-z0-9._-]*\/)+$/, "lower-case path segments ending in /, e.g. raw/saas/")
    .default("raw/saas/"),
  /** Athena columns of each record (Glue types), e.g. [{name: id, type: string}]. */
  columns: z
    .array(
      z.strictObject({
        name: z
          .string()
          .regex(/^[a-z_][a-z0-9_]{0,254}$/, "lower-case identifier")
          .refine((n) => n !== "dt", "dt is the table's partition column (the day); name the column differently"),
        type: checked(hiveTypeProblem),
      }),
    )
    .min(1)
    .superRefine((cols, ctx) => {
      cols.forEach((c, i) => {
        if (cols.findIndex((x) => x.name === c.name) !== i)
          ctx.addIssue({
            code: "custom",
            path: [i, "name"],
            message: `column "${c.name}" is listed twice; Glue refuses duplicate column names`,
          });
      });
    }),
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
  tables: z.array(
    z.strictObject({
      name: z.string(),
      url: z.string(),
      pagination: z.string().optional(),
      recordsPath: z.string().optional(),
      splits: z.number().optional(),
      columns: z.array(
        z.strictObject({
          name: z.string(),
          type: z.string(),
          path: z.string().optional(),
          filter: z
            .strictObject({ equals: z.string().optional(), min: z.string().optional(), max: z.string().optional() })
            .optional(),
        }),
      ),
    }),
  ),
  /** Key prefix of spilled result blocks in the catalog's bucket. Default athena-spill/. */
  spillPrefix: z.string().optional(),
  memoryMb: z.number().int().min(128).max(10240).default(1024),
  timeoutSeconds: z.number().int().min(10).max(900).default(900),
});

/**
 * Transit Gateway segmentation (docs/transit-gateway.md "Segmentation"): its own block, spread into
 * transitGateway below. Attachment names are the attached VPCs': egress (account A) and data (account B).
 */
const tgwSegmentation = {
  /** Several TGW route tables; when given, the TGW's default route tables are off. Default none. */
  routeTables: z
    .array(
      z.strictObject({
        name: z.string(),
        /** Attachments whose traffic this table routes (each attachment in exactly one table). */
        associate: z.array(z.string()).default([]),
        /** Attachments whose VPC CIDRs are propagated into this table. */
        propagate: z.array(z.string()).default([]),
        /** Static routes: { cidr, attachment } or { cidr, blackhole: true }. */
        routes: z
          .array(
            z.strictObject({ cidr: z.string(), attachment: z.string().optional(), blackhole: z.boolean().optional() }),
          )
          .default([]),
      }),
    )
    .default([]),
  /** Pairs of attachments that must not reach each other; refused when a table contradicts it, proven by the checker. */
  isolate: z.array(z.array(z.string())).default([]),
  /**
   * A Transit Gateway that already exists (e.g. shared from a network account through RAM): the kit
   * creates no TGW and no share, only attachments and routes. routeTableIds: per attachment, the TGW
   * route table to associate it with and propagate it to (only when account A owns that TGW). Default none.
   */
  existing: z
    .strictObject({
      id: z.string(),
      /**
       * The account that owns it (getTransitGateway's ownerId), when not account A: a network account. The kit
       * then creates nothing in it (no association, propagation or acceptance) and lists those in tgwOwnerActions.
       */
      ownerId: z.string().optional(),
      routeTableIds: z.record(z.string(), z.string()).default({}),
      /** The RAM share to accept in account B when acceptShare is true. */
      shareArn: z.string().optional(),
    })
    .optional(),
  /** Attachments that already exist, adopted by id instead of created: { egress?: tgw-attach-…, data?: tgw-attach-… }. */
  existingAttachments: z.record(z.string(), z.string()).default({}),
  /**
   * Dedicated attachment subnets per attachment: { egress?: [cidr per zone], data?: [...] }, each a small
   * (/28) subnet the kit creates with a route table of its own; the attachment uses them instead of the
   * workload subnets. Default none (the attachment uses the private subnets).
   */
  attachmentSubnetCidrs: z.record(z.string(), z.array(z.string()).min(1).max(6)).default({}),
  /** Per attachment: { applianceMode (default false), dnsSupport (default true) }. */
  attachmentOptions: z
    .record(z.string(), z.strictObject({ applianceMode: z.boolean().optional(), dnsSupport: z.boolean().optional() }))
    .default({}),
};

/** docs/designs.md §3: account A's Transit Gateway shared with account B through RAM (docs/transit-gateway.md). */
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
  /** A private ASN: 64512-65534 or 4200000000-4294967294 (EC2 CreateTransitGateway). */
  amazonSideAsn: z
    .number()
    .int()
    .refine(
      (n) => (n >= 64512 && n <= 65534) || (n >= 4200000000 && n <= 4294967294),
      "the Amazon-side ASN must be private: 64512-65534 or 4200000000-4294967294",
    )
    .optional(),
  /** Flow logs of the Transit Gateway this stack creates (docs/flow-logs.md). Default off. */
  flowLogs: withBucketOnlyForS3(z.strictObject(flowLogsFields)).default({
    enabled: false,
    destination: "cloudwatch",
    retentionInDays: 30,
  }),
  ...tgwSegmentation,
});

export const schema = z.strictObject({
  environment: z.enum(["dev", "stg", "prod"]),
  roles: z
    .array(z.enum(ROLES))
    .min(1)
    .default([...ROLES]),
  accounts: z.strictObject({ a: account.default({}), b: account.default({}) }).default({ a: {}, b: {} }),
  upstream: z.strictObject({ network: z.string().min(1).optional(), data: z.string().min(1).optional() }).default({}),
  network: networkConfig.default(networkConfig.parse({})),
  data: dataConfig.default(dataConfig.parse({})),
  kintoneSync: kintoneSync.optional(),
  proxyTier: proxyTier.optional(),
  saasExport: saasExport.optional(),
  transitGateway: transitGateway.default(transitGateway.parse({})),
  dbWriter: dbWriter.optional(),
  privateApi: privateApi.optional(),
  appflowConnector: appflowConnector.optional(),
  athenaConnector: athenaConnector.optional(),
  logRetentionInDays: retention.default(30),
  /** Offline only: the existing network's inventory file (JSON) that synth and check answer lookups from. */
  inventory: z.string().min(1).optional(),
  /** Traffic and usage volumes for the offline cost estimate (ops/check/cost.ts CostAssumptions); unset fields take its defaults. */
  costAssumptions: z
    .strictObject({
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
      flowLogArchiveRetentionDays: z.number().int().min(1).optional(),
      proxyLogGbPerInstance: z.number().min(0).optional(),
      auroraAverageAcu: z.number().min(0).max(256).optional(),
      auroraStorageGb: z.number().min(0).optional(),
      auroraIoMillions: z.number().min(0).optional(),
      apiRequestsMillions: z.number().min(0).optional(),
      athenaQueriesPerMonth: z.number().int().min(0).optional(),
      athenaMbScannedPerQuery: z.number().min(0).optional(),
      athenaConnectorSecondsPerQuery: z.number().min(0).optional(),
    })
    .optional(),
  tags: z
    .record(
      z
        .string()
        .min(1)
        .max(128)
        .regex(TAG_RE, "a tag key is letters, digits, spaces and _.:/=+-@")
        .refine((k) => !k.toLowerCase().startsWith("aws:"), "the aws: prefix is reserved for AWS"),
      z.string().max(256).regex(TAG_RE, "a tag value is letters, digits, spaces and _.:/=+-@"),
    )
    .default({}),
  /** Accept secret keys as plain text (local experiments only; never in prod). Default false: secrets must be `secure:`. */
  allowPlainSecrets: z.boolean().default(false),
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

/** Planners collect each other's config errors with this (it lives with the error types). */
export { collectConfigErrors };

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
export function parseConfig(all: Record<string, string>, secretKeys: ReadonlySet<string> = new Set()): ParsedConfig {
  const errors: ConfigError[] = [];
  const raw: Record<string, unknown> = {};
  const plainSecrets: [string, string][] = [];
  let region: string | undefined;
  for (const [fullKey, value] of Object.entries(all)) {
    const [ns, key] = splitKey(fullKey);
    if (ns === "aws") {
      if (key === "region") region = value;
      continue;
    }
    if (ns !== PROJECT) continue; // other providers' namespaces are theirs to validate
    if ((SECRET_KEYS as readonly string[]).includes(key)) {
      if (!secretKeys.has(fullKey)) plainSecrets.push([key, value]);
      continue;
    }
    raw[key] = parseValue(value);
  }
  if (!region) errors.push(new ConfigError("aws:region", "not set", "pulumi config set aws:region ap-northeast-1"));
  else {
    const p = regionProblem(region);
    if (p) errors.push(new ConfigError("aws:region", p, "pulumi config set aws:region <region>, e.g. ap-northeast-1"));
  }
  // A secret in plain text sits in the stack file, hence in git. Plain values are for local experiments
  // only, with allowPlainSecrets: true (never prod), and are shape-checked now.
  const allowPlain = parseValue(all[`${PROJECT}:allowPlainSecrets`] ?? "false") === true;
  const env = all[`${PROJECT}:environment`];
  if (allowPlain && env === "prod")
    errors.push(
      new ConfigError(
        `${PROJECT}:allowPlainSecrets`,
        "plain-text secrets are refused in prod",
        "remove allowPlainSecrets and set each secret with pulumi config set --secret",
      ),
    );
  for (const [key, value] of plainSecrets) {
    if (!allowPlain) {
      errors.push(
        new ConfigError(
          `${PROJECT}:${key}`,
          "is a secret given as plain text, so it would be committed with the stack file",
          `pulumi config set --secret ${PROJECT}:${key} <value> (or, for a local experiment only, set ${PROJECT}:allowPlainSecrets true)`,
        ),
      );
      continue;
    }
    const p = secretShapeProblem(key, value);
    if (p) errors.push(new ConfigError(`${PROJECT}:${key}`, p, secretFix(key)));
  }

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
        for (const k of issue.keys)
          errors.push(new ConfigError(fullName([...path, k]), "unknown key", FIX_BY_CODE.unrecognized_keys));
        continue;
      }
      const fix =
        path.length === 1 && raw[key] === undefined
          ? `set it: pulumi config set ${fullName(path)} <value>`
          : (FIX_BY_CODE[issue.code] ?? "see the README's config reference");
      errors.push(new ConfigError(fullName(path), issue.message, fix));
    }
  }
  const cfg = parsedKeys as EnvConfigInput;
  const secretsPresent = Object.fromEntries(
    SECRET_KEYS.map((k) => [k, `${PROJECT}:${k}` in all]),
  ) as EnvConfig["secretsPresent"];

  if (failed.has("roles") || failed.has("upstream")) {
    throwIfAny(errors);
  }
  if (cfg.roles.includes("apps") && !cfg.roles.includes("network") && !cfg.upstream.network) {
    errors.push(
      new ConfigError(
        `${PROJECT}:upstream.network`,
        "the apps role runs without the network role in this stack, so it needs the network stack's outputs",
        "set upstream.network to the network stack's name, e.g. dev-network",
      ),
    );
  }
  for (const r of ["network", "data"] as const) {
    if (cfg.roles.includes(r) && cfg.upstream[r]) {
      errors.push(
        new ConfigError(
          `${PROJECT}:upstream.${r}`,
          `this stack runs the ${r} role itself`,
          `remove upstream.${r}, or remove "${r}" from roles`,
        ),
      );
    }
  }
  return { cfg, region, failed, secretsPresent, errors };
}

/** How to give a secret of the right shape. */
export function secretFix(key: string): string {
  switch (key) {
    case "proxyHeaderValue":
      return `pulumi config set --secret ${PROJECT}:proxyHeaderValue "$(openssl rand -hex 24)"`;
    case "kintoneApiToken":
      return `pulumi config set --secret ${PROJECT}:kintoneApiToken <token from the app's Settings > API Token>`;
    default:
      return `pulumi config set --secret ${PROJECT}:${key} <value without control characters>`;
  }
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
    try {
      return JSON.parse(t);
    } catch {
      return value;
    }
  }
  return value;
}

/** The VPC's IPAM pool, when config takes its range from one (docs/landing-zone.md). */
export function ipamOf(
  v: { ipv4IpamPoolId?: string; ipv4NetmaskLength?: number },
  role: "network" | "data",
): VpcIpam | undefined {
  return v.ipv4IpamPoolId && v.ipv4NetmaskLength
    ? { poolId: v.ipv4IpamPoolId, netmaskLength: v.ipv4NetmaskLength, at: configKey(role) }
    : undefined;
}
