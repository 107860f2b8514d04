import express, { type Express, type Response, type Router } from 'express';
import {
  healthHandlers,
  httpMetrics,
  metricsHandler,
  type Logger,
  type Registry,
} from '@pp/shared';
import type { CallerToken } from './callers.ts';
import type { TransactionsDeps } from './domain/transactions.ts';
import { bearerAuth } from './middleware/auth.ts';
import { errorHandler, sendError } from './middleware/errors.ts';
import { locals, requestContext } from './middleware/request-context.ts';
import { transactionsRouter } from './routes/transactions.route.ts';

export interface AppDeps extends TransactionsDeps {
  logger: Logger;
  callers: readonly CallerToken[];
  maxBodyBytes: number;
  /** Resolves when Redis answers (and the gateway is not stopping), rejects otherwise. */
  checkReady: () => Promise<void>;
  registry: Registry;
  /** Bull Board, when an admin login is configured. */
  board: Router | null;
}

/** The gateway's HTTP app, built from its dependencies; no listening, no globals. */
export function buildApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  app.use(httpMetrics(deps.registry, { callerOf: (res) => locals(res as Response).caller }));
  app.use(requestContext(deps.logger));

  const health = healthHandlers(deps.checkReady);
  app.get('/healthz', health.healthz);
  app.get('/readyz', health.readyz);
  app.get('/metrics', metricsHandler(deps.registry));
  if (deps.board) app.use(deps.board);

  app.use('/v1', bearerAuth(deps.callers));
  app.use(express.json({ limit: deps.maxBodyBytes, strict: true, type: 'application/json' }));
  app.use(transactionsRouter(deps));

  app.use((_req, res) => sendError(res, 404, 'not_found', 'no such route'));
  app.use(errorHandler);
  return app;
}
