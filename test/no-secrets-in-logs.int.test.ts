import { Queue } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { catalog } from '@pp/shared';
import { REDIS_URL, seededRandom } from '@pp/testing';
import { startPipeline, type Pipeline } from './harness.ts';

// Sentinels: values no log line may ever contain.
const S = {
  first: 'SNTL-FIRST-q7x2',
  last: 'SNTL-LAST-q7x2',
  email: 'sntl.q7x2@example.test',
  idNumber: 'SNTL-ID-998877',
  reference: 'SNTL-REF-q7x2',
  tag: 'SNTL-TAG-q7x2',
  gatewayToken: 'SNTL-GWTOKEN-q7x2',
  personaKey: 'persona_sandbox_SNTLKEYq7x2',
  wrongPersonaKey: 'persona_sandbox_SNTLWRONGq7x2',
};

const piiBody = (over: Record<string, unknown> = {}) => ({
  transaction_type_id: 'txntp_KYC123',
  fields: {
    name_first: S.first,
    name_last: S.last,
    email_address: S.email,
    identification_number: S.idNumber,
  },
  reference_id: S.reference,
  tags: [S.tag],
  ...over,
});

function expectNoSentinels(text: string) {
  for (const [name, value] of Object.entries(S)) {
    expect(text.toLowerCase().includes(value.toLowerCase()), `${name} leaked into the logs`).toBe(
      false,
    );
  }
}

describe('no personal data and no secrets in logs or job data', () => {
  let p: Pipeline | undefined;
  afterEach(async () => {
    await p?.close();
    p = undefined;
  });

  it('When requests succeed, are refused with Persona echoing a value, hit 5xx and dropped responses, then no sentinel reaches a log line or a job', async () => {
    p = await startPipeline({
      gatewayToken: S.gatewayToken,
      personaKey: S.personaKey,
      sim: {
        apiKeys: [S.personaKey],
        random: seededRandom(7),
        faults: { serverErrorRate: 0.2, dropRate: 0.2 },
        transactionTypes: {
          txntp_KYC123: {},
          // Persona's error details may quote what was sent.
          txntp_STRICT1: {
            validate: (f) => `fields.name_first '${String(f.name_first)}' is not allowed`,
          },
        },
      },
    });
    const ok = await Promise.all(
      Array.from({ length: 10 }, async (_, i) => {
        const res = await p!.post(piiBody({ reference_id: `${S.reference}-${i}` }), {
          'idempotency-key': `${S.idNumber}-${i}`,
        });
        return ((await res.json()) as { id: string }).id;
      }),
    );
    const refused = (
      (await (await p.post(piiBody({ transaction_type_id: 'txntp_STRICT1' }))).json()) as {
        id: string;
      }
    ).id;

    // Bad input at the gateway, sentinel-laden.
    const bad = await fetch(`${p.gateway.url}/v1/transactions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${S.gatewayToken}`, 'content-type': 'application/json' },
      body: `{"fields": {"name_first": "${S.first}"`,
    });
    expect(bad.status).toBe(400);
    const wrongToken = await fetch(`${p.gateway.url}/v1/transactions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${S.gatewayToken}x`, 'content-type': 'application/json' },
      body: JSON.stringify(piiBody()),
    });
    expect(wrongToken.status).toBe(401);

    await p.waitForJobs([...ok, refused]);
    expect(await p.get(refused)).toMatchObject({
      status: 'failed',
      error: {
        code: 'persona_rejected',
        details: { status: 422, errors: [{ title: 'Unprocessable entity' }] },
      },
    });

    const text = p.logs.text;
    // The logs are there and say what happened...
    expect(text).toMatch(/transaction created at Persona/);
    expect(text).toMatch(/Persona refused the transaction/);
    expect(text).toMatch(/Persona answered 5xx|persona call got no answer/);
    // ...and carry none of the sentinels.
    expectNoSentinels(text);

    // Job data and failure reasons (shown in Bull Board) hold ids only.
    const queue = new Queue(catalog.transactionCreate.name, {
      connection: { url: REDIS_URL },
      prefix: p.prefix,
    });
    try {
      const jobs = await queue.getJobs(['completed', 'failed', 'waiting', 'delayed', 'active']);
      expect(jobs.length).toBeGreaterThan(0);
      expectNoSentinels(
        JSON.stringify(
          jobs.map((j) => ({
            data: j.data,
            failedReason: j.failedReason,
            stacktrace: j.stacktrace,
            returnvalue: j.returnvalue as unknown,
          })),
        ),
      );
    } finally {
      await queue.close();
    }
  });

  it('When Persona refuses our API key, then the request fails, a loud configuration error is logged, and the key appears nowhere', async () => {
    p = await startPipeline({ personaKey: S.wrongPersonaKey, sim: { apiKeys: [S.personaKey] } });
    const { id } = (await (await p.post(piiBody())).json()) as { id: string };
    await p.waitForJobs([id]);
    expect(await p.get(id)).toMatchObject({
      status: 'failed',
      error: { code: 'persona_rejected', details: { status: 401 } },
    });
    const loud = p.logs
      .json()
      .find((l) => typeof l.msg === 'string' && l.msg.startsWith('CONFIGURATION PROBLEM'));
    expect(loud).toMatchObject({ level: 50, status: 401 });
    expectNoSentinels(p.logs.text);
  });
});
