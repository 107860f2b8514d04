import fc from 'fast-check';
import RedisMock from 'ioredis-mock';
import { describe, expect, it } from 'vitest';
import {
  PersonaRateLimiter,
  type Permit,
  type RateLimiterOptions,
} from './persona-rate-limiter.ts';

const isGranted = (p: Permit) => p.kind === 'granted';

/**
 * The arithmetic of persona-limiter-3.lua, run by ioredis-mock's Lua engine on a clock the
 * test walks. Cross-process behaviour against real Redis is in the integration tests.
 */
let seq = 0;
function limiter(options: Partial<RateLimiterOptions> = {}) {
  const clock = { now: 1_700_000_000_000 };
  const redis = new RedisMock();
  const l = new PersonaRateLimiter(redis, {
    prefix: `unit${seq++}`,
    limit: 10,
    windowMs: 1000,
    marginMs: 0,
    burst: 1,
    now: () => clock.now,
    ...options,
  });
  return { l, clock };
}

/** Grants in every window [t, t + w) over a sorted list of grant times: the maximum. */
function maxInAnyWindow(times: number[], w: number): number {
  let max = 0;
  let lo = 0;
  for (let hi = 0; hi < times.length; hi++) {
    while (times[hi]! - times[lo]! >= w) lo++;
    max = Math.max(max, hi - lo + 1);
  }
  return max;
}

describe('persona limiter arithmetic', () => {
  describe('limit of 1', () => {
    it('When one grant is in the window, then the next waits exactly until it leaves, not a millisecond less', async () => {
      const { l, clock } = limiter({ limit: 1, windowMs: 1000, marginMs: 200 });
      expect(await l.acquire('create')).toMatchObject({ kind: 'granted' });
      expect(await l.acquire('create')).toMatchObject({
        kind: 'denied',
        retryInMs: 1200,
        reason: 'window',
      });
      clock.now += 1199;
      expect(await l.acquire('create')).toMatchObject({ kind: 'denied', retryInMs: 1 });
      clock.now += 1;
      expect(await l.acquire('create')).toMatchObject({ kind: 'granted' });
    });

    it('When a burst is configured above the limit, then it is clamped to the limit', async () => {
      const { l } = limiter({ limit: 1, burst: 5 });
      expect(isGranted(await l.acquire('create'))).toBe(true);
      expect(isGranted(await l.acquire('create'))).toBe(false);
    });
  });

  describe('pacing', () => {
    it('When calls come back to back, then they are spaced by window / limit', async () => {
      const { l, clock } = limiter({ limit: 4, windowMs: 1000 });
      expect(isGranted(await l.acquire('create'))).toBe(true);
      expect(await l.acquire('create')).toMatchObject({
        kind: 'denied',
        reason: 'pacing',
        retryInMs: 250,
      });
      clock.now += 249;
      expect(await l.acquire('create')).toMatchObject({ kind: 'denied', retryInMs: 1 });
      clock.now += 1;
      expect(isGranted(await l.acquire('create'))).toBe(true);
    });

    it('When the system was idle, then a burst of `burst` grants passes at once and then pacing resumes', async () => {
      const { l } = limiter({ limit: 10, windowMs: 1000, burst: 3 });
      const results = [];
      for (let i = 0; i < 4; i++) results.push(isGranted(await l.acquire('create')));
      expect(results).toEqual([true, true, true, false]);
    });

    it('When a grant comes late, then the burst tolerance lets the next ones catch up, keeping the long-run rate', async () => {
      const { l, clock } = limiter({ limit: 10, windowMs: 1000, burst: 3 });
      // Drain the burst, then ask exactly when told, but 30 ms late each time.
      const grants: number[] = [];
      const until = clock.now + 10_000;
      while (clock.now < until) {
        const p = await l.acquire('create');
        if (isGranted(p)) grants.push(clock.now);
        else clock.now += p.retryInMs + 30;
      }
      // 10 per second over 10 s; lateness does not cost slots.
      expect(grants.length).toBeGreaterThanOrEqual(99);
      expect(maxInAnyWindow(grants, 1000)).toBeLessThanOrEqual(10);
    });
  });

  describe('the rolling bound', () => {
    it('When calls arrive at any times at all, then no rolling window (plus margin) ever holds more than the limit', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 1, max: 6 }),
          fc.integer({ min: 1, max: 6 }),
          fc.array(fc.integer({ min: 0, max: 400 }), { minLength: 1, maxLength: 120 }),
          async (limit, burst, gaps) => {
            const { l, clock } = limiter({ limit, burst, windowMs: 1000, marginMs: 50 });
            const grants: number[] = [];
            for (const gap of gaps) {
              clock.now += gap;
              if (isGranted(await l.acquire('create'))) grants.push(clock.now);
            }
            expect(maxInAnyWindow(grants, 1050)).toBeLessThanOrEqual(limit);
          },
        ),
        { numRuns: 60 },
      );
    });

    it('When callers wait as told, then the budget is used: limit per (window + margin)', async () => {
      const { l, clock } = limiter({ limit: 20, windowMs: 2000, marginMs: 20, burst: 3 });
      const start = clock.now;
      const grants: number[] = [];
      while (clock.now < start + 10 * 2000) {
        const p = await l.acquire('create');
        if (isGranted(p)) grants.push(clock.now);
        else clock.now += p.retryInMs;
      }
      // 20 per 2020 ms is 99 % of 20 per 2000 ms; the first window's burst adds at most 2.
      expect(grants.length).toBeGreaterThanOrEqual(Math.floor(10 * 20 * (2000 / 2020)));
      expect(grants.length).toBeLessThanOrEqual(10 * 20);
      expect(maxInAnyWindow(grants, 2020)).toBeLessThanOrEqual(20);
    });
  });

  describe("Persona's headers", () => {
    it('When a 429 arrives, then every caller is blocked until the announced reset (to the end of its last second) and then served again', async () => {
      const { l, clock } = limiter({ windowMs: 60_000 });
      const blockedFor = await l.observe({
        status: 429,
        limit: 10,
        remaining: 0,
        resetSeconds: 7,
        kind: 'rate_limited',
      });
      expect(blockedFor).toBe(8000);
      expect(await l.acquire('create')).toMatchObject({
        kind: 'denied',
        reason: 'blocked',
        retryInMs: 8000,
      });
      expect(await l.acquire('background')).toMatchObject({ kind: 'denied', reason: 'blocked' });
      clock.now += 8000;
      expect(isGranted(await l.acquire('create'))).toBe(true);
      expect((await l.stats()).seen429).toBe(1);
    });

    it("When a 429 has no reset header, then the fleet pauses 5 s (the first step of Persona's backoff advice)", async () => {
      const { l } = limiter({ windowMs: 60_000 });
      expect(await l.observe({ status: 429, kind: 'rate_limited' })).toBe(5000);
    });

    it('When Persona says fewer remain than we would send before its reset, then grants spread over what is left', async () => {
      const { l } = limiter({ limit: 600, windowMs: 60_000 });
      // The reset is 9-10 s away and 4 remain: spread over the earliest (9 s), 2.25 s apart,
      // not 100 ms apart.
      await l.observe({ status: 200, limit: 600, remaining: 4, resetSeconds: 10 });
      expect(isGranted(await l.acquire('create'))).toBe(true);
      const next = await l.acquire('create');
      expect(next).toMatchObject({ kind: 'denied', reason: 'pacing' });
      expect(isGranted(next) ? 0 : next.retryInMs).toBe(2250);
    });

    it('When Persona says nothing remains, then calls wait for its reset', async () => {
      const { l, clock } = limiter({ windowMs: 60_000 });
      await l.observe({ status: 200, limit: 10, remaining: 0, resetSeconds: 3 });
      expect(await l.acquire('create')).toMatchObject({
        kind: 'denied',
        reason: 'remote',
        retryInMs: 3250,
      });
      clock.now += 3250;
      expect(isGranted(await l.acquire('create'))).toBe(true);
    });

    it('When answers of one window arrive out of order, then the smaller remaining wins; an older window is ignored', async () => {
      const { l, clock } = limiter({ limit: 100, windowMs: 60_000 });
      await l.observe({ status: 200, remaining: 50, resetSeconds: 30 });
      await l.observe({ status: 200, remaining: 60, resetSeconds: 30 });
      expect((await l.stats()).remote.remaining).toBe(50);
      clock.now += 31_000;
      await l.observe({ status: 200, remaining: 99, resetSeconds: 59 });
      expect((await l.stats()).remote.remaining).toBe(99);
      await l.observe({ status: 200, remaining: 10, resetSeconds: 1 }); // a late answer from the old window
      expect((await l.stats()).remote.remaining).toBe(99);
    });

    it('When a reset header is nonsense (an epoch, a day), then it is ignored rather than blocking for ever', async () => {
      const { l } = limiter({ windowMs: 60_000 });
      expect(
        await l.observe({
          status: 429,
          remaining: 0,
          resetSeconds: 1_700_000_000,
          kind: 'rate_limited',
        }),
      ).toBe(5000);
      expect(
        await l.observe({
          status: 429,
          kind: 'quota',
          product: 'transaction',
          quotaResetSeconds: 86_400,
        }),
      ).toBe(60_250);
    });

    it('When our own calls are still in flight, then a reading from a new window counts them as spent', async () => {
      const { l, clock } = limiter({ limit: 300, windowMs: 60_000, burst: 3 });
      for (let i = 0; i < 3; i++) expect(isGranted(await l.acquire('create'))).toBe(true);
      clock.now += 50;
      // This answer left 100 ms ago; the three grants above went out after it did.
      await l.observe({ status: 200, remaining: 10, resetSeconds: 30, latencyMs: 100 });
      expect((await l.stats()).remote.remaining).toBe(7);
    });

    it('When a slow answer from the same window arrives after a fresher one, then it neither resets the window nor raises the count', async () => {
      const { l, clock } = limiter({ limit: 300, windowMs: 60_000 });
      await l.observe({ status: 200, remaining: 40, resetSeconds: 20, latencyMs: 50 });
      const first = clock.now;
      clock.now += 2500;
      // Sent 3 s ago, when 23 s were left and more remained.
      await l.observe({ status: 200, remaining: 55, resetSeconds: 23, latencyMs: 3000 });
      const { remote } = await l.stats();
      expect(remote.remaining).toBe(40);
      expect(remote.resetAt).toBe(first + 20_250);
    });

    it('When Persona lowers the limit below what the window holds, then the wait lasts until enough grants have left', async () => {
      const { l, clock } = limiter({ limit: 4, windowMs: 1000, burst: 4 });
      const start = clock.now;
      for (let i = 0; i < 4; i++) {
        expect(isGranted(await l.acquire('create'))).toBe(true);
        clock.now += 10;
      }
      await l.observe({ status: 200, limit: 2 });
      // Grants at 0, 10, 20, 30 ms: a call fits under 2 once three have left (the one at 20 ms).
      expect(await l.acquire('create')).toMatchObject({
        kind: 'denied',
        reason: 'window',
        retryInMs: start + 20 + 1000 - clock.now,
      });
    });

    it("When Persona's limit is lower than ours, then Persona's is used", async () => {
      const { l } = limiter({ limit: 300, windowMs: 60_000, burst: 10 });
      await l.observe({ status: 200, limit: 2 });
      const granted = [];
      for (let i = 0; i < 5; i++) granted.push(isGranted(await l.acquire('create')));
      expect(granted.filter(Boolean)).toHaveLength(2);
      expect((await l.stats()).limit).toBe(2);
    });

    it('When a product quota is exceeded, then only that product waits for the quota reset', async () => {
      const { l, clock } = limiter({ windowMs: 60_000, burst: 5 });
      await l.observe({
        status: 429,
        kind: 'quota',
        product: 'transaction',
        quotaResetSeconds: 20,
      });
      expect(await l.acquire('create', 'transaction')).toMatchObject({
        kind: 'denied',
        reason: 'quota',
        retryInMs: 20_250,
      });
      // Lookups still go, and a quota-blocked creation does not hold slots against them.
      expect(isGranted(await l.acquire('background'))).toBe(true);
      expect(isGranted(await l.acquire('create'))).toBe(true);
      clock.now += 20_250;
      expect(isGranted(await l.acquire('create', 'transaction'))).toBe(true);
      expect((await l.stats()).seenQuota).toBe(1);
    });
  });

  describe('a scaled-down window', () => {
    it("When the window is shorter than a minute, then Persona's seconds shrink with it", async () => {
      const { l, clock } = limiter({ windowMs: 6000 });
      // A window is 60 of Persona's seconds: here one second is 100 ms.
      expect(
        await l.observe({ status: 429, remaining: 0, resetSeconds: 30, kind: 'rate_limited' }),
      ).toBe(3100);
      clock.now += 3100;
      expect(isGranted(await l.acquire('create'))).toBe(true);
    });
  });

  describe('priorities', () => {
    it('When creation is waiting for a slot, then background work waits behind it, and gets its turn once creation is idle', async () => {
      const { l, clock } = limiter({ limit: 10, windowMs: 1000 });
      expect(isGranted(await l.acquire('create'))).toBe(true);
      const waitCreate = await l.acquire('create');
      expect(waitCreate).toMatchObject({ kind: 'denied', reason: 'pacing', retryInMs: 100 });
      clock.now += 100;
      // The slot creation waited for is free now, but creation is still marked as waiting.
      expect(await l.acquire('background')).toMatchObject({ kind: 'denied', reason: 'priority' });
      expect(isGranted(await l.acquire('create'))).toBe(true);
      clock.now += 300;
      expect(isGranted(await l.acquire('background'))).toBe(true);
    });

    it('When creation waits all the time, then background work still gets its reserved slots per window, and no more', async () => {
      const { l, clock } = limiter({ limit: 10, windowMs: 1000, backgroundReserve: 2 });
      const grants: string[] = [];
      // Creation always wants a slot: it asks every 10 ms for two windows; background asks too.
      for (let t = 0; t < 2000; t += 10) {
        if (isGranted(await l.acquire('create'))) grants.push(`c${Math.floor(t / 1000)}`);
        if (isGranted(await l.acquire('background'))) grants.push(`b${Math.floor(t / 1000)}`);
        clock.now += 10;
      }
      for (const w of [0, 1]) {
        expect(grants.filter((g) => g === `b${w}`)).toHaveLength(2);
        expect(grants.filter((g) => g === `c${w}`).length).toBeGreaterThanOrEqual(7);
      }
    });

    it('When a 429 block ends with creation waiting, then creation goes first', async () => {
      const { l, clock } = limiter({ limit: 60, windowMs: 60_000 });
      await l.observe({ status: 429, remaining: 0, resetSeconds: 2, kind: 'rate_limited' });
      expect(await l.acquire('create')).toMatchObject({
        kind: 'denied',
        reason: 'blocked',
        retryInMs: 3000,
      });
      clock.now += 3000;
      expect(await l.acquire('background')).toMatchObject({ kind: 'denied', reason: 'priority' });
      expect(isGranted(await l.acquire('create'))).toBe(true);
    });
  });
});
