import { createLogger, exitFatally, loadConfigOrExit, stopOnSignals } from '@pp/shared';
import { GatewayEnv } from './config.ts';
import { startGateway } from './server.ts';

const config = loadConfigOrExit('api-gateway', GatewayEnv);
const logger = createLogger({ service: 'api-gateway', level: config.LOG_LEVEL });
const onFatal = exitFatally(logger);
const gateway = await startGateway(config, { logger, host: config.LISTEN_HOST, onFatal }).catch(
  onFatal,
);
// Open requests get SHUTDOWN_TIMEOUT_MS inside close(); the rest is Redis teardown.
stopOnSignals(logger, gateway.close, config.SHUTDOWN_TIMEOUT_MS + 5000);
