import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';

type ScriptFn = (...args: (string | number | Buffer)[]) => Promise<unknown>;

/** `numberOfKeys` of a script named `<name>-n.lua`: the caller passes any number of keys. */
const VARIADIC = -1;

/**
 * A Lua script kept in its own file, named `<name>-<numberOfKeys>.lua` as BullMQ names its
 * commands (`<name>-n.lua`: any number of keys). Registered on each client with `defineCommand` (EVALSHA with an EVAL
 * fallback), which also lets ioredis-mock run it in unit tests.
 */
export class LuaScript {
  /** Every script of the project, registered as its module loads. */
  static readonly #all: LuaScript[] = [];

  /**
   * Defines every registered script on a client at once. An autopipelining client needs
   * them before its first command: a command defined while a pipeline is pending is missing
   * from that pipeline (redis/ioredis#1931), which fails the whole batch.
   */
  static defineAll(redis: Redis): void {
    for (const script of LuaScript.#all) script.#define(redis);
  }

  readonly name: string;
  readonly numberOfKeys: number;
  readonly source: string;
  readonly #defined = new WeakSet<object>();

  /** `prelude`: Lua put before the file's own (see `JOB_INSERT_LUA`). */
  constructor(file: URL, { prelude = '' }: { prelude?: string } = {}) {
    const match = /([A-Za-z]+(?:-[A-Za-z]+)*)-(\d+|n)\.lua$/.exec(file.pathname);
    if (!match) throw new Error(`lua script file name must be <name>-<keys>.lua: ${file.pathname}`);
    this.name = `pp_${match[1]!.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase())}`;
    this.numberOfKeys = match[2] === 'n' ? VARIADIC : Number(match[2]);
    this.source = prelude + readFileSync(file, 'utf8');
    LuaScript.#all.push(this);
  }

  #define(redis: Redis): void {
    if (this.#defined.has(redis)) return;
    redis.defineCommand(
      this.name,
      this.numberOfKeys === VARIADIC
        ? { lua: this.source }
        : { numberOfKeys: this.numberOfKeys, lua: this.source },
    );
    this.#defined.add(redis);
  }

  run(
    redis: Redis,
    keys: readonly string[],
    args: readonly (string | number | Buffer)[],
  ): Promise<unknown> {
    const variadic = this.numberOfKeys === VARIADIC;
    if (!variadic && keys.length !== this.numberOfKeys) {
      throw new Error(`${this.name} takes ${this.numberOfKeys} keys, got ${keys.length}`);
    }
    this.#define(redis);
    const fn = (redis as unknown as Record<string, ScriptFn>)[this.name]!;
    return variadic
      ? fn.call(redis, keys.length, ...keys, ...args)
      : fn.call(redis, ...keys, ...args);
  }
}
