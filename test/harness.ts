import { Queue, QueueEvents, type ConnectionOptions } from 'bullmq';
import { startGateway, type RunningGateway } from '@pp/api-gateway/server';
import { GatewayEnv } from '@pp/api-gateway/config';
import {
  personaSignature,
  PersonaSimulator,
  type SimEvent,
  type SimulatorOptions,
} from '@pp/persona-sim';
import {
  actionPayload,
  catalog,
  createLogger,
  createRedis,
  isClusterUrl,
  parseConfig,
  type ActionPayload,
} from '@pp/shared';
import { deletePrefix, eventually, LogCapture, REDIS_URL, uniquePrefix } from '@pp/testing';
import { startReceiver, type RunningReceiver } from '@pp/webhook-receiver/server';
import { ReceiverEnv } from '@pp/webhook-receiver/config';
import { startWorkers, type RunningWorkers } from '@pp/workers/app';
import { WorkersEnv } from '@pp/workers/config';

const GATEWAY_TOKEN = 'e2e-gateway-token';
export const PERSONA_KEY = 'persona_sandbox_e2e_key';
export const WEBHOOK_SECRET = 'wbhsec_e2e_secret';

export interface PipelineOptions {
  sim?: Partial<SimulatorOptions>;
  /** Extra worker env; `false` starts no in-process workers (the test runs its own). */
  workers?: Record<string, string> | false;
  gatewayToken?: string;
  personaKey?: string;
  /** Extra receiver env. */
  receiver?: Record<string, string>;
  /** Extra gateway env. */
  gateway?: Record<string, string>;
  /** Simulator webhooks go to the receiver unless this is false. */
  webhooks?: boolean;
  /** Redis of every service (`redis+cluster://…` for a cluster). @defaultValue REDIS_URL */
  redisUrl?: string;
  /** Queue and key prefix. @defaultValue a fresh `e2e-…` */
  prefix?: string;
}

/** What `GET /v1/transactions/:id` answers. */
export interface View {
  id: string;
  status: string;
  persona_transaction_id: string | null;
  persona_status: string | null;
  error?: { code: string; message: string };
  verifications: { id: string; type: string; status: string }[];
  reports: { id: string; type: string; status: string }[];
  events: { event_id: string; name: string; status: string | null; applied: boolean }[];
}

export interface Pipeline {
  prefix: string;
  sim: PersonaSimulator;
  gateway: RunningGateway;
  receiver: RunningReceiver;
  workers: RunningWorkers | null;
  /** Every line the in-process services logged. */
  logs: LogCapture;
  /** The env a worker process needs to join this pipeline. */
  workerEnv: Record<string, string>;
  post: (body: unknown, headers?: Record<string, string>) => Promise<Response>;
  get: (id: string) => Promise<Record<string, unknown>>;
  view: (id: string) => Promise<View>;
  /** Resolves with the request's view once `check` holds. */
  until: (
    id: string,
    check: (v: View) => boolean,
    what: string,
    timeoutMs?: number,
  ) => Promise<View>;
  /** A queue of this pipeline (closed with it). */
  queue: (name: string) => Queue;
  /** The business jobs on an action queue, in any state. */
  jobsIn: (name: string) => Promise<ActionPayload[]>;
  /** Sends one simulator event to the receiver, signed as Persona signs it (kebab-case keys). */
  deliver: (event: SimEvent) => Promise<number>;
  /** Resolves once each request's creation job has completed. */
  waitForJobs: (ids: string[], timeoutMs?: number) => Promise<void>;
  close: () => Promise<void>;
}

/** Simulator, gateway and (by default) workers in this process, on real sockets and real Redis. */
export async function startPipeline(options: PipelineOptions = {}): Promise<Pipeline> {
  const prefix = options.prefix ?? uniquePrefix('e2e');
  const redisUrl = options.redisUrl ?? REDIS_URL;
  const logs = new LogCapture();
  const gatewayToken = options.gatewayToken ?? GATEWAY_TOKEN;
  const sim = new PersonaSimulator({
    apiKeys: [PERSONA_KEY],
    decisionDelayMs: 60_000,
    ...options.sim,
  });
  await sim.listen();
  const receiver = await startReceiver(
    parseConfig(ReceiverEnv, {
      REDIS_URL: redisUrl,
      QUEUE_PREFIX: prefix,
      WEBHOOK_RECEIVER_PORT: '0',
      PERSONA_WEBHOOK_SECRETS: WEBHOOK_SECRET,
      ...options.receiver,
    }),
    {
      logger: createLogger({ service: 'webhook-receiver', level: 'debug', destination: logs }),
      host: '127.0.0.1',
    },
  );
  if (options.webhooks !== false && !options.sim?.webhook) {
    sim.webhooks.configure({
      url: `${receiver.url}/webhooks/persona`,
      secrets: [WEBHOOK_SECRET],
      retryDelaysMs: [200, 400, 800],
    });
  }

  const gateway = await startGateway(
    parseConfig(GatewayEnv, {
      REDIS_URL: redisUrl,
      QUEUE_PREFIX: prefix,
      GATEWAY_PORT: '0',
      GATEWAY_API_KEYS: gatewayToken,
      ...options.gateway,
    }),
    {
      logger: createLogger({ service: 'api-gateway', level: 'debug', destination: logs }),
      host: '127.0.0.1',
    },
  );

  const workerEnv: Record<string, string> = {
    REDIS_URL: redisUrl,
    QUEUE_PREFIX: prefix,
    PERSONA_API_KEY: options.personaKey ?? PERSONA_KEY,
    PERSONA_API_BASE_URL: sim.url,
    PERSONA_RETRY_BASE_MS: '50',
    PERSONA_RETRY_CAP_MS: '400',
    // The simulator's lists do not lag unless a test says so; the event sweep runs where a test wants it.
    PERSONA_LIST_LAG_MS: '0',
    EVENT_SWEEP_INTERVAL_MS: '0',
    // No health listener unless a test asks for one (tests run many workers side by side).
    WORKER_HTTP_PORT: '0',
    LOG_LEVEL: 'debug',
    ...(options.workers || {}),
  };
  const workers =
    options.workers === false
      ? null
      : await startWorkers(parseConfig(WorkersEnv, workerEnv), {
          logger: createLogger({ service: 'workers', level: 'debug', destination: logs }),
        });

  // BullMQ takes a cluster only as a client; it duplicates it for QueueEvents' blocking reads.
  const client = isClusterUrl(redisUrl)
    ? createRedis({ url: redisUrl, role: 'worker', name: 'e2e-harness' })
    : null;
  const connection: ConnectionOptions = client ?? { url: redisUrl };
  const events = new QueueEvents(catalog.transactionCreate.name, { connection, prefix });
  await events.waitUntilReady();
  const queues = new Map<string, Queue>();
  const queue = (name: string) => {
    let q = queues.get(name);
    if (!q) {
      q = new Queue(name, { connection, prefix });
      queues.set(name, q);
    }
    return q;
  };
  const get = async (id: string) =>
    (await (
      await fetch(`${gateway.url}/v1/transactions/${id}`, {
        headers: { authorization: `Bearer ${gatewayToken}` },
      })
    ).json()) as Record<string, unknown>;
  const view = async (id: string) => (await get(id)) as unknown as View;
  const completed = new Set<string>();
  const waiters = new Map<string, () => void>();
  events.on('completed', ({ jobId }) => {
    completed.add(jobId);
    waiters.get(jobId)?.();
  });

  return {
    prefix,
    sim,
    gateway,
    receiver,
    workers,
    logs,
    workerEnv,
    post: (body, headers = {}) =>
      fetch(`${gateway.url}/v1/transactions`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${gatewayToken}`,
          'content-type': 'application/json',
          ...headers,
        },
        body: JSON.stringify(body),
      }),
    get,
    view,
    until: (id, check, what, timeoutMs = 30_000) =>
      eventually(
        async () => {
          const v = await view(id);
          return check(v) ? v : undefined;
        },
        { timeoutMs, what },
      ),
    queue,
    jobsIn: async (name) => {
      const jobs = await queue(name).getJobs([
        'waiting',
        'active',
        'completed',
        'delayed',
        'failed',
      ]);
      return jobs.map((j) => actionPayload.parse(j.data));
    },
    deliver: async (event) => {
      const raw = JSON.stringify({
        data: {
          type: 'event',
          id: event.id,
          attributes: {
            name: event.name,
            payload: { data: event.object, included: event.included },
            'created-at': event.createdAt,
          },
        },
      });
      const res = await fetch(`${receiver.url}/webhooks/persona`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'persona-signature': personaSignature(
            raw,
            [WEBHOOK_SECRET],
            Math.floor(Date.now() / 1000),
          ),
        },
        body: raw,
      });
      await res.arrayBuffer();
      return res.status;
    },
    waitForJobs: async (ids, timeoutMs = 60_000) => {
      const pending = ids.filter((id) => !completed.has(id));
      await Promise.race([
        Promise.all(pending.map((id) => new Promise<void>((resolve) => waiters.set(id, resolve)))),
        new Promise((_, reject) =>
          setTimeout(
            () =>
              reject(
                new Error(
                  `jobs not completed within ${timeoutMs} ms: ${ids.filter((i) => !completed.has(i)).length} left`,
                ),
              ),
            timeoutMs,
          ).unref(),
        ),
      ]);
    },
    close: async () => {
      await Promise.all([...queues.values()].map((q) => q.close()));
      await events.close();
      await workers?.close();
      await receiver.close();
      await gateway.close();
      await sim.close();
      client?.disconnect();
      await deletePrefix(redisUrl, prefix);
    },
  };
}
