/**
 * zod pieces for handler environments: every message names the variable and what to put in it. The checks live in
 * ./env-mini.ts, which has the same pieces on zod/mini for handlers that load no classic zod.
 */
import * as z from "zod";
import { integerCheck, integerOrDefault, logLevelCheck, requiredTypeError } from "./env-mini";

/** A required, non-empty string variable. */
export const required = (name: string, what: string) =>
  z
    .string({ error: requiredTypeError(name, what) })
    .trim()
    .min(1, { error: `${name} is empty: ${what}` });

/** An optional integer variable in [min, max], `dflt` when unset or empty. */
export const integer = (name: string, what: string, min: number, max: number, dflt: number) => {
  const c = integerCheck(name, what, min, max);
  return z.string().trim().refine(c.ok, { error: c.error }).optional().transform(integerOrDefault(dflt));
};

/** LOG_LEVEL: debug, info (default), warn or error. */
export const logLevel = z
  .string()
  .refine(logLevelCheck.ok, { error: logLevelCheck.error })
  .optional()
  .transform(logLevelCheck.value);
