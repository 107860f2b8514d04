import { Queue } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { NO_FAULTS, type Faults } from '@pp/persona-sim';
import { catalog } from '@pp/shared';
import { eventually, seededRandom } from '@pp/testing';
import { startFleet, transactionBody, type Fleet } from './fleet.ts';

/** Each of the outage's three phases. */
const PHASE_MS = 40_000;
const TIMEOUT_MS = 2000;
/** A request arrives at the gateway this often, before, during and just after the outage. */
const ARRIVAL_MS = 1000;
const ATTEMPTS = catalog.transactionCreate.jobOptions.attempts;

describe('fault: Persona down for two minutes (5xx, hangs, resets), then back', () => {
  let fleet: Fleet | undefined;
  let queue: Queue | undefined;
  afterEach(async () => {
    await queue?.close();
    queue = undefined;
    await fleet?.close();
    fleet = undefined;
  });

  it('When Persona answers 5xx, then hangs past the timeout, then resets connections for two minutes while requests keep arriving, then once it is back every request has exactly one transaction, no job ran out of attempts and the queue drains', async () => {
    fleet = await startFleet({
      sim: { random: seededRandom(20260821) },
      workers: 2,
      workerEnv: {
        WORKER_CONCURRENCY: '16',
        PERSONA_TIMEOUT_MS: String(TIMEOUT_MS),
        // Backoff of a few seconds: a job makes tens of attempts in the outage (60 allowed).
        PERSONA_RETRY_BASE_MS: '500',
        PERSONA_RETRY_CAP_MS: '8000',
      },
    });
    const f = fleet;
    queue = new Queue(catalog.transactionCreate.name, {
      connection: { host: '127.0.0.1', port: f.redis.port },
      prefix: f.prefix,
    });

    // Requests arrive steadily from 5 s before the outage until 5 s after it.
    const ids = new Map<string, string>();
    let arriving = true;
    const arrivals = (async () => {
      for (let n = 0; arriving; n++) {
        const ref = `outage-${n}`;
        const res = await f.post(transactionBody(ref), { 'idempotency-key': ref });
        expect(res.status).toBe(202);
        ids.set(ref, ((await res.json()) as { id: string }).id);
        await new Promise((r) => setTimeout(r, ARRIVAL_MS));
      }
    })();
    // The outage is the scenario: each phase lasts its time, whatever happens meanwhile.
    const phase = async (faults: Partial<Faults>, ms: number) => {
      f.sim.faults = { ...NO_FAULTS, ...faults };
      const at = Date.now();
      await new Promise((r) => setTimeout(r, ms));
      return { from: at, to: Date.now() };
    };
    await phase({}, 5000);
    // Persona sends no webhooks while it is down, so a transaction hidden by a 500 is found
    // by the workers' search for it, not linked by its own event.
    f.sim.loseWebhooks = () => true;
    const errors = await phase({ serverErrorRate: 1, serverErrorAfterCreateShare: 0.3 }, PHASE_MS);
    const hangs = await phase({ latencyRate: 1, latencyMs: 5 * TIMEOUT_MS }, PHASE_MS);
    const resets = await phase({ resetRate: 1 }, PHASE_MS);
    f.sim.loseWebhooks = null;
    await phase({}, 5000);
    arriving = false;
    await arrivals;

    // The faults happened, each in its phase (the millisecond a phase began in and the one it
    // ended in may hold calls of its neighbour, so neither counts).
    const during = (p: { from: number; to: number }) =>
      f.sim.requests.filter((r) => r.at > p.from && r.at < p.to);
    // 500s after which the transaction existed all the same: the duplicate risk.
    const created500 = f.sim.requests.filter(
      (r) =>
        r.method === 'POST' &&
        r.status === 500 &&
        !r.replay &&
        [...f.sim.transactions.values()].some((t) => t.idempotencyKey === r.idempotencyKey),
    );
    expect(during(errors).filter((r) => r.status === 500).length).toBeGreaterThan(100);
    expect(created500.length).toBeGreaterThan(0);
    // Calls that hung past the timeout (answered long after the worker gave up), the
    // workers' timeouts, and 409s for the keys whose call was still being processed.
    const hung = during(hangs).filter((r) => !r.replay && r.status !== 409);
    expect(hung.length).toBeGreaterThan(10);
    expect(f.logText().match(/"code":"ETIMEDOUT"/g)?.length ?? 0).toBeGreaterThan(10);
    expect(during(hangs).filter((r) => r.status === 409).length).toBeGreaterThan(0);
    expect(during(resets).filter((r) => r.status === 'reset').length).toBeGreaterThan(100);
    expect(during(resets).filter((r) => r.status !== 'reset')).toEqual([]);

    // Once Persona is back: every request submitted, with exactly one transaction.
    await f.waitSettled([...ids.values()], 120_000);
    const statuses = await f.statuses([...ids.values()]);
    expect([...statuses.entries()].filter(([, s]) => s !== 'submitted')).toEqual([]);
    for (const ref of ids.keys()) expect(f.sim.transactionsFor(ref), ref).toHaveLength(1);
    expect(f.sim.transactions.size).toBe(ids.size);
    // Each transaction a 500 hid was found by the search and adopted, not created again.
    expect(f.logText().match(/found the transaction a 5xx had hidden/g)).toHaveLength(
      created500.length,
    );

    // No job failed or ran out of attempts, and the queue drains.
    const q = queue;
    expect(await q.getJobCounts('failed')).toEqual({ failed: 0 });
    await eventually(
      async () => {
        const counts = await q.getJobCounts(
          'waiting',
          'prioritized',
          'delayed',
          'active',
          'waiting-children',
          'failed',
        );
        return Object.values(counts).every((c) => c === 0) ? counts : false;
      },
      { timeoutMs: 30_000, intervalMs: 250, what: 'the creation queue to drain' },
    );
    const completed = await q.getJobs(['completed'], 0, -1);
    expect(completed).toHaveLength(ids.size);
    const mostAttempts = Math.max(...completed.map((j) => j.attemptsMade));
    // Many attempts in the outage, and some left over.
    expect(mostAttempts).toBeGreaterThanOrEqual(10);
    expect(mostAttempts).toBeLessThan(ATTEMPTS);
    console.info(
      `persona-outage: ${ids.size} requests, ${f.sim.requests.length} Persona calls, ` +
        `${created500.length} transactions hidden by a 500, most attempts by a job ${mostAttempts}/${ATTEMPTS}`,
    );
  });
});
