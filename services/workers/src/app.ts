import { Queue, Worker, type WorkerOptions } from 'bullmq';
import {
  cappedFullJitter,
  catalog,
  createRedis,
  PERSONA_BACKOFF,
  PersonaClient,
  PersonaRateLimiter,
  RequestStore,
  type Logger,
} from '@pp/shared';
import type { WorkersConfig } from './config.ts';
import { transactionCreateProcessor } from './processors/transaction-create.processor.ts';

export interface RunningWorkers {
  limiter: PersonaRateLimiter;
  workers: Worker[];
  /** Stops taking jobs, lets active ones finish (up to the shutdown timeout), closes Redis. */
  close: () => Promise<void>;
}

/**
 * Builds every worker of this process from config. Each queue gets its processor, its
 * concurrency and its lock settings here; shutdown closes them in reverse order.
 */
export async function startWorkers(
  config: WorkersConfig,
  { logger }: { logger: Logger },
): Promise<RunningWorkers> {
  const connection = createRedis({
    url: config.REDIS_URL,
    role: 'worker',
    name: 'workers',
    logger,
  });
  const prefix = config.QUEUE_PREFIX;
  const limiter = new PersonaRateLimiter(connection, {
    prefix,
    limit: config.PERSONA_RATE_LIMIT_PER_MINUTE,
    windowMs: config.PERSONA_RATE_LIMIT_WINDOW_MS,
    marginMs: config.PERSONA_RATE_LIMIT_MARGIN_MS,
    burst: config.PERSONA_RATE_LIMIT_BURST,
  });
  const persona = new PersonaClient({
    baseUrl: config.PERSONA_API_BASE_URL,
    apiKey: config.PERSONA_API_KEY,
    version: config.PERSONA_VERSION,
    timeoutMs: config.PERSONA_TIMEOUT_MS,
    limiter,
    logger: logger.child({ component: 'persona-client' }),
  });
  const store = new RequestStore(connection, { prefix });

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

  const createSpec = catalog.transactionCreate;
  const createQueue = new Queue(createSpec.name, { connection, prefix });
  // One job leaves the queue per tick, fleet-wide, so that a queue resuming after a
  // budget pause releases one job, not one per worker slot; ticks are well under a
  // Persona slot, so the budget, not this, sets the pace.
  const tickMs = Math.max(
    5,
    Math.floor(
      (config.PERSONA_RATE_LIMIT_WINDOW_MS + config.PERSONA_RATE_LIMIT_MARGIN_MS) /
        config.PERSONA_RATE_LIMIT_PER_MINUTE /
        4,
    ),
  );
  const createWorker = new Worker(
    createSpec.name,
    transactionCreateProcessor({
      logger: logger.child({ queue: createSpec.name }),
      store,
      persona,
      queue: createQueue,
      reconcileAfter: config.PERSONA_RECONCILE_AFTER_5XX,
    }),
    { ...common, concurrency: config.WORKER_CONCURRENCY, limiter: { max: 1, duration: tickMs } },
  );

  const workers = [createWorker];
  for (const worker of workers) {
    worker.on('error', (err) => logger.warn({ err, queue: worker.name }, 'worker error'));
    worker.on('failed', (job, err) => {
      if (!job) return;
      void job
        .isFailed()
        .then(async (final) => {
          if (!final) return;
          // Only reached when BullMQ gave up outside the processor (e.g. stalled too often).
          const { id } = createSpec.payload.parse(job.data);
          await store.markFailed(id, {
            code: 'processing_failed',
            message: 'the job failed in the worker',
          });
          logger.error({ requestId: id, err }, 'job failed for good');
        })
        .catch((e: unknown) => logger.warn({ err: e }, 'could not record a failed job'));
    });
  }
  await Promise.all(workers.map((w) => w.waitUntilReady()));
  logger.info(
    {
      queues: workers.map((w) => w.name),
      concurrency: config.WORKER_CONCURRENCY,
      ratePerWindow: config.PERSONA_RATE_LIMIT_PER_MINUTE,
      windowMs: config.PERSONA_RATE_LIMIT_WINDOW_MS,
    },
    'workers started',
  );

  return {
    limiter,
    workers,
    close: async () => {
      const deadline = new Promise<void>((resolve) =>
        setTimeout(resolve, config.WORKER_SHUTDOWN_TIMEOUT_MS).unref(),
      );
      await Promise.race([Promise.all([...workers].reverse().map((w) => w.close())), deadline]);
      await createQueue.close();
      connection.disconnect();
    },
  };
}
