import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '@pp/testing';
import { procStatusBytes } from './rss.ts';
import { sleep } from './stats.ts';

export type Service = 'api-gateway' | 'webhook-receiver' | 'workers';

export interface SpawnOptions {
  /** Env of the process (PATH and NODE_ENV=production are added). */
  env: Record<string, string>;
  /** Directory for the process's log file (stdout and stderr). */
  logDir: string;
  /** Name of the log file and of the process in messages. */
  name: string;
  /** Extra node flags, e.g. `--cpu-prof`. */
  nodeArgs?: string[];
  /** The port it listens on, when the env sets it: `url()` then polls `/healthz` instead of reading the log. */
  port?: number;
}

/**
 * A Node process started as production starts it (`node --experimental-strip-types <file>`,
 * configured by env), its stdout and stderr going straight to a file: the benchmark never
 * reads the log stream while it measures, so logging costs the service what it costs in
 * production (a write to a file or pipe), not the parent's CPU.
 */
export class NodeProcess {
  readonly name: string;
  readonly logPath: string;
  readonly proc: ChildProcess;
  readonly #port: number | undefined;
  readonly #exit: Promise<number | null>;
  #offset = 0;
  #partial = '';
  readonly #lines: string[] = [];

  constructor(script: string, options: SpawnOptions) {
    this.name = options.name;
    this.logPath = join(options.logDir, `${options.name}.log`);
    this.#port = options.port;
    const fd = openSync(this.logPath, 'a');
    this.proc = spawn(
      process.execPath,
      [...(options.nodeArgs ?? []), '--experimental-strip-types', script],
      {
        cwd: repoRoot,
        env: { PATH: process.env.PATH ?? '', NODE_ENV: 'production', ...options.env },
        stdio: ['ignore', fd, fd],
      },
    );
    closeSync(fd);
    this.#exit = new Promise((resolve) => this.proc.once('exit', (code) => resolve(code)));
  }

  /** One of the services, `services/<service>/src/main.ts`. */
  static service(service: Service, options: SpawnOptions): NodeProcess {
    return new NodeProcess(`services/${service}/src/main.ts`, options);
  }

  get pid(): number {
    return this.proc.pid ?? -1;
  }

  /** Peak RSS so far (VmHWM), in bytes. */
  peakRss(): number {
    return procStatusBytes(this.pid, 'VmHWM');
  }

  /** Lines written so far that were not read yet (reads the file from where it left off). */
  #readNew(): void {
    const fd = openSync(this.logPath, 'r');
    try {
      const buf = Buffer.alloc(64 * 1024);
      for (;;) {
        const n = readSync(fd, buf, 0, buf.length, this.#offset);
        if (n <= 0) break;
        this.#offset += n;
        const parts = (this.#partial + buf.subarray(0, n).toString('utf8')).split('\n');
        this.#partial = parts.pop() ?? '';
        this.#lines.push(...parts.filter((l) => l.length > 0));
      }
    } finally {
      closeSync(fd);
    }
  }

  /** Resolves with the first line (from the start of the log) that matches. */
  async waitForLine(match: RegExp, timeoutMs = 30_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let seen = 0;
    for (;;) {
      this.#readNew();
      for (; seen < this.#lines.length; seen++) {
        if (match.test(this.#lines[seen]!)) return this.#lines[seen]!;
      }
      if (this.proc.exitCode !== null) {
        throw new Error(
          `${this.name} exited (${this.proc.exitCode}) before ${match}; see ${this.logPath}`,
        );
      }
      if (Date.now() > deadline)
        throw new Error(`${this.name}: no ${match} in ${timeoutMs} ms; see ${this.logPath}`);
      await sleep(20);
    }
  }

  /**
   * Where it listens, once it does: its known port once `/healthz` answers (a service at
   * LOG_LEVEL=warn does not log where it listens), else the `url` of its first JSON line
   * that has one.
   */
  async url(timeoutMs = 30_000): Promise<string> {
    if (this.#port === undefined) {
      const line = await this.waitForLine(/"url":"http/, timeoutMs);
      return (JSON.parse(line) as { url: string }).url;
    }
    const url = `http://127.0.0.1:${this.#port}`;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const ok = await fetch(`${url}/healthz`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) return url;
      if (this.proc.exitCode !== null) throw new Error(`${this.name} exited; see ${this.logPath}`);
      if (Date.now() > deadline)
        throw new Error(`${this.name}: not listening; see ${this.logPath}`);
      await sleep(50);
    }
  }

  /** Sends `signal` and waits for the exit; SIGKILL after `timeoutMs`. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 30_000): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    this.proc.kill(signal);
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), timeoutMs);
    await this.#exit;
    clearTimeout(timer);
  }
}

/** Stops every process given, in parallel. */
export const stopAll = (procs: readonly NodeProcess[]): Promise<void[]> =>
  Promise.all(procs.map((p) => p.stop()));
