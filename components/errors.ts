/**
 * A configuration mistake found before any resource is registered. `key` names the config key or
 * component argument at fault; the message says what is wrong and how to fix it.
 */
export class ConfigError extends Error {
  constructor(
    public readonly key: string,
    public readonly problem: string,
    public readonly fix: string,
  ) {
    super(`${key}: ${problem}. Fix: ${fix}`);
    this.name = "ConfigError";
  }
}

/** Several configuration mistakes at once, so a user fixes them in one round. */
export class ConfigErrors extends Error {
  constructor(public readonly errors: ConfigError[]) {
    super(
      `invalid configuration (${errors.length} problem${errors.length === 1 ? "" : "s"}):\n` +
        errors.map((e) => `  - ${e.message}`).join("\n"),
    );
    this.name = "ConfigErrors";
  }
}

/**
 * The error for a value that must match `re`: `"<value>" is not <what>`, keyed `key`, with `fix`. None when the
 * value matches, or is absent (an optional key left out).
 */
export function patternErrors(
  key: string,
  value: string | undefined,
  re: RegExp,
  what: string,
  fix: string,
): ConfigError[] {
  return value === undefined || re.test(value) ? [] : [new ConfigError(key, `"${value}" is not ${what}`, fix)];
}

/** Throws all collected errors at once, or nothing. */
export function throwIfAny(errors: ConfigError[]): void {
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) throw new ConfigErrors(errors);
}

/** The configuration mistakes `e` carries (one ConfigError, or every one of a ConfigErrors); undefined for anything else. */
export function configErrorsIn(e: unknown): ConfigError[] | undefined {
  if (e instanceof ConfigErrors) return e.errors;
  if (e instanceof ConfigError) return [e];
  return undefined;
}

/**
 * Runs a check that throws ConfigError or ConfigErrors and adds what it threw to `errors`, so one
 * failing check never hides the others' problems. Returns the check's result, or undefined when it threw.
 * Anything else it throws is a bug and propagates.
 */
export function collectConfigErrors<T>(errors: ConfigError[], check: () => T): T | undefined {
  try {
    return check();
  } catch (e) {
    const found = configErrorsIn(e);
    if (!found) throw e;
    errors.push(...found);
    return undefined;
  }
}
