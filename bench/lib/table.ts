import { median, ratio } from './stats.ts';

/** One line of the results table. */
export interface Row {
  bench: string;
  metric: string;
  ours: string;
  plain: string;
  /** Median over rounds of ours/plain, formatted; '' where no ratio applies. */
  ratio: string;
  /** The ratio of each round, formatted. */
  perRound: string;
  target: string;
  /** Whether the target is met; null: no target. */
  met: boolean | null;
}

export const row = (r: Partial<Row> & Pick<Row, 'bench' | 'metric' | 'ours'>): Row => ({
  plain: '',
  ratio: '',
  perRound: '',
  target: '',
  met: null,
  ...r,
});

/** Median ratio of paired rounds, and each round's ratio. */
export function pairedRatio(ours: readonly number[], plain: readonly number[]) {
  const each = ours.map((o, i) => o / plain[i]!);
  return {
    value: median(each),
    text: ratio(median(each)),
    perRound: each.map((v) => v.toFixed(2)).join(' · '),
  };
}

const HEADER = [
  'Benchmark',
  'Metric',
  'Ours',
  'Plain',
  'Ours / plain',
  'Per round',
  'Target',
  'Met',
];

export function markdownTable(rows: readonly Row[]): string {
  const cells = rows.map((r) => [
    r.bench,
    r.metric,
    r.ours,
    r.plain,
    r.ratio,
    r.perRound,
    r.target,
    r.met === null ? '' : r.met ? 'yes' : '**no**',
  ]);
  const widths = HEADER.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => `| ${c.map((x, i) => x.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(HEADER), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}
