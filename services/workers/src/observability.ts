import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import {
  createRegistry,
  eventMetrics,
  jobMetrics,
  limiterViewMetrics,
  MetricsLeader,
  personaCallMetrics,
  pingRedis,
  queueDepthMetrics,
  redisKeys,
  type Listening,
  type Logger,
  type PersonaRateLimiter,
} from '@pp/shared';
import { serveWorkerHttp } from './http.ts';

/**
 * What a worker process tells operators: its metrics (per-process counters; the fleet-wide
 * gauges from one leader process) and its health, on `WORKER_HTTP_PORT`.
 */
export function workerObservability(connection: Redis, prefix: string) {
  const registry = createRegistry('workers', () => connection.status === 'ready');
  const leader = new MetricsLeader(connection, redisKeys(prefix).metricsLeader());
  const isLeader = () => leader.isLeader;
  let http: Listening | null = null;
  return {
    registry,
    personaObserver: personaCallMetrics(registry),
    events: eventMetrics(registry),
    watchWorker: jobMetrics(registry),
    /** Starts the fleet-wide gauges (if this process leads) and the HTTP listener (port 0: none). */
    async start(o: {
      queues: () => Queue[];
      limiter: PersonaRateLimiter;
      port: number;
      host: string;
      logger: Logger;
    }): Promise<void> {
      queueDepthMetrics(registry, o.queues, isLeader);
      limiterViewMetrics(registry, o.limiter, isLeader);
      leader.start();
      if (o.port === 0) return;
      http = await serveWorkerHttp({
        port: o.port,
        host: o.host,
        logger: o.logger,
        registry,
        checkReady: () => pingRedis(connection, 1000),
      });
    },
    get url(): string | null {
      return http?.url ?? null;
    },
    async close(): Promise<void> {
      await http?.close();
      await leader.stop();
    },
  };
}
