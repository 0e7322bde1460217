import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { builtBundles, FunctionBundle, REPO_ROOT, writeBundle } from "../components/bundle";
import { KitMocks, RecordedResource, resolveOutputs } from "./mocks";
import { readStackConfig } from "./stack-config";
import { AWSX_VPC_TYPE } from "./awsx-mock";
import { existingVpcErrors, Inventory, inventoryRecords, loadInventory } from "./inventory";
import { throwIfAny } from "../components/errors";

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
  const inventory = readInventory(opts.inventoryFile, config);
  const mocks = new KitMocks({
    region,
    defaultAccountId: accounts.a ?? "123456789012",
    stackOutputs: opts.stackOutputs,
    inventory,
  });
  await mocks.install("vpc-lambda-kit", opts.stack);
  pulumi.runtime.setAllConfig(config, secretKeys);

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
    // An awsx VPC's children are the inventory's resources too (ops/awsx-mock.ts), under the awsx component.
    const awsx = created.find((r) => r.type === AWSX_VPC_TYPE);
    const adopted = inventory
      ? inventoryRecords(inventory, {
          stack: opts.stack,
          project: "vpc-lambda-kit",
          provider: awsx
            ? awsx.provider
            : (created.find((r) => r.type === "pulumi:providers:aws" && r.name === "account-a")?.urn ?? null),
          parent: awsx
            ? awsx.urn
            : (created.find((r) => r.type === "vpc-lambda-kit:network:ExistingEgressVpc")?.urn ?? null),
          origin: awsx ? "awsx" : undefined,
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
  }
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
function readInventory(file: string | undefined, config: Record<string, string>): Inventory | undefined {
  const named = file ?? config["vpc-lambda-kit:inventory"];
  if (!named) return undefined;
  const inv = loadInventory(path.resolve(REPO_ROOT, named));
  const network = safeJson(config["vpc-lambda-kit:network"]);
  const existing = network?.existingVpc;
  if (
    existing &&
    typeof existing === "object" &&
    typeof existing.vpcId === "string" &&
    Array.isArray(existing.privateSubnetIds)
  ) {
    throwIfAny(
      existingVpcErrors(inv, existing, "vpc-lambda-kit:network.existingVpc", {
        cidrBlock: network.cidrBlock,
        privateSubnetCidrs: network.privateSubnetCidrs,
      }),
    );
  }
  return inv;
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
