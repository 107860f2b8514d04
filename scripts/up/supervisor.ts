/**
 * The child processes `pnpm start` runs: started with their output printed line by line,
 * and stopped together, in reverse order, when one exits, when a wait times out, or on
 * Ctrl-C.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { say } from './log-format.ts';

export interface SupervisorOptions {
  /** Where the children run. */
  cwd: string;
  /** The environment every child inherits, under its own variables. */
  env: NodeJS.ProcessEnv;
  /** Turns one line a child wrote into the line printed. */
  format: (name: string, line: string) => string;
}

export class Supervisor {
  readonly #options: SupervisorOptions;
  readonly #children: { name: string; proc: ChildProcess }[] = [];
  #stopping = false;

  constructor(options: SupervisorOptions) {
    this.#options = options;
  }

  /** SIGINT and SIGTERM stop everything, with exit code 0. */
  stopOnSignals(): void {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.once(signal, () => void this.stop(0));
    }
  }

  /** Starts a child (a Node script unless `command` says otherwise); its exit stops all. */
  run(
    name: string,
    args: string[],
    childEnv: Record<string, string>,
    command = process.execPath,
  ): ChildProcess {
    const { cwd, env, format } = this.#options;
    if (this.#stopping) throw new Error(`not starting ${name}: everything is stopping`);
    const proc = spawn(command, args, {
      cwd,
      env: { ...env, ...childEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    for (const stream of [proc.stdout, proc.stderr]) {
      let partial = '';
      stream.on('data', (chunk: Buffer) => {
        const lines = (partial + chunk.toString()).split('\n');
        partial = lines.pop() ?? '';
        for (const l of lines) if (l.trim()) say(format(name, l));
      });
    }
    proc.once('exit', (code, signal) => {
      if (this.#stopping) return;
      say(`${name} exited (${signal ?? code}); stopping everything`);
      void this.stop(1);
    });
    this.#children.push({ name, proc });
    return proc;
  }

  /**
   * SIGTERM to each child, last started first (services before Redis, so workers can finish
   * their jobs), SIGKILL after 25 s; then exits the process with `code`.
   */
  async stop(code: number): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    for (const { proc } of [...this.#children].reverse()) {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGTERM');
        await new Promise((r) => {
          const t = setTimeout(() => {
            proc.kill('SIGKILL');
            r(null);
          }, 25_000);
          proc.once('exit', () => {
            clearTimeout(t);
            r(null);
          });
        });
      }
    }
    process.exit(code);
  }

  /** Polls `check` every 100 ms; stops everything (exit 1) if it is not true in time. */
  async waitUntil(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
      // Stopping ends the process: the start must not go on meanwhile.
      if (this.#stopping) await new Promise(() => {});
      if (Date.now() > deadline) {
        say(`${what} did not become ready within ${timeoutMs / 1000} s`);
        await this.stop(1);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** A readiness check: the URL answers with a 2xx status. */
export const httpOk = (url: string) => async (): Promise<boolean> => {
  try {
    return (await fetch(url)).ok;
  } catch {
    return false;
  }
};
