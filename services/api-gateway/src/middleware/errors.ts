import type { NextFunction, Request, Response } from 'express';
import { locals } from './request-context.ts';

interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
}

export function sendError(
  res: Response,
  status: number,
  code: string,
  message: string,
  details?: unknown,
): void {
  const body: ErrorBody = { error: { code, message } };
  if (details !== undefined) body.error.details = details;
  res.status(status).json(body);
}

/** Body-parser and router failures get their own status; anything else is a 500 with no internals. */
export function errorHandler(err: unknown, _req: Request, res: Response, next: NextFunction): void {
  if (res.headersSent) {
    next(err);
    return;
  }
  const type = (err as { type?: string }).type;
  const limit = (err as { limit?: number }).limit;
  switch (type) {
    case 'entity.too.large':
      sendError(
        res,
        413,
        'payload_too_large',
        `request body exceeds the limit of ${limit ?? '?'} bytes`,
      );
      return;
    case 'entity.parse.failed':
      sendError(res, 400, 'malformed_json', 'request body is not valid JSON');
      return;
    case 'encoding.unsupported':
    case 'charset.unsupported':
      sendError(res, 415, 'unsupported_media_type', 'request body must be UTF-8 JSON');
      return;
    case 'request.aborted':
      return;
    default: {
      // Other errors the body parser or the router lay at the client's door (a body that is
      // not in its Content-Encoding, a path with a broken %-escape) keep their 4xx.
      const status = (err as { status?: unknown }).status;
      if (typeof status === 'number' && status >= 400 && status < 500) {
        sendError(res, status, 'bad_request', 'the request could not be read');
        return;
      }
      locals(res).log.error({ err }, 'unhandled error');
      sendError(res, 500, 'internal', 'internal error');
    }
  }
}
