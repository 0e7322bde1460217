/** Bounded retries with exponential backoff and jitter. */

export interface RetryPolicy {
  /** Attempts in total, the first included (1 = no retry). */
  maxAttempts: number;
  /** Backoff before the 2nd attempt; doubles for each further attempt. */
  baseMs: number;
  /** Upper bound of one wait, Retry-After included. */
  maxMs: number;
}

/**
 * Wait before attempt `attempt + 1` ("equal jitter": half of the exponential step is fixed, half random), so
 * concurrent runs that failed together do not retry together, yet every retry waits at least half a step.
 * A server's Retry-After is honoured when it asks for longer.
 */
export function backoffMs(attempt: number, policy: RetryPolicy, retryAfterMs?: number, random: () => number = Math.random): number {
  const step = Math.min(policy.maxMs, policy.baseMs * 2 ** (attempt - 1));
  const jittered = step / 2 + random() * (step / 2);
  return Math.min(policy.maxMs, Math.max(jittered, retryAfterMs ?? 0));
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
