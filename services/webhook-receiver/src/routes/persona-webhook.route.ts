import express, { Router, type Request, type Response } from 'express';
import type { Logger } from '@pp/shared';
import { ingestWebhook, type IngestDeps } from '../domain/ingest.ts';

const unauthorized = { error: { code: 'unauthorized', message: 'invalid signature' } };

export function personaWebhookRouter(
  deps: IngestDeps & {
    logger: Logger;
    maxBodyBytes: number;
    countDelivery: (outcome: string, reason?: string) => void;
  },
): Router {
  const router = Router();
  router.post(
    '/webhooks/persona',
    // Raw bytes, capped before buffering: the signature is over the exact body.
    express.raw({ type: () => true, limit: deps.maxBodyBytes }),
    async (req: Request, res: Response) => {
      const started = performance.now();
      const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const result = await ingestWebhook(deps, raw, req.get('persona-signature'));
      const attempt = req.get('persona-webhook-attempts-made');
      const ms = Math.round(performance.now() - started);
      deps.countDelivery(result.kind, result.kind === 'invalid_signature' ? result.reason : '');
      switch (result.kind) {
        case 'accepted':
        case 'duplicate': {
          const { eventId, name } = result.summary;
          deps.logger.info(
            { eventId, eventName: name, outcome: result.kind, attempt, ms },
            'webhook stored',
          );
          res.status(200).json({ status: result.kind });
          return;
        }
        case 'invalid_signature':
          deps.logger.warn({ reason: result.reason, attempt, ms }, 'webhook refused: signature');
          res.status(401).json(unauthorized);
          return;
        case 'invalid_event':
          deps.logger.warn({ attempt, ms }, 'webhook refused: not a Persona event');
          res
            .status(400)
            .json({ error: { code: 'invalid_event', message: 'body is not a Persona event' } });
          return;
        case 'unavailable':
          deps.logger.warn(
            { eventId: result.summary?.eventId, attempt, ms },
            'webhook not stored: redis unavailable',
          );
          res.setHeader('retry-after', '1');
          res.status(503).json({
            error: { code: 'unavailable', message: 'the event could not be stored; retry' },
          });
          return;
      }
    },
  );
  return router;
}
