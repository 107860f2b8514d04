import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import {
  healthHandlers,
  httpMetrics,
  metricsHandler,
  type Logger,
  type Registry,
} from '@pp/shared';
import type { IngestDeps } from './domain/ingest.ts';
import { personaWebhookRouter } from './routes/persona-webhook.route.ts';

export interface ReceiverDeps extends IngestDeps {
  logger: Logger;
  maxBodyBytes: number;
  checkReady: () => Promise<void>;
  registry: Registry;
  /** Counts each delivery by outcome. */
  countDelivery: (outcome: string, reason?: string) => void;
}

/** The receiver's HTTP app: the webhook route and health, nothing else. */
export function buildApp(deps: ReceiverDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(httpMetrics(deps.registry));
  const health = healthHandlers(deps.checkReady);
  app.get('/healthz', health.healthz);
  app.get('/readyz', health.readyz);
  app.get('/metrics', metricsHandler(deps.registry));
  app.use(personaWebhookRouter(deps));
  app.use((_req, res) => {
    res.status(404).json({ error: { code: 'not_found', message: 'no such route' } });
  });
  app.use((err: unknown, _req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) {
      next(err);
      return;
    }
    if ((err as { type?: string }).type === 'entity.too.large') {
      res.status(413).json({
        error: { code: 'payload_too_large', message: `body exceeds ${deps.maxBodyBytes} bytes` },
      });
      return;
    }
    if ((err as { type?: string }).type === 'request.aborted') return;
    // A body that is not in its Content-Encoding (400), or in one we cannot undo (415).
    const status = (err as { status?: unknown }).status;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      res
        .status(status)
        .json({ error: { code: 'bad_request', message: 'the request body could not be read' } });
      return;
    }
    deps.logger.error({ err }, 'unhandled error');
    res.status(500).json({ error: { code: 'internal', message: 'internal error' } });
  });
  return app;
}
