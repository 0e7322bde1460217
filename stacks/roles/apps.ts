import * as aws from "@pulumi/aws";
import type { EnvConfig } from "../config/schema";
import type { DataOutputs, NetworkOutputs } from "../config/outputs";
import { AppsBuildContext, AppsOutputs, FEATURES, Feature } from "../features";

export type { AppsOutputs };

export interface AppsUpstream {
  network: NetworkOutputs;
  data?: DataOutputs;
}

/** Account A's functions, one feature at a time. Every function goes into the network role's private subnets only. */
export function appsRole(cfg: EnvConfig, provider: aws.Provider, up: AppsUpstream): AppsOutputs {
  const out = {} as AppsOutputs;
  const ctx: AppsBuildContext = { cfg, provider, network: up.network, data: up.data, shared: {} };
  for (const feature of FEATURES as readonly Feature<object>[]) Object.assign(out, feature.apps?.(ctx));
  return out;
}
