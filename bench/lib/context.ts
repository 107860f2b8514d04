import type { Mode } from './mode.ts';
import type { BenchRedis } from './redis.ts';
import type { Row } from './table.ts';

/** What every benchmark module gets from the orchestrator. */
export interface BenchContext {
  mode: Mode;
  redis: BenchRedis;
  /** Where the spawned processes' logs go. */
  logDir: string;
  /** The Persona simulator's API base URL (the workers need one even when they never call it). */
  simUrl: string;
  /** Extra node flags for our service processes (e.g. `--cpu-prof`). */
  serviceNodeArgs: string[];
  /** Progress, to stderr. */
  progress: (msg: string) => void;
}

export interface BenchResult {
  rows: Row[];
  /** Lines for the notes under the table. */
  notes?: string[];
}

/** The targets of each round, rotated by one per round: each goes first in turn. */
export const rotation = <T>(targets: readonly T[], round: number): T[] =>
  targets.map((_, i) => targets[(i + round) % targets.length]!);
