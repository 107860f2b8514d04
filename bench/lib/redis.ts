import { Redis } from 'ioredis';
import { SpawnedRedis } from '@pp/testing';

/**
 * The benchmark's own redis-server on a free port, configured as production runs it
 * (docker-compose.yml): an append-only file fsynced every second, `noeviction`. No
 * password (AUTH is one command per connection) and no maxmemory (the full run holds
 * more than compose's 512 MB at its peak).
 */
export const REDIS_ARGS = [
  '--appendonly',
  'yes',
  '--appendfsync',
  'everysec',
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

  static async start(): Promise<BenchRedis> {
    return new BenchRedis(await SpawnedRedis.start(REDIS_ARGS));
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

  /** `used_memory` of INFO memory, in bytes. */
  async usedMemory(): Promise<number> {
    return Number(await this.info('memory', 'used_memory'));
  }

  async version(): Promise<string> {
    return this.info('server', 'redis_version');
  }

  async stop(): Promise<void> {
    this.client.disconnect();
    await this.server.stop();
  }
}
