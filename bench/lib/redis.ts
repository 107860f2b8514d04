import { Redis } from 'ioredis';
import { SpawnedRedis } from '@pp/testing';

/**
 * The benchmark's own redis-server on a free port, configured as production runs it
 * (docker-compose.yml): an append-only file fsynced on every write (`always`; `everysec`
 * with `--fsync everysec`), `noeviction`. No password (AUTH is one command per connection)
 * and no maxmemory (the full run holds more than compose's 512 MB at its peak).
 */
export const redisArgs = (fsync: 'always' | 'everysec'): string[] => [
  '--appendonly',
  'yes',
  '--appendfsync',
  fsync,
  '--maxmemory-policy',
  'noeviction',
];

export class BenchRedis {
  readonly server: SpawnedRedis;
  readonly client: Redis;

  private constructor(server: SpawnedRedis) {
    this.server = server;
    this.client = new Redis(server.url, { maxRetriesPerRequest: 1 });
  }

  static async start(fsync: 'always' | 'everysec' = 'always'): Promise<BenchRedis> {
    return new BenchRedis(await SpawnedRedis.start(redisArgs(fsync)));
  }

  get url(): string {
    return this.server.url;
  }

  /** Empties Redis between runs, so each run starts from the same (empty) state. */
  async flush(): Promise<void> {
    await this.client.flushall('SYNC');
  }

  async info(section: string, field: string): Promise<string> {
    const info = await this.client.info(section);
    return new RegExp(`^${field}:(.*)$`, 'm').exec(info)?.[1]?.trim() ?? '';
  }

  /**
   * `used_memory` of INFO memory less what is not data: client buffers, the AOF buffer, the
   * replication backlog and cached Lua scripts (they vary with connections and timing, not
   * with what is stored), in bytes.
   */
  async usedMemory(): Promise<number> {
    const info = await this.client.info('memory');
    const field = (name: string) => Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(info)?.[1] ?? 0);
    return (
      field('used_memory') -
      field('mem_clients_normal') -
      field('mem_clients_slaves') -
      field('mem_aof_buffer') -
      field('mem_replication_backlog') -
      field('used_memory_scripts')
    );
  }

  async version(): Promise<string> {
    return this.info('server', 'redis_version');
  }

  async stop(): Promise<void> {
    this.client.disconnect();
    await this.server.stop();
  }
}

/** A key with its ids replaced by `*`: `pp:request:req_ab12…` → `pp:request:*`. */
const keyFamily = (key: string): string =>
  key
    .split(':')
    .map((part) =>
      /^(req|evt|txn|ver|rep)_|^[0-9a-f-]{16,}$|^\d+$|^bench|^user-|^mem-|^evt_/.test(part)
        ? '*'
        : part,
    )
    .join(':');

/** Bytes by key family (MEMORY USAGE of every key), the largest first. */
export async function memoryByFamily(redis: BenchRedis): Promise<[string, number][]> {
  const families = new Map<string, number>();
  let cursor = '0';
  do {
    const [next, keys] = await redis.client.scan(cursor, 'COUNT', 1000);
    cursor = next;
    const pipeline = redis.client.pipeline();
    for (const key of keys) pipeline.memory('USAGE', key);
    const sizes = (await pipeline.exec()) ?? [];
    keys.forEach((key, i) => {
      const bytes = Number(sizes[i]?.[1] ?? 0);
      const family = keyFamily(key);
      families.set(family, (families.get(family) ?? 0) + bytes);
    });
  } while (cursor !== '0');
  return [...families.entries()].sort((a, b) => b[1] - a[1]);
}
