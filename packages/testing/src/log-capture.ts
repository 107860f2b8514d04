import { Writable } from 'node:stream';

/** A pino destination that keeps every line, for tests that read what was logged. */
export class LogCapture extends Writable {
  readonly lines: string[] = [];
  #partial = '';

  override _write(chunk: Buffer | string, _enc: BufferEncoding, done: () => void): void {
    this.push(chunk.toString());
    done();
  }

  /** Adds raw output (e.g. a child process's stdout), split into lines. */
  push(text: string): void {
    const all = this.#partial + text;
    const parts = all.split('\n');
    this.#partial = parts.pop() ?? '';
    for (const p of parts) if (p.length > 0) this.lines.push(p);
  }

  get text(): string {
    return this.lines.join('\n') + (this.#partial ? `\n${this.#partial}` : '');
  }

  json(): Record<string, unknown>[] {
    return this.lines.flatMap((l) => {
      try {
        return [JSON.parse(l) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
  }
}
