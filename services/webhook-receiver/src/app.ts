import express, { type Express } from 'express';

export interface ReceiverDeps {
  checkReady: () => Promise<void>;
}

/** The receiver's HTTP app. */
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
  return app;
}
