/** Exponential backoff with jitter, and a sleep that a stop can cut short. */

/**
 * The delay before retry number `failures` (1 = first retry): base × 2^(failures−1), capped at
 * max, then scaled by a random factor in [0.5, 1) so that many retriers spread out.
 */
export function backoffDelay(failures: number, baseMs: number, maxMs: number, random = Math.random): number {
  const exp = Math.min(maxMs, baseMs * 2 ** Math.max(0, Math.min(failures - 1, 30)));
  return Math.round(exp * (0.5 + random() / 2));
}

/** `ms` scaled by a random factor in [1, 1 + spread). */
export function jittered(ms: number, spread = 0.2, random = Math.random): number {
  return Math.round(ms * (1 + random() * spread));
}

/** Resolves after `ms`, or at once when `signal` aborts (never rejects). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
