import { ConfigError, ConfigErrors } from "../../components/errors";

/**
 * The messages of the ConfigError (or ConfigErrors) `run` throws, [] when it throws none; any other error is thrown
 * on, so a crash never reads as a refusal.
 */
export function configMessages(run: () => unknown): string[] {
  try {
    run();
  } catch (e) {
    return messagesOf(e);
  }
  return [];
}

/** configMessages for an async `run` (a synthesis). */
export async function configMessagesAsync(run: () => Promise<unknown>): Promise<string[]> {
  try {
    await run();
  } catch (e) {
    return messagesOf(e);
  }
  return [];
}

function messagesOf(e: unknown): string[] {
  if (e instanceof ConfigErrors) return e.errors.map((x) => x.message);
  if (e instanceof ConfigError) return [e.message];
  throw e;
}
