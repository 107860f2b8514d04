/**
 * Benchmark 1: `POST /v1/transactions` on the gateway (auth, validation, idempotency,
 * durable record, enqueue) against the plain Express handler (zod, awaited queue.add), at
 * 50 and 200 connections. Every request has its own Idempotency-Key and reference.
 */
import { withCost } from './lib/cost.ts';
import { rotation, type BenchContext, type BenchResult } from './lib/context.ts';
import { GATEWAY_TOKEN, runTag, transactionBody } from './lib/fixtures.ts';
import { hammer, type LoadResult } from './lib/load.ts';
import { resetPeakRss } from './lib/rss.ts';
import { startGateway, startPlain } from './lib/services.ts';
import { stopAll, type NodeProcess } from './lib/spawn.ts';
import { httpRows, mixNote, rssRows, type HttpTarget } from './lib/http-rows.ts';

const CONNECTIONS = [50, 200];

export async function gatewayBench(ctx: BenchContext): Promise<BenchResult> {
  const { mode } = ctx;
  const procs: Record<string, NodeProcess> = {
    ours: await startGateway(ctx, 'gateway-info', 'info'),
    plain: startPlain(ctx, 'plain-gateway', 'plain-gateway'),
  };
  if (mode.warnVariant) procs.oursWarn = await startGateway(ctx, 'gateway-warn', 'warn');
  try {
    const urls = Object.fromEntries(
      await Promise.all(Object.entries(procs).map(async ([k, p]) => [k, await p.url()] as const)),
    );
    const load = async (key: string, connections: number, seconds: number) => {
      await ctx.redis.flush();
      const tag = runTag();
      const { result, cost } = await withCost(ctx.redis, [procs[key]!.pid], () =>
        hammer({
          url: urls[key]!,
          path: '/v1/transactions',
          connections,
          seconds,
          headers: { authorization: `Bearer ${GATEWAY_TOKEN}`, 'content-type': 'application/json' },
          next: (i) => ({
            body: transactionBody(tag, i),
            headers: { 'idempotency-key': `bench-${tag}-${i}` },
          }),
        }),
      );
      return { ...result, cost };
    };

    for (const key of Object.keys(procs)) await load(key, 50, mode.warmupSeconds);
    for (const p of Object.values(procs)) resetPeakRss(p.pid);

    const results = new Map<string, LoadResult[]>();
    for (let round = 0; round < mode.rounds; round++) {
      for (const connections of CONNECTIONS) {
        const keys = Object.keys(procs).filter((k) => k !== 'oursWarn' || connections === 50);
        for (const key of rotation(keys, round)) {
          ctx.progress(
            `gateway round ${round + 1}/${mode.rounds}: ${key} at ${connections} connections`,
          );
          const id = `${key}@${connections}`;
          results.set(id, [
            ...(results.get(id) ?? []),
            await load(key, connections, mode.loadSeconds),
          ]);
        }
      }
    }

    const targets: HttpTarget[] = CONNECTIONS.map((c) => ({
      bench: `1. Gateway POST /v1/transactions, ${c} conns`,
      ours: results.get(`ours@${c}`)!,
      plain: results.get(`plain@${c}`)!,
      p99TargetMs: c === 50 ? 15 : null,
    }));
    if (procs.oursWarn) {
      targets.push({
        bench: '1. Gateway, 50 conns, ours at LOG_LEVEL=warn',
        ours: results.get('oursWarn@50')!,
        plain: results.get('plain@50')!,
        p99TargetMs: 15,
      });
    }
    return {
      rows: [
        ...targets.flatMap((t, i) => httpRows(t, i === 2)),
        ...rssRows('4. Peak RSS under load 1 (gateway)', procs),
      ],
      notes: [mixNote(targets[0]!)],
    };
  } finally {
    await stopAll(Object.values(procs));
  }
}
