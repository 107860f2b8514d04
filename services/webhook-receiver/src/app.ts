import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import type { Logger } from '@pp/shared';
import type { IngestDeps } from './domain/ingest.ts';
import { personaWebhookRouter } from './routes/persona-webhook.route.ts';

export interface ReceiverDeps extends IngestDeps {
  logger: Logger;
  maxBodyBytes: number;
  checkReady: () => Promise<void>;
}

/** The receiver's HTTP app: the webhook route and health, nothing else. */
export function buildApp(deps: ReceiverDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    try {
      await deps.checkReady();
      res.json({ status: 'ready' });
    } catch {
      res.status(503).json({ status: 'unavailable', reason: 'redis unreachable' });
    }
  });
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
    deps.logger.error({ err }, 'unhandled error');
    res.status(500).json({ error: { code: 'internal', message: 'internal error' } });
  });
  return app;
}
