import type { AddressInfo } from 'node:net';
import { createLogger, createRedis, loadConfigOrExit, pingRedis } from '@pp/shared';
import { buildApp } from './app.ts';
import { ReceiverEnv } from './config.ts';

const config = loadConfigOrExit('webhook-receiver', ReceiverEnv);
const logger = createLogger({ service: 'webhook-receiver', level: config.LOG_LEVEL });
const redis = createRedis({
  url: config.REDIS_URL,
  role: 'producer',
  name: 'webhook-receiver',
  logger,
});

const app = buildApp({ checkReady: () => pingRedis(redis, 1000) });
const server = app.listen(config.WEBHOOK_RECEIVER_PORT, () => {
  logger.info({ port: (server.address() as AddressInfo).port }, 'webhook receiver listening');
});

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    server.close(() => {
      redis.disconnect();
      process.exit(0);
    });
  });
}
