import * as fs from "fs";
import * as path from "path";
import YAML from "yaml";
import { REPO_ROOT } from "../../components/bundle";
import { synthForTest } from "../support/graph";
import type { Graph } from "../../ops/synth-core";
import { runCheck } from "../../ops/check/report";
import { estimateCost, formatCost } from "../../ops/check/cost";

// dev with its VPC's and its Transit Gateway's flow logs going to a central log-archive bucket in another
// account: no log group, role or bucket is created for them; the stack output gives the bucket's owner
// the statements to add (delivery.logs.amazonaws.com, with aws:SourceAccount and aws:SourceArn).
const ARCHIVE = "arn:aws:s3:::org-log-archive/network";
let graph: Graph;

beforeAll(async () => {
  const base = YAML.parse(fs.readFileSync(path.join(REPO_ROOT, "Pulumi.dev.yaml"), "utf8")).config;
  const flowLogs = { enabled: true, destination: "s3", s3BucketArn: ARCHIVE };
  const { result } = await synthForTest("dev", {
    "vpc-lambda-kit:network": { ...base["vpc-lambda-kit:network"], flowLogs },
    "vpc-lambda-kit:transitGateway": { ...base["vpc-lambda-kit:transitGateway"], flowLogs: { ...flowLogs } },
  });
  graph = result.graph;
});

const of = (type: string) => graph.resources.filter((r) => r.type === type);

test("the VPC and the Transit Gateway log to the given bucket, with nothing created for CloudWatch", () => {
  const logs = of("aws:ec2/flowLog:FlowLog");
  expect(logs.map((l) => l.name).sort()).toEqual(["egress-flow-log", "transit-flow-log"]);
  for (const l of logs) {
    expect(l.inputs.logDestinationType).toBe("s3");
    expect(l.inputs.logDestination).toBe(ARCHIVE);
    expect(l.inputs.iamRoleArn).toBeUndefined();
  }
  const vpc = graph.resources.find((r) => r.type === "aws:ec2/vpc:Vpc");
  const tgw = of("aws:ec2transitgateway/transitGateway:TransitGateway")[0];
  const vpcLog = logs.find((l) => l.name === "egress-flow-log")!;
  expect([vpcLog.inputs.vpcId, vpcLog.inputs.trafficType]).toEqual([vpc?.id, "ALL"]);
  const tgwLog = logs.find((l) => l.name === "transit-flow-log")!;
  // Transit Gateway flow logs: no traffic type, a 60-second aggregation interval (CreateFlowLogs).
  expect([tgwLog.inputs.transitGatewayId, tgwLog.inputs.trafficType, tgwLog.inputs.maxAggregationInterval]).toEqual([
    tgw.id,
    undefined,
    60,
  ]);
  expect(tgwLog.parent).toBe(graph.resources.find((r) => r.type === "vpc-lambda-kit:network:TgwOwner")?.urn);
  expect(graph.resources.filter((r) => /flow-logs/.test(r.name))).toEqual([]);
  expect(of("aws:s3/bucket:Bucket").filter((b) => /flow-logs/.test(b.name))).toEqual([]);
});

test("the stack output gives the bucket owner's statements, scoped to this account and region", () => {
  const out = graph.outputs.flowLogsBucketPolicy as Record<string, { Statement: Record<string, unknown>[] }>;
  expect(Object.keys(out)).toEqual([ARCHIVE]);
  expect(out[ARCHIVE].Statement).toEqual([
    {
      Sid: "AWSLogDeliveryWrite",
      Effect: "Allow",
      Principal: { Service: "delivery.logs.amazonaws.com" },
      Action: "s3:PutObject",
      Resource: "arn:aws:s3:::org-log-archive/network/AWSLogs/111111111111/*",
      Condition: {
        StringEquals: { "aws:SourceAccount": "111111111111", "s3:x-amz-acl": "bucket-owner-full-control" },
        ArnLike: { "aws:SourceArn": "arn:aws:logs:ap-northeast-1:111111111111:*" },
      },
    },
    {
      Sid: "AWSLogDeliveryAclCheck",
      Effect: "Allow",
      Principal: { Service: "delivery.logs.amazonaws.com" },
      Action: ["s3:GetBucketAcl", "s3:ListBucket"],
      Resource: "arn:aws:s3:::org-log-archive",
      Condition: {
        StringEquals: { "aws:SourceAccount": "111111111111" },
        ArnLike: { "aws:SourceArn": "arn:aws:logs:ap-northeast-1:111111111111:*" },
      },
    },
  ]);
});

test("the stack still passes the check with its flow logs in S3", async () => {
  const { report, text } = await runCheck(graph, { diagram: false });
  expect([report.ok, text.split("\n")[0]]).toEqual([true, expect.stringMatching(/PASS/)]);
});

test("the cost estimate bills both deliveries to this stack and the archive's storage to the bucket's owner", () => {
  const report = estimateCost(graph);
  const stored = (10 * 365) / (730 / 24);
  expect(
    report.lines.filter((l) => /flow log/.test(l.resource)).map((l) => [l.category, l.resource, l.priceKey]),
  ).toEqual([
    ["Flow logs to S3", "egress-flow-log (VPC flow log) delivery", "cloudwatchLogs.vendedS3DeliveryGb"],
    ["Flow logs to S3", "transit-flow-log (TGW flow log) delivery", "cloudwatchLogs.vendedS3DeliveryGb"],
  ]);
  expect(report.byCategory["Flow logs to S3"]).toBeCloseTo(2 * 10 * 0.38, 10);
  expect(report.byCategory["S3 storage"]).toBe(0);
  expect(report.billedToBucketOwner.map((l) => [l.resource, l.quantity, l.priceKey])).toEqual([
    [`${ARCHIVE} (365 days of egress-flow-log)`, stored, "s3.standardGbMonth"],
    [`${ARCHIVE} (365 days of transit-flow-log)`, stored, "s3.standardGbMonth"],
  ]);
  // The owner's share is not in this stack's total.
  const own = report.lines.reduce((s, l) => s + l.monthly, 0);
  expect(report.total).toBeCloseTo(own, 10);
  expect(formatCost([report])).toMatch(
    /billed to the flow-log bucket's owner, not in the total .*: arn:aws:s3:::org-log-archive\/network \(365 days of egress-flow-log\) \$3\.00, .*; \$6\.00\/month\./,
  );
});
