import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { builtBundles, FunctionBundle, REPO_ROOT, writeBundle } from "../components/bundle";
import { IpamAnswer, KitMocks, RecordedResource, resolveOutputs } from "./mocks";
import { readStackConfig } from "./stack-config";
import {
  ExistingVpcRef,
  existingTgwErrors,
  existingVpcErrors,
  Inventory,
  inventoryRecords,
  ipamRequestErrors,
  loadInventory,
  resolveExistingVpc,
} from "./inventory";
import { AWSX_VPC_TYPE } from "./awsx-mock";
import { IPAM_POOL_ID_RE } from "../components/arns";
import { DEFAULT_DATA_CIDR, DEFAULT_DATA_SUBNET_CIDRS, DEFAULT_NETWORK_CIDR } from "../components/defaults";
import { ConfigError, throwIfAny } from "../components/errors";

export interface Graph {
  project: string;
  stack: string;
  resources: Omit<RecordedResource, "custom">[];
  outputs: Record<string, unknown>;
}

export interface SynthOptions {
  stack: string;
  /** Config file; default `Pulumi.<stack>.yaml` in the repository root. */
  configFile?: string;
  /** Answers StackReference reads (split stacks). */
  stackOutputs?: (stackName: string) => Record<string, unknown>;
  /** The existing network's inventory (JSON); default the stack's vpc-lambda-kit:inventory key, relative to the repository. */
  inventoryFile?: string;
  /** The program module to load; default the repository's index.ts. */
  program?: string;
}

export interface SynthResult {
  graph: Graph;
  bundles: FunctionBundle[];
  mocks: KitMocks;
}

/**
 * Evaluates the real program in this process under strict Pulumi mocks: no CLI, no credentials.
 * One stack per process (Pulumi's runtime state is global).
 */
export async function synthesize(opts: SynthOptions): Promise<SynthResult> {
  const configFile = opts.configFile ?? path.join(REPO_ROOT, `Pulumi.${opts.stack}.yaml`);
  const { config, secretKeys } = readStackConfig(configFile);
  const region = config["aws:region"] ?? "ap-northeast-1";
  const accounts = safeAccounts(config["vpc-lambda-kit:accounts"]);
  const { inventory, predicted, dataVpcId } = readInventory(opts.inventoryFile, config, region);
  // A range the inventory's pool predicts stands in for the unstated ipamAllocatedCidr: the plan needs one.
  for (const [role, cidr] of Object.entries(predicted))
    config[`vpc-lambda-kit:${role}`] = JSON.stringify({
      ...safeJson(config[`vpc-lambda-kit:${role}`]),
      ipamAllocatedCidr: cidr,
    });
  const mocks = new KitMocks({
    region,
    defaultAccountId: accounts.a ?? "123456789012",
    stackOutputs: opts.stackOutputs,
    inventory,
    ipamAllocations: ipamAllocations(config, predicted),
  });
  await mocks.install("vpc-lambda-kit", opts.stack);
  pulumi.runtime.setAllConfig(config, secretKeys);
  const restoreStacks = skipPromiseStacks();

  const failures: unknown[] = [];
  const onReject = (e: unknown) => failures.push(e);
  process.on("unhandledRejection", onReject);
  try {
    const program = require(opts.program ?? path.join(REPO_ROOT, "index.ts"));
    // An output waiting on a refused invoke never resolves: fail as soon as the mocks record a refusal.
    let poll: NodeJS.Timeout | undefined;
    const refused = new Promise<never>((_, reject) => {
      poll = setInterval(() => {
        if (mocks.errors.length > 0)
          reject(new Error(`the program made requests the offline mocks refuse:\n  ${mocks.errors.join("\n  ")}`));
      }, 25);
    });
    let outputs: Record<string, unknown>;
    try {
      outputs = (await Promise.race([resolveOutputs({ ...program }), refused])) as Record<string, unknown>;
    } finally {
      clearInterval(poll);
    }
    await mocks.settle();
    if (mocks.errors.length > 0)
      throw new Error(`the program made requests the offline mocks refuse:\n  ${mocks.errors.join("\n  ")}`);
    if (failures.length > 0) throw failures[0];
    const created = mocks.resources.map(({ custom: _custom, ...r }) => r);
    // The adopted network as the inventory gives it, marked existing, in the account-A provider.
    const urnOf = (type: string, name?: string) =>
      created.find((r) => r.type === type && (name === undefined || r.name === name))?.urn ?? null;
    // An awsx VPC's children are the inventory's resources too (ops/awsx-mock.ts), under the awsx component.
    const awsx = created.find((r) => r.type === AWSX_VPC_TYPE);
    const adopted = inventory
      ? inventoryRecords(inventory, {
          stack: opts.stack,
          project: "vpc-lambda-kit",
          provider: awsx ? awsx.provider : urnOf("pulumi:providers:aws", "account-a"),
          parent: awsx ? awsx.urn : urnOf("vpc-lambda-kit:network:ExistingEgressVpc"),
          origin: awsx ? "awsx" : undefined,
          // The data role's adopted VPC lives in account B, under its own component.
          byVpc: dataVpcId
            ? {
                [dataVpcId]: {
                  provider: urnOf("pulumi:providers:aws", "account-b"),
                  parent: urnOf("vpc-lambda-kit:network:ExistingPrivateVpc"),
                },
              }
            : undefined,
        })
      : [];
    const resources = [...created, ...adopted].sort((a, b) => a.urn.localeCompare(b.urn));
    return {
      graph: { project: "vpc-lambda-kit", stack: opts.stack, resources, outputs },
      bundles: builtBundles(),
      mocks,
    };
  } finally {
    process.off("unhandledRejection", onReject);
    restoreStacks();
  }
}

/**
 * Pulumi wraps every promise it makes for a resource (several per resource) and keeps a formatted stack trace on
 * it, read only to explain a promise left unresolved at exit when PULUMI_DEBUG_PROMISE_LEAKS is set. Formatting
 * those traces was ~15% of a synth's CPU time. Unless that variable is set, each wrapped promise records no
 * frames (the leak report still names the promise and its context); errors thrown anywhere keep their full stack.
 * Returns the undo.
 */
function skipPromiseStacks(): () => void {
  if (process.env.PULUMI_DEBUG_PROMISE_LEAKS) return () => {};
  const debuggable = require("@pulumi/pulumi/runtime/debuggable") as {
    debuggablePromise: <T>(p: Promise<T>, ctx: unknown) => Promise<T>;
  };
  const original = debuggable.debuggablePromise;
  if (typeof original !== "function") return () => {};
  debuggable.debuggablePromise = function <T>(p: Promise<T>, ctx: unknown): Promise<T> {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      return original(p, ctx);
    } finally {
      Error.stackTraceLimit = limit;
    }
  };
  return () => {
    debuggable.debuggablePromise = original;
  };
}

/** Writes graph.json and every function bundle, exactly as deployed, under `outDir`. */
export function writeSynthOutput(result: SynthResult, outDir: string): void {
  fs.mkdirSync(outDir, { recursive: true });
  fs.writeFileSync(path.join(outDir, "graph.json"), JSON.stringify(result.graph, null, 2) + "\n");
  for (const b of result.bundles) writeBundle(b, path.join(outDir, "functions", b.name));
}

export function summarize(result: SynthResult): string {
  const byType = new Map<string, number>();
  for (const r of result.graph.resources) byType.set(r.type, (byType.get(r.type) ?? 0) + 1);
  const lines: string[] = [];
  lines.push(`stack ${result.graph.stack}: ${result.graph.resources.length} resources`);
  for (const [t, n] of [...byType.entries()].sort()) lines.push(`  ${String(n).padStart(4)}  ${t}`);
  lines.push("outputs:");
  for (const [k, v] of Object.entries(result.graph.outputs)) lines.push(`  ${k}: ${JSON.stringify(v)}`);
  lines.push("function bundles:");
  for (const b of result.bundles)
    lines.push(`  ${b.name}: ${(b.bytes / 1024).toFixed(1)} KiB  sha256 ${b.sha256.slice(0, 12)}`);
  if (result.bundles.length === 0) lines.push("  (none)");
  return lines.join("\n");
}

/**
 * The inventory for this run, validated on its own and against `network.existingVpc` before the
 * program runs: a bad one stops synth with key-level errors and nothing registered.
 */
function readInventory(
  file: string | undefined,
  config: Record<string, string>,
  region: string,
): { inventory?: Inventory; predicted: Record<string, string>; dataVpcId?: string } {
  const named = file ?? config["vpc-lambda-kit:inventory"];
  if (!named) return { predicted: {} };
  const inv = loadInventory(path.resolve(REPO_ROOT, named));
  const json = (k: string) => safeJson(config[`vpc-lambda-kit:${k}`]);
  const roles: string[] = Array.isArray(json("roles")) ? json("roles") : ["network", "data", "apps"];
  const upstream = json("upstream") ?? {};
  const tg = json("transitGateway") ?? {};
  const tgwOn =
    tg.enabled ?? ((roles.includes("network") || !!upstream.network) && (roles.includes("data") || !!upstream.data));
  // The stated ranges, with the schema's defaults where the stack file leaves them out.
  const network = json("network") ?? {};
  const data = json("data") ?? {};
  const netCidr: string = network.cidrBlock ?? DEFAULT_NETWORK_CIDR;
  const dataCidr: string = data.cidrBlock ?? DEFAULT_DATA_CIDR;
  const sides = [
    {
      role: "network",
      existing: network.existingVpc,
      stated: { cidrBlock: netCidr, privateSubnetCidrs: network.privateSubnetCidrs },
      tgwDestinations: tgwOn ? [dataCidr] : undefined,
      nat: true,
    },
    {
      role: "data",
      existing: data.existingVpc,
      stated: {
        cidrBlock: dataCidr,
        privateSubnetCidrs: data.subnetCidrs ?? [...DEFAULT_DATA_SUBNET_CIDRS],
        subnetCidrsKey: "subnetCidrs",
      },
      tgwDestinations: tgwOn ? [netCidr] : undefined,
      nat: false,
    },
  ];
  const errors: ConfigError[] = [];
  const resolved: Record<string, ExistingVpcRef> = {};
  for (const side of sides) {
    const ex = side.existing;
    if (!ex || typeof ex !== "object" || !roles.includes(side.role)) continue;
    const key = `vpc-lambda-kit:${side.role}.existingVpc`;
    const r = resolveExistingVpc(inv, ex, key, side.stated.privateSubnetCidrs);
    errors.push(...r.errors);
    if (!r.ref) continue;
    resolved[side.role] = r.ref;
    errors.push(
      ...existingVpcErrors(inv, side.nat ? r.ref : { ...r.ref, natGatewayIds: [] }, key, {
        ...side.stated,
        tgwDestinations: side.tgwDestinations,
      }),
    );
  }
  errors.push(
    ...existingTgwErrors(
      inv,
      tg,
      { egress: resolved.network?.vpcId, data: resolved.data?.vpcId },
      safeAccounts(config["vpc-lambda-kit:accounts"]),
    ),
  );
  if (resolved.network && resolved.data && resolved.network.vpcId === resolved.data.vpcId)
    errors.push(
      new ConfigError(
        "vpc-lambda-kit:data.existingVpc",
        `adopts ${resolved.data.vpcId}, the VPC network.existingVpc adopts too`,
        "the database side is a VPC of its own (account B): name a different VPC",
      ),
    );
  const predicted = ipamAgainstInventory(inv, config, roles, region, errors);
  throwIfAny(errors);
  return { inventory: inv, predicted, dataVpcId: resolved.data?.vpcId };
}

/**
 * Each kit-created VPC's IPAM pool against the inventory (network first, as the roles create them); returns the
 * ranges predicted for VPCs whose ipamAllocatedCidr is not stated. Malformed keys are left to the config schema.
 */
function ipamAgainstInventory(
  inv: Inventory,
  config: Record<string, string>,
  roles: string[],
  region: string,
  errors: ConfigError[],
): Record<string, string> {
  const accounts = safeJson(config["vpc-lambda-kit:accounts"]) ?? {};
  const predicted: Record<string, string> = {};
  const taken: Record<string, string[]> = {};
  for (const [role, side] of [
    ["network", "a"],
    ["data", "b"],
  ]) {
    const v = safeJson(config[`vpc-lambda-kit:${role}`]);
    if (!roles.includes(role) || typeof v?.ipv4IpamPoolId !== "string" || v.existingVpc) continue;
    if (!IPAM_POOL_ID_RE.test(v.ipv4IpamPoolId) || typeof v.ipv4NetmaskLength !== "number") continue;
    const r = ipamRequestErrors(
      inv,
      {
        at: `vpc-lambda-kit:${role}`,
        region: accounts?.[side]?.region ?? region,
        poolId: v.ipv4IpamPoolId,
        netmaskLength: v.ipv4NetmaskLength,
        allocatedCidr: typeof v.ipamAllocatedCidr === "string" ? v.ipamAllocatedCidr : undefined,
      },
      taken[v.ipv4IpamPoolId] ?? [],
    );
    errors.push(...r.errors);
    if (r.cidr) (taken[v.ipv4IpamPoolId] ??= []).push(r.cidr);
    if (r.cidr && r.predicted) predicted[role] = r.cidr;
  }
  return predicted;
}

/**
 * What each IPAM pool allocates to this stack's VPCs, as config states it or the inventory's pool predicts it
 * (network first, as the roles create them).
 */
function ipamAllocations(
  config: Record<string, string>,
  predicted: Record<string, string>,
): Record<string, IpamAnswer[]> {
  const out: Record<string, IpamAnswer[]> = {};
  for (const role of ["network", "data"]) {
    const v = safeJson(config[`vpc-lambda-kit:${role}`]);
    if (typeof v?.ipv4IpamPoolId === "string" && typeof v.ipamAllocatedCidr === "string")
      (out[v.ipv4IpamPoolId] ??= []).push({
        cidrBlock: v.ipamAllocatedCidr,
        ...(predicted[role] ? { predicted: true } : {}),
        key: `vpc-lambda-kit:${role}.ipamAllocatedCidr`,
      });
  }
  return out;
}

function safeJson(text: string | undefined): any {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function safeAccounts(text: string | undefined): { a?: string; b?: string } {
  if (!text) return {};
  try {
    const o = JSON.parse(text);
    return { a: o?.a?.accountId, b: o?.b?.accountId };
  } catch {
    return {};
  }
}
