import { createLogger, loadConfigOrExit, stopOnSignals } from '@pp/shared';
import { ReceiverEnv } from './config.ts';
import { startReceiver } from './server.ts';

const config = loadConfigOrExit('webhook-receiver', ReceiverEnv);
const logger = createLogger({ service: 'webhook-receiver', level: config.LOG_LEVEL });
const receiver = await startReceiver(config, { logger });
stopOnSignals(logger, receiver.close, 10_000);
