import { createLogger, exitFatally, loadConfigOrExit, stopOnSignals } from '@pp/shared';
import { WorkersEnv } from './config.ts';
import { startWorkers } from './app.ts';

const config = loadConfigOrExit('workers', WorkersEnv);
const logger = createLogger({ service: 'workers', level: config.LOG_LEVEL });
const onFatal = exitFatally(logger);
const running = await startWorkers(config, { logger, host: config.LISTEN_HOST, onFatal }).catch(
  onFatal,
);
// Active jobs get WORKER_SHUTDOWN_TIMEOUT_MS inside close(); the rest is Redis teardown.
stopOnSignals(logger, running.close, config.WORKER_SHUTDOWN_TIMEOUT_MS + 5000);
