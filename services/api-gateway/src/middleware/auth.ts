import { createHash, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { sendError } from './errors.ts';

const digest = (s: string) => createHash('sha256').update(s).digest();

/**
 * `Authorization: Bearer <key>` against the configured keys. Keys are compared as SHA-256
 * digests in constant time, and every key is compared, so timing says nothing about them.
 */
export function bearerAuth(keys: readonly string[]) {
  const digests = keys.map(digest);
  return (req: Request, res: Response, next: NextFunction): void => {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(req.get('authorization') ?? '');
    let ok = false;
    if (match) {
      const presented = digest(match[1]!);
      for (const d of digests) ok = timingSafeEqual(presented, d) || ok;
    }
    if (!ok) {
      res.setHeader('www-authenticate', 'Bearer');
      sendError(res, 401, 'unauthorized', 'a valid bearer token is required');
      return;
    }
    next();
  };
}
