/**
 * Flow logs of a VPC or a Transit Gateway, to CloudWatch Logs or to S3: a central log-archive bucket
 * (usually in another account, whose owner adds the bucket-policy statement {@link flowLogsBucketPolicy}
 * gives), or a private bucket the kit creates. Used by FixedEgressVpc, ExistingEgressVpc and TgwOwner.
 * Rules and the bucket policy follow the Amazon VPC User Guide ("Publish flow logs to Amazon S3",
 * "Amazon S3 bucket permissions for flow logs") and the Transit Gateway guide ("Transit Gateway Flow
 * Logs"); bucket names follow the S3 User Guide ("General purpose bucket naming rules").
 */
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { ConfigError } from "./errors";
import { retentionErrors, serviceTrustPolicy } from "./defaults";
import { denyInsecureTransport, guardPrivateBucket } from "./private-bucket";

export type FlowLogsDestination = "cloudwatch" | "s3";

export interface FlowLogsArgs {
  /** Turn flow logs on. Default false. */
  enabled?: boolean;
  /** Where records go. Default "cloudwatch". */
  destination?: FlowLogsDestination;
  /**
   * destination "s3": the bucket (and optional folder) records go to, `arn:aws:s3:::<bucket>[/<folder>]`,
   * e.g. a log-archive account's bucket; its owner adds the statement in `bucketPolicy`. Default: the
   * kit creates a private bucket in this account.
   */
  s3BucketArn?: string;
  /** Days to keep records: the log group's retention, or the kit-created bucket's expiry. Default 30. */
  retentionInDays?: number;
  /** VPC flow logs only: ACCEPT, REJECT or ALL. Default ALL. Transit Gateway flow logs record all traffic. */
  trafficType?: "ACCEPT" | "REJECT" | "ALL";
}

/** What the flow log watches. */
export type FlowLogsSubject = { vpcId: pulumi.Input<string> } | { transitGatewayId: pulumi.Input<string> };

const ARN_RE = /^arn:(aws|aws-cn|aws-us-gov):s3:::([^/]+)(?:\/(.*))?$/;

/** The bucket, folder and partition of an S3 destination ARN; undefined when it is not one. */
function parseS3Destination(arn: string): { partition: string; bucket: string; folder: string } | undefined {
  const m = ARN_RE.exec(arn);
  if (!m) return undefined;
  return { partition: m[1], bucket: m[2], folder: (m[3] ?? "").replace(/\/+$/, "") };
}

/** Why `arn` cannot be a flow-log S3 destination, or undefined. */
export function s3BucketArnProblem(arn: string): string | undefined {
  const d = parseS3Destination(arn);
  if (!d) return `"${arn}" is not an S3 bucket ARN (arn:aws:s3:::<bucket>[/<folder>])`;
  const b = d.bucket;
  if (b.length < 3 || b.length > 63) return `bucket name "${b}" has ${b.length} characters; S3 allows 3 to 63`;
  if (!/^[a-z0-9][a-z0-9.-]*[a-z0-9]$/.test(b))
    return `bucket name "${b}" may hold only lower-case letters, digits, dots and hyphens, and must begin and end with a letter or digit`;
  if (b.includes("..")) return `bucket name "${b}" has two adjacent dots`;
  if (/^\d+\.\d+\.\d+\.\d+$/.test(b)) return `bucket name "${b}" is formatted as an IP address`;
  if (/^(xn--|sthree-|amzn-s3-demo-)/.test(b) || /(-s3alias|--ol-s3|--x-s3|--table-s3)$/.test(b))
    return `bucket name "${b}" uses a prefix or suffix S3 reserves`;
  if (d.folder.split("/").some((part) => part === "AWSLogs"))
    return `the folder "${d.folder}" uses AWSLogs, which flow logs reserve for their own prefix`;
  return undefined;
}

/**
 * Config problems of a flow-logs block, each naming `<key>.<field>`: a bad bucket ARN, a bucket with
 * the CloudWatch destination, a retention CloudWatch does not offer, a traffic type on a Transit Gateway.
 */
export function flowLogsErrors(args: FlowLogsArgs | undefined, key: string, subject: "vpc" | "tgw"): ConfigError[] {
  if (!args) return [];
  const errors: ConfigError[] = [];
  const destination = args.destination ?? "cloudwatch";
  if (args.s3BucketArn !== undefined) {
    if (destination !== "s3")
      errors.push(
        new ConfigError(
          `${key}.s3BucketArn`,
          `a bucket is given but the destination is ${destination}`,
          "set destination: s3, or drop s3BucketArn",
        ),
      );
    const problem = s3BucketArnProblem(args.s3BucketArn);
    if (problem)
      errors.push(
        new ConfigError(
          `${key}.s3BucketArn`,
          problem,
          "give the log-archive bucket's ARN, e.g. arn:aws:s3:::org-log-archive/vpc-flow-logs, or drop it to let the kit create a bucket",
        ),
      );
  }
  const retention = args.retentionInDays;
  if (retention !== undefined) errors.push(...retentionErrors(`${key}.retentionInDays`, retention));
  if (subject === "tgw" && args.trafficType !== undefined)
    errors.push(
      new ConfigError(
        `${key}.trafficType`,
        "Transit Gateway flow logs record all traffic; CreateFlowLogs refuses a traffic type for them",
        "drop trafficType",
      ),
    );
  return errors;
}

/**
 * The bucket-policy statements the owner of an S3 destination adds so this account's flow logs can
 * deliver: log delivery may write under `<folder>/AWSLogs/<account>/` only, with the bucket owner in
 * full control, and check the bucket's ACL, only for deliveries on behalf of this account and region
 * (aws:SourceAccount, aws:SourceArn: the confused-deputy guard the VPC User Guide gives).
 */
export function flowLogsBucketPolicy(s3Arn: string, accountId: string, region: string) {
  const d = parseS3Destination(s3Arn);
  if (!d) throw new ConfigError("s3BucketArn", s3BucketArnProblem(s3Arn) ?? "not an S3 ARN", "give a bucket ARN");
  const bucketArn = `arn:${d.partition}:s3:::${d.bucket}`;
  const source = {
    StringEquals: { "aws:SourceAccount": accountId },
    ArnLike: { "aws:SourceArn": `arn:${d.partition}:logs:${region}:${accountId}:*` },
  };
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "AWSLogDeliveryWrite",
        Effect: "Allow",
        Principal: { Service: "delivery.logs.amazonaws.com" },
        Action: "s3:PutObject",
        Resource: `${bucketArn}/${d.folder ? `${d.folder}/` : ""}AWSLogs/${accountId}/*`,
        Condition: {
          StringEquals: { ...source.StringEquals, "s3:x-amz-acl": "bucket-owner-full-control" },
          ArnLike: source.ArnLike,
        },
      },
      {
        Sid: "AWSLogDeliveryAclCheck",
        Effect: "Allow",
        Principal: { Service: "delivery.logs.amazonaws.com" },
        Action: ["s3:GetBucketAcl", "s3:ListBucket"],
        Resource: bucketArn,
        Condition: source,
      },
    ],
  };
}

/** What {@link createFlowLogs} made: the flow log, and for a given bucket the policy its owner adds. */
export interface FlowLogsResult {
  flowLog: aws.ec2.FlowLog;
  destination: FlowLogsDestination;
  /** The S3 destination (given, or the kit's bucket). */
  s3Arn?: pulumi.Output<string>;
  /** destination s3 with a given bucket: the bucket-policy document its owner must add (JSON). */
  bucketPolicy?: pulumi.Output<string>;
}

/**
 * Creates the flow log and what it needs, as children of `parent` named `${name}-flow-log…`:
 * CloudWatch: a log group with retention and a role only this account's flow-log service can assume;
 * S3 given: nothing else (the bucket's owner adds the policy); S3 not given: a private bucket with the
 * delivery statements, TLS only, and expiry after `retentionInDays`.
 */
export function createFlowLogs(
  name: string,
  subject: FlowLogsSubject,
  args: FlowLogsArgs,
  parent: pulumi.Resource,
  tags: (role: string) => Record<string, string>,
): FlowLogsResult {
  const child = { parent };
  const isTgw = "transitGatewayId" in subject;
  const account = aws.getCallerIdentityOutput({}, { parent }).accountId;
  const region = () => aws.getRegionOutput({}, { parent }).region;
  // Transit Gateway flow logs: no traffic type, and an aggregation interval of 60 s (CreateFlowLogs).
  const common = isTgw
    ? { transitGatewayId: subject.transitGatewayId, maxAggregationInterval: 60 }
    : { vpcId: subject.vpcId, trafficType: args.trafficType ?? "ALL" };
  if ((args.destination ?? "cloudwatch") === "cloudwatch") {
    const logGroup = new aws.cloudwatch.LogGroup(
      `${name}-flow-logs`,
      { retentionInDays: args.retentionInDays ?? 30, tags: tags("flow-logs") },
      child,
    );
    const role = new aws.iam.Role(
      `${name}-flow-logs-role`,
      {
        // Confused-deputy guard: only flow logs of this account may use the role.
        assumeRolePolicy: account.apply((accountId) => serviceTrustPolicy("vpc-flow-logs.amazonaws.com", accountId)),
        tags: tags("flow-logs-role"),
      },
      child,
    );
    new aws.iam.RolePolicy(
      `${name}-flow-logs-policy`,
      {
        role: role.id,
        policy: logGroup.arn.apply((arn) =>
          JSON.stringify({
            Version: "2012-10-17",
            Statement: [
              {
                Effect: "Allow",
                Action: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                Resource: [arn, `${arn}:*`],
              },
            ],
          }),
        ),
      },
      { parent: role },
    );
    const flowLog = new aws.ec2.FlowLog(
      `${name}-flow-log`,
      {
        ...common,
        logDestinationType: "cloud-watch-logs",
        logDestination: logGroup.arn,
        iamRoleArn: role.arn,
        tags: tags("flow-log"),
      },
      child,
    );
    return { flowLog, destination: "cloudwatch" };
  }
  if (args.s3BucketArn) {
    const s3Arn = pulumi.output(args.s3BucketArn);
    const flowLog = new aws.ec2.FlowLog(
      `${name}-flow-log`,
      { ...common, logDestinationType: "s3", logDestination: s3Arn, tags: tags("flow-log") },
      child,
    );
    const bucketPolicy = pulumi
      .all([account, region()])
      .apply(([a, r]) => JSON.stringify(flowLogsBucketPolicy(args.s3BucketArn!, a, r), null, 2));
    return { flowLog, destination: "s3", s3Arn, bucketPolicy };
  }
  const bucket = new aws.s3.Bucket(`${name}-flow-logs-bucket`, { tags: tags("flow-logs-bucket") }, child);
  const inBucket = { parent: bucket };
  guardPrivateBucket(`${name}-flow-logs-bucket`, bucket, inBucket);
  new aws.s3.BucketLifecycleConfiguration(
    `${name}-flow-logs-bucket-expiry`,
    {
      bucket: bucket.id,
      rules: [
        { id: "expire-flow-logs", status: "Enabled", filter: {}, expiration: { days: args.retentionInDays ?? 30 } },
      ],
    },
    inBucket,
  );
  // The delivery statements are in place before the flow log exists, so AWS adds no policy of its own.
  const policy = new aws.s3.BucketPolicy(
    `${name}-flow-logs-bucket-policy`,
    {
      bucket: bucket.id,
      policy: pulumi.all([bucket.arn, account, region()]).apply(([arn, a, r]) => {
        const doc = flowLogsBucketPolicy(arn, a, r);
        return JSON.stringify({ ...doc, Statement: [...doc.Statement, denyInsecureTransport(arn)] });
      }),
    },
    inBucket,
  );
  const flowLog = new aws.ec2.FlowLog(
    `${name}-flow-log`,
    { ...common, logDestinationType: "s3", logDestination: bucket.arn, tags: tags("flow-log") },
    { parent, dependsOn: [policy] },
  );
  return { flowLog, destination: "s3", s3Arn: bucket.arn };
}
