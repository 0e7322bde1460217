/** zod pieces for handler environments: every message names the variable and what to put in it. */
import * as z from "zod";
import type { LogLevel } from "./log";

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
