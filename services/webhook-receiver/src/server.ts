import { Queue } from 'bullmq';
import {
  catalog,
  connectProducer,
  createJobInsert,
  createRegistry,
  eventMetrics,
  webhookMetrics,
  EventGate,
  pingRedis,
  serve,
  withTimeout,
  type Listening,
  guardMemoryPolicy,
  disconnectAndThrow,
  type StartOptions,
} from '@pp/shared';
import { buildApp } from './app.ts';
import type { ReceiverConfig } from './config.ts';

export type RunningReceiver = Listening;

export async function startReceiver(
  config: ReceiverConfig,
  { logger, host = '0.0.0.0', onFatal = (err) => logger.error({ err }, err.message) }: StartOptions,
): Promise<RunningReceiver> {
  const redis = await connectProducer({
    url: config.REDIS_URL,
    name: 'webhook-receiver',
    logger,
    commandTimeoutMs: config.WEBHOOK_REDIS_TIMEOUT_MS,
  });
  await guardMemoryPolicy(redis, { logger, onRefused: onFatal }).catch(disconnectAndThrow(redis));
  if (config.PERSONA_WEBHOOK_TOLERANCE_SECONDS === 0) {
    logger.warn(
      'PERSONA_WEBHOOK_TOLERANCE_SECONDS=0: signature timestamps are not checked, so a delivery captured and replayed after PERSONA_EVENT_DEDUPE_TTL_SECONDS would be processed again',
    );
  }
  const queue = new Queue(catalog.personaEvents.name, {
    connection: redis,
    prefix: config.QUEUE_PREFIX,
  });
  const jobInsert = createJobInsert(() => queue);
  queue.on('error', (err) => logger.warn({ err }, 'queue error'));
  const gate = new EventGate(redis, {
    prefix: config.QUEUE_PREFIX,
    dedupeTtlSeconds: config.PERSONA_EVENT_DEDUPE_TTL_SECONDS,
  });

  const registry = createRegistry('webhook-receiver', () => redis.status === 'ready');
  const countDelivery = webhookMetrics(registry);
  const events = eventMetrics(registry);
  let stopping = false;
  const app = buildApp({
    logger,
    registry,
    countDelivery: (outcome, reason) => {
      countDelivery(outcome, reason);
      if (outcome === 'duplicate') events.duplicate('receiver');
    },
    maxBodyBytes: config.WEBHOOK_MAX_BODY_BYTES,
    secrets: config.PERSONA_WEBHOOK_SECRETS,
    toleranceSeconds: config.PERSONA_WEBHOOK_TOLERANCE_SECONDS,
    nowSeconds: () => Math.floor(Date.now() / 1000),
    isAvailable: () => redis.status === 'ready',
    admit: (summary) =>
      withTimeout(
        gate.admit(summary.eventId, jobInsert('personaEvents', summary)),
        config.WEBHOOK_REDIS_TIMEOUT_MS,
        'redis deadline exceeded',
      ),
    checkReady: () => (stopping ? Promise.reject(new Error('stopping')) : pingRedis(redis, 1000)),
  });

  const listening = await serve(app, {
    port: config.WEBHOOK_RECEIVER_PORT,
    host,
    logger,
    what: 'webhook receiver',
    // Persona waits 5 s; slow senders are cut off well before they can pile up.
    headersTimeoutMs: 5000,
    requestTimeoutMs: 10_000,
    shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
    maxConnections: config.HTTP_MAX_CONNECTIONS,
  });
  return {
    url: listening.url,
    port: listening.port,
    close: async () => {
      stopping = true;
      await listening.close();
      await queue.close();
      redis.disconnect();
    },
  };
}
