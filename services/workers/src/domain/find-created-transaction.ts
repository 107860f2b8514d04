import { requestTag, type Logger, type TransactionRequest } from '@pp/shared';
import type { SubmitDeps } from './submit-transaction.ts';

/** How far back, before the first call under a key, a created transaction may be dated. */
const CLOCK_SKEW_MS = 5 * 60 * 1000;
/** Pages of 100 read while looking for a transaction a call may have created. */
const MAX_PAGES = 10;

export type FindResult =
  | { kind: 'found'; id: string }
  | { kind: 'none' }
  /** The shared budget said wait. */
  | { kind: 'wait'; retryInMs: number; reason: string }
  /** Too soon to trust a list: Persona's lists may not show our latest call's transaction yet. */
  | { kind: 'defer'; retryInMs: number; reason: string }
  | { kind: 'error'; reason: string };

/**
 * Looks for a transaction that one of our calls may have created although we never saw the
 * answer: of the request's Transaction Type (and reference id), created since our first call
 * under the current key, and carrying our request's tag, exactly. Fields are never compared:
 * Persona may normalise what it stores. A transaction found is linked to the request.
 */
export async function findCreatedTransaction(
  deps: SubmitDeps,
  request: TransactionRequest,
  log: Logger,
): Promise<FindResult> {
  // No call under this key: nothing can have been created by it.
  if (request.firstAttemptAt === null) return { kind: 'none' };
  // Calls made untagged (by an earlier version) cannot be told apart from others' in a list.
  if (!request.tagged) return { kind: 'error', reason: 'the calls under this key carry no tag' };
  const lastCall = request.lastAttemptAt ?? request.firstAttemptAt;
  const settledAt = lastCall + deps.listLagMs;
  if (Date.now() < settledAt) {
    return { kind: 'defer', retryInMs: settledAt - Date.now(), reason: 'list_lag' };
  }
  const since = request.firstAttemptAt - CLOCK_SKEW_MS;
  const tag = requestTag(request.id);
  let after: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const res = await deps.persona.listTransactions(
      {
        transactionTypeId: request.transactionTypeId,
        ...(request.referenceId ? { referenceId: request.referenceId } : {}),
      },
      { ...(after ? { after } : {}), size: 100 },
      { callClass: 'create' },
    );
    switch (res.kind) {
      case 'ok':
        break;
      case 'throttled':
      case 'rate_limited':
        return { kind: 'wait', retryInMs: res.retryInMs, reason: 'search_rate_limited' };
      case 'quota_exceeded':
        return { kind: 'wait', retryInMs: res.retryInMs, reason: 'quota' };
      case 'rejected':
      case 'server_error':
      case 'conflict':
        return { kind: 'error', reason: `search answered ${res.status}` };
      case 'network':
        return { kind: 'error', reason: `search ${res.code}` };
    }
    for (const txn of res.data.data) {
      const created = Date.parse(txn.attributes['created-at'] ?? '');
      if (Number.isFinite(created) && created < since) return { kind: 'none' };
      if (!txn.attributes.tags?.includes(tag)) continue;
      const settled = await deps.store.markSubmitted(request.id, {
        transactionId: txn.id,
        status: txn.attributes.status ?? null,
      });
      if (settled === 'conflict') {
        // Our tag on another request's transaction (edited in the dashboard?): no search can
        // tell what our calls created now, and a new key could create a second one.
        log.error(
          { personaTransactionId: txn.id },
          'a transaction tagged with this request is linked to another request; a person must look',
        );
        return { kind: 'error', reason: 'tagged transaction linked to another request' };
      }
      if (settled === 'settled' || settled === 'submitted') await deps.onLinked(txn.id);
      return { kind: 'found', id: txn.id };
    }
    if (!res.data.nextCursor) return { kind: 'none' };
    after = res.data.nextCursor;
  }
  // Not knowing is not "nothing was created": a new key could make a second transaction.
  log.warn('the search read its page budget without reaching our first call; will look again');
  return { kind: 'error', reason: 'search page budget exhausted' };
}
