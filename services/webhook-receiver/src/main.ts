import { createLogger, exitFatally, loadConfigOrExit, stopOnSignals } from '@pp/shared';
import { ReceiverEnv } from './config.ts';
import { startReceiver } from './server.ts';

const config = loadConfigOrExit('webhook-receiver', ReceiverEnv);
const logger = createLogger({ service: 'webhook-receiver', level: config.LOG_LEVEL });
const onFatal = exitFatally(logger);
const receiver = await startReceiver(config, { logger, host: config.LISTEN_HOST, onFatal }).catch(
  onFatal,
);
// Open deliveries get SHUTDOWN_TIMEOUT_MS inside close(); the rest is Redis teardown.
stopOnSignals(logger, receiver.close, config.SHUTDOWN_TIMEOUT_MS + 5000);
