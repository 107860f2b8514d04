/**
 * `pnpm bench:profile`: where the services spend their CPU under load. Runs the gateway,
 * the receiver and their plain baselines under `node --cpu-prof` at 50 connections, and
 * one worker process (and a plain one) draining an event backlog, then prints each
 * profile's self time by package and its top functions.
 *
 *   pnpm bench:profile [--seconds 10] [--backlog 10000] [--dir /tmp/pp-prof]
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { PersonaSimulator } from '@pp/persona-sim';
import { catalog } from '@pp/shared';
import type { BenchContext } from './lib/context.ts';
import { formatSummary, summariseDir } from './lib/cpuprofile.ts';
import {
  GATEWAY_TOKEN,
  PERSONA_KEY,
  runTag,
  signedEvents,
  transactionBody,
} from './lib/fixtures.ts';
import { hammer } from './lib/load.ts';
import { FULL } from './lib/mode.ts';
import { admitDeliveries, pipelineDeliveries, prepareLinkedRequests } from './lib/pipeline.ts';
import { inParallel, queueOf, waitDrained } from './lib/queues.ts';
import { BenchRedis } from './lib/redis.ts';
import {
  OUR_PREFIX,
  PLAIN_PREFIX,
  PLAIN_WORKER_READY,
  startGateway,
  startPlain,
  startReceiver,
  startWorker,
  WORKER_READY,
} from './lib/services.ts';
import type { NodeProcess } from './lib/spawn.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    backlog: { type: 'string', default: '10000' },
    dir: { type: 'string', default: join(tmpdir(), 'pp-prof') },
  },
});
const seconds = Number(values.seconds);
const backlog = Number(values.backlog);
const profDir = values.dir;
rmSync(profDir, { recursive: true, force: true });

const logDir = mkdtempSync(join(tmpdir(), 'pp-bench-prof-'));
const redis = await BenchRedis.start();
const sim = new PersonaSimulator({ apiKeys: [PERSONA_KEY], decisionDelayMs: 3_600_000 });
await sim.listen();
const progress = (msg: string) => process.stderr.write(`${msg}\n`);
const ctx = (name: string): BenchContext => {
  mkdirSync(join(profDir, name), { recursive: true });
  return {
    mode: FULL,
    redis,
    logDir,
    simUrl: sim.url,
    serviceNodeArgs: ['--cpu-prof', `--cpu-prof-dir=${join(profDir, name)}`],
    progress,
  };
};
const profiled = (name: string) => ctx(name).serviceNodeArgs;

/** Runs `load` against a freshly started process, then stops it (SIGTERM writes the profile). */
async function underLoad(name: string, proc: NodeProcess, load: (url: string) => Promise<unknown>) {
  progress(`profiling ${name} for ${seconds} s...`);
  await redis.flush();
  try {
    await load(await proc.url());
  } finally {
    await proc.stop();
  }
}

const tag = runTag();
const gatewayLoad = (url: string) =>
  hammer({
    url,
    path: '/v1/transactions',
    connections: 50,
    seconds,
    headers: { authorization: `Bearer ${GATEWAY_TOKEN}`, 'content-type': 'application/json' },
    next: (i) => ({
      body: transactionBody(tag, i),
      headers: { 'idempotency-key': `prof-${tag}-${i}` },
    }),
  });
const events = signedEvents(seconds * 12_000);
const receiverLoad = (url: string) =>
  hammer({
    url,
    path: '/webhooks/persona',
    connections: 50,
    seconds,
    headers: { 'content-type': 'application/json' },
    next: (i) => ({
      body: events[i % events.length]!.body,
      headers: { 'persona-signature': events[i % events.length]!.signature },
    }),
  });

try {
  await underLoad('gateway', await startGateway(ctx('gateway'), 'prof-gateway'), gatewayLoad);
  await underLoad(
    'plain-gateway',
    startPlain(
      ctx('plain-gateway'),
      'plain-gateway',
      'prof-plain-gateway',
      {},
      profiled('plain-gateway'),
    ),
    gatewayLoad,
  );
  await underLoad('receiver', await startReceiver(ctx('receiver'), 'prof-receiver'), receiverLoad);
  await underLoad(
    'plain-receiver',
    startPlain(
      ctx('plain-receiver'),
      'plain-receiver',
      'prof-plain-receiver',
      {},
      profiled('plain-receiver'),
    ),
    receiverLoad,
  );

  progress(`profiling a worker process draining ${backlog} deliveries...`);
  await redis.flush();
  const eventsQueue = queueOf(redis.client, catalog.personaEvents.name, OUR_PREFIX);
  const linked = await prepareLinkedRequests(redis.client, OUR_PREFIX, Math.round(backlog / 3.3));
  await admitDeliveries(
    redis.client,
    OUR_PREFIX,
    pipelineDeliveries(linked, { duplicateShare: 0.1, seed: 1 }).deliveries,
  );
  const worker = startWorker(ctx('workers'), 'prof-workers');
  await worker.waitForLine(WORKER_READY);
  await waitDrained(eventsQueue, 15 * 60_000);
  await worker.stop();
  await eventsQueue.close();

  progress(`profiling a plain worker process draining ${backlog} no-op jobs...`);
  const plainQueue = queueOf(redis.client, 'plain-events', PLAIN_PREFIX);
  await inParallel(
    Array.from({ length: Math.ceil(backlog / 1000) }, (_, c) => c),
    4,
    (c) =>
      plainQueue.addBulk(
        Array.from({ length: 1000 }, (_, k) => ({
          name: 'event',
          data: { eventId: `evt_prof${c * 1000 + k}` },
          opts: { ...catalog.personaEvents.jobOptions, jobId: `evt_prof${c * 1000 + k}` },
        })),
      ),
  );
  const plainWorker = startPlain(
    ctx('plain-worker'),
    'plain-worker',
    'prof-plain-worker',
    {},
    profiled('plain-worker'),
  );
  await plainWorker.waitForLine(PLAIN_WORKER_READY);
  await waitDrained(plainQueue, 15 * 60_000);
  await plainWorker.stop();
  await plainQueue.close();

  for (const name of [
    'gateway',
    'plain-gateway',
    'receiver',
    'plain-receiver',
    'workers',
    'plain-worker',
  ]) {
    process.stdout.write(`${formatSummary(name, summariseDir(join(profDir, name)))}\n`);
  }
  process.stdout.write(
    `Profiles: ${profDir}/<process>/*.cpuprofile (open in Chrome DevTools or speedscope).\n`,
  );
} finally {
  await sim.close();
  await redis.stop();
  rmSync(logDir, { recursive: true, force: true });
}
