/**
 * `pnpm start` (or `./pipeline up`): the whole pipeline on this machine.
 *
 * - Redis at REDIS_URL; if nothing answers on a loopback URL and `redis-server` exists, one
 *   is started with its data in .data/ (append-only file, fsync every second).
 * - The Persona simulator, wired to the webhook receiver, when PERSONA_API_KEY is unset.
 * - The API gateway, the webhook receiver and PIPELINE_WORKERS worker processes (1).
 *
 * Every setting is an environment variable, the same ones the services read. Ctrl-C stops
 * everything this script started.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';

const root = fileURLToPath(new URL('..', import.meta.url));
const env = process.env;
const raw = env.LOG_FORMAT === 'json';

const redisUrl = env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = env.QUEUE_PREFIX ?? 'pp';
const gatewayPort = env.GATEWAY_PORT ?? '3000';
const receiverPort = env.WEBHOOK_RECEIVER_PORT ?? '3001';
const simPort = env.PERSONA_SIM_PORT ?? '4010';
const gatewayKeys = env.GATEWAY_API_KEYS ?? 'local-dev-token';
const webhookSecrets = env.PERSONA_WEBHOOK_SECRETS ?? 'wbhsec_local_simulator_secret';
const workerCount = Math.max(1, Number(env.PIPELINE_WORKERS ?? 1));
const dataDir = env.PIPELINE_DATA_DIR ?? join(root, '.data');
const useSimulator = !env.PERSONA_API_KEY;
const simKey = 'persona_sandbox_local_simulator';

/** Node 22.12-22.17 strips types only with this flag; later versions accept it as a no-op. */
const TS = '--experimental-strip-types';
const children: { name: string; proc: ChildProcess }[] = [];
let stopping = false;

const say = (line: string) => process.stdout.write(`${line}\n`);

async function redisAnswers(url: string): Promise<boolean> {
  const client = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: 1500,
  });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.ping();
    return true;
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

function findRedisServer(): string | null {
  const found = spawnSync('sh', ['-c', 'command -v redis-server'], {
    encoding: 'utf8',
  }).stdout.trim();
  if (found) return found;
  return existsSync('/usr/bin/redis-server') ? '/usr/bin/redis-server' : null;
}

/** Prints one JSON log line compactly: time, service, level, message, the other fields. */
function format(name: string, line: string): string {
  if (raw) return line;
  try {
    const {
      time,
      level,
      service: _service,
      msg,
      pid: _pid,
      hostname: _host,
      ...rest
    } = JSON.parse(line) as Record<string, unknown>;
    const lvl =
      (
        { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO ', 40: 'WARN ', 50: 'ERROR', 60: 'FATAL' } as Record<
          string,
          string
        >
      )[String(level)] ?? 'INFO ';
    const extra = Object.entries(rest)
      .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
      .join(' ');
    const clock = typeof time === 'string' ? time.slice(11, 23) : '';
    const text = typeof msg === 'string' ? msg : '';
    return `${clock} ${name.padEnd(16)} ${lvl} ${text}${extra ? `  ${extra}` : ''}`;
  } catch {
    return `${''.padEnd(12)} ${name.padEnd(16)} ${line}`;
  }
}

function run(
  name: string,
  args: string[],
  childEnv: Record<string, string>,
  command = process.execPath,
): ChildProcess {
  const proc = spawn(command, args, {
    cwd: root,
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
    if (stopping) return;
    say(`${name} exited (${signal ?? code}); stopping everything`);
    void stop(1);
  });
  children.push({ name, proc });
  return proc;
}

async function stop(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  // Services first, Redis last, so workers can finish their jobs.
  for (const { proc } of [...children].reverse()) {
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

async function waitUntil(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (stopping) return;
    if (Date.now() > deadline) {
      say(`${what} did not become ready within ${timeoutMs / 1000} s`);
      await stop(1);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

const httpOk = (url: string) => async () => {
  try {
    return (await fetch(url)).ok;
  } catch {
    return false;
  }
};

for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void stop(0));

// 1. Redis
if (!(await redisAnswers(redisUrl))) {
  const url = new URL(redisUrl);
  const loopback = ['127.0.0.1', 'localhost', '[::1]', '::1'].includes(url.hostname);
  const bin = findRedisServer();
  if (!loopback || !bin) {
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
    process.exit(1);
  }
  const port = url.port || '6379';
  const dir = join(dataDir, `redis-${port}`);
  mkdirSync(dir, { recursive: true });
  say(`Redis does not answer at ${redisUrl}: starting ${bin} on port ${port}, data in ${dir}`);
  run(
    'redis',
    [
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
    ],
    {},
    bin,
  );
  await waitUntil('redis-server', () => redisAnswers(redisUrl));
}

// 2. Persona (the simulator when no key is given)
const personaBase = useSimulator
  ? `http://127.0.0.1:${simPort}/api/v1`
  : (env.PERSONA_API_BASE_URL ?? 'https://api.withpersona.com/api/v1');
const personaKey = env.PERSONA_API_KEY ?? simKey;
if (useSimulator) {
  run('persona-sim', [TS, 'packages/persona-sim/src/main.ts'], {
    PERSONA_SIM_PORT: simPort,
    PERSONA_SIM_API_KEYS: simKey,
    PERSONA_SIM_WEBHOOK_URL: `http://127.0.0.1:${receiverPort}/webhooks/persona`,
    PERSONA_SIM_WEBHOOK_SECRETS: webhookSecrets.split(',')[0]!.trim(),
    PERSONA_SIM_DECISION_DELAY_MS: env.PERSONA_SIM_DECISION_DELAY_MS ?? '1500',
  });
  await waitUntil('persona simulator', httpOk(`http://127.0.0.1:${simPort}/__sim/stats`));
}

// 3. The services, configured only by environment.
const common = { REDIS_URL: redisUrl, QUEUE_PREFIX: prefix };
run('api-gateway', [TS, 'services/api-gateway/src/main.ts'], {
  ...common,
  GATEWAY_PORT: gatewayPort,
  GATEWAY_API_KEYS: gatewayKeys,
});
run('webhook-receiver', [TS, 'services/webhook-receiver/src/main.ts'], {
  ...common,
  WEBHOOK_RECEIVER_PORT: receiverPort,
  PERSONA_WEBHOOK_SECRETS: webhookSecrets,
});
for (let i = 1; i <= workerCount; i++) {
  run(workerCount > 1 ? `workers-${i}` : 'workers', [TS, 'services/workers/src/main.ts'], {
    ...common,
    PERSONA_API_KEY: personaKey,
    PERSONA_API_BASE_URL: personaBase,
  });
}
await waitUntil('api gateway', httpOk(`http://127.0.0.1:${gatewayPort}/readyz`));
await waitUntil('webhook receiver', httpOk(`http://127.0.0.1:${receiverPort}/readyz`));

const token = gatewayKeys.split(',')[0]!.trim();
const gateway = `http://127.0.0.1:${gatewayPort}`;
const demo = JSON.stringify({
  transaction_type_id: 'txntp_demo',
  fields: { name_first: 'Ada', name_last: 'Lovelace', birthdate: '1815-12-10' },
  reference_id: 'user-1',
});
say('');
say('persona-pipeline is up');
say(`  API gateway       ${gateway}   (bearer token: ${token})`);
say(`  webhook receiver  http://127.0.0.1:${receiverPort}/webhooks/persona`);
say(`  Persona           ${useSimulator ? `simulator at ${personaBase}` : personaBase}`);
say(`  Redis             ${redisUrl} (queue prefix ${prefix})`);
say(`  workers           ${workerCount} process${workerCount > 1 ? 'es' : ''}`);
say('');
say('Create a transaction:');
say(
  `  curl -s -X POST ${gateway}/v1/transactions -H 'Authorization: Bearer ${token}' -H 'Content-Type: application/json' -H "Idempotency-Key: demo-$(date +%s)" -d '${demo}'`,
);
say(
  'Then look it up with the id it printed (persona_status becomes approved when the webhooks arrive):',
);
say(`  curl -s ${gateway}/v1/transactions/<id> -H 'Authorization: Bearer ${token}'`);
say('And watch the decision reach the business-action queue:');
say(
  `  REDIS_URL=${redisUrl} QUEUE_PREFIX=${prefix} node --experimental-strip-types examples/actions-consumer.ts`,
);
say('');
say('Ctrl-C stops everything.');
