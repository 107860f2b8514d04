import autocannon from 'autocannon';
import type { Cost } from './cost.ts';

export interface LoadSpec {
  /** Base URL of the server. */
  url: string;
  path: string;
  connections: number;
  /** Run for this long... */
  seconds?: number;
  /** ...or send exactly this many requests. */
  amount?: number;
  /** Headers of every request. */
  headers: Record<string, string>;
  /** Body and extra headers of the i-th request (0, 1, 2, ... across all connections). */
  next: (i: number) => { body: string; headers?: Record<string, string> };
}

export interface LoadResult {
  /** 2xx answers per second. */
  rps: number;
  /** Latency quantiles of every answer, in ms. */
  p50: number;
  p99: number;
  /** Connection errors and timeouts. */
  errors: number;
  non2xx: number;
  ok: number;
  seconds: number;
  /** CPU of the server process and of Redis, and Redis commands, over the run. */
  cost?: Cost;
}

/** Closed-loop load with autocannon: `connections` keep-alive connections, each sending its next request on each answer. */
export async function hammer(spec: LoadSpec): Promise<LoadResult> {
  let i = 0;
  const result = await autocannon({
    url: spec.url,
    connections: spec.connections,
    ...(spec.amount !== undefined ? { amount: spec.amount } : { duration: spec.seconds ?? 10 }),
    timeout: 10,
    requests: [
      {
        method: 'POST',
        path: spec.path,
        setupRequest: (req) => {
          const { body, headers } = spec.next(i++);
          return { ...req, body, headers: { ...spec.headers, ...headers } };
        },
      },
    ],
  });
  return {
    rps: result['2xx'] / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors,
    non2xx: result.non2xx,
    ok: result['2xx'],
    seconds: result.duration,
  };
}
