/**
 * `pnpm bench:limiter`: 1, 3 and 8 worker processes against the Persona simulator at the
 * real budget (300 a minute, one-minute window) with a backlog, for BENCH_SECONDS (120)
 * each. Prints one table: processes, requests sent, the most in any rolling 60 s, budget
 * utilisation, 429s, and the p50/p99 time a job waited for its slot (from the moment it
 * first asked the limiter to the moment its call reached Persona).
 *
 *   BENCH_PROCESSES=1,3,8 BENCH_SECONDS=120 pnpm bench:limiter
 */
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { PersonaSimulator } from '@pp/persona-sim';
import { catalog, createEnqueue, RequestStore } from '@pp/shared';
import { deletePrefix, REDIS_URL, ServiceProcess, uniquePrefix, maxInAnyWindow } from '@pp/testing';

const LIMIT = 300;
const WINDOW_MS = 60_000;
const processes = (process.env.BENCH_PROCESSES ?? '1,3,8').split(',').map(Number);
const seconds = Number(process.env.BENCH_SECONDS ?? 120);
const KEY = 'persona_sandbox_bench';

interface Row {
  processes: number;
  sent: number;
  maxIn60s: number;
  utilisation: number;
  got429: number;
  p50: number;
  p99: number;
}

const quantile = (sorted: number[], q: number) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! : NaN;

async function run(n: number): Promise<Row> {
  const prefix = uniquePrefix('bench');
  const sim = new PersonaSimulator({
    apiKeys: [KEY],
    rateLimit: { limit: LIMIT, windowMs: WINDOW_MS },
    decisionDelayMs: 3_600_000,
  });
  await sim.listen();
  const redis = new Redis(REDIS_URL);
  const store = new RequestStore(redis, { prefix });
  const queue = new Queue(catalog.transactionCreate.name, { connection: redis, prefix });

  // A backlog larger than the run can drain.
  const backlog = Math.ceil((LIMIT * seconds) / 60) + 100;
  const ids: string[] = [];
  for (let i = 0; i < backlog; i++) {
    const accepted = await store.accept(
      {
        transactionTypeId: 'txntp_bench',
        fields: { name_first: 'Bench', n: i },
        referenceId: `bench-${i}`,
      },
      { correlationId: `bench-${i}` },
    );
    if (accepted.kind !== 'created') throw new Error('accept failed');
    ids.push(accepted.request.id);
  }
  const enqueue = createEnqueue(() => queue);
  for (const id of ids) await enqueue('transactionCreate', { requestId: id, correlationId: id });

  const env = {
    REDIS_URL,
    QUEUE_PREFIX: prefix,
    PERSONA_API_KEY: KEY,
    PERSONA_API_BASE_URL: sim.url,
    LOG_LEVEL: 'info',
    WORKER_CONCURRENCY: '8',
    WORKER_HTTP_PORT: '0',
  };
  const workers = Array.from({ length: n }, () => new ServiceProcess('workers', env));
  await Promise.all(workers.map((w) => w.waitForLine(/workers started/)));
  const started = Date.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  await Promise.all(workers.map((w) => w.kill('SIGTERM')));
  const ended = started + seconds * 1000;

  const calls = sim.requests.filter((r) => r.method === 'POST' && r.at >= started && r.at < ended);
  const arrivals = calls.map((r) => r.at);

  // Slot wait: from the job's first request for a slot to its call's arrival.
  const byKey = new Map(calls.map((r) => [r.idempotencyKey, r.at]));
  const waits: number[] = [];
  for (const id of ids) {
    const record = await store.get(id);
    const arrived = record && byKey.get(record.personaKey);
    if (!arrived) continue;
    const job = await queue.getJob(id);
    const data = job?.data as { parkedAt?: number } | undefined;
    const asked = data?.parkedAt ?? job?.processedOn;
    if (asked !== undefined) waits.push(Math.max(0, arrived - asked));
  }
  waits.sort((a, b) => a - b);

  await queue.close();
  redis.disconnect();
  await sim.close();
  await deletePrefix(REDIS_URL, prefix);
  return {
    processes: n,
    sent: calls.length,
    maxIn60s: maxInAnyWindow(arrivals, WINDOW_MS),
    utilisation: calls.length / ((LIMIT * seconds) / 60),
    got429: calls.filter((r) => r.status === 429).length,
    p50: quantile(waits, 0.5),
    p99: quantile(waits, 0.99),
  };
}

const rows: Row[] = [];
for (const n of processes) {
  process.stderr.write(`running ${n} worker process${n > 1 ? 'es' : ''} for ${seconds} s...\n`);
  rows.push(await run(n));
}

const header = [
  'processes',
  'requests sent',
  'max in any 60 s',
  'utilisation',
  '429s',
  'slot wait p50',
  'slot wait p99',
];
const lines = rows.map((r) => [
  String(r.processes),
  String(r.sent),
  `${r.maxIn60s} / ${LIMIT}`,
  `${(r.utilisation * 100).toFixed(1)} %`,
  String(r.got429),
  `${r.p50} ms`,
  `${r.p99} ms`,
]);
const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
const fmt = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
process.stdout.write(
  `\nPersona budget ${LIMIT}/min, window ${WINDOW_MS / 1000} s, ${seconds} s per run, node ${process.version}\n`,
);
process.stdout.write(
  `${fmt(header)}\n${fmt(widths.map((w) => '-'.repeat(w)))}\n${lines.map(fmt).join('\n')}\n`,
);
