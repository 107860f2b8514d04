import { createLogger, loadConfigOrExit, stopOnSignals } from '@pp/shared';
import { GatewayEnv } from './config.ts';
import { startGateway } from './server.ts';

const config = loadConfigOrExit('api-gateway', GatewayEnv);
const logger = createLogger({ service: 'api-gateway', level: config.LOG_LEVEL });
const gateway = await startGateway(config, { logger });
stopOnSignals(logger, gateway.close, 10_000);
