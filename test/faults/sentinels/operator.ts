import { spawn } from 'node:child_process';
import { expect } from 'vitest';
import { repoRoot } from '@pp/testing';
import type { Fleet } from '../fleet.ts';
import { basic } from './needles.ts';

/** What an operator runs and sees: `pnpm redrive`, and every page of Bull Board. */

/** `scripts/redrive.ts <id>` as `pnpm redrive` runs it: its exit code and all it printed. */
export async function redrive(f: Fleet, id: string): Promise<{ code: unknown; output: string }> {
  const child = spawn(process.execPath, ['--experimental-strip-types', 'scripts/redrive.ts', id], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '', REDIS_URL: f.redisUrl, QUEUE_PREFIX: f.prefix },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const code = await new Promise((r) => child.once('exit', r));
  return { code, output };
}

interface Listing {
  queues: { name: string; jobs: { id: string }[]; pagination: { pageCount: number } }[];
}

/**
 * Bull Board, all of it: its page, Redis stats, schedulers, every queue in every state page
 * by page, and each listed job's view, logs and flow. Every page must be served (a job view
 * may find its job gone since the listing: 404).
 */
export async function crawlBoard(f: Fleet, queueNames: readonly string[]): Promise<string> {
  const board = async (path: string, gone = false) => {
    const res = await fetch(`${f.gatewayUrl}/admin/queues${path}`, {
      headers: { authorization: basic },
    });
    if (!(gone && res.status === 404)) expect(res.status, path).toBeLessThan(400);
    return res.text();
  };
  const pages: string[] = [
    await board(''),
    await board('/api/redis/stats'),
    await board('/api/job-schedulers'),
  ];
  const states = ['latest', 'active', 'waiting', 'prioritized', 'completed', 'failed', 'delayed'];
  for (const queue of queueNames) {
    for (const status of states) {
      for (let page = 1, pageCount = 1; page <= pageCount; page++) {
        const text = await board(
          `/api/queues?activeQueue=${queue}&status=${status}&page=${page}&jobsPerPage=50`,
        );
        pages.push(text);
        const listed = (JSON.parse(text) as Listing).queues.find((q) => q.name === queue);
        pageCount = listed?.pagination.pageCount ?? 1;
        for (const job of listed?.jobs ?? []) {
          for (const part of ['', '/logs', '/flow']) {
            const path = `/api/queues/${queue}/${encodeURIComponent(job.id)}${part}`;
            pages.push(await board(path, true));
          }
        }
      }
    }
  }
  return pages.join('\n');
}
