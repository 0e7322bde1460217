import * as fs from "fs";
import * as path from "path";
import YAML from "yaml";
import { REPO_ROOT } from "../../components/bundle";
import { synthForTest } from "../support/graph";
import type { Graph } from "../../ops/synth-core";
import { runCheck } from "../../ops/check/report";
import { estimateCost } from "../../ops/check/cost";

// brownfield (an adopted VPC) with flow logs to S3 and no bucket named: the kit creates the flow log on the
// existing VPC and a private bucket for it, whose policy admits log delivery for this account only.
let graph: Graph;

beforeAll(async () => {
  const base = YAML.parse(fs.readFileSync(path.join(REPO_ROOT, "Pulumi.brownfield.yaml"), "utf8")).config;
  const { result } = await synthForTest("brownfield", {
    "vpc-lambda-kit:network": {
      ...base["vpc-lambda-kit:network"],
      flowLogs: { enabled: true, destination: "s3", retentionInDays: 90, trafficType: "REJECT" },
    },
  });
  graph = result.graph;
});

const of = (type: string) => graph.resources.filter((r) => r.type === type);
const named = (name: string) => graph.resources.find((r) => r.name === name);

test("the adopted VPC gets a flow log to a bucket the kit creates, after the bucket's policy", () => {
  const [log] = of("aws:ec2/flowLog:FlowLog");
  const bucket = named("egress-flow-logs-bucket")!;
  const policy = named("egress-flow-logs-bucket-policy")!;
  expect(log.name).toBe("egress-flow-log");
  expect(log.inputs).toMatchObject({
    vpcId: "vpc-0a1b2c3d4e5f60718",
    trafficType: "REJECT",
    logDestinationType: "s3",
    logDestination: `arn:aws:s3:::${bucket.id}`,
  });
  expect(log.parent).toBe(graph.resources.find((r) => r.type === "vpc-lambda-kit:network:ExistingEgressVpc")?.urn);
  expect(log.dependencies).toContain(policy.urn);
  for (const child of ["egress-flow-logs-bucket-pab", "egress-flow-logs-bucket-sse", "egress-flow-logs-bucket-expiry"])
    expect(named(child)?.parent).toBe(bucket.urn);
  expect(
    (named("egress-flow-logs-bucket-expiry")!.inputs.rules as { expiration: { days: number } }[])[0].expiration,
  ).toEqual({ days: 90 });
  expect(named("egress-flow-logs-bucket-pab")!.inputs).toMatchObject({
    blockPublicAcls: true,
    restrictPublicBuckets: true,
  });
});

test("the kit's bucket policy admits log delivery for this account and region, and TLS only", () => {
  const bucket = named("egress-flow-logs-bucket")!;
  const doc = JSON.parse(named("egress-flow-logs-bucket-policy")!.inputs.policy as string);
  const arn = `arn:aws:s3:::${bucket.id}`;
  expect(doc.Statement.map((s: { Sid: string }) => s.Sid)).toEqual([
    "AWSLogDeliveryWrite",
    "AWSLogDeliveryAclCheck",
    "DenyInsecureTransport",
  ]);
  expect(doc.Statement[0].Resource).toBe(`${arn}/AWSLogs/111111111111/*`);
  expect(doc.Statement[0].Condition.StringEquals["aws:SourceAccount"]).toBe("111111111111");
  expect(doc.Statement[1].Condition.ArnLike["aws:SourceArn"]).toBe("arn:aws:logs:ap-northeast-1:111111111111:*");
  // Nothing for a bucket owner elsewhere to add: the output is absent.
  expect(graph.outputs.flowLogsBucketPolicy).toBeUndefined();
  // The S3 destination needs no role and no log group.
  expect(of("aws:cloudwatch/logGroup:LogGroup").filter((g) => /flow/.test(g.name))).toEqual([]);
});

test("the stack still passes the check with its flow logs in S3", async () => {
  const { report, text } = await runCheck(graph, { diagram: false });
  expect([report.ok, text.split("\n")[0]]).toEqual([true, expect.stringMatching(/PASS/)]);
});

test("the cost estimate prices the delivery to S3 and the kit bucket's storage for its 90 days, on this stack's bill", () => {
  const report = estimateCost(graph);
  const bucket = named("egress-flow-logs-bucket")!;
  const flowLines = report.lines.filter((l) => /flow/.test(l.resource));
  expect(flowLines.map((l) => [l.category, l.resource, l.quantity, l.priceKey])).toEqual([
    ["Flow logs to S3", "egress-flow-log (VPC flow log) delivery", 10, "cloudwatchLogs.vendedS3DeliveryGb"],
    ["S3 storage", `${bucket.name} (90 days of egress-flow-log)`, (10 * 90) / (730 / 24), "s3.standardGbMonth"],
  ]);
  expect(report.byCategory["Flow logs to S3"]).toBeCloseTo(10 * 0.38, 10);
  expect(report.byCategory["S3 storage"]).toBeCloseTo(((10 * 90) / (730 / 24)) * 0.025, 10);
  expect(report.billedToBucketOwner).toEqual([]);
});
