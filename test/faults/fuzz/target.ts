import { Queue, type JobType } from 'bullmq';
import { expect } from 'vitest';
import type { ServiceProcess } from '@pp/testing';
import type { Fleet } from '../fleet.ts';
import { bytesOf, send, type Answer, type Sent } from './http.ts';
import { liveHeapBytes, rssBytes } from './memory.ts';

/** A process under fuzz: what it was sent, its health, its memory, and the jobs it made. */
export class Target {
  /** Bytes of path, headers and body the process was given to hold (oversized ones aside). */
  sent = 0;
  readonly #name: string;
  readonly #proc: ServiceProcess;
  readonly #base: string;

  constructor(name: string, proc: ServiceProcess, base: string) {
    this.#name = name;
    this.#proc = proc;
    this.#base = base;
  }

  send(sent: Sent): Promise<Answer> {
    this.sent += bytesOf(sent);
    return send(this.#base, sent);
  }

  /** Its memory now: the live heap after a full GC, and the RSS. */
  async level(): Promise<Level> {
    return { heap: await liveHeapBytes(this.#proc), rss: await rssBytes(this.#base) };
  }

  /**
   * Memory back to its `level()` from before: a leak of even a tenth of what was sent would
   * show. `sentIn` says what the bytes went in, for the record.
   */
  async expectBackTo(before: Level, sentIn: string) {
    const after = await this.level();
    console.info(
      `${this.#name}: ${mb(this.sent)} sent${sentIn}; live heap ${mb(before.heap)} -> ${mb(after.heap)}; rss ${mb(before.rss)} -> ${mb(after.rss)}`,
    );
    expect(this.sent).toBeGreaterThan(20 * 1024 * 1024);
    expect(after.heap - before.heap).toBeLessThan(this.sent / 10);
    expect(after.rss - before.rss).toBeLessThan(Math.max(this.sent, 256 * 1024 * 1024));
  }

  /** Alive and well: not exited, still ready, and not a line logged at error level. */
  async expectAlive() {
    expect(this.#proc.proc.exitCode).toBeNull();
    expect(this.#proc.proc.signalCode).toBeNull();
    const ready = await send(this.#base, { method: 'GET', path: '/readyz', headers: {} });
    expect(ready.status).toBe(200);
    const errors = this.#proc.logs
      .json()
      .filter((l) => typeof l.level === 'number' && l.level >= 50);
    expect(errors).toEqual([]);
  }
}

interface Level {
  heap: number;
  rss: number;
}

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

/** Every job of a queue, whatever its state. */
const ALL_STATES: JobType[] = [
  'active',
  'completed',
  'delayed',
  'failed',
  'prioritized',
  'wait',
  'waiting-children',
];

export async function jobIds(fleet: Fleet, queueName: string): Promise<Set<string>> {
  const queue = new Queue(queueName, { connection: fleet.client, prefix: fleet.prefix });
  try {
    const jobs = await queue.getJobs(ALL_STATES);
    return new Set(jobs.map((j) => j.id!));
  } finally {
    await queue.close();
  }
}
