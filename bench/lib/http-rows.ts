import { commandMix, commandsPer } from './cost.ts';
import type { LoadResult } from './load.ts';
import type { NodeProcess } from './spawn.ts';
import { median, mib, ms, num } from './stats.ts';
import { pairedRatio, row, type Row } from './table.ts';

/** One HTTP benchmark: ours and the plain baseline, one result per round each. */
export interface HttpTarget {
  bench: string;
  ours: LoadResult[];
  plain: LoadResult[];
  /** The p99 target at this load, if any. */
  p99TargetMs: number | null;
}

const sum = (rs: LoadResult[], f: (r: LoadResult) => number) => rs.reduce((s, r) => s + f(r), 0);
const latency = (rs: LoadResult[]) =>
  `${ms(median(rs.map((r) => r.p50)))} / ${ms(median(rs.map((r) => r.p99)))}`;
const failures = (rs: LoadResult[]) =>
  `${num(sum(rs, (r) => r.errors))} / ${num(sum(rs, (r) => r.non2xx))} of ${num(sum(rs, (r) => r.ok + r.non2xx))}`;

/**
 * Rows of one HTTP benchmark: req/s with the ratio, p50/p99, CPU and Redis commands per
 * request, errors. `brief`: req/s, latency and the server's CPU only.
 */
export function httpRows(t: HttpTarget, brief = false): Row[] {
  const rps = pairedRatio(
    t.ours.map((r) => r.rps),
    t.plain.map((r) => r.rps),
  );
  const p99 = pairedRatio(
    t.ours.map((r) => r.p99),
    t.plain.map((r) => r.p99),
  );
  const oursP99 = median(t.ours.map((r) => r.p99));
  const errors = sum(t.ours, (r) => r.errors + r.non2xx);
  const rows = [
    row({
      bench: t.bench,
      metric: 'req/s (2xx)',
      ours: num(median(t.ours.map((r) => r.rps))),
      plain: num(median(t.plain.map((r) => r.rps))),
      ratio: rps.text,
      perRound: rps.perRound,
      target: '≥ 1.00x',
      met: rps.value >= 1,
    }),
    row({
      bench: t.bench,
      metric: 'latency p50 / p99',
      ours: latency(t.ours),
      plain: latency(t.plain),
      ratio: `p99 ${p99.text}`,
      perRound: p99.perRound,
      target: t.p99TargetMs === null ? '' : `p99 ≤ ${t.p99TargetMs} ms`,
      met: t.p99TargetMs === null ? null : oursP99 <= t.p99TargetMs,
    }),
    ...costRows(t),
    row({
      bench: t.bench,
      metric: 'errors / non-2xx (all rounds)',
      ours: failures(t.ours),
      plain: failures(t.plain),
      target: '0',
      met: errors === 0,
    }),
  ];
  return brief ? rows.slice(0, 3) : rows;
}

/** Peak RSS (VmHWM since the first measured round) of each process, against the plain one's. */
export function rssRows(bench: string, procs: Record<string, NodeProcess>): Row[] {
  const plain = procs.plain!.peakRss();
  return Object.entries(procs)
    .filter(([key]) => key !== 'plain')
    .map(([key, p]) => {
      const ours = p.peakRss();
      return row({
        bench,
        metric: `peak RSS, ${key === 'oursWarn' ? 'ours (warn)' : 'ours (info)'}`,
        ours: mib(ours),
        plain: mib(plain),
        ratio: `${(ours / plain).toFixed(2)}x`,
      });
    });
}

/** CPU per answered request (the server process, Redis) and Redis commands per request. */
function costRows(t: HttpTarget): Row[] {
  const per = (rs: LoadResult[], f: (r: LoadResult) => number) =>
    rs.map((r) => (r.cost && r.ok ? f(r) / r.ok : NaN));
  const serviceUs = (rs: LoadResult[]) => per(rs, (r) => r.cost!.serviceCpuMs * 1000);
  const redisUs = (rs: LoadResult[]) => per(rs, (r) => r.cost!.redisCpuMs * 1000);
  const commands = (rs: LoadResult[]) => per(rs, (r) => commandsPer(r.cost!, 1));
  const cpu = pairedRatio(serviceUs(t.ours), serviceUs(t.plain));
  const redis = pairedRatio(redisUs(t.ours), redisUs(t.plain));
  const cmds = pairedRatio(commands(t.ours), commands(t.plain));
  const us = (v: number[]) => `${num(median(v), 0)} µs`;
  return [
    row({
      bench: t.bench,
      metric: 'CPU per 2xx: server process',
      ours: us(serviceUs(t.ours)),
      plain: us(serviceUs(t.plain)),
      ratio: cpu.text,
      perRound: cpu.perRound,
    }),
    row({
      bench: t.bench,
      metric: 'CPU per 2xx: Redis',
      ours: us(redisUs(t.ours)),
      plain: us(redisUs(t.plain)),
      ratio: redis.text,
      perRound: redis.perRound,
    }),
    row({
      bench: t.bench,
      metric: 'Redis commands per 2xx (Lua inner calls included)',
      ours: num(median(commands(t.ours)), 1),
      plain: num(median(commands(t.plain)), 1),
      ratio: cmds.text,
      perRound: cmds.perRound,
    }),
  ];
}

/** The Redis command mix per request of the last round, ours and plain. */
export function mixNote(t: HttpTarget): string {
  const last = (rs: LoadResult[]) => rs[rs.length - 1]!;
  const mix = (r: LoadResult) => (r.cost && r.ok ? commandMix(r.cost, r.ok) : 'n/a');
  return `${t.bench}: Redis commands per request, ours: ${mix(last(t.ours))}; plain: ${mix(last(t.plain))}.`;
}
