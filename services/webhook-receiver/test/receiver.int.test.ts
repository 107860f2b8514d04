import { request as httpRequest } from 'node:http';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { personaSignature } from '@pp/persona-sim';
import { catalog, createLogger, parseConfig, redisKeys } from '@pp/shared';
import {
  deletePrefix,
  eventually,
  LogCapture,
  REDIS_URL,
  SpawnedRedis,
  uniquePrefix,
} from '@pp/testing';
import { ReceiverEnv } from '../src/config.ts';
import { startReceiver, type RunningReceiver } from '../src/server.ts';

const SECRET = 'wbhsec_receiver_test_current';
const OLD_SECRET = 'wbhsec_receiver_test_previous';

const sign = (body: string, secret: string, t = Math.floor(Date.now() / 1000)) =>
  personaSignature(body, [secret], t);

let eventSeq = 0;
const eventBody = (over: { id?: string; name?: string; status?: string } = {}) =>
  JSON.stringify({
    data: {
      type: 'event',
      id: over.id ?? `evt_receiverTest${Date.now()}x${eventSeq++}`,
      attributes: {
        name: over.name ?? 'transaction.status-updated',
        'created-at': new Date().toISOString(),
        payload: {
          data: {
            type: 'transaction',
            id: 'txn_receiverTest1',
            attributes: {
              status: over.status ?? 'approved',
              fields: { name_first: { type: 'string', value: 'Ada' } },
            },
          },
        },
      },
    },
  });

interface Harness {
  receiver: RunningReceiver;
  queue: Queue;
  redis: Redis;
  logs: LogCapture;
  prefix: string;
  deliver: (
    body: string,
    signature?: string | null,
    headers?: Record<string, string>,
  ) => Promise<Response>;
  jobs: () => Promise<number>;
  close: () => Promise<void>;
}

async function harness(redisUrl: string, env: Record<string, string> = {}): Promise<Harness> {
  const prefix = uniquePrefix('rcv');
  const logs = new LogCapture();
  const receiver = await startReceiver(
    parseConfig(ReceiverEnv, {
      REDIS_URL: redisUrl,
      QUEUE_PREFIX: prefix,
      WEBHOOK_RECEIVER_PORT: '0',
      PERSONA_WEBHOOK_SECRETS: `${SECRET},${OLD_SECRET}`,
      WEBHOOK_MAX_BODY_BYTES: '4096',
      WEBHOOK_REDIS_TIMEOUT_MS: '500',
      ...env,
    }),
    {
      logger: createLogger({ service: 'webhook-receiver', level: 'debug', destination: logs }),
      host: '127.0.0.1',
    },
  );
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  redis.on('error', () => {});
  const queue = new Queue(catalog.personaEvents.name, { connection: redis, prefix });
  queue.on('error', () => {});
  return {
    receiver,
    queue,
    redis,
    logs,
    prefix,
    deliver: (body, signature, headers = {}) =>
      fetch(`${receiver.url}/webhooks/persona`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(signature === null ? {} : { 'persona-signature': signature ?? sign(body, SECRET) }),
          ...headers,
        },
        body,
      }),
    jobs: async () => Object.values(await queue.getJobCounts()).reduce((a, b) => a + b, 0),
    close: async () => {
      await receiver.close();
      await queue.close();
      redis.disconnect();
      await deletePrefix(redisUrl, prefix);
    },
  };
}

describe('webhook receiver over HTTP against real Redis', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await harness(REDIS_URL);
  });
  afterEach(async () => {
    await h.close();
  });

  describe('the signature matrix: only valid signatures are stored', () => {
    const now = () => Math.floor(Date.now() / 1000);
    it.each([
      ['valid', (b: string) => sign(b, SECRET), 200],
      ['valid under the previous secret (rotation)', (b: string) => sign(b, OLD_SECRET), 200],
      [
        'two sets during a rotation, only the second known',
        (b: string) => `${sign(b, 'wbhsec_unknown')} ${sign(b, OLD_SECRET)}`,
        200,
      ],
      ['a tampered body', (b: string) => sign(b.replace('approved', 'declined'), SECRET), 401],
      ['a wrong secret', (b: string) => sign(b, 'wbhsec_wrong'), 401],
      ['no header', () => null, 401],
      ['a malformed header', () => 'v1=deadbeef', 401],
      // Persona's retries span about two days and may keep their first timestamp: the
      // default tolerance is the dedupe window (7 days).
      ['an hour old (a retry)', (b: string) => sign(b, SECRET, now() - 3600), 200],
      ['two days old (a late retry)', (b: string) => sign(b, SECRET, now() - 2 * 86400), 200],
      ['older than the dedupe window', (b: string) => sign(b, SECRET, now() - 7 * 86400 - 60), 401],
      ['beyond the window ahead', (b: string) => sign(b, SECRET, now() + 7 * 86400 + 60), 401],
    ] as const)(
      'When the signature is %s, then it is answered as the table says',
      async (_label, signer, status) => {
        const body = eventBody();
        const res = await h.deliver(body, signer(body));
        expect(res.status).toBe(status);
        if (status === 200) {
          expect(await res.json()).toEqual({ status: 'accepted' });
          expect(await h.jobs()).toBe(1);
        } else {
          expect(await res.json()).toEqual({
            error: { code: 'unauthorized', message: 'invalid signature' },
          });
          expect(await h.jobs()).toBe(0);
        }
      },
    );
  });

  it('When a stored event is delivered again, then 200 duplicate and still one job; the job holds no personal data', async () => {
    const body = eventBody({ id: 'evt_dupOnce1' });
    expect(await (await h.deliver(body)).json()).toEqual({ status: 'accepted' });
    expect(await (await h.deliver(body, sign(body, OLD_SECRET))).json()).toEqual({
      status: 'duplicate',
    });
    expect(await h.jobs()).toBe(1);
    const job = await h.queue.getJob('evt_dupOnce1');
    expect(job?.data).toMatchObject({
      eventId: 'evt_dupOnce1',
      status: 'approved',
      transactionId: 'txn_receiverTest1',
      source: 'webhook',
    });
    expect(JSON.stringify(job?.data)).not.toContain('Ada');
  });

  it.each([
    ['snake_case', (k: string) => k.replace(/-/g, '_')],
    ['camelCase', (k: string) => k.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase())],
  ])(
    'When the webhook is configured for %s keys, then the event is stored with its status and times',
    async (_label, inflect) => {
      const body = eventBody({ id: `evt_inflected${eventSeq++}` }).replace(
        /"([a-z]+(?:-[a-z]+)+)":/g,
        (_m, key: string) => `"${inflect(key)}":`,
      );
      expect(body).not.toContain('"created-at"');
      const res = await h.deliver(body);
      expect(res.status).toBe(200);
      const [job] = await h.queue.getJobs(['waiting']);
      expect(job?.data).toMatchObject({ status: 'approved', transactionId: 'txn_receiverTest1' });
      expect(Date.parse((job?.data as { createdAt: string }).createdAt)).toBeGreaterThan(0);
    },
  );

  it('When the event name is unknown, then it is accepted and stored', async () => {
    const res = await h.deliver(eventBody({ name: 'account.something-new' }));
    expect(res.status).toBe(200);
    expect(await h.jobs()).toBe(1);
  });

  it('When a signed body is not a Persona event, then 400 and nothing stored', async () => {
    const body = JSON.stringify({ hello: 'world' });
    const res = await h.deliver(body);
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      error: { code: 'invalid_event', message: 'body is not a Persona event' },
    });
    expect(await h.jobs()).toBe(0);
  });

  it('When the body is over the limit, declared or chunked, then 413 and nothing stored', async () => {
    const big = eventBody().replace('"approved"', `"${'x'.repeat(5000)}"`);
    expect((await h.deliver(big)).status).toBe(413);
    const chunked = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(`${h.receiver.url}/webhooks/persona`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'transfer-encoding': 'chunked',
          'persona-signature': sign(big, SECRET),
        },
      });
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      for (let i = 0; i < big.length; i += 512) req.write(big.slice(i, i + 512));
      req.end();
    });
    expect(chunked).toBe(413);
    expect(await h.jobs()).toBe(0);
  });

  it('When 50 copies of one event arrive at once, then exactly one job exists, one answer is accepted and 49 duplicate', async () => {
    const body = eventBody({ id: 'evt_fiftyCopies1' });
    const responses = await Promise.all(Array.from({ length: 50 }, () => h.deliver(body)));
    expect(responses.map((r) => r.status)).toEqual(Array<number>(50).fill(200));
    const outcomes = await Promise.all(responses.map(async (r) => (await r.json()) as object));
    expect(outcomes.filter((o) => JSON.stringify(o) === '{"status":"accepted"}')).toHaveLength(1);
    expect(await h.jobs()).toBe(1);
  });

  it('When the gate holds a claim left by a receiver of the earlier two-phase gate, then the event is stored, not taken for a duplicate', async () => {
    const body = eventBody({ id: 'evt_legacyClaim1' });
    await h.redis.set(
      redisKeys(h.prefix).eventGate('evt_legacyClaim1'),
      'claimed:nonce',
      'PX',
      60_000,
    );
    const res = await h.deliver(body);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'accepted' });
    expect(await h.jobs()).toBe(1);
    expect((await h.deliver(body)).status).toBe(200);
    expect(await h.jobs()).toBe(1);
  });

  it('When secrets or bodies reach the receiver, then no log line carries them', async () => {
    const body = eventBody();
    await h.deliver(body);
    await h.deliver(body, sign(body, 'wbhsec_wrong'));
    expect(h.logs.text).not.toContain(SECRET);
    expect(h.logs.text).not.toContain('Ada');
    expect(h.logs.text).not.toMatch(/v1=[0-9a-f]{64}/);
    expect(h.logs.json().some((l) => l.reason === 'mismatch')).toBe(true);
  });
});

describe('the signature timestamp check turned off', () => {
  it('When PERSONA_WEBHOOK_TOLERANCE_SECONDS is 0, then any timestamp passes and the start warns', async () => {
    const h = await harness(REDIS_URL, { PERSONA_WEBHOOK_TOLERANCE_SECONDS: '0' });
    try {
      const body = eventBody();
      expect((await h.deliver(body, sign(body, SECRET, 1_000_000_000))).status).toBe(200);
      expect(
        h.logs.json().some((l) => l.level === 40 && String(l.msg).includes('not checked')),
      ).toBe(true);
    } finally {
      await h.close();
    }
  });
});

describe('webhook receiver when Redis fails', () => {
  let redis: SpawnedRedis;
  let h: Harness;
  beforeAll(async () => {
    redis = await SpawnedRedis.start(['--appendonly', 'yes', '--appendfsync', 'always']);
  });
  afterAll(async () => {
    await redis.stop();
  });
  beforeEach(async () => {
    h = await harness(redis.url);
  });
  afterEach(async () => {
    await h.close();
  });

  it('When Redis is down, then 503 within the deadline; after it returns, the retry is stored exactly once', async () => {
    const body = eventBody({ id: 'evt_redisDown1' });
    await redis.kill();
    const started = performance.now();
    const res = await h.deliver(body);
    expect(res.status).toBe(503);
    expect(performance.now() - started).toBeLessThan(2000);

    await redis.restart();
    await eventually(async () => (await fetch(`${h.receiver.url}/readyz`)).status === 200, {
      timeoutMs: 10_000,
      what: 'the receiver ready again once Redis is back',
    });
    const retry = await h.deliver(body);
    expect(retry.status).toBe(200);
    const again = await h.deliver(body);
    expect(await again.json()).toEqual({ status: 'duplicate' });
    expect(await h.jobs()).toBe(1);
  });

  it('When Redis refuses writes (out of memory under noeviction), then 503, nothing written, and the retry is stored', async () => {
    const admin = new Redis(redis.url);
    // Fill well past the cap the test sets, so that every write fails with OOM.
    await admin.set('ballast', 'x'.repeat(3 * 1024 * 1024));
    await admin.config('SET', 'maxmemory-policy', 'noeviction');
    await admin.config('SET', 'maxmemory', '1mb');
    const body = eventBody({ id: 'evt_oom1' });
    try {
      const res = await h.deliver(body);
      expect(res.status).toBe(503);
      expect(await admin.exists(`${h.prefix}:evtgate:evt_oom1`)).toBe(0);
    } finally {
      await admin.config('SET', 'maxmemory', '0');
      await admin.del('ballast');
    }
    expect((await h.deliver(body)).status).toBe(200);
    expect(await h.jobs()).toBe(1);
    admin.disconnect();
  });
});
