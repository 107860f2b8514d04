/** Small statistics and formatting helpers for the benchmark tables. */

export const median = (values: readonly number[]): number => {
  const finite = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (finite.length === 0) return NaN;
  const mid = Math.floor(finite.length / 2);
  return finite.length % 2 ? finite[mid]! : (finite[mid - 1]! + finite[mid]!) / 2;
};

/** Nearest-rank quantile of an ascending list. */
export const quantile = (sorted: readonly number[], q: number): number =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! : NaN;

/** `1234567` → `1,234,567`; one decimal under 100. */
export const num = (v: number, digits?: number): string => {
  if (!Number.isFinite(v)) return 'n/a';
  const d = digits ?? (Math.abs(v) < 100 && !Number.isInteger(v) ? 1 : 0);
  return v.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
};

export const ms = (v: number): string =>
  Number.isFinite(v) ? `${num(v, v < 10 ? 1 : 0)} ms` : 'n/a';

export const ratio = (v: number): string => (Number.isFinite(v) ? `${v.toFixed(2)}x` : 'n/a');

export const mib = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;

export const bytes = (v: number): string =>
  Number.isFinite(v) ? `${num(Math.round(v), 0)} B` : 'n/a';

export const sleep = (msToWait: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, msToWait));
