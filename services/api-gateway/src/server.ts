import { Queue } from 'bullmq';
import {
  actionQueuesOf,
  catalog,
  connectProducer,
  createEnqueue,
  createJobInsert,
  createEventStores,
  createRegistry,
  pingRedis,
  RequestStore,
  serve,
  withTimeout,
  type Listening,
  guardMemoryPolicy,
  disconnectAndThrow,
  type StartOptions,
} from '@pp/shared';
import { bullBoard } from './admin/bull-board.ts';
import { buildApp } from './app.ts';
import type { GatewayConfig } from './config.ts';

export type RunningGateway = Listening;

/** Connects Redis, builds the app and listens (`GATEWAY_PORT` 0 picks a free port). */
export async function startGateway(
  config: GatewayConfig,
  { logger, host = '0.0.0.0', onFatal = (err) => logger.error({ err }, err.message) }: StartOptions,
): Promise<RunningGateway> {
  const redis = await connectProducer({
    url: config.REDIS_URL,
    name: 'gateway',
    logger,
    commandTimeoutMs: config.GATEWAY_REDIS_TIMEOUT_MS,
  });
  await guardMemoryPolicy(redis, { logger, onRefused: onFatal }).catch(disconnectAndThrow(redis));
  const prefix = config.QUEUE_PREFIX;
  const queue = new Queue(catalog.transactionCreate.name, { connection: redis, prefix });
  queue.on('error', (err) => logger.warn({ err }, 'queue error'));
  const enqueue = createEnqueue(() => queue);
  const jobInsert = createJobInsert(() => queue);
  const { state: events } = createEventStores(redis, { prefix });
  const store = new RequestStore(redis, {
    prefix,
    idempotencyTtlSeconds: config.GATEWAY_IDEMPOTENCY_TTL_SECONDS,
    limits: {
      perCallerPerWindow: config.GATEWAY_CALLER_RATE_PER_MINUTE,
      windowMs: 60_000,
      maxBacklog: config.GATEWAY_MAX_BACKLOG,
    },
  });
  let stopping = false;

  // Bull Board: every queue of the pipeline, its own connections for reading them.
  const boardQueues =
    config.ADMIN_USERNAME && config.ADMIN_PASSWORD
      ? [
          ...Object.values(catalog).map((spec) => spec.name),
          ...actionQueuesOf(config.routingRules),
        ].map((name) => new Queue(name, { connection: redis, prefix }))
      : [];
  if (boardQueues.length === 0) {
    logger.warn(
      'Bull Board is not mounted: set ADMIN_USERNAME and ADMIN_PASSWORD to see the queues',
    );
  }

  const app = buildApp({
    logger,
    callers: config.GATEWAY_API_KEYS,
    maxBodyBytes: config.GATEWAY_MAX_BODY_BYTES,
    store,
    events,
    isAvailable: () => redis.status === 'ready',
    withDeadline: (work) =>
      withTimeout(work, config.GATEWAY_REDIS_TIMEOUT_MS, 'redis deadline exceeded'),
    creationJob: ({ id, correlationId }) =>
      jobInsert('transactionCreate', { requestId: id, correlationId }),
    enqueue: (requestId, correlationId) =>
      enqueue('transactionCreate', { requestId, correlationId }),
    checkReady: () => (stopping ? Promise.reject(new Error('stopping')) : pingRedis(redis, 1000)),
    registry: createRegistry('api-gateway', () => redis.status === 'ready'),
    board:
      boardQueues.length > 0
        ? bullBoard({
            queues: boardQueues,
            username: config.ADMIN_USERNAME!,
            password: config.ADMIN_PASSWORD!,
            readOnly: config.ADMIN_READ_ONLY,
          })
        : null,
  });

  const listening = await serve(app, {
    port: config.GATEWAY_PORT,
    host,
    logger,
    what: 'api gateway',
    headersTimeoutMs: 10_000,
    requestTimeoutMs: 15_000,
    shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
    maxConnections: config.HTTP_MAX_CONNECTIONS,
  });
  return {
    url: listening.url,
    port: listening.port,
    close: async () => {
      stopping = true;
      await listening.close();
      await Promise.all([queue, ...boardQueues].map((q) => q.close()));
      redis.disconnect();
    },
  };
}
