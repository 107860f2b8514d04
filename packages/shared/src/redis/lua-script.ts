import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';

type ScriptFn = (...args: (string | number)[]) => Promise<unknown>;

/**
 * A Lua script kept in its own file, named `<name>-<numberOfKeys>.lua` as BullMQ names its
 * commands. Registered on each client with `defineCommand` (EVALSHA with an EVAL
 * fallback), which also lets ioredis-mock run it in unit tests.
 */
export class LuaScript {
  readonly name: string;
  readonly numberOfKeys: number;
  readonly source: string;
  readonly #defined = new WeakSet<object>();

  constructor(file: URL) {
    const match = /([A-Za-z]+(?:-[A-Za-z]+)*)-(\d+)\.lua$/.exec(file.pathname);
    if (!match) throw new Error(`lua script file name must be <name>-<keys>.lua: ${file.pathname}`);
    this.name = `pp_${match[1]!.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase())}`;
    this.numberOfKeys = Number(match[2]);
    this.source = readFileSync(file, 'utf8');
  }

  run(redis: Redis, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
    if (keys.length !== this.numberOfKeys) {
      throw new Error(`${this.name} takes ${this.numberOfKeys} keys, got ${keys.length}`);
    }
    if (!this.#defined.has(redis)) {
      redis.defineCommand(this.name, { numberOfKeys: this.numberOfKeys, lua: this.source });
      this.#defined.add(redis);
    }
    const fn = (redis as unknown as Record<string, ScriptFn>)[this.name]!;
    return fn.call(redis, ...keys, ...args);
  }
}
