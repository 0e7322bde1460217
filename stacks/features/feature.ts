import type * as aws from "@pulumi/aws";
import type { ConfigError } from "../../components/errors";
import type { FixedEgressVpc, FixedEgressVpcPlan } from "../../components/fixed-egress-vpc";
import type { PrivateVpc, PrivateVpcPlan } from "../../components/private-vpc";
import type { SquidProxyTier } from "../../components/squid-proxy-tier";
import type { TgwPlan } from "../../components/tgw-shared-network";
import type { VpcEndpoints } from "../../components/vpc-endpoints";
import type { VpcFunction } from "../../components/vpc-function";
import type { DatabasePlan, EnvConfig, EnvConfigInput } from "../config/schema";
import type { DataOutputs, NetworkOutputs } from "../config/outputs";

/** What an apps feature exports of its function: the VpcFunction's name, ARN and security group. */
export type FunctionOutputs = Pick<VpcFunction, "functionName" | "functionArn" | "securityGroupId">;

/** The outputs {@link FunctionOutputs} names, read from `fn`. */
export function functionOutputs(fn: VpcFunction): FunctionOutputs {
  return { functionName: fn.functionName, functionArn: fn.functionArn, securityGroupId: fn.securityGroupId };
}

/** Plans config validation produces; features fill theirs in registry order, later ones read them. */
export interface ConfigPlans {
  network?: FixedEgressVpcPlan;
  data?: PrivateVpcPlan;
  tgw?: TgwPlan;
  database?: DatabasePlan;
}

/** What a feature's config checks see (nothing is registered yet). */
export interface ConfigCheckContext {
  cfg: EnvConfigInput;
  region?: string;
  /** Top-level keys that failed the schema; checks that read one of them stay silent (its errors are reported already). */
  failed: ReadonlySet<string>;
  secretsPresent: EnvConfig["secretsPresent"];
  plans: ConfigPlans;
  /** Roles in account A that read the database's master secret, from every feature's `dbSecretReaders`. */
  dbSecretReaders(): string[];
}

export interface NetworkBuildContext {
  cfg: EnvConfig;
  provider: aws.Provider;
  vpc: FixedEgressVpc;
  endpoints: VpcEndpoints;
}

export interface DataBuildContext {
  cfg: EnvConfig;
  provider: aws.Provider;
  vpc: PrivateVpc;
  /** The network role's outputs (this stack or the network stack); undefined when the stack needs none. */
  network?: NetworkOutputs;
}

export interface AppsBuildContext {
  cfg: EnvConfig;
  provider: aws.Provider;
  network: NetworkOutputs;
  data?: DataOutputs;
  /** Pieces one feature builds for a later one (the proxy tier that saas-export sends through). */
  shared: { proxyTier?: SquidProxyTier };
}

/**
 * One feature of the kit: its config checks and what it adds to each role. Roles call every
 * registered feature's hook in registry order (stacks/features/index.ts), so adding a feature is
 * one file plus one line there.
 */
// An empty object by default: a feature that exports nothing adds no key to the apps outputs.
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface Feature<AppsOut extends object = {}> {
  name: string;
  /** Every problem with this feature's config, each naming its key and the fix. May record a plan in `ctx.plans`. */
  configErrors(ctx: ConfigCheckContext): ConfigError[];
  /** Roles in account A the data role's master secret must be shared with (cross-account only). */
  dbSecretReaders?(cfg: EnvConfigInput): string[];
  /** Account A's network role: resources in the egress VPC and the outputs they add. */
  network?(ctx: NetworkBuildContext): Partial<NetworkOutputs>;
  /** Account B's data role: resources in the data VPC and the outputs they add. */
  data?(ctx: DataBuildContext): Partial<DataOutputs>;
  /** Account A's apps role: functions and what they export. */
  apps?(ctx: AppsBuildContext): AppsOut;
}
