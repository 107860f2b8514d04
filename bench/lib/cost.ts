import { readFileSync } from 'node:fs';
import type { BenchRedis } from './redis.ts';

/** What some work cost: CPU of the given processes and of Redis, and Redis commands by name. */
export interface Cost {
  serviceCpuMs: number;
  redisCpuMs: number;
  /** Calls per command (INFO commandstats), commands run inside Lua scripts included. */
  calls: Record<string, number>;
}

const TICK_MS = 10; // getconf CLK_TCK = 100 on Linux

/** utime + stime of a process (/proc/<pid>/stat), in ms; 0 once it is gone. */
function processCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
  } catch {
    return 0;
  }
}

async function redisSnapshot(redis: BenchRedis) {
  const [cpu, stats] = await Promise.all([
    redis.client.info('cpu'),
    redis.client.info('commandstats'),
  ]);
  const num = (field: string) => Number(new RegExp(`^${field}:(\\S+)`, 'm').exec(cpu)?.[1] ?? 0);
  const calls: Record<string, number> = {};
  for (const m of stats.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) calls[m[1]!] = Number(m[2]);
  return { cpuMs: (num('used_cpu_user') + num('used_cpu_sys')) * 1000, calls };
}

/** A starting point: `stop()` gives the cost since. */
export async function startCost(
  redis: BenchRedis,
  pids: number[],
): Promise<{ stop: () => Promise<Cost> }> {
  const cpu0 = pids.map(processCpuMs);
  const r0 = await redisSnapshot(redis);
  return {
    stop: async () => {
      const r1 = await redisSnapshot(redis);
      const cpu1 = pids.map(processCpuMs);
      const calls: Record<string, number> = {};
      for (const [cmd, n] of Object.entries(r1.calls)) {
        const d = n - (r0.calls[cmd] ?? 0);
        if (d > 0) calls[cmd] = d;
      }
      return {
        serviceCpuMs: cpu1.reduce((s, v, i) => s + v - cpu0[i]!, 0),
        redisCpuMs: r1.cpuMs - r0.cpuMs,
        calls,
      };
    },
  };
}

/** Runs `work` and measures its cost on `pids` and on Redis. */
export async function withCost<T>(
  redis: BenchRedis,
  pids: number[],
  work: () => Promise<T>,
): Promise<{ result: T; cost: Cost }> {
  const cost = await startCost(redis, pids);
  const result = await work();
  return { result, cost: await cost.stop() };
}

/** `evalsha 2.0 · hset 1.0 · ...`: the commands per unit of work, the most frequent first. */
export function commandMix(cost: Cost, units: number, top = 8): string {
  return Object.entries(cost.calls)
    .filter(([cmd]) => cmd !== 'info')
    .map(([cmd, n]) => [cmd, n / units] as const)
    .filter(([, per]) => per >= 0.05)
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([cmd, per]) => `${cmd} ${per.toFixed(1)}`)
    .join(' · ');
}

/** Commands per unit, all of them (scripts' inner commands included). */
export const commandsPer = (cost: Cost, units: number): number =>
  Object.entries(cost.calls)
    .filter(([cmd]) => cmd !== 'info')
    .reduce((s, [, n]) => s + n, 0) / units;
