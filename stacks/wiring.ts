import * as pulumi from "@pulumi/pulumi";
import { configKey, EnvConfig } from "./config/schema";

/**
 * The one place that decides how a role's outputs reach its consumers: produced in this stack
 * (combined mode: `pulumi up -s dev`) or read from the upstream stack through a StackReference
 * (split mode: `dev-network` → `dev-data` → `dev-apps`). Only the keys listed cross stacks, and
 * they are never secrets.
 */
export function roleOutputs<T extends object>(
  cfg: EnvConfig,
  role: "network" | "data",
  keys: readonly (keyof T & string)[],
  produce: () => T,
): T {
  if (cfg.roles.includes(role)) return produce();
  const upstream = cfg.upstream[role];
  if (!upstream) {
    throw new Error(
      `${configKey(`upstream.${role}`)}: this stack needs the ${role} role's outputs. Fix: set upstream.${role} to the stack that runs it`,
    );
  }
  const ref = new pulumi.StackReference(`${role}-upstream`, { name: qualifiedStackName(cfg, upstream) });
  const all = ref.requireOutput(role);
  // A StackReference's values are untyped; the upstream produced them as T (stacks/config/outputs.ts).
  const out = {} as T;
  for (const key of keys) {
    // Created on first use: a key this stack never reads (e.g. an upstream deployed before the key
    // existed) must not fail the program, and an Output that fails unread is an unhandled rejection.
    let read: pulumi.Output<unknown> | undefined;
    Object.defineProperty(out, key, {
      enumerable: true,
      get: () =>
        (read ??= all.apply((o: Record<string, unknown>) => {
          if (!o || !(key in o))
            throw new Error(`stack ${upstream} exports no ${role}.${key}: update and deploy it first`);
          return o[key];
        })),
    });
  }
  return out;
}

/** `dev-network` → `<org>/vpc-lambda-kit/dev-network`; fully qualified names pass through. */
export function qualifiedStackName(cfg: EnvConfig, stack: string): string {
  if (stack.includes("/")) return stack;
  return `${pulumi.getOrganization()}/${cfg.project}/${stack}`;
}
