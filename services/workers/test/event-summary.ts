import type { EventSummary } from '@pp/shared';

/** A transaction's `status-updated` event as a worker reads it; each test overrides what it needs. */
export const eventSummary = (over: Partial<EventSummary> = {}): EventSummary => ({
  eventId: 'evt_1',
  name: 'transaction.status-updated',
  createdAt: '2026-01-01T00:00:00.000Z',
  object: { type: 'transaction', id: 'txn_1' },
  status: 'approved',
  updatedAt: null,
  transactionId: 'txn_1',
  referenceId: null,
  related: [],
  taggedRequestId: null,
  tagsSeen: false,
  source: 'webhook',
  ...over,
});
