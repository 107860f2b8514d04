import type { IncomingMessage, ServerResponse } from 'node:http';
import { Counter, Histogram, type Registry } from 'prom-client';
import { METRIC_PREFIX } from './registry.ts';

/** What Express leaves on a request it routed (absent on a bare Node listener). */
interface Routed {
  baseUrl?: string;
  route?: { path?: unknown };
}

/**
 * HTTP requests and their latency by route (the route's pattern, never its ids), method,
 * status and caller (the gateway's authenticated caller name, never a token; empty
 * elsewhere). Returns a middleware (Express or bare Node) that measures until the response
 * ends.
 */
export function httpMetrics(
  registry: Registry,
  {
    routeOf,
    callerOf,
  }: {
    routeOf?: (req: IncomingMessage) => string;
    callerOf?: (res: ServerResponse) => string | undefined;
  } = {},
) {
  const labelNames = ['route', 'method', 'status', 'caller'] as const;
  const requests = new Counter({
    name: `${METRIC_PREFIX}http_requests_total`,
    help: 'HTTP requests answered, by route, method, status and caller.',
    labelNames,
    registers: [registry],
  });
  const duration = new Histogram({
    name: `${METRIC_PREFIX}http_request_duration_seconds`,
    help: 'Time from request to the end of the response, by route, method, status and caller.',
    labelNames,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  // One labelled child per label set (routes, methods, statuses and callers are few), made
  // once: prom-client hashes a label object on every call otherwise.
  type Child = {
    count: ReturnType<typeof requests.labels>;
    time: ReturnType<typeof duration.labels>;
  };
  const children = new Map<string, Child>();
  const childOf = (route: string, method: string, status: string, caller: string) => {
    const key = `${route}\n${method}\n${status}\n${caller}`;
    let child = children.get(key);
    if (!child) {
      const labels = { route, method, status, caller };
      child = { count: requests.labels(labels), time: duration.labels(labels) };
      children.set(key, child);
    }
    return child;
  };
  return (req: IncomingMessage, res: ServerResponse, next?: () => void): void => {
    const started = process.hrtime.bigint();
    res.once('finish', () => {
      const routed = req as IncomingMessage & Routed;
      const route =
        routeOf?.(req) ??
        (typeof routed.route?.path === 'string'
          ? `${routed.baseUrl ?? ''}${routed.route.path}`
          : 'unmatched');
      const child = childOf(
        route,
        req.method ?? 'GET',
        String(res.statusCode),
        callerOf?.(res) ?? '',
      );
      child.count.inc();
      child.time.observe(Number(process.hrtime.bigint() - started) / 1e9);
    });
    next?.();
  };
}
