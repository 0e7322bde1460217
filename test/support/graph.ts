import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { REPO_ROOT } from "../../components/bundle";
import { Graph, synthesize, SynthResult } from "../../ops/synth-core";

import { GraphModel, Res } from "../../ops/check/model/graph";
import { T } from "../../ops/check/model/types";

/**
 * Strict query helpers over a synthesized graph, so tests read like the network they assert: a
 * thin layer over the checker's graph model (ops/check/model/graph.ts) that throws when a lookup
 * is not exactly one resource, where the model itself returns undefined.
 */
export class GraphView {
  public readonly model: GraphModel;
  constructor(public readonly graph: Graph) {
    this.model = GraphModel.of(graph);
  }

  all(type: string): Res[] {
    return [...this.model.all(type)];
  }
  one(type: string, name: string): Res {
    const found = this.model.all(type).filter((r) => r.name === name);
    if (found.length !== 1) throw new Error(`expected one ${type} named ${name}, found ${found.length}`);
    return found[0];
  }
  byId(id: unknown): Res {
    const found = this.model.allWithId(id);
    if (found.length !== 1) throw new Error(`expected one resource with id ${String(id)}, found ${found.length}`);
    return found[0];
  }
  byUrn(urn: string | null): Res | undefined {
    return this.model.byUrn(urn);
  }
  /** The route table a subnet is associated with. */
  routeTableOf(subnet: Res): Res {
    const assoc = this.model.all(T.rta).filter((a) => a.inputs.subnetId === subnet.id);
    if (assoc.length !== 1) throw new Error(`subnet ${subnet.name} has ${assoc.length} route table associations`);
    return this.byId(assoc[0].inputs.routeTableId);
  }
  routesOf(table: Res): Res[] {
    return this.model.all(T.route).filter((r) => r.inputs.routeTableId === table.id);
  }
  /** The single route for `cidr` in `table`, and the resource it targets. */
  routeTarget(table: Res, cidr: string): Res {
    const routes = this.routesOf(table).filter((r) => r.inputs.destinationCidrBlock === cidr);
    if (routes.length !== 1) throw new Error(`route table ${table.name} has ${routes.length} routes to ${cidr}`);
    const i = routes[0].inputs;
    return this.byId(i.gatewayId ?? i.natGatewayId ?? i.transitGatewayId ?? i.vpcEndpointId);
  }
  /** Ancestors' names, nearest first. */
  ancestors(r: Res): string[] {
    return this.model.ancestors(r).map((p) => p.name);
  }
  /** Name of the provider resource a resource was created with. */
  providerName(r: Res): string | undefined {
    return r.provider ? r.provider.split("::").pop() : undefined;
  }
}

export interface SynthForTest {
  view: GraphView;
  result: SynthResult;
}

/**
 * Synthesizes a stack in this jest worker (one per test file: Pulumi's runtime is global), from its
 * Pulumi.<stack>.yaml with `patch` applied to the config map (a key set to undefined is removed).
 */
export async function synthForTest(
  stack: string,
  patch: Record<string, unknown> = {},
  stackOutputs?: (name: string) => Record<string, unknown>,
): Promise<SynthForTest> {
  const base = YAML.parse(fs.readFileSync(path.join(REPO_ROOT, `Pulumi.${stack}.yaml`), "utf8"));
  for (const [k, v] of Object.entries(patch)) {
    if (v === undefined) delete base.config[k];
    else base.config[k] = v;
  }
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "vlk-")), `Pulumi.${stack}.yaml`);
  fs.writeFileSync(file, YAML.stringify(base));
  const result = await synthesize({ stack, configFile: file, stackOutputs });
  return { view: new GraphView(result.graph), result };
}

/** Parses a role policy's JSON document. */
export function policyDoc(r: Res): {
  Statement: {
    Sid?: string;
    Effect: string;
    Action: string | string[];
    Resource: string | string[];
    Condition?: unknown;
  }[];
} {
  return JSON.parse(r.inputs.policy as string);
}
