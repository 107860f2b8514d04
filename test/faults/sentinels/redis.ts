import { redisKeys } from '@pp/shared';
import type { Fleet } from '../fleet.ts';

/** Redis as it is: every key, what it holds, and which of them keys.ts documents. */

interface KeyDump {
  key: string;
  type: string;
  pttl: number;
  /** The key and all it holds, as text. */
  text: string;
}

/** Every key in Redis with its type, its PTTL and all it holds. */
export async function dumpRedis(f: Fleet): Promise<KeyDump[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await f.client.scan(cursor, 'COUNT', 1000);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== '0');
  const out: KeyDump[] = [];
  for (const key of keys) {
    const [type, pttl] = await Promise.all([f.client.type(key), f.client.pttl(key)]);
    if (type === 'none' || pttl === -2) continue; // expired since the SCAN
    let value: unknown;
    switch (type) {
      case 'string':
        value = await f.client.get(key);
        break;
      case 'hash':
        value = await f.client.hgetall(key);
        break;
      case 'list':
        value = await f.client.lrange(key, 0, -1);
        break;
      case 'set':
        value = await f.client.smembers(key);
        break;
      case 'zset':
        value = await f.client.zrange(key, 0, -1, 'WITHSCORES');
        break;
      case 'stream':
        value = await f.client.xrange(key, '-', '+');
        break;
      default:
        value = `(a ${type}: not read)`;
    }
    out.push({ key, type, pttl, text: `${key} ${JSON.stringify(value)}` });
  }
  return out;
}

/**
 * The keys documented in `redisKeys` (packages/shared/src/redis/keys.ts), each as a pattern:
 * the parts that change with the argument become a wildcard without `:`.
 */
function documentedKeys(prefix: string): { name: string; pattern: RegExp }[] {
  const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return Object.entries(redisKeys(prefix)).map(([name, fn]) => {
    const make = fn as (arg?: string) => string;
    const [a, b] = [make('\u0001one'), make('\u0001two')];
    const partsA = a.split(':');
    const partsB = b.split(':');
    const pattern = partsA.map((p, i) => (p === partsB[i] ? escape(p) : '[^:]+')).join(':');
    return { name, pattern: new RegExp(`^${pattern}$`) };
  });
}

/**
 * The keys outside BullMQ's queues, by the keys.ts name each matches: how many, and their
 * TTLs; `problems` names each one keys.ts does not document or that does not expire.
 */
export function keyCensus(dump: KeyDump[], prefix: string, queueNames: readonly string[]) {
  const queuePrefixes = queueNames.map((q) => `${prefix}:${q}:`);
  const documented = documentedKeys(prefix);
  const found = new Map<string, { type: string; count: number; ttls: number[] }>();
  const problems: string[] = [];
  for (const { key, type, pttl } of dump) {
    if (queuePrefixes.some((p) => key.startsWith(p))) continue;
    const doc = documented.find((d) => d.pattern.test(key));
    if (!doc) problems.push(`${key} (${type}): not a key keys.ts documents`);
    if (pttl <= 0) problems.push(`${key} (${type}): no TTL (PTTL ${pttl})`);
    const row = found.get(doc?.name ?? key) ?? { type, count: 0, ttls: [] };
    row.count++;
    row.ttls.push(pttl);
    found.set(doc?.name ?? key, row);
  }
  const ttl = (ms: number) =>
    ms < 3_600_000
      ? `${Math.round(ms / 1000)} s`
      : ms < 86_400_000
        ? `${(ms / 3_600_000).toFixed(1)} h`
        : `${(ms / 86_400_000).toFixed(1)} d`;
  const record = [
    `Redis after settlement: ${dump.length} keys, ${dump.length - [...found.values()].reduce((n, r) => n + r.count, 0)} in BullMQ's queues; outside them:`,
    ...[...found.entries()].map(
      ([name, r]) =>
        `  ${name.padEnd(20)} ${r.type.padEnd(6)} ${String(r.count).padStart(4)} key(s), TTL ${ttl(Math.min(...r.ttls))} - ${ttl(Math.max(...r.ttls))}`,
    ),
  ].join('\n');
  return { found, problems, record };
}
