/**
 * The plain baseline of `POST /webhooks/persona`: Express 5, the raw body, HMAC-SHA256 over
 * `t.body` compared in constant time, `JSON.parse`, an awaited BullMQ `queue.add` with the
 * event id as job id (the whole event as job data). No dedupe gate, no timestamp tolerance,
 * no envelope validation, no logging, no metrics.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { Queue } from 'bullmq';
import express from 'express';
import { Redis } from 'ioredis';
import { baselineEnv, exitOnSignals, say } from './env.ts';

const secret = process.env.WEBHOOK_SECRET ?? '';
const SIGNATURE = /t=(\d+),v1=([0-9a-f]{64})/;

const connection = new Redis(baselineEnv.redisUrl, { maxRetriesPerRequest: null });
const queue = new Queue('plain-events', { connection, prefix: baselineEnv.prefix });

const app = express();
app.disable('x-powered-by');
app.post(
  '/webhooks/persona',
  express.raw({ type: () => true, limit: 1024 * 1024 }),
  async (req, res) => {
    const raw = req.body as Buffer;
    const match = SIGNATURE.exec(req.get('persona-signature') ?? '');
    const expected = match
      ? createHmac('sha256', secret).update(`${match[1]}.`).update(raw).digest()
      : null;
    if (!match || !expected || !timingSafeEqual(expected, Buffer.from(match[2]!, 'hex'))) {
      res.status(401).json({ error: { code: 'unauthorized' } });
      return;
    }
    const event = JSON.parse(raw.toString('utf8')) as { data?: { id?: unknown } };
    const id = event.data?.id;
    if (typeof id !== 'string') {
      res.status(400).json({ error: { code: 'invalid_event' } });
      return;
    }
    await queue.add('event', event, { jobId: id });
    res.status(200).json({ status: 'accepted' });
  },
);

const server = app.listen(baselineEnv.port, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  say({ msg: 'plain receiver listening', url: `http://127.0.0.1:${port}` });
});
exitOnSignals(async () => {
  await new Promise((resolve) => server.close(resolve));
  await queue.close();
  connection.disconnect();
});
