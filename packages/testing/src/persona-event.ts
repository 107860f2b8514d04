/**
 * The body of a Persona `transaction.status-updated` webhook (kebab-case, as Persona sends it
 * by default), created now: for tests that post events by hand rather than through the
 * simulator.
 */
export function transactionEventBody(
  eventId: string,
  transactionId: string,
  attributes: Record<string, unknown>,
): string {
  return JSON.stringify({
    data: {
      type: 'event',
      id: eventId,
      attributes: {
        name: 'transaction.status-updated',
        'created-at': new Date().toISOString(),
        payload: { data: { type: 'transaction', id: transactionId, attributes } },
      },
    },
  });
}
