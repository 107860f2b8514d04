import { createLogger, loadConfigOrExit } from '@pp/shared';
import { WorkersEnv } from './config.ts';
import { startWorkers } from './app.ts';

const config = loadConfigOrExit('workers', WorkersEnv);
const logger = createLogger({ service: 'workers', level: config.LOG_LEVEL });

const running = await startWorkers(config, { logger });

let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: finishing active jobs');
    void running.close().then(() => {
      logger.info('stopped');
      logger.flush();
      process.exit(0);
    });
  });
}
process.on('unhandledRejection', (err) => {
  logger.error({ err }, 'unhandled rejection');
});
