import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { LogCapture } from './log-capture.ts';

export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

/** One service started the way production starts it: `node src/main.ts`, configured by env. */
export class ServiceProcess {
  readonly logs = new LogCapture();
  readonly proc: ChildProcess;
  #exit: Promise<number | null>;

  constructor(
    service: 'api-gateway' | 'webhook-receiver' | 'workers',
    env: Record<string, string>,
  ) {
    this.proc = spawn(
      process.execPath,
      ['--experimental-strip-types', `services/${service}/src/main.ts`],
      {
        cwd: repoRoot,
        env: { PATH: process.env.PATH ?? '', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    this.proc.stdout!.on('data', (d: Buffer) => this.logs.push(d.toString()));
    this.proc.stderr!.on('data', (d: Buffer) => this.logs.push(d.toString()));
    this.#exit = new Promise((resolve) => this.proc.once('exit', (code) => resolve(code)));
  }

  /** Resolves with the first log line that matches, rejects if the process exits first. */
  async waitForLine(match: RegExp, timeoutMs = 20_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let seen = 0;
    for (;;) {
      for (; seen < this.logs.lines.length; seen++) {
        const line = this.logs.lines[seen]!;
        if (match.test(line)) return line;
      }
      if (this.proc.exitCode !== null || this.proc.signalCode !== null) {
        throw new Error(
          `process exited (${this.proc.exitCode ?? this.proc.signalCode}) before ${match}:\n${this.logs.text}`,
        );
      }
      if (Date.now() > deadline)
        throw new Error(`timed out waiting for ${match}:\n${this.logs.text}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  exited(): Promise<number | null> {
    return this.#exit;
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    this.proc.kill(signal);
    await this.#exit;
  }
}
