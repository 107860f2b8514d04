import type { SimEvent, SimObject, SimTransaction } from './types.ts';

/** A transaction as Persona serialises it (kebab-case; the API or webhook inflects it later). */
export function transactionResource(
  txn: SimTransaction,
): SimObject & { relationships: Record<string, unknown> } {
  return {
    type: 'transaction',
    id: txn.id,
    attributes: {
      status: txn.status,
      'reference-id': txn.referenceId,
      fields: structuredClone(txn.fields),
      tags: [...txn.tags],
      'created-at': txn.createdAt,
      'updated-at': txn.updatedAt,
    },
    relationships: {
      reviewer: { data: null },
      'transaction-label': { data: null },
      'transaction-type': { data: { type: 'transaction-type', id: txn.transactionTypeId } },
      'related-objects': { data: txn.related.map((o) => ({ type: o.type, id: o.id })) },
    },
  };
}

/** The objects a transaction's relationships point at: its type and its related objects. */
export function includedFor(txn: SimTransaction): SimObject[] {
  return [
    {
      type: 'transaction-type',
      id: txn.transactionTypeId,
      attributes: { name: 'Simulated', 'field-schemas': [] },
    },
    ...txn.related.map((o) => structuredClone(o)),
  ];
}

/** An event; webhooks carry the payload's `included`, the Events API does not. */
export function eventResource(e: SimEvent, withIncluded: boolean) {
  return {
    type: 'event',
    id: e.id,
    attributes: {
      name: e.name,
      payload: withIncluded ? { data: e.object, included: e.included } : { data: e.object },
      'created-at': e.createdAt,
      ...(e.context ? { context: e.context } : {}),
    },
  };
}
