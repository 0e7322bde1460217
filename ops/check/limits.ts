/**
 * AWS limits on names and values, for every resource type the kit creates. Mocks accept anything;
 * AWS refuses a Lambda timeout of 901 or a 33-character load balancer name at deploy time, after
 * other resources already exist. Each rule cites its source: the CloudFormation resource provider
 * schema of the resource (github.com/aws-cloudformation/aws-cloudformation-resource-providers-*,
 * also the "CloudFormation resource type schemas" download) or the service's API reference/quotas page.
 *
 * Works on a minimal resource shape ({urn, type, name, inputs}). A physical name Pulumi generates
 * (no `name` input) is checked as `<logical name>-<7 characters>` (Pulumi auto-naming).
 */

export interface LimitResource {
  urn: string;
  type: string;
  name: string;
  inputs: Record<string, unknown>;
  /** Explicit provider URN; used with `defaultTags` to count tags the provider adds. */
  provider?: string | null;
}

export interface LimitFinding {
  urn: string;
  resource: string;
  type: string;
  /** Input property path, e.g. "timeout" or "environment.variables". */
  property: string;
  value: unknown;
  problem: string;
  fix: string;
  source: string;
  /** "error": AWS refuses the value (documented). "warning": the source's pattern is ambiguous (e.g. unanchored); AWS may refuse it. */
  severity: "error" | "warning";
  /** The stack config key that sets this property, when the caller's hook knows it. */
  configKey?: string;
}

export interface LimitOptions {
  /** Maps a resource property back to the config key that sets it (for messages that name the key to change). */
  configKeyFor?: (resource: LimitResource, property: string) => string | undefined;
  /** Tags a provider adds to every resource (provider URN -> tags), counted against the tag limits. */
  defaultTags?: (provider: string | null | undefined) => Record<string, string>;
}

type Check = (value: unknown, r: LimitResource) => string | undefined;

interface Rule {
  type: string;
  /** Dotted input path; "$name" is the physical name (input `name`, else the Pulumi auto-name). */
  property: string;
  check: Check;
  fix: string;
  source: string;
  severity?: "warning";
}

// ---------- small checks ----------

const isNum = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);

function range(min: number, max: number, integer = true): Check {
  return (v) => {
    if (v === undefined || v === null) return undefined;
    const n = typeof v === "string" && /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : v;
    if (!isNum(n)) return `is ${JSON.stringify(v)}, not a number`;
    if (integer && !Number.isInteger(n)) return `${n} is not a whole number`;
    if (n < min || n > max) return `${n} is outside ${min}–${max}`;
    return undefined;
  };
}

function oneOf(values: readonly (number | string)[]): Check {
  return (v) =>
    v === undefined || v === null || values.includes(v as never)
      ? undefined
      : `${JSON.stringify(v)} is not one of ${values.join(", ")}`;
}

function text(max: number, re?: RegExp, what?: string, min = 1): Check {
  return (v) => {
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "string") return undefined; // not known offline (or not a string): the schema check is AWS's
    if (v === "[secret]") return undefined;
    if (v.length > max) return `"${v}" has ${v.length} characters; the limit is ${max}`;
    if (v.length < min) return `"${v}" has ${v.length} characters; at least ${min} are needed`;
    if (re && !re.test(v)) return `"${v}" ${what ?? `does not match ${re}`}`;
    return undefined;
  };
}

/** A string of at most `max` characters that may be empty (descriptions). */
const optionalText = (max: number): Check => text(max, undefined, undefined, 0);

/**
 * A policy document's size against its quota, measured as AWS measures it: bytes, characters, or characters
 * without whitespace (IAM). `quota` ends the message ("the limit is 20 KB").
 */
function policySize(what: string, max: number, measure: "bytes" | "characters" | "non-blank", quota: string): Check {
  return (v) => {
    if (typeof v !== "string") return undefined;
    const n =
      measure === "bytes" ? Buffer.byteLength(v) : measure === "non-blank" ? v.replace(/\s/g, "").length : v.length;
    if (n <= max) return undefined;
    const size =
      measure === "bytes"
        ? `is ${n} bytes`
        : `has ${n} characters${measure === "non-blank" ? " (without whitespace)" : ""}`;
    return `${what} ${size}; ${quota}`;
  };
}

// ---------- rules ----------

const LOG_RETENTION = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;
/** Reserved Lambda environment variable names. Source: Lambda Developer Guide, "Defined runtime environment variables". */
const LAMBDA_RESERVED_ENV = new Set([
  "_HANDLER",
  "_X_AMZN_TRACE_ID",
  "AWS_DEFAULT_REGION",
  "AWS_REGION",
  "AWS_EXECUTION_ENV",
  "AWS_LAMBDA_FUNCTION_NAME",
  "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
  "AWS_LAMBDA_FUNCTION_VERSION",
  "AWS_LAMBDA_INITIALIZATION_TYPE",
  "AWS_LAMBDA_LOG_GROUP_NAME",
  "AWS_LAMBDA_LOG_STREAM_NAME",
  "AWS_ACCESS_KEY",
  "AWS_ACCESS_KEY_ID",
  "AWS_SECRET_ACCESS_KEY",
  "AWS_SESSION_TOKEN",
  "AWS_LAMBDA_RUNTIME_API",
  "LAMBDA_TASK_ROOT",
  "LAMBDA_RUNTIME_DIR",
]);
const SG_CHARS = /^[a-zA-Z0-9 ._\-:/()#,@[\]+=&;{}!$*]*$/;
/** Rule descriptions that reference a group or prefix list do not allow '&' (EC2 API Reference, UserIdGroupPair / PrefixListId). */
const SG_RULE_CHARS = /^[a-zA-Z0-9 ._\-:/()#,@[\]+=;{}!$*]*$/;
const RDS_ID = text(
  63,
  /^[a-zA-Z](?!.*--)[a-zA-Z0-9-]*(?<!-)$/,
  "must start with a letter, hold only letters, digits and hyphens, and not end with a hyphen or hold two in a row",
);
/** IAM names (RoleName, PolicyName, InstanceProfileName): [\w+=,.@-]+ up to `max`. */
const iamName = (max: number) => text(max, /^[\w+=,.@-]+$/, "may hold only letters, digits and +=,.@_-");
/** Load balancer and target group names: alphanumerics and inner hyphens, up to 32. */
const ELB_NAME = text(
  32,
  /^[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?$/,
  "may hold only letters, digits and inner hyphens",
);
/** AppFlow flow names and connector labels: [a-zA-Z0-9][\w!@#.-]+ up to 256. */
const APPFLOW_ID = text(256, /^[a-zA-Z0-9][\w!@#.-]+$/, "may hold only letters, digits and _!@#.-");
/** Glue database and table names Athena can query: lower-case letters, digits and _, up to 255. */
const ATHENA_NAME = text(
  255,
  /^[a-z0-9_]+$/,
  "should hold only lower-case letters, digits and _ (Athena cannot query other names)",
);
const LAMBDA_SRC = "Lambda API Reference, CreateFunction / CloudFormation schema AWS::Lambda::Function";

const RULES: Rule[] = [
  // Lambda
  {
    type: "aws:lambda/function:Function",
    property: "timeout",
    check: range(1, 900),
    fix: "use 1–900 seconds (15 minutes is Lambda's maximum)",
    source: `${LAMBDA_SRC} (Timeout: minimum 1, maximum 900)`,
  },
  {
    type: "aws:lambda/function:Function",
    property: "memorySize",
    check: range(128, 10240),
    fix: "use 128–10240 MB",
    source: `${LAMBDA_SRC} (MemorySize: minimum 128, maximum 10240)`,
  },
  {
    type: "aws:lambda/function:Function",
    property: "ephemeralStorage.size",
    check: range(512, 10240),
    fix: "use 512–10240 MB",
    source: `${LAMBDA_SRC} (EphemeralStorage.Size 512–10240)`,
  },
  {
    type: "aws:lambda/function:Function",
    property: "description",
    check: optionalText(256),
    fix: "shorten the description to 256 characters",
    source: `${LAMBDA_SRC} (Description: maxLength 256)`,
  },
  {
    type: "aws:lambda/function:Function",
    property: "$name",
    check: text(64, /^[a-zA-Z0-9-_]+$/, "may hold only letters, digits, - and _"),
    fix: "shorten the function's name to 64 characters",
    source: `${LAMBDA_SRC} (FunctionName: 1–64 of [a-zA-Z0-9-_] for a plain name)`,
  },
  {
    type: "aws:lambda/function:Function",
    property: "environment.variables",
    check: (v) => {
      if (!v || typeof v !== "object") return undefined;
      const vars = v as Record<string, unknown>;
      const bad = Object.keys(vars).filter((k) => !/^[a-zA-Z]([a-zA-Z0-9_])+$/.test(k));
      if (bad.length > 0) return `variable name(s) ${bad.join(", ")} are not [a-zA-Z][a-zA-Z0-9_]+`;
      const reserved = Object.keys(vars).filter((k) => LAMBDA_RESERVED_ENV.has(k));
      if (reserved.length > 0) return `variable name(s) ${reserved.join(", ")} are reserved by Lambda`;
      // The quota counts the variables' JSON; a secret placeholder stands for a value of unknown size.
      const bytes = Buffer.byteLength(JSON.stringify(vars), "utf8");
      if (bytes > 4096) return `the variables take ${bytes} bytes; the limit is 4096 (4 KB) in total`;
      return undefined;
    },
    fix: "move large values (JSON options, lists) to SSM/S3 or shorten them; keep names [a-zA-Z][a-zA-Z0-9_]+ and off Lambda's reserved list",
    source:
      "Lambda Developer Guide, Lambda quotas (environment variables: 4 KB total) and Environment variables (name pattern, reserved keys)",
  },
  {
    type: "aws:lambda/permission:Permission",
    property: "statementId",
    check: text(100, /^[a-zA-Z0-9-_]+$/, "may hold only letters, digits, - and _"),
    fix: "shorten the statement id",
    source: "Lambda API Reference, AddPermission (StatementId: 1–100 of [a-zA-Z0-9-_])",
  },
  // CloudWatch Logs
  {
    type: "aws:cloudwatch/logGroup:LogGroup",
    property: "retentionInDays",
    check: oneOf(LOG_RETENTION),
    fix: `use one of ${LOG_RETENTION.join(", ")}`,
    source:
      "CloudWatch Logs API Reference, PutRetentionPolicy (retentionInDays allowed values) / CloudFormation schema AWS::Logs::LogGroup",
  },
  {
    type: "aws:cloudwatch/logGroup:LogGroup",
    property: "$name",
    check: text(512, /^[.\-_/#A-Za-z0-9$]+$/, "may hold only letters, digits and . - _ / #"),
    fix: "shorten or simplify the log group name",
    source: "CloudWatch Logs API Reference, CreateLogGroup (logGroupName: 1–512 of [\\.\\-_/#A-Za-z0-9]+)",
  },
  // IAM
  {
    type: "aws:iam/role:Role",
    property: "$name",
    check: iamName(64),
    fix: "shorten the role name to 64 characters (auto-named roles add 8)",
    source: "IAM API Reference, CreateRole (RoleName: 1–64 of [\\w+=,.@-]+)",
  },
  {
    type: "aws:iam/role:Role",
    property: "description",
    check: text(
      1000,
      /^[\u0009\u000A\u000D\u0020-\u007E\u00A1-\u00FF]*$/,
      "has characters IAM refuses in a description",
      0,
    ),
    fix: "use printable Latin-1 characters, at most 1000",
    source: "IAM API Reference, CreateRole (Description: maxLength 1000, Latin-1 printable)",
  },
  {
    type: "aws:iam/role:Role",
    property: "maxSessionDuration",
    check: range(3600, 43200),
    fix: "use 3600–43200 seconds",
    source: "IAM API Reference, CreateRole (MaxSessionDuration 3600–43200)",
  },
  {
    type: "aws:iam/role:Role",
    property: "assumeRolePolicy",
    check: policySize("the trust policy", 2048, "non-blank", "the default quota is 2048"),
    fix: "shorten the trust policy or raise the role trust policy length quota (up to 4096)",
    source: "IAM User Guide, IAM and AWS STS quotas (role trust policy length 2048 characters)",
  },
  {
    type: "aws:iam/rolePolicy:RolePolicy",
    property: "policy",
    check: policySize("the inline policy", 10240, "non-blank", "a role's inline policies share 10240"),
    fix: "split into a managed policy or narrow it",
    source: "IAM User Guide, IAM and AWS STS quotas (role inline policies: 10,240 characters in total)",
  },
  {
    type: "aws:iam/rolePolicy:RolePolicy",
    property: "$name",
    check: iamName(128),
    fix: "shorten the policy name",
    source: "IAM API Reference, PutRolePolicy (PolicyName: 1–128 of [\\w+=,.@-]+)",
  },
  {
    type: "aws:iam/instanceProfile:InstanceProfile",
    property: "$name",
    check: iamName(128),
    fix: "shorten the instance profile name",
    source: "IAM API Reference, CreateInstanceProfile (InstanceProfileName: 1–128)",
  },
  // EC2 / VPC
  {
    type: "aws:ec2/securityGroup:SecurityGroup",
    property: "description",
    check: text(
      255,
      SG_CHARS,
      "has characters EC2 refuses in a VPC security group description (allowed: a-z A-Z 0-9 space ._-:/()#,@[]+=&;{}!$*)",
      0,
    ),
    fix: "rewrite the description with the allowed characters (no non-ASCII, no quotes or '>')",
    source: "EC2 API Reference, CreateSecurityGroup (GroupDescription: up to 255, VPC charset)",
  },
  {
    type: "aws:ec2/securityGroup:SecurityGroup",
    property: "$name",
    check: text(255, SG_CHARS, "has characters EC2 refuses in a VPC security group name"),
    fix: "shorten or simplify the name; it must not start with sg-",
    source: "EC2 API Reference, CreateSecurityGroup (GroupName: up to 255, VPC charset)",
  },
  ...[
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
  ].map((type) => ({
    type,
    property: "description",
    check: text(
      255,
      SG_RULE_CHARS,
      "has characters EC2 refuses in a rule description (allowed: a-z A-Z 0-9 space ._-:/()#,@[]+=;{}!$*; no apostrophe)",
      0,
    ),
    fix: "rewrite the description with the allowed characters",
    source:
      "EC2 API Reference, UserIdGroupPair / PrefixListId / IpRange Description (up to 255; a-z, A-Z, 0-9, spaces, ._-:/()#,@[]+=;{}!$*)",
  })),
  {
    type: "aws:ec2/flowLog:FlowLog",
    property: "maxAggregationInterval",
    check: oneOf([60, 600]),
    fix: "use 60 or 600 seconds",
    source: "EC2 API Reference, CreateFlowLogs (MaxAggregationInterval: 60 or 600)",
  },
  {
    type: "aws:ec2/launchTemplate:LaunchTemplate",
    property: "$name",
    check: text(128, /^[a-zA-Z0-9().\-/_]+$/, "may hold only letters, digits and ().-/_", 3),
    fix: "use 3–128 allowed characters",
    source: "EC2 API Reference, CreateLaunchTemplate (LaunchTemplateName: 3–128 of [a-zA-Z0-9\\(\\)\\.\\-/_]+)",
  },
  {
    type: "aws:ec2/launchTemplate:LaunchTemplate",
    property: "description",
    check: optionalText(255),
    fix: "shorten to 255 characters",
    source: "EC2 API Reference, CreateLaunchTemplate (VersionDescription: up to 255)",
  },
  // Load balancing / Auto Scaling
  {
    type: "aws:elb/loadBalancer:LoadBalancer",
    property: "$name",
    check: ELB_NAME,
    fix: "shorten the load balancer's name to 32 characters (auto-names add 8)",
    source:
      "Elastic Load Balancing API Reference (2012-06-01), CreateLoadBalancer (LoadBalancerName: up to 32, alphanumerics and hyphens)",
  },
  {
    type: "aws:elb/loadBalancer:LoadBalancer",
    property: "connectionDrainingTimeout",
    check: range(1, 3600),
    fix: "use 1–3600 seconds",
    source: "Elastic Load Balancing API Reference (2012-06-01), ConnectionDraining (Timeout 1–3600)",
  },
  {
    type: "aws:elb/loadBalancer:LoadBalancer",
    property: "healthCheck.interval",
    check: range(5, 300),
    fix: "use 5–300 seconds",
    source: "Elastic Load Balancing API Reference (2012-06-01), HealthCheck (Interval 5–300)",
  },
  {
    type: "aws:elb/loadBalancer:LoadBalancer",
    property: "healthCheck.timeout",
    check: range(2, 60),
    fix: "use 2–60 seconds, less than the interval",
    source: "Elastic Load Balancing API Reference (2012-06-01), HealthCheck (Timeout 2–60)",
  },
  {
    type: "aws:elb/loadBalancer:LoadBalancer",
    property: "healthCheck.healthyThreshold",
    check: range(2, 10),
    fix: "use 2–10",
    source: "Elastic Load Balancing API Reference (2012-06-01), HealthCheck (HealthyThreshold 2–10)",
  },
  {
    type: "aws:elb/loadBalancer:LoadBalancer",
    property: "healthCheck.unhealthyThreshold",
    check: range(2, 10),
    fix: "use 2–10",
    source: "Elastic Load Balancing API Reference (2012-06-01), HealthCheck (UnhealthyThreshold 2–10)",
  },
  {
    type: "aws:lb/targetGroup:TargetGroup",
    property: "$name",
    check: ELB_NAME,
    fix: "shorten the target group name to 32 characters",
    source: "Elastic Load Balancing v2 API Reference, CreateTargetGroup (Name: up to 32)",
  },
  {
    type: "aws:lb/loadBalancer:LoadBalancer",
    property: "$name",
    check: ELB_NAME,
    fix: "shorten the load balancer name to 32 characters",
    source: "Elastic Load Balancing v2 API Reference, CreateLoadBalancer (Name: up to 32)",
  },
  {
    type: "aws:autoscaling/group:Group",
    property: "desiredCapacity",
    check: (v, r) => {
      const min = r.inputs.minSize;
      const max = r.inputs.maxSize;
      if (isNum(min) && isNum(max) && min > max) return `minSize ${min} is above maxSize ${max}`;
      if (isNum(v) && isNum(min) && isNum(max) && (v < min || v > max))
        return `${v} is outside minSize ${min} – maxSize ${max}`;
      return undefined;
    },
    fix: "keep minSize <= desiredCapacity <= maxSize",
    source:
      "Amazon EC2 Auto Scaling API Reference, CreateAutoScalingGroup (DesiredCapacity between MinSize and MaxSize)",
  },
  {
    type: "aws:autoscaling/group:Group",
    property: "$name",
    check: text(255),
    fix: "shorten the group name",
    source: "Amazon EC2 Auto Scaling API Reference, CreateAutoScalingGroup (AutoScalingGroupName: 1–255)",
  },
  // RDS
  {
    type: "aws:rds/cluster:Cluster",
    property: "clusterIdentifier",
    check: RDS_ID,
    fix: "use 1–63 letters, digits, single hyphens, starting with a letter",
    source:
      "RDS API Reference, CreateDBCluster (DBClusterIdentifier: 1–63, letter first, no trailing or double hyphen)",
  },
  {
    type: "aws:rds/cluster:Cluster",
    property: "databaseName",
    check: text(63, /^[a-zA-Z][a-zA-Z0-9_]*$/, "must start with a letter and hold only letters, digits and _"),
    fix: "use a PostgreSQL identifier of up to 63 characters",
    source:
      "RDS API Reference, CreateDBCluster (DatabaseName, Aurora PostgreSQL: up to 63 alphanumerics, letter first)",
  },
  {
    type: "aws:rds/cluster:Cluster",
    property: "masterUsername",
    check: text(63, /^[a-zA-Z][a-zA-Z0-9_]*$/, "must start with a letter and hold only letters, digits and _"),
    fix: "use 1–63 letters, digits and _ starting with a letter",
    source: "RDS API Reference, CreateDBCluster (MasterUsername, Aurora PostgreSQL: 1–63, letter first)",
  },
  {
    type: "aws:rds/cluster:Cluster",
    property: "backupRetentionPeriod",
    check: range(1, 35),
    fix: "use 1–35 days",
    source: "RDS API Reference, CreateDBCluster (BackupRetentionPeriod 1–35)",
  },
  {
    type: "aws:rds/cluster:Cluster",
    property: "port",
    check: range(1150, 65535),
    fix: "use a port in 1150–65535",
    source: "RDS API Reference, CreateDBCluster (Port: Aurora 1150–65535)",
  },
  {
    type: "aws:rds/cluster:Cluster",
    property: "serverlessv2ScalingConfiguration",
    check: (v) => {
      if (!v || typeof v !== "object") return undefined;
      const { minCapacity: min, maxCapacity: max } = v as { minCapacity?: unknown; maxCapacity?: unknown };
      const halves = (n: unknown) => isNum(n) && Number.isInteger(n * 2);
      if (isNum(min) && (min < 0 || min > 256 || !halves(min)))
        return `minCapacity ${min} is not 0–256 in steps of 0.5`;
      if (isNum(max) && (max < 1 || max > 256 || !halves(max)))
        return `maxCapacity ${max} is not 1–256 in steps of 0.5`;
      if (isNum(min) && isNum(max) && min > max) return `minCapacity ${min} is above maxCapacity ${max}`;
      return undefined;
    },
    fix: "use ACU values in steps of 0.5 with min <= max",
    source: "RDS API Reference, ServerlessV2ScalingConfiguration (MinCapacity 0–256, MaxCapacity 1–256, 0.5 steps)",
  },
  {
    type: "aws:rds/clusterInstance:ClusterInstance",
    property: "identifier",
    check: RDS_ID,
    fix: "use 1–63 letters, digits, single hyphens, starting with a letter",
    source: "RDS API Reference, CreateDBInstance (DBInstanceIdentifier: 1–63)",
  },
  {
    type: "aws:rds/clusterInstance:ClusterInstance",
    property: "promotionTier",
    check: range(0, 15),
    fix: "use 0–15",
    source: "RDS API Reference, CreateDBInstance (PromotionTier 0–15)",
  },
  {
    type: "aws:rds/clusterParameterGroup:ClusterParameterGroup",
    property: "$name",
    check: text(
      255,
      /^[a-zA-Z](?!.*--)[a-zA-Z0-9-]*(?<!-)$/,
      "must start with a letter, hold only letters, digits and single hyphens",
    ),
    fix: "use letters, digits and single hyphens",
    source: "RDS API Reference, CreateDBClusterParameterGroup (DBClusterParameterGroupName: 1–255, letter first)",
  },
  {
    type: "aws:rds/subnetGroup:SubnetGroup",
    property: "$name",
    check: text(
      255,
      /^[a-z0-9 ._-]+$/,
      "may hold only lower-case letters, digits, spaces, periods, underscores and hyphens",
    ),
    fix: "use lower-case letters, digits, spaces, . _ -",
    source: "RDS API Reference, CreateDBSubnetGroup (DBSubnetGroupName: up to 255, lower-case)",
  },
  // Secrets Manager / KMS
  {
    type: "aws:secretsmanager/secret:Secret",
    property: "$name",
    check: text(512, /^[a-zA-Z0-9/_+=.@-]+$/, "may hold only letters, digits and /_+=.@-"),
    fix: "use up to 512 allowed characters",
    source: "Secrets Manager API Reference, CreateSecret (Name: 1–512 of /_+=.@- and alphanumerics)",
  },
  {
    type: "aws:secretsmanager/secret:Secret",
    property: "description",
    check: optionalText(2048),
    fix: "shorten to 2048 characters",
    source: "Secrets Manager API Reference, CreateSecret (Description: maxLength 2048)",
  },
  {
    type: "aws:secretsmanager/secret:Secret",
    property: "recoveryWindowInDays",
    check: (v) => (v === 0 ? undefined : range(7, 30)(v, {} as LimitResource)),
    fix: "use 7–30 days (0 deletes at once)",
    source: "Secrets Manager API Reference, DeleteSecret (RecoveryWindowInDays 7–30)",
  },
  {
    type: "aws:kms/key:Key",
    property: "deletionWindowInDays",
    check: range(7, 30),
    fix: "use 7–30 days",
    source: "KMS API Reference, ScheduleKeyDeletion (PendingWindowInDays 7–30)",
  },
  {
    type: "aws:kms/key:Key",
    property: "description",
    check: optionalText(8192),
    fix: "shorten to 8192 characters",
    source: "KMS API Reference, CreateKey (Description: 0–8192)",
  },
  {
    type: "aws:kms/key:Key",
    property: "policy",
    check: policySize("the key policy", 32768, "bytes", "the limit is 32 KB"),
    fix: "shorten the key policy",
    source: "KMS Developer Guide, quotas (key policy document size 32 KB)",
  },
  // S3
  {
    type: "aws:s3/bucket:Bucket",
    property: "bucket",
    check: text(
      63,
      /^(?!xn--)(?!.*\.\.)[a-z0-9][a-z0-9.-]*[a-z0-9]$/,
      "must be lower-case letters, digits, dots and hyphens, starting and ending with a letter or digit",
      3,
    ),
    fix: "use a 3–63 character DNS-style lower-case name",
    source: "S3 User Guide, General purpose bucket naming rules",
  },
  {
    type: "aws:s3/bucket:Bucket",
    property: "bucketPrefix",
    check: text(37, /^[a-z0-9][a-z0-9.-]*$/, "must be lower-case letters, digits, dots and hyphens"),
    fix: "use at most 37 characters (Pulumi appends 26)",
    source: "S3 User Guide, bucket naming rules; Pulumi aws.s3.Bucket bucketPrefix (max 37)",
  },
  {
    type: "aws:s3/bucketPolicy:BucketPolicy",
    property: "policy",
    check: policySize("the bucket policy", 20480, "bytes", "the limit is 20 KB"),
    fix: "shorten the bucket policy",
    source: "S3 User Guide, bucket policy size limit (20 KB)",
  },
  // EventBridge
  {
    type: "aws:cloudwatch/eventRule:EventRule",
    property: "scheduleExpression",
    check: text(
      256,
      /^(rate\(\s*\d+\s+(minute|minutes|hour|hours|day|days)\s*\)|cron\(\s*\S+(\s+\S+){5}\s*\))$/,
      "is not rate(N unit) or a six-field cron(...)",
    ),
    fix: "write rate(1 hour), rate(15 minutes) or cron(m h dom mon dow year)",
    source:
      "EventBridge User Guide, Schedule expressions for rules; Events API Reference, PutRule (ScheduleExpression maxLength 256)",
  },
  {
    type: "aws:cloudwatch/eventRule:EventRule",
    property: "$name",
    check: text(64, /^[.\-_A-Za-z0-9]+$/, "may hold only letters, digits and . - _"),
    fix: "shorten the rule name to 64 characters",
    source: "EventBridge API Reference, PutRule (Name: 1–64 of [\\.\\-_A-Za-z0-9]+)",
  },
  // API Gateway
  {
    type: "aws:apigateway/stage:Stage",
    property: "stageName",
    check: text(128, /^[a-zA-Z0-9_]+$/, "may hold only letters, digits and _"),
    fix: "use letters, digits and underscores",
    source: "API Gateway REST API Reference, CreateStage (stageName: [a-zA-Z0-9_]+, up to 128)",
  },
  {
    type: "aws:apigateway/restApiPolicy:RestApiPolicy",
    property: "policy",
    check: policySize("the resource policy", 8192, "characters", "the limit is 8192"),
    fix: "shorten the policy (fewer endpoints per statement)",
    source: "API Gateway Developer Guide, quotas (resource policy size 8 KB)",
  },
  {
    type: "aws:apigateway/resource:Resource",
    property: "pathPart",
    check: text(
      1024,
      /^(\{[a-zA-Z0-9._-]+\+?\}|[a-zA-Z0-9._:@&=+$,!~*'()-]+)$/,
      "is neither a literal path segment nor a {param} / {proxy+}",
    ),
    fix: "use one path segment or {name}",
    source: "API Gateway Developer Guide, Set up REST API resources (path part syntax)",
  },
  // AppFlow / Glue
  {
    type: "aws:appflow/flow:Flow",
    property: "$name",
    check: APPFLOW_ID,
    fix: "use up to 256 allowed characters",
    source: "AppFlow API Reference, CreateFlow (flowName: [a-zA-Z0-9][\\w!@#.-]+, up to 256)",
  },
  {
    type: "aws:appflow/flow:Flow",
    property: "description",
    check: text(
      2048,
      /^[\w!@#\-.?,\s]*$/,
      "has characters AppFlow refuses in a description (allowed: letters, digits, whitespace and _!@#-.?,)",
      0,
    ),
    fix: "rewrite the description with the allowed characters",
    source:
      "AppFlow API Reference, CreateFlow (description: pattern [\\w!@#\\-.?,\\s]*, up to 2048; the published pattern is unanchored, so whether AWS applies it to the whole value is unverified)",
    severity: "warning",
  },
  {
    type: "aws:appflow/connectorProfile:ConnectorProfile",
    property: "$name",
    check: text(256, /^[\w/!@#+=.-]+$/, "may hold only letters, digits and /!@#+=.-_"),
    fix: "use up to 256 allowed characters",
    source: "AppFlow API Reference, CreateConnectorProfile (connectorProfileName: [\\w/!@#+=.-]+, up to 256)",
  },
  {
    type: "aws:appflow/connectorProfile:ConnectorProfile",
    property: "connectorLabel",
    check: APPFLOW_ID,
    fix: "use up to 256 allowed characters",
    source: "AppFlow API Reference, CreateConnectorProfile (connectorLabel: [a-zA-Z0-9][\\w!@#.-]+)",
  },
  {
    type: "aws-native:appflow:Connector",
    property: "connectorLabel",
    check: APPFLOW_ID,
    fix: "use up to 256 allowed characters",
    source: "CloudFormation schema AWS::AppFlow::Connector (ConnectorLabel: [a-zA-Z0-9][\\w!@#.-]+, up to 256)",
  },
  {
    type: "aws:glue/catalogDatabase:CatalogDatabase",
    property: "$name",
    check: ATHENA_NAME,
    fix: "use lower-case letters, digits and underscores",
    source:
      "Glue API Reference, DatabaseInput (Name: 1–255); Athena User Guide, Names for databases, tables and columns",
  },
  {
    type: "aws:glue/catalogTable:CatalogTable",
    property: "$name",
    check: ATHENA_NAME,
    fix: "use lower-case letters, digits and underscores",
    source: "Glue API Reference, TableInput (Name: 1–255); Athena User Guide, Names for databases, tables and columns",
  },
  // RAM
  {
    type: "aws:ram/resourceShare:ResourceShare",
    property: "$name",
    check: text(255),
    fix: "shorten the share name",
    source: "RAM API Reference, CreateResourceShare (name)",
  },
];

/** Types whose physical name Pulumi generates when `name` is not set (name + "-" + 7 characters). */
const AUTONAME_SUFFIX = 8;
/** The input that holds the physical name, where it is not `name`. */
const NAME_INPUT: Record<string, string> = { "aws:s3/bucket:Bucket": "bucket" };

function get(inputs: Record<string, unknown>, path: string): unknown {
  return path
    .split(".")
    .reduce<unknown>((o, k) => (o && typeof o === "object" ? (o as Record<string, unknown>)[k] : undefined), inputs);
}

function physicalName(r: LimitResource): string {
  const explicit = r.inputs[NAME_INPUT[r.type] ?? "name"];
  if (typeof explicit === "string") return explicit;
  const prefix = r.inputs.namePrefix;
  if (typeof prefix === "string") return `${prefix}${"x".repeat(26)}`;
  return `${r.name}-${"x".repeat(AUTONAME_SUFFIX - 1)}`;
}

/** Tag limits. Source: Tagging AWS Resources User Guide, "Tag naming limits and requirements". */
function tagFindings(r: LimitResource, opts: LimitOptions): LimitFinding[] {
  const own = r.inputs.tags;
  if (r.type.startsWith("pulumi:") || !r.type.includes("/")) return [];
  const list: [string, string][] = [];
  if (own && typeof own === "object" && !Array.isArray(own))
    for (const [k, v] of Object.entries(own as Record<string, unknown>)) list.push([k, String(v)]);
  if (Array.isArray(own))
    for (const t of own as { key?: unknown; value?: unknown }[]) list.push([String(t.key), String(t.value)]);
  if (list.length === 0 && own === undefined) return [];
  const merged = new Map<string, string>(Object.entries(opts.defaultTags?.(r.provider) ?? {}));
  for (const [k, v] of list) merged.set(k, v);
  const src =
    "Tagging AWS Resources User Guide, Tag naming limits and requirements (50 tags; key 1–128, value 0–256; aws: prefix reserved)";
  const out: LimitFinding[] = [];
  const base = {
    urn: r.urn,
    resource: r.name,
    type: r.type,
    property: "tags",
    source: src,
    severity: "error" as const,
  };
  if (merged.size > 50)
    out.push({
      ...base,
      value: merged.size,
      problem: `${merged.size} tags (with the provider's default tags); the limit is 50`,
      fix: "drop tags",
    });
  for (const [k, v] of merged) {
    if (k.length > 128 || k.length === 0)
      out.push({
        ...base,
        value: k,
        problem: `tag key "${k}" has ${k.length} characters; keys take 1–128`,
        fix: "shorten the tag key",
      });
    if (v.length > 256)
      out.push({
        ...base,
        value: v,
        problem: `tag ${k} has a ${v.length}-character value; values take up to 256`,
        fix: "shorten the tag value",
      });
    if (k.toLowerCase().startsWith("aws:"))
      out.push({ ...base, value: k, problem: `tag key "${k}" uses the reserved aws: prefix`, fix: "rename the tag" });
  }
  return out;
}

/** Every limit a resource breaks. */
export function checkLimits(resources: LimitResource[], opts: LimitOptions = {}): LimitFinding[] {
  const out: LimitFinding[] = [];
  for (const r of resources) {
    for (const rule of RULES) {
      if (rule.type !== r.type) continue;
      const value = rule.property === "$name" ? physicalName(r) : get(r.inputs, rule.property);
      const problem = rule.check(value, r);
      if (problem === undefined) continue;
      const property = rule.property === "$name" ? (NAME_INPUT[r.type] ?? "name") : rule.property;
      const configKey = opts.configKeyFor?.(r, property);
      out.push({
        urn: r.urn,
        resource: r.name,
        type: r.type,
        property,
        value,
        problem: `${r.name} ${property}: ${problem}`,
        fix: rule.fix,
        source: rule.source,
        severity: rule.severity ?? "error",
        ...(configKey ? { configKey } : {}),
      });
    }
    out.push(...tagFindings(r, opts));
  }
  return out;
}

/** The resource types that have at least one rule (for the docs and the coverage test). */
export function typesWithRules(): string[] {
  return [...new Set(RULES.map((r) => r.type))].sort();
}
