import { Queue } from 'bullmq';
import { catalog, createLogger, parseConfig } from '@pp/shared';
import { deletePrefix, LogCapture, uniquePrefix } from '@pp/testing';
import { GatewayEnv } from '../src/config.ts';
import { startGateway, type RunningGateway } from '../src/server.ts';

/** A gateway in this process on a free port, its creation queue, its captured logs. */
export const TOKEN = 'gw-test-token-one-0001';
export const OTHER_TOKEN = 'gw-test-token-two-0002';

export interface Harness {
  gateway: RunningGateway;
  queue: Queue;
  logs: LogCapture;
  prefix: string;
  post: (body: unknown, headers?: Record<string, string>) => Promise<Response>;
  get: (path: string, token?: string) => Promise<Response>;
  close: () => Promise<void>;
}

export async function harness(
  redisUrl: string,
  env: Record<string, string> = {},
): Promise<Harness> {
  const prefix = uniquePrefix('gw');
  const logs = new LogCapture();
  const config = parseConfig(GatewayEnv, {
    REDIS_URL: redisUrl,
    QUEUE_PREFIX: prefix,
    GATEWAY_PORT: '0',
    GATEWAY_API_KEYS: `${TOKEN},${OTHER_TOKEN}`,
    GATEWAY_MAX_BODY_BYTES: '2048',
    GATEWAY_REDIS_TIMEOUT_MS: '500',
    ...env,
  });
  const gateway = await startGateway(config, {
    logger: createLogger({ service: 'api-gateway', level: 'debug', destination: logs }),
    host: '127.0.0.1',
  });
  const queue = new Queue(catalog.transactionCreate.name, {
    connection: { url: redisUrl },
    prefix,
  });
  return {
    gateway,
    queue,
    logs,
    prefix,
    post: (body, headers = {}) =>
      fetch(`${gateway.url}/v1/transactions`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${TOKEN}`,
          'content-type': 'application/json',
          ...headers,
        },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      }),
    get: (path, token = TOKEN) =>
      fetch(`${gateway.url}${path}`, { headers: { authorization: `Bearer ${token}` } }),
    close: async () => {
      await gateway.close();
      await queue.close();
      await deletePrefix(redisUrl, prefix);
    },
  };
}

export const validBody = (over: Record<string, unknown> = {}) => ({
  transaction_type_id: 'txntp_KYC123',
  fields: { name_first: 'Daniel', name_last: 'Webster', birthdate: '1990-01-01' },
  reference_id: 'user-4821',
  tags: ['onboarding'],
  ...over,
});

export const jobCount = async (q: Queue) => {
  const counts = await q.getJobCounts(
    'waiting',
    'active',
    'delayed',
    'completed',
    'failed',
    'prioritized',
  );
  return Object.values(counts).reduce((a, b) => a + b, 0);
};
