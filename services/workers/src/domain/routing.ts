import { z } from 'zod';
import { actionQueueName, type EventSummary } from '@pp/shared';

/**
 * One routing rule: an event (optionally by name) whose object reached a status goes to
 * one or more business-action queues.
 */
export const RoutingRule = z.strictObject({
  /** Event name, exact (`transaction.status-updated`) or a prefix glob (`verification.*`); any when absent. */
  event: z.string().min(1).optional(),
  /** Whose status: the transaction's (default), a verification's or a report's. */
  object: z.enum(['transaction', 'verification', 'report']).default('transaction'),
  /** One status or several. */
  status: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
  queues: z.array(actionQueueName).min(1),
});
export type RoutingRule = z.output<typeof RoutingRule>;

export const RoutingRules = z.array(RoutingRule);

/** Decisions of the transaction go to the default business-action queues. */
export const DEFAULT_ROUTING_RULES: RoutingRule[] = [
  { object: 'transaction', status: 'approved', queues: ['actions-approve'] },
  { object: 'transaction', status: 'declined', queues: ['actions-decline'] },
  { object: 'transaction', status: ['needs_review', 'needs review'], queues: ['actions-review'] },
  { object: 'transaction', status: 'errored', queues: ['actions-review'] },
];

export type ObjectKind = RoutingRule['object'];

export function objectKind(type: string | undefined): ObjectKind | null {
  if (type === 'transaction') return 'transaction';
  if (type?.startsWith('verification')) return 'verification';
  if (type?.startsWith('report')) return 'report';
  return null;
}

/** Events whose names we know how to apply; others are recorded, not routed. */
export const isKnownEvent = (name: string): boolean =>
  /^(transaction|verification|report\/[a-z0-9-]+)\.[a-z0-9-]+$/.test(name);

const nameMatches = (pattern: string | undefined, name: string) =>
  pattern === undefined ||
  (pattern.endsWith('.*') ? name.startsWith(pattern.slice(0, -1)) : pattern === name);

/** The queues an event's new status is routed to, in rule order, each once. */
export function routeEvent(rules: readonly RoutingRule[], summary: EventSummary): string[] {
  const kind = objectKind(summary.object?.type);
  if (!kind || summary.status === null) return [];
  const status = summary.status;
  const queues: string[] = [];
  for (const rule of rules) {
    if (rule.object !== kind || !nameMatches(rule.event, summary.name)) continue;
    const statuses = Array.isArray(rule.status) ? rule.status : [rule.status];
    if (!statuses.includes(status)) continue;
    for (const q of rule.queues) if (!queues.includes(q)) queues.push(q);
  }
  return queues;
}
