import { resolveOutputs } from "../../ops/mocks";

/**
 * The named outputs of a component built under the kit's mocks, resolved to plain values (a secret output reads
 * as the mocks' placeholder): one record to assert on instead of awaiting each output.
 */
export async function outputsOf<C extends object, K extends keyof C & string>(
  component: C,
  keys: readonly K[],
): Promise<Record<K, any>> {
  return (await resolveOutputs(Object.fromEntries(keys.map((k) => [k, component[k]])))) as Record<K, any>;
}
