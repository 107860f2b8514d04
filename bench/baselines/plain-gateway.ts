/**
 * The plain baseline of `POST /v1/transactions`: Express 5, `express.json()`, a zod schema
 * of the gateway's body shape, an awaited BullMQ `queue.add`. No auth, no idempotency, no
 * durable record, no logging, no metrics.
 */
import type { AddressInfo } from 'node:net';
import { Queue } from 'bullmq';
import express from 'express';
import { Redis } from 'ioredis';
import { z } from 'zod';
import { baselineEnv, exitOnSignals, say } from './env.ts';

const Body = z.strictObject({
  transaction_type_id: z.string().regex(/^[A-Za-z0-9_.-]{1,128}$/),
  fields: z.record(z.string(), z.unknown()),
  reference_id: z.string().min(1).max(255).optional(),
  tags: z.array(z.string().min(1).max(255)).max(50).optional(),
});

const connection = new Redis(baselineEnv.redisUrl, { maxRetriesPerRequest: null });
const queue = new Queue('plain-transactions', { connection, prefix: baselineEnv.prefix });

const app = express();
app.disable('x-powered-by');
app.post('/v1/transactions', express.json({ limit: 256 * 1024 }), async (req, res) => {
  const parsed = Body.safeParse(req.body);
  if (!parsed.success) {
    res.status(400).json({ error: { code: 'invalid_request' } });
    return;
  }
  const job = await queue.add('create', parsed.data);
  res.status(202).json({ id: job.id, status: 'queued' });
});

const server = app.listen(baselineEnv.port, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  say({ msg: 'plain gateway listening', url: `http://127.0.0.1:${port}` });
});
exitOnSignals(async () => {
  await new Promise((resolve) => server.close(resolve));
  await queue.close();
  connection.disconnect();
});
