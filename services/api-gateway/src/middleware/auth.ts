import { createHash, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { CallerToken } from '../callers.ts';
import { sendError } from './errors.ts';
import { locals } from './request-context.ts';

const digest = (s: string) => createHash('sha256').update(s).digest();

/**
 * `Authorization: Bearer <token>` against the configured callers' tokens. Tokens are
 * compared as SHA-256 digests in constant time, and every token is compared, so timing says
 * nothing about them. The caller's name (never its token) joins the request's logger.
 */
export function bearerAuth(callers: readonly CallerToken[]) {
  const known = callers.map((c) => ({ name: c.name, digest: digest(c.token) }));
  return (req: Request, res: Response, next: NextFunction): void => {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(req.get('authorization') ?? '');
    let caller: string | null = null;
    if (match) {
      const presented = digest(match[1]!);
      for (const k of known) if (timingSafeEqual(presented, k.digest)) caller ??= k.name;
    }
    if (caller === null) {
      res.setHeader('www-authenticate', 'Bearer');
      sendError(res, 401, 'unauthorized', 'a valid bearer token is required');
      return;
    }
    locals(res).caller = caller;
    next();
  };
}
