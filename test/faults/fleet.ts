import { Redis } from 'ioredis';
import { PersonaSimulator, type SimulatorOptions } from '@pp/persona-sim';
import { redisKeys } from '@pp/shared';
import { ServiceProcess, SpawnedRedis, uniquePrefix } from '@pp/testing';

/**
 * The fault suite's pipeline: every service a real process on loopback (started as
 * production starts it), its own Redis with an append-only file fsynced on every write, and
 * the Persona simulator over a real socket in the test process, where the test can read
 * and steer it.
 */
export const FLEET_TOKEN = 'fault-suite-gateway-token';
const FLEET_PERSONA_KEY = 'persona_sandbox_fault_suite';
export const FLEET_WEBHOOK_SECRET = 'wbhsec_fault_suite_secret';

export interface FleetOptions {
  sim?: Partial<SimulatorOptions>;
  /** Worker processes to start. @defaultValue 1 */
  workers?: number;
  workerEnv?: Record<string, string>;
  gatewayEnv?: Record<string, string>;
  receiverEnv?: Record<string, string>;
  /** Simulator webhooks go to the receiver unless false. */
  webhooks?: boolean;
  /** More `redis-server` arguments. */
  redisArgs?: string[];
  /** Redis with `requirepass`: every process, and `client`, then connect with it. */
  redisPassword?: string;
}

export interface Fleet {
  prefix: string;
  redis: SpawnedRedis;
  /** The REDIS_URL every process is given (with the password, if there is one). */
  redisUrl: string;
  /** A connection of the test's own to the fleet's Redis (offline queue off: fails fast). */
  client: Redis;
  sim: PersonaSimulator;
  gatewayUrl: string;
  receiverUrl: string;
  gateway: ServiceProcess;
  receiver: ServiceProcess;
  workers: ServiceProcess[];
  workerEnv: Record<string, string>;
  /** Starts one more worker process and waits until it takes jobs. */
  addWorker: (env?: Record<string, string>) => Promise<ServiceProcess>;
  /** POST /v1/transactions with the fleet's token. */
  post: (body: unknown, headers?: Record<string, string>) => Promise<Response>;
  /** Each request's status in Redis (`queued`, `submitted`, `failed`), or `missing`. */
  statuses: (ids: string[]) => Promise<Map<string, string>>;
  /** Resolves when no request in `ids` is still `queued`. */
  waitSettled: (ids: string[], timeoutMs?: number) => Promise<void>;
  /** Every log line of every process so far. */
  logText: () => string;
  close: () => Promise<void>;
}

export const transactionBody = (ref: string, fields: Record<string, unknown> = {}) => ({
  transaction_type_id: 'txntp_KYC123',
  fields: { name_first: 'Ada', name_last: `Lovelace-${ref}`, birthdate: '1815-12-10', ...fields },
  reference_id: ref,
});

export async function startFleet(options: FleetOptions = {}): Promise<Fleet> {
  const redis = await SpawnedRedis.start([
    '--appendonly',
    'yes',
    '--appendfsync',
    'always',
    ...(options.redisArgs ?? []),
  ]);
  const prefix = uniquePrefix('fault');
  let redisUrl = redis.url;
  if (options.redisPassword) {
    // Set once the server answers (SpawnedRedis waits for a PING without a password).
    const admin = new Redis(redis.url, { maxRetriesPerRequest: 1 });
    await admin.config('SET', 'requirepass', options.redisPassword);
    admin.disconnect();
    redisUrl = `redis://:${encodeURIComponent(options.redisPassword)}@127.0.0.1:${redis.port}`;
  }
  const client = new Redis(redisUrl, { maxRetriesPerRequest: 1, enableOfflineQueue: false });
  const sim = new PersonaSimulator({
    apiKeys: [FLEET_PERSONA_KEY],
    rateLimit: { limit: 60_000, windowMs: 60_000 },
    decisionDelayMs: 500,
    ...options.sim,
  });
  await sim.listen();

  // Services listen on port 0 and say where in their "listening" line: no port race.
  const common = { REDIS_URL: redisUrl, QUEUE_PREFIX: prefix, LOG_LEVEL: 'info' };
  const receiver = new ServiceProcess('webhook-receiver', {
    ...common,
    WEBHOOK_RECEIVER_PORT: '0',
    PERSONA_WEBHOOK_SECRETS: FLEET_WEBHOOK_SECRET,
    ...options.receiverEnv,
  });
  const gateway = new ServiceProcess('api-gateway', {
    ...common,
    GATEWAY_PORT: '0',
    GATEWAY_API_KEYS: FLEET_TOKEN,
    GATEWAY_CALLER_RATE_PER_MINUTE: '0',
    GATEWAY_MAX_BACKLOG: '0',
    ...options.gatewayEnv,
  });
  const workerEnv: Record<string, string> = {
    ...common,
    PERSONA_API_KEY: FLEET_PERSONA_KEY,
    PERSONA_API_BASE_URL: sim.url,
    PERSONA_RATE_LIMIT_PER_MINUTE: '60000',
    PERSONA_RETRY_BASE_MS: '50',
    PERSONA_RETRY_CAP_MS: '400',
    PERSONA_LIST_LAG_MS: '0',
    EVENT_SWEEP_INTERVAL_MS: '0',
    WORKER_HTTP_PORT: '0',
    ...options.workerEnv,
  };
  const workers: ServiceProcess[] = [];
  const addWorker = async (env: Record<string, string> = {}) => {
    const worker = new ServiceProcess('workers', { ...workerEnv, ...env });
    workers.push(worker);
    await worker.waitForLine(/workers started/);
    return worker;
  };
  const urlOf = (line: string) => (JSON.parse(line) as { url: string }).url;
  let gatewayUrl: string;
  let receiverUrl: string;
  try {
    [gatewayUrl, receiverUrl] = await Promise.all([
      gateway.waitForLine(/api gateway listening/).then(urlOf),
      receiver.waitForLine(/webhook receiver listening/).then(urlOf),
      ...Array.from({ length: options.workers ?? 1 }, () => addWorker()),
    ]);
  } catch (err) {
    // Leave nothing running behind a start that failed.
    await Promise.all([gateway, receiver, ...workers].map((p) => p.kill()));
    await sim.close();
    client.disconnect();
    await redis.stop();
    throw err;
  }
  if (options.webhooks !== false && !options.sim?.webhook) {
    sim.webhooks.configure({
      url: `${receiverUrl}/webhooks/persona`,
      secrets: [FLEET_WEBHOOK_SECRET],
      retryDelaysMs: [200, 400, 800, 1600, 3200],
    });
  }

  const statuses = async (ids: string[]) => {
    const pipeline = client.pipeline();
    const keys = redisKeys(prefix);
    for (const id of ids) pipeline.hget(keys.request(id), 'status');
    const replies = (await pipeline.exec()) ?? [];
    return new Map(ids.map((id, i) => [id, (replies[i]?.[1] as string | null) ?? 'missing']));
  };

  return {
    prefix,
    redis,
    redisUrl,
    client,
    sim,
    gatewayUrl,
    receiverUrl,
    gateway,
    receiver,
    workers,
    workerEnv,
    addWorker,
    post: (body, headers = {}) =>
      fetch(`${gatewayUrl}/v1/transactions`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${FLEET_TOKEN}`,
          'content-type': 'application/json',
          ...headers,
        },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      }),
    statuses,
    waitSettled: async (ids, timeoutMs = 120_000) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const queued = [...(await statuses(ids)).entries()].filter(([, s]) => s === 'queued');
        if (queued.length === 0) return;
        if (Date.now() > deadline) {
          throw new Error(`${queued.length} requests still queued, e.g. ${queued[0]![0]}`);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    logText: () => [gateway, receiver, ...workers].map((p) => p.logs.text).join('\n'),
    close: async () => {
      await Promise.all([gateway, receiver, ...workers].map((p) => p.kill('SIGTERM')));
      await sim.close();
      client.disconnect();
      await redis.stop();
    },
  };
}
