import { Worker, type WorkerOptions } from 'bullmq';
import {
  cappedFullJitter,
  catalog,
  createEventStores,
  createRedis,
  EventGate,
  PERSONA_BACKOFF,
  PersonaClient,
  PersonaRateLimiter,
  RequestStore,
  actionQueuesOf,
  schedule,
  SweepCursorStore,
  disconnectAndThrow,
  guardMemoryPolicy,
  type QueueKey,
  type StartOptions,
} from '@pp/shared';
import type { WorkersConfig } from './config.ts';
import { workerObservability } from './observability.ts';
import { createProducers, type Producers } from './producers.ts';
import { buildRegistry } from './registry.ts';

/** How often finished jobs past their age are removed from every queue. */
const QUEUE_CLEAN_INTERVAL_MS = 3600 * 1000;

export interface RunningWorkers {
  limiter: PersonaRateLimiter;
  producers: Producers;
  workers: Partial<Record<QueueKey, Worker>>;
  /** The health and metrics listener, when `WORKER_HTTP_PORT` is not 0. */
  httpUrl: string | null;
  /** Stops taking jobs, lets active ones finish (up to the shutdown timeout), closes Redis. */
  close: () => Promise<void>;
}

/**
 * Starts every worker of this process from config (the registry), the periodic sweeps, and
 * the producers they share. Shutdown closes them in reverse order.
 */
export async function startWorkers(
  config: WorkersConfig,
  { logger, host = '0.0.0.0', onFatal = (err) => logger.error({ err }, err.message) }: StartOptions,
): Promise<RunningWorkers> {
  const connection = createRedis({
    url: config.REDIS_URL,
    role: 'worker',
    name: 'workers',
    logger,
  });
  await guardMemoryPolicy(connection, { logger, onRefused: onFatal }).catch(
    disconnectAndThrow(connection),
  );
  const prefix = config.QUEUE_PREFIX;
  const observability = workerObservability(connection, prefix);
  const limiter = new PersonaRateLimiter(connection, {
    prefix,
    limit: config.PERSONA_RATE_LIMIT_PER_MINUTE,
    windowMs: config.PERSONA_RATE_LIMIT_WINDOW_MS,
    marginMs: config.PERSONA_RATE_LIMIT_MARGIN_MS,
    burst: config.PERSONA_RATE_LIMIT_BURST,
    // Background work (the sweeps, lookups) keeps its share even under a creation backlog.
    backgroundReserve: Math.ceil(
      config.EVENT_SWEEP_BUDGET_SHARE * config.PERSONA_RATE_LIMIT_PER_MINUTE,
    ),
  });
  const persona = new PersonaClient({
    baseUrl: config.PERSONA_API_BASE_URL,
    apiKey: config.PERSONA_API_KEY,
    version: config.PERSONA_VERSION,
    timeoutMs: config.PERSONA_TIMEOUT_MS,
    limiter,
    logger: logger.child({ component: 'persona-client' }),
    observer: observability.personaObserver,
  });
  // Our stores on a connection of their own (see createRedis's `store`).
  const stores = createRedis({ url: config.REDIS_URL, role: 'store', name: 'stores', logger });
  const store = new RequestStore(stores, { prefix });
  const events = createEventStores(stores, {
    prefix,
    dedupeTtlSeconds: config.PERSONA_EVENT_DEDUPE_TTL_SECONDS,
    foreignTtlSeconds: Math.ceil(config.EVENT_LINK_TIMEOUT_MS / 1000),
  });
  const gate = new EventGate(stores, {
    prefix,
    dedupeTtlSeconds: config.PERSONA_EVENT_DEDUPE_TTL_SECONDS,
  });
  const producers = createProducers({ connection, prefix, gate, store, events, logger });
  const registry = buildRegistry({
    config,
    logger,
    store,
    events,
    cursor: new SweepCursorStore(stores, { prefix }),
    persona,
    limiter,
    producers,
    metrics: observability.events,
  });

  const common: WorkerOptions = {
    connection,
    prefix,
    lockDuration: config.WORKER_LOCK_DURATION_MS,
    stalledInterval: config.WORKER_STALLED_INTERVAL_MS,
    // Processors are idempotent, so a job whose worker died is simply run again.
    maxStalledCount: 10,
    settings: {
      backoffStrategy: (attemptsMade, type) =>
        type === PERSONA_BACKOFF
          ? cappedFullJitter(
              attemptsMade,
              config.PERSONA_RETRY_BASE_MS,
              config.PERSONA_RETRY_CAP_MS,
            )
          : 1000,
    },
  };
  const workers: Partial<Record<QueueKey, Worker>> = {};
  for (const [key, spec] of Object.entries(registry) as [
    QueueKey,
    NonNullable<(typeof registry)[QueueKey]>,
  ][]) {
    const name = catalog[key].name;
    const worker = new Worker(name, spec.processor, { ...common, ...spec.options });
    worker.on('error', (err) => logger.warn({ err, queue: name }, 'worker error'));
    // The worker that held it died or lost its lock: this process runs it again.
    worker.on('stalled', (jobId) => logger.warn({ jobId, queue: name }, 'stalled job taken over'));
    observability.watchWorker(worker);
    workers[key] = worker;
  }

  workers.transactionCreate?.on('failed', (job, err) => {
    if (!job) return;
    void job
      .isFailed()
      .then(async (final) => {
        if (!final) return;
        // Only reached when BullMQ gave up outside the processor (e.g. stalled too often).
        const { requestId } = catalog.transactionCreate.payload.parse(job.data);
        const settled = await store.markFailed(requestId, {
          code: 'processing_failed',
          message: 'the job failed in the worker',
        });
        if (settled === 'settled') logger.error({ requestId, err }, 'job failed for good');
      })
      .catch((e: unknown) => logger.warn({ err: e }, 'could not record a failed job'));
  });

  // Any number of processes may upsert the same scheduler: one run per interval.
  const { queue } = producers;
  await schedule(
    queue(catalog.reconcileSweep.name),
    'reconcileSweep',
    config.RECONCILE_INTERVAL_MS,
  );
  await schedule(queue(catalog.eventSweep.name), 'eventSweep', config.EVENT_SWEEP_INTERVAL_MS);
  await schedule(queue(catalog.queueClean.name), 'queueClean', QUEUE_CLEAN_INTERVAL_MS);

  const running = Object.values(workers);
  await Promise.all(running.map((w) => w.waitUntilReady()));
  const actionQueues = actionQueuesOf(config.routingRules);
  await observability.start({
    queues: () => [
      ...Object.values(catalog).map((spec) => queue(spec.name)),
      ...actionQueues.map((name) => queue(name)),
    ],
    limiter,
    port: config.WORKER_HTTP_PORT,
    host,
    logger,
  });
  logger.info(
    {
      queues: running.map((w) => w.name),
      concurrency: config.WORKER_CONCURRENCY,
      ratePerWindow: config.PERSONA_RATE_LIMIT_PER_MINUTE,
      windowMs: config.PERSONA_RATE_LIMIT_WINDOW_MS,
    },
    'workers started',
  );

  return {
    limiter,
    producers,
    workers,
    httpUrl: observability.url,
    close: async () => {
      const deadline = new Promise<void>((resolve) =>
        setTimeout(resolve, config.WORKER_SHUTDOWN_TIMEOUT_MS).unref(),
      );
      await Promise.race([Promise.all([...running].reverse().map((w) => w.close())), deadline]);
      await observability.close();
      await producers.close();
      stores.disconnect();
      connection.disconnect();
    },
  };
}
