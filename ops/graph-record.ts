/**
 * The fields every graph.json resource record has, whether synth recorded it from a registration
 * (ops/mocks.ts, RecordedResource) or took it from the inventory (ops/inventory.ts, ExistingRecord).
 * A module of its own so both import it without importing each other.
 */
export interface GraphRecord {
  urn: string;
  id: string;
  type: string;
  name: string;
  /** Parent URN; the stack for top-level resources. */
  parent: string | null;
  /** URN of the explicit provider resource; null for components and default providers. */
  provider: string | null;
  /** Inputs resolved to plain JSON: references to other resources appear as their ids, secrets as "[secret]". */
  inputs: Record<string, unknown>;
}
