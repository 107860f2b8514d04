import { Counter, type Registry } from 'prom-client';
import { METRIC_PREFIX } from './registry.ts';

/** Webhook deliveries by what the receiver answered (`invalid_signature` is a 401). */
export function webhookMetrics(registry: Registry) {
  const deliveries = new Counter({
    name: `${METRIC_PREFIX}webhook_deliveries_total`,
    help: 'Webhook deliveries, by outcome: accepted, duplicate, invalid_signature, invalid_event, unavailable.',
    labelNames: ['outcome', 'reason'],
    registers: [registry],
  });
  return (outcome: string, reason = '') => deliveries.inc({ outcome, reason });
}

/** What event processing did: dedupe hits, fan-out jobs, reconciliation findings. */
export function eventMetrics(registry: Registry) {
  const duplicates = new Counter({
    name: `${METRIC_PREFIX}event_duplicates_total`,
    help: 'Events recognised as already processed, by where: the receiver gate or a worker.',
    labelNames: ['where'],
    registers: [registry],
  });
  const fanOut = new Counter({
    name: `${METRIC_PREFIX}fanout_jobs_total`,
    help: 'Business-action jobs added, by queue.',
    labelNames: ['queue'],
    registers: [registry],
  });
  const reconciliation = new Counter({
    name: `${METRIC_PREFIX}reconciliation_findings_total`,
    help: 'What reconciliation found: lookups by result (unchanged, ingested, gone) and events the sweeps recovered.',
    labelNames: ['finding'],
    registers: [registry],
  });
  return {
    duplicate: (where: 'receiver' | 'worker') => duplicates.inc({ where }),
    fannedOut: (queue: string) => fanOut.inc({ queue }),
    found: (finding: string, n = 1) => reconciliation.inc({ finding }, n),
  };
}
export type EventMetrics = ReturnType<typeof eventMetrics>;
