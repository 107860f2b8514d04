import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { personaSignature, PersonaSimulator, type SimulatorOptions } from '@pp/persona-sim';
import { catalog, redisAnswers, RequestStore } from '@pp/shared';
import {
  eventually,
  freePort,
  keysUnder,
  ServiceProcess,
  SpawnedRedis,
  uniquePrefix,
  transactionEventBody,
} from '@pp/testing';

/**
 * The services' life cycle, each started as production starts it (`node src/main.ts`):
 * readiness follows Redis away and back without a restart, and SIGTERM lets the work in
 * flight finish (or cuts it at SHUTDOWN_TIMEOUT_MS) and exits 0 with nothing lost.
 */

const TOKEN = 'lifecycle-gateway-token';
const SECRET = 'wbhsec_lifecycle_secret';
const PERSONA_KEY = 'persona_sandbox_lifecycle_key';

let redis: SpawnedRedis;
const processes: ServiceProcess[] = [];
const sims: PersonaSimulator[] = [];
const clients: Redis[] = [];

beforeAll(async () => {
  redis = await SpawnedRedis.start();
});
afterAll(async () => {
  await redis.stop();
});
afterEach(async () => {
  await Promise.all(processes.splice(0).map((p) => p.kill('SIGKILL')));
  await Promise.all(sims.splice(0).map((s) => s.close()));
  if (!(await redisAnswers(redis.url))) await redis.restart();
  for (const c of clients.splice(0)) {
    await c.call('CLIENT', 'UNPAUSE').catch(() => undefined);
    c.disconnect();
  }
});

/** The test's own connection to its Redis (reads, CLIENT PAUSE). */
function admin(): Redis {
  const c = new Redis(redis.url, { maxRetriesPerRequest: 1 });
  c.on('error', () => {});
  clients.push(c);
  return c;
}

interface Service {
  svc: ServiceProcess;
  url: string;
  port: number;
}

async function start(
  service: 'api-gateway' | 'webhook-receiver' | 'workers',
  env: Record<string, string>,
  port: number,
  ready: RegExp,
): Promise<Service> {
  const svc = new ServiceProcess(service, { REDIS_URL: redis.url, ...env });
  processes.push(svc);
  await svc.waitForLine(ready);
  return { svc, url: `http://127.0.0.1:${port}`, port };
}

const startGateway = async (prefix: string, env: Record<string, string> = {}) => {
  const port = await freePort();
  const gateway = { QUEUE_PREFIX: prefix, GATEWAY_PORT: String(port), GATEWAY_API_KEYS: TOKEN };
  return start('api-gateway', { ...gateway, ...env }, port, /api gateway listening/);
};

const startReceiver = async (prefix: string, env: Record<string, string> = {}) => {
  const port = await freePort();
  const receiver = {
    QUEUE_PREFIX: prefix,
    WEBHOOK_RECEIVER_PORT: String(port),
    PERSONA_WEBHOOK_SECRETS: SECRET,
  };
  return start('webhook-receiver', { ...receiver, ...env }, port, /webhook receiver listening/);
};

/** Workers on the simulator; their HTTP listener is on a free port. */
const startWorkers = async (prefix: string, sim: PersonaSimulator) => {
  const port = await freePort();
  const workers = {
    QUEUE_PREFIX: prefix,
    PERSONA_API_KEY: PERSONA_KEY,
    PERSONA_API_BASE_URL: sim.url,
    PERSONA_LIST_LAG_MS: '0',
    EVENT_SWEEP_INTERVAL_MS: '0',
    WORKER_HTTP_PORT: String(port),
  };
  return start('workers', workers, port, /workers started/);
};

/** A simulator without webhooks or decisions: a request ends `submitted`. */
async function startSim(options: Partial<SimulatorOptions> = {}): Promise<PersonaSimulator> {
  const sim = new PersonaSimulator({ apiKeys: [PERSONA_KEY], decisionDelayMs: 60_000, ...options });
  sims.push(sim);
  await sim.listen();
  return sim;
}

const txBody = (ref: string) =>
  JSON.stringify({
    transaction_type_id: 'txntp_KYC123',
    fields: { name_first: 'Ada', name_last: `Lovelace-${ref}` },
    reference_id: ref,
  });

const gatewayHeaders = (key?: string): Record<string, string> => ({
  authorization: `Bearer ${TOKEN}`,
  'content-type': 'application/json',
  ...(key ? { 'idempotency-key': key } : {}),
});

const eventBody = (id: string) =>
  transactionEventBody(id, 'txn_lifecycle1', { status: 'approved', fields: {} });

const webhookHeaders = (raw: string): Record<string, string> => ({
  'content-type': 'application/json',
  'persona-signature': personaSignature(raw, [SECRET], Math.floor(Date.now() / 1000)),
});

type Answer = { status: number; body: string } | 'cut';

/**
 * A POST on a connection of its own, sent with `Expect: 100-continue`: `taken` resolves when
 * the server has parsed the request (it answered 100 Continue, then gets the body), so
 * the request is in the server's hands, not in a listen backlog. `answer` is the response,
 * or `'cut'` when the connection ends without one.
 */
function postTaken(url: string, body: string, headers: Record<string, string>) {
  let answered = false;
  let onTaken!: () => void;
  let onLost!: (err: Error) => void;
  const taken = new Promise<void>((resolve, reject) => {
    onTaken = resolve;
    onLost = reject;
  });
  const answer = new Promise<Answer>((resolve) => {
    const req = httpRequest(url, {
      method: 'POST',
      agent: false,
      headers: { ...headers, 'content-length': Buffer.byteLength(body), expect: '100-continue' },
    });
    req.on('continue', () => {
      onTaken();
      req.end(body);
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', () => resolve('cut'));
      res.on('end', () => {
        answered = true;
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() });
      });
    });
    req.on('error', (err) => {
      answered = true;
      onLost(err);
      resolve('cut');
    });
    req.flushHeaders();
  });
  return {
    taken,
    answer,
    get answered() {
      return answered;
    },
  };
}

/** True when a new TCP connection to the port is refused. */
const refuses = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
  });

const running = (s: Service) => s.svc.proc.exitCode === null && s.svc.proc.signalCode === null;

const statusOf = async (url: string) => {
  const res = await fetch(url);
  await res.arrayBuffer();
  return res.status;
};

describe('readiness follows Redis', () => {
  it('When Redis goes away and comes back, then /readyz of the gateway, the receiver and the workers turns 503 and then 200 again while /healthz stays 200, with no process restarted', async () => {
    const prefix = uniquePrefix('life-ready');
    const sim = await startSim();
    const services = await Promise.all([
      startGateway(prefix),
      startReceiver(prefix),
      startWorkers(prefix, sim),
    ]);
    const [gateway] = services;
    const pids = services.map((s) => s.svc.proc.pid);
    const probe = (path: string) => Promise.all(services.map((s) => statusOf(`${s.url}${path}`)));
    expect(await probe('/readyz')).toEqual([200, 200, 200]);

    await redis.kill();
    await eventually(async () => (await probe('/readyz')).every((s) => s === 503), {
      timeoutMs: 10_000,
      what: 'every /readyz to answer 503 while Redis is away',
    });
    expect(await probe('/healthz')).toEqual([200, 200, 200]);

    await redis.restart();
    await eventually(async () => (await probe('/readyz')).every((s) => s === 200), {
      timeoutMs: 15_000,
      what: 'every /readyz to answer 200 once Redis is back',
    });
    expect(services.every(running)).toBe(true);
    expect(services.map((s) => s.svc.proc.pid)).toEqual(pids);

    // Ready means working: a request posted now is submitted by the same worker process.
    const res = await fetch(`${gateway.url}/v1/transactions`, {
      method: 'POST',
      headers: gatewayHeaders(),
      body: txBody('ready-after-outage'),
    });
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };
    const store = new RequestStore(admin(), { prefix });
    await eventually(async () => (await store.get(id))?.status === 'submitted', {
      timeoutMs: 15_000,
      what: 'the request submitted by the workers after the outage',
    });
    expect(sim.transactionsFor('ready-after-outage')).toHaveLength(1);
  });
});

describe('SIGTERM with work in flight', () => {
  it('When SIGTERM lands while POSTs wait on Redis, then the gateway refuses new connections, answers each 202, exits 0, and every request and its creation job are stored', async () => {
    const prefix = uniquePrefix('life-gw');
    const gateway = await startGateway(prefix, { GATEWAY_REDIS_TIMEOUT_MS: '5000' });
    const r = admin();
    // Writes wait until UNPAUSE below (4 s at most, under the gateway's 5 s deadline).
    await r.call('CLIENT', 'PAUSE', '4000', 'WRITE');
    const posts = Array.from({ length: 5 }, (_, i) =>
      postTaken(`${gateway.url}/v1/transactions`, txBody(`gw-term-${i}`), gatewayHeaders()),
    );
    await Promise.all(posts.map((p) => p.taken));

    gateway.svc.proc.kill('SIGTERM');
    await eventually(() => refuses(gateway.port), { what: 'the gateway to stop accepting' });
    expect(running(gateway)).toBe(true);
    expect(posts.filter((p) => p.answered)).toHaveLength(0);
    await r.call('CLIENT', 'UNPAUSE');

    const answers = await Promise.all(posts.map((p) => p.answer));
    expect(answers.map((a) => (a === 'cut' ? a : a.status))).toEqual(Array(5).fill(202));
    expect(await gateway.svc.exited()).toBe(0);

    const store = new RequestStore(r, { prefix });
    const queue = new Queue(catalog.transactionCreate.name, { connection: r, prefix });
    try {
      for (const a of answers) {
        const { id } = JSON.parse((a as Exclude<Answer, 'cut'>).body) as { id: string };
        expect((await store.get(id))?.status).toBe('queued');
        expect(await queue.getJobState(id)).toBe('waiting');
      }
    } finally {
      await queue.close();
    }
  });

  it('When SIGTERM lands while webhook deliveries wait on Redis, then the receiver refuses new connections, answers each 200, exits 0, and every event job is stored', async () => {
    const prefix = uniquePrefix('life-rcv');
    const receiver = await startReceiver(prefix, { WEBHOOK_REDIS_TIMEOUT_MS: '5000' });
    const r = admin();
    await r.call('CLIENT', 'PAUSE', '4000', 'WRITE');
    const ids = Array.from({ length: 5 }, (_, i) => `evt_lifecycleTerm${Date.now()}x${i}`);
    const deliveries = ids.map((id) => {
      const raw = eventBody(id);
      return postTaken(`${receiver.url}/webhooks/persona`, raw, webhookHeaders(raw));
    });
    await Promise.all(deliveries.map((d) => d.taken));

    receiver.svc.proc.kill('SIGTERM');
    await eventually(() => refuses(receiver.port), { what: 'the receiver to stop accepting' });
    expect(running(receiver)).toBe(true);
    expect(deliveries.filter((d) => d.answered)).toHaveLength(0);
    await r.call('CLIENT', 'UNPAUSE');

    const answers = await Promise.all(deliveries.map((d) => d.answer));
    expect(answers.map((a) => (a === 'cut' ? a : a.status))).toEqual(Array(5).fill(200));
    expect(await receiver.svc.exited()).toBe(0);

    const queue = new Queue(catalog.personaEvents.name, { connection: r, prefix });
    try {
      for (const id of ids) expect(await queue.getJobState(id)).toBe('waiting');
    } finally {
      await queue.close();
    }
  });

  it('When SIGTERM lands while a creation call is open at Persona, then the workers wait for it, exit 0, and the request is submitted with one transaction and no job left active or stalled', async () => {
    const prefix = uniquePrefix('life-wk');
    // Every Persona call takes 1.5 s, so SIGTERM lands while the create call is open.
    const sim = await startSim({ faults: { latencyRate: 1, latencyMs: 1500 } });
    const [gateway, workers] = await Promise.all([startGateway(prefix), startWorkers(prefix, sim)]);
    const res = await fetch(`${gateway.url}/v1/transactions`, {
      method: 'POST',
      headers: gatewayHeaders(),
      body: txBody('wk-term'),
    });
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };
    const call = await eventually(() => sim.requests.find((q) => q.method === 'POST'), {
      what: 'the create call at Persona',
    });

    workers.svc.proc.kill('SIGTERM');
    expect(await workers.svc.exited()).toBe(0);
    // It stayed until Persona answered the call that was open when the signal came.
    expect(Date.now() - call.at).toBeGreaterThanOrEqual(1500);

    const created = sim.transactionsFor('wk-term');
    expect(created).toHaveLength(1);
    expect(sim.requests.filter((q) => q.method === 'POST')).toHaveLength(1);
    const r = admin();
    const request = await new RequestStore(r, { prefix }).get(id);
    expect(request).toMatchObject({ status: 'submitted', personaTransactionId: created[0]!.id });
    const queue = new Queue(catalog.transactionCreate.name, { connection: r, prefix });
    try {
      expect(await queue.getJobState(id)).toBe('completed');
      const counts = await queue.getJobCounts('active', 'wait', 'delayed', 'prioritized', 'failed');
      expect(counts).toEqual({ active: 0, wait: 0, delayed: 0, prioritized: 0, failed: 0 });
      const base = `${prefix}:${catalog.transactionCreate.name}`;
      expect(await r.scard(`${base}:stalled`)).toBe(0);
      expect(await r.exists(`${base}:${id}:lock`)).toBe(0);
    } finally {
      await queue.close();
    }
  });

  it('When SHUTDOWN_TIMEOUT_MS runs out before a POST held by Redis finishes, then the gateway cuts it and exits 0, and a retry with the same Idempotency-Key to a new gateway yields exactly one request', async () => {
    const prefix = uniquePrefix('life-cut');
    const gateway = await startGateway(prefix, {
      GATEWAY_REDIS_TIMEOUT_MS: '5000',
      SHUTDOWN_TIMEOUT_MS: '300',
    });
    const r = admin();
    await r.call('CLIENT', 'PAUSE', '2000', 'WRITE');
    const post = postTaken(
      `${gateway.url}/v1/transactions`,
      txBody('cut-1'),
      gatewayHeaders('cut-key-1'),
    );
    await post.taken;

    const signalled = performance.now();
    gateway.svc.proc.kill('SIGTERM');
    expect(await gateway.svc.exited()).toBe(0);
    const took = performance.now() - signalled;
    // It gave the request its 300 ms, then cut it rather than wait out the 2 s pause.
    expect(took).toBeGreaterThanOrEqual(250);
    expect(took).toBeLessThan(1500);
    const first = await post.answer;
    expect(first === 'cut' || first.status === 503).toBe(true);
    await r.call('CLIENT', 'UNPAUSE');

    const again = await startGateway(prefix);
    const retry = await fetch(`${again.url}/v1/transactions`, {
      method: 'POST',
      headers: gatewayHeaders('cut-key-1'),
      body: txBody('cut-1'),
    });
    expect(retry.status).toBe(202);
    const { id } = (await retry.json()) as { id: string };
    const requests = (await keysUnder(r, prefix)).filter((k) =>
      new RegExp(`^${prefix}:req:[^:]+$`).test(k),
    );
    expect(requests).toEqual([`${prefix}:req:${id}`]);
    const queue = new Queue(catalog.transactionCreate.name, { connection: r, prefix });
    try {
      expect(await queue.getJobState(id)).toBe('waiting');
      expect(await queue.count()).toBe(1);
    } finally {
      await queue.close();
    }
  });
});
