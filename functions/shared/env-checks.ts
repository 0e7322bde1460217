/**
 * The environment checks behind ./env-mini.ts, without a schema library: kintone-sync's plain checks
 * (../kintone-sync/config.ts) use them too, and its bundle carries no zod. Every message names the variable and what
 * to put in it.
 */
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
