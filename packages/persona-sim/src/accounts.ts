import type { EventLog } from './events.ts';
import type { SimState } from './state.ts';
import type { SimObject, SimTransaction } from './types.ts';

/**
 * Persona Accounts: one per reference id, created on first use (`account.created`) and
 * related to every transaction carrying that reference id (`account.added-relation` for
 * each later one). Only while `settings.accounts` is on.
 */
export class Accounts {
  readonly #state: SimState;
  readonly #events: EventLog;
  readonly #byReference = new Map<string, SimObject>();

  constructor(state: SimState, events: EventLog) {
    this.#state = state;
    this.#events = events;
  }

  /** The account of a reference id, if one was created. */
  get(referenceId: string): SimObject | undefined {
    return this.#byReference.get(referenceId);
  }

  /**
   * Relates the transaction to its reference id's account. Returns the account event to
   * record once the transaction itself is announced, or null.
   */
  relate(txn: SimTransaction): (() => void) | null {
    const ref = txn.referenceId;
    if (!this.#state.settings.accounts || ref === null) return null;
    const now = this.#state.stamp();
    let account = this.#byReference.get(ref);
    const created = !account;
    if (!account) {
      account = {
        type: 'account',
        id: this.#state.ids.mint('account'),
        attributes: {
          'reference-id': ref,
          'account-type-name': 'User',
          'created-at': now,
          'updated-at': now,
          'redacted-at': null,
          fields: {},
          tags: [],
          'account-status': 'active',
        },
      };
      this.#byReference.set(ref, account);
    } else {
      account.attributes['updated-at'] = now;
    }
    txn.related.push(account);
    const target = account;
    return created
      ? () => this.#events.account('account.created', target)
      : () =>
          this.#events.account('account.added-relation', target, {
            'relation-schema-key': 'transactions',
            'target-account-id': null,
            'target-txn-id': txn.id,
          });
  }
}
