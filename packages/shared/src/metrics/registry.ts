import type { IncomingMessage, ServerResponse } from 'node:http';
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';

/** Every metric name starts so; the dashboard and alerts in ops/ name them. */
export const METRIC_PREFIX = 'persona_pipeline_';

/**
 * One registry per process, labelled with its service, with Node's default process metrics
 * and whether its Redis connection is up.
 */
export function createRegistry(service: string, redisUp: () => boolean): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  new Gauge({
    name: `${METRIC_PREFIX}redis_up`,
    help: '1 while this process is connected to Redis, else 0.',
    registers: [registry],
    collect() {
      this.set(redisUp() ? 1 : 0);
    },
  });
  return registry;
}

/** `GET /metrics`: the registry in Prometheus text (a plain Node handler, like the health ones). */
export function metricsHandler(registry: Registry) {
  return (_req: IncomingMessage, res: ServerResponse): void => {
    registry.metrics().then(
      (text) => {
        res.writeHead(200, { 'content-type': registry.contentType });
        res.end(text);
      },
      () => {
        res.writeHead(500).end();
      },
    );
  };
}

export type { Registry } from 'prom-client';
