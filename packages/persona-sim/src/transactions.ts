import type { Accounts } from './accounts.ts';
import type { EventLog } from './events.ts';
import { storeFields } from './fields.ts';
import { badRequest, errorBody, notFound, page, settled, type RouteResult } from './http.ts';
import { kebabKeys } from './inflection.ts';
import { includedFor, transactionResource } from './resources.ts';
import type { SimState } from './state.ts';
import type { SimTransaction } from './types.ts';
import type { Workflow } from './workflow.ts';

/** What a create carries, from the API or from another program. */
export interface CreateInput {
  transactionTypeId: string;
  referenceId: string | null;
  fields: Record<string, unknown>;
  tags: string[];
  idempotencyKey: string | null;
  foreign?: boolean;
}

type Parsed = { input: CreateInput } | { error: RouteResult };

/** `POST /transactions`, `GET /transactions` and `GET /transactions/{id}`. */
export class Transactions {
  readonly #state: SimState;
  readonly #events: EventLog;
  readonly #accounts: Accounts;
  readonly #workflow: Workflow;

  constructor(state: SimState, events: EventLog, accounts: Accounts, workflow: Workflow) {
    this.#state = state;
    this.#events = events;
    this.#accounts = accounts;
    this.#workflow = workflow;
  }

  /** `POST /transactions` from a request body in any key inflection. */
  create(raw: string, key: string | null): RouteResult {
    const parsed = this.#parse(raw, key);
    if ('error' in parsed) return parsed.error;
    const txn = this.insert(parsed.input);
    return { status: 201, body: JSON.stringify({ data: transactionResource(txn) }) };
  }

  /** Stores a transaction, relates its account, announces it and starts its workflow. */
  insert(input: CreateInput): SimTransaction {
    const state = this.#state;
    const now = state.stamp();
    const txn: SimTransaction = {
      id: state.ids.mint('transaction'),
      status: 'created',
      transactionTypeId: input.transactionTypeId,
      referenceId: input.referenceId,
      fields: storeFields(input.fields, state.settings.normaliseFields),
      tags: input.tags,
      createdAt: now,
      updatedAt: now,
      related: [],
      idempotencyKey: input.idempotencyKey,
      ...(input.foreign ? { foreign: true } : {}),
    };
    state.transactions.set(txn.id, txn);
    const accountEvent = this.#accounts.relate(txn);
    this.#events.transaction('transaction.created', txn);
    accountEvent?.();
    this.#workflow.schedule(txn);
    return txn;
  }

  /** `GET /transactions`: newest first, filtered, lagging by `listLagMs`. */
  list(params: URLSearchParams): RouteResult {
    const filterRef = params.get('filter[reference-id]');
    const filterType = params.get('filter[transaction-type-id]');
    const all = [...this.#state.transactions.values()];
    const list = settled(all, (t) => t.createdAt, this.#state.settings.listLagMs)
      .filter(
        (t) =>
          (filterRef === null || t.referenceId === filterRef) &&
          (filterType === null || t.transactionTypeId === filterType),
      )
      .reverse();
    return page(params, '/api/v1/transactions', list, (t) => t.id, transactionResource);
  }

  /** `GET /transactions/{id}` with `included`, never lagging. */
  get(id: string): RouteResult {
    const txn = this.#state.transactions.get(id);
    if (!txn) return notFound();
    return {
      status: 200,
      body: JSON.stringify({ data: transactionResource(txn), included: includedFor(txn) }),
    };
  }

  #parse(raw: string, key: string | null): Parsed {
    let doc: unknown;
    try {
      doc = JSON.parse(raw);
    } catch {
      return { error: badRequest('Request body is not valid JSON') };
    }
    const attributes = (doc as { data?: { attributes?: unknown } } | null)?.data?.attributes;
    if (attributes === null || typeof attributes !== 'object' || Array.isArray(attributes)) {
      return { error: badRequest('data.attributes is missing') };
    }
    // Persona accepts request keys in any inflection; the simulator reads them as kebab-case.
    const a = kebabKeys(attributes as Record<string, unknown>);
    const typeId = a['transaction-type-id'];
    if (typeof typeId !== 'string' || typeId === '') {
      return { error: badRequest('data.attributes.transaction-type-id is missing') };
    }
    const fields = a.fields ?? {};
    if (typeof fields !== 'object' || fields === null || Array.isArray(fields)) {
      return { error: badRequest('data.attributes.fields must be an object') };
    }
    const refused = this.#validate(typeId, fields as Record<string, unknown>);
    if (refused) return { error: refused };
    const tags = a.tags;
    return {
      input: {
        transactionTypeId: typeId,
        referenceId: typeof a['reference-id'] === 'string' ? a['reference-id'] : null,
        fields: fields as Record<string, unknown>,
        tags: Array.isArray(tags) ? tags.filter((t): t is string => typeof t === 'string') : [],
        idempotencyKey: key,
      },
    };
  }

  /** 404 for an unknown Transaction Type, 422 for a missing or refused field (when types are known). */
  #validate(typeId: string, fields: Record<string, unknown>): RouteResult | null {
    const known = this.#state.options.transactionTypes;
    if (!known) return null;
    const type = known[typeId];
    if (!type) {
      return {
        status: 404,
        body: errorBody('Record not found', `Could not find transaction type ${typeId}`),
      };
    }
    for (const name of type.requiredFields ?? []) {
      const v = fields[name];
      if (v === undefined || v === null || v === '') {
        return {
          status: 422,
          body: errorBody('Unprocessable entity', `fields.${name} is missing`, {
            source: { pointer: `/data/attributes/fields/${name}` },
          }),
        };
      }
    }
    const problem = type.validate?.(fields) ?? null;
    return problem === null
      ? null
      : { status: 422, body: errorBody('Unprocessable entity', problem) };
  }
}
