import type { EventSummary, RoutingRule } from '@pp/shared';

export type { RoutingRule };
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

/** Persona's verification events (its webhook `enabled-events` list). */
const VERIFICATION_EVENTS = [
  'verification.created',
  'verification.submitted',
  'verification.passed',
  'verification.failed',
  'verification.tentatively-passed',
  'verification.tentatively-failed',
  'verification.requires-retry',
  'verification.canceled',
  'verification.skipped',
  'verification.escalated',
];
/** Persona's report events are `report/<kind>.<one of these>`. */
const REPORT_OUTCOMES = ['ready', 'errored', 'matched', 'dismissed', 'submitted'];
/** Transaction events that carry a status. */
const TRANSACTION_STATUS_EVENTS = ['transaction.created', 'transaction.status-updated'];

/**
 * The event names whose statuses the rules route: what the event-stream sweep asks Persona
 * for. `uncovered` lists rules whose events cannot be named (a report rule without an event
 * name: Persona has too many report kinds to ask for all of them).
 */
export function routedEventNames(rules: readonly RoutingRule[]): {
  names: string[];
  uncovered: RoutingRule[];
} {
  const names = new Set<string>();
  const uncovered: RoutingRule[] = [];
  for (const rule of rules) {
    const pattern = rule.event;
    const candidates =
      rule.object === 'transaction'
        ? TRANSACTION_STATUS_EVENTS
        : rule.object === 'verification'
          ? VERIFICATION_EVENTS
          : pattern?.endsWith('.*')
            ? REPORT_OUTCOMES.map((o) => `${pattern.slice(0, -1)}${o}`)
            : [];
    const matched =
      pattern && !pattern.endsWith('.*')
        ? [pattern]
        : candidates.filter((n) => nameMatches(pattern, n));
    if (matched.length === 0) uncovered.push(rule);
    for (const n of matched) names.add(n);
  }
  return { names: [...names].sort(), uncovered };
}
