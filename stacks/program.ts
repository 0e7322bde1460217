import * as pulumi from "@pulumi/pulumi";
import type { EnvConfig } from "./config/schema";
import { loadConfig } from "./config/load";
import { DATA_KEYS, DataOutputs, NETWORK_KEYS, NetworkOutputs } from "./config/outputs";
import { AccountProviders } from "./providers";
import { roleOutputs } from "./wiring";
import { networkRole } from "./roles/network";
import { dataRole } from "./roles/data";
import { appsRole, AppsOutputs } from "./roles/apps";
import { tgwAdmitPeer, TgwOwnerActions, tgwOwnerActions, tgwRoutesToAdd } from "./features/tgw";
import { routesToAddFor, RouteToAdd } from "../components/existing-vpc";
import { flowLogsBucketPolicies } from "./flow-logs";

export interface ProgramOutputs {
  environment: string;
  roles: string[];
  /** What the SaaS administrator allowlists (each as a /32). */
  egressIps?: pulumi.Output<string[]>;
  network?: NetworkOutputs;
  data?: DataOutputs;
  apps?: AppsOutputs;
  /** Adopted VPC only: routes the kit needs in its route tables, for the owner to add unless manageRoutes (docs/landing-zone.md). */
  routesToAdd?: { managedByKit: boolean; routes: RouteToAdd[] };
  /** Adopted data VPC only: the same for its route tables (the Transit Gateway routes). */
  dataRoutesToAdd?: { managedByKit: boolean; routes: RouteToAdd[] };
  /** An existing Transit Gateway of another account: what its owner must do (accept, associate, propagate) (docs/landing-zone.md). */
  tgwOwnerActions?: pulumi.Output<TgwOwnerActions>;
  /** Flow logs to a given S3 bucket: per bucket ARN, the policy its owner adds (docs/flow-logs.md). */
  flowLogsBucketPolicy?: pulumi.Output<Record<string, unknown>>;
}

/**
 * The whole program: validate config (nothing is registered when it is wrong), one provider per
 * account, then each role this stack runs, wired to its upstream directly or by StackReference.
 */
export function runProgram(cfg: EnvConfig = loadConfig()): ProgramOutputs {
  const providers = new AccountProviders(cfg);
  const runs = (r: string) => cfg.roles.includes(r as never);
  // The data role attaches to the network role's Transit Gateway, so it reads the network outputs too.
  const needsNetwork = runs("network") || runs("apps") || (runs("data") && cfg.tgw !== undefined);
  const network = needsNetwork
    ? roleOutputs<NetworkOutputs>(cfg, "network", NETWORK_KEYS, () => networkRole(cfg, providers.get("a")))
    : undefined;
  const needsData = runs("data") || (runs("apps") && cfg.upstream.data !== undefined);
  const data = needsData
    ? roleOutputs<DataOutputs>(cfg, "data", DATA_KEYS, () => dataRole(cfg, providers.get("b"), network))
    : undefined;
  // Explicit TGW route table: account A admits B's attachment (combined stack, or the apps stack in split mode).
  if (network && data && (runs("network") || runs("apps"))) tgwAdmitPeer(cfg, providers.get("a"), network, data);
  const tgwRoutes = tgwRoutesToAdd(cfg);
  const apps = runs("apps") && network ? appsRole(cfg, providers.get("a"), { network, data }) : undefined;
  return {
    environment: cfg.environment,
    roles: cfg.roles,
    egressIps: runs("network") || runs("apps") ? network?.egressIps : undefined,
    network: runs("network") ? network : undefined,
    data: runs("data") ? data : undefined,
    apps,
    routesToAdd:
      runs("network") && cfg.network.existingVpc
        ? {
            managedByKit: cfg.network.existingVpc.manageRoutes,
            routes: [
              ...routesToAddFor("egress", {
                ...cfg.network.existingVpc,
                privateSubnetCidrs: cfg.network.privateSubnetCidrs ?? [],
              }),
              ...tgwRoutes.network,
            ],
          }
        : undefined,
    dataRoutesToAdd:
      runs("data") && cfg.data.existingVpc
        ? { managedByKit: cfg.data.existingVpc.manageRoutes, routes: tgwRoutes.data }
        : undefined,
    tgwOwnerActions: tgwOwnerActions(cfg),
    flowLogsBucketPolicy: runs("network") ? flowLogsBucketPolicies(cfg, providers.get("a")) : undefined,
  };
}
