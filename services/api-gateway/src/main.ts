import { createLogger, loadConfigOrExit } from '@pp/shared';
import { GatewayEnv } from './config.ts';
import { startGateway } from './server.ts';

const config = loadConfigOrExit('api-gateway', GatewayEnv);
const logger = createLogger({ service: 'api-gateway', level: config.LOG_LEVEL });

const gateway = await startGateway(config, { logger });

let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const deadline = setTimeout(() => process.exit(1), 10_000);
    deadline.unref();
    void gateway.close().then(() => {
      logger.flush();
      process.exit(0);
    });
  });
}
process.on('unhandledRejection', (err) => {
  logger.error({ err }, 'unhandled rejection');
});
