import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { personaSignature } from '@pp/persona-sim';
import { catalog, parseWebhookBody } from '@pp/shared';
import { FLEET_WEBHOOK_SECRET, startFleet, type Fleet } from './fleet.ts';
import { ADMIN, boardCase } from './fuzz/board.ts';
import { expectedPostStatus, postCase } from './fuzz/gateway-post.ts';
import { closeConnections } from './fuzz/http.ts';
import { extraHeaders } from './fuzz/pieces.ts';
import { lookupCase, probeCase, receiverProbeCase } from './fuzz/reads.ts';
import { OVERSIZE, webhookBody } from './fuzz/receiver-bodies.ts';
import { badSignature, now, receiverContent } from './fuzz/receiver-headers.ts';
import { fuzz, runAll, type Property } from './fuzz/run.ts';
import { jobIds, Target } from './fuzz/target.ts';

/**
 * fast-check at every public endpoint, over real HTTP to the real processes: 10,000 seeded
 * cases per endpoint, each endpoint's property running at the same time as the others', with
 * several requests of each in flight on keep-alive connections (fuzz/run.ts). No answer may
 * be 5xx (Redis is up, so not even the documented 503), no process may die, no job may come
 * from a request that was not answered 202 (gateway) or 200 `accepted` (receiver), and each
 * process's live heap, measured after a full GC forced through its inspector, must come back
 * to its level.
 */

const RUNS = 10_000;
const WARM_UP = 200;
/** Reproduce a run: the seed of each property is SEED + its index (printed on failure too). */
const SEED = 20_261_128;

describe('fault: fuzzing every public endpoint over real HTTP', () => {
  let fleet: Fleet;
  beforeAll(async () => {
    fleet = await startFleet({
      // No workers: every job the endpoints make stays in its queue, to be counted.
      workers: 0,
      // Durability is not under test here: no fsync per write, so the run stays short.
      redisArgs: ['--appendfsync', 'no'],
      gatewayEnv: {
        ADMIN_USERNAME: ADMIN.user,
        ADMIN_PASSWORD: ADMIN.password,
        // The inspector forces a full GC before each memory reading; loopback, any port.
        NODE_OPTIONS: '--inspect=127.0.0.1:0',
      },
      receiverEnv: { NODE_OPTIONS: '--inspect=127.0.0.1:0' },
    });
  });
  afterAll(async () => {
    await fleet?.close();
    closeConnections();
  });

  // The two run side by side (one process each), as the properties inside each do.
  it.concurrent(
    `When each gateway endpoint takes ${RUNS} fuzzed requests (POST and GET /v1/transactions, /healthz, /readyz, /metrics, Bull Board), then none is answered 5xx, only the 202s made creation jobs, the gateway lives on and its heap returns to its level`,
    async () => {
      const f = fleet;
      const gateway = new Target('gateway', f.gateway, f.gatewayUrl);

      // Requests of ours that exist, for GET and for Bull Board's job views.
      const known: string[] = [];
      for (let i = 0; i < 10; i++) {
        const res = await f.post({ transaction_type_id: 'txntp_fuzz', fields: { i } });
        expect(res.status).toBe(202);
        known.push(((await res.json()) as { id: string }).id);
      }
      /** Ids answered 202 as new requests, and those answered 202 as replays. */
      const accepted = new Set<string>(known);
      const replayed = new Set<string>();
      const keyUses = new Map<string, { id: string; body: string }>();

      const properties: Record<string, Property> = {
        // Requests with the same Idempotency-Key take their turn, as they would one at a time.
        'POST /v1/transactions': fuzz(
          postCase,
          async (c) => {
            const res = await gateway.send(c.sent);
            expect(res.status, res.body).toBeLessThan(500);
            const expected = expectedPostStatus(c);
            if (res.status === 202) {
              const { id } = JSON.parse(res.body) as { id: string };
              const replay = res.headers['idempotent-replayed'] === 'true';
              if (c.idem.key !== undefined) {
                const before = keyUses.get(c.idem.key);
                if (before) expect({ replay, id }).toEqual({ replay: true, id: before.id });
                else keyUses.set(c.idem.key, { id, body: c.body.canonical! });
              }
              (replay ? replayed : accepted).add(id);
            }
            if (expected === 'accept') {
              const before = c.idem.key === undefined ? undefined : keyUses.get(c.idem.key);
              const conflict = before !== undefined && before.body !== c.body.canonical;
              expect(res.status, res.body).toBe(conflict ? 422 : 202);
            } else if (expected !== 'any') {
              expect(res.status, res.body).toBe(expected);
            }
          },
          { lane: (c) => c.idem.key },
        ),
        'GET /v1/transactions/:id': fuzz(lookupCase(known), async (c) => {
          const res = await gateway.send(c.sent);
          expect(res.status, res.body).toBeLessThan(500);
          if (!c.authorized) return;
          if (c.segment === '' || c.suffix === '/extra') expect(res.status).toBe(404);
          else if (c.id === null) expect(res.status, res.body).toBe(400);
          else expect(res.status, res.body).toBe(accepted.has(c.id) ? 200 : 404);
        }),
        ...Object.fromEntries(
          ['/healthz', '/readyz', '/metrics'].map((route) => [
            route,
            fuzz(probeCase(route), async (c) => {
              const res = await gateway.send(c.sent);
              expect(res.status, res.body).toBeLessThan(500);
              if (c.served) expect(res.status, res.body).toBe(200);
            }),
          ]),
        ),
        'Bull Board /admin/queues': fuzz(boardCase(known), async (c) => {
          const res = await gateway.send(c.sent);
          expect(res.status, res.body).toBeLessThan(500);
          if (!c.authorized) expect(res.status, res.body).toBe(401);
          // The board is read-only: nothing it is asked to change changes (pausing every
          // writable queue is a no-op on a board without one).
          if (
            c.authorized &&
            !['GET', 'HEAD'].includes(c.sent.method) &&
            !/\/api\/queues\/(pause|resume)$/.test(c.sent.path.split('?')[0]!)
          ) {
            expect(
              res.status,
              `${c.sent.method} ${c.sent.path}: ${res.body}`,
            ).toBeGreaterThanOrEqual(400);
          }
        }),
      };

      // Warm up (JIT, caches, every label set of the metrics), then the level to come back to.
      await runAll(properties, WARM_UP, SEED + 100);
      const before = await gateway.level();
      gateway.sent = 0;

      await runAll(properties, RUNS, SEED);

      await gateway.expectAlive();

      // Exactly the requests answered 202 (not as a replay) have a creation job; replays
      // point at one of them; the read-only board changed nothing.
      const jobs = await jobIds(f, catalog.transactionCreate.name);
      expect(jobs.size).toBe(accepted.size);
      expect([...accepted].filter((id) => !jobs.has(id))).toEqual([]);
      expect([...replayed].filter((id) => !accepted.has(id))).toEqual([]);

      await gateway.expectBackTo(before, ` in ${accepted.size} accepted and many refused requests`);
    },
    600_000,
  );

  it.concurrent(
    `When the webhook receiver takes ${RUNS} deliveries with arbitrary signatures and ${RUNS} validly signed arbitrary and near-valid bodies, then none is answered 5xx, only accepted events made jobs, the receiver lives on and its heap returns to its level`,
    async () => {
      const f = fleet;
      const receiver = new Target('receiver', f.receiver, f.receiverUrl);
      const acceptedEvents = new Set<string>();
      let ok = 0;

      /** The id of the event a body is, if it is one. */
      const eventOf = (body: Buffer) => {
        if (body.length > OVERSIZE) return undefined;
        const parsed = parseWebhookBody(body);
        return parsed.kind === 'not_an_event' ? undefined : parsed.summary.eventId;
      };

      const properties: Record<string, Property> = {
        'POST /webhooks/persona, signature arbitrary': fuzz(
          fc.tuple(webhookBody, badSignature, receiverContent, extraHeaders),
          async ([body, signature, content, extra]) => {
            const headers: Record<string, string> = { ...extra, ...content.headers };
            const header = signature(body);
            if (header !== undefined) headers['persona-signature'] = header;
            const res = await receiver.send({
              method: 'POST',
              path: '/webhooks/persona',
              headers,
              body: content.encode(body),
              oversized: body.length > OVERSIZE,
            });
            expect(res.status, res.body).toBeLessThan(500);
            expect(res.status, res.body).toBe(
              content.refusal ?? (body.length > OVERSIZE ? 413 : 401),
            );
          },
        ),
        'POST /webhooks/persona, validly signed': fuzz(
          fc
            .tuple(webhookBody, fc.boolean(), extraHeaders)
            .map(([body, junk, extra]) => ({ body, junk, extra, eventId: eventOf(body) })),
          async ({ body, junk, extra, eventId }) => {
            const signature = personaSignature(body, [FLEET_WEBHOOK_SECRET], now());
            const res = await receiver.send({
              method: 'POST',
              path: '/webhooks/persona',
              headers: {
                ...extra,
                'content-type': 'application/json',
                // A set that matches nothing before the good one, as during a rotation.
                'persona-signature': junk ? `t=1,v1=${'0'.repeat(64)} ${signature}` : signature,
              },
              body,
              oversized: body.length > OVERSIZE,
            });
            expect(res.status, res.body).toBeLessThan(500);
            if (body.length > OVERSIZE) expect(res.status).toBe(413);
            else if (eventId === undefined) expect(res.status, res.body).toBe(400);
            else {
              const duplicate = acceptedEvents.has(eventId);
              expect({ status: res.status, body: JSON.parse(res.body) as unknown }).toEqual({
                status: 200,
                body: { status: duplicate ? 'duplicate' : 'accepted' },
              });
              ok++;
              acceptedEvents.add(eventId);
            }
          },
          // Deliveries of one event take their turn.
          { lane: (c) => c.eventId },
        ),
        // The same handlers as the gateway's (which get 10,000 cases each): one property here.
        'receiver /healthz, /readyz, /metrics and unknown routes': fuzz(
          receiverProbeCase,
          async (c) => {
            const res = await receiver.send(c.sent);
            expect(res.status, res.body).toBeLessThan(500);
            if (c.served) expect(res.status).toBe(200);
          },
        ),
      };

      await runAll(properties, WARM_UP, SEED + 200);
      const before = await receiver.level();
      receiver.sent = 0;

      await runAll(properties, RUNS, SEED + 10);

      await receiver.expectAlive();

      // One job per accepted event, none for a duplicate or a refusal.
      const jobs = await jobIds(f, catalog.personaEvents.name);
      expect(ok).toBeGreaterThan(acceptedEvents.size);
      expect(jobs).toEqual(acceptedEvents);

      await receiver.expectBackTo(before, `, ${acceptedEvents.size} events accepted`);
    },
    600_000,
  );
});
