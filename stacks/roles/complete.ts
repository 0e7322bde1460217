/** A role's outputs once every feature has added its part: every key present, or a bug named. */
export function completeOutputs<T extends object>(
  role: string,
  keys: readonly (keyof T & string)[],
  out: Partial<T>,
): T {
  const missing = keys.filter((k) => out[k] === undefined);
  if (missing.length > 0)
    throw new Error(
      `the ${role} role produced no ${missing.join(", ")}: a feature that owns these keys is not registered in stacks/features/index.ts`,
    );
  return out as T;
}
