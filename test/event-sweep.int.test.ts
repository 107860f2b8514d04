import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually, maxInAnyWindow, REDIS_URL } from '@pp/testing';
import { startPipeline, type Pipeline } from './harness.ts';

/**
 * The event-stream sweep: events lost after we answered 200 come back from Persona's
 * `GET /events`, within the sweep's share of the budget.
 */

let p: Pipeline | undefined;
afterEach(async () => {
  await p?.close();
  p = undefined;
});

async function create(ref: string): Promise<string> {
  const res = await p!.post({
    transaction_type_id: 'txntp_KYC123',
    fields: { name_first: 'Christine', name_last: 'Darden' },
    reference_id: ref,
  });
  expect(res.status).toBe(202);
  return ((await res.json()) as { id: string }).id;
}

const isSweep = (path: string) => path.startsWith('/api/v1/events?filter%5Bname%5D=');

describe('the event-stream sweep', () => {
  it('When Redis loses an event after the receiver answered 200, then the sweep brings it back and the decision fans out once', async () => {
    p = await startPipeline({
      // Persona's lists show an event 1.5 s after it happened: the loss below comes first.
      sim: { decisionDelayMs: 100, listLagMs: 1500 },
      workers: {
        EVENT_SWEEP_INTERVAL_MS: '300',
        PERSONA_LIST_LAG_MS: '2500',
        // Reconciliation stays out of it: only the sweep can recover the event.
        RECONCILE_AFTER_MS: '3600000',
      },
    });
    const events = p.queue('persona-events');
    await events.pause();
    const id = await create('lost-after-200');
    const decision = await eventually(
      () => p!.sim.events.find((e) => e.name === 'transaction.status-updated'),
      { what: 'the decision at Persona' },
    );
    await eventually(
      () => p!.sim.webhooks.deliveries.some((d) => d.eventId === decision.id && d.delivered),
      { what: 'the decision answered 200' },
    );
    // What AOF `everysec` loses in a crash: the stored job and the gate's memory of it.
    const redis = new Redis(REDIS_URL);
    try {
      expect(await events.remove(decision.id)).toBe(1);
      expect(await redis.del(`${p.prefix}:evtgate:${decision.id}`)).toBe(1);
    } finally {
      redis.disconnect();
    }
    await events.resume();

    const v = await p.until(id, (x) => x.persona_status === 'approved', 'approved by the sweep');
    expect(v.events.find((e) => e.event_id === decision.id)).toMatchObject({ applied: true });
    await eventually(async () => (await p!.jobsIn('actions-approve')).length === 1, {
      what: 'the approve job',
    });
    expect(p.sim.requests.some((r) => isSweep(r.path))).toBe(true);
    expect(p.sim.webhooks.deliveries.filter((d) => d.eventId === decision.id)).toHaveLength(1);
  });

  it('When creation saturates the budget, then the sweep keeps its 5% share and no more', async () => {
    const windowMs = 6000;
    p = await startPipeline({
      sim: { decisionDelayMs: 100, rateLimit: { limit: 100, windowMs } },
      workers: {
        PERSONA_RATE_LIMIT_PER_MINUTE: '100',
        PERSONA_RATE_LIMIT_WINDOW_MS: String(windowMs),
        PERSONA_RATE_LIMIT_MARGIN_MS: '100',
        // 5 % of 100 a window: one page per 1.2 s run, five per window.
        EVENT_SWEEP_INTERVAL_MS: '1200',
        EVENT_SWEEP_BUDGET_SHARE: '0.05',
        PERSONA_LIST_LAG_MS: '0',
        RECONCILE_AFTER_MS: '3600000',
      },
    });
    const ids = await Promise.all(Array.from({ length: 200 }, (_, i) => create(`load-${i}`)));
    await p.waitForJobs(ids, 60_000);

    const counted = p.sim.requests.filter((r) => r.counted);
    const creates = counted.filter((r) => r.method === 'POST');
    const from = creates[0]!.at;
    const to = creates[creates.length - 1]!.at;
    const during = counted.filter((r) => r.at >= from && r.at <= to);
    const sweep = during.filter((r) => isSweep(r.path));
    const share = sweep.length / during.length;
    const perWindow = (sweep.length * windowMs) / (to - from);
    console.log(
      `event sweep under full creation load: ${sweep.length} of ${during.length} calls in ${to - from} ms ` +
        `(${(share * 100).toFixed(1)} %, ${perWindow.toFixed(1)} per ${windowMs} ms window, ` +
        `at most ${maxInAnyWindow(
          sweep.map((r) => r.at),
          windowMs,
        )} in any window); ${p.sim.events.length} events at Persona`,
    );
    // Its share: one page per run, five runs a window (a window may hold the start of a sixth).
    expect(share).toBeLessThanOrEqual(0.055);
    expect(
      maxInAnyWindow(
        sweep.map((r) => r.at),
        windowMs,
      ),
    ).toBeLessThanOrEqual(6);
    // Not starved: it reads its pages while creation is saturated.
    expect(perWindow).toBeGreaterThanOrEqual(3);
    expect(p.sim.requests.filter((r) => r.status === 429)).toEqual([]);
  });
});
