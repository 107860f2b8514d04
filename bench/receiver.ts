/**
 * Benchmark 2: `POST /webhooks/persona` on the receiver (signature, envelope, the
 * dedupe gate, durable enqueue) against the plain receiver (raw body, HMAC, JSON.parse,
 * awaited queue.add with the event id as job id), at 50 connections. Each request is a
 * distinct event, signed beforehand.
 */
import { withCost } from './lib/cost.ts';
import { rotation, type BenchContext, type BenchResult } from './lib/context.ts';
import { signedEvents } from './lib/fixtures.ts';
import { httpRows, mixNote, rssRows, type HttpTarget } from './lib/http-rows.ts';
import { hammer, type LoadResult } from './lib/load.ts';
import { resetPeakRss } from './lib/rss.ts';
import { startPlain, startReceiver } from './lib/services.ts';
import { stopAll, type NodeProcess } from './lib/spawn.ts';

const CONNECTIONS = 50;
/** Distinct events per run: enough for the fastest server; Redis is flushed before each run. */
const eventsPerSecond = 12_000;

export async function receiverBench(ctx: BenchContext): Promise<BenchResult> {
  const { mode } = ctx;
  const events = signedEvents(Math.max(mode.loadSeconds, mode.warmupSeconds) * eventsPerSecond);
  const procs: Record<string, NodeProcess> = {
    ours: await startReceiver(ctx, 'receiver-info', 'info'),
    plain: startPlain(ctx, 'plain-receiver', 'plain-receiver'),
  };
  if (mode.warnVariant) procs.oursWarn = await startReceiver(ctx, 'receiver-warn', 'warn');
  let wrapped = 0;
  try {
    const urls = Object.fromEntries(
      await Promise.all(Object.entries(procs).map(async ([k, p]) => [k, await p.url()] as const)),
    );
    const load = async (key: string, seconds: number) => {
      await ctx.redis.flush();
      const { result, cost } = await withCost(ctx.redis, [procs[key]!.pid], () =>
        hammer({
          url: urls[key]!,
          path: '/webhooks/persona',
          connections: CONNECTIONS,
          seconds,
          headers: { 'content-type': 'application/json', 'persona-webhook-attempts-made': '1' },
          next: (i) => {
            if (i >= events.length) wrapped++;
            const e = events[i % events.length]!;
            return { body: e.body, headers: { 'persona-signature': e.signature } };
          },
        }),
      );
      return { ...result, cost };
    };

    for (const key of Object.keys(procs)) await load(key, mode.warmupSeconds);
    for (const p of Object.values(procs)) resetPeakRss(p.pid);
    wrapped = 0;

    const results = new Map<string, LoadResult[]>();
    for (let round = 0; round < mode.rounds; round++) {
      for (const key of rotation(Object.keys(procs), round)) {
        ctx.progress(`receiver round ${round + 1}/${mode.rounds}: ${key}`);
        results.set(key, [...(results.get(key) ?? []), await load(key, mode.loadSeconds)]);
      }
    }
    const main: HttpTarget = {
      bench: `2. Receiver POST /webhooks/persona, ${CONNECTIONS} conns`,
      ours: results.get('ours')!,
      plain: results.get('plain')!,
      p99TargetMs: 15,
    };
    const rows = httpRows(main);
    if (procs.oursWarn) {
      rows.push(
        ...httpRows(
          {
            bench: `2. Receiver, ${CONNECTIONS} conns, ours at LOG_LEVEL=warn`,
            ours: results.get('oursWarn')!,
            plain: results.get('plain')!,
            p99TargetMs: 15,
          },
          true,
        ),
      );
    }
    rows.push(...rssRows('4. Peak RSS under load 2 (receiver)', procs));
    return {
      rows,
      notes: [
        mixNote(main),
        ...(wrapped
          ? [
              `receiver: ${wrapped} requests reused an event of the same run (pool of ${events.length})`,
            ]
          : []),
      ],
    };
  } finally {
    await stopAll(Object.values(procs));
  }
}
