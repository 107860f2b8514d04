import type { IncomingMessage } from 'node:http';
import {
  healthHandlers,
  httpMetrics,
  metricsHandler,
  serve,
  type Listening,
  type Logger,
  type Registry,
} from '@pp/shared';

/**
 * The workers' small HTTP listener: `/healthz`, `/readyz` (false while Redis is unreachable)
 * and `/metrics`. Nothing else; it never touches the queues.
 */
export function serveWorkerHttp(options: {
  port: number;
  host: string;
  logger: Logger;
  registry: Registry;
  checkReady: () => Promise<void>;
}): Promise<Listening> {
  const health = healthHandlers(options.checkReady);
  const path = (req: IncomingMessage) => (req.url ?? '/').split('?')[0]!;
  const known = new Set(['/healthz', '/readyz', '/metrics']);
  const measure = httpMetrics(options.registry, {
    routeOf: (req) => (known.has(path(req)) ? path(req) : 'unmatched'),
  });
  const metrics = metricsHandler(options.registry);
  return serve(
    (req, res) => {
      measure(req, res);
      const route = { '/healthz': health.healthz, '/readyz': health.readyz, '/metrics': metrics }[
        path(req)
      ];
      if (req.method === 'GET' && route) route(req, res);
      else res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
    },
    {
      port: options.port,
      host: options.host,
      logger: options.logger,
      what: 'workers http',
      headersTimeoutMs: 5000,
      requestTimeoutMs: 10_000,
    },
  );
}
