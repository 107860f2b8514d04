import type { Processor, WorkerOptions } from 'bullmq';
import type {
  EventMetrics,
  EventStores,
  Logger,
  PersonaClient,
  PersonaRateLimiter,
  QueueKey,
  RequestStore,
  SweepCursorStore,
} from '@pp/shared';
import { actionJob, actionQueuesOf, catalog, TRANSACTION_PRODUCT } from '@pp/shared';
import type { WorkersConfig } from './config.ts';
import { routedEventNames } from './domain/routing.ts';
import { eventSweepProcessor } from './processors/event-sweep.processor.ts';
import { personaEventProcessor } from './processors/persona-event.processor.ts';
import { queueCleanProcessor } from './processors/queue-clean.processor.ts';
import {
  personaLookupProcessor,
  reconcileSweepProcessor,
} from './processors/reconcile.processor.ts';
import { transactionCreateProcessor } from './processors/transaction-create.processor.ts';
import type { Producers } from './producers.ts';

export interface WorkerSpec {
  processor: Processor;
  options: Partial<WorkerOptions>;
}

export interface RegistryDeps {
  config: WorkersConfig;
  logger: Logger;
  store: RequestStore;
  events: EventStores;
  cursor: SweepCursorStore;
  persona: PersonaClient;
  limiter: PersonaRateLimiter;
  producers: Producers;
  metrics: EventMetrics;
}

/** Requests due for a reconciliation look, read per sweep: enough for a minute's creations. */
const RECONCILE_BATCH = 200;
/** Lookups one process runs at once: they are background calls, a few are plenty. */
const LOOKUP_CONCURRENCY = 2;

/**
 * Every queue the workers consume, keyed by its catalog entry: the processor and the
 * per-queue options (concurrency, the fleet-wide tick for queues that call Persona).
 */
export function buildRegistry(deps: RegistryDeps): Partial<Record<QueueKey, WorkerSpec>> {
  const { config, logger, store, events, persona, producers, metrics } = deps;
  const child = (key: QueueKey) => logger.child({ queue: catalog[key].name });
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
  const { names, uncovered } = config.EVENT_SWEEP_NAMES
    ? { names: config.EVENT_SWEEP_NAMES, uncovered: [] }
    : routedEventNames(config.routingRules);
  if (uncovered.length > 0) {
    logger.warn(
      { rules: uncovered },
      'event sweep: these routing rules name no event it can ask for; give them an event name or set EVENT_SWEEP_NAMES',
    );
  }

  const registry: Partial<Record<QueueKey, WorkerSpec>> = {
    transactionCreate: {
      processor: transactionCreateProcessor({
        logger: child('transactionCreate'),
        store,
        persona,
        queue: producers.queue(catalog.transactionCreate.name),
        reconcileAfter: config.PERSONA_RECONCILE_AFTER_5XX,
        listLagMs: config.PERSONA_LIST_LAG_MS,
        quotaMaxWaitMs: config.PERSONA_QUOTA_MAX_WAIT_MS,
        quotaBlockedSince: () => deps.limiter.quotaBlockedSince(TRANSACTION_PRODUCT),
        onLinked: producers.onLinked,
      }),
      options: { concurrency: config.WORKER_CONCURRENCY, limiter: personaTick },
    },
    personaEvents: {
      processor: personaEventProcessor({
        logger: child('personaEvents'),
        store,
        events,
        rules: config.routingRules,
        decisionStatuses: new Set(config.DECISION_STATUSES),
        linkTimeoutMs: config.EVENT_LINK_TIMEOUT_MS,
        onLinked: producers.onLinked,
        release: producers.release,
        businessJob: producers.businessJob,
        metrics,
      }),
      options: { concurrency: config.EVENT_CONCURRENCY },
    },
    reconcileSweep: {
      processor: reconcileSweepProcessor({
        logger: child('reconcileSweep'),
        store,
        awaiting: events.awaiting,
        afterMs: config.RECONCILE_AFTER_MS,
        batch: RECONCILE_BATCH,
        enqueueLookup: producers.enqueueLookup,
        metrics,
      }),
      options: { concurrency: 1 },
    },
    personaLookup: {
      processor: personaLookupProcessor({
        logger: child('personaLookup'),
        store,
        awaiting: events.awaiting,
        persona,
        ingest: producers.ingest,
        replay: producers.replay,
        queue: producers.queue(catalog.personaLookup.name),
        metrics,
      }),
      options: { concurrency: LOOKUP_CONCURRENCY, limiter: personaTick },
    },
  };
  const actionQueues = actionQueuesOf(config.routingRules);
  registry.queueClean = {
    processor: queueCleanProcessor({
      logger: child('queueClean'),
      queues: () => [
        ...Object.values(catalog).map((spec) => ({
          queue: producers.queue(spec.name),
          options: spec.jobOptions,
        })),
        ...actionQueues.map((name) => ({
          queue: producers.queue(name),
          options: actionJob.jobOptions,
        })),
      ],
    }),
    options: { concurrency: 1 },
  };
  if (config.EVENT_SWEEP_INTERVAL_MS > 0) {
    registry.eventSweep = {
      processor: eventSweepProcessor({
        logger: child('eventSweep'),
        persona,
        ingest: producers.ingest,
        cursor: deps.cursor,
        names,
        pagesPerRun: sweepPagesPerRun(config),
        listLagMs: config.PERSONA_LIST_LAG_MS,
        maxWaitMs: config.EVENT_SWEEP_INTERVAL_MS,
        sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
        metrics,
      }),
      options: { concurrency: 1 },
    };
  }
  return registry;
}

/** The sweep's share of the budget, in pages per run (at least one). */
function sweepPagesPerRun(config: WorkersConfig): number {
  const perWindow = config.EVENT_SWEEP_BUDGET_SHARE * config.PERSONA_RATE_LIMIT_PER_MINUTE;
  return Math.max(
    1,
    Math.floor((perWindow * config.EVENT_SWEEP_INTERVAL_MS) / config.PERSONA_RATE_LIMIT_WINDOW_MS),
  );
}
