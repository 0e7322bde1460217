import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { BundleOptions, bundleFunction, FunctionBundle, LAMBDA_ARCHITECTURE, LAMBDA_RUNTIME } from "./bundle";
import { scheduleProblem } from "./schedule";
import { ConfigError, throwIfAny } from "./errors";
import { retentionErrors } from "./defaults";
import { describeFlow, egressRulesFor, Flow } from "./flows";

/**
 * The EC2 actions Lambda needs to attach a function to a VPC: the same three the usual recipe lists
 * (AWSLambdaVPCAccessExecutionRole's core). They cannot be scoped to resources: Describe* never can,
 * and Lambda creates the ENIs on the function's behalf.
 */
export const VPC_ENI_ACTIONS = [
  "ec2:CreateNetworkInterface",
  "ec2:DescribeNetworkInterfaces",
  "ec2:DeleteNetworkInterface",
];

export interface VpcFunctionArgs {
  /** Folder under `functions/` holding `index.ts`; bundled with esbuild at program time. */
  source: string;
  /** Bundle options (aliases such as a user transform module). */
  bundle?: BundleOptions;
  /** The VPC the function's security group lives in. */
  vpcId: pulumi.Input<string>;
  /** Subnets for the function's ENIs: private subnets only (a Lambda ENI never gets a public IP). */
  subnetIds: pulumi.Input<pulumi.Input<string>[]>;
  /** Every network flow the function intends; its egress rules are derived from these and nothing else. */
  flows: Flow[];
  /** Environment variables (no secrets: pass a secret's ARN and grant read on it instead). */
  environment?: Record<string, pulumi.Input<string>>;
  /** Extra IAM statements, each as narrow as the caller can make it. Default none. */
  policyStatements?: pulumi.Input<aws.iam.PolicyStatement>[];
  /** Memory in MB. Default 256. */
  memorySize?: number;
  /** Timeout in seconds. Default 60. */
  timeout?: number;
  /** Log retention in days. Default 30. */
  logRetentionInDays?: number;
  /** Reserved concurrency (e.g. 1 for a batch that must never overlap). Default unreserved. */
  reservedConcurrency?: number;
  /** Description shown in the console. */
  description?: string;
  /** Tags for every taggable child. */
  tags?: Record<string, string>;
}

/**
 * A Lambda function from `functions/<source>/`, bundled for the Lambda runtime and attached to a
 * VPC with its own least-privilege role, its own security group (no ingress, egress only for the
 * declared flows) and its own log group with retention.
 */
export class VpcFunction extends pulumi.ComponentResource {
  /** The function's ARN. */
  public readonly functionArn: pulumi.Output<string>;
  /** The function's physical name. */
  public readonly functionName: pulumi.Output<string>;
  /** The function's security group: reference it from a target's ingress (`allowFrom`). */
  public readonly securityGroupId: pulumi.Output<string>;
  /** The execution role's ARN and name. */
  public readonly roleArn: pulumi.Output<string>;
  public readonly roleName: pulumi.Output<string>;
  /** The log group the function writes to. */
  public readonly logGroupName: pulumi.Output<string>;
  /** The deployed bundle (size, hash, code). */
  public readonly bundle: FunctionBundle;
  /** The declared flows. */
  public readonly flows: Flow[];
  /** The underlying function, for permissions and event sources. */
  public readonly fn: aws.lambda.Function;
  private readonly name: string;

  constructor(name: string, args: VpcFunctionArgs, opts: pulumi.ComponentResourceOptions = {}) {
    // Validate before registering anything, the component included.
    const errors: ConfigError[] = [];
    if (Array.isArray(args.subnetIds) && args.subnetIds.length === 0)
      errors.push(new ConfigError(`${name}.subnetIds`, "no subnets given", "pass the VPC's private subnet ids"));
    const memory = args.memorySize ?? 256;
    if (!Number.isInteger(memory) || memory < 128 || memory > 10240)
      errors.push(
        new ConfigError(`${name}.memorySize`, `${memory} MB is outside Lambda's range`, "use 128 to 10240 MB"),
      );
    const timeout = args.timeout ?? 60;
    if (!Number.isInteger(timeout) || timeout < 1 || timeout > 900)
      errors.push(new ConfigError(`${name}.timeout`, `${timeout} s is outside Lambda's range`, "use 1 to 900 seconds"));
    const retention = args.logRetentionInDays ?? 30;
    errors.push(...retentionErrors(`${name}.logRetentionInDays`, retention));
    throwIfAny(errors);
    const rules = egressRulesFor(name, args.flows);
    const bundle = bundleFunction(args.source, bundleOptionsFor(args));
    super(
      "vpc-lambda-kit:functions:VpcFunction",
      name,
      {
        source: args.source,
        bundleSha256: bundle.sha256,
        flows: args.flows.map(describeFlow),
        flowSpecs: args.flows.map(flowSpec),
      },
      opts,
    );
    this.name = name;
    this.flows = args.flows;
    this.bundle = bundle;

    const child = { parent: this };
    const tags = { ...(args.tags ?? {}) };

    const logGroup = new aws.cloudwatch.LogGroup(`${name}-logs`, { retentionInDays: retention, tags }, child);

    const role = new aws.iam.Role(
      `${name}-role`,
      {
        assumeRolePolicy: JSON.stringify({
          Version: "2012-10-17",
          Statement: [{ Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" }],
        }),
        tags,
      },
      child,
    );
    const statements: pulumi.Input<aws.iam.PolicyStatement>[] = [
      { Sid: "VpcEni", Effect: "Allow", Action: VPC_ENI_ACTIONS, Resource: "*" },
      {
        Sid: "Logs",
        Effect: "Allow",
        Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
        Resource: pulumi.interpolate`${logGroup.arn}:*`,
      },
      ...(args.policyStatements ?? []),
    ];
    const policy = new aws.iam.RolePolicy(
      `${name}-policy`,
      {
        role: role.id,
        policy: pulumi.output(statements).apply((s) => JSON.stringify({ Version: "2012-10-17", Statement: s })),
      },
      { parent: role },
    );

    // The provider removes AWS's default allow-all egress rule on create, so the group starts closed.
    const sg = new aws.ec2.SecurityGroup(
      `${name}-sg`,
      {
        vpcId: args.vpcId,
        description: `${name}: Lambda ENIs; egress only for declared flows`,
        revokeRulesOnDelete: true,
        tags: { ...tags, Name: `${name}-sg` },
      },
      child,
    );
    for (const rule of rules) {
      new aws.vpc.SecurityGroupEgressRule(
        `${name}-egress-${rule.key.replace(/[^a-z0-9-]/gi, "-")}`,
        {
          securityGroupId: sg.id,
          ipProtocol: rule.protocol,
          fromPort: rule.port,
          toPort: rule.port,
          cidrIpv4: rule.cidrIpv4,
          referencedSecurityGroupId: rule.referencedSecurityGroupId,
          prefixListId: rule.prefixListId,
          description: rule.description,
        },
        { parent: sg },
      );
    }

    const fn = new aws.lambda.Function(
      `${name}-fn`,
      {
        description: args.description,
        runtime: LAMBDA_RUNTIME,
        architectures: [LAMBDA_ARCHITECTURE],
        handler: "index.handler",
        code: new pulumi.asset.AssetArchive({ "index.js": new pulumi.asset.StringAsset(this.bundle.code) }),
        role: role.arn,
        memorySize: memory,
        timeout,
        reservedConcurrentExecutions: args.reservedConcurrency,
        vpcConfig: { subnetIds: args.subnetIds, securityGroupIds: [sg.id] },
        environment: args.environment ? { variables: args.environment } : undefined,
        loggingConfig: {
          logFormat: "JSON",
          logGroup: logGroup.name,
          applicationLogLevel: "INFO",
          systemLogLevel: "WARN",
        },
        tags,
      },
      {
        parent: this,
        // Lambda checks the ENI permissions when the function is created: the policy must exist first.
        dependsOn: [policy, logGroup],
      },
    );
    this.fn = fn;
    this.functionArn = fn.arn;
    this.functionName = fn.name;
    this.securityGroupId = sg.id;
    this.roleArn = role.arn;
    this.roleName = role.name;
    this.logGroupName = logGroup.name;
    this.registerOutputs({
      functionArn: this.functionArn,
      securityGroupId: this.securityGroupId,
      roleArn: this.roleArn,
    });
  }

  /**
   * Runs the function on an EventBridge schedule (`rate(…)` or `cron(…)`). The invoke permission is
   * scoped to that one rule.
   */
  public schedule(expression: string, input?: Record<string, unknown>): aws.cloudwatch.EventRule {
    validateSchedule(expression, `${this.name}.schedule`);
    const name = this.name;
    const rule = new aws.cloudwatch.EventRule(`${name}-schedule`, { scheduleExpression: expression }, { parent: this });
    new aws.cloudwatch.EventTarget(
      `${name}-schedule-target`,
      {
        rule: rule.name,
        arn: this.functionArn,
        input: input ? JSON.stringify(input) : undefined,
      },
      { parent: rule },
    );
    new aws.lambda.Permission(
      `${name}-schedule-invoke`,
      {
        action: "lambda:InvokeFunction",
        function: this.functionName,
        principal: "events.amazonaws.com",
        sourceArn: rule.arn,
      },
      { parent: rule },
    );
    return rule;
  }
}

/**
 * The machine-readable form of a flow for the offline checker (ops/check): the target's ids
 * (security group, endpoint group, prefix list) resolve in graph.json, so the checker proves the
 * path to the very resource the function declared rather than guessing it from a name.
 */
function flowSpec(flow: Flow): Record<string, pulumi.Input<unknown>> {
  const to = flow.to;
  const base = { kind: to.kind, port: flow.port, protocol: flow.protocol ?? "tcp", purpose: flow.purpose };
  switch (to.kind) {
    case "internet":
      return { ...base, host: to.host, ...(to.cidrs ? { cidrs: to.cidrs } : {}) };
    case "cidr":
      return { ...base, cidr: to.cidr, ...(to.name ? { name: to.name } : {}) };
    case "awsService":
      return {
        ...base,
        service: to.service,
        ...(to.endpointSecurityGroupId ? { securityGroupId: to.endpointSecurityGroupId } : {}),
        ...(to.prefixListId ? { prefixListId: to.prefixListId } : {}),
      };
    case "securityGroup":
      return { ...base, name: to.name, securityGroupId: to.securityGroupId };
  }
}

/** EventBridge schedule syntax: rate(N unit) or a six-field cron(…) with valid fields (components/schedule.ts). */
export function validateSchedule(expression: string, key: string): void {
  const problem = scheduleProblem(expression);
  if (problem)
    throw new ConfigError(
      key,
      problem,
      'use rate(15 minutes) or e.g. cron(0 18 * * ? *): six fields, exactly one of day-of-month and day-of-week "?"',
    );
}

/**
 * The bundle options a function gets: the caller's, plus, for a function whose `DB_ACCESS` is fixed at deploy time,
 * a bundle of that access path only; on the pg path, with only the database region's RDS CA certificates. That
 * region is `DB_SECRET_REGION` when the stack sets it (database and function in different regions), else the
 * function's own: `accounts.a.region`, else `aws:region`. A caller's explicit `dbAccess` / `rdsCaRegion` wins.
 */
export function bundleOptionsFor(args: Pick<VpcFunctionArgs, "bundle" | "environment">): BundleOptions {
  const opts: BundleOptions = { ...(args.bundle ?? {}) };
  const access = args.environment?.DB_ACCESS;
  if (opts.dbAccess === undefined && (access === "pg" || access === "data-api")) opts.dbAccess = access;
  if (opts.dbAccess === "pg" && opts.rdsCaRegion === undefined) {
    const secretRegion = args.environment?.DB_SECRET_REGION;
    const accounts = new pulumi.Config("vpc-lambda-kit").getObject<{ a?: { region?: string } }>("accounts");
    const region =
      typeof secretRegion === "string" ? secretRegion : (accounts?.a?.region ?? new pulumi.Config("aws").get("region"));
    if (region) opts.rdsCaRegion = region;
  }
  return opts;
}
