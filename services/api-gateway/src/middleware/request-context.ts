import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from '@pp/shared';

const VALID_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export interface Locals {
  /** The request's logger: its correlation id and caller bound, made on first use. */
  readonly log: Logger;
  /** The caller's X-Request-Id or a new one: the correlation id of everything this request causes. */
  correlationId: string;
  /** The authenticated caller's name (set by the auth middleware); joins the log from then on. */
  caller?: string;
  /** The transaction request this call created or replayed: joins the request's log line. */
  requestId?: string;
}

export const locals = (res: Response): Locals => res.locals as Locals;

/**
 * Takes the caller's `X-Request-Id` (or makes one), echoes it, and gives the request a
 * logger that carries it (a pino child, made only when the request logs). The id becomes
 * the correlation id of the request's jobs. One line per request: method, route, status,
 * time and the transaction request's id; never headers or bodies.
 */
export function requestContext(logger: Logger) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const incoming = req.get('x-request-id');
    const correlationId = incoming && VALID_REQUEST_ID.test(incoming) ? incoming : randomUUID();
    const l = locals(res);
    l.correlationId = correlationId;
    let bound: Logger | undefined;
    let boundCaller: string | undefined;
    Object.defineProperty(l, 'log', {
      get: (): Logger => {
        if (bound === undefined || boundCaller !== l.caller) {
          boundCaller = l.caller;
          bound = logger.child(
            boundCaller === undefined ? { correlationId } : { correlationId, caller: boundCaller },
          );
        }
        return bound;
      },
    });
    res.setHeader('x-request-id', correlationId);
    const started = performance.now();
    res.on('finish', () => {
      if (req.path === '/healthz' || req.path === '/readyz') return;
      const { log, requestId } = locals(res);
      log.info(
        {
          method: req.method,
          // The route's pattern, never the path: a path no route matched may hold anything
          // (an e-mail address, a name).
          route: (req.route as { path?: string } | undefined)?.path ?? 'unmatched',
          status: res.statusCode,
          ms: Math.round(performance.now() - started),
          ...(requestId === undefined ? {} : { requestId }),
        },
        'request',
      );
    });
    next();
  };
}
