/** zod pieces for handler environments: every message names the variable and what to put in it. */
import * as z from "zod";
import type { LogLevel } from "./log";
import type { RetryPolicy } from "./retry";

/** A required, non-empty string variable. */
export const required = (name: string, what: string) =>
  z
    .string({ error: (iss) => (iss.input === undefined ? `${name} is not set: ${what}` : `${name} must be a string`) })
    .trim()
    .min(1, { error: `${name} is empty: ${what}` });

/** An optional integer variable in [min, max], `dflt` when unset or empty. */
export const integer = (name: string, what: string, min: number, max: number, dflt: number) =>
  z
    .string()
    .trim()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === "") return dflt;
      const n = Number(v);
      if (!/^\d+$/.test(v) || n < min || n > max) {
        ctx.addIssue({
          code: "custom",
          message: `${name} must be an integer from ${min} to ${max} (${what}); got "${v}"`,
        });
        return z.NEVER;
      }
      return n;
    });

type RetryVariable<P extends string> = `${P}RETRY_MAX_ATTEMPTS` | `${P}RETRY_BASE_MS` | `${P}RETRY_MAX_MS`;

/**
 * The retry variables `<prefix>RETRY_MAX_ATTEMPTS` (1 to 10; `attempts` says what one attempt is),
 * `<prefix>RETRY_BASE_MS` (0 to 60 s) and `<prefix>RETRY_MAX_MS` (0 to 300 s), each defaulting to `dflt`.
 */
export function retryVariables<P extends string>(prefix: P, attempts: string, dflt: RetryPolicy) {
  const at = (s: string) => `${prefix}RETRY_${s}`;
  return {
    [at("MAX_ATTEMPTS")]: integer(at("MAX_ATTEMPTS"), attempts, 1, 10, dflt.maxAttempts),
    [at("BASE_MS")]: integer(at("BASE_MS"), "backoff before the first retry, doubling after", 0, 60_000, dflt.baseMs),
    [at("MAX_MS")]: integer(at("MAX_MS"), "longest single backoff", 0, 300_000, dflt.maxMs),
  } as Record<RetryVariable<P>, ReturnType<typeof integer>>;
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

/** LOG_LEVEL: debug, info (default), warn or error. */
export const logLevel = z
  .string()
  .optional()
  .transform((v, ctx) => {
    const level = (v ?? "info").trim().toLowerCase() || "info";
    if (!["debug", "info", "warn", "error"].includes(level)) {
      ctx.addIssue({ code: "custom", message: `LOG_LEVEL must be one of debug, info, warn, error; got "${v}"` });
      return z.NEVER;
    }
    return level as LogLevel;
  });
