import * as aws from "@pulumi/aws";
import { EnvConfig } from "./config";

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
      assumeRoles: acct.assumeRoleArn ? [{ roleArn: acct.assumeRoleArn, sessionName: `${this.cfg.project}-${this.cfg.stack}` }] : undefined,
      allowedAccountIds: acct.accountId ? [acct.accountId] : undefined,
      defaultTags: { tags: { ...this.cfg.tags, Project: this.cfg.project, Environment: this.cfg.environment, Stack: this.cfg.stack } },
    });
    this.cache.set(key, provider);
    return provider;
  }
}
