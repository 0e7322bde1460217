/**
 * zod/mini pieces for handler environments: every message names the variable and what to put in it. On zod/mini,
 * not zod's classic API: loading the classic API costs Node 24 more than the pg driver does, zod/mini a fraction of
 * it (README, Benchmarks). Used by db-writer, pets-api, the database settings in ./db, saas-export and the Athena
 * connector. The checks themselves live in ./env-checks.ts, which has no zod.
 */
import * as z from "zod/mini";
import { integerCheck, integerOrDefault, logLevelCheck, requiredTypeError } from "./env-checks";
import type { RetryPolicy } from "./retry";

/** A required, non-empty string variable. */
export const requiredVar = (name: string, what: string) =>
  z
    .string({ error: requiredTypeError(name, what) })
    .check(z.trim(), z.minLength(1, { error: `${name} is empty: ${what}` }));

/** An optional integer variable in [min, max], `dflt` when unset or empty. */
export const integerVar = (name: string, what: string, min: number, max: number, dflt: number) => {
  const c = integerCheck(name, what, min, max);
  return z.pipe(
    z.optional(z.string().check(z.trim(), z.refine(c.ok, { error: c.error }))),
    z.transform(integerOrDefault(dflt)),
  );
};

/** LOG_LEVEL: debug, info (default), warn or error. */
export const logLevelVar = () =>
  z.pipe(
    z.optional(z.string().check(z.refine(logLevelCheck.ok, { error: logLevelCheck.error }))),
    z.transform(logLevelCheck.value),
  );

/** An optional string variable, trimmed. */
export const optionalTrimmed = () => z.optional(z.string().check(z.trim()));

type RetryVariable<P extends string> = `${P}RETRY_MAX_ATTEMPTS` | `${P}RETRY_BASE_MS` | `${P}RETRY_MAX_MS`;

/**
 * The retry variables `<prefix>RETRY_MAX_ATTEMPTS` (1 to 10; `attempts` says what one attempt is),
 * `<prefix>RETRY_BASE_MS` (0 to 60 s) and `<prefix>RETRY_MAX_MS` (0 to 300 s), each defaulting to `dflt`.
 */
export function retryVariables<P extends string>(prefix: P, attempts: string, dflt: RetryPolicy) {
  const at = (s: string) => `${prefix}RETRY_${s}`;
  return {
    [at("MAX_ATTEMPTS")]: integerVar(at("MAX_ATTEMPTS"), attempts, 1, 10, dflt.maxAttempts),
    [at("BASE_MS")]: integerVar(
      at("BASE_MS"),
      "backoff before the first retry, doubling after",
      0,
      60_000,
      dflt.baseMs,
    ),
    [at("MAX_MS")]: integerVar(at("MAX_MS"), "longest single backoff", 0, 300_000, dflt.maxMs),
  } as Record<RetryVariable<P>, ReturnType<typeof integerVar>>;
}

/** The policy the parsed retry variables give. */
export function retryPolicy<P extends string>(prefix: P, v: Record<RetryVariable<P>, number>): RetryPolicy {
  return {
    maxAttempts: v[`${prefix}RETRY_MAX_ATTEMPTS`],
    baseMs: v[`${prefix}RETRY_BASE_MS`],
    maxMs: v[`${prefix}RETRY_MAX_MS`],
  };
}

/** The problem when the first backoff is longer than the longest one allowed. */
export function retryOrderProblems<P extends string>(prefix: P, v: Record<RetryVariable<P>, number>): string[] {
  const { baseMs, maxMs } = retryPolicy(prefix, v);
  return baseMs > maxMs ? [`${prefix}RETRY_BASE_MS (${baseMs}) must not exceed ${prefix}RETRY_MAX_MS (${maxMs})`] : [];
}
