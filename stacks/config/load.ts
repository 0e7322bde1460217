import * as pulumi from "@pulumi/pulumi";
import { ConfigError, throwIfAny } from "../../components/errors";
import { FixedEgressVpcPlan, planFixedEgressVpc } from "../../components/fixed-egress-vpc";
import { planPrivateVpc, PrivateVpcPlan } from "../../components/private-vpc";
import { planExistingEgressVpc } from "../../components/existing-vpc";
import { cidrsOverlap, parseCidr } from "../../components/cidr";
import { FEATURES } from "../features";
import type { ConfigCheckContext, Feature } from "../features/feature";
import { collectConfigErrors, EnvConfig, parseConfig, PROJECT } from "./schema";

/**
 * Reads and validates the whole configuration map (`pulumi config`, or PULUMI_CONFIG under mocks)
 * before anything is registered: the schema (stacks/config/schema.ts), the two VPC plans, then every
 * registered feature's checks. Every mistake is reported at once with the key and the fix.
 */
export function loadConfig(all: Record<string, string> = pulumi.runtime.allConfig()): EnvConfig {
  const { cfg, region, failed, secretsPresent, errors } = parseConfig(all);

  const networkAzs = cfg.network?.availabilityZones ?? 1;
  const dataAzs = cfg.data?.availabilityZones ?? 2;
  let networkPlan: FixedEgressVpcPlan | undefined;
  let dataPlan: PrivateVpcPlan | undefined;
  const existing = cfg.network?.existingVpc;
  if (!failed.has("network") && existing) {
    // An adopted VPC (docs/landing-zone.md): its stated CIDRs stand in for the plan the kit would make.
    networkPlan = collectConfigErrors(errors, () => planExistingEgressVpc({ ...existing, cidrBlock: cfg.network.cidrBlock, privateSubnetCidrs: cfg.network.privateSubnetCidrs ?? [] }, `${PROJECT}:network.`));
  } else if (!failed.has("network")) {
    networkPlan = collectConfigErrors(errors, () => planFixedEgressVpc({ ...cfg.network, azCount: typeof networkAzs === "number" ? networkAzs : networkAzs.length }, `${PROJECT}:network.`));
  }
  if (!failed.has("data")) {
    dataPlan = collectConfigErrors(errors, () => planPrivateVpc({ ...cfg.data, azCount: typeof dataAzs === "number" ? dataAzs : dataAzs.length }, `${PROJECT}:data.`));
  }
  if (networkPlan && dataPlan && cidrsOverlap(parseCidr(networkPlan.cidrBlock), parseCidr(dataPlan.cidrBlock))) {
    errors.push(new ConfigError(`${PROJECT}:data.cidrBlock`, `${dataPlan.cidrBlock} overlaps network.cidrBlock ${networkPlan.cidrBlock} (${PROJECT}:network.cidrBlock); both VPCs attach to the Transit Gateway, which cannot route between overlapping ranges`, "give the VPCs disjoint CIDRs, e.g. 10.0.0.0/16 and 10.1.0.0/16"));
  }

  const features: readonly Feature<object>[] = FEATURES;
  const ctx: ConfigCheckContext = {
    cfg,
    region,
    failed,
    secretsPresent,
    plans: { network: networkPlan, data: dataPlan },
    dbSecretReaders: () => features.flatMap((f) => f.dbSecretReaders?.(cfg) ?? []),
  };
  for (const feature of features) errors.push(...feature.configErrors(ctx));
  throwIfAny(errors);
  return {
    ...cfg,
    region: region as string,
    project: PROJECT,
    stack: pulumi.getStack(),
    networkPlan: networkPlan as FixedEgressVpcPlan,
    dataPlan: dataPlan as PrivateVpcPlan,
    networkAzs,
    dataAzs,
    secretsPresent,
    tgw: ctx.plans.tgw,
    database: ctx.plans.database,
  };
}
