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

/** Rows of one HTTP benchmark: req/s with the ratio, p50/p99, errors. */
export function httpRows(t: HttpTarget): Row[] {
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
  return [
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
    row({
      bench: t.bench,
      metric: 'errors / non-2xx (all rounds)',
      ours: failures(t.ours),
      plain: failures(t.plain),
      target: '0',
      met: errors === 0,
    }),
  ];
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
