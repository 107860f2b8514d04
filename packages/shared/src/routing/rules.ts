import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { actionQueueName } from '../queues/catalog.ts';

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

/** The variables routing rules come from; spread into a service's env schema. */
export const routingEnv = {
  /** Routing rules as JSON (see README); the defaults route transaction decisions. */
  ROUTING_RULES: z.string().optional(),
  /** The same, from a JSON file. */
  ROUTING_RULES_FILE: z.string().optional(),
};

/**
 * For a service schema's `.transform`: the routing rules from `ROUTING_RULES_FILE`, else
 * `ROUTING_RULES`, else the defaults; a problem is reported on the variable it came from.
 */
export function readRoutingRules(
  env: { ROUTING_RULES?: string | undefined; ROUTING_RULES_FILE?: string | undefined },
  ctx: z.RefinementCtx,
): RoutingRule[] | null {
  const source = env.ROUTING_RULES_FILE ? 'ROUTING_RULES_FILE' : 'ROUTING_RULES';
  let raw: unknown = DEFAULT_ROUTING_RULES;
  try {
    if (env.ROUTING_RULES_FILE) raw = JSON.parse(readFileSync(env.ROUTING_RULES_FILE, 'utf8'));
    else if (env.ROUTING_RULES) raw = JSON.parse(env.ROUTING_RULES);
  } catch (err) {
    ctx.addIssue({
      code: 'custom',
      path: [source],
      message: `is not readable JSON (${(err as Error).message})`,
    });
    return null;
  }
  const rules = RoutingRules.safeParse(raw);
  if (rules.success) return rules.data;
  for (const issue of rules.error.issues) {
    ctx.addIssue({
      code: 'custom',
      path: [source],
      message: `rule ${issue.path.join('.') || '(root)'}: ${issue.message}`,
    });
  }
  return null;
}

/** Every business-action queue the rules name, each once. */
export const actionQueuesOf = (rules: readonly RoutingRule[]): string[] => [
  ...new Set(rules.flatMap((r) => r.queues)),
];
