/**
 * Redis for `pnpm start`: the one at REDIS_URL if it answers; otherwise, on a loopback URL
 * with a `redis-server` on this machine, one of our own with its data in PIPELINE_DATA_DIR
 * (append-only file, fsync every second), supervised like the services.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { redisAnswers } from '@pp/shared';
import { say } from './log-format.ts';
import type { Supervisor } from './supervisor.ts';

const LOOPBACK = ['127.0.0.1', 'localhost', '[::1]', '::1'];

function findRedisServer(): string | null {
  const found = spawnSync('sh', ['-c', 'command -v redis-server'], {
    encoding: 'utf8',
  }).stdout.trim();
  if (found) return found;
  return existsSync('/usr/bin/redis-server') ? '/usr/bin/redis-server' : null;
}

function explainNoRedis(redisUrl: string, loopback: boolean): void {
  say(`Redis does not answer at ${redisUrl}.`);
  if (!loopback)
    say('It is not a local address, so nothing was started: check REDIS_URL and the server.');
  else {
    say('No redis-server binary was found to start one. Get Redis 7 or later with one of:');
    say('  Debian/Ubuntu:  sudo apt-get install -y redis-server');
    say('  macOS:          brew install redis');
    say('  Docker:         docker compose up -d redis');
    say('then run this command again (or point REDIS_URL at a running Redis).');
  }
}

/** Durable enough for local work, and never evicting queue keys. */
const serverArgs = (port: string, dir: string): string[] => [
  '--port',
  port,
  '--bind',
  '127.0.0.1',
  '--dir',
  dir,
  '--appendonly',
  'yes',
  '--appendfsync',
  'everysec',
  '--save',
  '',
  '--maxmemory-policy',
  'noeviction',
];

/** Returns once Redis answers at `redisUrl`; exits 1, with advice, when it cannot. */
export async function ensureRedis(
  sup: Supervisor,
  redisUrl: string,
  dataDir: string,
): Promise<void> {
  if (await redisAnswers(redisUrl)) return;
  const url = new URL(redisUrl);
  const loopback = LOOPBACK.includes(url.hostname);
  const bin = findRedisServer();
  if (!loopback || !bin) {
    explainNoRedis(redisUrl, loopback);
    process.exit(1);
  }
  const port = url.port || '6379';
  const dir = join(dataDir, `redis-${port}`);
  mkdirSync(dir, { recursive: true });
  say(`Redis does not answer at ${redisUrl}: starting ${bin} on port ${port}, data in ${dir}`);
  sup.run('redis', serverArgs(port, dir), {}, bin);
  await sup.waitUntil('redis-server', () => redisAnswers(redisUrl));
}
