import type { IncomingMessage, ServerResponse } from 'node:http';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

const json = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(body));
};

/**
 * `/healthz` (the process answers) and `/readyz` (its Redis answers), the same on every
 * process; plain Node handlers, so an Express app or a bare HTTP listener can mount them.
 */
export function healthHandlers(checkReady: () => Promise<void>): {
  healthz: Handler;
  readyz: Handler;
} {
  return {
    healthz: (_req, res) => json(res, 200, { status: 'ok' }),
    readyz: (_req, res) => {
      checkReady().then(
        () => json(res, 200, { status: 'ready' }),
        () => json(res, 503, { status: 'unavailable', reason: 'redis unreachable' }),
      );
    },
  };
}
