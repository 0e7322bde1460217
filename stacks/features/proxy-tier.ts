import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { ConfigError, configErrorsIn } from "../../components/errors";
import {
  planSquidProxyTier,
  ProxyLoadBalancer,
  ProxyScaling,
  SquidProxyTier,
  SquidProxyTierArgs,
} from "../../components/squid-proxy-tier";
import type { FixedEgressVpcPlan } from "../../components/fixed-egress-vpc";
import { EnvConfig, EnvConfigInput, PROJECT, secretFix } from "../config/schema";
import type { NetworkOutputs, ProxyTierStackOutputs } from "../config/outputs";
import { zoneNames } from "../zones";
import { checkedSecret } from "../config/secrets";
import type { Feature } from "./feature";

export interface ProxyTierOutputs {
  proxyTier?: ProxyTierStackOutputs;
}

type ProxyTierConfig = NonNullable<EnvConfigInput["proxyTier"]>;

/**
 * The tier's plain arguments from `proxyTier` (and the stack's log retention): the same values the
 * config check plans with and the stack builds with, so what passed the check is what is built.
 * `desiredCapacity` is the older spelling of a fixed size, `scaling: { desired }`.
 */
function tierSettings(
  pt: ProxyTierConfig,
  stackLogRetentionInDays: number,
): Pick<
  SquidProxyTierArgs,
  | "placement"
  | "allowedDomains"
  | "port"
  | "headerName"
  | "instanceType"
  | "loadBalancer"
  | "proxyProtocolVersion"
  | "idleTimeoutSeconds"
  | "scaling"
  | "logRetentionInDays"
  | "deniedRequestsAlarmThreshold"
  | "alarmActions"
  | "eipAllocationIds"
> {
  const scaling: ProxyScaling =
    pt.scaling ?? (pt.desiredCapacity !== undefined ? { desired: pt.desiredCapacity } : { desired: 2 });
  return {
    placement: pt.placement,
    allowedDomains: pt.allowedDomains,
    port: pt.port,
    headerName: pt.headerName,
    instanceType: pt.instanceType,
    loadBalancer: pt.loadBalancer as ProxyLoadBalancer,
    proxyProtocolVersion: pt.proxyProtocolVersion,
    idleTimeoutSeconds: pt.idleTimeoutSeconds,
    scaling,
    logRetentionInDays: pt.logRetentionInDays ?? stackLogRetentionInDays,
    deniedRequestsAlarmThreshold: pt.deniedRequestsAlarmThreshold,
    alarmActions: pt.alarmActions.length > 0 ? pt.alarmActions : undefined,
    eipAllocationIds: pt.eipAllocationIds,
  };
}

/** The network role's subnets, one Input per AZ (the tier validates zones and subnets as plain lists). */
function perAz(ids: pulumi.Output<string[]>, count: number): pulumi.Input<string>[] {
  return Array.from({ length: count }, (_, i) => ids.apply((all) => all[i]));
}

/**
 * docs/designs.md §2: the header-gated Squid tier in the network role's VPC (saas-export sends through it).
 * The subnet CIDRs come from the network plan (config), because squid.conf is rendered from plain
 * values before anything is registered.
 */
export function proxyTierApps(
  cfg: EnvConfig,
  provider: aws.Provider,
  network: NetworkOutputs,
): { outputs: ProxyTierOutputs; tier?: SquidProxyTier } {
  const pt = cfg.proxyTier;
  if (!pt) return { outputs: {} };
  const azs = cfg.networkPlan.azCount;
  const tier = new SquidProxyTier(
    "proxy",
    {
      ...tierSettings(pt, cfg.logRetentionInDays),
      vpcId: network.vpcId,
      instanceSubnetIds: perAz(pt.placement === "public" ? network.publicSubnetIds : network.privateSubnetIds, azs),
      // The internal load balancer sits beside its clients, in the private subnets.
      lbSubnetIds: perAz(network.privateSubnetIds, azs),
      lbSubnetCidrs: cfg.networkPlan.privateSubnetCidrs,
      availabilityZones: zoneNames(cfg.networkAzs, provider, `${PROJECT}:network.availabilityZones`),
      // Squid checks the real client address (PROXY protocol): the private subnets' functions, plus listed networks.
      clientCidrs: [...cfg.networkPlan.privateSubnetCidrs, ...pt.extraClientCidrs],
      openToClientCidrs: pt.extraClientCidrs.length > 0,
      headerValue: checkedSecret(PROJECT, "proxyHeaderValue", secretFix("proxyHeaderValue")),
      natEgressIps: pt.placement === "private" ? network.egressIps : undefined,
    },
    { provider },
  );
  return {
    outputs: {
      proxyTier: {
        proxyUrl: tier.proxyUrl,
        egressIps: tier.egressIps,
        allowlistAddressCount: tier.allowlistAddressCount,
        securityGroupId: tier.securityGroupId,
        loadBalancerType: tier.loadBalancerType,
        loadBalancerArn: tier.loadBalancerArn,
        // "" with a Classic Load Balancer, which has no target group.
        targetGroupArn: tier.targetGroupArn ?? pulumi.output(""),
        autoScalingGroupName: tier.autoScalingGroupName,
        logGroupName: tier.logGroupName,
        alarmNames: pulumi.all([tier.unhealthyHostsAlarmName, tier.deniedRequestsAlarmName]),
      },
    },
    tier,
  };
}

/** Config-time checks of `proxyTier` against the rest of the environment. */
export function proxyTierConfigErrors(
  cfg: EnvConfigInput,
  failed: ReadonlySet<string>,
  secretPresent: boolean,
  networkPlan?: FixedEgressVpcPlan,
): ConfigError[] {
  const errors: ConfigError[] = [];
  if (cfg.proxyTier && cfg.roles.includes("apps") && !secretPresent) {
    errors.push(
      new ConfigError(
        `${PROJECT}:proxyHeaderValue`,
        "the proxy tier needs its secret header value",
        `pulumi config set --secret ${PROJECT}:proxyHeaderValue "$(openssl rand -hex 24)"`,
      ),
    );
  }
  if (
    cfg.proxyTier &&
    !failed.has("network") &&
    (typeof cfg.network.availabilityZones === "number"
      ? cfg.network.availabilityZones
      : cfg.network.availabilityZones.length) < 2
  ) {
    errors.push(
      new ConfigError(
        `${PROJECT}:network.availabilityZones`,
        "the proxy tier spreads its instances over at least two availability zones, and the network has one",
        "set network.availabilityZones to 2 or more (natGateways: single keeps one NAT)",
      ),
    );
  }
  if (cfg.proxyTier?.scaling !== undefined && cfg.proxyTier.desiredCapacity !== undefined) {
    errors.push(
      new ConfigError(
        `${PROJECT}:proxyTier.desiredCapacity`,
        "is given together with proxyTier.scaling; desiredCapacity is the older spelling of scaling.desired",
        "remove desiredCapacity and set proxyTier.scaling.desired (with scaling.min and scaling.max)",
      ),
    );
  } else if (cfg.proxyTier && networkPlan && networkPlan.azCount >= 2)
    errors.push(...tierPlanErrors(cfg.proxyTier, networkPlan, cfg.logRetentionInDays));
  return errors;
}

/**
 * The tier's own argument checks, run now on the values config gives it, with each problem named by the
 * config key it comes from (`proxy.clientCidrs[2]` is `proxyTier.extraClientCidrs[0]` when the network
 * has two private subnets). Late-bound ids are stand-ins: only their count matters here.
 */
function tierPlanErrors(pt: ProxyTierConfig, plan: FixedEgressVpcPlan, stackLogRetentionInDays: number): ConfigError[] {
  const n = plan.azCount;
  const ids = (p: string) => Array.from({ length: n }, (_, i) => `${p}-${i}`);
  const privateCidrs = plan.privateSubnetCidrs;
  const keyOf = (arg: string): string => {
    const m = /^(\w+)(?:\[(\d+)\])?(.*)$/.exec(arg);
    if (!m) return `${PROJECT}:proxyTier`;
    const [, name, index, rest] = m;
    const i = index === undefined ? undefined : Number(index);
    const at = (k: string, j = i) => `${PROJECT}:${k}${j === undefined ? "" : `[${j}]`}${rest}`;
    switch (name) {
      case "clientCidrs":
        return i !== undefined && i < privateCidrs.length
          ? at("network.privateSubnetCidrs")
          : at("proxyTier.extraClientCidrs", i === undefined ? undefined : i - privateCidrs.length);
      case "lbSubnetCidrs":
        return at("network.privateSubnetCidrs");
      case "headerValue":
        return `${PROJECT}:proxyHeaderValue`;
      case "scaling":
        // A fixed size given as desiredCapacity is planned as scaling.desired.
        return pt.scaling === undefined ? `${PROJECT}:proxyTier.desiredCapacity` : at("proxyTier.scaling");
      default:
        return at(`proxyTier.${name}`);
    }
  };
  try {
    planSquidProxyTier("proxy", {
      ...tierSettings(pt, stackLogRetentionInDays),
      vpcId: "vpc-config-check",
      instanceSubnetIds: ids("subnet"),
      lbSubnetIds: ids("subnet"),
      lbSubnetCidrs: privateCidrs,
      availabilityZones: ids("zone"),
      clientCidrs: [...privateCidrs, ...pt.extraClientCidrs],
      openToClientCidrs: pt.extraClientCidrs.length > 0,
      headerValue: pulumi.secret("checked-where-it-is-decrypted"),
      natEgressIps: pt.placement === "private" ? ["192.0.2.1"] : undefined,
    });
  } catch (e) {
    const list = configErrorsIn(e);
    if (!list) throw e;
    return list.map((x) => new ConfigError(keyOf(x.key.replace(/^proxy\./, "")), x.problem, x.fix));
  }
  return [];
}

/** docs/designs.md §2's Squid proxy tier. */
export const proxyTierFeature: Feature<ProxyTierOutputs> = {
  name: "proxy-tier",
  configErrors: ({ cfg, failed, secretsPresent, plans }) =>
    failed.has("proxyTier") ? [] : proxyTierConfigErrors(cfg, failed, secretsPresent.proxyHeaderValue, plans.network),
  apps: ({ cfg, provider, network, shared }) => {
    const { outputs, tier } = proxyTierApps(cfg, provider, network);
    shared.proxyTier = tier;
    return outputs;
  },
};
