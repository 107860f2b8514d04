import { Queue } from 'bullmq';
import {
  catalog,
  connectProducer,
  createEnqueue,
  createEventStores,
  pingRedis,
  serve,
  RequestStore,
  withTimeout,
  type Listening,
  type Logger,
} from '@pp/shared';
import { buildApp } from './app.ts';
import type { GatewayConfig } from './config.ts';

export type RunningGateway = Listening;

/** Connects Redis, builds the app and listens (`GATEWAY_PORT` 0 picks a free port). */
export async function startGateway(
  config: GatewayConfig,
  { logger, host = '0.0.0.0' }: { logger: Logger; host?: string },
): Promise<RunningGateway> {
  const redis = await connectProducer({
    url: config.REDIS_URL,
    name: 'gateway',
    logger,
    commandTimeoutMs: config.GATEWAY_REDIS_TIMEOUT_MS,
  });
  const queue = new Queue(catalog.transactionCreate.name, {
    connection: redis,
    prefix: config.QUEUE_PREFIX,
  });
  queue.on('error', (err) => logger.warn({ err }, 'queue error'));
  const enqueue = createEnqueue(() => queue);
  const { state: events } = createEventStores(redis, { prefix: config.QUEUE_PREFIX });
  const store = new RequestStore(redis, {
    prefix: config.QUEUE_PREFIX,
    idempotencyTtlSeconds: config.GATEWAY_IDEMPOTENCY_TTL_SECONDS,
  });

  const app = buildApp({
    logger,
    apiKeys: config.GATEWAY_API_KEYS,
    maxBodyBytes: config.GATEWAY_MAX_BODY_BYTES,
    store,
    events,
    isAvailable: () => redis.status === 'ready',
    withDeadline: (work) =>
      withTimeout(work, config.GATEWAY_REDIS_TIMEOUT_MS, 'redis deadline exceeded'),
    enqueue: (requestId, correlationId) =>
      enqueue('transactionCreate', { requestId, correlationId }),
    checkReady: () => pingRedis(redis, 1000),
  });

  const listening = await serve(app, {
    port: config.GATEWAY_PORT,
    host,
    logger,
    what: 'api gateway',
    headersTimeoutMs: 10_000,
    requestTimeoutMs: 15_000,
  });
  return {
    url: listening.url,
    port: listening.port,
    close: async () => {
      await listening.close();
      await queue.close();
      redis.disconnect();
    },
  };
}
