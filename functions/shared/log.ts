/**
 * Structured logs: one JSON object per line on stdout (`{"time","level","msg",...fields}`), which CloudWatch Logs
 * Insights parses without a pattern. Errors are reduced to name/message/code/status: an HTTP client error (axios's
 * included) carries the request headers, and the handlers' secrets (API tokens, the proxy header) travel in headers.
 */

export type LogLevel = "debug" | "info" | "warn" | "error";

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export function createLogger(level: LogLevel, base: Record<string, unknown> = {}): Logger {
  const emit = (lvl: LogLevel, msg: string, fields?: Record<string, unknown>): void => {
    if (RANK[lvl] < RANK[level]) return;
    process.stdout.write(
      JSON.stringify({ time: new Date().toISOString(), level: lvl, msg, ...base, ...fields }) + "\n",
    );
  };
  return {
    debug: (msg, fields) => emit("debug", msg, fields),
    info: (msg, fields) => emit("info", msg, fields),
    warn: (msg, fields) => emit("warn", msg, fields),
    error: (msg, fields) => emit("error", msg, fields),
  };
}

/** The loggable part of an error: never the object itself (see the file comment). */
export function errorFields(err: unknown): Record<string, unknown> {
  if (!(err instanceof Error)) return { error: String(err) };
  const e = err as Error & { code?: unknown; status?: unknown; kind?: unknown };
  const out: Record<string, unknown> = { errorName: e.name, error: e.message };
  if (typeof e.kind === "string") out.kind = e.kind;
  if (typeof e.code === "string") out.errorCode = e.code;
  if (typeof e.status === "number") out.status = e.status;
  return out;
}
