import * as aws from "@pulumi/aws";
// The aws-native package index loads every service namespace (~0.35 s at each synth); take only the two parts used.
import { Provider as NativeProvider } from "@pulumi/aws-native/provider";
import type { Region as NativeRegion } from "@pulumi/aws-native/types/enums";
import type { EnvConfig } from "./config/schema";

export type AccountKey = "a" | "b";

/**
 * One explicit AWS provider per account, created on first use. Account A runs the network and apps
 * roles, account B the data role. With `assumeRoleArn` the provider assumes that role; without it,
 * ambient credentials are used. With `accountId` the provider refuses to act in any other account,
 * so a wrong profile fails at the first call instead of building in the wrong place.
 */
export class AccountProviders {
  private readonly cache = new Map<AccountKey, aws.Provider>();
  constructor(private readonly cfg: EnvConfig) {}

  public get(key: AccountKey): aws.Provider {
    const hit = this.cache.get(key);
    if (hit) return hit;
    const acct = this.cfg.accounts[key];
    const provider = new aws.Provider(`account-${key}`, {
      region: (acct.region ?? this.cfg.region) as aws.Region,
      assumeRoles: acct.assumeRoleArn
        ? [{ roleArn: acct.assumeRoleArn, sessionName: `${this.cfg.project}-${this.cfg.stack}` }]
        : undefined,
      allowedAccountIds: acct.accountId ? [acct.accountId] : undefined,
      defaultTags: {
        tags: { ...this.cfg.tags, Project: this.cfg.project, Environment: this.cfg.environment, Stack: this.cfg.stack },
      },
    });
    this.cache.set(key, provider);
    return provider;
  }
}

const nativeProviders = new Map<string, NativeProvider>();

/**
 * The aws-native provider for an account, for the few resources only the CloudFormation registry
 * models (AWS::AppFlow::Connector): the same region, assumed role and allowed account as that
 * account's `aws` provider, so it can act nowhere else.
 */
export function nativeProviderFor(cfg: EnvConfig, key: AccountKey): NativeProvider {
  const cacheKey = `${cfg.project}/${cfg.stack}/${key}`;
  const hit = nativeProviders.get(cacheKey);
  if (hit) return hit;
  const acct = cfg.accounts[key];
  const provider = new NativeProvider(`account-${key}-native`, {
    region: (acct.region ?? cfg.region) as NativeRegion,
    assumeRole: acct.assumeRoleArn
      ? { roleArn: acct.assumeRoleArn, sessionName: `${cfg.project}-${cfg.stack}` }
      : undefined,
    allowedAccountIds: acct.accountId ? [acct.accountId] : undefined,
  });
  nativeProviders.set(cacheKey, provider);
  return provider;
}
