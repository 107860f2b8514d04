import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { PersonaRateLimiter } from '../persona/rate-limit/persona-rate-limiter.ts';
import { METRIC_PREFIX } from './registry.ts';

/** What the Persona client reports of each call (see {@link PersonaClient}). */
export interface PersonaCallObserver {
  /** A call got an answer (`status`), or none (`status` is the network error code). */
  answered(endpoint: string, status: string, kind: string, seconds: number): void;
  /** The shared budget said wait; nothing was sent. */
  throttled(reason: string): void;
}

/** Persona calls by endpoint and status with their latency, and the budget's refusals. */
export function personaCallMetrics(registry: Registry): PersonaCallObserver {
  const calls = new Counter({
    name: `${METRIC_PREFIX}persona_calls_total`,
    help: 'Persona API calls, by endpoint and HTTP status (or network error code).',
    labelNames: ['endpoint', 'status'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: `${METRIC_PREFIX}persona_call_duration_seconds`,
    help: 'Latency of Persona API calls, by endpoint.',
    labelNames: ['endpoint'],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10],
    registers: [registry],
  });
  const limits = new Counter({
    name: `${METRIC_PREFIX}persona_limits_total`,
    help: "Persona's refusals for the budget: rate_limited (429) and quota_exceeded (429 or 403).",
    labelNames: ['kind'],
    registers: [registry],
  });
  const waits = new Counter({
    name: `${METRIC_PREFIX}limiter_waits_total`,
    help: 'Calls the fleet-wide limiter told to wait, by reason.',
    labelNames: ['reason'],
    registers: [registry],
  });
  return {
    answered(endpoint, status, kind, seconds) {
      calls.inc({ endpoint, status });
      duration.observe({ endpoint }, seconds);
      if (kind === 'rate_limited' || kind === 'quota_exceeded') limits.inc({ kind });
    },
    throttled(reason) {
      waits.inc({ reason });
    },
  };
}

/**
 * The limiter's shared view (one source: only the metrics leader reports it): slots used
 * and left in the rolling window, Persona's last `RateLimit-*` headers, quota blocks.
 */
export function limiterViewMetrics(
  registry: Registry,
  limiter: PersonaRateLimiter,
  isLeader: () => boolean,
): void {
  const gauge = (name: string, help: string, labelNames: string[] = []) =>
    new Gauge({ name: `${METRIC_PREFIX}${name}`, help, labelNames, registers: [registry] });
  const used = gauge('limiter_slots_used', 'Persona calls granted in the rolling window.');
  const left = gauge('limiter_slots_left', 'Persona calls still allowed in the rolling window.');
  const header = gauge(
    'persona_ratelimit',
    "Persona's last RateLimit-Limit, -Remaining and -Reset (seconds), by header.",
    ['header'],
  );
  const quota = gauge(
    'persona_quota_blocked_seconds',
    "Seconds left of a quota block on a product's creation (0 when none).",
    ['product'],
  );
  // One collect fills every gauge from a single read of the limiter's state.
  new Gauge({
    name: `${METRIC_PREFIX}limiter_view_age_seconds`,
    help: 'Seconds since Persona last answered a call (its headers are that old).',
    registers: [registry],
    async collect() {
      for (const g of [used, left, header, quota]) g.reset();
      this.reset();
      if (!isLeader()) return;
      const s = await limiter.stats();
      used.set(s.inWindow);
      left.set(s.slotsLeft);
      const h = s.remote.lastHeaders;
      if (h.limit !== null) header.set({ header: 'limit' }, h.limit);
      if (h.remaining !== null) header.set({ header: 'remaining' }, h.remaining);
      if (h.reset !== null) header.set({ header: 'reset' }, h.reset);
      const now = Date.now();
      for (const [product, until] of Object.entries(s.quotaBlockedUntil)) {
        quota.set({ product }, Math.max(0, (until - now) / 1000));
      }
      if (s.remote.lastSeenAt !== null) this.set((now - s.remote.lastSeenAt) / 1000);
    },
  });
}
