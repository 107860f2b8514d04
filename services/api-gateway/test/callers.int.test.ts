import { afterEach, describe, expect, it } from 'vitest';
import { REDIS_URL } from '@pp/testing';
import { harness, jobCount, validBody, type Harness } from './harness.ts';

const ONBOARDING = 'onboarding-token-0000001';
const ONBOARDING_NEXT = 'onboarding-token-0000002';
const PAYMENTS = 'payments-token-000000001';
const CALLERS = `onboarding:${ONBOARDING},onboarding:${ONBOARDING_NEXT},payments:${PAYMENTS}`;

const as = (token: string) => ({ authorization: `Bearer ${token}` });

describe('callers: each request belongs to the caller that made it', () => {
  let h: Harness;
  afterEach(async () => {
    await h.close();
  });

  it("When another caller asks for a request, then 404, while its owner's tokens (both of a rotation) read it", async () => {
    h = await harness(REDIS_URL, { GATEWAY_API_KEYS: CALLERS });
    const { id } = (await (await h.post(validBody(), as(ONBOARDING))).json()) as { id: string };

    expect((await h.get(`/v1/transactions/${id}`, ONBOARDING)).status).toBe(200);
    expect((await h.get(`/v1/transactions/${id}`, ONBOARDING_NEXT)).status).toBe(200);
    const foreign = await h.get(`/v1/transactions/${id}`, PAYMENTS);
    expect(foreign.status).toBe(404);
    // Exactly what an unknown id gets: nothing tells the other caller the id exists.
    const unknownId = `req_${'0'.repeat(32)}`;
    const unknown = await h.get(`/v1/transactions/${unknownId}`, PAYMENTS);
    expect(JSON.stringify(await foreign.json())).toBe(
      JSON.stringify(await unknown.json()).replace(unknownId, id),
    );
  });

  it('When two callers use the same Idempotency-Key, then they get two requests; each replay stays its own', async () => {
    h = await harness(REDIS_URL, { GATEWAY_API_KEYS: CALLERS });
    const key = { 'idempotency-key': 'order-1234' };
    const post = async (token: string) =>
      ((await (await h.post(validBody(), { ...as(token), ...key })).json()) as { id: string }).id;

    const onboarding = await post(ONBOARDING);
    const payments = await post(PAYMENTS);
    expect(payments).not.toBe(onboarding);
    // The rotation's second token is the same caller: a replay, not a third request.
    expect(await post(ONBOARDING_NEXT)).toBe(onboarding);
    expect(await post(PAYMENTS)).toBe(payments);
    expect(await jobCount(h.queue)).toBe(2);
  });

  it("When a caller sends requests, then its name is in each of the request's log lines and no token is anywhere", async () => {
    h = await harness(REDIS_URL, { GATEWAY_API_KEYS: CALLERS });
    const { id } = (await (await h.post(validBody(), as(PAYMENTS))).json()) as { id: string };
    await h.get(`/v1/transactions/${id}`, PAYMENTS);

    const lines = h.logs.json().filter((e) => e.correlationId !== undefined);
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(line.caller).toBe('payments');
    for (const token of [ONBOARDING, ONBOARDING_NEXT, PAYMENTS]) {
      expect(h.logs.text).not.toContain(token);
    }
  });
});

describe('load bounds: a caller over its rate, or a backlog Persona cannot drain, gets 429', () => {
  let h: Harness;
  afterEach(async () => {
    await h.close();
  });

  it('When a caller is over GATEWAY_CALLER_RATE_PER_MINUTE, then 429 with Retry-After, while another caller and replays are served', async () => {
    h = await harness(REDIS_URL, {
      GATEWAY_API_KEYS: CALLERS,
      GATEWAY_CALLER_RATE_PER_MINUTE: '3',
    });
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) {
      statuses.push(
        (await h.post(validBody(), { ...as(ONBOARDING), 'idempotency-key': `k${i}` })).status,
      );
    }
    const over = await h.post(validBody(), as(ONBOARDING));
    expect(statuses).toEqual([202, 202, 202]);
    expect(over.status).toBe(429);
    expect(await over.json()).toMatchObject({ error: { code: 'rate_limited' } });
    const retryAfter = Number(over.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);

    // A replay costs nothing and still answers; another caller has its own window.
    const replay = await h.post(validBody(), { ...as(ONBOARDING), 'idempotency-key': 'k0' });
    expect(replay.status).toBe(202);
    expect((await h.post(validBody(), as(PAYMENTS))).status).toBe(202);
    expect(await jobCount(h.queue)).toBe(4);
  });

  it('When GATEWAY_MAX_BACKLOG requests are waiting for Persona, then the next gets 429 backlog_full and nothing is stored', async () => {
    h = await harness(REDIS_URL, { GATEWAY_MAX_BACKLOG: '2' });
    expect((await h.post(validBody())).status).toBe(202);
    expect((await h.post(validBody())).status).toBe(202);
    const full = await h.post(validBody());
    expect(full.status).toBe(429);
    expect(await full.json()).toMatchObject({ error: { code: 'backlog_full' } });
    expect(Number(full.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await jobCount(h.queue)).toBe(2);
  });
});

describe('fields bounds: too deep, too wide or too long is a 400 naming the path', () => {
  let h: Harness;
  afterEach(async () => {
    await h.close();
  });

  /** A request whose `fields` is the JSON text given (JSON.stringify itself overflows at 5,000 levels). */
  const withFieldsText = (fieldsText: string) =>
    JSON.stringify(validBody({ fields: '<fields>' })).replace('"<fields>"', fieldsText);
  const deep = (depth: number) => `{"deep":${'{"a":'.repeat(depth)}"x"${'}'.repeat(depth + 1)}`;
  const wide = JSON.stringify(
    Object.fromEntries(Array.from({ length: 501 }, (_, i) => [`k${i}`, i])),
  );

  it.each([
    ['5,000 levels deep', deep(5000), 'fields.deep.a.a.a.a.a.a.a'],
    ['501 keys', wide, 'fields'],
    ['a 10,001-character value', `{"note":"${'y'.repeat(10_001)}"}`, 'fields.note'],
  ])(
    'When fields are %s, then 400 with the path and nothing is enqueued',
    async (_, fields, path) => {
      h = await harness(REDIS_URL, { GATEWAY_MAX_BODY_BYTES: '262144' });
      const res = await h.post(withFieldsText(fields));
      expect(res.status).toBe(400);
      const body = (await res.json()) as { error: { details: { path: string }[] } };
      expect(body.error.details.map((d) => d.path).some((p) => p.startsWith(path))).toBe(true);
      expect(await jobCount(h.queue)).toBe(0);
      // The gateway is unharmed: the next request is served.
      expect((await h.post(validBody())).status).toBe(202);
    },
  );
});
