/**
 * The checker's view of the type table: the one table of resource type tokens is ops/graph-types.ts, shared
 * with the network twin. Checker modules and tests import it from here.
 */
export { T } from "../../graph-types";
export type { ResourceType } from "../../graph-types";
