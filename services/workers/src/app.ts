import { Job, Queue, Worker, type Processor, type WorkerOptions } from 'bullmq';
import {
  actionJobOptions,
  actionPayload,
  cappedFullJitter,
  catalog,
  createRedis,
  EventGate,
  EventStateStore,
  PERSONA_BACKOFF,
  PersonaClient,
  PersonaRateLimiter,
  RequestStore,
  type EventSummary,
  type Logger,
} from '@pp/shared';
import type { WorkersConfig } from './config.ts';
import { personaEventProcessor } from './processors/persona-event.processor.ts';
import {
  personaLookupProcessor,
  reconcileSweepProcessor,
} from './processors/reconcile.processor.ts';
import { transactionCreateProcessor } from './processors/transaction-create.processor.ts';

export interface RunningWorkers {
  limiter: PersonaRateLimiter;
  workers: Worker[];
  /** Stops taking jobs, lets active ones finish (up to the shutdown timeout), closes Redis. */
  close: () => Promise<void>;
}

/** Claim ttl of the event gate when reconciliation feeds events in. */
const GATE_CLAIM_TTL_MS = 10_000;

/**
 * Builds every worker of this process from config: the registry of queues, their
 * processors, concurrency and locks. Shutdown closes them in reverse order.
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
  const state = new EventStateStore(connection, {
    prefix,
    dedupeTtlSeconds: config.PERSONA_EVENT_DEDUPE_TTL_SECONDS,
  });
  const gate = new EventGate(connection, {
    prefix,
    claimTtlMs: GATE_CLAIM_TTL_MS,
    dedupeTtlSeconds: config.PERSONA_EVENT_DEDUPE_TTL_SECONDS,
  });

  const queues = new Map<string, Queue>();
  const queue = (name: string): Queue => {
    let q = queues.get(name);
    if (!q) {
      q = new Queue(name, { connection, prefix });
      q.on('error', (err) => logger.warn({ err, queue: name }, 'queue error'));
      queues.set(name, q);
    }
    return q;
  };

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
  // Queues whose jobs call Persona release one job per tick, fleet-wide, so that a queue
  // resuming after a budget pause releases one job, not one per worker slot. Ticks are
  // well under a Persona slot: the budget, not this, sets the pace.
  const personaTick = {
    max: 1,
    duration: Math.max(
      5,
      Math.floor(
        (config.PERSONA_RATE_LIMIT_WINDOW_MS + config.PERSONA_RATE_LIMIT_MARGIN_MS) /
          config.PERSONA_RATE_LIMIT_PER_MINUTE /
          4,
      ),
    ),
  };

  /** Feeds an event into the webhook path: the gate, then the events queue. */
  const ingest = async (summary: EventSummary) => {
    const claim = await gate.claim(summary.eventId);
    if (claim.result !== 'claimed') return;
    const spec = catalog.personaEvents;
    await queue(spec.name).add('event', spec.payload.parse(summary), {
      ...spec.jobOptions,
      jobId: summary.eventId,
    });
    await gate.confirm(summary.eventId, claim.nonce);
  };

  /** Parked events run now instead of at their next look. */
  const wake = async (eventIds: string[]) => {
    for (const eventId of eventIds) {
      const job = await Job.fromId(queue(catalog.personaEvents.name), eventId);
      if (job && (await job.isDelayed())) await job.promote().catch(() => undefined);
    }
  };

  /** A Persona transaction was linked to its request: its parked events go, late ones are replayed. */
  const onLinked = async (personaTransactionId: string) => {
    await wake(await state.takePending(personaTransactionId));
    const spec = catalog.personaEvents;
    for (const summary of await state.takeLate(personaTransactionId)) {
      await queue(spec.name).add('event', summary, {
        ...spec.jobOptions,
        jobId: `${summary.eventId}-late`,
      });
    }
  };

  const registry: { name: string; processor: Processor; options: Partial<WorkerOptions> }[] = [
    {
      name: catalog.transactionCreate.name,
      processor: transactionCreateProcessor({
        logger: logger.child({ queue: catalog.transactionCreate.name }),
        store,
        persona,
        queue: queue(catalog.transactionCreate.name),
        reconcileAfter: config.PERSONA_RECONCILE_AFTER_5XX,
        onLinked,
      }),
      options: { concurrency: config.WORKER_CONCURRENCY, limiter: personaTick },
    },
    {
      name: catalog.personaEvents.name,
      processor: personaEventProcessor({
        logger: logger.child({ queue: catalog.personaEvents.name }),
        store,
        state,
        rules: config.routingRules,
        decisionStatuses: new Set(config.DECISION_STATUSES),
        linkTimeoutMs: config.EVENT_LINK_TIMEOUT_MS,
        wake,
        fanOut: async (name, eventId, payload) => {
          await queue(name).add('action', actionPayload.parse(payload), {
            ...actionJobOptions,
            jobId: eventId,
          });
        },
      }),
      options: { concurrency: config.EVENT_CONCURRENCY },
    },
    {
      name: catalog.reconcileSweep.name,
      processor: reconcileSweepProcessor({
        logger: logger.child({ queue: catalog.reconcileSweep.name }),
        store,
        state,
        afterMs: config.RECONCILE_AFTER_MS,
        batch: 200,
        enqueueLookup: async (requestId, transactionId, now) => {
          const spec = catalog.personaLookup;
          await queue(spec.name).add('lookup', spec.payload.parse({ requestId, transactionId }), {
            ...spec.jobOptions,
            // One lookup per request per sweep; a failed one kept for inspection never blocks the next.
            jobId: `lookup-${requestId}-${now}`,
          });
        },
      }),
      options: { concurrency: 1 },
    },
    {
      name: catalog.personaLookup.name,
      processor: personaLookupProcessor({
        logger: logger.child({ queue: catalog.personaLookup.name }),
        store,
        state,
        persona,
        ingest,
        queue: queue(catalog.personaLookup.name),
      }),
      options: { concurrency: 2, limiter: personaTick },
    },
  ];

  const workers = registry.map(({ name, processor, options }) => {
    const worker = new Worker(name, processor, { ...common, ...options });
    worker.on('error', (err) => logger.warn({ err, queue: name }, 'worker error'));
    return worker;
  });

  const createWorker = workers[0]!;
  createWorker.on('failed', (job, err) => {
    if (!job) return;
    void job
      .isFailed()
      .then(async (final) => {
        if (!final) return;
        // Only reached when BullMQ gave up outside the processor (e.g. stalled too often).
        const { id } = catalog.transactionCreate.payload.parse(job.data);
        await store.markFailed(id, {
          code: 'processing_failed',
          message: 'the job failed in the worker',
        });
        logger.error({ requestId: id, err }, 'job failed for good');
      })
      .catch((e: unknown) => logger.warn({ err: e }, 'could not record a failed job'));
  });

  // Any number of processes may upsert the same scheduler: one sweep per interval.
  await queue(catalog.reconcileSweep.name).upsertJobScheduler(
    'reconcile-sweep',
    { every: config.RECONCILE_INTERVAL_MS },
    { name: 'sweep', data: {}, opts: catalog.reconcileSweep.jobOptions },
  );

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
      await Promise.all([...queues.values()].map((q) => q.close()));
      connection.disconnect();
    },
  };
}
