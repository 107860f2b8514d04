import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { personaId, requestId, type LinkedObject } from '@pp/shared';
import {
  acceptTransaction,
  findTransaction,
  type TransactionsDeps,
  type TransactionView,
} from '../domain/transactions.ts';
import { sendError } from '../middleware/errors.ts';
import { DEFAULT_CALLER } from '../callers.ts';
import { checkFieldsBounds } from './fields-bounds.ts';
import { locals } from '../middleware/request-context.ts';

const CreateTransactionBody = z.strictObject({
  // Persona's ids are opaque (prefixes may change): any safe id will do.
  transaction_type_id: z.string({ error: 'is required and must be a string' }).pipe(personaId),
  fields: z
    .record(z.string(), z.unknown(), { error: 'is required and must be an object' })
    .superRefine(checkFieldsBounds),
  reference_id: z.string().min(1, 'must not be empty').max(255).optional(),
  tags: z.array(z.string().min(1, 'must not be empty').max(255)).max(50).optional(),
});

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

export function transactionsRouter(deps: TransactionsDeps): Router {
  const router = Router();

  router.post('/v1/transactions', async (req: Request, res: Response) => {
    const { log, correlationId, caller = DEFAULT_CALLER } = locals(res);
    if (!req.is('application/json')) {
      sendError(res, 415, 'unsupported_media_type', 'send the body as application/json');
      return;
    }
    const idempotencyKey = req.get('idempotency-key');
    if (idempotencyKey !== undefined && !IDEMPOTENCY_KEY.test(idempotencyKey)) {
      sendError(
        res,
        400,
        'invalid_idempotency_key',
        'Idempotency-Key must be 1-255 printable ASCII characters',
      );
      return;
    }
    const parsed = CreateTransactionBody.safeParse(req.body);
    if (!parsed.success) {
      sendError(
        res,
        400,
        'invalid_request',
        'the request body is invalid',
        parsed.error.issues.map((i) => ({
          path: i.path.length ? i.path.join('.') : '(body)',
          message: i.message,
        })),
      );
      return;
    }
    const body = parsed.data;
    const outcome = await acceptTransaction(
      deps,
      {
        transactionTypeId: body.transaction_type_id,
        fields: body.fields,
        referenceId: body.reference_id,
        tags: body.tags,
      },
      { correlationId, caller, idempotencyKey },
      log,
    );
    if (outcome.kind === 'accepted' || outcome.kind === 'replayed') {
      locals(res).requestId = outcome.id;
    }
    switch (outcome.kind) {
      case 'accepted':
        res
          .location(`/v1/transactions/${outcome.id}`)
          .status(202)
          .json({ id: outcome.id, status: outcome.status });
        return;
      case 'replayed':
        res
          .location(`/v1/transactions/${outcome.id}`)
          .setHeader('idempotent-replayed', 'true')
          .status(202)
          .json({ id: outcome.id, status: outcome.status });
        return;
      case 'too_many':
        res.setHeader('retry-after', String(Math.max(1, Math.ceil(outcome.retryAfterMs / 1000))));
        sendError(
          res,
          429,
          outcome.reason,
          outcome.reason === 'rate_limited'
            ? 'this caller is over its request rate; retry after the Retry-After seconds'
            : 'more requests are waiting for Persona than its budget can drain soon; retry later',
        );
        return;
      case 'idempotency_conflict':
        sendError(
          res,
          422,
          'idempotency_key_reused',
          'this Idempotency-Key was already used with a different request body',
        );
        return;
      case 'unavailable':
        res.setHeader('retry-after', '1');
        sendError(
          res,
          503,
          'unavailable',
          'the request could not be stored; retry with the same Idempotency-Key',
        );
        return;
    }
  });

  router.get('/v1/transactions/:id', async (req: Request<{ id: string }>, res: Response) => {
    const { id } = req.params;
    if (!requestId.safeParse(id).success) {
      sendError(res, 404, 'not_found', `no transaction request ${JSON.stringify(id.slice(0, 64))}`);
      return;
    }
    const found = await findTransaction(deps, id, locals(res).caller ?? DEFAULT_CALLER);
    switch (found.kind) {
      case 'found':
        res.json(present(found.view));
        return;
      case 'not_found':
        sendError(res, 404, 'not_found', `no transaction request ${id}`);
        return;
      case 'unavailable':
        res.setHeader('retry-after', '1');
        sendError(res, 503, 'unavailable', 'storage is unavailable; retry shortly');
        return;
    }
  });

  return router;
}

function present({ request: r, objects, history }: TransactionView) {
  const view = (o: LinkedObject) => ({
    id: o.id,
    type: o.type,
    status: o.status,
    updated_at: o.occurred_at,
  });
  return {
    id: r.id,
    status: r.status,
    persona_transaction_id: r.personaTransactionId,
    persona_status: r.personaStatus,
    ...(r.error ? { error: r.error } : {}),
    created_at: r.createdAt,
    updated_at: r.updatedAt,
    verifications: objects.filter((o) => o.type.startsWith('verification')).map(view),
    reports: objects.filter((o) => o.type.startsWith('report')).map(view),
    events: history.map((e) => ({
      event_id: e.event_id,
      name: e.name,
      status: e.status || null,
      object_id: e.object_id || null,
      occurred_at: e.occurred_at,
      applied: e.applied,
    })),
  };
}
