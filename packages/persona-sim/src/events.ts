import { csvParam, notFound, page, settled, type RouteResult } from './http.ts';
import { eventResource, includedFor, transactionResource } from './resources.ts';
import type { SimState } from './state.ts';
import type { SimEvent, SimObject, SimTransaction } from './types.ts';

/**
 * Records events and hands each to the webhook sender, unless it is to be lost (the
 * `loseWebhooks` predicate, or one event marked lost); lost event ids go to `webhooks.lost`.
 * Also serves `GET /events` and `GET /events/{id}`.
 */
export class EventLog {
  readonly #state: SimState;

  constructor(state: SimState) {
    this.#state = state;
  }

  /** A transaction event: the transaction with everything it relates to in `included`. */
  transaction(name: string, txn: SimTransaction, opts: { lose?: boolean } = {}): SimEvent {
    return this.#record(
      {
        id: this.#state.ids.mint('event'),
        name,
        createdAt: this.#state.stamp(),
        object: transactionResource(txn),
        included: includedFor(txn),
      },
      opts.lose ?? false,
    );
  }

  /** A verification or report event: the object, related to its transaction. */
  related(name: string, object: SimObject, txn: SimTransaction): SimEvent {
    return this.#record(
      {
        id: this.#state.ids.mint('event'),
        name,
        createdAt: this.#state.stamp(),
        object: {
          ...structuredClone(object),
          relationships: { transaction: { data: { type: 'transaction', id: txn.id } } },
        },
        included: [],
      },
      false,
    );
  }

  /** An account event: the account object alone, with an optional `context`. */
  account(name: string, account: SimObject, context?: Record<string, unknown>): SimEvent {
    return this.#record(
      {
        id: this.#state.ids.mint('event'),
        name,
        createdAt: this.#state.stamp(),
        object: structuredClone(account),
        included: [],
        ...(context ? { context } : {}),
      },
      false,
    );
  }

  #record(event: SimEvent, lose: boolean): SimEvent {
    const { events, webhooks, settings } = this.#state;
    events.push(event);
    if (lose || settings.loseWebhooks?.(event)) {
      webhooks.lose(event.id);
    } else {
      webhooks.sendEvent(event.id, { data: eventResource(event, true) });
    }
    return event;
  }

  /** `GET /events`: newest first, `filter[name|object-id|id]` comma lists, lagging by `listLagMs`. */
  list(params: URLSearchParams): RouteResult {
    const names = csvParam(params, 'filter[name]');
    const objectIds = csvParam(params, 'filter[object-id]');
    const ids = csvParam(params, 'filter[id]');
    const visible = settled(this.#state.events, (e) => e.createdAt, this.#state.settings.listLagMs);
    const list = visible
      .filter(
        (e) =>
          (!names || names.includes(e.name)) &&
          (!objectIds || objectIds.includes(e.object.id)) &&
          (!ids || ids.includes(e.id)),
      )
      .reverse();
    return page(
      params,
      '/api/v1/events',
      list,
      (e) => e.id,
      (e) => eventResource(e, false),
    );
  }

  /** `GET /events/{id}`, never lagging. */
  get(id: string): RouteResult {
    const event = this.#state.events.find((e) => e.id === id);
    if (!event) return notFound();
    return { status: 200, body: JSON.stringify({ data: eventResource(event, false) }) };
  }
}
