import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { redisAnswers } from '@pp/shared';
import { eventually } from './wait.ts';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * A `redis-server` of the test's own, on a free port with a temporary directory, for tests
 * that stop, kill or reconfigure Redis. Never the shared one on 6379.
 */
export class SpawnedRedis {
  readonly port: number;
  readonly dir: string;
  readonly #args: string[];
  #proc: ChildProcess | null = null;

  private constructor(port: number, dir: string, args: string[]) {
    this.port = port;
    this.dir = dir;
    this.#args = args;
  }

  static async start(extraArgs: string[] = []): Promise<SpawnedRedis> {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'pp-redis-'));
    const r = new SpawnedRedis(port, dir, extraArgs);
    await r.restart();
    return r;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts (again) on the same port and directory. */
  async restart(): Promise<void> {
    const proc = spawn(
      process.env.REDIS_SERVER_BIN ?? '/usr/bin/redis-server',
      [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--dir',
        this.dir,
        '--save',
        '',
        '--appendonly',
        'no',
        ...this.#args,
      ],
      { stdio: 'ignore' },
    );
    this.#proc = proc;
    await eventually(() => redisAnswers(this.url), {
      timeoutMs: 10_000,
      intervalMs: 50,
      what: `redis-server on ${this.port} to start`,
    });
  }

  /** SIGKILL, and resolves once the process is gone. */
  async kill(): Promise<void> {
    const proc = this.#proc;
    if (!proc || proc.exitCode !== null) return;
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGKILL');
    await exited;
    this.#proc = null;
  }

  async stop(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
