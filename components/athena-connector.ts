import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { ConfigError, throwIfAny } from "./errors";
import type { Flow } from "./flows";
import { guardPrivateBucket } from "./private-bucket";
import { VpcFunction } from "./vpc-function";
import { NAME, parseTables, TableSpec } from "../functions/athena-connector/tables";

/**
 * Where AWS draws the lines (checked here because mocks run no provider validation):
 * - Data catalog name: "a maximum of 127 alphanumeric, underscore, at sign, or hyphen characters" (Athena API
 *   reference, CreateDataCatalog Name); `awsdatacatalog` is the name of the built-in Glue catalog.
 * - Workgroup name: [a-zA-Z0-9._-]{1,128} (Athena API reference, CreateWorkGroup Name).
 * - Database, table and column names: lower case (Athena user guide, "Name databases, tables, and columns");
 *   see functions/athena-connector/tables.ts.
 */
const CATALOG_NAME = /^[A-Za-z0-9_@-]{1,127}$/;
const WORKGROUP_NAME = /^[A-Za-z0-9._-]{1,128}$/;
const PREFIX = /^([a-z0-9][a-z0-9._-]*\/)+$/;

export interface AthenaFederatedCatalogArgs {
  /** The name queries use: SELECT … FROM "<catalogName>".<schemaName>.<table>. */
  catalogName: string;
  /** The one database the catalog shows. Default "saas". */
  schemaName?: string;
  /** The tables, as functions/athena-connector/tables.ts describes (same URL/pagination/recordsPath as saas-export). */
  tables: TableSpec[];
  vpcId: pulumi.Input<string>;
  subnetIds: pulumi.Input<pulumi.Input<string>[]>;
  /** The proxy tier the SaaS is reached through (SquidProxyTier's outputs). */
  proxy: {
    /** The flow to the tier's load balancer (`tier.flow(...)`). */
    flow: Flow;
    proxyUrl: pulumi.Input<string>;
    headerName: pulumi.Input<string>;
    headerSecretArn: pulumi.Input<string>;
  };
  /** The flow to Secrets Manager (its interface endpoint when the VPC has one). */
  secretsManagerFlow: Flow;
  /** The S3 gateway endpoint's prefix list, for the flow that writes spilled blocks. */
  s3PrefixListId: pulumi.Input<string>;
  /** Secret holding the SaaS credential (see functions/saas-export/secrets.ts); none when the SaaS needs none. */
  authSecretArn?: pulumi.Input<string>;
  /** Key prefix of spilled blocks in the spill bucket. Default "athena-spill/". */
  spillPrefix?: string;
  /** Days after which spilled blocks are deleted. Default 1 (Athena reads them within the query). */
  spillExpirationDays?: number;
  /** Key prefix of the workgroup's query results in the same bucket. Default "athena-results/". */
  resultPrefix?: string;
  /** Days after which query results are deleted. Default 7. */
  resultExpirationDays?: number;
  /** Workgroup name. Default the catalog name with characters a workgroup refuses replaced by '-'. */
  workgroupName?: string;
  /** Per-query cap on bytes scanned (Athena's minimum is 10 MB); default none. */
  bytesScannedCutoffPerQuery?: number;
  memoryMb?: number;
  timeoutSeconds?: number;
  logRetentionInDays?: number;
  /** Delete the bucket with its objects on destroy (non-production stacks). Default false. */
  forceDestroy?: boolean;
  tags?: Record<string, string>;
}

/** The workgroup name derived from a catalog name: characters a workgroup refuses become '-'. */
export function defaultWorkgroupName(catalogName: string): string {
  return catalogName.replace(/[^A-Za-z0-9._-]/g, "-");
}

/** The catalog's optional arguments with their defaults filled in; the check and the component read the same values. */
function catalogDefaults(
  args: Pick<
    AthenaFederatedCatalogArgs,
    | "catalogName"
    | "schemaName"
    | "spillPrefix"
    | "resultPrefix"
    | "spillExpirationDays"
    | "resultExpirationDays"
    | "workgroupName"
  >,
) {
  return {
    schemaName: args.schemaName ?? "saas",
    spillPrefix: args.spillPrefix ?? "athena-spill/",
    resultPrefix: args.resultPrefix ?? "athena-results/",
    spillDays: args.spillExpirationDays ?? 1,
    resultDays: args.resultExpirationDays ?? 7,
    workgroupName: args.workgroupName ?? defaultWorkgroupName(args.catalogName),
  };
}

/**
 * Every problem AWS (or the connector) would refuse in `args`, each keyed `${name}.<arg>`; the stacks call it with
 * the config key prefix (`vpc-lambda-kit:athenaConnector`), so the keys are the config's own. Only the plain
 * (non-network) arguments are read.
 */
export function athenaCatalogErrors(
  name: string,
  args: Pick<
    AthenaFederatedCatalogArgs,
    | "catalogName"
    | "schemaName"
    | "tables"
    | "spillPrefix"
    | "resultPrefix"
    | "spillExpirationDays"
    | "resultExpirationDays"
    | "workgroupName"
    | "bytesScannedCutoffPerQuery"
  >,
): ConfigError[] {
  const { schemaName, spillPrefix, resultPrefix, spillDays, resultDays, workgroupName } = catalogDefaults(args);
  const errors: ConfigError[] = [];
  if (!CATALOG_NAME.test(args.catalogName) || args.catalogName.toLowerCase() === "awsdatacatalog") {
    errors.push(
      new ConfigError(
        `${name}.catalogName`,
        `"${args.catalogName}" is not a data catalog name Athena accepts`,
        "use 1-127 letters, digits, '_', '@' or '-' (not awsdatacatalog, the built-in Glue catalog), e.g. saas_live",
      ),
    );
  }
  if (!NAME.test(schemaName))
    errors.push(
      new ConfigError(
        `${name}.schemaName`,
        `"${schemaName}" is not a lower-case Athena database name`,
        "use lower case letters, digits and '_', e.g. saas",
      ),
    );
  const { problems } = parseTables(args.tables, `${name}.tables`);
  for (const p of problems) {
    const m = /^(\S+?): (.*)$/.exec(p)!;
    errors.push(new ConfigError(m[1], m[2], "correct the table definition (see docs/athena-connector.md)"));
  }
  for (const [key, v] of [
    ["spillPrefix", spillPrefix],
    ["resultPrefix", resultPrefix],
  ] as const) {
    if (!PREFIX.test(v))
      errors.push(
        new ConfigError(
          `${name}.${key}`,
          `"${v}" is not a key prefix`,
          "use lower-case path segments ending in '/', e.g. athena-spill/",
        ),
      );
  }
  if (spillPrefix.startsWith(resultPrefix) || resultPrefix.startsWith(spillPrefix)) {
    errors.push(
      new ConfigError(
        `${name}.resultPrefix`,
        `spill prefix "${spillPrefix}" and result prefix "${resultPrefix}" overlap`,
        "give them separate folders, e.g. athena-spill/ and athena-results/",
      ),
    );
  }
  for (const [key, v] of [
    ["spillExpirationDays", spillDays],
    ["resultExpirationDays", resultDays],
  ] as const) {
    if (!Number.isInteger(v) || v < 1 || v > 3650)
      errors.push(
        new ConfigError(
          `${name}.${key}`,
          `${v} is not a number of days`,
          "use a whole number of days from 1 (S3 expiration's minimum) to 3650",
        ),
      );
  }
  if (!WORKGROUP_NAME.test(workgroupName))
    errors.push(
      new ConfigError(
        `${name}.workgroupName`,
        `"${workgroupName}" is not a workgroup name Athena accepts`,
        "use 1-128 letters, digits, '.', '_' or '-'",
      ),
    );
  const cutoff = args.bytesScannedCutoffPerQuery;
  if (cutoff !== undefined && (!Number.isInteger(cutoff) || cutoff < 10_485_760)) {
    errors.push(
      new ConfigError(
        `${name}.bytesScannedCutoffPerQuery`,
        `${cutoff} is below Athena's minimum`,
        "use at least 10485760 (10 MB), or leave it unset",
      ),
    );
  }
  return errors;
}

/**
 * An Athena data catalog of type LAMBDA backed by the athena-connector function, which reads the IP-restricted SaaS
 * live through the proxy tier. Creates the function (VpcFunction with exactly three flows: the proxy tier, Secrets
 * Manager, S3 through the gateway endpoint), a spill-and-results bucket (private, encrypted, TLS only, short
 * lifecycle), the catalog, the invoke permission for athena.amazonaws.com limited to this catalog, and a workgroup
 * whose results land in the bucket.
 *
 * The caller still opens the paths into shared pieces: `tier.allowFrom(catalog.securityGroupId, …)` and the
 * Secrets Manager endpoint's ingress from the same group.
 */
export class AthenaFederatedCatalog extends pulumi.ComponentResource {
  public readonly catalogName: pulumi.Output<string>;
  public readonly catalogArn: pulumi.Output<string>;
  public readonly workgroupName: pulumi.Output<string>;
  public readonly bucketName: pulumi.Output<string>;
  public readonly functionArn: pulumi.Output<string>;
  public readonly functionName: pulumi.Output<string>;
  public readonly securityGroupId: pulumi.Output<string>;
  /**
   * The IAM policy document (JSON) a principal that runs queries in the workgroup needs: invoke the connector,
   * read spilled blocks, and read and write its own results. Attach it to the analysts' role.
   */
  public readonly queryPolicy: pulumi.Output<string>;
  public readonly fn: VpcFunction;

  constructor(name: string, args: AthenaFederatedCatalogArgs, opts: pulumi.ComponentResourceOptions = {}) {
    throwIfAny(athenaCatalogErrors(name, args));
    const { schemaName, spillPrefix, resultPrefix, spillDays, resultDays, workgroupName } = catalogDefaults(args);
    const cutoff = args.bytesScannedCutoffPerQuery;

    super("vpc-lambda-kit:athena:AthenaFederatedCatalog", name, { catalogName: args.catalogName }, opts);
    const child = { parent: this };
    const tags = { ...(args.tags ?? {}) };

    const bucket = new aws.s3.Bucket(`${name}-bucket`, { forceDestroy: args.forceDestroy ?? false, tags }, child);
    guardPrivateBucket(`${name}-bucket`, bucket, {}, { ownerEnforced: true, tlsOnlyPolicy: true });
    new aws.s3.BucketLifecycleConfiguration(
      `${name}-bucket-lifecycle`,
      {
        bucket: bucket.id,
        rules: [
          {
            id: "expire-spill",
            status: "Enabled",
            filter: { prefix: spillPrefix },
            expiration: { days: spillDays },
            abortIncompleteMultipartUpload: { daysAfterInitiation: 1 },
          },
          {
            id: "expire-results",
            status: "Enabled",
            filter: { prefix: resultPrefix },
            expiration: { days: resultDays },
            abortIncompleteMultipartUpload: { daysAfterInitiation: 1 },
          },
        ],
      },
      { parent: bucket },
    );

    const secretArns: pulumi.Input<string>[] = [
      args.proxy.headerSecretArn,
      ...(args.authSecretArn ? [args.authSecretArn] : []),
    ];
    this.fn = new VpcFunction(
      `${name}-connector`,
      {
        source: "athena-connector",
        description: `Athena data catalog ${args.catalogName}: reads the SaaS live through the proxy tier`,
        vpcId: args.vpcId,
        subnetIds: args.subnetIds,
        flows: [
          args.proxy.flow,
          args.secretsManagerFlow,
          {
            to: { kind: "awsService", service: "s3", prefixListId: args.s3PrefixListId },
            port: 443,
            purpose: "write spilled result blocks to S3 through the gateway endpoint",
          },
        ],
        environment: {
          PROXY_URL: args.proxy.proxyUrl,
          PROXY_HEADER_NAME: args.proxy.headerName,
          PROXY_HEADER_SECRET_ID: args.proxy.headerSecretArn,
          ...(args.authSecretArn ? { SAAS_AUTH_SECRET_ID: args.authSecretArn } : {}),
          ATHENA_TABLES: JSON.stringify(args.tables),
          SCHEMA_NAME: schemaName,
          SPILL_BUCKET: bucket.bucket,
          SPILL_PREFIX: spillPrefix,
        },
        policyStatements: [
          { Sid: "ReadSecrets", Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: secretArns },
          {
            Sid: "WriteSpill",
            Effect: "Allow",
            Action: ["s3:PutObject"],
            Resource: pulumi.interpolate`${bucket.arn}/${spillPrefix}*`,
          },
        ],
        memorySize: args.memoryMb ?? 1024,
        timeout: args.timeoutSeconds ?? 900,
        logRetentionInDays: args.logRetentionInDays,
        tags,
      },
      child,
    );

    const catalog = new aws.athena.DataCatalog(
      `${name}-catalog`,
      {
        name: args.catalogName,
        type: "LAMBDA",
        description: `SaaS tables read live through the proxy tier (${schemaName})`,
        parameters: { function: this.fn.functionArn },
        tags,
      },
      child,
    );
    // Only Athena, and only on behalf of this catalog, may invoke the connector.
    new aws.lambda.Permission(
      `${name}-athena-invoke`,
      {
        action: "lambda:InvokeFunction",
        function: this.fn.functionName,
        principal: "athena.amazonaws.com",
        sourceArn: catalog.arn,
      },
      { parent: catalog },
    );

    const workgroup = new aws.athena.Workgroup(
      `${name}-workgroup`,
      {
        name: workgroupName,
        forceDestroy: args.forceDestroy ?? false,
        configuration: {
          enforceWorkgroupConfiguration: true,
          publishCloudwatchMetricsEnabled: true,
          bytesScannedCutoffPerQuery: cutoff,
          resultConfiguration: {
            outputLocation: pulumi.interpolate`s3://${bucket.bucket}/${resultPrefix}`,
            encryptionConfiguration: { encryptionOption: "SSE_S3" },
          },
        },
        tags,
      },
      child,
    );

    this.catalogName = catalog.name;
    this.catalogArn = catalog.arn;
    this.workgroupName = workgroup.name;
    this.bucketName = bucket.bucket;
    this.functionArn = this.fn.functionArn;
    this.functionName = this.fn.functionName;
    this.securityGroupId = this.fn.securityGroupId;
    this.queryPolicy = pulumi.all([bucket.arn, this.fn.functionArn, workgroup.arn, catalog.arn]).apply(([b, f, w, c]) =>
      JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          {
            Sid: "RunQueries",
            Effect: "Allow",
            Action: [
              "athena:StartQueryExecution",
              "athena:GetQueryExecution",
              "athena:GetQueryResults",
              "athena:StopQueryExecution",
            ],
            Resource: w,
          },
          { Sid: "UseCatalog", Effect: "Allow", Action: ["athena:GetDataCatalog"], Resource: c },
          // Athena invokes the connector and reads spilled blocks with the caller's credentials.
          { Sid: "InvokeConnector", Effect: "Allow", Action: ["lambda:InvokeFunction"], Resource: f },
          { Sid: "ReadSpill", Effect: "Allow", Action: ["s3:GetObject"], Resource: `${b}/${spillPrefix}*` },
          {
            Sid: "Results",
            Effect: "Allow",
            Action: ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"],
            Resource: `${b}/${resultPrefix}*`,
          },
          { Sid: "ResultsBucketLocation", Effect: "Allow", Action: ["s3:GetBucketLocation"], Resource: b },
          {
            Sid: "ListResults",
            Effect: "Allow",
            Action: ["s3:ListBucket"],
            Resource: b,
            Condition: { StringLike: { "s3:prefix": [`${resultPrefix}*`] } },
          },
        ],
      }),
    );
    this.registerOutputs({
      catalogName: this.catalogName,
      workgroupName: this.workgroupName,
      bucketName: this.bucketName,
      functionArn: this.functionArn,
    });
  }
}
