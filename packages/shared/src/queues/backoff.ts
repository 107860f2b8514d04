/**
 * Capped exponential backoff with full jitter (AWS "Exponential Backoff and Jitter"):
 * a uniform delay in [0, min(cap, base * 2^(attempt-1))]. Full jitter spreads a crowd of
 * retries after a Persona outage instead of sending them back in step.
 */
export function cappedFullJitter(
  attemptsMade: number,
  baseMs: number,
  capMs: number,
  random: () => number = Math.random,
): number {
  const exp = Math.min(capMs, baseMs * 2 ** Math.max(0, attemptsMade - 1));
  return Math.max(1, Math.round(random() * exp));
}
