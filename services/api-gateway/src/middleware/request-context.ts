import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from '@pp/shared';

const VALID_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export interface Locals {
  log: Logger;
  /** The caller's X-Request-Id or a new one: the correlation id of everything this request causes. */
  correlationId: string;
  /** The authenticated caller's name (set by the auth middleware). */
  caller?: string;
}

export const locals = (res: Response): Locals => res.locals as Locals;

/**
 * Takes the caller's `X-Request-Id` (or makes one), echoes it, and gives the request a
 * child logger that carries it. The id becomes the correlation id of the request's jobs.
 * One line per request: method, route, status and time; never headers or bodies.
 */
export function requestContext(logger: Logger) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const incoming = req.get('x-request-id');
    const correlationId = incoming && VALID_REQUEST_ID.test(incoming) ? incoming : randomUUID();
    const log = logger.child({ correlationId });
    res.locals.log = log;
    res.locals.correlationId = correlationId;
    res.setHeader('x-request-id', correlationId);
    const started = performance.now();
    res.on('finish', () => {
      if (req.path === '/healthz' || req.path === '/readyz') return;
      locals(res).log.info(
        {
          method: req.method,
          // The route's pattern, never the path: a path no route matched may hold anything
          // (an e-mail address, a name).
          route: (req.route as { path?: string } | undefined)?.path ?? 'unmatched',
          status: res.statusCode,
          ms: Math.round(performance.now() - started),
        },
        'request',
      );
    });
    next();
  };
}
