import { afterEach, describe, expect, it } from 'vitest';
import { personaSignature, type SimEvent } from '@pp/persona-sim';
import { catalog, redisKeys, requestIdFromTags } from '@pp/shared';
import { eventually } from '@pp/testing';
import {
  FLEET_TOKEN,
  FLEET_WEBHOOK_SECRET,
  startFleet,
  transactionBody,
  type Fleet,
} from './fleet.ts';

/** The services' Redis deadline (their default, set here so the bound below names it). */
const REDIS_DEADLINE_MS = 2000;
/** What a loaded two-core machine may add to an answer; far below what a hang would take. */
const MARGIN_MS = 1500;
/** A fetch still open after this has hung; it is cut and recorded as such. */
const HANG_MS = 15_000;
const TICK_MS = 100;

interface Answer {
  kind: 'post' | 'webhook';
  /** The Idempotency-Key (= reference id) of a POST, the event id of a delivery. */
  key: string;
  sentAt: number;
  answeredAt: number;
  /** HTTP status, or `hang` / the error's code when no answer came. */
  status: number | string;
  /** The request id of a POST answered 202. */
  id?: string;
}

/** An event as Persona delivers it (kebab-case, the default inflection), re-sent by the test. */
const deliveryBody = (e: SimEvent) =>
  JSON.stringify({
    data: {
      type: 'event',
      id: e.id,
      attributes: {
        name: e.name,
        payload: { data: e.object, included: e.included },
        'created-at': e.createdAt,
      },
    },
  });

async function timed(
  kind: Answer['kind'],
  key: string,
  send: (signal: AbortSignal) => Promise<Response>,
): Promise<Answer> {
  const sentAt = Date.now();
  try {
    const res = await send(AbortSignal.timeout(HANG_MS));
    const text = await res.text();
    const id = res.status === 202 ? (JSON.parse(text) as { id: string }).id : undefined;
    return { kind, key, sentAt, answeredAt: Date.now(), status: res.status, ...(id ? { id } : {}) };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    const status = e.name === 'TimeoutError' ? 'hang' : (e.cause?.code ?? e.name);
    return { kind, key, sentAt, answeredAt: Date.now(), status };
  }
}

/** What became of a missing event: its job, its marks, and every log line naming it. */
async function explain(f: Fleet, eventId: string): Promise<string> {
  const keys = redisKeys(f.prefix);
  const job = `${f.prefix}:${catalog.personaEvents.name}:${eventId}`;
  const facts = {
    job: await f.client.hgetall(job),
    gate: await f.client.get(keys.eventGate(eventId)),
    done: await f.client.exists(keys.eventDone(eventId)),
  };
  const lines = f
    .logText()
    .split('\n')
    .filter((l) => l.includes(eventId));
  return JSON.stringify(facts) + '\n' + lines.join('\n');
}

describe('fault: Redis SIGKILLed and restarted from its append-only file under load', () => {
  let fleet: Fleet | undefined;
  afterEach(async () => {
    await fleet?.close();
    fleet = undefined;
  });

  it('When Redis is killed mid-load and restarted from its AOF, then every 202 and 200 given before is processed, the outage is answered 503 within the deadline, and 503s retried with their key end in exactly one transaction', async () => {
    fleet = await startFleet({
      workers: 2,
      // A job Redis moved to active in the instant of the kill, its reply lost with the
      // connection, has no worker: BullMQ's stalled-job check takes it over once its lock
      // lapses (by default up to 30 s + 2 × 30 s; scaled down here, as in worker-kills).
      workerEnv: {
        PERSONA_TIMEOUT_MS: '2000',
        WORKER_LOCK_DURATION_MS: '4000',
        WORKER_STALLED_INTERVAL_MS: '1000',
      },
      gatewayEnv: { GATEWAY_REDIS_TIMEOUT_MS: String(REDIS_DEADLINE_MS) },
      receiverEnv: { WEBHOOK_REDIS_TIMEOUT_MS: String(REDIS_DEADLINE_MS) },
    });
    const f = fleet;
    // The test's own connection loses its Redis too; it reconnects by itself.
    f.client.on('error', () => {});
    // Persona's retries, scaled down but outlasting the outage, so that every event the
    // simulator sends ends delivered.
    f.sim.webhooks.configure({
      url: `${f.receiverUrl}/webhooks/persona`,
      secrets: [FLEET_WEBHOOK_SECRET],
      retryDelaysMs: [500, 1000, 2000, 4000, 8000, 16_000],
    });

    const post = (ref: string) =>
      timed('post', ref, (signal) =>
        fetch(`${f.gatewayUrl}/v1/transactions`, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${FLEET_TOKEN}`,
            'content-type': 'application/json',
            'idempotency-key': ref,
          },
          body: JSON.stringify(transactionBody(ref)),
          signal,
        }),
      );
    // Our own deliveries: the simulator's latest events sent again, signed as Persona signs.
    const deliver = (e: SimEvent) =>
      timed('webhook', e.id, (signal) => {
        const raw = deliveryBody(e);
        return fetch(`${f.receiverUrl}/webhooks/persona`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'persona-signature': personaSignature(
              raw,
              [FLEET_WEBHOOK_SECRET],
              Math.floor(Date.now() / 1000),
            ),
          },
          body: raw,
          signal,
        });
      });

    // Steady load: a POST and a delivery every tick, none waiting for another's answer.
    const pending: Promise<Answer>[] = [];
    let loading = true;
    let n = 0;
    const load = (async () => {
      while (loading) {
        pending.push(post(`crash-${n}`));
        const latest = f.sim.events.at(-1 - (n % 5));
        if (latest) pending.push(deliver(latest));
        n++;
        await new Promise((r) => setTimeout(r, TICK_MS));
      }
    })();
    const ready = async (url: string) =>
      (await fetch(`${url}/readyz`).catch(() => null))?.status === 200;

    // Mid-load, once webhooks are flowing: SIGKILL, a few seconds away, restart.
    await eventually(() => f.sim.webhooks.deliveries.filter((d) => d.delivered).length >= 100, {
      timeoutMs: 30_000,
      what: '100 webhooks delivered before the kill',
    });
    // Counted at the kill itself (a delivery's time and the kill's can share a millisecond).
    const deliveredBeforeKill = f.sim.webhooks.deliveries.filter((d) => d.delivered).length;
    const killAt = Date.now();
    await f.redis.kill();
    const deadAt = Date.now();
    await new Promise((r) => setTimeout(r, 4000));
    const restartAt = Date.now();
    await f.redis.restart();
    // The services reconnect by themselves (no process is restarted).
    await eventually(async () => (await ready(f.gatewayUrl)) && (await ready(f.receiverUrl)), {
      timeoutMs: 20_000,
      intervalMs: 100,
      what: 'the gateway and the receiver ready again',
    });
    await new Promise((r) => setTimeout(r, 1000));
    loading = false;
    await load;
    const answers = await Promise.all(pending);
    await eventually(() => f.client.status === 'ready', { what: "the test's Redis connection" });

    // Nothing hung: whatever was sent from the kill until the services were back was
    // answered, within the deadline plus the margin, with 200/202 (stored before the kill)
    // or 503; everything sent while Redis was down got 503.
    const risky = answers.filter((a) => a.answeredAt >= killAt);
    const slowest = Math.max(...risky.map((a) => a.answeredAt - a.sentAt));
    expect(risky.filter((a) => typeof a.status !== 'number')).toEqual([]);
    expect(slowest).toBeLessThan(REDIS_DEADLINE_MS + MARGIN_MS);
    const duringOutage = answers.filter((a) => a.sentAt > deadAt && a.answeredAt < restartAt);
    expect(duringOutage.filter((a) => a.status !== 503)).toEqual([]);
    expect(duringOutage.filter((a) => a.kind === 'post').length).toBeGreaterThanOrEqual(10);
    expect(duringOutage.filter((a) => a.kind === 'webhook').length).toBeGreaterThanOrEqual(10);
    expect(answers.filter((a) => ![200, 202, 503].includes(a.status as number))).toEqual([]);

    // Every 503 retried as a client must, with the same Idempotency-Key (or the same event):
    // stored now, exactly once.
    const posts = answers.filter((a) => a.kind === 'post');
    const refused = posts.filter((a) => a.status === 503);
    const retried = await Promise.all(refused.map((a) => post(a.key)));
    expect(retried.filter((a) => a.status !== 202)).toEqual([]);
    // A delivery answered 503 while Redis restarts is retried as Persona retries, until it
    // is stored.
    const deliverUntilStored = async (e: SimEvent) => {
      for (let attempt = 1; ; attempt++) {
        const answer = await deliver(e);
        if (answer.status !== 503 || attempt === 20) return answer;
        await new Promise((r) => setTimeout(r, 1000));
      }
    };
    const redelivered = await Promise.all(
      answers
        .filter((a) => a.kind === 'webhook' && a.status === 503)
        .map((a) => deliverUntilStored(f.sim.events.find((e) => e.id === a.key)!)),
    );
    expect(redelivered.filter((a) => a.status !== 200)).toEqual([]);

    // Every request is submitted with exactly one Persona transaction: those answered 202
    // before the kill, those answered 503 and retried.
    const accepted = [...posts, ...retried].filter((a) => a.status === 202);
    const ids = new Map(accepted.map((a) => [a.key, a.id!]));
    expect(ids.size).toBe(posts.length);
    expect(posts.filter((a) => a.status === 202 && a.answeredAt < killAt).length).toBeGreaterThan(
      20,
    );
    await f.waitSettled([...ids.values()], 60_000);
    const statuses = await f.statuses([...ids.values()]);
    expect([...statuses.entries()].filter(([, s]) => s !== 'submitted')).toEqual([]);
    for (const ref of ids.keys()) expect(f.sim.transactionsFor(ref), ref).toHaveLength(1);
    expect(f.sim.transactions.size).toBe(ids.size);

    // Every delivery answered 200 (the simulator's and ours, before the kill and after the
    // restart) is applied: its event is in its request's history, read through the gateway.
    const requestOf = (e: SimEvent) => {
      const rel = e.object.relationships?.transaction as { data?: { id?: string } } | undefined;
      const txnId = e.object.type === 'transaction' ? e.object.id : rel?.data?.id;
      return requestIdFromTags(f.sim.transactions.get(txnId ?? '')?.tags);
    };
    const stored = new Set([
      ...f.sim.webhooks.deliveries.filter((d) => d.delivered).map((d) => d.eventId),
      ...answers.filter((a) => a.kind === 'webhook' && a.status === 200).map((a) => a.key),
    ]);
    expect(deliveredBeforeKill).toBeGreaterThanOrEqual(100);
    const expected = new Map<string, string[]>();
    for (const e of f.sim.events.filter((ev) => stored.has(ev.id))) {
      const id = requestOf(e);
      expect(id, `request of ${e.id}`).not.toBeNull();
      expected.set(id!, [...(expected.get(id!) ?? []), e.id]);
    }
    const missingEvents = async () => {
      const missing: string[] = [];
      for (const [id, eventIds] of expected) {
        const res = await fetch(`${f.gatewayUrl}/v1/transactions/${id}`, {
          headers: { authorization: `Bearer ${FLEET_TOKEN}` },
        });
        const view = (await res.json()) as { events: { event_id: string }[] };
        const seen = new Set(view.events.map((e) => e.event_id));
        missing.push(...eventIds.filter((e) => !seen.has(e)));
      }
      return missing;
    };
    await eventually(async () => (await missingEvents()).length === 0, {
      timeoutMs: 30_000,
      intervalMs: 500,
      what: 'every event answered 200 to be in its request history',
    }).catch(async (err: unknown) => {
      const missing = (await missingEvents()).slice(0, 5);
      throw new Error(`${String(err)}: ${missing.join(', ')}\n${await explain(f, missing[0]!)}`);
    });

    // Recovered without a restart: the processes started with the fleet are still running.
    for (const p of [f.gateway, f.receiver, ...f.workers]) {
      expect(p.proc.exitCode ?? p.proc.signalCode).toBeNull();
    }
    const takenOver = f.logText().match(/stalled job taken over/g)?.length ?? 0;
    console.info(
      `redis-crash: ${posts.length} requests (${refused.length} 503 then retried), ` +
        `${takenOver} stalled jobs taken over, ` +
        `${answers.length - posts.length} own deliveries, ${deliveredBeforeKill} simulator deliveries ` +
        `answered 200 before the kill, slowest answer after the kill ${slowest} ms`,
    );
  });
});
