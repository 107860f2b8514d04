import { describe, expect, it } from 'vitest';
import { cappedFullJitter } from './backoff.ts';

describe('cappedFullJitter', () => {
  it('When the random draw is at its top, then the delay doubles per attempt up to the cap', () => {
    const top = () => 0.999999;
    expect([1, 2, 3, 4, 5, 6].map((a) => cappedFullJitter(a, 1000, 10_000, top))).toEqual([
      1000, 2000, 4000, 8000, 10_000, 10_000,
    ]);
  });

  it('When the random draw varies, then every delay lies in [1, min(cap, base * 2^(n-1))]', () => {
    for (let attempt = 1; attempt < 40; attempt++) {
      const d = cappedFullJitter(attempt, 2000, 600_000);
      expect(d).toBeGreaterThanOrEqual(1);
      expect(d).toBeLessThanOrEqual(Math.min(600_000, 2000 * 2 ** (attempt - 1)));
    }
    expect(cappedFullJitter(3, 1000, 10_000, () => 0)).toBe(1);
  });
});
