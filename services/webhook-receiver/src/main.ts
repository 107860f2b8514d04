import { createLogger, loadConfigOrExit, stopOnSignals } from '@pp/shared';
import { ReceiverEnv } from './config.ts';
import { startReceiver } from './server.ts';

const config = loadConfigOrExit('webhook-receiver', ReceiverEnv);
const logger = createLogger({ service: 'webhook-receiver', level: config.LOG_LEVEL });
const receiver = await startReceiver(config, { logger });
// Open deliveries get SHUTDOWN_TIMEOUT_MS inside close(); the rest is Redis teardown.
stopOnSignals(logger, receiver.close, config.SHUTDOWN_TIMEOUT_MS + 5000);
