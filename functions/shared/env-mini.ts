/**
 * The pieces of ./env.ts on zod/mini, for handlers whose cold start loads zod/mini only (db-writer, pets-api and
 * the database settings in ./db): loading zod's classic API costs Node 24 more than the pg driver does, zod/mini a
 * fraction of it (README, Benchmarks). The same variables, defaults and messages; ./env.ts
 * builds its classic schemas from the checks here.
 */
import * as z from "zod/mini";
import type { LogLevel } from "./log";

/** The message of a required variable that is unset or not a string. */
export const requiredTypeError =
  (name: string, what: string) =>
  (iss: { input?: unknown }): string =>
    iss.input === undefined ? `${name} is not set: ${what}` : `${name} must be a string`;

/** An integer variable (trimmed): empty (the default), or an integer in [min, max]. */
export const integerCheck = (name: string, what: string, min: number, max: number) => ({
  ok: (v: string): boolean => v === "" || (/^\d+$/.test(v) && Number(v) >= min && Number(v) <= max),
  error: (iss: { input?: unknown }): string =>
    `${name} must be an integer from ${min} to ${max} (${what}); got "${String(iss.input)}"`,
});
export const integerOrDefault =
  (dflt: number) =>
  (v: string | undefined): number =>
    v === undefined || v === "" ? dflt : Number(v);

const LEVELS = ["debug", "info", "warn", "error"];
const levelOf = (v: string | undefined): string => (v ?? "info").trim().toLowerCase() || "info";
/** LOG_LEVEL: debug, info (default), warn or error, in any case, blanks around allowed. */
export const logLevelCheck = {
  ok: (v: string): boolean => LEVELS.includes(levelOf(v)),
  error: (iss: { input?: unknown }): string =>
    `LOG_LEVEL must be one of debug, info, warn, error; got "${String(iss.input)}"`,
  value: (v: string | undefined): LogLevel => levelOf(v) as LogLevel,
};

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

/**
 * LOG_LEVEL: debug, info (default), warn or error. A function, like the others, so that a bundle using only
 * ./env.ts (which shares the checks above) does not carry zod/mini for it.
 */
export const logLevelVar = () =>
  z.pipe(
    z.optional(z.string().check(z.refine(logLevelCheck.ok, { error: logLevelCheck.error }))),
    z.transform(logLevelCheck.value),
  );
