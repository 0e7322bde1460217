/** Bounded retries with exponential backoff and jitter, shared by every handler. */

export interface RetryPolicy {
  /** Attempts in total, the first included (1 = no retry). */
  maxAttempts: number;
  /** Backoff before the 2nd attempt; doubles for each further attempt. */
  baseMs: number;
  /** Upper bound of one wait, Retry-After included. */
  maxMs: number;
}

/** What one failed attempt means for the next. */
export interface AttemptFailure {
  retryable: boolean;
  /** A server's Retry-After, when it sent one. */
  retryAfterMs?: number;
}

/**
 * Wait before attempt `attempt + 1` ("equal jitter": half of the exponential step is fixed, half random), so
 * concurrent runs that failed together do not retry together, yet every retry waits at least half a step.
 * A server's Retry-After is honoured when it asks for longer, up to `maxMs`.
 */
export function backoffMs(
  attempt: number,
  policy: RetryPolicy,
  retryAfterMs?: number,
  random: () => number = Math.random,
): number {
  const step = Math.min(policy.maxMs, policy.baseMs * 2 ** (attempt - 1));
  const jittered = step / 2 + random() * (step / 2);
  return Math.min(policy.maxMs, Math.max(jittered, retryAfterMs ?? 0));
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs `op` until it succeeds, `classify` calls its error final, or the attempts run out; the last error is thrown
 * with the number of attempts made. `onRetry` hears about every retry (for logs and the run's retry count).
 */
export async function withRetry<T>(
  op: (attempt: number) => Promise<T>,
  classify: (err: unknown) => AttemptFailure,
  policy: RetryPolicy,
  onRetry: (err: unknown, attempt: number, waitMs: number) => void,
): Promise<{ value: T; attempts: number }> {
  for (let attempt = 1; ; attempt++) {
    try {
      return { value: await op(attempt), attempts: attempt };
    } catch (err) {
      const f = classify(err);
      if (!f.retryable || attempt >= policy.maxAttempts) throw new RetriesExhausted(err, attempt);
      const wait = backoffMs(attempt, policy, f.retryAfterMs);
      onRetry(err, attempt, wait);
      await sleep(wait);
    }
  }
}

/** The final error of `withRetry` and how many attempts were made before giving up. */
export class RetriesExhausted extends Error {
  constructor(
    override readonly cause: unknown,
    readonly attempts: number,
  ) {
    super(cause instanceof Error ? cause.message : String(cause));
  }
}
