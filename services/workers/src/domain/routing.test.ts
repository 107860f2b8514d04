import { describe, expect, it } from 'vitest';
import { DEFAULT_ROUTING_RULES, RoutingRules } from '@pp/shared';
import { eventSummary } from '../../test/event-summary.ts';
import { routeEvent } from './routing.ts';

describe('routeEvent', () => {
  it.each([
    ['approved', ['actions-approve']],
    ['declined', ['actions-decline']],
    ['needs_review', ['actions-review']],
    ['needs review', ['actions-review']],
    ['errored', ['actions-review']],
    ['created', []],
    ['pending_fallback_inquiry', []],
  ])('When a transaction becomes %s, then the default rules route it to %j', (status, queues) => {
    expect(routeEvent(DEFAULT_ROUTING_RULES, eventSummary({ status }))).toEqual(queues);
  });

  it('When a verification passes, then the default rules route nothing', () => {
    expect(
      routeEvent(
        DEFAULT_ROUTING_RULES,
        eventSummary({
          name: 'verification.passed',
          object: { type: 'verification/database', id: 'ver_1' },
          status: 'passed',
        }),
      ),
    ).toEqual([]);
  });

  it('When custom rules match by event glob, object and status, then every matching queue is named once', () => {
    const rules = RoutingRules.parse([
      {
        event: 'verification.*',
        object: 'verification',
        status: 'failed',
        queues: ['actions-review', 'audit-log'],
      },
      { object: 'verification', status: ['failed', 'canceled'], queues: ['audit-log'] },
      { event: 'transaction.status-updated', status: 'approved', queues: ['actions-approve'] },
    ]);
    expect(
      routeEvent(
        rules,
        eventSummary({
          name: 'verification.failed',
          object: { type: 'verification/government-id', id: 'ver_1' },
          status: 'failed',
        }),
      ),
    ).toEqual(['actions-review', 'audit-log']);
    expect(
      routeEvent(rules, eventSummary({ name: 'transaction.labeled', status: 'approved' })),
    ).toEqual([]);
    expect(routeEvent(rules, eventSummary({ status: null }))).toEqual([]);
  });

  it('When a rule is malformed, then validation names the problem', () => {
    const result = RoutingRules.safeParse([
      { status: 'approved', queues: ['Actions:Approve'] },
      { status: [], queues: ['x'], extra: 1 },
    ]);
    expect(result.success).toBe(false);
    const paths = result.error!.issues.map((i) => i.path.join('.'));
    expect(paths).toEqual(expect.arrayContaining(['0.queues.0', '1.status', '1']));
  });
});
