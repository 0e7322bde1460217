import * as pulumi from "@pulumi/pulumi";
import { ConfigError, throwIfAny } from "../../components/errors";
import { FixedEgressVpcPlan, planFixedEgressVpc } from "../../components/fixed-egress-vpc";
import { planPrivateVpc, PrivateVpcPlan } from "../../components/private-vpc";
import { planExistingEgressVpc } from "../../components/existing-vpc";
import { planExistingPrivateVpc } from "../../components/existing-private-vpc";
import { flowLogsConfigErrors } from "../flow-logs";
import { cidrsOverlap, parseCidr } from "../../components/cidr";
import { FEATURES } from "../features";
import type { ConfigCheckContext, Feature } from "../features/feature";
import { collectConfigErrors, EnvConfig, EnvConfigInput, parseConfig, PROJECT, regionOf, ROLE_ARN_RE } from "./schema";
import { regionProblem, zoneProblem } from "./rules";

/**
 * Reads and validates the whole configuration map (`pulumi config`, or PULUMI_CONFIG under mocks)
 * before anything is registered: the schema (stacks/config/schema.ts), the two VPC plans, then every
 * registered feature's checks. Every mistake is reported at once with the key and the fix.
 * `secretKeys`: the keys given as `secure:` (readStackConfig's list offline; the engine's otherwise).
 */
export function loadConfig(
  all: Record<string, string> = pulumi.runtime.allConfig(),
  secretKeys: readonly string[] = runtimeSecretKeys(all),
): EnvConfig {
  const { cfg, region, failed, secretsPresent, errors } = parseConfig(all, new Set(secretKeys));

  const networkAzs = cfg.network?.availabilityZones ?? 1;
  const dataAzs = cfg.data?.availabilityZones ?? 2;
  // availabilityZones is a count or the zones' names.
  const zoneCount = (azs: number | string[]) => (typeof azs === "number" ? azs : azs.length);
  let networkPlan: FixedEgressVpcPlan | undefined;
  let dataPlan: PrivateVpcPlan | undefined;
  const existing = cfg.network?.existingVpc;
  if (!failed.has("network") && existing) {
    // An adopted VPC (docs/landing-zone.md): its stated CIDRs stand in for the plan the kit would make.
    networkPlan = collectConfigErrors(errors, () =>
      planExistingEgressVpc(
        {
          ...existing,
          cidrBlock: cfg.network.cidrBlock,
          privateSubnetCidrs: cfg.network.privateSubnetCidrs ?? [],
          flowLogs: cfg.network.flowLogs,
        },
        `${PROJECT}:network.`,
      ),
    );
  } else if (!failed.has("network")) {
    networkPlan = collectConfigErrors(errors, () =>
      planFixedEgressVpc({ ...cfg.network, azCount: zoneCount(networkAzs) }, `${PROJECT}:network.`),
    );
  }
  const existingData = cfg.data?.existingVpc;
  if (!failed.has("data") && existingData) {
    // The adopted data VPC: its stated CIDR and subnet CIDRs stand in for the plan.
    dataPlan = collectConfigErrors(errors, () =>
      planExistingPrivateVpc(
        { ...existingData, cidrBlock: cfg.data.cidrBlock, privateSubnetCidrs: cfg.data.subnetCidrs },
        `${PROJECT}:data.`,
      ),
    );
  } else if (!failed.has("data")) {
    dataPlan = collectConfigErrors(errors, () =>
      planPrivateVpc({ ...cfg.data, azCount: zoneCount(dataAzs) }, `${PROJECT}:data.`),
    );
  }
  if (networkPlan && dataPlan && cidrsOverlap(parseCidr(networkPlan.cidrBlock), parseCidr(dataPlan.cidrBlock))) {
    errors.push(
      new ConfigError(
        `${PROJECT}:data.cidrBlock`,
        `${dataPlan.cidrBlock} overlaps network.cidrBlock ${networkPlan.cidrBlock} (${PROJECT}:network.cidrBlock); both VPCs attach to the Transit Gateway, which cannot route between overlapping ranges`,
        "give the VPCs disjoint CIDRs, e.g. 10.0.0.0/16 and 10.1.0.0/16",
      ),
    );
  }

  errors.push(...accountAndZoneErrors(cfg, region, failed));
  errors.push(...flowLogsConfigErrors(cfg, failed));

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

/** What ops/stack-config.ts puts in place of a `secure:` value offline (it cannot be decrypted). */
const OFFLINE_SECRET_PLACEHOLDER = "synth-placeholder-secret";

/**
 * Keys the engine marks secret (PULUMI_CONFIG_SECRET_KEYS, as the Pulumi SDK reads it), plus keys
 * holding the offline placeholder readStackConfig substituted for a `secure:` value.
 */
function runtimeSecretKeys(all: Record<string, string>): string[] {
  const isSecret = (pulumi.runtime as unknown as { isConfigSecret?: (k: string) => boolean }).isConfigSecret;
  return Object.keys(all).filter((k) => all[k] === OFFLINE_SECRET_PLACEHOLDER || (isSecret?.(k) ?? false));
}

/**
 * What the providers would refuse late: a role ARN in another account than the account's id (the
 * provider's allowedAccountIds refuses the assumed credentials), and zone names of another region.
 */
function accountAndZoneErrors(
  cfg: EnvConfigInput,
  region: string | undefined,
  failed: ReadonlySet<string>,
): ConfigError[] {
  const errors: ConfigError[] = [];
  if (!failed.has("accounts")) {
    for (const side of ["a", "b"] as const) {
      const acct = cfg.accounts[side];
      const roleAccount = ROLE_ARN_RE.exec(acct.assumeRoleArn ?? "")?.[1];
      if (acct.accountId && roleAccount && roleAccount !== acct.accountId) {
        errors.push(
          new ConfigError(
            `${PROJECT}:accounts.${side}.assumeRoleArn`,
            `the role is in account ${roleAccount}, but accounts.${side}.accountId is ${acct.accountId}; the provider would refuse the assumed credentials`,
            `use a role in account ${acct.accountId}, or correct accounts.${side}.accountId`,
          ),
        );
      }
    }
  }
  if (!region || regionProblem(region) || failed.has("accounts")) return errors;
  const zones: [string, "a" | "b", EnvConfigInput["network"]["availabilityZones"] | undefined][] = [
    ["network", "a", failed.has("network") ? undefined : cfg.network.availabilityZones],
    ["data", "b", failed.has("data") ? undefined : cfg.data.availabilityZones],
  ];
  for (const [key, side, azs] of zones) {
    if (!Array.isArray(azs)) continue;
    const r = regionOf(cfg, side, region);
    azs.forEach((z, i) => {
      const p = zoneProblem(z, r);
      if (p)
        errors.push(
          new ConfigError(
            `${PROJECT}:${key}.availabilityZones[${i}]`,
            p,
            `name zones of ${r}, or give a count and let the region choose`,
          ),
        );
      if (azs.indexOf(z) !== i)
        errors.push(
          new ConfigError(`${PROJECT}:${key}.availabilityZones[${i}]`, `"${z}" is listed twice`, "give each zone once"),
        );
    });
  }
  return errors;
}
