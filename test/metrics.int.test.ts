import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { eventually, freePort, seededRandom } from '@pp/testing';
import { startPipeline, type Pipeline } from './harness.ts';

/**
 * What operators see: every service's `/metrics` during an end-to-end run, checked against
 * what happened, and the dashboard and alert rules checked against what is exported.
 */

let p: Pipeline | undefined;
afterEach(async () => {
  await p?.close();
  p = undefined;
});

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Prometheus text exposition, enough of it: samples and the declared family names. */
function parseMetrics(text: string): { samples: Sample[]; families: Set<string> } {
  const samples: Sample[] = [];
  const families = new Set<string>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) /.exec(line);
    if (type) families.add(type[1]!);
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const labels = Object.fromEntries(
      [...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1]!, l[2]!]),
    );
    samples.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return { samples, families };
}

const scrape = async (url: string) => parseMetrics(await (await fetch(`${url}/metrics`)).text());

/** The sum of a family's samples whose labels include `where`. */
const sum = (s: Sample[], name: string, where: Record<string, string> = {}) =>
  s
    .filter((x) => x.name === name && Object.entries(where).every(([k, v]) => x.labels[k] === v))
    .reduce((a, x) => a + x.value, 0);

describe('metrics, dashboard and alerts', () => {
  it('When requests, retries, duplicates, a lost webhook and a bad signature happen, then each service exports figures that match', async () => {
    const workerPort = await freePort();
    p = await startPipeline({
      sim: {
        decisionDelayMs: 100,
        random: seededRandom(7),
        faults: { serverErrorRate: 0.2, serverErrorAfterCreateShare: 0 },
      },
      workers: {
        WORKER_HTTP_PORT: String(workerPort),
        RECONCILE_INTERVAL_MS: '200',
        RECONCILE_AFTER_MS: '300',
      },
    });
    p.sim.webhooks.configure({ ...p.sim.webhooks.options!, duplicateRate: 1 });
    // One decision's webhook is lost: reconciliation must find it.
    let lost = false;
    p.sim.loseWebhooks = (e) => e.name === 'transaction.status-updated' && !lost && (lost = true);
    const n = 10;
    const ids = await Promise.all(
      Array.from({ length: n }, async (_, i) => {
        const res = await p!.post({
          transaction_type_id: 'txntp_KYC123',
          fields: { name_first: 'Grace' },
          reference_id: `metrics-${i}`,
        });
        expect(res.status).toBe(202);
        return ((await res.json()) as { id: string }).id;
      }),
    );
    for (const id of ids) await p.until(id, (v) => v.persona_status === 'approved', 'approved');
    const refused = await fetch(`${p.receiver.url}/webhooks/persona`, {
      method: 'POST',
      headers: { 'persona-signature': 't=1,v1=00' },
      body: '{}',
    });
    expect(refused.status).toBe(401);
    const workersUrl = p.workers!.httpUrl!;
    // Everything has settled: the fan-outs are done and the queues are drained.
    await eventually(
      async () =>
        sum((await scrape(workersUrl)).samples, 'persona_pipeline_fanout_jobs_total') === n,
      { what: 'every decision fanned out' },
    );

    const gateway = await scrape(p.gateway.url);
    const receiver = await scrape(p.receiver.url);
    const workers = await scrape(workersUrl);

    // Gateway: one 202 per request by its caller, latency recorded by route.
    expect(
      sum(gateway.samples, 'persona_pipeline_http_requests_total', {
        route: '/v1/transactions',
        method: 'POST',
        status: '202',
        caller: 'default',
      }),
    ).toBe(n);
    expect(
      sum(gateway.samples, 'persona_pipeline_http_request_duration_seconds_count', {
        route: '/v1/transactions',
      }),
    ).toBe(n);

    // Receiver: every delivery counted by outcome; the bad signature is a 401.
    const delivered = p.sim.webhooks.deliveries.length;
    const outcomes = ['accepted', 'duplicate'].map((outcome) =>
      sum(receiver.samples, 'persona_pipeline_webhook_deliveries_total', { outcome }),
    );
    expect(outcomes.reduce((a, b) => a + b, 0)).toBe(delivered);
    expect(outcomes[1]).toBeGreaterThan(0);
    expect(
      sum(receiver.samples, 'persona_pipeline_webhook_deliveries_total', {
        outcome: 'invalid_signature',
      }),
    ).toBe(1);
    expect(
      sum(receiver.samples, 'persona_pipeline_event_duplicates_total', { where: 'receiver' }),
    ).toBe(outcomes[1]);

    // Workers: Persona create calls are the requests plus their retries, by status.
    const posts = p.sim.requests.filter((r) => r.method === 'POST');
    expect(posts.length).toBeGreaterThan(n);
    expect(
      sum(workers.samples, 'persona_pipeline_persona_calls_total', {
        endpoint: 'POST /transactions',
      }),
    ).toBe(posts.length);
    expect(
      sum(workers.samples, 'persona_pipeline_persona_calls_total', {
        endpoint: 'POST /transactions',
        status: '500',
      }),
    ).toBe(posts.filter((r) => r.status === 500).length);
    expect(
      sum(workers.samples, 'persona_pipeline_jobs_total', {
        queue: 'persona-transaction-create',
        result: 'completed',
      }),
    ).toBe(n);
    // Each 500 cost an attempt (a search after stored 5xx may cost more).
    expect(
      sum(workers.samples, 'persona_pipeline_jobs_total', {
        queue: 'persona-transaction-create',
        result: 'retried',
      }),
    ).toBeGreaterThanOrEqual(posts.filter((r) => r.status === 500).length);
    expect(
      sum(workers.samples, 'persona_pipeline_fanout_jobs_total', { queue: 'actions-approve' }),
    ).toBe(n);
    expect(
      sum(workers.samples, 'persona_pipeline_reconciliation_findings_total', {
        finding: 'event_recovered',
      }),
    ).toBeGreaterThanOrEqual(1);
    // The fleet-wide gauges, from the one leader (this process).
    expect(
      sum(workers.samples, 'persona_pipeline_queue_jobs', {
        queue: 'actions-approve',
        state: 'waiting',
      }),
    ).toBe(n);
    expect(workers.families.has('persona_pipeline_queue_oldest_waiting_age_seconds')).toBe(true);
    expect(sum(workers.samples, 'persona_pipeline_limiter_slots_used')).toBeGreaterThanOrEqual(
      posts.length,
    );
    expect(sum(workers.samples, 'persona_pipeline_persona_ratelimit', { header: 'limit' })).toBe(
      300,
    );

    for (const s of [gateway, receiver, workers]) {
      expect(sum(s.samples, 'persona_pipeline_redis_up')).toBe(1);
      expect(s.families.has('process_cpu_seconds_total')).toBe(true);
    }

    // The dashboard and the alerts name only metrics the services export.
    const exported = new Set([...gateway.families, ...receiver.families, ...workers.families]);
    const family = (name: string) => name.replace(/_(bucket|sum|count)$/, '');
    const named = (text: string) =>
      [...text.matchAll(/\b(persona_pipeline_\w+|process_\w+|nodejs_\w+)/g)].map((m) =>
        family(m[1]!),
      );
    const dashboard = JSON.parse(readFileSync('ops/grafana/persona-pipeline.json', 'utf8')) as {
      panels: { targets: { expr: string }[] }[];
    };
    const dashboardNames = dashboard.panels.flatMap((panel) =>
      panel.targets.flatMap((t) => named(t.expr)),
    );
    const alerts = parseYaml(readFileSync('ops/prometheus/alerts.yml', 'utf8')) as {
      groups: { rules: { alert: string; expr: string }[] }[];
    };
    const alertNames = alerts.groups.flatMap((g) => g.rules.flatMap((r) => named(r.expr)));
    expect(dashboardNames.length).toBeGreaterThan(10);
    expect(alerts.groups[0]!.rules.map((r) => r.alert)).toEqual(
      expect.arrayContaining([
        'PersonaRateLimited',
        'QueueBacklogOld',
        'WebhookSignatureFailures',
        'JobsFailing',
        'RedisUnreachable',
      ]),
    );
    expect(
      [...new Set([...dashboardNames, ...alertNames])].filter((m) => !exported.has(m)),
    ).toEqual([]);
  });
});
