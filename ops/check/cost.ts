/**
 * Estimated monthly cost of a synthesized stack from the checked-in ap-northeast-1 list prices
 * (prices.ap-northeast-1.json), and what each design choice costs against its alternative.
 *
 * Fixed costs (NAT gateways, public IPv4 addresses, interface endpoints per AZ, Transit Gateway
 * attachments, the proxy tier's load balancer and instances) come from the graph. Traffic and usage
 * volumes come from CostAssumptions (documented defaults, overridable per call or per stack);
 * traffic is assigned to paths by each function's egress rules: 0.0.0.0/0 → NAT, the proxy
 * load balancer's group → proxy tier, an interface endpoint's group → that endpoint, a prefix list →
 * gateway endpoint (free), a private CIDR → Transit Gateway.
 */
import type { Graph } from "../synth-core";
import type { EnvConfig } from "../../stacks/config/schema";
import { GraphModel, Res } from "./model/graph";
import { T } from "./model/types";
import { isUnknown } from "./model/values";
import { declaredRouteTableOf } from "./eval/routes";
import PRICE_TABLE from "./prices.ap-northeast-1.json";

export interface PriceItem {
  price: number;
  unit: string;
  source: string;
  corroboration?: string;
  checked: string;
  confirmed: boolean;
}

export interface PriceTable {
  region: string;
  currency: string;
  compiled: string;
  note?: string;
  items: Record<string, PriceItem>;
}

export const PRICES: PriceTable = PRICE_TABLE as PriceTable;

/** Usage volumes the graph cannot know. Every field has a default (DEFAULT_COST_ASSUMPTIONS). */
export interface CostAssumptions {
  /** Hours billed per month. Default 730 (the AWS Pricing Calculator's month). */
  hoursPerMonth: number;
  /** GB/month each function exchanges with the internet (NAT or proxy path, both directions). Default 2. */
  internetGbPerFunction: number;
  /** GB/month each function exchanges with each AWS API it reaches through an interface endpoint (e.g. Secrets Manager). Default 0.1. */
  awsServiceGbPerFunction: number;
  /** GB/month each function moves through a gateway endpoint (S3). Default 5. */
  s3GbPerFunction: number;
  /** GB/month each function sends to private networks across the Transit Gateway. Default 1. */
  tgwGbPerFunction: number;
  /** Average billed seconds per invocation. Default 10. */
  functionSeconds: number;
  /** Per-function overrides of functionSeconds, keyed by the function resource's or component's name. Default none. */
  functionSecondsByName: Record<string, number>;
  /** Invocations/month of a function without an EventBridge schedule. Default 0. */
  unscheduledInvocationsPerMonth: number;
  /** CloudWatch Logs ingested per function, GB/month. Default 0.5. */
  logGbPerFunction: number;
  /** Records each VPC or Transit Gateway flow log writes, GB/month, to CloudWatch Logs or to S3. Default 10. */
  flowLogGbPerFlowLog: number;
  /**
   * Days a given (central) bucket keeps flow-log files: its lifecycle is its owner's, so the stack cannot read
   * it. A bucket the kit creates keeps them for its own expiry. Default 365.
   */
  flowLogArchiveRetentionDays: number;
  /** Squid access and cache logs each proxy instance ships to CloudWatch Logs, GB/month. Default 0.5. */
  proxyLogGbPerInstance: number;
  /** Aurora Serverless v2 average ACUs per instance. Default: the cluster's minCapacity, else 0.5. */
  auroraAverageAcu?: number;
  /** Aurora storage per cluster, GB. Default 10. */
  auroraStorageGb: number;
  /** Aurora I/O per cluster, millions of requests/month. Default 2. */
  auroraIoMillions: number;
  /** REST API requests per API, millions/month. Default 1. */
  apiRequestsMillions: number;
  /** Athena queries/month against the SaaS data (live through the connector, or over the export in S3). Default 300. */
  athenaQueriesPerMonth: number;
  /** MB each of those queries scans; Athena bills at least 10 MB per query. Default 10. */
  athenaMbScannedPerQuery: number;
  /** Billed seconds of the connector function per query (all its invocations for one query). Default 5. */
  athenaConnectorSecondsPerQuery: number;
}

export const DEFAULT_COST_ASSUMPTIONS: CostAssumptions = {
  hoursPerMonth: 730,
  internetGbPerFunction: 2,
  awsServiceGbPerFunction: 0.1,
  s3GbPerFunction: 5,
  tgwGbPerFunction: 1,
  functionSeconds: 10,
  functionSecondsByName: {},
  unscheduledInvocationsPerMonth: 0,
  logGbPerFunction: 0.5,
  flowLogGbPerFlowLog: 10,
  flowLogArchiveRetentionDays: 365,
  proxyLogGbPerInstance: 0.5,
  auroraStorageGb: 10,
  auroraIoMillions: 2,
  apiRequestsMillions: 1,
  athenaQueriesPerMonth: 300,
  athenaMbScannedPerQuery: 10,
  athenaConnectorSecondsPerQuery: 5,
};

/** One priced quantity. */
export interface CostLine {
  category: Category;
  /** Logical name of the resource (or path) the line is for. */
  resource: string;
  quantity: number;
  unit: string;
  priceKey: string;
  unitPrice: number;
  monthly: number;
}

/** A design choice in this stack next to its alternative, both in USD/month. */
export interface DesignChoice {
  id: "nat-strategy" | "proxy-tier" | "interface-endpoint" | "gateway-endpoint" | "athena-connector";
  title: string;
  current: string;
  currentMonthly: number;
  alternative: string;
  alternativeMonthly: number;
  note: string;
}

export interface CostReport {
  stack: string;
  region: string;
  currency: string;
  pricesCompiled: string;
  lines: CostLine[];
  /** Monthly cost per category (every category present, 0 when unused). */
  byCategory: Record<Category, number>;
  total: number;
  choices: DesignChoice[];
  assumptions: CostAssumptions;
  /** Price keys used by this report whose Tokyo price no stored source confirmed. */
  unconfirmedPrices: string[];
  /** What the estimate left out (resources without a price in the table). */
  notes: string[];
  /**
   * Costs of this stack's resources billed to another account, not in `total`: the S3 storage of flow logs
   * delivered to a given (central) bucket is its owner's; the delivery stays on this stack's bill.
   */
  billedToBucketOwner: CostLine[];
}

export const CATEGORIES = [
  "NAT gateways",
  "NAT data",
  "Inter-AZ to NAT",
  "Public IPv4",
  "Interface endpoints",
  "Endpoint data",
  "Transit Gateway",
  "TGW data",
  "Load balancer",
  "Proxy instances",
  "Aurora",
  "Lambda",
  "CloudWatch Logs",
  "Flow logs to S3",
  "S3 storage",
  "Alarms and metrics",
  "API Gateway",
] as const;
export type Category = (typeof CATEGORIES)[number];

const POOL_TAG = "vpc-lambda-kit:proxy-pool";

/**
 * Estimated monthly cost of one stack. Assumptions: `assumptions`, else `costAssumptions` on the
 * config (when the config schema carries it), else the defaults.
 */
export function estimateCost(graph: Graph, cfg?: EnvConfig, assumptions: Partial<CostAssumptions> = {}): CostReport {
  const fromCfg: Partial<CostAssumptions> = cfg?.costAssumptions ?? {};
  const a: CostAssumptions = { ...DEFAULT_COST_ASSUMPTIONS, ...fromCfg, ...assumptions };
  a.functionSecondsByName = {
    ...DEFAULT_COST_ASSUMPTIONS.functionSecondsByName,
    ...(fromCfg.functionSecondsByName ?? {}),
    ...(assumptions.functionSecondsByName ?? {}),
  };
  const m = GraphModel.of(graph);
  const lines: CostLine[] = [];
  const notes: string[] = [];
  const H = a.hoursPerMonth;
  const add = (category: Category, resource: string, quantity: number, priceKey: string) =>
    lines.push(costLine(category, resource, quantity, priceKey));
  const billedToBucketOwner: CostLine[] = [];

  // --- Traffic per path, from each function's egress rules.
  const traffic = functionTraffic(m, a);
  const endpointGb = endpointGbTotals(traffic);

  // --- NAT gateways and their data.
  const nats = m.all(T.nat);
  for (const nat of nats) add("NAT gateways", nat.name, H, "natGateway.hour");
  const natGb = traffic.reduce((s, t) => s + t.natGb, 0);
  if (nats.length > 0 && natGb > 0) add("NAT data", "all NAT gateways", natGb, "natGateway.gb");
  const crossAzGb = traffic.reduce((s, t) => s + t.natCrossAzGb, 0);
  // Charged on both sides of the AZ boundary.
  if (crossAzGb > 0) add("Inter-AZ to NAT", "traffic to a NAT in another AZ", crossAzGb * 2, "ec2.interAzGb");

  // --- Public IPv4 addresses (EIPs, BYO allocations on NATs and in proxy pools).
  const ips = publicIpv4(m);
  for (const ip of ips) add("Public IPv4", ip, H, "publicIpv4.hour");

  // --- Interface endpoints (per AZ) and their data.
  for (const ep of m.all(T.endpoint)) {
    if (ep.inputs.vpcEndpointType !== "Interface") continue;
    const azs = Math.max(1, endpointAzs(m, ep));
    add("Interface endpoints", `${ep.name} (${azs} AZ)`, azs * H, "interfaceEndpoint.azHour");
    const gb = endpointGb.get(ep.urn) ?? 0;
    if (gb > 0) add("Endpoint data", ep.name, gb, "interfaceEndpoint.gb");
  }

  // --- Transit Gateway attachments and data.
  for (const att of m.all(/^aws:ec2transitgateway\/vpcAttachment:/))
    add("Transit Gateway", att.name, H, "transitGateway.attachmentHour");
  const tgwGb = traffic.reduce((s, t) => s + t.tgwGb, 0);
  if (tgwGb > 0) add("TGW data", "functions → private networks", tgwGb, "transitGateway.gb");

  // --- Load balancers (the proxy tier's Classic LB) and proxy instances.
  const proxyGb = traffic.reduce((s, t) => s + t.proxyGb, 0);
  for (const lb of m.all(T.classicLb)) {
    add("Load balancer", lb.name, H, "classicLoadBalancer.hour");
    if (proxyGb > 0) add("Load balancer", `${lb.name} data`, proxyGb, "classicLoadBalancer.gb");
  }
  // Network Load Balancer: hours plus NLCUs; a proxy's few long CONNECTs make processed bytes the
  // dimension that decides (1 NLCU = 1 GB in an hour), so NLCU-hours are counted as the GB it carries.
  for (const lb of networkLbs(m)) {
    add("Load balancer", `${lb.name} (NLB)`, H, "networkLoadBalancer.hour");
    if (proxyGb > 0) add("Load balancer", `${lb.name} NLCUs`, proxyGb, "networkLoadBalancer.nlcuHour");
  }
  for (const g of asgFleet(m)) {
    const key = `ec2.${g.instanceType}.hour`;
    if (PRICES.items[key]) add("Proxy instances", `${g.asg.name} (${g.count} × ${g.instanceType})`, g.count * H, key);
    else
      notes.push(
        `${g.asg.name}: no price for instance type ${g.instanceType} in the table; its ${g.count} instance(s) are not counted.`,
      );
    if (g.max > g.min && PRICES.items[key])
      notes.push(
        `${g.asg.name} scales ${g.min}..${g.max} instances: priced at ${g.count}; each instance above that adds ${money(price(key).price * H + a.proxyLogGbPerInstance * price("cloudwatchLogs.ingestGb").price)}/month (the design choices show the tier at ${g.min} and at ${g.max}).`,
      );
  }
  for (const inst of m.all(T.instance)) {
    const type = String(inst.inputs.instanceType ?? "");
    const key = `ec2.${type}.hour`;
    if (PRICES.items[key]) add("Proxy instances", `${inst.name} (${type})`, H, key);
    else notes.push(`${inst.name}: no price for instance type ${type} in the table; not counted.`);
  }

  // --- Aurora Serverless v2.
  for (const cluster of m.all(T.rdsCluster)) {
    const scaling = cluster.inputs.serverlessv2ScalingConfiguration as { minCapacity?: number } | undefined;
    const instances = m
      .all(T.rdsClusterInstance)
      .filter((i) => m.ref(i, "clusterIdentifier", i.inputs.clusterIdentifier, [cluster.type])?.urn === cluster.urn);
    const serverless = instances.filter((i) => i.inputs.instanceClass === "db.serverless");
    for (const i of instances.filter((x) => x.inputs.instanceClass !== "db.serverless"))
      notes.push(
        `${i.name}: provisioned class ${String(i.inputs.instanceClass)} has no price in the table; not counted.`,
      );
    if (scaling || serverless.length > 0) {
      const count = Math.max(serverless.length, instances.length === 0 ? 1 : 0);
      const acu =
        a.auroraAverageAcu ?? (typeof scaling?.minCapacity === "number" ? Math.max(scaling.minCapacity, 0) : 0.5);
      add("Aurora", `${cluster.name} (${count} × ${acu} ACU)`, count * acu * H, "aurora.serverlessV2.acuHour");
    }
    add("Aurora", `${cluster.name} storage`, a.auroraStorageGb, "aurora.storageGbMonth");
    add("Aurora", `${cluster.name} I/O`, a.auroraIoMillions, "aurora.ioMillion");
  }
  for (const db of m.all(T.rdsInstance))
    notes.push(`${db.name}: RDS instance classes have no price in the table; not counted.`);

  // --- Lambda compute, requests and logs.
  const schedules = scheduleByFunction(m);
  for (const fn of m.all(T.lambda)) {
    const memoryGb = (typeof fn.inputs.memorySize === "number" ? fn.inputs.memorySize : 128) / 1024;
    const arm = Array.isArray(fn.inputs.architectures) && fn.inputs.architectures.includes("arm64");
    const expr = schedules.get(fn.urn);
    const invocations = expr ? invocationsPerMonth(expr, H) : a.unscheduledInvocationsPerMonth;
    const component = m.byUrn(fn.parent)?.name ?? fn.parent?.split("::").pop();
    const seconds =
      a.functionSecondsByName[fn.name] ??
      (component !== undefined ? a.functionSecondsByName[component] : undefined) ??
      a.functionSeconds;
    if (invocations > 0) {
      add(
        "Lambda",
        `${fn.name} (${round(invocations)} runs × ${seconds} s × ${memoryGb * 1024} MB)`,
        invocations * seconds * memoryGb,
        arm ? "lambda.arm.gbSecond" : "lambda.x86.gbSecond",
      );
      add("Lambda", `${fn.name} requests`, invocations / 1e6, "lambda.requestMillion");
    }
    add("CloudWatch Logs", `${fn.name} logs`, a.logGbPerFunction, "cloudwatchLogs.ingestGb");
  }
  // Flow logs (a VPC's or a Transit Gateway's): CloudWatch Logs ingestion, or vended-log delivery to S3, which
  // CloudWatch bills to this account, plus S3 storage, which the bucket's owner pays: this stack for the kit's
  // own bucket, the log-archive account for a given one (steady state: retention days of records kept).
  const days = H / 24;
  for (const fl of m.all(T.flowLog)) {
    const dest = fl.inputs.logDestinationType;
    const gb = a.flowLogGbPerFlowLog;
    const label = `${fl.name} (${fl.inputs.transitGatewayId !== undefined ? "TGW" : "VPC"} flow log)`;
    if (dest === undefined || dest === "cloud-watch-logs") add("CloudWatch Logs", label, gb, "cloudwatchLogs.ingestGb");
    else if (dest === "s3") {
      add("Flow logs to S3", `${label} delivery`, gb, "cloudwatchLogs.vendedS3DeliveryGb");
      const own = flowLogBucket(m, fl);
      if (own) {
        const kept = own.expiryDays ?? a.flowLogArchiveRetentionDays;
        add("S3 storage", `${own.bucket.name} (${kept} days of ${fl.name})`, (gb * kept) / days, "s3.standardGbMonth");
      } else {
        const kept = a.flowLogArchiveRetentionDays;
        const where = String(fl.inputs.logDestination ?? "the given bucket");
        billedToBucketOwner.push(
          costLine("S3 storage", `${where} (${kept} days of ${fl.name})`, (gb * kept) / days, "s3.standardGbMonth"),
        );
      }
    } else notes.push(`${fl.name}: flow logs to ${String(dest)} have no price in the table; not counted.`);
  }
  // The proxy tier's Squid logs: each instance ships its access and cache logs.
  for (const { group, count } of proxyLogGroups(m))
    add(
      "CloudWatch Logs",
      `${group.name} (Squid, ${count} instance(s))`,
      count * a.proxyLogGbPerInstance,
      "cloudwatchLogs.ingestGb",
    );

  // --- Alarms (standard resolution) and the custom metrics log metric filters publish.
  for (const alarm of m.all(T.metricAlarm))
    add("Alarms and metrics", `${alarm.name} (alarm)`, 1, "cloudwatch.alarmMonth");
  for (const filter of m.all(T.logMetricFilter))
    add("Alarms and metrics", `${filter.name} (custom metric)`, 1, "cloudwatch.customMetricMonth");

  // --- API Gateway REST APIs.
  for (const api of m.all(/^aws:apigateway\/restApi:/))
    add("API Gateway", api.name, a.apiRequestsMillions, "apiGateway.restRequestMillion");

  const byCategory = Object.fromEntries(CATEGORIES.map((c) => [c, 0])) as Record<Category, number>;
  for (const l of lines) byCategory[l.category] += l.monthly;
  const total = lines.reduce((s, l) => s + l.monthly, 0);
  const used = [...new Set([...lines, ...billedToBucketOwner].map((l) => l.priceKey))];
  return {
    stack: graph.stack,
    region: PRICES.region,
    currency: PRICES.currency,
    pricesCompiled: PRICES.compiled,
    lines,
    byCategory,
    total,
    choices: designChoices(m, a, traffic, cfg),
    assumptions: a,
    unconfirmedPrices: used.filter((k) => !PRICES.items[k].confirmed).sort(),
    notes,
    billedToBucketOwner,
  };
}

function costLine(category: Category, resource: string, quantity: number, priceKey: string): CostLine {
  const item = price(priceKey);
  return {
    category,
    resource,
    quantity,
    unit: item.unit,
    priceKey,
    unitPrice: item.price,
    monthly: quantity * item.price,
  };
}

/**
 * The bucket this stack creates for a flow log (its destination is that bucket's ARN) and the days its
 * lifecycle keeps objects; undefined for a given bucket, which its owner keeps and pays for.
 */
function flowLogBucket(m: GraphModel, fl: Res): { bucket: Res; expiryDays?: number } | undefined {
  const dest = String(fl.inputs.logDestination ?? "");
  const bucket = m
    .all(T.s3Bucket)
    .find((b) => !isUnknown(b.id) && dest.replace(/\/.*$/, "") === `arn:aws:s3:::${b.id}`);
  if (!bucket) return undefined;
  const lifecycle = m.all(T.s3Lifecycle).find((l) => l.inputs.bucket === bucket.id);
  const rules = (lifecycle?.inputs.rules ?? []) as { status?: string; expiration?: { days?: number } }[];
  const expiry = rules.find((r) => r.status === "Enabled" && typeof r.expiration?.days === "number");
  return { bucket, expiryDays: expiry?.expiration?.days };
}

function price(key: string): PriceItem {
  const item = PRICES.items[key];
  if (!item) throw new Error(`no price "${key}" in prices.${PRICES.region}.json`);
  return item;
}

// ------------------------------------------------------------------------------------------------
// Traffic

interface FunctionTraffic {
  fn: Res;
  natGb: number;
  /** Part of natGb that reaches a NAT in another AZ (from the function's or the proxies' subnets). */
  natCrossAzGb: number;
  proxyGb: number;
  tgwGb: number;
  /** Interface endpoint URN → GB. */
  endpointGb: Map<string, number>;
  s3Gb: number;
  /** The VPC the function runs in. */
  vpc?: Res;
}

function functionTraffic(m: GraphModel, a: CostAssumptions): FunctionTraffic[] {
  const endpointBySg = new Map<string, Res>();
  for (const ep of m.all(T.endpoint)) {
    if (ep.inputs.vpcEndpointType !== "Interface") continue;
    for (const sg of m.refs(ep, "securityGroupIds", ep.inputs.securityGroupIds, [T.sg])) endpointBySg.set(sg.urn, ep);
  }
  const lbSgs = new Set<string>();
  for (const lb of [...m.all(T.classicLb), ...networkLbs(m)])
    for (const sg of m.refs(lb, "securityGroups", lb.inputs.securityGroups, [T.sg])) lbSgs.add(sg.urn);
  const proxySubnets = m
    .all(T.asg)
    .flatMap((g) => m.refs(g, "vpcZoneIdentifiers", g.inputs.vpcZoneIdentifiers, [T.subnet]));
  const proxyBehindNat = proxySubnets.some((s) => defaultNat(m, s) !== undefined);

  const out: FunctionTraffic[] = [];
  for (const fn of m.all(T.lambda)) {
    const vc = (fn.inputs.vpcConfig ?? {}) as Record<string, unknown>;
    const sgs = m.refs(fn, "vpcConfig", vc.securityGroupIds, [T.sg]);
    const subnets = m.refs(fn, "vpcConfig", vc.subnetIds, [T.subnet]);
    const t: FunctionTraffic = {
      fn,
      natGb: 0,
      natCrossAzGb: 0,
      proxyGb: 0,
      tgwGb: 0,
      endpointGb: new Map(),
      s3Gb: 0,
      vpc: subnets[0] ? m.ref(subnets[0], "vpcId", subnets[0].inputs.vpcId, [T.vpc]) : undefined,
    };
    let internet = false,
      proxy = false,
      tgw = false,
      s3 = false;
    for (const rule of egressRulesOf(m, sgs)) {
      const target = m.ref(rule, "referencedSecurityGroupId", rule.inputs.referencedSecurityGroupId, [T.sg]);
      const cidr = typeof rule.inputs.cidrIpv4 === "string" ? rule.inputs.cidrIpv4 : undefined;
      if (target && endpointBySg.has(target.urn)) {
        const ep = endpointBySg.get(target.urn)!;
        t.endpointGb.set(ep.urn, a.awsServiceGbPerFunction);
      } else if (target && lbSgs.has(target.urn)) proxy = true;
      else if (rule.inputs.prefixListId !== undefined) s3 = true;
      else if (cidr && isPrivateCidr(cidr)) tgw = true;
      else if (cidr) internet = true;
    }
    if (internet) {
      t.natGb = a.internetGbPerFunction;
      t.natCrossAzGb = a.internetGbPerFunction * crossAzShare(m, subnets);
    }
    if (proxy) {
      t.proxyGb = a.internetGbPerFunction;
      if (proxyBehindNat) {
        t.natGb += a.internetGbPerFunction;
        t.natCrossAzGb += a.internetGbPerFunction * crossAzShare(m, proxySubnets);
      }
    }
    if (tgw) t.tgwGb = a.tgwGbPerFunction;
    if (s3) t.s3Gb = a.s3GbPerFunction;
    out.push(t);
  }
  return out;
}

/** The egress rules of these groups, in resource order (indexed once: a scan per function is quadratic). */
function egressRulesOf(m: GraphModel, sgs: Res[]): Res[] {
  const bySg = m.referrers(
    T.sgEgress,
    [T.sg],
    (r) => ["securityGroupId", r.inputs.securityGroupId],
    "securityGroupId",
    "first",
  );
  const rules = sgs.flatMap((sg) => bySg.get(sg.urn) ?? []);
  return sgs.length > 1 ? rules.sort((x, y) => m.positionOf(x) - m.positionOf(y)) : rules;
}

/** GB per interface endpoint over every function, summed in function order (as a reduce per endpoint would). */
function endpointGbTotals(traffic: FunctionTraffic[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const t of traffic) for (const [ep, gb] of t.endpointGb) out.set(ep, (out.get(ep) ?? 0) + gb);
  return out;
}

function isPrivateCidr(c: string): boolean {
  return /^10\./.test(c) || /^192\.168\./.test(c) || /^172\.(1[6-9]|2\d|3[01])\./.test(c);
}

/** Share of the subnets whose default route goes to a NAT in another AZ. */
function crossAzShare(m: GraphModel, subnets: Res[]): number {
  if (subnets.length === 0) return 0;
  let cross = 0;
  for (const s of subnets) {
    const nat = defaultNat(m, s);
    const natSubnet = nat ? m.ref(nat, "subnetId", nat.inputs.subnetId, [T.subnet]) : undefined;
    if (natSubnet && natSubnet.inputs.availabilityZone !== s.inputs.availabilityZone) cross++;
  }
  return cross / subnets.length;
}

function defaultNat(m: GraphModel, subnet: Res): Res | undefined {
  const table = declaredRouteTableOf(m, subnet);
  if (!table) return undefined;
  // The first 0.0.0.0/0 Route resource of each table, found in one pass over the routes.
  const defaults = m.cached("cost:defaultRouteByTable", () => {
    const out = new Map<string, Res>();
    for (const r of m.all(T.route)) {
      if (r.inputs.destinationCidrBlock !== "0.0.0.0/0") continue;
      const urn = m.ref(r, "routeTableId", r.inputs.routeTableId, [T.routeTable])?.urn;
      if (urn !== undefined && !out.has(urn)) out.set(urn, r);
    }
    return out;
  });
  const r = defaults.get(table.urn);
  return r ? m.ref(r, "natGatewayId", r.inputs.natGatewayId, [T.nat]) : undefined;
}

// ------------------------------------------------------------------------------------------------
// Fixed-cost helpers

function publicIpv4(m: GraphModel): string[] {
  const ips = new Map<string, string>();
  for (const e of m.all(T.eip)) ips.set(e.id || e.urn, e.name);
  for (const nat of m.all(T.nat)) {
    const alloc = nat.inputs.allocationId;
    if (nat.inputs.connectivityType === "private" || typeof alloc !== "string" || isUnknown(alloc)) continue;
    if (!ips.has(alloc) && !m.ref(nat, "allocationId", alloc, [T.eip])) ips.set(alloc, `${alloc} (BYO, ${nat.name})`);
  }
  for (const tag of m.all(T.tag)) {
    const id = tag.inputs.resourceId;
    if (tag.inputs.key === POOL_TAG && typeof id === "string" && id.startsWith("eipalloc-") && !ips.has(id))
      ips.set(id, `${id} (BYO proxy pool)`);
  }
  return [...ips.values()];
}

function endpointAzs(m: GraphModel, ep: Res): number {
  const subnets = m.refs(ep, "subnetIds", ep.inputs.subnetIds, [T.subnet]);
  if (subnets.length > 0) return new Set(subnets.map((s) => s.inputs.availabilityZone ?? s.urn)).size;
  return Array.isArray(ep.inputs.subnetIds) ? ep.inputs.subnetIds.length : 1;
}

function asgFleet(m: GraphModel): { asg: Res; count: number; min: number; max: number; instanceType: string }[] {
  return m.all(T.asg).map((asg) => {
    const spec = (asg.inputs.launchTemplate ?? {}) as Record<string, unknown>;
    const lt = m.ref(asg, "launchTemplate", spec.id ?? spec.name, [T.launchTemplate]);
    const count =
      typeof asg.inputs.desiredCapacity === "number" ? asg.inputs.desiredCapacity : Number(asg.inputs.minSize ?? 0);
    const min = typeof asg.inputs.minSize === "number" ? asg.inputs.minSize : count;
    const max = typeof asg.inputs.maxSize === "number" ? asg.inputs.maxSize : count;
    return {
      asg,
      count,
      min,
      max,
      instanceType: String(lt?.inputs.instanceType ?? asg.inputs.instanceType ?? "unknown"),
    };
  });
}

/** The proxy tier's log groups (`<tier>-squid-logs`, siblings of an Auto Scaling group in the same component) and the instances writing to each. */
function proxyLogGroups(m: GraphModel): { group: Res; count: number; asg: Res }[] {
  const out: { group: Res; count: number; asg: Res }[] = [];
  for (const g of asgFleet(m)) {
    const group = m
      .all(T.logGroup)
      .find((l) => l.parent !== null && l.parent === g.asg.parent && /-squid-logs$/.test(l.name));
    if (group) out.push({ group, count: g.count, asg: g.asg });
  }
  return out;
}

/** EventBridge rule expression per function (EventTarget → Rule, EventTarget → Function). */
function scheduleByFunction(m: GraphModel): Map<string, string> {
  const out = new Map<string, string>();
  for (const target of m.all(T.eventTarget)) {
    const fn = m.ref(target, "arn", target.inputs.arn, [T.lambda]);
    const rule = m.ref(target, "rule", target.inputs.rule, [T.eventRule]);
    const expr = rule?.inputs.scheduleExpression;
    if (fn && typeof expr === "string") out.set(fn.urn, expr);
  }
  return out;
}

/** Runs per month of an EventBridge schedule: rate(N unit) exactly; cron(…) from its minute, hour and day fields. */
export function invocationsPerMonth(expression: string, hoursPerMonth = 730): number {
  const rate = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(expression);
  if (rate) {
    const minutes = Number(rate[1]) * (rate[2].startsWith("minute") ? 1 : rate[2].startsWith("hour") ? 60 : 1440);
    return (hoursPerMonth * 60) / minutes;
  }
  const cron = /^cron\(([^)]*)\)$/.exec(expression);
  if (!cron) return 0;
  const [min, hour, dom, , rawDow] = cron[1].trim().split(/\s+/);
  // EventBridge numbers days SUN=1 … SAT=7.
  const dow = rawDow
    ?.toUpperCase()
    .replace(/SUN|MON|TUE|WED|THU|FRI|SAT/g, (d) =>
      String(["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"].indexOf(d) + 1),
    );
  const days = hoursPerMonth / 24;
  const perDay = fieldCount(min, 60) * fieldCount(hour, 24);
  const dayShare =
    dom !== "*" && dom !== "?"
      ? fieldCount(dom, 31) / (days || 1)
      : dow !== "*" && dow !== "?" && dow !== undefined
        ? fieldCount(dow, 7) / 7
        : 1;
  return perDay * days * Math.min(1, dayShare);
}

function fieldCount(field: string | undefined, range: number): number {
  if (field === undefined || field === "*" || field === "?") return range;
  let n = 0;
  for (const part of field.split(",")) {
    const step = /^(?:\*|(\d+)(?:-(\d+))?)\/(\d+)$/.exec(part);
    const span = /^(\d+)-(\d+)$/.exec(part);
    if (step) {
      const from = step[1] !== undefined ? Number(step[1]) : 0;
      const to = step[2] !== undefined ? Number(step[2]) : range - 1;
      n += Math.floor((to - from) / Number(step[3])) + 1;
    } else if (span) n += Number(span[2]) - Number(span[1]) + 1;
    else n += 1;
  }
  return n;
}

// ------------------------------------------------------------------------------------------------
// Design choices

function designChoices(m: GraphModel, a: CostAssumptions, traffic: FunctionTraffic[], cfg?: EnvConfig): DesignChoice[] {
  const H = a.hoursPerMonth;
  const p = (k: string) => price(k).price;
  const natFixed = (p("natGateway.hour") + p("publicIpv4.hour")) * H;
  const out: DesignChoice[] = [];
  const endpointGb = endpointGbTotals(traffic);

  // NAT per AZ vs single, per VPC with NATs.
  const natsByVpc = new Map<string, { vpc: Res; nats: Res[] }>();
  for (const nat of m.all(T.nat)) {
    if (nat.inputs.connectivityType === "private") continue;
    const subnet = m.ref(nat, "subnetId", nat.inputs.subnetId, [T.subnet]);
    const vpc = subnet ? m.ref(subnet, "vpcId", subnet.inputs.vpcId, [T.vpc]) : undefined;
    if (!vpc) continue;
    const e = natsByVpc.get(vpc.urn) ?? { vpc, nats: [] };
    e.nats.push(nat);
    natsByVpc.set(vpc.urn, e);
  }
  const subnetsByVpc = m.referrers(T.subnet, [T.vpc], (s) => ["vpcId", s.inputs.vpcId], "vpcId", "first");
  const trafficByVpc = new Map<string, FunctionTraffic[]>();
  for (const t of traffic) {
    if (!t.vpc) continue;
    const list = trafficByVpc.get(t.vpc.urn);
    if (list) list.push(t);
    else trafficByVpc.set(t.vpc.urn, [t]);
  }
  for (const { vpc, nats } of natsByVpc.values()) {
    const azs = new Set((subnetsByVpc.get(vpc.urn) ?? []).map((s) => s.inputs.availabilityZone)).size;
    if (azs < 2) continue;
    const inVpc = trafficByVpc.get(vpc.urn) ?? [];
    const gb = inVpc.reduce((s, t) => s + t.natGb, 0);
    const crossGb = inVpc.reduce((s, t) => s + t.natCrossAzGb, 0);
    const interAz = (g: number) => g * 2 * p("ec2.interAzGb");
    const single = natFixed + interAz((gb * (azs - 1)) / azs);
    const perAz = azs * natFixed;
    const current = nats.length * natFixed + interAz(crossGb);
    const isSingle = nats.length < azs;
    out.push({
      id: "nat-strategy",
      title: `NAT strategy in ${vpc.name}`,
      current: isSingle ? `${nats.length} NAT for ${azs} AZs` : `one NAT per AZ (${nats.length})`,
      currentMonthly: current,
      alternative: isSingle ? `one NAT per AZ (${azs})` : "a single NAT",
      alternativeMonthly: isSingle ? perAz : single,
      note: isSingle
        ? `per-AZ NATs survive an AZ outage and avoid inter-AZ charges (${money(interAz(crossGb))} at ${round(gb)} GB/month); each NAT adds an EIP to the SaaS allowlist`
        : `a single NAT saves ${money(perAz - single)} but an outage of its AZ cuts every function's egress, and other AZs pay inter-AZ transfer`,
    });
  }

  // Proxy tier vs a NAT per client VPC.
  const clbs = m.all(T.classicLb);
  const nlbs = networkLbs(m);
  const lbs = [...clbs, ...nlbs];
  const fleet = asgFleet(m);
  if (lbs.length > 0 && fleet.length > 0) {
    const proxyGb = traffic.reduce((s, t) => s + t.proxyGb, 0);
    const poolIps =
      m.all(T.eip).filter((e) => POOL_TAG in ((e.inputs.tags ?? {}) as Record<string, unknown>)).length +
      m.all(T.tag).filter((t) => t.inputs.key === POOL_TAG).length;
    // Per instance: its hours and the Squid logs it ships. Per tier: the pool's addresses, and the
    // alarms and log metric filters of the components that own the groups.
    const perInstance = (g: (typeof fleet)[number]) =>
      (PRICES.items[`ec2.${g.instanceType}.hour`]?.price ?? 0) * H +
      a.proxyLogGbPerInstance * p("cloudwatchLogs.ingestGb");
    const fleetAt = (size: (g: (typeof fleet)[number]) => number) =>
      fleet.reduce((s, g) => s + size(g) * perInstance(g), 0);
    const owners = new Set(fleet.map((g) => g.asg.parent).filter((x): x is string => x !== null));
    const monitoring =
      m.all(T.metricAlarm).filter((x) => x.parent !== null && owners.has(x.parent)).length *
        p("cloudwatch.alarmMonth") +
      m.all(T.logMetricFilter).filter((x) => x.parent !== null && owners.has(x.parent)).length *
        p("cloudwatch.customMetricMonth");
    const fixed = poolIps * p("publicIpv4.hour") * H + monitoring;
    const clbCost = lbs.length * p("classicLoadBalancer.hour") * H + proxyGb * p("classicLoadBalancer.gb");
    const nlbCost = lbs.length * p("networkLoadBalancer.hour") * H + proxyGb * p("networkLoadBalancer.nlcuHour");
    const lbCost = nlbs.length > 0 ? nlbCost : clbCost;
    const rest = fleetAt((g) => g.count) + fixed;
    const tier = lbCost + rest;
    const minCount = fleet.reduce((s, g) => s + g.min, 0);
    const maxCount = fleet.reduce((s, g) => s + g.max, 0);
    const range =
      maxCount > minCount
        ? `; scaling ${minCount}..${maxCount} instances puts the tier at ${money(lbCost + fleetAt((g) => g.min) + fixed)}..${money(lbCost + fleetAt((g) => g.max) + fixed)}`
        : "";
    const otherLb =
      nlbs.length > 0
        ? `a Classic Load Balancer instead would cost ${money(clbCost + rest)} (PROXY v1 only, no new features)`
        : `a Network Load Balancer instead would cost ${money(nlbCost + rest)} (PROXY v2, security groups, configurable TCP idle timeout)`;
    const clientVpcs = new Set(traffic.filter((t) => t.proxyGb > 0 && t.vpc).map((t) => t.vpc!.urn));
    const withoutNat =
      [...clientVpcs].filter((u) => !natsByVpc.has(u)).length + (cfg?.proxyTier?.extraClientCidrs?.length ?? 0);
    const clients = clientVpcs.size + (cfg?.proxyTier?.extraClientCidrs?.length ?? 0);
    const alt = withoutNat * natFixed + proxyGb * p("natGateway.gb");
    out.push({
      id: "proxy-tier",
      title: "Squid proxy tier vs a NAT per client VPC",
      current: `proxy tier (${nlbs.length > 0 ? `${nlbs.length} NLB` : `${clbs.length} CLB`}, ${fleet.reduce((s, g) => s + g.count, 0)} instance(s)${maxCount > minCount ? ` of ${minCount}..${maxCount}` : ""}${poolIps ? `, ${poolIps} EIP(s)` : ""})`,
      currentMonthly: tier,
      alternative: `NAT in each of ${clients} client VPC(s) (${withoutNat} without one today)`,
      alternativeMonthly: alt,
      note: `the tier pays off from ${Math.max(1, Math.ceil(tier / natFixed))} client VPC(s) that would otherwise each need their own NAT (${money(natFixed)} each), and gives one allowlist for all of them; ${otherLb}${range}; instances, Squid logs, alarms and the deny metric included`,
    });
  }

  // Interface endpoint vs NAT, per endpoint.
  for (const ep of m.all(T.endpoint)) {
    if (ep.inputs.vpcEndpointType !== "Interface") continue;
    const azs = Math.max(1, endpointAzs(m, ep));
    const gb = endpointGb.get(ep.urn) ?? 0;
    const fixed = azs * p("interfaceEndpoint.azHour") * H;
    const vpc = m.ref(ep, "vpcId", ep.inputs.vpcId, [T.vpc]);
    const hasNat = vpc !== undefined && natsByVpc.has(vpc.urn);
    const service = String(ep.inputs.serviceName ?? ep.name)
      .split(".")
      .pop();
    // A private API is reachable only through its endpoint: there is no NAT alternative to price.
    if (service === "execute-api") continue;
    const perGb = p("natGateway.gb") - p("interfaceEndpoint.gb");
    out.push({
      id: "interface-endpoint",
      title: `${service} through an interface endpoint vs through the NAT`,
      current: `interface endpoint in ${azs} AZ(s)`,
      currentMonthly: fixed + gb * p("interfaceEndpoint.gb"),
      alternative: hasNat ? "the existing NAT" : "a NAT (the VPC has none)",
      alternativeMonthly: gb * p("natGateway.gb") + (hasNat ? 0 : natFixed),
      note: `at ${round(gb)} GB/month; the endpoint is cheaper above ${round(fixed / perGb)} GB/month, keeps the traffic off the internet and lets functions drop 443-to-anywhere`,
    });
  }

  // Gateway endpoint (S3) vs NAT.
  const s3Gb = traffic.reduce((s, t) => s + t.s3Gb, 0);
  if (s3Gb > 0 && m.all(T.endpoint).some((e) => e.inputs.vpcEndpointType === "Gateway")) {
    out.push({
      id: "gateway-endpoint",
      title: "S3 through the gateway endpoint vs through the NAT",
      current: "gateway endpoint (free)",
      currentMonthly: 0,
      alternative: "the NAT",
      alternativeMonthly: s3Gb * p("natGateway.gb"),
      note: `at ${round(s3Gb)} GB/month`,
    });
  }
  const live = connectorVsExport(m, a, traffic, out.find((c) => c.id === "proxy-tier")?.currentMonthly ?? 0);
  if (live) out.push(live);
  return out;
}

/**
 * The Athena connector (the SaaS queried live) next to the scheduled export (queried in S3): each side's Lambda
 * compute, Athena's per-TB charge (at least 10 MB per query) and its share of the proxy tier by proxy traffic.
 * S3 storage of the export is left out, as everywhere in this estimate.
 */
function connectorVsExport(
  m: GraphModel,
  a: CostAssumptions,
  traffic: FunctionTraffic[],
  proxyTierMonthly: number,
): DesignChoice | undefined {
  const catalog = m.all(T.athenaCatalog).find((c) => c.inputs.type === "LAMBDA");
  if (!catalog) return undefined;
  const base = catalog.name.replace(/-catalog$/, "");
  const connector = traffic.find((t) => t.fn.name === `${base}-connector-fn`);
  if (!connector) return undefined;
  const schedules = scheduleByFunction(m);
  // The export: a scheduled function whose declared flows reach S3 and a security group (the proxy tier's).
  const flowsOf = (t: FunctionTraffic) =>
    (m.byUrn(t.fn.parent)?.inputs.flows ?? []) as { to?: { kind?: string; service?: string } }[];
  const exporter = traffic.find(
    (t) =>
      t !== connector &&
      schedules.has(t.fn.urn) &&
      flowsOf(t).some((f) => f.to?.kind === "awsService" && f.to.service === "s3") &&
      flowsOf(t).some((f) => f.to?.kind === "securityGroup"),
  );
  const p = (k: string) => price(k).price;
  const memGb = (fn: Res) => (typeof fn.inputs.memorySize === "number" ? fn.inputs.memorySize : 128) / 1024;
  const gbSecond = (fn: Res) =>
    Array.isArray(fn.inputs.architectures) && fn.inputs.architectures.includes("arm64")
      ? p("lambda.arm.gbSecond")
      : p("lambda.x86.gbSecond");
  const proxyGb = traffic.reduce((s, t) => s + t.proxyGb, 0);
  const share = (t: FunctionTraffic) => (proxyGb > 0 ? (proxyTierMonthly * t.proxyGb) / proxyGb : 0);
  const queries = a.athenaQueriesPerMonth;
  const scanned = queries * (Math.max(10, a.athenaMbScannedPerQuery) / 1e6) * p("athena.tbScanned");
  const fnCost = (t: FunctionTraffic, runs: number, seconds: number) =>
    runs * seconds * memGb(t.fn) * gbSecond(t.fn) + (runs / 1e6) * p("lambda.requestMillion");
  const live = fnCost(connector, queries, a.athenaConnectorSecondsPerQuery) + scanned + share(connector);
  let exportMonthly = scanned;
  if (exporter) {
    const component = m.byUrn(exporter.fn.parent)?.name;
    const seconds =
      a.functionSecondsByName[exporter.fn.name] ??
      (component !== undefined ? a.functionSecondsByName[component] : undefined) ??
      a.functionSeconds;
    exportMonthly +=
      fnCost(exporter, invocationsPerMonth(schedules.get(exporter.fn.urn)!, a.hoursPerMonth), seconds) +
      share(exporter);
  }
  return {
    id: "athena-connector",
    title: "SaaS queried live through the Athena connector vs the scheduled export in S3",
    current: `connector ${base} (${queries} queries/month)`,
    currentMonthly: live,
    alternative: exporter
      ? `export ${exporter.fn.name} on its schedule, queried in S3`
      : "a scheduled export queried in S3 (not in this stack)",
    alternativeMonthly: exportMonthly,
    note: `at ${Math.max(10, a.athenaMbScannedPerQuery)} MB scanned per query and ${a.athenaConnectorSecondsPerQuery} s of connector per query; the connector costs per query and reads current data, the export costs per run whatever the queries, keeps history and is what to use for large or frequent scans`,
  };
}

// ------------------------------------------------------------------------------------------------
// Formatting

/** A table of several stacks side by side (dev beside prod), then each stack's design choices. */
export function formatCost(reports: CostReport[]): string {
  if (reports.length === 0) return "cost: no stacks";
  const first = reports[0];
  const header = ["monthly cost (USD)", ...reports.map((r) => r.stack)];
  const rows: string[][] = [];
  for (const c of CATEGORIES) {
    if (reports.every((r) => r.byCategory[c] === 0)) continue;
    const starred = reports.some((r) => r.lines.some((l) => l.category === c && !PRICES.items[l.priceKey].confirmed));
    rows.push([`${c}${starred ? " *" : ""}`, ...reports.map((r) => money(r.byCategory[c], false))]);
  }
  rows.push(["total", ...reports.map((r) => money(r.total, false))]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const fmt = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
  const out: string[] = [
    `Estimated monthly cost, ${first.region} list prices compiled ${first.pricesCompiled} (${first.currency}, ${first.assumptions.hoursPerMonth} h/month; * includes a price not confirmed for Tokyo)`,
    fmt(header),
    widths.map((w) => "-".repeat(w)).join("  "),
    ...rows.slice(0, -1).map(fmt),
    widths.map((w) => "-".repeat(w)).join("  "),
    fmt(rows[rows.length - 1]),
  ];
  for (const r of reports) {
    if (r.choices.length === 0) continue;
    out.push("", `Design choices (${r.stack}):`);
    for (const c of r.choices) {
      const delta = c.alternativeMonthly - c.currentMonthly;
      out.push(
        `  ${c.title}: ${c.current} ${money(c.currentMonthly)} vs ${c.alternative} ${money(c.alternativeMonthly)} (${delta >= 0 ? "+" : "-"}${money(Math.abs(delta))}); ${c.note}.`,
      );
    }
  }
  const unconfirmed = [...new Set(reports.flatMap((r) => r.unconfirmedPrices))];
  if (unconfirmed.length > 0)
    out.push(
      "",
      `* not confirmed for Tokyo: ${unconfirmed.map((k) => `${k} ${PRICES.items[k].price}`).join(", ")}; see ops/check/prices.${first.region}.json.`,
    );
  const asm = first.assumptions;
  out.push(
    `Assumptions per function/month: internet ${asm.internetGbPerFunction} GB, AWS APIs via endpoints ${asm.awsServiceGbPerFunction} GB, S3 ${asm.s3GbPerFunction} GB, TGW ${asm.tgwGbPerFunction} GB, ${asm.functionSeconds} s per run, logs ${asm.logGbPerFunction} GB; flow logs ${asm.flowLogGbPerFlowLog} GB each (in S3: stored as delivered, kept for the kit bucket's expiry or ${asm.flowLogArchiveRetentionDays} days in a given bucket); Squid logs ${asm.proxyLogGbPerInstance} GB per proxy instance. Not included: internet data transfer out, EBS, Secrets Manager, S3 storage other than flow logs'.`,
  );
  for (const r of reports) {
    if (r.billedToBucketOwner.length === 0) continue;
    const owed = r.billedToBucketOwner.reduce((sum, l) => sum + l.monthly, 0);
    out.push(
      `  ${r.stack}: billed to the flow-log bucket's owner, not in the total (delivery stays on this stack's bill): ${r.billedToBucketOwner.map((l) => `${l.resource} ${money(l.monthly)}`).join(", ")}; ${money(owed)}/month.`,
    );
  }
  for (const r of reports) for (const n of r.notes) out.push(`  ${r.stack}: ${n}`);
  return out.join("\n");
}

function money(x: number, dollar = true): string {
  return `${dollar ? "$" : ""}${x.toFixed(2)}`;
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

/** Network load balancers (aws:lb with loadBalancerType "network"). */
function networkLbs(m: GraphModel): Res[] {
  return m.all(T.lb).filter((lb) => lb.inputs.loadBalancerType === "network");
}
