import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import * as appflow from "@pulumi/aws-native/appflow"; // the service module alone: the package index loads them all
import { AuroraPostgres, planAuroraPostgres } from "../../components/aurora-postgres";
import { ConfigError, patternErrors } from "../../components/errors";
import { Flow } from "../../components/flows";
import { denyInsecureTransport, guardPrivateBucket } from "../../components/private-bucket";
import { VpcFunction } from "../../components/vpc-function";
import { CUSTOM_AUTH_TYPE, API_VERSION } from "../../functions/appflow-connector/settings";
import { collectConfigErrors, EnvConfigInput, PROJECT as P, secretFix } from "../config/schema";
import { assertDataOutputs, requiredDataOutput } from "../db-client";
import { allowToEndpoints, serviceFlow } from "../endpoints";
import { nativeProviderFor } from "../providers";
import { checkedSecret } from "../config/secrets";
import { AppsBuildContext, Feature, FunctionOutputs, functionOutputs } from "./feature";
/** AppFlow's patterns for connector labels and flow names, and for connector profile names. */
const LABEL_RE = /^[a-zA-Z0-9][\w!@#.-]{0,255}$/;
const PROFILE_RE = /^[\w/!@#+=.-]{1,256}$/;
const IDENT_RE = /^[a-z_][a-z0-9_$]{0,62}$/;

export interface AppflowAppOutputs {
  appflowConnector?: FunctionOutputs & {
    connectorLabel: string;
    connectorArn: pulumi.Output<string>;
    database: "data" | "local";
    databaseEndpoint: pulumi.Output<string>;
    connectionName?: string;
    flowName?: string;
    bucketName?: pulumi.Output<string>;
  };
}

type AppflowConfig = NonNullable<EnvConfigInput["appflowConnector"]>;

/** The connector label: config, else `<project>-<environment>-postgres`. */
export function connectorLabelOf(cfg: { environment: string; appflowConnector?: AppflowConfig }): string {
  return cfg.appflowConnector?.connectorLabel ?? `${P}-${cfg.environment}-postgres`;
}

/**
 * Config-time checks of `appflowConnector` against the rest of the environment; every problem names
 * its key and the fix, before anything is registered.
 */
export function appflowConfigErrors(cfg: EnvConfigInput, secretPresent: boolean): ConfigError[] {
  const ac = cfg.appflowConnector;
  if (!ac || !ac.enabled || !cfg.roles.includes("apps")) return [];
  const errors: ConfigError[] = [];
  const k = (s: string) => `${P}:appflowConnector.${s}`;
  const label = connectorLabelOf(cfg);
  const labelChars = "use letters, digits and _ ! @ # . - (starting with a letter or digit)";
  errors.push(
    ...patternErrors(
      k("connectorLabel"),
      label,
      LABEL_RE,
      "an AppFlow connector label",
      `${labelChars}, at most 256 characters`,
    ),
    ...patternErrors(
      k("connectionName"),
      ac.connectionName,
      PROFILE_RE,
      "an AppFlow connection (profile) name",
      "use letters, digits and _ / ! @ # + = . -, at most 256 characters",
    ),
  );
  // The connector's SQL names these unquoted: plain PostgreSQL identifiers only.
  const identifiers: [key: "dbUsername" | "schema" | "databaseName", kind: string, fixTail: string][] = [
    ["dbUsername", "role", " (e.g. appflow_reader): a role with SELECT on the schema only"],
    ["schema", "schema", ", e.g. public"],
    ["databaseName", "database", ""],
  ];
  for (const [key, kind, fixTail] of identifiers)
    errors.push(
      ...patternErrors(
        k(key),
        ac[key],
        IDENT_RE,
        `a plain PostgreSQL ${kind} name`,
        `use lower-case letters, digits and _${fixTail}`,
      ),
    );
  if (ac.createConnection && !secretPresent) {
    errors.push(
      new ConfigError(
        `${P}:appflowDbPassword`,
        "the AppFlow connection needs the database user's password, and it is not set",
        `pulumi config set --secret ${P}:appflowDbPassword <password of ${ac.dbUsername}>, or set appflowConnector.createConnection to false`,
      ),
    );
  }
  if (ac.flow?.enabled && !ac.createConnection) {
    errors.push(
      new ConfigError(
        k("flow"),
        "the example flow reads through the AppFlow connection, and createConnection is false",
        "set appflowConnector.createConnection to true, or flow.enabled to false",
      ),
    );
  }
  if (ac.flow) {
    const names = ac.flow.fields;
    names.forEach((f, i) => {
      if (names.indexOf(f) !== i)
        errors.push(new ConfigError(k(`flow.fields[${i}]`), `"${f}" is listed twice`, "list each field once"));
    });
    errors.push(
      ...patternErrors(k("flow.name"), ac.flow.name ?? `${label}-to-s3`, LABEL_RE, "an AppFlow flow name", labelChars),
    );
  }
  if (ac.timeoutSeconds * 1000 <= ac.statementTimeoutMs) {
    errors.push(
      new ConfigError(
        k("statementTimeoutMs"),
        `${ac.statementTimeoutMs} ms is not shorter than the function timeout (${ac.timeoutSeconds} s), so a slow query would end as a Lambda timeout instead of an error AppFlow can show`,
        "keep statementTimeoutMs well below timeoutSeconds × 1000",
      ),
    );
  }
  if (ac.database === "data") {
    if (!cfg.data.database.enabled)
      errors.push(
        new ConfigError(
          k("database"),
          `"data" reads the data role's Aurora database, which is off (data.database.enabled: false)`,
          `turn data.database on, or use database "local" (an Aurora cluster in the network VPC for the connector)`,
        ),
      );
    if (!cfg.roles.includes("data") && !cfg.upstream.data)
      errors.push(
        new ConfigError(
          `${P}:upstream.data`,
          "the connector reads the data role's database and needs its endpoint, and this stack does not run the data role",
          "set upstream.data to the data stack's name, e.g. dev-data",
        ),
      );
    if (cfg.transitGateway?.enabled === false)
      errors.push(
        new ConfigError(
          k("database"),
          `"data" reaches the database across the Transit Gateway, which is off (transitGateway.enabled: false)`,
          `turn the Transit Gateway on, or use database "local"`,
        ),
      );
  } else {
    const azs = cfg.network.availabilityZones;
    if ((typeof azs === "number" ? azs : azs.length) < 2) {
      errors.push(
        new ConfigError(
          `${P}:network.availabilityZones`,
          `the connector's local database needs a DB subnet group in two availability zones, and the network has one`,
          `set network.availabilityZones to 2 or more, or use appflowConnector.database "data"`,
        ),
      );
    }
    collectConfigErrors(errors, () =>
      planAuroraPostgres(
        {
          ...ac.local,
          databaseName: ac.databaseName ?? "app",
          logRetentionInDays: cfg.logRetentionInDays,
          deletionProtection: cfg.environment === "prod",
          skipFinalSnapshot: cfg.environment !== "prod",
        },
        k("local."),
      ),
    );
  }
  return errors;
}

/**
 * docs/designs.md §4 in account A: the connector Lambda in the network's private subnets (Secrets Manager through
 * the interface endpoint, PostgreSQL on its database and nothing else), the permission that lets AppFlow
 * in this account invoke it, its registration as an AppFlow connector (AWS::AppFlow::Connector through
 * aws-native), a connection (connector profile) whose credentials AppFlow keeps in Secrets Manager, and an
 * example flow from one table to an S3 bucket owned here.
 */
export function appflowApps({ cfg, provider, network, data }: AppsBuildContext): AppflowAppOutputs {
  const ac = cfg.appflowConnector;
  if (!ac || !ac.enabled) return {};
  const label = connectorLabelOf(cfg);
  const region = cfg.accounts.a.region ?? cfg.region;
  const account = aws.getCallerIdentityOutput({}, { provider }).accountId;
  const name = "appflow-connector";

  // The database: the data role's cluster across the Transit Gateway, or a cluster of its own here.
  let dbFlow: Flow;
  let endpoint: pulumi.Output<string>;
  let readerEndpoint: pulumi.Output<string>;
  let port: pulumi.Output<number>;
  let databaseName: pulumi.Input<string>;
  let local: AuroraPostgres | undefined;
  if (ac.database === "data") {
    assertDataOutputs(data, "the AppFlow connector");
    endpoint = requiredDataOutput(data.endpoint, "endpoint", cfg);
    readerEndpoint = data.readerEndpoint.apply((e) => String(e ?? ""));
    port = data.port.apply((p) => Number(p) || 5432);
    databaseName = ac.databaseName ?? cfg.data.database.databaseName;
    // The data side admits account A's network by CIDR (TGW security-group references are opt-in and same-region only).
    dbFlow = {
      to: { kind: "cidr", cidr: cfg.dataPlan.cidrBlock, name: "data VPC" },
      port: 5432,
      purpose: "PostgreSQL on the data role's Aurora cluster via the Transit Gateway",
    };
  } else {
    const subnets = new aws.rds.SubnetGroup(
      `${name}-db-subnets`,
      {
        subnetIds: network.privateSubnetIds,
        description: "AppFlow connector database: the network VPC's private subnets",
      },
      { provider },
    );
    const plan = planAuroraPostgres(
      {
        ...ac.local,
        databaseName: ac.databaseName ?? "app",
        logRetentionInDays: cfg.logRetentionInDays,
        deletionProtection: cfg.environment === "prod",
        skipFinalSnapshot: cfg.environment !== "prod",
      },
      `${P}:appflowConnector.local.`,
    );
    local = new AuroraPostgres(
      `${name}-db`,
      {
        vpcId: network.vpcId,
        subnetGroupName: subnets.name,
        engineVersion: plan.engineVersion,
        instanceClass: plan.instanceClass,
        minCapacity: plan.minCapacity,
        maxCapacity: plan.maxCapacity,
        secondsUntilAutoPause: plan.secondsUntilAutoPause,
        instanceCount: plan.instanceCount,
        databaseName: plan.databaseName,
        port: plan.port,
        deletionProtection: plan.deletionProtection,
        skipFinalSnapshot: plan.skipFinalSnapshot,
        dataApi: false,
        logRetentionInDays: plan.logRetentionInDays,
      },
      { provider, parent: subnets },
    );
    endpoint = local.endpoint;
    readerEndpoint = local.readerEndpoint;
    port = local.port;
    databaseName = plan.databaseName;
    dbFlow = {
      to: { kind: "securityGroup", securityGroupId: local.securityGroupId, name: "connector-db" },
      port: plan.port,
      purpose: "PostgreSQL on the connector's Aurora cluster",
    };
  }

  // Only the secrets AppFlow creates for this connector's connections (appflow!<account>-<label>-…).
  const secretPattern = pulumi.interpolate`arn:aws:secretsmanager:${region}:${account}:secret:appflow!${account}-${label}-*`;
  const fn = new VpcFunction(
    name,
    {
      source: "appflow-connector",
      description: `AppFlow custom connector ${label}: PostgreSQL source`,
      vpcId: network.vpcId,
      subnetIds: network.privateSubnetIds,
      flows: [
        serviceFlow(cfg, network, "secretsmanager", "read AppFlow connection credentials from Secrets Manager"),
        dbFlow,
      ],
      environment: {
        ALLOWED_DB_HOSTS: pulumi
          .all([endpoint, readerEndpoint])
          .apply(([w, r]) => [...new Set([w, r].filter((h) => h))].join(",")),
        PG_CONNECT_TIMEOUT_MS: String(ac.connectTimeoutMs),
        PG_STATEMENT_TIMEOUT_MS: String(ac.statementTimeoutMs),
        RESPONSE_MAX_BYTES: String(ac.responseMaxBytes),
        MAX_PAGE_ROWS: String(ac.maxPageRows),
      },
      policyStatements: [
        {
          Sid: "ReadAppflowConnectionSecrets",
          Effect: "Allow",
          Action: ["secretsmanager:GetSecretValue"],
          Resource: secretPattern,
        },
      ],
      memorySize: ac.memoryMb,
      timeout: ac.timeoutSeconds,
      reservedConcurrency: ac.reservedConcurrency,
      logRetentionInDays: cfg.logRetentionInDays,
    },
    { provider },
  );
  allowToEndpoints(cfg, network, name, fn.securityGroupId, provider);
  local?.allowFrom(fn.securityGroupId, "PostgreSQL from the AppFlow connector");

  // AppFlow invokes the connector as appflow.amazonaws.com: only on behalf of this account's connectors, profiles and flows.
  const invoke = new aws.lambda.Permission(
    `${name}-appflow-invoke`,
    {
      action: "lambda:InvokeFunction",
      function: fn.functionName,
      principal: "appflow.amazonaws.com",
      sourceAccount: account,
      sourceArn: pulumi.interpolate`arn:aws:appflow:${region}:${account}:*`,
    },
    { provider, parent: fn },
  );

  // AppFlow calls the function (DescribeConnectorConfiguration) while registering it: the permission comes first.
  const connector = new appflow.Connector(
    `${name}-registration`,
    {
      connectorLabel: label,
      description: `PostgreSQL source (${cfg.stack}) through the VPC Lambda ${name}`,
      connectorProvisioningType: "LAMBDA",
      connectorProvisioningConfig: { lambda: { lambdaArn: fn.functionArn } },
    },
    { provider: nativeProviderFor(cfg, "a"), parent: fn, dependsOn: [invoke] },
  );

  const out: NonNullable<AppflowAppOutputs["appflowConnector"]> = {
    ...functionOutputs(fn),
    connectorLabel: label,
    connectorArn: connector.connectorArn,
    database: ac.database,
    databaseEndpoint: endpoint,
  };
  if (!ac.createConnection) return { appflowConnector: out };

  // The connection: AppFlow stores the credentials in a secret of its own (the one the function may read) and
  // validates them through the connector, so the database user must exist before this is created.
  const password = checkedSecret(P, "appflowDbPassword", secretFix("appflowDbPassword"));
  const connectionName = ac.connectionName ?? `${label}-connection`;
  const profile = new aws.appflow.ConnectorProfile(
    `${name}-connection`,
    {
      name: connectionName,
      connectorType: "CustomConnector",
      connectorLabel: connector.connectorLabel.apply((l) => l ?? label),
      connectionMode: "Public",
      connectorProfileConfig: {
        connectorProfileCredentials: {
          customConnector:
            ac.authenticationType === "BASIC"
              ? { authenticationType: "BASIC", basic: { username: ac.dbUsername, password } }
              : {
                  authenticationType: "CUSTOM",
                  custom: {
                    customAuthenticationType: CUSTOM_AUTH_TYPE,
                    credentialsMap: { username: ac.dbUsername, password },
                  },
                },
        },
        connectorProfileProperties: {
          customConnector: {
            profileProperties: { host: endpoint, port: port.apply(String), database: databaseName, schema: ac.schema },
          },
        },
      },
    },
    { provider, parent: fn },
  );
  out.connectionName = connectionName;

  const fl = ac.flow;
  if (!fl || !fl.enabled) return { appflowConnector: out };
  const bucket = new aws.s3.Bucket(`${name}-flow-bucket`, { forceDestroy: cfg.environment !== "prod" }, { provider });
  guardPrivateBucket(`${name}-flow-bucket`, bucket, { provider });
  // AppFlow writes as its service principal, for flows in this account only (confused-deputy guard).
  const bucketPolicy = new aws.s3.BucketPolicy(
    `${name}-flow-bucket-policy`,
    {
      bucket: bucket.id,
      policy: pulumi.all([bucket.arn, account]).apply(([arn, acct]) =>
        JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            {
              Sid: "AppflowWritesFlowOutput",
              Effect: "Allow",
              Principal: { Service: "appflow.amazonaws.com" },
              Action: [
                "s3:PutObject",
                "s3:AbortMultipartUpload",
                "s3:ListMultipartUploadParts",
                "s3:ListBucketMultipartUploads",
                "s3:GetBucketAcl",
                "s3:PutObjectAcl",
              ],
              Resource: [arn, `${arn}/*`],
              Condition: { StringEquals: { "aws:SourceAccount": acct } },
            },
            denyInsecureTransport(arn),
          ],
        }),
      ),
    },
    { provider, parent: bucket },
  );

  const flowName = fl.name ?? `${label}-to-s3`;
  new aws.appflow.Flow(
    `${name}-example-flow`,
    {
      name: flowName,
      description: `Copies ${ac.schema}.${fl.entity} from PostgreSQL into the flow bucket, prefix ${fl.bucketPrefix.replace(/[^\w.-]/g, "-")}, on demand`,
      sourceFlowConfig: {
        connectorType: "CustomConnector",
        apiVersion: API_VERSION,
        connectorProfileName: profile.name,
        sourceConnectorProperties: { customConnector: { entityName: fl.entity } },
      },
      destinationFlowConfigs: [
        {
          connectorType: "S3",
          destinationConnectorProperties: {
            s3: {
              bucketName: bucket.bucket,
              bucketPrefix: fl.bucketPrefix,
              s3OutputFormatConfig: {
                fileType: "JSON",
                prefixConfig: { prefixType: "PATH", prefixFormat: "DAY" },
                aggregationConfig: { aggregationType: "None" },
              },
            },
          },
        },
      ],
      tasks: [
        // Which fields to read (the connector's PROJECTION), then each mapped to the same name.
        { taskType: "Filter", sourceFields: fl.fields, connectorOperators: [{ customConnector: "PROJECTION" }] },
        ...fl.fields.map((f) => ({
          taskType: "Map",
          sourceFields: [f],
          destinationField: f,
          connectorOperators: [{ customConnector: "NO_OP" }],
        })),
      ],
      triggerConfig: { triggerType: "OnDemand" },
    },
    { provider, parent: fn, dependsOn: [bucketPolicy] },
  );
  out.flowName = flowName;
  out.bucketName = bucket.bucket;
  return { appflowConnector: out };
}

/** docs/designs.md §4: the AppFlow custom connector for a PostgreSQL source (docs/appflow-connector.md). */
export const appflowConnectorFeature: Feature<AppflowAppOutputs> = {
  name: "appflow-connector",
  configErrors: ({ cfg, failed, secretsPresent }) =>
    failed.has("appflowConnector") || failed.has("data") || failed.has("network") || failed.has("transitGateway")
      ? []
      : appflowConfigErrors(cfg, secretsPresent.appflowDbPassword),
  apps: appflowApps,
};
