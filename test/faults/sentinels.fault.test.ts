import { spawn } from 'node:child_process';
import { Queue } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { personaSignature } from '@pp/persona-sim';
import { actionQueuesOf, catalog, DEFAULT_ROUTING_RULES, redisKeys } from '@pp/shared';
import { eventually, freePort, repoRoot, seededRandom } from '@pp/testing';
import { startFleet, type Fleet } from './fleet.ts';

/**
 * Sentinel personal data and secrets, fed through every path a request and a webhook can
 * take (approved, declined, refused by Persona with its error echoing a value, 5xx and
 * dropped responses, Persona down until a re-drive, refused at the gateway, webhooks with bad
 * signatures), must appear nowhere once it has settled: not in any process's log, not in any
 * Redis key or value, not in Bull Board. And every key this project writes outside BullMQ's
 * queues must expire.
 */

const SENTINEL = {
  // Personal data, in `fields`.
  nameFirst: 'Sntlfirst-q8m3',
  nameLast: 'sntllast-q8m3',
  birthdate: '1899-07-23',
  email: 'sntl.mail.q8m3@example.test',
  emailLocalPart: 'sntl.mail.q8m3',
  phone: '+44 7700 900461',
  phoneDigits: '7700900461',
  street: 'Sntlstreet-q8m3 12',
  city: 'sntlcity-q8m3',
  nested: 'sntlnested-q8m3',
  document: 'SNTLDOC-q8m3-0042',
  // What callers send alongside: their tags may name a person (envelope.ts keeps none), and
  // an Idempotency-Key is stored only as a hash.
  tag: 'sntl-tag-q8m3',
  idempotencyKey: 'sntl-idem-q8m3',
  // Secrets.
  gatewayToken: 'sntl-gateway-token-q8m3-0123456789',
  wrongToken: 'sntl-wrong-token-q8m3-0123456789',
  personaKey: 'persona_sandbox_sntlkeyq8m3',
  webhookSecret: 'wbhsec_sntlq8m3secret',
  wrongWebhookSecret: 'wbhsec_sntlq8m3wrongsecret',
  adminPassword: 'sntl-admin-password-q8m3',
  redisPassword: 'sntl-redis-password-q8m3',
} as const;
const ADMIN_USER = 'ops';
const NEEDLES: [string, string][] = [
  ...Object.entries(SENTINEL),
  ['adminBasicAuth', Buffer.from(`${ADMIN_USER}:${SENTINEL.adminPassword}`).toString('base64')],
];

/**
 * Reference ids are kept on purpose (README: action jobs carry `reference_id`; "a user id of
 * ours, not personal data"): the searches must find them in Redis, which shows they look.
 */
const REF = 'sntlref-q8m3';

/** Which sentinels `text` holds (case-insensitively), with a little context for each. */
function sentinelsIn(text: string): string[] {
  const lower = text.toLowerCase();
  return NEEDLES.flatMap(([name, needle]) => {
    const at = lower.indexOf(needle.toLowerCase());
    return at < 0 ? [] : [`${name}: …${text.slice(Math.max(0, at - 120), at + 80)}…`];
  });
}

const personalFields = () => ({
  name_first: SENTINEL.nameFirst,
  name_last: SENTINEL.nameLast,
  birthdate: SENTINEL.birthdate,
  email_address: SENTINEL.email,
  phone_number: SENTINEL.phone,
  identification_number: SENTINEL.document,
  address: { street: SENTINEL.street, city: SENTINEL.city, geo: { note: SENTINEL.nested } },
  documents: [SENTINEL.document, { kind: 'passport', note: SENTINEL.nested }],
});

const personalBody = (ref: string, over: Record<string, unknown> = {}) => ({
  transaction_type_id: 'txntp_KYC123',
  fields: personalFields(),
  reference_id: `${REF}-${ref}`,
  tags: [SENTINEL.tag],
  ...over,
});

/** Every key in Redis with its type, its PTTL and all it holds, as text. */
async function dumpRedis(
  f: Fleet,
): Promise<{ key: string; type: string; pttl: number; text: string }[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await f.client.scan(cursor, 'COUNT', 1000);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== '0');
  const out: { key: string; type: string; pttl: number; text: string }[] = [];
  for (const key of keys) {
    const [type, pttl] = await Promise.all([f.client.type(key), f.client.pttl(key)]);
    if (type === 'none' || pttl === -2) continue; // expired since the SCAN
    let value: unknown;
    switch (type) {
      case 'string':
        value = await f.client.get(key);
        break;
      case 'hash':
        value = await f.client.hgetall(key);
        break;
      case 'list':
        value = await f.client.lrange(key, 0, -1);
        break;
      case 'set':
        value = await f.client.smembers(key);
        break;
      case 'zset':
        value = await f.client.zrange(key, 0, -1, 'WITHSCORES');
        break;
      case 'stream':
        value = await f.client.xrange(key, '-', '+');
        break;
      default:
        value = `(a ${type}: not read)`;
    }
    out.push({ key, type, pttl, text: `${key} ${JSON.stringify(value)}` });
  }
  return out;
}

/**
 * The keys documented in `redisKeys` (packages/shared/src/redis/keys.ts), each as a pattern:
 * the parts that change with the argument become a wildcard without `:`.
 */
function documentedKeys(prefix: string): { name: string; pattern: RegExp }[] {
  const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return Object.entries(redisKeys(prefix)).map(([name, fn]) => {
    const make = fn as (arg?: string) => string;
    const [a, b] = [make('\u0001one'), make('\u0001two')];
    const partsA = a.split(':');
    const partsB = b.split(':');
    const pattern = partsA.map((p, i) => (p === partsB[i] ? escape(p) : '[^:]+')).join(':');
    return { name, pattern: new RegExp(`^${pattern}$`) };
  });
}

const basic = `Basic ${Buffer.from(`${ADMIN_USER}:${SENTINEL.adminPassword}`).toString('base64')}`;

describe('fault: sentinel personal data and secrets through every path', () => {
  let fleet: Fleet | undefined;
  afterEach(async () => {
    await fleet?.close();
    fleet = undefined;
  });

  it('When sentinel personal data and secrets go through approvals, declines, Persona refusals, 5xx and dropped responses, a re-drive, refused requests and badly signed webhooks, then after settlement no sentinel is in any log, Redis key or value, or Bull Board, and every key outside the queues expires', async () => {
    const workerPort = await freePort();
    fleet = await startFleet({
      redisPassword: SENTINEL.redisPassword,
      sim: {
        apiKeys: [SENTINEL.personaKey],
        random: seededRandom(20_261_128),
        decisionDelayMs: 300,
        accounts: true,
        transactionTypes: {
          txntp_KYC123: {},
          // Persona's error details may quote what was sent.
          txntp_STRICT: {
            validate: (fields) =>
              `fields.name_first '${String(fields.name_first)}' is not allowed for ${String(fields.email_address)}`,
          },
          txntp_REQUIRED: { requiredFields: ['selfie_photo'] },
        },
      },
      workerEnv: {
        PERSONA_API_KEY: SENTINEL.personaKey,
        PERSONA_RETRY_CAP_MS: '100',
        PERSONA_TIMEOUT_MS: '1000',
        WORKER_LOCK_DURATION_MS: '5000',
        // Lookups, reconciliation and the event sweep read Persona's bodies (fields and all).
        RECONCILE_INTERVAL_MS: '1000',
        RECONCILE_AFTER_MS: '1500',
        EVENT_SWEEP_INTERVAL_MS: '2000',
        // Metrics on, so the metrics leader runs and its lease is in Redis.
        WORKER_HTTP_PORT: String(workerPort),
      },
      gatewayEnv: {
        GATEWAY_API_KEYS: SENTINEL.gatewayToken,
        // The production limits, so their keys (a caller's rate window, the backlog) exist.
        GATEWAY_CALLER_RATE_PER_MINUTE: '1200',
        GATEWAY_MAX_BACKLOG: '36000',
        ADMIN_USERNAME: ADMIN_USER,
        ADMIN_PASSWORD: SENTINEL.adminPassword,
        ADMIN_READ_ONLY: 'false',
      },
      receiverEnv: { PERSONA_WEBHOOK_SECRETS: SENTINEL.webhookSecret },
    });
    const f = fleet;
    f.sim.webhooks.configure({ ...f.sim.webhooks.options!, secrets: [SENTINEL.webhookSecret] });
    const gateway = (path: string, init: RequestInit = {}) =>
      fetch(`${f.gatewayUrl}${path}`, {
        ...init,
        headers: {
          authorization: `Bearer ${SENTINEL.gatewayToken}`,
          'content-type': 'application/json',
          ...(init.headers as Record<string, string> | undefined),
        },
      });
    const create = async (body: unknown, headers: Record<string, string> = {}) => {
      const res = await gateway('/v1/transactions', {
        method: 'POST',
        body: JSON.stringify(body),
        headers,
      });
      expect(res.status, await res.clone().text()).toBe(202);
      return ((await res.json()) as { id: string }).id;
    };
    const view = async (id: string) =>
      (await (await gateway(`/v1/transactions/${id}`)).json()) as {
        status: string;
        persona_status: string | null;
        error?: { code: string };
      };

    // 1. Persona down past every attempt: two requests fail, keeping their fields to be
    // re-driven.
    f.sim.faults = { ...f.sim.faults, serverErrorRate: 1, serverErrorAfterCreateShare: 0 };
    const down = [
      await create(personalBody('down-1'), { 'idempotency-key': `${SENTINEL.idempotencyKey}-1` }),
      await create(personalBody('down-2')),
    ];
    await eventually(
      async () => [...(await f.statuses(down)).values()].every((s) => s === 'failed'),
      { timeoutMs: 90_000, intervalMs: 200, what: 'both requests to fail with Persona down' },
    );
    for (const id of down) expect((await view(id)).error?.code).toBe('persona_unavailable');

    // 2. Persona back, but flaky: 5xx (some after creating), dropped responses.
    f.sim.faults = {
      ...f.sim.faults,
      serverErrorRate: 0.25,
      serverErrorAfterCreateShare: 0.5,
      dropRate: 0.1,
    };
    const approved = [
      await create(personalBody('ok-1'), { 'idempotency-key': `${SENTINEL.idempotencyKey}-2` }),
      await create(personalBody('ok-2')),
      await create(personalBody('ok-3')),
    ];
    const declined = [
      await create(personalBody('no-1', { tags: [SENTINEL.tag, 'sim-decision:declined'] })),
      await create(personalBody('no-2', { tags: [SENTINEL.tag, 'sim-decision:declined'] })),
    ];
    const refused = [
      await create(personalBody('strict', { transaction_type_id: 'txntp_STRICT' })),
      await create(personalBody('required', { transaction_type_id: 'txntp_REQUIRED' })),
      await create(personalBody('unknown', { transaction_type_id: 'txntp_UNKNOWN' })),
    ];

    // The same key again: its body replays, another body is refused.
    const replay = await gateway('/v1/transactions', {
      method: 'POST',
      body: JSON.stringify(personalBody('ok-1')),
      headers: { 'idempotency-key': `${SENTINEL.idempotencyKey}-2` },
    });
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    const conflict = await gateway('/v1/transactions', {
      method: 'POST',
      body: JSON.stringify(personalBody('ok-1', { reference_id: `${REF}-other` })),
      headers: { 'idempotency-key': `${SENTINEL.idempotencyKey}-2` },
    });
    expect(conflict.status).toBe(422);

    // 3. Refused at the gateway, every way, sentinels in each.
    const refusals: [string, RequestInit, number][] = [
      [
        '/v1/transactions',
        { method: 'POST', body: JSON.stringify(personalBody('x', { extra: SENTINEL.nested })) },
        400,
      ],
      [
        '/v1/transactions',
        { method: 'POST', body: `{"fields": {"name_first": "${SENTINEL.nameFirst}"` },
        400,
      ],
      [
        '/v1/transactions',
        {
          method: 'POST',
          body: JSON.stringify(personalBody('x')),
          headers: { authorization: `Bearer ${SENTINEL.wrongToken}` },
        },
        401,
      ],
      [
        '/v1/transactions',
        {
          method: 'POST',
          body: JSON.stringify(personalBody('x')),
          headers: { 'content-type': 'text/plain' },
        },
        415,
      ],
      [
        '/v1/transactions',
        {
          method: 'POST',
          body: JSON.stringify(personalBody('x', { note: 'n'.repeat(300_000) })),
        },
        413,
      ],
      [
        '/v1/transactions',
        {
          method: 'POST',
          body: JSON.stringify(personalBody('x')),
          headers: { 'idempotency-key': `${SENTINEL.idempotencyKey} with spaces` },
        },
        400,
      ],
      [
        '/v1/transactions',
        {
          method: 'POST',
          body: JSON.stringify(personalBody('x')),
          headers: { 'content-encoding': 'gzip' },
        },
        400,
      ],
      [`/v1/transactions/${encodeURIComponent(SENTINEL.email)}`, {}, 404],
      [`/v1/transactions/%E0%A4%A${SENTINEL.nameLast}`, {}, 400],
      [`/v1/transactions/${SENTINEL.nameFirst}/${SENTINEL.city}`, {}, 404],
      [`/v1/transaction/${encodeURIComponent(SENTINEL.email)}?q=${SENTINEL.street}`, {}, 404],
    ];
    for (const [path, init, status] of refusals) {
      const res = await gateway(path, init);
      expect(res.status, `${init.method ?? 'GET'} ${path}`).toBe(status);
    }

    // 4. Webhooks that must not get in, and one about a transaction that is not ours.
    const event = (id: string) =>
      JSON.stringify({
        data: {
          type: 'event',
          id,
          attributes: {
            name: 'transaction.status-updated',
            'created-at': new Date().toISOString(),
            payload: {
              data: {
                type: 'transaction',
                id: 'txn_sntlforeign',
                attributes: {
                  status: 'approved',
                  'reference-id': `${REF}-webhook`,
                  fields: personalFields(),
                  tags: [SENTINEL.tag],
                },
              },
            },
          },
        },
      });
    const now = Math.floor(Date.now() / 1000);
    const deliveries: [string, Record<string, string>, number][] = [
      [event('evt_sntl_1'), {}, 401],
      [
        event('evt_sntl_2'),
        {
          'persona-signature': personaSignature(
            event('evt_sntl_2'),
            [SENTINEL.wrongWebhookSecret],
            now,
          ),
        },
        401,
      ],
      [event('evt_sntl_3'), { 'persona-signature': `t=${now},v1=${SENTINEL.nameLast}` }, 401],
      [
        event('evt_sntl_4'),
        {
          'persona-signature': personaSignature(
            event('evt_sntl_4'),
            [SENTINEL.webhookSecret],
            now - 8 * 24 * 3600,
          ),
        },
        401,
      ],
    ];
    const notAnEvent = JSON.stringify({ fields: personalFields() });
    deliveries.push([
      notAnEvent,
      { 'persona-signature': personaSignature(notAnEvent, [SENTINEL.webhookSecret], now) },
      400,
    ]);
    const foreign = event('evt_sntl_5');
    deliveries.push([
      foreign,
      { 'persona-signature': personaSignature(foreign, [SENTINEL.webhookSecret], now) },
      200,
    ]);
    for (const [body, headers, status] of deliveries) {
      const res = await fetch(`${f.receiverUrl}/webhooks/persona`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body,
      });
      expect(res.status).toBe(status);
    }

    // 5. Re-drive the two that failed: one from Bull Board, one with `pnpm redrive`.
    const retried = await fetch(
      `${f.gatewayUrl}/admin/queues/api/queues/${catalog.transactionCreate.name}/${down[0]!}/retry`,
      { method: 'PUT', headers: { authorization: basic } },
    );
    expect(retried.status).toBe(204);
    const redrive = spawn(
      process.execPath,
      ['--experimental-strip-types', 'scripts/redrive.ts', down[1]!],
      {
        cwd: repoRoot,
        env: { PATH: process.env.PATH ?? '', REDIS_URL: f.redisUrl, QUEUE_PREFIX: f.prefix },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let redriveOutput = '';
    redrive.stdout.on('data', (d: Buffer) => (redriveOutput += d.toString()));
    redrive.stderr.on('data', (d: Buffer) => (redriveOutput += d.toString()));
    expect(await new Promise((r) => redrive.once('exit', r)), redriveOutput).toBe(0);

    // 6. Settlement: every request final, every decision applied and fanned out.
    const all = [...down, ...approved, ...declined, ...refused];
    await f.waitSettled(all, 120_000);
    const decided = new Map<string, string>([
      ...[...down, ...approved].map((id) => [id, 'approved'] as const),
      ...declined.map((id) => [id, 'declined'] as const),
    ]);
    await eventually(
      async () => {
        for (const [id, decision] of decided) {
          if ((await view(id)).persona_status !== decision) return false;
        }
        return true;
      },
      { timeoutMs: 60_000, intervalMs: 250, what: 'every decision applied' },
    );
    for (const id of refused) {
      expect(await view(id)).toMatchObject({
        status: 'failed',
        error: { code: 'persona_rejected' },
      });
    }
    const actionQueues = actionQueuesOf(DEFAULT_ROUTING_RULES).map(
      (name) => new Queue(name, { connection: f.client, prefix: f.prefix }),
    );
    const actionJobs = async () => {
      const ids = new Set<string>();
      for (const queue of actionQueues) {
        for (const job of await queue.getJobs(['wait', 'completed', 'failed', 'delayed'])) {
          ids.add((job.data as { id: string }).id);
        }
      }
      return ids;
    };
    await eventually(
      async () => {
        const fanned = await actionJobs();
        return [...decided.keys()].every((id) => fanned.has(id));
      },
      { timeoutMs: 60_000, intervalMs: 250, what: 'a business-action job for every decision' },
    );
    await Promise.all(actionQueues.map((q) => q.close()));

    // 7. Nothing anywhere. The logs first (every process, the re-drive command, /metrics).
    const metrics = await Promise.all(
      [f.gatewayUrl, f.receiverUrl, `http://127.0.0.1:${workerPort}`].map(async (url) =>
        (await fetch(`${url}/metrics`)).text(),
      ),
    );
    const logs = [f.logText(), redriveOutput, ...metrics].join('\n');
    expect(logs).toContain('Persona refused the transaction');
    expect(logs).toContain('webhook refused: signature');
    expect(logs).toContain('re-drive of a failed request');
    expect(sentinelsIn(logs)).toEqual([]);

    // Redis: every key and everything it holds.
    const dump = await dumpRedis(f);
    const leaks = dump.flatMap((d) => sentinelsIn(d.text).map((s) => `${d.key} (${d.type}) ${s}`));
    expect(leaks).toEqual([]);
    // The reference ids are there, as documented: the search sees what Redis holds.
    expect(dump.some((d) => d.text.includes(`${REF}-ok-1`))).toBe(true);

    // Bull Board: every queue, every state, every job's view, logs and flow.
    /** A board page; a job view may find its job gone since the listing (404). */
    const board = async (path: string, gone = false) => {
      const res = await fetch(`${f.gatewayUrl}/admin/queues${path}`, {
        headers: { authorization: basic },
      });
      if (!(gone && res.status === 404)) expect(res.status, path).toBeLessThan(400);
      return res.text();
    };
    const queueNames = [
      ...Object.values(catalog).map((spec) => spec.name),
      ...actionQueuesOf(DEFAULT_ROUTING_RULES),
    ];
    const pages: string[] = [
      await board(''),
      await board('/api/redis/stats'),
      await board('/api/job-schedulers'),
    ];
    const states = ['latest', 'active', 'waiting', 'prioritized', 'completed', 'failed', 'delayed'];
    for (const queue of queueNames) {
      for (const status of states) {
        for (let page = 1, pageCount = 1; page <= pageCount; page++) {
          const text = await board(
            `/api/queues?activeQueue=${queue}&status=${status}&page=${page}&jobsPerPage=50`,
          );
          pages.push(text);
          const listed = (
            JSON.parse(text) as {
              queues: { name: string; jobs: { id: string }[]; pagination: { pageCount: number } }[];
            }
          ).queues.find((q) => q.name === queue);
          pageCount = listed?.pagination.pageCount ?? 1;
          for (const job of listed?.jobs ?? []) {
            for (const part of ['', '/logs', '/flow']) {
              const path = `/api/queues/${queue}/${encodeURIComponent(job.id)}${part}`;
              pages.push(await board(path, true));
            }
          }
        }
      }
    }
    const boardText = pages.join('\n');
    expect(boardText).toContain(approved[0]);
    expect(sentinelsIn(boardText)).toEqual([]);

    // 8. Every key outside BullMQ's queue structures expires, and each is one keys.ts
    // documents. What was found, for the record:
    const queuePrefixes = queueNames.map((q) => `${f.prefix}:${q}:`);
    const documented = documentedKeys(f.prefix);
    const found = new Map<string, { type: string; count: number; ttls: number[] }>();
    const problems: string[] = [];
    for (const { key, type, pttl } of dump) {
      if (queuePrefixes.some((p) => key.startsWith(p))) continue;
      const doc = documented.find((d) => d.pattern.test(key));
      if (!doc) problems.push(`${key} (${type}): not a key keys.ts documents`);
      if (pttl <= 0) problems.push(`${key} (${type}): no TTL (PTTL ${pttl})`);
      const row = found.get(doc?.name ?? key) ?? { type, count: 0, ttls: [] };
      row.count++;
      row.ttls.push(pttl);
      found.set(doc?.name ?? key, row);
    }
    const ttl = (ms: number) =>
      ms < 3_600_000
        ? `${Math.round(ms / 1000)} s`
        : ms < 86_400_000
          ? `${(ms / 3_600_000).toFixed(1)} h`
          : `${(ms / 86_400_000).toFixed(1)} d`;
    console.info(
      [
        `Redis after settlement: ${dump.length} keys, ${dump.length - [...found.values()].reduce((n, r) => n + r.count, 0)} in BullMQ's queues; outside them:`,
        ...[...found.entries()].map(
          ([name, r]) =>
            `  ${name.padEnd(20)} ${r.type.padEnd(6)} ${String(r.count).padStart(4)} key(s), TTL ${ttl(Math.min(...r.ttls))} - ${ttl(Math.max(...r.ttls))}`,
        ),
      ].join('\n'),
    );
    expect(found.size).toBeGreaterThan(5);
    expect(problems).toEqual([]);
  });
});
