import type { Graph } from "../../ops/synth-core";
import { GraphView, synthForTest } from "./graph";

/**
 * dev's Transit Gateway share as Pulumi.dev.yaml writes it (account B, outside an Organization, accepts the
 * invitation), with `extra` keys: the base the Transit Gateway tests vary.
 */
export function devTgw(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { principals: ["222222222222"], acceptShare: true, allowExternalPrincipals: true, ...extra };
}

/** The dev stack synthesized with its transitGateway config replaced by `transitGateway`: its view and graph. */
export async function synthDevWithTgw(
  transitGateway: Record<string, unknown>,
): Promise<{ view: GraphView; graph: Graph }> {
  const { view, result } = await synthForTest("dev", { "vpc-lambda-kit:transitGateway": transitGateway });
  return { view, graph: result.graph };
}
