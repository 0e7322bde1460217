import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { loadConfig } from "../../stacks/config/load";
import { readStackConfig } from "../../ops/stack-config";
import { REPO_ROOT } from "../../components/bundle";
import {
  CATEGORIES,
  CostReport,
  DEFAULT_COST_ASSUMPTIONS,
  estimateCost,
  formatCost,
  invocationsPerMonth,
  PRICES,
} from "../../ops/check/cost";
import type { Graph } from "../../ops/synth-core";

// A tiny stack: one VPC over two AZs, one NAT with its EIP in AZ a, a Secrets Manager interface
// endpoint in both AZs, one Transit Gateway attachment, and one hourly arm64 function (512 MB) that
// talks to the internet, to the endpoint and to 10.1.0.0/16.
const P = "urn:pulumi:t::vpc-lambda-kit::pulumi:providers:aws::account-a";
function r(
  type: string,
  name: string,
  id: string,
  inputs: Record<string, unknown>,
  parent: string | null = null,
): Graph["resources"][number] {
  return { urn: `urn:pulumi:t::vpc-lambda-kit::${type}::${name}`, id, type, name, parent, provider: P, inputs };
}
const FN_COMPONENT = "urn:pulumi:t::vpc-lambda-kit::vpc-lambda-kit:functions:VpcFunction::sync";
const subnet = (name: string, id: string, cidrBlock: string, az: string) =>
  r("aws:ec2/subnet:Subnet", name, id, { vpcId: "vpc-1", cidrBlock, availabilityZone: `ap-northeast-1${az}` });
/** A tcp egress rule of the function's group sg-fn to `to` on `port`. */
const fnEgress = (name: string, id: string, to: Record<string, string>, port: number) =>
  r("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule", name, id, {
    securityGroupId: "sg-fn",
    ...to,
    fromPort: port,
    toPort: port,
    ipProtocol: "tcp",
  });

function tinyGraph(): Graph {
  return {
    project: "vpc-lambda-kit",
    stack: "tiny",
    outputs: {},
    resources: [
      r("aws:ec2/vpc:Vpc", "vpc", "vpc-1", {
        cidrBlock: "10.0.0.0/16",
        enableDnsHostnames: true,
        enableDnsSupport: true,
      }),
      subnet("public-a", "subnet-pa", "10.0.10.0/24", "a"),
      subnet("private-a", "subnet-a", "10.0.1.0/24", "a"),
      subnet("private-c", "subnet-c", "10.0.2.0/24", "c"),
      r("aws:ec2/eip:Eip", "nat-eip", "eipalloc-1", { domain: "vpc" }),
      r("aws:ec2/natGateway:NatGateway", "nat", "nat-1", { subnetId: "subnet-pa", allocationId: "eipalloc-1" }),
      r("aws:ec2/routeTable:RouteTable", "private-rt", "rtb-1", { vpcId: "vpc-1" }),
      r("aws:ec2/route:Route", "private-default", "r-1", {
        routeTableId: "rtb-1",
        destinationCidrBlock: "0.0.0.0/0",
        natGatewayId: "nat-1",
      }),
      r("aws:ec2/routeTableAssociation:RouteTableAssociation", "rta-a", "rtbassoc-a", {
        subnetId: "subnet-a",
        routeTableId: "rtb-1",
      }),
      r("aws:ec2/routeTableAssociation:RouteTableAssociation", "rta-c", "rtbassoc-c", {
        subnetId: "subnet-c",
        routeTableId: "rtb-1",
      }),
      r("aws:ec2/securityGroup:SecurityGroup", "endpoints-sg", "sg-ep", { vpcId: "vpc-1" }),
      r("aws:ec2/vpcEndpoint:VpcEndpoint", "secrets", "vpce-1", {
        vpcId: "vpc-1",
        vpcEndpointType: "Interface",
        privateDnsEnabled: true,
        serviceName: "com.amazonaws.ap-northeast-1.secretsmanager",
        subnetIds: ["subnet-a", "subnet-c"],
        securityGroupIds: ["sg-ep"],
      }),
      r("aws:ec2transitgateway/vpcAttachment:VpcAttachment", "tgw-attach", "tgw-attach-1", {
        vpcId: "vpc-1",
        transitGatewayId: "tgw-shared",
        subnetIds: ["subnet-a", "subnet-c"],
      }),
      r("aws:ec2/securityGroup:SecurityGroup", "sync-sg", "sg-fn", { vpcId: "vpc-1" }, FN_COMPONENT),
      fnEgress("sync-internet", "sgr-1", { cidrIpv4: "0.0.0.0/0" }, 443),
      fnEgress("sync-secrets", "sgr-2", { referencedSecurityGroupId: "sg-ep" }, 443),
      fnEgress("sync-db", "sgr-3", { cidrIpv4: "10.1.0.0/16" }, 5432),
      r(
        "aws:lambda/function:Function",
        "sync-fn",
        "sync-fn-0a1b2c3",
        {
          architectures: ["arm64"],
          memorySize: 512,
          vpcConfig: { subnetIds: ["subnet-a", "subnet-c"], securityGroupIds: ["sg-fn"] },
        },
        FN_COMPONENT,
      ),
      r(
        "aws:cloudwatch/eventRule:EventRule",
        "sync-schedule",
        "mock-aaa",
        { scheduleExpression: "rate(1 hour)" },
        FN_COMPONENT,
      ),
      r("aws:cloudwatch/eventTarget:EventTarget", "sync-schedule-target", "mock-bbb", {
        rule: "sync-schedule-1a2b3c4",
        arn: "arn:aws:lambda:ap-northeast-1:111111111111:function:sync-fn-0a1b2c3",
      }),
    ],
  };
}

describe("the price table", () => {
  test("every item has a positive price, a unit, an https source, a check date no later than the compile date and a confirmation flag", () => {
    expect(PRICES.region).toBe("ap-northeast-1");
    expect(PRICES.compiled).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    for (const [key, item] of Object.entries(PRICES.items)) {
      expect([
        key,
        item.price > 0,
        item.unit.length > 3,
        item.source.startsWith("https://"),
        /^\d{4}-\d{2}-\d{2}$/.test(item.checked) && item.checked <= PRICES.compiled,
        typeof item.confirmed,
      ]).toEqual([key, true, true, true, true, "boolean"]);
    }
  });

  test("holds every item the brief asks for", () => {
    expect(Object.keys(PRICES.items).sort()).toEqual([
      "apiGateway.restRequestMillion",
      "athena.tbScanned",
      "aurora.ioMillion",
      "aurora.serverlessV2.acuHour",
      "aurora.storageGbMonth",
      "classicLoadBalancer.gb",
      "classicLoadBalancer.hour",
      "cloudwatch.alarmMonth",
      "cloudwatch.customMetricMonth",
      "cloudwatchLogs.ingestGb",
      "cloudwatchLogs.vendedS3DeliveryGb",
      "ec2.interAzGb",
      "ec2.t4g.small.hour",
      "interfaceEndpoint.azHour",
      "interfaceEndpoint.gb",
      "lambda.arm.gbSecond",
      "lambda.requestMillion",
      "lambda.x86.gbSecond",
      "natGateway.gb",
      "natGateway.hour",
      "networkLoadBalancer.hour",
      "networkLoadBalancer.nlcuHour",
      "publicIpv4.hour",
      "s3.standardGbMonth",
      "transitGateway.attachmentHour",
      "transitGateway.gb",
    ]);
  });
});

describe("estimateCost on a tiny graph", () => {
  const report = estimateCost(tinyGraph());

  test("prices each resource from the table with the default assumptions (730 h/month)", () => {
    const lines = Object.fromEntries(
      report.lines.map((l) => [`${l.category}|${l.resource}`, [l.quantity, l.priceKey]]),
    );
    expect(lines).toEqual({
      "NAT gateways|nat": [730, "natGateway.hour"],
      "NAT data|all NAT gateways": [2, "natGateway.gb"],
      // private-c's traffic crosses to the NAT in AZ a: half of 2 GB, charged on both sides.
      "Inter-AZ to NAT|traffic to a NAT in another AZ": [2, "ec2.interAzGb"],
      "Public IPv4|nat-eip": [730, "publicIpv4.hour"],
      "Interface endpoints|secrets (2 AZ)": [1460, "interfaceEndpoint.azHour"],
      "Endpoint data|secrets": [0.1, "interfaceEndpoint.gb"],
      "Transit Gateway|tgw-attach": [730, "transitGateway.attachmentHour"],
      "TGW data|functions → private networks": [1, "transitGateway.gb"],
      "Lambda|sync-fn (730 runs × 10 s × 512 MB)": [3650, "lambda.arm.gbSecond"],
      "Lambda|sync-fn requests": [0.00073, "lambda.requestMillion"],
      "CloudWatch Logs|sync-fn logs": [0.5, "cloudwatchLogs.ingestGb"],
    });
  });

  test("totals per category and overall are exact products of the table", () => {
    const c = report.byCategory;
    expect(c["NAT gateways"]).toBeCloseTo(45.26, 10);
    expect(c["NAT data"]).toBeCloseTo(0.124, 10);
    expect(c["Inter-AZ to NAT"]).toBeCloseTo(0.02, 10);
    expect(c["Public IPv4"]).toBeCloseTo(3.65, 10);
    expect(c["Interface endpoints"]).toBeCloseTo(20.44, 10);
    expect(c["Endpoint data"]).toBeCloseTo(0.001, 10);
    expect(c["Transit Gateway"]).toBeCloseTo(51.1, 10);
    expect(c["TGW data"]).toBeCloseTo(0.02, 10);
    expect(c.Lambda).toBeCloseTo(3650 * 0.0000133334 + 0.00073 * 0.2, 10);
    expect(c["CloudWatch Logs"]).toBeCloseTo(0.38, 10);
    expect(c["Load balancer"]).toBe(0);
    expect(report.total).toBeCloseTo(121.04381291, 6);
    expect(Object.keys(c)).toEqual([...CATEGORIES]);
  });

  test("names the prices it used that are not confirmed for Tokyo", () => {
    expect(report.unconfirmedPrices).toEqual([
      "interfaceEndpoint.azHour",
      "lambda.arm.gbSecond",
      "lambda.requestMillion",
    ]);
  });

  test("prices each design choice against its alternative", () => {
    const nat = report.choices.find((c) => c.id === "nat-strategy")!;
    expect(nat).toMatchObject({ current: "1 NAT for 2 AZs", alternative: "one NAT per AZ (2)" });
    expect(nat.currentMonthly).toBeCloseTo(730 * (0.062 + 0.005) + 0.02, 10);
    expect(nat.alternativeMonthly).toBeCloseTo(2 * 730 * (0.062 + 0.005), 10);
    const ep = report.choices.find((c) => c.id === "interface-endpoint")!;
    expect(ep).toMatchObject({
      title: "secretsmanager through an interface endpoint vs through the NAT",
      alternative: "the existing NAT",
    });
    expect(ep.currentMonthly).toBeCloseTo(20.441, 10);
    expect(ep.alternativeMonthly).toBeCloseTo(0.1 * 0.062, 10);
    expect(ep.note).toMatch(/the endpoint is cheaper above 393\.08 GB\/month/);
    expect(report.choices.map((c) => c.id)).toEqual(["nat-strategy", "interface-endpoint"]);
  });

  test("assumptions override the defaults", () => {
    const heavy = estimateCost(tinyGraph(), undefined, {
      internetGbPerFunction: 100,
      functionSecondsByName: { sync: 60 },
    });
    expect(heavy.byCategory["NAT data"]).toBeCloseTo(6.2, 10);
    expect(heavy.byCategory["Inter-AZ to NAT"]).toBeCloseTo(1, 10);
    expect(heavy.lines.find((l) => l.priceKey === "lambda.arm.gbSecond")!.quantity).toBe(730 * 60 * 0.5);
    expect(heavy.assumptions.s3GbPerFunction).toBe(DEFAULT_COST_ASSUMPTIONS.s3GbPerFunction);
  });

  test("a stack's costAssumptions config reaches the estimate; explicit assumptions still win", () => {
    const cfg = loadConfig({
      ...readStackConfig(path.join(REPO_ROOT, "Pulumi.dev.yaml")).config,
      "vpc-lambda-kit:costAssumptions": JSON.stringify({ internetGbPerFunction: 100, tgwGbPerFunction: 4 }),
    });
    const fromCfg = estimateCost(tinyGraph(), cfg);
    expect(fromCfg.byCategory["NAT data"]).toBeCloseTo(6.2, 10);
    expect(fromCfg.byCategory["TGW data"]).toBeCloseTo(0.08, 10);
    expect(estimateCost(tinyGraph(), cfg, { tgwGbPerFunction: 1 }).byCategory["TGW data"]).toBeCloseTo(0.02, 10);
  });
});

describe("flow logs on the tiny graph: CloudWatch, the kit's bucket, a central bucket", () => {
  // The VPC logs to CloudWatch Logs and to a bucket the stack creates (expiry 30 days); the Transit Gateway
  // logs to a log-archive bucket another account owns.
  const ARCHIVE = "arn:aws:s3:::org-log-archive/network";
  const flowLog = (name: string, subject: Record<string, string>, type: string, logDestination: string) =>
    r("aws:ec2/flowLog:FlowLog", name, `fl-${name}`, { ...subject, logDestinationType: type, logDestination });
  const withFlowLogs = (): Graph => {
    const g = tinyGraph();
    const vpc = { vpcId: "vpc-1" };
    g.resources.push(
      flowLog("vpc-cw-flow-log", vpc, "cloud-watch-logs", "arn:aws:logs:ap-northeast-1:111111111111:log-group:flow"),
      r("aws:s3/bucket:Bucket", "flow-bucket", "flow-bucket-1a2b3c4", {}),
      r(
        "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
        "flow-bucket-expiry",
        "flow-bucket-1a2b3c4",
        {
          bucket: "flow-bucket-1a2b3c4",
          rules: [{ id: "expire-flow-logs", status: "Enabled", filter: {}, expiration: { days: 30 } }],
        },
      ),
      flowLog("vpc-s3-flow-log", vpc, "s3", "arn:aws:s3:::flow-bucket-1a2b3c4"),
      flowLog("tgw-flow-log", { transitGatewayId: "tgw-shared" }, "s3", ARCHIVE),
    );
    return g;
  };
  const base = estimateCost(tinyGraph());
  const report = estimateCost(withFlowLogs());
  const days = 730 / 24;

  test("CloudWatch ingestion, S3 delivery for both S3 flow logs, storage of the kit's bucket for its expiry", () => {
    const added = report.lines.filter((l) => !base.lines.some((b) => b.resource === l.resource));
    expect(added.map((l) => [l.category, l.resource, l.quantity, l.priceKey])).toEqual([
      ["CloudWatch Logs", "vpc-cw-flow-log (VPC flow log)", 10, "cloudwatchLogs.ingestGb"],
      ["Flow logs to S3", "vpc-s3-flow-log (VPC flow log) delivery", 10, "cloudwatchLogs.vendedS3DeliveryGb"],
      ["S3 storage", "flow-bucket (30 days of vpc-s3-flow-log)", (10 * 30) / days, "s3.standardGbMonth"],
      ["Flow logs to S3", "tgw-flow-log (TGW flow log) delivery", 10, "cloudwatchLogs.vendedS3DeliveryGb"],
    ]);
    expect(report.byCategory["Flow logs to S3"]).toBeCloseTo(2 * 10 * 0.38, 10);
    expect(report.byCategory["S3 storage"]).toBeCloseTo(((10 * 30) / days) * 0.025, 10);
    expect(report.total - base.total).toBeCloseTo(10 * 0.76 + 2 * 10 * 0.38 + ((10 * 30) / days) * 0.025, 10);
  });

  test("the central bucket's storage is billed to its owner, outside the total, for the archive retention assumed", () => {
    expect(report.billedToBucketOwner.map((l) => [l.category, l.resource, l.quantity, l.monthly])).toEqual([
      ["S3 storage", `${ARCHIVE} (365 days of tgw-flow-log)`, (10 * 365) / days, ((10 * 365) / days) * 0.025],
    ]);
    const longer = estimateCost(withFlowLogs(), undefined, { flowLogArchiveRetentionDays: 730 });
    expect(longer.billedToBucketOwner[0].quantity).toBeCloseTo((10 * 730) / days, 10);
    expect(longer.total).toBeCloseTo(report.total, 10);
    expect(formatCost([report])).toMatch(
      /tiny: billed to the flow-log bucket's owner, not in the total \(delivery stays on this stack's bill\): arn:aws:s3:::org-log-archive\/network \(365 days of tgw-flow-log\) \$3\.00; \$3\.00\/month\./,
    );
    expect(formatCost([report])).toMatch(/^Flow logs to S3 +7\.60$/m);
  });
});

test("schedules become runs per month: rate exactly, cron from its fields", () => {
  expect(invocationsPerMonth("rate(15 minutes)")).toBe(2920);
  expect(invocationsPerMonth("rate(1 day)")).toBeCloseTo(730 / 24, 10);
  expect(invocationsPerMonth("cron(0 18 * * ? *)")).toBeCloseTo(730 / 24, 10);
  // Every 30 minutes from 09:00 to 17:59 on weekdays: 2 × 9 × 5/7 per day.
  expect(invocationsPerMonth("cron(0/30 9-17 ? * MON-FRI *)")).toBeCloseTo(18 * (5 / 7) * (730 / 24), 10);
});

describe("dev beside prod", () => {
  // Synthesized as a user does (`npm run synth`), each in its own process.
  const outRoot = fs.mkdtempSync(path.join(os.tmpdir(), "vlk-cost-"));
  const reports: CostReport[] = [];
  beforeAll(() => {
    for (const stack of ["dev", "prod"]) {
      const out = path.join(outRoot, stack);
      const run = spawnSync("npm", ["run", "--silent", "synth", "--", stack, "--out", out], {
        cwd: REPO_ROOT,
        encoding: "utf8",
      });
      if (run.status !== 0 && !fs.existsSync(path.join(out, "graph.json")))
        throw new Error(`synth ${stack} failed: ${run.stderr}`);
      reports.push(estimateCost(JSON.parse(fs.readFileSync(path.join(out, "graph.json"), "utf8")) as Graph));
    }
  });

  test("one table with a column per stack, NAT per AZ in prod against a single NAT in dev", () => {
    const [dev, prod] = reports;
    expect(dev.byCategory["NAT gateways"]).toBeCloseTo(730 * 0.062, 10);
    expect(prod.byCategory["NAT gateways"]).toBeCloseTo(3 * 730 * 0.062, 10);
    expect(prod.total).toBeGreaterThan(dev.total);
    const text = formatCost(reports);
    const lines = text.split("\n");
    expect(lines[1]).toMatch(/^monthly cost \(USD\)\s+dev\s+prod$/);
    expect(text).toMatch(/^NAT gateways\s+45\.26\s+135\.78$/m);
    expect(text).toMatch(new RegExp(`^total\\s+${dev.total.toFixed(2)}\\s+${prod.total.toFixed(2)}$`, "m"));
    // Rows priced with an unconfirmed Tokyo price are starred and the footnote lists the prices.
    expect(text).toMatch(/^Interface endpoints \*\s/m);
    expect(text).toMatch(/^\* not confirmed for Tokyo: .*interfaceEndpoint\.azHour 0\.014/m);
  });

  test("the proxy tier's network load balancer is priced by the hour and by NLCU", () => {
    for (const r of reports) {
      const lb = r.lines.filter((l) => l.category === "Load balancer");
      expect(lb.map((l) => [l.resource, l.quantity, l.priceKey])).toEqual([
        ["proxy-nlb (NLB)", 730, "networkLoadBalancer.hour"],
        ["proxy-nlb NLCUs", expect.any(Number), "networkLoadBalancer.nlcuHour"],
      ]);
      expect(lb[1].quantity).toBeGreaterThan(0);
      expect(r.byCategory["Load balancer"]).toBeCloseTo(730 * 0.0243 + lb[1].quantity * 0.006, 10);
    }
    expect(formatCost(reports)).toMatch(/^\* not confirmed for Tokyo: .*networkLoadBalancer\.hour 0\.0243/m);
  });

  test("the proxy tier's Squid logs, alarms and deny metric are priced, and prod's tier is priced over scaling.min..max", () => {
    for (const r of reports) {
      const logs = r.lines.filter((l) => /squid-logs/.test(l.resource));
      expect(logs.map((l) => [l.resource, l.quantity, l.priceKey])).toEqual([
        ["proxy-squid-logs (Squid, 2 instance(s))", 2 * 0.5, "cloudwatchLogs.ingestGb"],
      ]);
      const mon = r.lines.filter((l) => l.category === "Alarms and metrics");
      expect(mon.map((l) => [l.resource, l.priceKey])).toEqual([
        ["proxy-denied-spike (alarm)", "cloudwatch.alarmMonth"],
        ["proxy-unhealthy-hosts (alarm)", "cloudwatch.alarmMonth"],
        ["proxy-denied-filter (custom metric)", "cloudwatch.customMetricMonth"],
      ]);
      expect(r.byCategory["Alarms and metrics"]).toBeCloseTo(2 * 0.1 + 0.3, 10);
    }
    const [dev, prod] = reports;
    const tier = (r: CostReport) => r.choices.find((c) => c.id === "proxy-tier")!;
    // dev runs a fixed pair: no range.
    expect(tier(dev).current).toBe("proxy tier (1 NLB, 2 instance(s))");
    expect(tier(dev).note).not.toMatch(/scaling \d/);
    // prod: 2..4 t4g.small; each instance = its hours + 0.5 GB of Squid logs.
    expect(tier(prod).current).toBe("proxy tier (1 NLB, 2 instance(s) of 2..4, 4 EIP(s))");
    const perInstance =
      730 * PRICES.items["ec2.t4g.small.hour"].price + 0.5 * PRICES.items["cloudwatchLogs.ingestGb"].price;
    const atMin = tier(prod).currentMonthly;
    const m = /scaling 2\.\.4 instances puts the tier at \$(\d+\.\d\d)\.\.\$(\d+\.\d\d)/.exec(tier(prod).note);
    expect(m).not.toBeNull();
    expect(Number(m![1])).toBeCloseTo(atMin, 2);
    expect(Number(m![2])).toBeCloseTo(atMin + 2 * perInstance, 2);
    expect(prod.notes).toContain(
      `proxy-asg scales 2..4 instances: priced at 2; each instance above that adds $${perInstance.toFixed(2)}/month (the design choices show the tier at 2 and at 4).`,
    );
  });

  test("each stack's design choices are listed under the table", () => {
    const text = formatCost(reports);
    expect(text).toMatch(
      /^Design choices \(dev\):\n {2}NAT strategy in egress-vpc: 1 NAT for 2 AZs \$\d+\.\d\d vs one NAT per AZ \(2\) \$97\.82/m,
    );
    expect(text).toMatch(
      /^Design choices \(prod\):\n {2}NAT strategy in egress-vpc: one NAT per AZ \(3\) \$146\.73 vs a single NAT \$\d+\.\d\d/m,
    );
    expect(text).toMatch(/Squid proxy tier vs a NAT per client VPC: proxy tier \(1 NLB, 2 instance\(s\)\)/);
    expect(text).toMatch(/a Classic Load Balancer instead would cost \$\d/);
    expect(text).toMatch(
      /secretsmanager through an interface endpoint vs through the NAT: interface endpoint in 2 AZ\(s\) \$20\.4\d/,
    );
  });
  test("dev prices its Athena connector next to the scheduled export, from the query assumptions", () => {
    const live = reports[0].choices.find((c) => c.id === "athena-connector")!;
    expect(live).toMatchObject({
      current: "connector athena-connector (300 queries/month)",
      alternative: "export saas-export-fn on its schedule, queried in S3",
    });
    // Athena: 300 queries × 10 MB at $5/TB, on both sides.
    const scanned = 300 * (10 / 1e6) * PRICES.items["athena.tbScanned"].price;
    // The connector: 300 queries × 5 s × 1 GB (arm64), plus requests, plus its share of the proxy tier (≥ 0).
    expect(live.currentMonthly).toBeGreaterThanOrEqual(
      scanned + 300 * 5 * 1 * PRICES.items["lambda.arm.gbSecond"].price + 300e-6 * 0.2 - 1e-9,
    );
    expect(live.alternativeMonthly).toBeGreaterThan(scanned);
    expect(reports[1].choices.some((c) => c.id === "athena-connector")).toBe(false);
    const more = estimateCost(
      JSON.parse(fs.readFileSync(path.join(outRoot, "dev", "graph.json"), "utf8")) as Graph,
      undefined,
      { athenaQueriesPerMonth: 3000 },
    );
    const liveMore = more.choices.find((c) => c.id === "athena-connector")!;
    // Ten times the queries: at least nine more times the Athena charge on the connector side.
    expect(liveMore.currentMonthly - live.currentMonthly).toBeGreaterThanOrEqual(9 * scanned - 1e-9);
  });
});
