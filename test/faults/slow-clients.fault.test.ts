import { connect } from 'node:net';
import { Queue } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { personaSignature } from '@pp/persona-sim';
import { catalog } from '@pp/shared';
import {
  FLEET_TOKEN,
  FLEET_WEBHOOK_SECRET,
  startFleet,
  transactionBody,
  type Fleet,
} from './fleet.ts';

/**
 * Slow and oversized clients against both HTTP services, as real processes: clients that
 * send their headers and then trickle the body a byte a second, clients that trickle the
 * headers themselves (slowloris), and bodies twice the limit. Each is cut off by the
 * service's own timeouts and limits while a steady stream of ordinary requests goes on,
 * and the ordinary ones are neither slowed down nor lost.
 */

/** The services' body limits (their defaults, set here) and timeouts (their server.ts). */
const GATEWAY = {
  path: '/v1/transactions',
  maxBodyBytes: 256 * 1024,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 15_000,
};
const RECEIVER = {
  path: '/webhooks/persona',
  maxBodyBytes: 1024 * 1024,
  headersTimeoutMs: 5_000,
  requestTimeoutMs: 10_000,
};
/** Node checks the timeouts once a second (`connectionsCheckingInterval`); plus scheduling noise. */
const CUT_SLACK_MS = 4_000;
const TRICKLERS = 3;
const SLOWLORIS = 2;
/** One ordinary request to each service this often. */
const STEADY_EVERY_MS = 50;

/** A slow client still open this long after it connected gives up (the test then fails). */
const GIVE_UP_MS = 30_000;

interface RawOutcome {
  /** The answer's status; `cut` when the connection closed without one; `open` when it never did. */
  status: number | 'cut' | 'open';
  /** From connecting to the answer (or the close). */
  ms: number;
  /** Bytes of the request written before the answer. */
  sent: number;
}

/**
 * One HTTP/1.1 request over a raw socket: `head` at once, then `trickle` one byte per
 * `everyMs`. Stops writing at the first answer (or close, or after GIVE_UP_MS) and reports it.
 */
function rawRequest(
  port: number,
  head: Buffer | string,
  trickle: Buffer | string = '',
  everyMs = 1000,
): Promise<RawOutcome> {
  return new Promise((resolve) => {
    const started = performance.now();
    const rest = Buffer.from(trickle);
    let sent = 0;
    let received = '';
    let timer: NodeJS.Timeout | undefined;
    let done = false;
    const finish = (status: RawOutcome['status']) => {
      if (done) return;
      done = true;
      clearInterval(timer);
      clearTimeout(giveUp);
      resolve({ status, ms: performance.now() - started, sent });
      socket.destroy();
    };
    const giveUp = setTimeout(() => finish('open'), GIVE_UP_MS);
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(head);
      sent += Buffer.byteLength(head);
      let i = 0;
      timer = setInterval(() => {
        if (i >= rest.length) return clearInterval(timer);
        socket.write(rest.subarray(i, i + 1));
        i++;
        sent++;
      }, everyMs);
    });
    socket.on('data', (d: Buffer) => {
      received += d.toString('latin1');
      const m = /^HTTP\/1\.1 (\d{3}) /.exec(received);
      if (m) finish(Number(m[1]));
    });
    // A reset after the answer, or EPIPE while writing a body the server refused: the
    // outcome is what was answered before, or a cut connection.
    socket.on('error', () => undefined);
    socket.on('close', () => finish('cut'));
  });
}

const requestHead = (path: string, headers: Record<string, string | number>) =>
  `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n` +
  Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('') +
  '\r\n';

const gatewayHeaders = (length: number | 'chunked') => ({
  authorization: `Bearer ${FLEET_TOKEN}`,
  'content-type': 'application/json',
  ...(length === 'chunked' ? { 'transfer-encoding': 'chunked' } : { 'content-length': length }),
});

/** A Persona event of another program's transaction: the receiver stores it, workers record it. */
function foreignEvent(n: string): string {
  const at = new Date().toISOString();
  return JSON.stringify({
    data: {
      type: 'event',
      id: `evt_${n}`,
      attributes: {
        name: 'transaction.created',
        'created-at': at,
        payload: {
          data: {
            type: 'transaction',
            id: `txn_${n}`,
            attributes: {
              status: 'created',
              'reference-id': null,
              tags: ['another-program'],
              'created-at': at,
              'updated-at': at,
            },
          },
          included: [],
        },
      },
    },
  });
}

const signed = (raw: string) => ({
  'content-type': 'application/json',
  'persona-signature': personaSignature(raw, [FLEET_WEBHOOK_SECRET], Math.floor(Date.now() / 1000)),
});

/** A body of `bytes` bytes that is valid JSON, were it ever read to the end. */
const bigJson = (bytes: number) => {
  const open = '{"padding":"';
  const close = '"}';
  return Buffer.from(open + 'x'.repeat(bytes - open.length - close.length) + close);
};

/** A whole request sent at full speed. */
const oversized = (
  port: number,
  path: string,
  headers: Record<string, string | number>,
  body: Buffer,
) => rawRequest(port, Buffer.concat([Buffer.from(requestHead(path, headers)), body]));

/** The same body in 16 KiB chunks of `Transfer-Encoding: chunked`. */
function chunked(body: Buffer): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; i < body.length; i += 16 * 1024) {
    const chunk = body.subarray(i, i + 16 * 1024);
    parts.push(Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n'));
  }
  parts.push(Buffer.from('0\r\n\r\n'));
  return Buffer.concat(parts);
}

const percentile = (sorted: readonly number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;

/** One ordinary request: its status (or the network error), its latency and what it answered. */
interface Timed {
  status: number | string;
  ms: number;
  body: { id?: string; status?: string };
}

describe('fault: slow and oversized clients', () => {
  let fleet: Fleet | undefined;
  let queue: Queue | undefined;
  afterEach(async () => {
    await queue?.close();
    queue = undefined;
    await fleet?.close();
    fleet = undefined;
  });

  it('When clients trickle bodies and headers a byte a second and send bodies twice the limit, then they get 408 and 413 within the timeouts while ordinary requests keep normal latency and none is lost', async () => {
    // The simulator's webhooks stay off: the receiver's traffic is the test's own stream.
    fleet = await startFleet({
      webhooks: false,
      gatewayEnv: { GATEWAY_MAX_BODY_BYTES: String(GATEWAY.maxBodyBytes) },
      receiverEnv: { WEBHOOK_MAX_BODY_BYTES: String(RECEIVER.maxBodyBytes) },
    });
    const f = fleet;
    const gatewayPort = Number(new URL(f.gatewayUrl).port);
    const receiverPort = Number(new URL(f.receiverUrl).port);

    // The steady stream: one transaction request to the gateway and one delivery to the
    // receiver every STEADY_EVERY_MS, each timed, until the slow clients are done with.
    const gatewayCalls: Promise<Timed>[] = [];
    const receiverCalls: Promise<Timed>[] = [];
    const timed = async (call: () => Promise<Response>): Promise<Timed> => {
      const started = performance.now();
      try {
        const res = await call();
        const body = (await res.json()) as Timed['body'];
        return { status: res.status, ms: performance.now() - started, body };
      } catch (err) {
        const code = (err as { cause?: { code?: string } }).cause?.code ?? String(err);
        return { status: code, ms: performance.now() - started, body: {} };
      }
    };
    let n = 0;
    const sendOrdinary = () => {
      const i = n++;
      gatewayCalls.push(timed(() => f.post(transactionBody(`steady-${i}`))));
      const raw = foreignEvent(`steady_${i}`);
      receiverCalls.push(
        timed(() =>
          fetch(`${f.receiverUrl}${RECEIVER.path}`, {
            method: 'POST',
            headers: signed(raw),
            body: raw,
          }),
        ),
      );
    };
    // Warm both services up (first requests compile code paths), outside the measurement.
    const WARM_UP = 10;
    for (let i = 0; i < WARM_UP; i++) sendOrdinary();
    await Promise.all([...gatewayCalls, ...receiverCalls]);
    let streaming = true;
    const stream = (async () => {
      while (streaming) {
        sendOrdinary();
        await new Promise((r) => setTimeout(r, STEADY_EVERY_MS));
      }
    })();

    // The slow and oversized clients, all at once. A slow client is its head (sent at
    // once) and what it trickles: the body, or for slowloris the rest of its headers.
    const gatewayBody = JSON.stringify(transactionBody('slow-gateway'));
    const receiverBody = foreignEvent('slow_receiver');
    const gwTrickler = {
      head: requestHead(GATEWAY.path, gatewayHeaders(Buffer.byteLength(gatewayBody))),
      trickle: gatewayBody,
    };
    const gwLoriser = {
      head: `POST ${GATEWAY.path} HTTP/1.1\r\nHost: 127.0.0.1\r\n`,
      trickle: `authorization: Bearer ${FLEET_TOKEN}\r\ncontent-type: application/json\r\n\r\n`,
    };
    const rcTrickler = {
      head: requestHead(RECEIVER.path, {
        ...signed(receiverBody),
        'content-length': Buffer.byteLength(receiverBody),
      }),
      trickle: receiverBody,
    };
    const rcLoriser = {
      head: `POST ${RECEIVER.path} HTTP/1.1\r\nHost: 127.0.0.1\r\n`,
      trickle: `${Object.entries(signed(receiverBody))
        .map(([k, v]) => `${k}: ${v}\r\n`)
        .join('')}\r\n`,
    };
    const bytesOf = (c: { head: string; trickle: string }) =>
      Buffer.byteLength(c.head) + Buffer.byteLength(c.trickle);
    const many = (k: number, port: number, c: { head: string; trickle: string }) =>
      Promise.all(Array.from({ length: k }, () => rawRequest(port, c.head, c.trickle)));
    const gatewayBig = bigJson(2 * GATEWAY.maxBodyBytes);
    const receiverBig = bigJson(2 * RECEIVER.maxBodyBytes);
    const [gwTrickle, gwLoris, rcTrickle, rcLoris, oversize] = await Promise.all([
      many(TRICKLERS, gatewayPort, gwTrickler),
      many(SLOWLORIS, gatewayPort, gwLoriser),
      many(TRICKLERS, receiverPort, rcTrickler),
      many(SLOWLORIS, receiverPort, rcLoriser),
      Promise.all([
        oversized(gatewayPort, GATEWAY.path, gatewayHeaders(gatewayBig.length), gatewayBig),
        oversized(gatewayPort, GATEWAY.path, gatewayHeaders('chunked'), chunked(gatewayBig)),
        oversized(
          receiverPort,
          RECEIVER.path,
          { ...signed(receiverBig.toString()), 'content-length': receiverBig.length },
          receiverBig,
        ),
        oversized(
          receiverPort,
          RECEIVER.path,
          { ...signed(receiverBig.toString()), 'transfer-encoding': 'chunked' },
          chunked(receiverBig),
        ),
      ]),
    ]);
    streaming = false;
    await stream;
    const [gatewayAnswers, receiverAnswers] = await Promise.all([
      Promise.all(gatewayCalls),
      Promise.all(receiverCalls),
    ]);

    // Slow senders: 408 (or a cut connection) once the service's timeout is up, having
    // trickled only part of what they meant to send.
    const cutWithin = (outcomes: RawOutcome[], limitMs: number, full: number, what: string) => {
      for (const o of outcomes) {
        const about = `${what}: ${JSON.stringify(o)}`;
        expect([408, 'cut'], about).toContain(o.status);
        expect(o.ms, about).toBeLessThan(limitMs + CUT_SLACK_MS);
        expect(o.sent, about).toBeLessThan(full);
      }
    };
    cutWithin(gwTrickle, GATEWAY.requestTimeoutMs, bytesOf(gwTrickler), 'gateway, body trickled');
    cutWithin(gwLoris, GATEWAY.headersTimeoutMs, bytesOf(gwLoriser), 'gateway, headers trickled');
    cutWithin(rcTrickle, RECEIVER.requestTimeoutMs, bytesOf(rcTrickler), 'receiver, body trickled');
    cutWithin(rcLoris, RECEIVER.headersTimeoutMs, bytesOf(rcLoriser), 'receiver, headers trickled');
    // Oversized bodies: 413, without waiting for a timeout.
    for (const o of oversize) {
      expect(o.status, JSON.stringify(o)).toBe(413);
      expect(o.ms).toBeLessThan(RECEIVER.headersTimeoutMs);
    }

    // Ordinary requests: all served, at normal latency. Here that is a median of 10-50 ms and
    // a p99 of 40-600 ms, depending on what else the two cores run. A request held up behind
    // a slow client would wait for its cut, 5 s at the least, and a service busy with slow
    // clients would raise the median: the bounds sit between, clear of the noise.
    expect(gatewayAnswers.length).toBeGreaterThan(50);
    expect(gatewayAnswers.filter((a) => a.status !== 202)).toEqual([]);
    expect(receiverAnswers.filter((a) => a.status !== 200 || a.body.status !== 'accepted')).toEqual(
      [],
    );
    for (const [what, answers] of [
      ['gateway', gatewayAnswers],
      ['receiver', receiverAnswers],
    ] as const) {
      const ms = answers
        .slice(WARM_UP)
        .map((a) => a.ms)
        .sort((a, b) => a - b);
      const summary = `${what}: p50 ${percentile(ms, 50).toFixed(0)} ms, p99 ${percentile(ms, 99).toFixed(0)} ms, max ${ms.at(-1)!.toFixed(0)} ms over ${ms.length}`;
      expect(percentile(ms, 50), summary).toBeLessThan(250);
      expect(percentile(ms, 99), summary).toBeLessThan(1500);
      expect(ms.at(-1)!, summary).toBeLessThan(2500);
    }

    // Nothing lost: every accepted request becomes exactly one Persona transaction, every
    // accepted delivery is a stored event; nothing of the slow or oversized ones is.
    const ids = gatewayAnswers.map((a) => a.body.id!);
    await f.waitSettled(ids, 60_000);
    expect(new Set((await f.statuses(ids)).values())).toEqual(new Set(['submitted']));
    for (let i = 0; i < n; i++) {
      expect(f.sim.transactionsFor(`steady-${i}`), `steady-${i}`).toHaveLength(1);
    }
    expect(f.sim.transactions.size).toBe(n);
    queue = new Queue(catalog.personaEvents.name, {
      connection: { url: f.redis.url },
      prefix: f.prefix,
    });
    const q = queue;
    const stored = await Promise.all(receiverAnswers.map((_, i) => q.getJob(`evt_steady_${i}`)));
    expect(stored.filter((j) => !j)).toEqual([]);
    expect(await q.getJob('evt_slow_receiver')).toBeUndefined();
  });
});
