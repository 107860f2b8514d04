import { freePort } from '@pp/testing';
import type { BenchContext } from './context.ts';
import { GATEWAY_TOKEN, PERSONA_KEY, WEBHOOK_SECRET } from './fixtures.ts';
import { NodeProcess } from './spawn.ts';

/** Our queue prefix (the production default) and the baselines'. */
export const OUR_PREFIX = 'pp';
export const PLAIN_PREFIX = 'plain';

type Level = 'info' | 'warn';

/** One of our HTTP services on a free port (`portVariable`), against the benchmark's Redis. */
async function startHttpService(
  ctx: BenchContext,
  service: 'api-gateway' | 'webhook-receiver',
  name: string,
  portVariable: string,
  env: Record<string, string>,
): Promise<NodeProcess> {
  const port = await freePort();
  return NodeProcess.service(service, {
    name,
    logDir: ctx.logDir,
    nodeArgs: ctx.serviceNodeArgs,
    port,
    env: {
      REDIS_URL: ctx.redis.url,
      QUEUE_PREFIX: OUR_PREFIX,
      [portVariable]: String(port),
      ...env,
    },
  });
}

export function startGateway(ctx: BenchContext, name: string, level: Level = 'info') {
  return startHttpService(ctx, 'api-gateway', name, 'GATEWAY_PORT', {
    GATEWAY_API_KEYS: GATEWAY_TOKEN,
    // One caller sends everything: its rate limit and the backlog cap stay on (their
    // checks run) but so high that they never refuse.
    GATEWAY_CALLER_RATE_PER_MINUTE: '100000000',
    GATEWAY_MAX_BACKLOG: '100000000',
    LOG_LEVEL: level,
  });
}

export function startReceiver(ctx: BenchContext, name: string, level: Level = 'info') {
  return startHttpService(ctx, 'webhook-receiver', name, 'WEBHOOK_RECEIVER_PORT', {
    PERSONA_WEBHOOK_SECRETS: WEBHOOK_SECRET,
    LOG_LEVEL: level,
  });
}

/**
 * A worker process with the production defaults (EVENT_CONCURRENCY 64, LOG_LEVEL info),
 * no health listener, and the event-stream sweep off (it would call the simulator).
 */
export function startWorker(
  ctx: BenchContext,
  name: string,
  env: Record<string, string> = {},
): NodeProcess {
  return NodeProcess.service('workers', {
    name,
    logDir: ctx.logDir,
    nodeArgs: ctx.serviceNodeArgs,
    env: {
      REDIS_URL: ctx.redis.url,
      QUEUE_PREFIX: OUR_PREFIX,
      PERSONA_API_KEY: PERSONA_KEY,
      PERSONA_API_BASE_URL: ctx.simUrl,
      WORKER_HTTP_PORT: '0',
      EVENT_SWEEP_INTERVAL_MS: '0',
      LOG_LEVEL: 'info',
      ...env,
    },
  });
}

export const WORKER_READY = /workers started/;
export const PLAIN_WORKER_READY = /plain worker ready/;

export function startPlain(
  ctx: BenchContext,
  script: 'plain-gateway' | 'plain-receiver' | 'plain-worker',
  name: string,
  env: Record<string, string> = {},
  nodeArgs: string[] = [],
): NodeProcess {
  return new NodeProcess(`bench/baselines/${script}.ts`, {
    name,
    logDir: ctx.logDir,
    nodeArgs,
    env: {
      REDIS_URL: ctx.redis.url,
      QUEUE_PREFIX: PLAIN_PREFIX,
      WEBHOOK_SECRET,
      ...env,
    },
  });
}
