import { DEFAULT_AURORA_POSTGRES_VERSION } from "../../components/aurora-postgres";

/**
 * What AWS (and the kit's handlers) would refuse, checked offline before anything is registered: the
 * mocks run no provider validation, so these tables stand in for it. Each table says where it comes
 * from and when it was taken; a value AWS added later is refused until the table learns it (the error
 * says so and names this file).
 */

/**
 * Commercial, China and GovCloud regions with their zone letters, from the AWS General Reference
 * "Regions and Availability Zones" table and `aws ec2 describe-availability-zones` (taken 2025-11).
 * Zone letters an account sees may be a subset; the letters listed are every one AWS publishes.
 */
export const REGIONS: Record<string, string> = {
  "us-east-1": "abcdef",
  "us-east-2": "abc",
  "us-west-1": "abc",
  "us-west-2": "abcd",
  "af-south-1": "abc",
  "ap-east-1": "abc",
  "ap-east-2": "abc",
  "ap-south-1": "abc",
  "ap-south-2": "abc",
  "ap-southeast-1": "abc",
  "ap-southeast-2": "abc",
  "ap-southeast-3": "abc",
  "ap-southeast-4": "abc",
  "ap-southeast-5": "abc",
  "ap-southeast-7": "abc",
  "ap-northeast-1": "acd",
  "ap-northeast-2": "abcd",
  "ap-northeast-3": "abc",
  "ca-central-1": "abd",
  "ca-west-1": "abc",
  "eu-central-1": "abc",
  "eu-central-2": "abc",
  "eu-west-1": "abc",
  "eu-west-2": "abc",
  "eu-west-3": "abc",
  "eu-south-1": "abc",
  "eu-south-2": "abc",
  "eu-north-1": "abc",
  "il-central-1": "abc",
  "me-south-1": "abc",
  "me-central-1": "abc",
  "mx-central-1": "abc",
  "sa-east-1": "abc",
  "cn-north-1": "ab",
  "cn-northwest-1": "abc",
  "us-gov-east-1": "abc",
  "us-gov-west-1": "abc",
};

/** "" when `region` is a known region, else the problem. */
export function regionProblem(region: string): string | undefined {
  if (region in REGIONS) return undefined;
  return `"${region}" is not an AWS region (known: ${Object.keys(REGIONS).join(", ")}; table in stacks/config/rules.ts, taken 2025-11)`;
}

/** The problem with an availability zone name in `region`, or undefined. */
export function zoneProblem(zone: string, region: string): string | undefined {
  const letters = REGIONS[region];
  if (!letters) return undefined; // the region itself is reported
  if (!zone.startsWith(region) || zone.length !== region.length + 1 || !letters.includes(zone.slice(-1))) {
    return `"${zone}" is not an availability zone of ${region} (its zones: ${[...letters].map((l) => region + l).join(", ")})`;
  }
  return undefined;
}

/**
 * Interface (PrivateLink) endpoint service names, the part after com.amazonaws.<region>., from the AWS
 * PrivateLink guide's "AWS services that integrate with AWS PrivateLink" (taken 2025-11). Not every
 * service exists in every region; AWS refuses a missing one at deployment with a clear error.
 */
export const INTERFACE_ENDPOINT_SERVICES: ReadonlySet<string> = new Set([
  "access-analyzer",
  "account",
  "acm-pca",
  "airflow.api",
  "airflow.env",
  "airflow.ops",
  "apigateway",
  "app-integrations",
  "appconfig",
  "appconfigdata",
  "application-autoscaling",
  "applicationinsights",
  "appmesh",
  "appmesh-envoy-management",
  "apprunner",
  "apprunner.requests",
  "appstream.api",
  "appstream.streaming",
  "appsync-api",
  "aps",
  "aps-workspaces",
  "athena",
  "auditmanager",
  "autoscaling",
  "autoscaling-plans",
  "backup",
  "backup-gateway",
  "batch",
  "bedrock",
  "bedrock-agent",
  "bedrock-agent-runtime",
  "bedrock-runtime",
  "billingconductor",
  "braket",
  "cassandra",
  "cloudcontrolapi",
  "cloudformation",
  "cloudhsmv2",
  "cloudtrail",
  "codeartifact.api",
  "codeartifact.repositories",
  "codebuild",
  "codecommit",
  "codedeploy",
  "codedeploy-commands-secure",
  "codeguru-profiler",
  "codeguru-reviewer",
  "codepipeline",
  "codestar-connections.api",
  "comprehend",
  "comprehendmedical",
  "config",
  "connect-campaigns",
  "dataexchange",
  "datasync",
  "datazone",
  "devops-guru",
  "dms",
  "dms-fips",
  "ds",
  "dynamodb",
  "ebs",
  "ec2",
  "ec2messages",
  "ecr.api",
  "ecr.dkr",
  "ecs",
  "ecs-agent",
  "ecs-telemetry",
  "eks",
  "eks-auth",
  "elastic-inference.runtime",
  "elasticache",
  "elasticbeanstalk",
  "elasticbeanstalk-health",
  "elasticfilesystem",
  "elasticfilesystem-fips",
  "elasticloadbalancing",
  "elasticmapreduce",
  "email-smtp",
  "emr-containers",
  "emr-serverless",
  "emrwal.prod",
  "events",
  "execute-api",
  "finspace",
  "finspace-api",
  "fis",
  "forecast",
  "forecastquery",
  "frauddetector",
  "fsx",
  "fsx-fips",
  "git-codecommit",
  "glue",
  "glue.dashboard",
  "grafana",
  "grafana-workspace",
  "greengrass",
  "groundstation",
  "guardduty-data",
  "healthlake",
  "iam",
  "identitystore",
  "imagebuilder",
  "inspector2",
  "iot.data",
  "iot.fleethub.api",
  "iotfleetwise",
  "iotroborunner",
  "iotsitewise.api",
  "iotsitewise.data",
  "iottwinmaker.api",
  "iottwinmaker.data",
  "kendra",
  "kinesis-firehose",
  "kinesis-streams",
  "kms",
  "kms-fips",
  "lakeformation",
  "lambda",
  "license-manager",
  "lookoutequipment",
  "lookoutmetrics",
  "lookoutvision",
  "m2",
  "macie2",
  "memory-db",
  "memorydb-fips",
  "mgn",
  "migrationhub-orchestrator",
  "migrationhub-strategy",
  "monitoring",
  "neptune-graph",
  "network-firewall",
  "nimble",
  "omics.analytics",
  "omics.control-storage",
  "omics.storage",
  "omics.tags",
  "omics.workflows",
  "panorama",
  "pipes",
  "pipes-data",
  "pipes-fips",
  "polly",
  "private-networks",
  "profile",
  "proton",
  "qldb.session",
  "rbin",
  "rds",
  "rds-data",
  "redshift",
  "redshift-data",
  "redshift-serverless",
  "rekognition",
  "rekognition-fips",
  "resource-groups",
  "robomaker",
  "rolesanywhere",
  "rum",
  "rum-dataplane",
  "runtime.sagemaker",
  "s3",
  "s3-outposts",
  "s3express",
  "sagemaker.api",
  "sagemaker.featurestore-runtime",
  "sagemaker.metrics",
  "sagemaker.runtime",
  "sagemaker.runtime-fips",
  "scheduler",
  "schemas",
  "sdb",
  "secretsmanager",
  "securityhub",
  "securitylake",
  "servicecatalog",
  "servicecatalog-appregistry",
  "servicediscovery",
  "servicediscovery-fips",
  "signin",
  "simspaceweaver",
  "snow-device-management",
  "sns",
  "sqs",
  "ssm",
  "ssm-contacts",
  "ssm-incidents",
  "ssmmessages",
  "states",
  "storagegateway",
  "sts",
  "swf",
  "swf-fips",
  "synthetics",
  "textract",
  "textract-fips",
  "timestream-influxdb",
  "transcribe",
  "transcribestreaming",
  "transfer",
  "transfer.server",
  "translate",
  "verifiedpermissions",
  "vpc-lattice",
  "workspaces",
  "xray",
  "logs",
]);

/**
 * Aurora PostgreSQL engine versions RDS offers, from `aws rds describe-db-engine-versions --engine
 * aurora-postgresql` and the Aurora PostgreSQL release notes (taken 2025-11; 11 and 12 are past the end
 * of standard support and refused elsewhere).
 */
export const AURORA_POSTGRES_VERSIONS: ReadonlySet<string> = new Set([
  "13.9",
  "13.10",
  "13.11",
  "13.12",
  "13.13",
  "13.14",
  "13.15",
  "13.16",
  "13.18",
  "13.20",
  "13.21",
  "14.6",
  "14.7",
  "14.8",
  "14.9",
  "14.10",
  "14.11",
  "14.12",
  "14.13",
  "14.15",
  "14.17",
  "14.18",
  "15.2",
  "15.3",
  "15.4",
  "15.5",
  "15.6",
  "15.7",
  "15.8",
  "15.10",
  "15.12",
  "15.13",
  "16.1",
  "16.2",
  "16.3",
  "16.4",
  "16.6",
  "16.8",
  "16.9",
  "17.4",
  "17.5",
]);

/**
 * Why RDS would refuse an engine version, or undefined. The table above is dated, and RDS keeps releasing
 * minors (and one major a year), so a version newer than the newest the table knows for its major — or
 * the next major — is let through for RDS to judge; what is refused is what the table proves wrong: a
 * malformed version, a major past standard support, a minor of a known major that RDS never offered or
 * has retired, and majors too far ahead to exist.
 */
export function auroraVersionProblem(v: string): string | undefined {
  const m = /^(\d+)\.(\d+)$/.exec(v);
  const known = `table in stacks/config/rules.ts, taken 2025-11`;
  if (!m)
    return `"${v}" is not an Aurora PostgreSQL version: give <major>.<minor>, e.g. ${DEFAULT_AURORA_POSTGRES_VERSION} (${known})`;
  if (AURORA_POSTGRES_VERSIONS.has(v)) return undefined;
  const [major, minor] = [Number(m[1]), Number(m[2])];
  const byMajor = new Map<number, number>();
  for (const k of AURORA_POSTGRES_VERSIONS) {
    const [a, b] = k.split(".").map(Number);
    byMajor.set(a, Math.max(byMajor.get(a) ?? 0, b));
  }
  const majors = [...byMajor.keys()];
  const [oldest, newest] = [Math.min(...majors), Math.max(...majors)];
  const newestMinor = byMajor.get(major);
  if (major === newest + 1 || (newestMinor !== undefined && minor > newestMinor)) return undefined;
  const offered = `${[...AURORA_POSTGRES_VERSIONS].join(", ")}; ${known}`;
  if (major < oldest)
    return `"${v}" is not an Aurora PostgreSQL version RDS offers: major ${major} is past standard support (${offered})`;
  return `"${v}" is not an Aurora PostgreSQL version RDS offers (${offered})`;
}

/**
 * DB instance classes Aurora PostgreSQL runs on, from the Aurora User Guide's "Supported DB engines for
 * DB instance classes" table (taken 2025-11). db.serverless is Serverless v2.
 */
const AURORA_FAMILIES: Record<string, string[]> = {
  r5: ["large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge"],
  r6g: ["large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge"],
  r6gd: ["large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge"],
  r6i: ["large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge", "32xlarge"],
  r6id: ["large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge", "32xlarge"],
  r7g: ["large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge"],
  r7i: ["large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge", "48xlarge"],
  r8g: ["large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge", "48xlarge"],
  x2g: ["large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge"],
  t3: ["medium", "large"],
  t4g: ["medium", "large"],
};
export const AURORA_INSTANCE_CLASSES: ReadonlySet<string> = new Set([
  "db.serverless",
  ...Object.entries(AURORA_FAMILIES).flatMap(([f, sizes]) => sizes.map((s) => `db.${f}.${s}`)),
]);

/**
 * Graviton (arm64) EC2 families and sizes the proxy tier's default AL2023 arm64 AMI runs on, from the
 * EC2 "Instance types" specifications (taken 2025-11). Metal sizes are left out (minutes to boot).
 */
const EC2_ARM_FAMILIES: Record<string, string[]> = {
  t4g: ["nano", "micro", "small", "medium", "large", "xlarge", "2xlarge"],
  m6g: ["medium", "large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge"],
  m7g: ["medium", "large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge"],
  m8g: ["medium", "large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge", "48xlarge"],
  c6g: ["medium", "large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge"],
  c6gn: ["medium", "large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge"],
  c7g: ["medium", "large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge"],
  c7gn: ["medium", "large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge"],
  c8g: ["medium", "large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge", "48xlarge"],
  r6g: ["medium", "large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge"],
  r7g: ["medium", "large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge"],
};
export const EC2_ARM_INSTANCE_TYPES: ReadonlySet<string> = new Set(
  Object.entries(EC2_ARM_FAMILIES).flatMap(([f, sizes]) => sizes.map((s) => `${f}.${s}`)),
);

/** Hosts kintone serves: <subdomain>.cybozu.com, .kintone.com (US) and .cybozu.cn (China), per kintone's REST API docs. */
export const KINTONE_DOMAINS = ["cybozu.com", "kintone.com", "cybozu.cn"] as const;

/** The problem with a kintone base URL, or undefined: https, exactly <subdomain>.<kintone domain>, no port, path or credentials. */
export function kintoneUrlProblem(text: string): string | undefined {
  const m = /^https:\/\/([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)\.(cybozu\.com|kintone\.com|cybozu\.cn)\/?$/i.exec(text);
  if (!m)
    return `must be https://<subdomain>.cybozu.com (or .kintone.com, .cybozu.cn) with no other host, port or path, since the API token is sent to this host; got "${text}"`;
  return undefined;
}

/**
 * The Hive DDL column types Glue stores and Athena reads, from Athena's "Data types in Amazon Athena"
 * (DDL names): primitives, decimal(p,s) (p 1-38, s ≤ p), char(n) (1-255), varchar(n) (1-65535),
 * array<T>, map<primitive,T>, struct<name:T,...>. Returns the problem, or undefined.
 */
export function hiveTypeProblem(text: string): string | undefined {
  const PRIMITIVES = new Set([
    "boolean",
    "tinyint",
    "smallint",
    "int",
    "integer",
    "bigint",
    "float",
    "double",
    "string",
    "binary",
    "date",
    "timestamp",
    "decimal",
  ]);
  let i = 0;
  const s = text;
  const fail = (why: string): never => {
    throw new Error(why);
  };
  const ws = () => {
    while (s[i] === " ") i++;
  };
  const ident = (): string => {
    ws();
    const m = /^[a-z_][a-z0-9_]*/.exec(s.slice(i));
    if (!m) fail(`expected a name at position ${i + 1}`);
    i += (m as RegExpExecArray)[0].length;
    return (m as RegExpExecArray)[0];
  };
  const expect = (c: string) => {
    ws();
    if (s[i] !== c) fail(`expected "${c}" at position ${i + 1}`);
    i++;
  };
  const int = (): number => {
    ws();
    const m = /^\d+/.exec(s.slice(i));
    if (!m) fail(`expected a number at position ${i + 1}`);
    i += (m as RegExpExecArray)[0].length;
    return Number((m as RegExpExecArray)[0]);
  };
  const type = (): string => {
    const name = ident();
    if (name === "array") {
      expect("<");
      type();
      expect(">");
      return name;
    }
    if (name === "map") {
      expect("<");
      const k = type();
      if (!PRIMITIVES.has(k) && !["char", "varchar"].includes(k)) fail("a map key must be a primitive type");
      expect(",");
      type();
      expect(">");
      return name;
    }
    if (name === "struct") {
      expect("<");
      for (;;) {
        ident();
        expect(":");
        type();
        ws();
        if (s[i] === ",") {
          i++;
          continue;
        }
        break;
      }
      expect(">");
      return name;
    }
    if (name === "decimal") {
      ws();
      if (s[i] === "(") {
        i++;
        const p = int();
        let sc = 0;
        ws();
        if (s[i] === ",") {
          i++;
          sc = int();
        }
        expect(")");
        if (p < 1 || p > 38 || sc > p) fail(`decimal(${p},${sc}) needs precision 1-38 and scale ≤ precision`);
      }
      return name;
    }
    if (name === "char" || name === "varchar") {
      expect("(");
      const n = int();
      expect(")");
      if (n < 1 || n > (name === "char" ? 255 : 65535))
        fail(`${name}(${n}) is outside 1-${name === "char" ? 255 : 65535}`);
      return name;
    }
    if (!PRIMITIVES.has(name)) fail(`"${name}" is not a Hive/Athena type`);
    return name;
  };
  try {
    type();
    ws();
    if (i !== s.length) fail(`unexpected "${s.slice(i)}" at position ${i + 1}`);
  } catch (e) {
    return `"${text}" is not a Glue/Athena column type: ${(e as Error).message} (use string, bigint, double, boolean, timestamp, date, decimal(p,s), varchar(n), array<T>, map<K,V> or struct<name:T,...>)`;
  }
  return undefined;
}
