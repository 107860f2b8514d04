import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { eventually, REDIS_URL, SpawnedRedis } from '@pp/testing';
import { harness, jobCount, OTHER_TOKEN, TOKEN, validBody, type Harness } from './harness.ts';

describe('api gateway over HTTP against real Redis', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await harness(REDIS_URL);
  });
  afterEach(async () => {
    await h.close();
  });

  describe('accepting a transaction request', () => {
    it('When a valid request arrives, then it answers 202 with our id only once the job is in Redis', async () => {
      const res = await h.post(validBody(), { 'x-request-id': 'corr-abc-1' });
      expect(res.status).toBe(202);
      const body = (await res.json()) as { id: string; status: string };
      expect(body).toEqual({ id: expect.stringMatching(/^req_[a-f0-9]{32}$/), status: 'queued' });
      expect(res.headers.get('location')).toBe(`/v1/transactions/${body.id}`);
      expect(res.headers.get('x-request-id')).toBe('corr-abc-1');

      const job = await h.queue.getJob(body.id);
      expect(job?.data).toEqual({ requestId: body.id, correlationId: 'corr-abc-1' });

      const got = await h.get(`/v1/transactions/${body.id}`);
      expect(got.status).toBe(200);
      expect(await got.json()).toEqual({
        id: body.id,
        status: 'queued',
        persona_transaction_id: null,
        persona_status: null,
        created_at: expect.any(String),
        updated_at: expect.any(String),
        verifications: [],
        reports: [],
        events: [],
      });
    });

    it('When the same Idempotency-Key comes back with the same body (keys in another order), then the same id is returned and nothing new is enqueued', async () => {
      const first = await h.post(validBody(), { 'idempotency-key': 'idem-1' });
      const { id } = (await first.json()) as { id: string };
      const reordered = {
        tags: ['onboarding'],
        reference_id: 'user-4821',
        fields: { birthdate: '1990-01-01', name_last: 'Webster', name_first: 'Daniel' },
        transaction_type_id: 'txntp_KYC123',
      };
      const again = await h.post(reordered, { 'idempotency-key': 'idem-1' });
      expect(again.status).toBe(202);
      expect(again.headers.get('idempotent-replayed')).toBe('true');
      expect(await again.json()).toEqual({ id, status: 'queued' });
      expect(await jobCount(h.queue)).toBe(1);
    });

    it('When the same Idempotency-Key comes with a different body, then 422 says so and nothing is enqueued', async () => {
      const first = await h.post(validBody(), { 'idempotency-key': 'idem-2' });
      const { id } = (await first.json()) as { id: string };
      const res = await h.post(validBody({ reference_id: 'someone-else' }), {
        'idempotency-key': 'idem-2',
      });
      expect(res.status).toBe(422);
      expect(await res.json()).toEqual({
        error: {
          code: 'idempotency_key_reused',
          message: 'this Idempotency-Key was already used with a different request body',
        },
      });
      expect(await jobCount(h.queue)).toBe(1);
      expect(
        ((await (await h.get(`/v1/transactions/${id}`)).json()) as { status: string }).status,
      ).toBe('queued');
    });

    it('When 20 copies of one idempotent request race, then all get the same id and one job exists', async () => {
      const responses = await Promise.all(
        Array.from({ length: 20 }, () => h.post(validBody(), { 'idempotency-key': 'race-1' })),
      );
      const ids = new Set<string>();
      for (const r of responses) {
        expect(r.status).toBe(202);
        ids.add(((await r.json()) as { id: string }).id);
      }
      expect(ids.size).toBe(1);
      expect(await jobCount(h.queue)).toBe(1);
    });

    it('When requests carry no Idempotency-Key, then each is a new request', async () => {
      const a = (await (await h.post(validBody())).json()) as { id: string };
      const b = (await (await h.post(validBody())).json()) as { id: string };
      expect(a.id).not.toBe(b.id);
      expect(await jobCount(h.queue)).toBe(2);
    });

    it('When either configured key is presented, then it is accepted (rotation)', async () => {
      const res = await h.post(validBody(), { authorization: `Bearer ${OTHER_TOKEN}` });
      expect(res.status).toBe(202);
    });
  });

  describe('bad input: a clear error, nothing enqueued, nothing accepted before is harmed', () => {
    let acceptedId: string;
    beforeEach(async () => {
      acceptedId = (
        (await (await h.post(validBody(), { 'idempotency-key': 'keep-me' })).json()) as {
          id: string;
        }
      ).id;
    });
    afterEach(async () => {
      expect(await jobCount(h.queue)).toBe(1);
      const kept = (await (await h.get(`/v1/transactions/${acceptedId}`)).json()) as {
        status: string;
      };
      expect(kept.status).toBe('queued');
    });

    it.each([
      ['no Authorization header', {}],
      ['a wrong token', { authorization: 'Bearer nope' }],
      ['a non-bearer scheme', { authorization: `Basic ${TOKEN}` }],
    ])('When the request has %s, then 401', async (_label, headers) => {
      const res = await fetch(`${h.gateway.url}/v1/transactions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify(validBody()),
      });
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual({
        error: { code: 'unauthorized', message: 'a valid bearer token is required' },
      });
      expect((await h.get(`/v1/transactions/${acceptedId}`, 'nope')).status).toBe(401);
    });

    it('When the body is over the limit, then 413 names the limit', async () => {
      const res = await h.post(validBody({ fields: { blob: 'x'.repeat(4096) } }));
      expect(res.status).toBe(413);
      expect(await res.json()).toEqual({
        error: {
          code: 'payload_too_large',
          message: 'request body exceeds the limit of 2048 bytes',
        },
      });
    });

    it('When the body is not JSON, then 400 malformed_json', async () => {
      const res = await h.post('{"transaction_type_id": "txntp_1", ');
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('malformed_json');
    });

    it('When the body is not sent as JSON, then 415', async () => {
      const res = await h.post('transaction_type_id=txntp_1', {
        'content-type': 'application/x-www-form-urlencoded',
      });
      expect(res.status).toBe(415);
    });

    it('When fields are invalid, then 400 names every problem by path', async () => {
      const res = await h.post({
        transaction_type_id: 'txntp:123',
        fields: ['x'],
        tags: 'vip',
        referenceId: 'camel',
      });
      expect(res.status).toBe(400);
      const body = (await res.json()) as {
        error: { code: string; details: { path: string; message: string }[] };
      };
      expect(body.error.code).toBe('invalid_request');
      const paths = body.error.details.map((d) => d.path).sort();
      expect(paths).toEqual(['(body)', 'fields', 'tags', 'transaction_type_id']);
      expect(body.error.details.find((d) => d.path === 'transaction_type_id')?.message).toBe(
        'must be 1-128 letters, digits, _ - or .',
      );
      expect(body.error.details.find((d) => d.path === '(body)')?.message).toMatch(/referenceId/);
    });

    it('When the body is JSON but not an object, then 400', async () => {
      const res = await h.post('[1,2]');
      expect(res.status).toBe(400);
    });

    it('When the Idempotency-Key is not printable ASCII, then 400', async () => {
      const res = await h.post(validBody(), { 'idempotency-key': 'x'.repeat(300) });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe(
        'invalid_idempotency_key',
      );
    });

    it('When an unknown id is looked up, then 404', async () => {
      expect((await h.get('/v1/transactions/req_00000000000000000000000000000000')).status).toBe(
        404,
      );
      expect((await h.get('/v1/transactions/not-an-id')).status).toBe(404);
      expect((await h.get('/v1/nothing-here')).status).toBe(404);
    });
  });

  it('When probed, then /healthz and /readyz answer without a token', async () => {
    expect(await (await fetch(`${h.gateway.url}/healthz`)).json()).toEqual({ status: 'ok' });
    expect(await (await fetch(`${h.gateway.url}/readyz`)).json()).toEqual({ status: 'ready' });
  });
});

describe('api gateway when Redis fails', () => {
  let redis: SpawnedRedis;
  let h: Harness;
  beforeAll(async () => {
    // AOF with fsync on every write: what production runs, so a crash keeps what was acknowledged.
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

  it('When Redis is down, then POST answers 503 at once and readiness fails; after a restart nothing accepted before is lost', async () => {
    const before = (await (
      await h.post(validBody(), { 'idempotency-key': 'before-crash' })
    ).json()) as { id: string };
    await redis.kill();

    const started = performance.now();
    const res = await h.post(validBody(), { 'idempotency-key': 'during-outage' });
    const elapsed = performance.now() - started;
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('unavailable');
    expect(elapsed).toBeLessThan(2000);
    expect((await fetch(`${h.gateway.url}/readyz`)).status).toBe(503);
    expect((await h.get(`/v1/transactions/${before.id}`)).status).toBe(503);

    await redis.restart();
    await eventually(async () => (await fetch(`${h.gateway.url}/readyz`)).status === 200, {
      timeoutMs: 10_000,
      what: 'the gateway ready again once Redis is back',
    });

    const kept = (await (await h.get(`/v1/transactions/${before.id}`)).json()) as {
      status: string;
    };
    expect(kept.status).toBe('queued');
    expect(await h.queue.getJob(before.id)).toBeDefined();
    const retry = await h.post(validBody(), { 'idempotency-key': 'during-outage' });
    expect(retry.status).toBe(202);
  });

  it('When Redis hangs (CLIENT PAUSE), then POST answers 503 within the deadline instead of hanging', async () => {
    const { Redis } = await import('ioredis');
    const admin = new Redis(redis.url);
    await admin.client('PAUSE', 3000, 'ALL');
    const started = performance.now();
    const res = await h.post(validBody());
    const elapsed = performance.now() - started;
    admin.disconnect();
    expect(res.status).toBe(503);
    expect(elapsed).toBeLessThan(2000);
  });
});
