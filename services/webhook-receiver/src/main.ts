import { createLogger, loadConfigOrExit } from '@pp/shared';
import { ReceiverEnv } from './config.ts';
import { startReceiver } from './server.ts';

const config = loadConfigOrExit('webhook-receiver', ReceiverEnv);
const logger = createLogger({ service: 'webhook-receiver', level: config.LOG_LEVEL });

const receiver = await startReceiver(config, { logger });

let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const deadline = setTimeout(() => process.exit(1), 10_000);
    deadline.unref();
    void receiver.close().then(() => {
      logger.flush();
      process.exit(0);
    });
  });
}
process.on('unhandledRejection', (err) => {
  logger.error({ err }, 'unhandled rejection');
});
