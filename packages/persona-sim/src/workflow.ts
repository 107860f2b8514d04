import type { EventLog } from './events.ts';
import type { SimState } from './state.ts';
import type { SimObject, SimTransaction } from './types.ts';

const NEEDS_REVIEW = new Set(['needs_review', 'needs review']);

/** By default a tag `sim-decision:<status>` picks the decision, else `approved`. */
function defaultDecision(txn: SimTransaction): string {
  const tag = txn.tags.find((t) => t.startsWith('sim-decision:'));
  return tag ? tag.slice('sim-decision:'.length) : 'approved';
}

/**
 * The Transaction Type's workflow: a database verification, a watchlist report and a
 * decision after `decisionDelayMs`; then, for `needs_review`, the reviewer if one is set.
 */
export class Workflow {
  readonly #state: SimState;
  readonly #events: EventLog;

  constructor(state: SimState, events: EventLog) {
    this.#state = state;
    this.#events = events;
  }

  schedule(txn: SimTransaction): void {
    this.#state.later(this.#state.options.decisionDelayMs ?? 1000, () => this.run(txn));
  }

  run(txn: SimTransaction): void {
    const state = this.#state;
    const decision = (state.options.decide ?? defaultDecision)(txn);
    const now = () => state.stamp();
    const verification: SimObject = {
      type: 'verification/database',
      id: state.ids.mint('verification'),
      attributes: { status: 'submitted', 'created-at': now(), 'completed-at': null },
    };
    const report: SimObject = {
      type: 'report/watchlist',
      id: state.ids.mint('report'),
      attributes: { status: 'pending', 'created-at': now(), 'completed-at': null },
    };
    txn.related.push(verification, report);
    this.#events.related('verification.created', verification, txn);
    verification.attributes.status = decision === 'declined' ? 'failed' : 'passed';
    verification.attributes['completed-at'] = now();
    this.#events.related(
      decision === 'declined' ? 'verification.failed' : 'verification.passed',
      verification,
      txn,
    );
    report.attributes.status = 'ready';
    report.attributes['completed-at'] = now();
    this.#events.related('report/watchlist.ready', report, txn);
    this.setStatus(txn, decision);

    const reviewer = state.settings.reviewer;
    if (reviewer && NEEDS_REVIEW.has(decision)) {
      state.later(reviewer.delayMs, () => {
        if (!NEEDS_REVIEW.has(txn.status)) return; // someone else resolved it meanwhile
        this.setStatus(txn, reviewer.decision, { lose: reviewer.loseWebhook ?? false });
      });
    }
  }

  /** Changes the status and records `transaction.status-updated`. */
  setStatus(txn: SimTransaction, status: string, opts: { lose?: boolean } = {}): void {
    txn.status = status;
    txn.updatedAt = this.#state.stamp();
    this.#events.transaction('transaction.status-updated', txn, opts);
  }
}
