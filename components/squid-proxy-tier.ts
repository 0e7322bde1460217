import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { ConfigError, configErrorsIn, throwIfAny } from "./errors";
import { Flow } from "./flows";
import { CLOUDWATCH_RETENTION_DAYS, nameTags } from "./defaults";
import { IngressPeer, IngressRules, legacyDescriptionName } from "./ingress";
import { exactHeaderRegex, HEADER_VALUE_MAX, renderSquidConf, SQUID_CONF_DEFAULTS } from "./squid-conf";
import { PlannedComponent } from "./planned";

export type ProxyPlacement = "public" | "private";
/** "nlb": Network Load Balancer (default). "clb": Classic Load Balancer, the tier's original design. */
export type ProxyLoadBalancer = "nlb" | "clb";
/** Auto Scaling group metric a target-tracking policy holds at `value`. */
export type ProxyScalingMetric = "cpu" | "networkIn" | "networkOut";

export interface ProxyScalingTarget {
  /** "cpu": average CPU % (ASGAverageCPUUtilization); "networkIn"/"networkOut": average bytes per instance per minute. */
  metric: ProxyScalingMetric;
  /** Target: 1..100 (percent) for "cpu"; bytes per minute (> 0) for the network metrics. */
  value: number;
}

export interface ProxyScaling {
  /** Fewest instances. Default: `desired`. */
  min?: number;
  /** Most instances. Default: the larger of `desired` and `min`. Placement "public" allocates this many EIPs. */
  max?: number;
  /** Instances at creation. Default: `min`, else 2. With a `target`, the policy owns it afterwards. */
  desired?: number;
  /** Target tracking on CPU or network bytes. Default: none (fixed size). Needs max > min. */
  target?: ProxyScalingTarget;
}

/**
 * Arguments of {@link SquidProxyTier}. Counts, ports, CIDRs and domains are plain values (not
 * Inputs) because they are validated, and squid.conf is rendered, before anything is registered.
 */
export interface SquidProxyTierArgs {
  /** The VPC the proxies, the load balancer and both security groups live in. */
  vpcId: pulumi.Input<string>;
  /**
   * "public": proxies in public subnets, each with its own fixed Elastic IP from a pool the tier
   * allocates (no NAT needed). "private": proxies in private subnets behind a FixedEgressVpc's NAT;
   * pass that VPC's `egressIps` as `natEgressIps`. No default: the subnets differ per choice.
   */
  placement: ProxyPlacement;
  /** Subnets for the proxy instances (public or private per `placement`), one per zone, ≥ 2 zones. */
  instanceSubnetIds: pulumi.Input<string>[];
  /** Subnets for the internal load balancer's nodes, one per zone, same zone order. Usually the private subnets. */
  lbSubnetIds: pulumi.Input<string>[];
  /**
   * CIDRs of `lbSubnetIds`, same order. Squid accepts the PROXY protocol header (the real client
   * address) only from these, so they must be exactly the load balancer subnets.
   */
  lbSubnetCidrs: string[];
  /**
   * Zone of subnet i of both lists (names, or Outputs of names). Plain names are checked to be
   * ≥ 2 distinct zones before anything is registered; Outputs when they resolve.
   */
  availabilityZones: pulumi.Input<string>[];
  /**
   * CIDRs the clients (the Lambdas' subnets) come from. Squid's `src` check always uses them; the
   * load balancer's security group admits them too unless `openToClientCidrs` is false.
   */
  clientCidrs: string[];
  /**
   * Admit `clientCidrs` at the load balancer's security group. Default true. Set false to admit only
   * security groups passed to `allowFrom` (tighter: one function's SG instead of whole subnets).
   */
  openToClientCidrs?: boolean;
  /** Destination whitelist: `api.example.com` (that host) or `.example.com` (domain and subdomains). */
  allowedDomains: string[];
  /**
   * Load balancer in front of the proxies. Default "nlb": an internal Network Load Balancer with a
   * security group, a TCP listener and a target group that sends PROXY protocol v2 (client IP
   * preservation off). "clb": the internal Classic Load Balancer with PROXY protocol v1.
   */
  loadBalancer?: ProxyLoadBalancer;
  /**
   * PROXY protocol version the load balancer sends. Default: 2 with "nlb", 1 with "clb" (the only
   * ones each supports; anything else is refused).
   */
  proxyProtocolVersion?: 1 | 2;
  /**
   * Seconds a connection may sit idle before the load balancer closes it; CONNECT tunnels to the
   * SaaS are often idle between API calls. Default 350. NLB TCP listener: 60..6000 (AWS default
   * 350). CLB: 1..3600 (AWS default 60, which cuts idle tunnels).
   */
  idleTimeoutSeconds?: number;
  /** Proxy port (load balancer listener and Squid). Default 3128. A CLB accepts 25, 80, 443, 465, 587, 1024..65535; an NLB 1..65535. */
  port?: number;
  /** Name of the secret request header. Default "X-Lambda-Proxy-Token". Squid removes it before forwarding. */
  headerName?: string;
  /**
   * The secret header value (1..512 visible ASCII characters). The tier stores it in a new Secrets
   * Manager secret (a Pulumi secret in state, never in user data). Exactly one of `headerValue` and
   * `headerSecretArn`.
   */
  headerValue?: pulumi.Input<string>;
  /**
   * Full ARN (with its 6-character suffix) of an existing secret whose SecretString is the header
   * value; the stack then holds no copy of the value at all. Exactly one of this and `headerValue`.
   */
  headerSecretArn?: pulumi.Input<string>;
  /**
   * ARN of the customer-managed KMS key the header secret is encrypted with. Default: none (the
   * `aws/secretsmanager` key, which needs no IAM grant). When set, a new secret uses it and the
   * instances get kms:Decrypt on it, via Secrets Manager only.
   */
  headerSecretKmsKeyArn?: pulumi.Input<string>;
  /** Required with placement "private": the NAT's public IPs (FixedEgressVpc.egressIps). Refused with "public". */
  natEgressIps?: pulumi.Input<string[]>;
  /**
   * Placement "public" only: existing EIP allocation ids to use as the pool, exactly one per
   * instance the group may run (`scaling.max`), so the SaaS allowlist survives a rebuild of the
   * tier; they get the pool tag. Default: new EIPs.
   */
  eipAllocationIds?: pulumi.Input<string>[];
  /** Group size and target tracking. Default: 2 instances, fixed. */
  scaling?: ProxyScaling;
  /** Older spelling of `scaling.desired` (kept for existing callers; not together with `scaling`). */
  desiredCapacity?: number;
  /** Older spelling of `scaling.min`. */
  minSize?: number;
  /** Older spelling of `scaling.max`. */
  maxSize?: number;
  /** Graviton (arm64) instance type, as the AMI is arm64. Default "t4g.small". */
  instanceType?: string;
  /**
   * AMI id. Default: the latest Amazon Linux 2023 arm64 AMI from the public SSM parameter, read at
   * each `pulumi up`, so a new AL2023 release rolls the fleet (instance refresh) on the next up.
   */
  amiId?: pulumi.Input<string>;
  /** Seconds after launch before failed load-balancer health checks count (boot installs Squid). Default 300. */
  healthCheckGracePeriodSeconds?: number;
  /** Instance refresh: share of desired capacity that stays in service while instances are replaced. Default 50. */
  minHealthyPercentage?: number;
  /** Days the tier's log group keeps Squid's access and cache logs. Default 30 (a CloudWatch Logs retention value). */
  logRetentionInDays?: number;
  /** Denied requests (TCP_DENIED in access.log) per 5 minutes, summed over the fleet, that raise the deny alarm. Default 50. */
  deniedRequestsAlarmThreshold?: number;
  /** SNS topic ARNs (or other alarm actions) notified when an alarm fires or clears. Default none. */
  alarmActions?: pulumi.Input<string>[];
  /** Tags for every taggable child (and, through the launch template, the instances, volumes and ENIs). */
  tags?: Record<string, string>;
}

/** Tag that marks the tier's EIP pool and instances; the EIP association permission is conditioned on it. */
export const PROXY_POOL_TAG = "vpc-lambda-kit:proxy-pool";

/** Stands in for the header value in the rendered template; the boot script swaps in the real regex. */
export const HEADER_PLACEHOLDER = "VLK-HEADER-VALUE-PLACEHOLDER";

/** The Session Manager agent's minimum (the relevant part of AmazonSSMManagedInstanceCore, without Run Command/inventory). */
export const SESSION_MANAGER_ACTIONS = [
  "ssm:UpdateInstanceInformation",
  "ssmmessages:CreateControlChannel",
  "ssmmessages:CreateDataChannel",
  "ssmmessages:OpenControlChannel",
  "ssmmessages:OpenDataChannel",
];

const DEFAULTS = {
  port: 3128,
  headerName: "X-Lambda-Proxy-Token",
  desiredCapacity: 2,
  instanceType: "t4g.small",
  healthCheckGracePeriodSeconds: 300,
  minHealthyPercentage: 50,
  openToClientCidrs: true,
  loadBalancer: "nlb",
  idleTimeoutSeconds: 350,
  logRetentionInDays: 30,
  deniedRequestsAlarmThreshold: 50,
} as const;

/** Idle timeout ranges: NLB TCP listener attribute tcp.idle_timeout.seconds (ELB user guide for NLB); CLB ConnectionSettings.IdleTimeout (ELB API reference). */
export const IDLE_TIMEOUT_RANGE: Record<ProxyLoadBalancer, [number, number]> = { nlb: [60, 6000], clb: [1, 3600] };
const SCALING_METRIC: Record<ProxyScalingMetric, string> = {
  cpu: "ASGAverageCPUUtilization",
  networkIn: "ASGAverageNetworkIn",
  networkOut: "ASGAverageNetworkOut",
};

const AL2023_ARM64_PARAMETER = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64";
/** Below the CLB's draining timeout, so Squid finishes open tunnels before the LB cuts them. */
const SQUID_SHUTDOWN_SECONDS = 20;
const LB_DRAINING_SECONDS = 30;
const HEREDOC_END = "VLK_SQUID_CONF_EOF";

/** Characters exactHeaderRegex backslash-escapes, derived from it so the boot script can never drift from it. */
export const HEADER_REGEX_META: string[] = (() => {
  const out: string[] = [];
  for (let code = 0x21; code <= 0x7e; code++) {
    const c = String.fromCharCode(code);
    const r = exactHeaderRegex(c);
    if (r === `^\\${c}$`) out.push(c);
    else if (r !== `^${c}$`)
      throw new Error(
        `exactHeaderRegex(${JSON.stringify(c)}) is ${JSON.stringify(r)}: the boot script only reproduces per-character backslash escaping`,
      );
  }
  return out;
})();

/** Plain, validated shape of a tier. Pure: no resources. */
export interface SquidProxyTierPlan {
  placement: ProxyPlacement;
  loadBalancer: ProxyLoadBalancer;
  proxyProtocolVersion: 1 | 2;
  idleTimeoutSeconds: number;
  /** Target tracking, if any (the AWS predefined metric type and its target). */
  scalingTarget?: { predefinedMetricType: string; targetValue: number };
  /** EIPs the tier holds (placement "public": maxSize; "private": 0). */
  eipPoolSize: number;
  logRetentionInDays: number;
  deniedRequestsAlarmThreshold: number;
  port: number;
  headerName: string;
  desiredCapacity: number;
  minSize: number;
  maxSize: number;
  instanceType: string;
  healthCheckGracePeriodSeconds: number;
  minHealthyPercentage: number;
  openToClientCidrs: boolean;
  clientCidrs: string[];
  lbSubnetCidrs: string[];
  /** squid.conf with {@link HEADER_PLACEHOLDER} as the header value: holds no secret. */
  squidConfTemplate: string;
}

const CLB_PORTS = [25, 80, 443, 465, 587];
const SECRET_ARN_RE = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+-[A-Za-z0-9]{6}$/;
const IPV4_RE = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/**
 * Validates the plain arguments and renders the squid.conf template. Every problem is reported at
 * once, each naming `<name>.<arg>` and the fix; renderSquidConf's own checks run here too.
 */
export function planSquidProxyTier(name: string, args: SquidProxyTierArgs): SquidProxyTierPlan {
  const errors: ConfigError[] = [];
  const err = (key: string, problem: string, fix: string) =>
    errors.push(new ConfigError(`${name}.${key}`, problem, fix));
  const isInt = (n: unknown): n is number => typeof n === "number" && Number.isInteger(n);

  const placement = args.placement;
  if (placement !== "public" && placement !== "private") {
    err(
      "placement",
      `${JSON.stringify(placement)} is not a placement`,
      `use "public" (instances with their own EIPs) or "private" (instances behind a NAT)`,
    );
  }
  const lbType = args.loadBalancer ?? DEFAULTS.loadBalancer;
  const lbOk = lbType === "nlb" || lbType === "clb";
  if (!lbOk)
    err(
      "loadBalancer",
      `${JSON.stringify(lbType)} is not a load balancer type`,
      'use "nlb" (Network Load Balancer, default) or "clb" (Classic Load Balancer)',
    );
  const lb: ProxyLoadBalancer = lbOk ? lbType : DEFAULTS.loadBalancer;
  const ppv = args.proxyProtocolVersion ?? (lb === "nlb" ? 2 : 1);
  if (lb === "clb" && ppv !== 1)
    err(
      "proxyProtocolVersion",
      `${JSON.stringify(ppv)}: a Classic Load Balancer sends PROXY protocol v1 only`,
      'omit proxyProtocolVersion (v1), or use loadBalancer "nlb" for v2',
    );
  if (lb === "nlb" && ppv !== 2)
    err(
      "proxyProtocolVersion",
      `${JSON.stringify(ppv)}: a Network Load Balancer target group sends PROXY protocol v2 only`,
      'omit proxyProtocolVersion (v2), or use loadBalancer "clb" for v1',
    );
  const idle = args.idleTimeoutSeconds ?? DEFAULTS.idleTimeoutSeconds;
  const [idleMin, idleMax] = IDLE_TIMEOUT_RANGE[lb];
  if (!isInt(idle) || idle < idleMin || idle > idleMax) {
    err(
      "idleTimeoutSeconds",
      `${JSON.stringify(idle)} is outside ${idleMin}..${idleMax} seconds, the range a ${lb === "nlb" ? "Network Load Balancer TCP listener" : "Classic Load Balancer"} accepts`,
      `use ${idleMin}..${idleMax}, e.g. ${DEFAULTS.idleTimeoutSeconds} (long enough for idle CONNECT tunnels)`,
    );
  }
  const port = args.port ?? DEFAULTS.port;
  const portOk =
    isInt(port) &&
    (lb === "nlb" ? port >= 1 && port <= 65535 : CLB_PORTS.includes(port) || (port >= 1024 && port <= 65535));
  if (!portOk) {
    if (lb === "clb")
      err(
        "port",
        `${JSON.stringify(port)} is not a port a Classic Load Balancer listener accepts`,
        "use 25, 80, 443, 465, 587 or 1024..65535, e.g. 3128",
      );
    else err("port", `${JSON.stringify(port)} is not a TCP port`, "use 1..65535, e.g. 3128");
  }

  const zones = args.availabilityZones;
  const lists: [string, unknown[] | undefined][] = [
    ["instanceSubnetIds", args.instanceSubnetIds],
    ["lbSubnetIds", args.lbSubnetIds],
    ["lbSubnetCidrs", args.lbSubnetCidrs],
  ];
  if (!Array.isArray(zones) || zones.length < 2) {
    err(
      "availabilityZones",
      `${Array.isArray(zones) ? zones.length : 0} zone(s) given`,
      "spread the tier over at least 2 availability zones, one subnet of each list per zone",
    );
  } else {
    const plain = zones.filter((z): z is string => typeof z === "string");
    const dup = plain.find((z, i) => plain.indexOf(z) !== i);
    if (dup !== undefined)
      err("availabilityZones", `"${dup}" is listed twice`, "give subnets in distinct zones, one per zone");
    for (const [key, list] of lists) {
      if (!Array.isArray(list) || list.length !== zones.length) {
        err(
          key,
          `${Array.isArray(list) ? list.length : 0} entries for ${zones.length} availability zones`,
          "give exactly one per zone, in the order of availabilityZones",
        );
      }
    }
  }

  // Size: `scaling`, or the older flat args (never both).
  const legacy = args.desiredCapacity !== undefined || args.minSize !== undefined || args.maxSize !== undefined;
  if (legacy && args.scaling !== undefined)
    err("scaling", "given together with desiredCapacity/minSize/maxSize", "use scaling.{min,max,desired} only");
  const sc = args.scaling ?? {};
  const K = legacy
    ? { desired: "desiredCapacity", min: "minSize", max: "maxSize" }
    : { desired: "scaling.desired", min: "scaling.min", max: "scaling.max" };
  const rawDesired = legacy ? args.desiredCapacity : sc.desired;
  const rawMin = legacy ? args.minSize : sc.min;
  const rawMax = legacy ? args.maxSize : sc.max;
  const desired = rawDesired ?? rawMin ?? DEFAULTS.desiredCapacity;
  const minSize = rawMin ?? desired;
  const maxSize = rawMax ?? (isInt(minSize) && minSize > desired ? minSize : desired);
  let sizeOk = true;
  const whole = (key: string, v: unknown, least: number) => {
    if (!isInt(v) || v < least) {
      sizeOk = false;
      err(
        key,
        `${JSON.stringify(v)} is not a whole number ≥ ${least}`,
        least === 1 ? "use 1 or more (2 survives a zone outage)" : "use 0 or more",
      );
    }
  };
  whole(K.min, minSize, 0);
  whole(K.max, maxSize, 1);
  whole(K.desired, desired, 1);
  if (sizeOk) {
    if (minSize > maxSize) {
      sizeOk = false;
      err(K.min, `${minSize} is above ${K.max} (${maxSize})`, `lower ${K.min} or raise ${K.max}`);
    } else if (desired < minSize || desired > maxSize) {
      sizeOk = false;
      err(
        K.desired,
        `${desired} is outside [${K.min}, ${K.max}] = [${minSize}, ${maxSize}]`,
        `use a value from ${minSize} to ${maxSize}, or omit it`,
      );
    }
  }
  let scalingTarget: SquidProxyTierPlan["scalingTarget"];
  if (sc.target !== undefined) {
    const t = sc.target;
    if (t === null || typeof t !== "object" || !(t.metric in SCALING_METRIC)) {
      err(
        "scaling.target.metric",
        `${JSON.stringify(t?.metric)} is not a scaling metric`,
        'use "cpu", "networkIn" or "networkOut"',
      );
    } else if (
      typeof t.value !== "number" ||
      !Number.isFinite(t.value) ||
      t.value <= 0 ||
      (t.metric === "cpu" && t.value > 100)
    ) {
      err(
        "scaling.target.value",
        `${JSON.stringify(t.value)} is not a target for ${t.metric}`,
        t.metric === "cpu"
          ? "use a CPU percentage 1..100, e.g. 60"
          : "use bytes per instance per minute (> 0), e.g. 500000000",
      );
    } else {
      scalingTarget = { predefinedMetricType: SCALING_METRIC[t.metric], targetValue: t.value };
    }
    if (sizeOk && minSize === maxSize)
      err(
        "scaling.max",
        `equals scaling.min (${minSize}), so target tracking could never change the size`,
        "raise scaling.max above scaling.min, or drop scaling.target",
      );
  }

  if (placement === "private") {
    if (args.natEgressIps === undefined)
      err(
        "natEgressIps",
        'placement "private" needs the NAT\'s public IPs',
        "pass the FixedEgressVpc's egressIps (what the SaaS allowlists)",
      );
    if (args.eipAllocationIds !== undefined)
      err(
        "eipAllocationIds",
        'only placement "public" uses an EIP pool',
        'remove eipAllocationIds, or use placement "private"',
      );
  }
  if (placement === "public") {
    if (args.natEgressIps !== undefined)
      err(
        "natEgressIps",
        'placement "public" instances leave from their own EIPs, not a NAT',
        'remove natEgressIps, or use placement "private"',
      );
    if (args.eipAllocationIds !== undefined && sizeOk && args.eipAllocationIds.length !== maxSize) {
      const few = args.eipAllocationIds.length < maxSize;
      err(
        "eipAllocationIds",
        `${args.eipAllocationIds.length} allocation id(s) for ${K.max} ${maxSize}: ${few ? "an instance beyond the pool would find no address and never serve" : "more addresses than instances"}`,
        `give exactly one EIP allocation id per instance the group may run (${maxSize}), ${few ? `or lower ${K.max}` : "or raise " + K.max}; or omit them to allocate new EIPs`,
      );
    }
  }
  if (Array.isArray(args.natEgressIps)) {
    if (args.natEgressIps.length === 0) err("natEgressIps", "is empty", "pass the FixedEgressVpc's egressIps");
    args.natEgressIps.forEach((ip, i) => {
      if (typeof ip === "string" && !IPV4_RE.test(ip))
        err(
          `natEgressIps[${i}]`,
          `"${ip}" is not an IPv4 address`,
          "pass the NAT's public IPs, e.g. FixedEgressVpc.egressIps",
        );
    });
  }

  const hasValue = args.headerValue !== undefined;
  const hasArn = args.headerSecretArn !== undefined;
  if (hasValue === hasArn) {
    err(
      hasValue ? "headerSecretArn" : "headerValue",
      hasValue ? "both headerValue and headerSecretArn are set" : "no header secret given",
      "pass exactly one: headerValue (a Pulumi secret the tier stores in Secrets Manager) or headerSecretArn (an existing secret)",
    );
  }
  if (typeof args.headerSecretArn === "string" && !SECRET_ARN_RE.test(args.headerSecretArn)) {
    err(
      "headerSecretArn",
      `"${args.headerSecretArn}" is not a complete Secrets Manager secret ARN`,
      "use the full ARN including the 6-character suffix (the grant names exactly that ARN)",
    );
  }

  const instanceType = args.instanceType ?? DEFAULTS.instanceType;
  if (typeof instanceType !== "string" || !/^[a-z][a-z0-9-]*\.[a-z0-9]+$/.test(instanceType)) {
    err("instanceType", `${JSON.stringify(instanceType)} is not an EC2 instance type`, 'use e.g. "t4g.small"');
  } else if (args.amiId === undefined && !/^[a-z-]+\d+[a-z-]*g[a-z-]*\./.test(instanceType)) {
    err(
      "instanceType",
      `"${instanceType}" is not a Graviton (arm64) type, but the default AMI is AL2023 arm64`,
      'use an arm64 type such as "t4g.small" or "m7g.medium", or pass an amiId that matches the type',
    );
  }
  const grace = args.healthCheckGracePeriodSeconds ?? DEFAULTS.healthCheckGracePeriodSeconds;
  if (!isInt(grace) || grace < 0 || grace > 7200)
    err(
      "healthCheckGracePeriodSeconds",
      `${JSON.stringify(grace)} is not 0..7200 seconds`,
      "use e.g. 300 (time to install and start Squid)",
    );
  const minHealthy = args.minHealthyPercentage ?? DEFAULTS.minHealthyPercentage;
  if (!isInt(minHealthy) || minHealthy < 50 || minHealthy > 100)
    err(
      "minHealthyPercentage",
      `${JSON.stringify(minHealthy)} is not 50..100`,
      "use 50 (replace half the fleet at a time) up to 100",
    );
  const open = args.openToClientCidrs ?? DEFAULTS.openToClientCidrs;
  if (typeof open !== "boolean")
    err("openToClientCidrs", `${JSON.stringify(open)} is not a boolean`, "use true (default) or false");
  const retention = args.logRetentionInDays ?? DEFAULTS.logRetentionInDays;
  if (!CLOUDWATCH_RETENTION_DAYS.includes(retention))
    err(
      "logRetentionInDays",
      `${JSON.stringify(retention)} is not a CloudWatch Logs retention period`,
      `use one of ${CLOUDWATCH_RETENTION_DAYS.join(", ")}`,
    );
  const denyThreshold = args.deniedRequestsAlarmThreshold ?? DEFAULTS.deniedRequestsAlarmThreshold;
  if (!isInt(denyThreshold) || denyThreshold < 1)
    err(
      "deniedRequestsAlarmThreshold",
      `${JSON.stringify(denyThreshold)} is not a whole number ≥ 1`,
      "use the denied requests per 5 minutes that deserve a look, e.g. 50",
    );

  // renderSquidConf's own validation: domains, CIDRs, header name; keys renamed to this component's args.
  const headerName = args.headerName ?? DEFAULTS.headerName;
  const confOptions = {
    port: portOk ? port : DEFAULTS.port,
    headerName,
    allowedDomains: args.allowedDomains,
    clientCidrs: args.clientCidrs,
    proxyProtocolFrom: args.lbSubnetCidrs,
    shutdownLifetimeSeconds: SQUID_SHUTDOWN_SECONDS,
  };
  let template = "";
  const squidErrors = (headerValue: string): ConfigError[] => {
    try {
      template = renderSquidConf({ ...confOptions, headerValue });
      return [];
    } catch (e) {
      const found = configErrorsIn(e);
      if (!found) throw e;
      return found;
    }
  };
  for (const e of squidErrors(HEADER_PLACEHOLDER)) {
    const key = e.key.replace(/^proxyProtocolFrom/, "lbSubnetCidrs");
    const fix = key.startsWith("lbSubnetCidrs")
      ? "list the load balancer subnets' CIDRs, in the order of lbSubnetIds"
      : e.fix;
    errors.push(new ConfigError(`${name}.${key}`, e.problem, fix));
  }
  if (typeof args.headerValue === "string") {
    // A plain value can be checked now; renderSquidConf reports its problems without echoing it.
    const saved = template;
    for (const e of squidErrors(args.headerValue))
      if (e.key === "headerValue") errors.push(new ConfigError(`${name}.headerValue`, e.problem, e.fix));
    template = saved;
  }
  throwIfAny(errors);

  const token = exactHeaderRegex(HEADER_PLACEHOLDER);
  if (template.split(token).length !== 2 || template.split("\n").includes(HEREDOC_END)) {
    throw new Error("internal: the squid.conf template must hold the header placeholder exactly once");
  }
  return {
    placement,
    loadBalancer: lb,
    proxyProtocolVersion: ppv,
    idleTimeoutSeconds: idle,
    scalingTarget,
    eipPoolSize: placement === "public" ? maxSize : 0,
    logRetentionInDays: retention,
    deniedRequestsAlarmThreshold: denyThreshold,
    port,
    headerName,
    desiredCapacity: desired,
    minSize,
    maxSize,
    instanceType,
    healthCheckGracePeriodSeconds: grace,
    minHealthyPercentage: minHealthy,
    openToClientCidrs: open,
    clientCidrs: args.clientCidrs,
    lbSubnetCidrs: args.lbSubnetCidrs,
    squidConfTemplate: template,
  };
}

/** Single-quotes a string for bash. */
function shq(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export interface BootScriptOptions {
  plan: SquidProxyTierPlan;
  secretArn: string;
  /** Pin this secret version (the one the tier created); undefined = AWSCURRENT. */
  secretVersionId?: string;
  /** Value of the {@link PROXY_POOL_TAG} on the EIP pool (placement "public"). */
  poolId: string;
  /** The tier's CloudWatch Logs group, where the agent ships Squid's access and cache logs. */
  logGroupName: string;
}

/** The boot script's source, shipped next to this file (components/squid-boot.sh). */
export const BOOT_SCRIPT_PATH = path.join(__dirname, "squid-boot.sh");
let bootSource: string | undefined;

/**
 * The instances' user data: components/squid-boot.sh with its placeholders filled in. It holds no
 * secret: it reads the header value from Secrets Manager (instance-role credentials over IMDSv2),
 * validates it like renderSquidConf does, escapes it like exactHeaderRegex does and substitutes it
 * for the placeholder token in the rendered template. Any failure stops Squid and exits non-zero,
 * so the instance never passes the load balancer's health check and the Auto Scaling group
 * replaces it.
 *
 * Only the last line acts; everything above defines variables and functions, so tests can
 * `source` the script and run its functions with bash.
 */
export function renderBootScript(o: BootScriptOptions): string {
  const p = o.plan;
  bootSource ??= fs.readFileSync(BOOT_SCRIPT_PATH, "utf8");
  const values: Record<string, string> = {
    SECRET_ARN: shq(o.secretArn),
    SECRET_SELECTOR: o.secretVersionId ? `(--version-id ${shq(o.secretVersionId)})` : "(--version-stage AWSCURRENT)",
    PLACEMENT: shq(p.placement),
    POOL_TAG_KEY: shq(PROXY_POOL_TAG),
    POOL_ID: shq(o.poolId),
    PORT: String(p.port),
    HEADER_TOKEN: shq(exactHeaderRegex(HEADER_PLACEHOLDER)),
    HEADER_VALUE_MAX: String(HEADER_VALUE_MAX),
    LOG_GROUP: shq(o.logGroupName),
    ACCESS_LOG: shq(SQUID_CONF_DEFAULTS.accessLog),
    CACHE_LOG: shq(SQUID_CONF_DEFAULTS.cacheLog),
    HEADER_META_CASE: HEADER_REGEX_META.map(shq).join("|"),
    HEREDOC_END,
    SQUID_CONF_TEMPLATE: p.squidConfTemplate.replace(/\n$/, ""),
  };
  const used = new Set<string>();
  // One pass: inserted values are never scanned again, so a value cannot inject a placeholder.
  const out = bootSource.replace(/@@([A-Z_]+)@@/g, (_m, key: string) => {
    if (!(key in values)) throw new Error(`internal: ${BOOT_SCRIPT_PATH} uses an unknown placeholder ${key}`);
    used.add(key);
    return values[key];
  });
  const unused = Object.keys(values).filter((k) => !used.has(k));
  if (unused.length > 0) throw new Error(`internal: ${BOOT_SCRIPT_PATH} lacks the placeholder(s) ${unused.join(", ")}`);
  return out;
}

/**
 * Squid forward proxies behind an internal load balancer. Lambdas send `http://<lb>:<port>`
 * requests (and CONNECT for HTTPS) carrying a secret header; Squid lets a request through only when
 * the client address, the header value and the destination domain all match, and the SaaS
 * allowlists `egressIps`.
 *
 * The load balancer (an NLB by default, or a CLB) sends the PROXY protocol header so Squid sees the
 * real client address; its health check is plain TCP, since an HTTP check without a PROXY header
 * is refused by the port. Squid's access and cache logs go to a CloudWatch Logs group of the tier,
 * with a denied-requests metric and alarms on unhealthy hosts and deny spikes. A change to
 * squid.conf, the domain list or the header secret's version makes a new launch-template version,
 * which the Auto Scaling group rolls out with an instance refresh, never all at once.
 */
export class SquidProxyTier extends PlannedComponent<SquidProxyTierPlan> {
  /** `http://<load balancer DNS name>:<port>`: the Lambdas' proxy URL. */
  public readonly proxyUrl: pulumi.Output<string>;
  /** Public IPv4 addresses the SaaS sees: allowlist all of them (as /32). */
  public readonly egressIps: pulumi.Output<string[]>;
  /** How many addresses the SaaS must allowlist: the EIP pool size (`scaling.max`) or the NAT's address count. */
  public readonly allowlistAddressCount: pulumi.Output<number>;
  /** The load balancer's security group: what clients must be allowed to reach (see `allowFrom`, `flow`). */
  public readonly securityGroupId: pulumi.Output<string>;
  /** The proxy instances' security group. */
  public readonly instanceSecurityGroupId: pulumi.Output<string>;
  /** ARN of the secret holding the header value: grant the Lambdas GetSecretValue on it. */
  public readonly headerSecretArn: pulumi.Output<string>;
  /** The header name the Lambdas send (not secret). */
  public readonly headerName: string;
  /** Proxy port (plain: known before deployment). */
  public readonly port: number;
  /** "nlb" or "clb" (plain). */
  public readonly loadBalancerType: ProxyLoadBalancer;
  /** The load balancer's ARN. */
  public readonly loadBalancerArn: pulumi.Output<string>;
  /** The NLB's target group ARN; undefined with a CLB. */
  public readonly targetGroupArn: pulumi.Output<string> | undefined;
  /** The Auto Scaling group's name. */
  public readonly autoScalingGroupName: pulumi.Output<string>;
  /** The tier's CloudWatch Logs group (Squid access.log and cache.log, one stream per instance and file). */
  public readonly logGroupName: pulumi.Output<string>;
  /** The denied-requests metric the log group's metric filter publishes. */
  public readonly deniedRequestsMetric: { namespace: string; metricName: string };
  /** Alarm: the load balancer reports an unhealthy proxy. */
  public readonly unhealthyHostsAlarmName: pulumi.Output<string>;
  /** Alarm: denied requests per 5 minutes reached `deniedRequestsAlarmThreshold`. */
  public readonly deniedRequestsAlarmName: pulumi.Output<string>;
  private readonly clientRules: IngressRules;

  constructor(name: string, args: SquidProxyTierArgs, opts: pulumi.ComponentResourceOptions = {}) {
    // Validate (and render squid.conf) before anything is registered: no half-built tier on a bad arg.
    const plan = planSquidProxyTier(name, args);
    super(
      "vpc-lambda-kit:proxy:SquidProxyTier",
      name,
      plan,
      {
        placement: plan.placement,
        port: plan.port,
        desiredCapacity: plan.desiredCapacity,
        loadBalancer: plan.loadBalancer,
      },
      opts,
    );
    this.port = plan.port;
    this.headerName = plan.headerName;
    this.loadBalancerType = plan.loadBalancer;
    const child = { parent: this };
    const userTags = { ...(args.tags ?? {}) };
    const tags = nameTags(name, userTags);
    const poolId = proxyPoolId(name);
    const isPublic = plan.placement === "public";
    const isNlb = plan.loadBalancer === "nlb";

    const partition = aws.getPartitionOutput({}, { parent: this });
    const region = aws.getRegionOutput({}, { parent: this }).region;
    const account = aws.getCallerIdentityOutput({}, { parent: this }).accountId;

    // --- The header secret: the stack never puts the value anywhere but the SecretVersion (as a secret).
    let secretArn: pulumi.Output<string>;
    let secretVersionId: pulumi.Output<string | undefined>;
    if (args.headerValue !== undefined) {
      const secret = new aws.secretsmanager.Secret(
        `${name}-header-secret`,
        {
          description: `${name}: value of the ${plan.headerName} header the Squid proxy tier requires`,
          kmsKeyId: args.headerSecretKmsKeyArn,
          tags: tags("header-secret"),
        },
        child,
      );
      const value = pulumi.secret(pulumi.output(args.headerValue).apply((v) => checkHeaderValueLate(name, v)));
      const version = new aws.secretsmanager.SecretVersion(
        `${name}-header-secret-version`,
        { secretId: secret.id, secretString: value },
        child,
      );
      secretArn = secret.arn;
      // Pinning the version puts it in the launch template: a new value rolls the fleet.
      secretVersionId = version.versionId.apply((v) => (v ? v : undefined));
    } else {
      secretArn = pulumi.output(args.headerSecretArn as pulumi.Input<string>);
      secretVersionId = pulumi.output(undefined);
    }
    this.headerSecretArn = secretArn;

    // --- Logs: one group per tier, made here with a retention (the agent never creates it).
    const logGroup = new aws.cloudwatch.LogGroup(
      `${name}-squid-logs`,
      {
        retentionInDays: plan.logRetentionInDays,
        tags: tags("squid-logs"),
      },
      child,
    );
    this.logGroupName = logGroup.name;

    // --- Security groups (the provider removes AWS's default allow-all egress on create). The NLB
    // gets one too (possible only at creation), so both load balancers are gated the same way.
    const lbSg = new aws.ec2.SecurityGroup(
      `${name}-lb-sg`,
      {
        vpcId: args.vpcId,
        description: `${name}: internal proxy load balancer; clients in, proxies out`,
        revokeRulesOnDelete: true,
        tags: tags("lb-sg"),
      },
      child,
    );
    const instanceSg = new aws.ec2.SecurityGroup(
      `${name}-instance-sg`,
      {
        vpcId: args.vpcId,
        description: `${name}: Squid instances; proxy port from the load balancer only`,
        revokeRulesOnDelete: true,
        tags: tags("instance-sg"),
      },
      child,
    );
    this.securityGroupId = lbSg.id;
    this.instanceSecurityGroupId = instanceSg.id;
    const tcp = { ipProtocol: "tcp", fromPort: plan.port, toPort: plan.port };
    this.clientRules = new IngressRules({
      owner: name,
      namePrefix: name,
      securityGroupId: lbSg.id,
      parent: this,
      tags: userTags,
    });
    if (plan.openToClientCidrs) {
      const cidrRules = new IngressRules({
        owner: name,
        namePrefix: `${name}-lb`,
        securityGroupId: lbSg.id,
        parent: this,
        tags: userTags,
      });
      for (const cidr of plan.clientCidrs) {
        cidrRules.allow({ cidr }, plan.port, `proxy clients ${cidr}`, "clientCidrs", [
          `${name}-lb-from-${cidr.replace(/[./]/g, "-")}`,
        ]);
      }
    }
    new aws.vpc.SecurityGroupEgressRule(
      `${name}-lb-to-instances`,
      {
        securityGroupId: lbSg.id,
        ...tcp,
        referencedSecurityGroupId: instanceSg.id,
        description: "to the Squid instances (traffic and health checks)",
        tags: userTags,
      },
      child,
    );
    new aws.vpc.SecurityGroupIngressRule(
      `${name}-instance-from-lb`,
      {
        securityGroupId: instanceSg.id,
        ...tcp,
        referencedSecurityGroupId: lbSg.id,
        description: "from the proxy load balancer only",
        tags: userTags,
      },
      child,
    );
    // Security groups cannot filter by name: Squid's domain whitelist is the gate. DNS (VPC resolver),
    // IMDS and NTP (169.254.169.123) are not subject to security groups.
    new aws.vpc.SecurityGroupEgressRule(
      `${name}-instance-to-https`,
      {
        securityGroupId: instanceSg.id,
        ipProtocol: "tcp",
        fromPort: 443,
        toPort: 443,
        cidrIpv4: "0.0.0.0/0",
        description: "HTTPS: the SaaS (CONNECT), SSM, Secrets Manager, CloudWatch Logs, EC2 API, dnf repositories",
        tags: userTags,
      },
      child,
    );
    new aws.vpc.SecurityGroupEgressRule(
      `${name}-instance-to-http`,
      {
        securityGroupId: instanceSg.id,
        ipProtocol: "tcp",
        fromPort: 80,
        toPort: 80,
        cidrIpv4: "0.0.0.0/0",
        description: "plain-HTTP requests to whitelisted domains",
        tags: userTags,
      },
      child,
    );

    // --- EIP pool (public placement): one fixed address per instance the group may run (max).
    const publicIps: pulumi.Output<string>[] = [];
    if (isPublic) {
      for (let i = 0; i < plan.eipPoolSize; i++) {
        const byo = args.eipAllocationIds?.[i];
        if (byo !== undefined) {
          new aws.ec2.Tag(`${name}-eip-${i}-pool-tag`, { resourceId: byo, key: PROXY_POOL_TAG, value: poolId }, child);
          publicIps.push(aws.ec2.getElasticIpOutput({ id: byo }, { parent: this }).publicIp);
        } else {
          const eip = new aws.ec2.Eip(
            `${name}-eip-${i}`,
            { domain: "vpc", tags: { ...tags(`eip-${i}`), [PROXY_POOL_TAG]: poolId } },
            child,
          );
          publicIps.push(eip.publicIp);
        }
      }
      this.egressIps = pulumi.all(publicIps);
    } else {
      this.egressIps = pulumi.output(args.natEgressIps as pulumi.Input<string[]>);
    }
    this.allowlistAddressCount = this.egressIps.apply((ips) => ips.length);

    // --- Instance role: read the one secret, write to the one log group, Session Manager, and
    // (public) associate pool EIPs. Inline only, no managed policy.
    const role = new aws.iam.Role(
      `${name}-role`,
      {
        assumeRolePolicy: JSON.stringify({
          Version: "2012-10-17",
          Statement: [{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }],
        }),
        description: `${name}: Squid proxy instances`,
        tags: tags("role"),
      },
      child,
    );
    const kmsKey = args.headerSecretKmsKeyArn !== undefined ? pulumi.output(args.headerSecretKmsKeyArn) : undefined;
    const policy = new aws.iam.RolePolicy(
      `${name}-role-policy`,
      {
        role: role.id,
        policy: pulumi
          .all([secretArn, partition.partition, partition.dnsSuffix, region, account, kmsKey, logGroup.arn])
          .apply(([arn, part, dns, reg, acct, key, logArn]) => {
            const statements: Record<string, unknown>[] = [
              { Sid: "ReadHeaderSecret", Effect: "Allow", Action: "secretsmanager:GetSecretValue", Resource: arn },
            ];
            if (key) {
              statements.push({
                Sid: "DecryptHeaderSecret",
                Effect: "Allow",
                Action: "kms:Decrypt",
                Resource: key,
                Condition: { StringEquals: { "kms:ViaService": `secretsmanager.${reg}.${dns}` } },
              });
            }
            // The CloudWatch agent: its streams in this group only (`<group arn>:*` covers the group's
            // streams; the provider's arn attribute has no trailing `:*`). No CreateLogGroup: the tier makes it.
            statements.push({
              Sid: "ShipSquidLogs",
              Effect: "Allow",
              Action: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
              Resource: `${logArn.replace(/:\*$/, "")}:*`,
            });
            // ssmmessages has no resource-level permissions; UpdateInstanceInformation is the agent's own registration.
            statements.push({ Sid: "SessionManager", Effect: "Allow", Action: SESSION_MANAGER_ACTIONS, Resource: "*" });
            if (isPublic) {
              statements.push({ Sid: "FindPoolEips", Effect: "Allow", Action: "ec2:DescribeAddresses", Resource: "*" });
              // AssociateAddress is authorized against the address and the instance/ENI: all carry the pool tag.
              statements.push({
                Sid: "AssociatePoolEip",
                Effect: "Allow",
                Action: "ec2:AssociateAddress",
                Resource: ["elastic-ip", "instance", "network-interface"].map(
                  (t) => `arn:${part}:ec2:${reg}:${acct}:${t}/*`,
                ),
                Condition: { StringEquals: { [`aws:ResourceTag/${PROXY_POOL_TAG}`]: poolId } },
              });
            }
            return JSON.stringify({ Version: "2012-10-17", Statement: statements });
          }),
      },
      child,
    );
    const profile = new aws.iam.InstanceProfile(
      `${name}-instance-profile`,
      { role: role.name, tags: tags("instance-profile") },
      child,
    );

    // --- Launch template: the whole instance config (squid.conf, domains, secret version, log
    // group are all in the user data). A change makes a new version and an instance refresh.
    const imageId =
      args.amiId ?? aws.ssm.getParameterOutput({ name: AL2023_ARM64_PARAMETER }, { parent: this }).insecureValue;
    const userData = pulumi
      .all([secretArn, secretVersionId, logGroup.name])
      .apply(([arn, versionId, logGroupName]) =>
        Buffer.from(
          renderBootScript({ plan, secretArn: arn, secretVersionId: versionId, poolId, logGroupName }),
          "utf8",
        ).toString("base64"),
      );
    const instanceTags = { ...userTags, Name: `${name}-proxy`, [PROXY_POOL_TAG]: poolId };
    const lt = new aws.ec2.LaunchTemplate(
      `${name}-lt`,
      {
        description: `${name}: Squid proxy (AL2023 arm64)`,
        imageId,
        instanceType: plan.instanceType,
        iamInstanceProfile: { arn: profile.arn },
        // IMDSv2 only, hop limit 1: a request relayed through the proxy or a container cannot read credentials.
        metadataOptions: {
          httpEndpoint: "enabled",
          httpTokens: "required",
          httpPutResponseHopLimit: 1,
          instanceMetadataTags: "disabled",
        },
        blockDeviceMappings: [
          { deviceName: "/dev/xvda", ebs: { encrypted: "true", volumeType: "gp3", deleteOnTermination: "true" } },
        ],
        networkInterfaces: [
          {
            deviceIndex: 0,
            // Public placement needs a transient public IP to reach the EC2 API and take its EIP.
            associatePublicIpAddress: isPublic ? "true" : "false",
            securityGroups: [instanceSg.id],
            deleteOnTermination: "true",
          },
        ],
        userData,
        tagSpecifications: ["instance", "volume", "network-interface"].map((resourceType) => ({
          resourceType,
          tags: instanceTags,
        })),
        updateDefaultVersion: true,
        tags: tags("lt"),
      },
      child,
    );

    // --- The load balancer.
    let lbArn: pulumi.Output<string>;
    let lbDependency: pulumi.Resource;
    let asgTargets: { loadBalancers?: pulumi.Input<string>[]; targetGroupArns?: pulumi.Input<string>[] };
    let unhealthyMetric: { namespace: string; dimensions: Record<string, pulumi.Input<string>> };
    if (isNlb) {
      // Internal NLB with a security group, cross-zone on. The target group sends PROXY protocol v2
      // and does NOT preserve the client IP: the instances see the NLB node's address (inside
      // lbSubnetCidrs, where Squid accepts the PROXY header) and learn the client from the header.
      const nlb = new aws.lb.LoadBalancer(
        `${name}-nlb`,
        {
          loadBalancerType: "network",
          internal: true,
          subnets: args.lbSubnetIds,
          securityGroups: [lbSg.id],
          enableCrossZoneLoadBalancing: true,
          ipAddressType: "ipv4",
          tags: tags("nlb"),
        },
        child,
      );
      // The listener and its target group forward the proxy port as plain TCP, the same on both sides.
      const proxyPort = { port: plan.port, protocol: "TCP" };
      const tg = new aws.lb.TargetGroup(
        `${name}-tg`,
        {
          ...proxyPort,
          vpcId: args.vpcId,
          targetType: "instance",
          proxyProtocolV2: true,
          preserveClientIp: "false",
          deregistrationDelay: LB_DRAINING_SECONDS,
          healthCheck: {
            enabled: true,
            protocol: "TCP",
            port: "traffic-port",
            interval: 10,
            timeout: 5,
            healthyThreshold: 2,
            unhealthyThreshold: 3,
          },
          tags: tags("tg"),
        },
        child,
      );
      const listener = new aws.lb.Listener(
        `${name}-listener`,
        {
          ...proxyPort,
          loadBalancerArn: nlb.arn,
          tcpIdleTimeoutSeconds: plan.idleTimeoutSeconds,
          defaultActions: [{ type: "forward", targetGroupArn: tg.arn }],
          tags: tags("listener"),
        },
        child,
      );
      lbArn = nlb.arn;
      lbDependency = listener;
      this.targetGroupArn = tg.arn;
      asgTargets = { targetGroupArns: [tg.arn] };
      unhealthyMetric = {
        namespace: "AWS/NetworkELB",
        dimensions: { LoadBalancer: nlb.arnSuffix, TargetGroup: tg.arnSuffix },
      };
      this.proxyUrl = pulumi.interpolate`http://${nlb.dnsName}:${plan.port}`;
    } else {
      // Internal Classic Load Balancer: TCP in, PROXY protocol v1 to the instances, TCP health check.
      const clb = new aws.elb.LoadBalancer(
        `${name}-clb`,
        {
          internal: true,
          subnets: args.lbSubnetIds,
          securityGroups: [lbSg.id],
          listeners: [{ lbPort: plan.port, lbProtocol: "tcp", instancePort: plan.port, instanceProtocol: "tcp" }],
          healthCheck: {
            target: `TCP:${plan.port}`,
            interval: 10,
            timeout: 5,
            healthyThreshold: 2,
            unhealthyThreshold: 3,
          },
          crossZoneLoadBalancing: true,
          idleTimeout: plan.idleTimeoutSeconds,
          connectionDraining: true,
          connectionDrainingTimeout: LB_DRAINING_SECONDS,
          tags: tags("clb"),
        },
        child,
      );
      // A CLB's id is its name.
      new aws.ec2.ProxyProtocolPolicy(
        `${name}-proxy-protocol`,
        { loadBalancer: clb.id, instancePorts: [String(plan.port)] },
        child,
      );
      lbArn = clb.arn;
      lbDependency = clb;
      this.targetGroupArn = undefined;
      asgTargets = { loadBalancers: [clb.id] };
      unhealthyMetric = { namespace: "AWS/ELB", dimensions: { LoadBalancerName: clb.name } };
      this.proxyUrl = pulumi.interpolate`http://${clb.dnsName}:${plan.port}`;
    }
    this.loadBalancerArn = lbArn;

    // Plain zone names were checked in the plan; Outputs are checked here, as soon as they resolve.
    const subnets = pulumi
      .all([pulumi.all(args.availabilityZones), pulumi.all(args.instanceSubnetIds)])
      .apply(([zones, ids]) => {
        const dup = zones.find((z, i) => zones.indexOf(z) !== i);
        if (dup !== undefined)
          throw new ConfigError(
            `${name}.availabilityZones`,
            `"${dup}" is listed twice`,
            "give subnets in distinct zones, one per zone",
          );
        return ids;
      });
    const asg = new aws.autoscaling.Group(
      `${name}-asg`,
      {
        vpcZoneIdentifiers: subnets,
        desiredCapacity: plan.desiredCapacity,
        minSize: plan.minSize,
        maxSize: plan.maxSize,
        launchTemplate: { id: lt.id, version: lt.latestVersion.apply((v) => String(v)) },
        ...asgTargets,
        healthCheckType: "ELB",
        healthCheckGracePeriod: plan.healthCheckGracePeriodSeconds,
        // The first `pulumi up` fails loudly if the proxies never become healthy behind the load balancer.
        minElbCapacity: plan.minSize,
        // AZ rebalancing launches before it terminates; in public placement that instance could find
        // every pool EIP taken. Instance refresh terminates first (maxHealthyPercentage 100).
        suspendedProcesses: isPublic ? ["AZRebalance"] : undefined,
        instanceRefresh: {
          strategy: "Rolling",
          preferences: {
            minHealthyPercentage: plan.minHealthyPercentage,
            maxHealthyPercentage: 100,
            instanceWarmup: String(plan.healthCheckGracePeriodSeconds),
            // A config whose instances never turn healthy is rolled back instead of draining the fleet.
            autoRollback: true,
          },
        },
        tags: Object.entries(tags("asg")).map(([key, value]) => ({ key, value, propagateAtLaunch: false })),
      },
      {
        parent: this,
        dependsOn: [policy, lbDependency],
        // With target tracking the policy owns the size after creation; `pulumi up` must not reset it.
        ignoreChanges: plan.scalingTarget ? ["desiredCapacity"] : [],
      },
    );
    this.autoScalingGroupName = asg.name;
    if (plan.scalingTarget) {
      new aws.autoscaling.Policy(
        `${name}-target-tracking`,
        {
          autoscalingGroupName: asg.name,
          policyType: "TargetTrackingScaling",
          estimatedInstanceWarmup: plan.healthCheckGracePeriodSeconds,
          targetTrackingConfiguration: {
            predefinedMetricSpecification: { predefinedMetricType: plan.scalingTarget.predefinedMetricType },
            targetValue: plan.scalingTarget.targetValue,
          },
        },
        child,
      );
    }

    // --- Metrics and alarms.
    this.deniedRequestsMetric = { namespace: proxyMetricNamespace(), metricName: `${name}-denied-requests` };
    new aws.cloudwatch.LogMetricFilter(
      `${name}-denied-filter`,
      {
        logGroupName: logGroup.name,
        // Squid's native access.log format carries the result code as e.g. TCP_DENIED/403.
        pattern: '"TCP_DENIED"',
        metricTransformation: {
          name: this.deniedRequestsMetric.metricName,
          namespace: this.deniedRequestsMetric.namespace,
          value: "1",
          defaultValue: "0",
          unit: "Count",
        },
      },
      child,
    );
    const actions = args.alarmActions ?? [];
    const unhealthy = new aws.cloudwatch.MetricAlarm(
      `${name}-unhealthy-hosts`,
      {
        alarmDescription: `${name}: the proxy load balancer reports an unhealthy Squid instance`,
        namespace: unhealthyMetric.namespace,
        metricName: "UnHealthyHostCount",
        dimensions: unhealthyMetric.dimensions,
        statistic: "Maximum",
        period: 60,
        evaluationPeriods: 3,
        threshold: 0,
        comparisonOperator: "GreaterThanThreshold",
        treatMissingData: "notBreaching",
        alarmActions: actions,
        okActions: actions,
        tags: tags("unhealthy-hosts"),
      },
      child,
    );
    const denied = new aws.cloudwatch.MetricAlarm(
      `${name}-denied-spike`,
      {
        alarmDescription: `${name}: ${plan.deniedRequestsAlarmThreshold}+ requests denied by Squid in 5 minutes (wrong header, domain or client)`,
        namespace: this.deniedRequestsMetric.namespace,
        metricName: this.deniedRequestsMetric.metricName,
        statistic: "Sum",
        period: 300,
        evaluationPeriods: 1,
        threshold: plan.deniedRequestsAlarmThreshold,
        comparisonOperator: "GreaterThanOrEqualToThreshold",
        treatMissingData: "notBreaching",
        alarmActions: actions,
        okActions: actions,
        tags: tags("denied-spike"),
      },
      child,
    );
    this.unhealthyHostsAlarmName = unhealthy.name;
    this.deniedRequestsAlarmName = denied.name;

    this.registerOutputs({
      proxyUrl: this.proxyUrl,
      egressIps: this.egressIps,
      allowlistAddressCount: this.allowlistAddressCount,
      securityGroupId: this.securityGroupId,
      instanceSecurityGroupId: this.instanceSecurityGroupId,
      headerSecretArn: this.headerSecretArn,
      port: this.port,
      loadBalancerType: this.loadBalancerType,
      loadBalancerArn: this.loadBalancerArn,
      targetGroupArn: this.targetGroupArn,
      autoScalingGroupName: this.autoScalingGroupName,
      logGroupName: this.logGroupName,
      unhealthyHostsAlarmName: this.unhealthyHostsAlarmName,
      deniedRequestsAlarmName: this.deniedRequestsAlarmName,
    });
  }

  /**
   * Lets a peer (a function's security group; see components/ingress.ts for the forms) reach the
   * proxy port through the load balancer. Squid still checks the client's address against
   * `clientCidrs`, so the group's ENIs must sit in those subnets. The rule is named after the peer
   * and the port, so rewording the description never replaces it.
   */
  public allowFrom(peer: IngressPeer, description: string): aws.vpc.SecurityGroupIngressRule {
    const previous = legacyDescriptionName(this.name, description, 48);
    return this.clientRules.allow(peer, this.port, description, "allowFrom", previous ? [previous] : []);
  }

  /** The flow a VpcFunction declares to use this proxy: egress to the load balancer's group on the port. */
  public flow(purpose: string): Flow {
    return {
      to: { kind: "securityGroup", securityGroupId: this.securityGroupId, name: this.name },
      port: this.port,
      purpose,
    };
  }
}

/** CloudWatch namespace of the tier's log metrics: per project and stack (namespaces allow letters, digits and . - _ / # :). */
export function proxyMetricNamespace(): string {
  return `VpcLambdaKit/SquidProxy/${pulumi.getProject()}/${pulumi.getStack()}`
    .replace(/[^A-Za-z0-9._\-/#:]/g, "-")
    .slice(0, 255);
}

/** Pool tag value: unique per project, stack and tier; tag values allow only a few punctuation marks. */
export function proxyPoolId(name: string): string {
  const raw = `${pulumi.getProject()}/${pulumi.getStack()}/${name}`;
  const clean = raw.replace(/[^A-Za-z0-9 _.:/=+@-]/g, "-");
  return clean === raw ? raw : `${clean}-${crypto.createHash("sha256").update(raw).digest("hex").slice(0, 8)}`;
}

/** renderSquidConf's header-value rule for a value known only at deployment (reported without echoing it). */
function checkHeaderValueLate(name: string, value: string): string {
  try {
    renderSquidConf({
      port: DEFAULTS.port,
      headerName: DEFAULTS.headerName,
      headerValue: value,
      allowedDomains: ["example.com"],
      clientCidrs: ["10.0.0.0/8"],
    });
  } catch (e) {
    const first = configErrorsIn(e)?.[0];
    if (first) throw new ConfigError(`${name}.headerValue`, first.problem, first.fix);
    throw e;
  }
  return value;
}
