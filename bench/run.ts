/**
 * `pnpm bench` (full, about 15 minutes) or `pnpm bench --quick` (under 3 minutes): starts
 * its own Redis on a free port and the Persona simulator, runs every benchmark in rounds
 * that alternate our services (separate processes, as production runs them) with plain
 * baselines, prints one markdown table and writes it to docs/benchmarks.md.
 *
 *   pnpm bench [--quick] [--only gateway,receiver,events,latency,memory,limiter] [--no-write]
 *              [--keep-logs] [--rounds N] [--backlog N] [--limiter-seconds N]
 *              [--event-concurrency N]
 *              [--fsync always|everysec]
 *
 * `--only` runs some benchmarks and never writes the docs; the last four override the
 * mode's sizes (the docs say which were used).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { format, resolveConfig } from 'prettier';
import { PersonaSimulator } from '@pp/persona-sim';
import { repoRoot } from '@pp/testing';
import { eventsBench } from './events.ts';
import { gatewayBench } from './gateway.ts';
import { latencyBench } from './latency.ts';
import type { BenchContext, BenchResult } from './lib/context.ts';
import { PERSONA_KEY } from './lib/fixtures.ts';
import { FULL, QUICK } from './lib/mode.ts';
import { BenchRedis, redisArgs } from './lib/redis.ts';
import { markdownTable, type Row } from './lib/table.ts';
import { limiterBench } from './limiter.ts';
import { memoryBench } from './memory.ts';
import { receiverBench } from './receiver.ts';

const BENCHES: Record<string, (ctx: BenchContext) => Promise<BenchResult>> = {
  gateway: gatewayBench,
  receiver: receiverBench,
  events: eventsBench,
  latency: latencyBench,
  memory: memoryBench,
  limiter: limiterBench,
};

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    'no-write': { type: 'boolean', default: false },
    'keep-logs': { type: 'boolean', default: false },
    rounds: { type: 'string' },
    backlog: { type: 'string' },
    'limiter-seconds': { type: 'string' },
    'event-concurrency': { type: 'string' },
    fsync: { type: 'string', default: 'always' },
  },
});
const override = (v: string | undefined, fallback: number) =>
  v === undefined ? fallback : Number(v);
const base = values.quick ? QUICK : FULL;
const mode = {
  ...base,
  rounds: override(values.rounds, base.rounds),
  backlog: override(values.backlog, base.backlog),
  limiterSeconds: override(values['limiter-seconds'], base.limiterSeconds),
  eventConcurrency: override(values['event-concurrency'], base.eventConcurrency),
};
const only = values.only?.split(',').map((s) => s.trim());
for (const name of only ?? []) {
  if (!BENCHES[name])
    throw new Error(`unknown benchmark ${name}; one of ${Object.keys(BENCHES).join(', ')}`);
}

const started = Date.now();
const loadAtStart = loadavg()[0]!;
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(0)} s`;
const progress = (msg: string) => process.stderr.write(`[${elapsed()}] ${msg}\n`);

const logDir = mkdtempSync(join(tmpdir(), 'pp-bench-'));
if (values.fsync !== 'always' && values.fsync !== 'everysec') {
  throw new Error('--fsync is always (production) or everysec');
}
const fsync = values.fsync;
const redis = await BenchRedis.start(fsync);
const sim = new PersonaSimulator({ apiKeys: [PERSONA_KEY], decisionDelayMs: 3_600_000 });
await sim.listen();
const simUrl = sim.url;
const ctx: BenchContext = { mode, redis, logDir, simUrl, serviceNodeArgs: [], progress };
const redisVersion = await redis.version();
progress(`${mode.name} mode; redis ${redisVersion} on ${redis.url}; logs in ${logDir}`);

const rows: Row[] = [];
const notes: string[] = [];
let failed = true;
try {
  for (const [name, bench] of Object.entries(BENCHES)) {
    if (only && !only.includes(name)) continue;
    progress(`${name}...`);
    await redis.flush();
    const result = await bench(ctx);
    rows.push(...result.rows);
    notes.push(...(result.notes ?? []));
  }
  failed = false;
  const rewrites = await redis.info('persistence', 'aof_rewrites');
  notes.push(
    `Redis rewrote its append-only file ${rewrites} times during the run (a fork and a rewrite each, as production's Redis does at the same thresholds).`,
  );
} finally {
  await sim.close();
  await redis.stop();
  // A failed run keeps the services' logs for a look.
  if (failed) progress(`failed; the services' logs are in ${logDir}`);
  else if (!values['keep-logs']) rmSync(logDir, { recursive: true, force: true });
}

const table = markdownTable(rows);
/** Which code was measured: the commit, and how many files differ from it. */
function codeVersion(): string {
  try {
    const git = (...args: string[]) =>
      execFileSync('git', args, {
        cwd: repoRoot,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }).trim();
    const changed = git('status', '--porcelain', '--untracked-files=no')
      .split('\n')
      .filter(Boolean).length;
    return `commit ${git('rev-parse', '--short', 'HEAD')}${changed ? ` with ${changed} files changed` : ''}`;
  } catch {
    return 'commit unknown';
  }
}
const cpu = cpus();
const header = [
  `Mode ${mode.name} (${mode.rounds} rounds, ${mode.loadSeconds} s HTTP runs, backlog ${mode.backlog}, event concurrency ${mode.eventConcurrency}, limiter ${mode.limiterSeconds} s), ${new Date().toISOString().slice(0, 10)}, ${cpu.length} cores (${cpu[0]?.model.trim() ?? 'unknown CPU'}), Node ${process.version}, ${codeVersion()}, redis-server ${redisVersion} ${redisArgs(fsync).join(' ')}, ${elapsed()} in all.`,
  `Load average (1 min) ${loadAtStart.toFixed(1)} at the start, ${loadavg()[0]!.toFixed(1)} at the end: other work on the machine competes with the benchmark for the same cores.`,
  `Ratios are ours / plain: the median over ${mode.rounds} rounds of each round's ratio (rounds alternate ours and plain, the order rotating); absolute figures are medians over the rounds.`,
].join('\n');
process.stdout.write(`\n${header}\n\n${table}\n`);
if (notes.length) process.stdout.write(`\n${notes.map((n) => `- ${n}`).join('\n')}\n`);

if (!only && !values['no-write']) {
  const doc = [
    '# Benchmarks',
    '',
    'Generated by `pnpm bench` (`bench/run.ts`); do not edit by hand. `pnpm bench --quick` is the',
    'short mode. Method: [bench/README.md](../bench/README.md).',
    '',
    header,
    '',
    table,
    '',
    ...(notes.length ? ['Notes:', '', ...notes.map((n) => `- ${n}`), ''] : []),
  ].join('\n');
  // Formatted as the repository's prettier check wants it.
  const path = join(repoRoot, 'docs/benchmarks.md');
  const options = (await resolveConfig(path)) ?? {};
  writeFileSync(path, await format(doc, { ...options, filepath: path }));
  progress('written to docs/benchmarks.md');
}
