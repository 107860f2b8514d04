import {
  type Logger,
  type PersonaClient,
  type RequestStore,
  type TransactionInput,
  type TransactionRequest,
  type TransactionResource,
} from '@pp/shared';

export interface SubmitDeps {
  store: RequestStore;
  persona: PersonaClient;
  /** Consecutive 5xx under one Idempotency-Key before we look for the transaction ourselves. */
  reconcileAfter: number;
  /** Called once a Persona transaction is linked to its request: events waiting for it can go. */
  onLinked: (personaTransactionId: string) => Promise<void>;
}

/** What the processor does next. `wait` never spends an attempt; `retry` does. */
export type SubmitOutcome =
  | { kind: 'done'; result: 'submitted' | 'failed' | 'skipped' }
  | { kind: 'wait'; retryInMs: number; reason: string }
  | { kind: 'retry'; reason: string };

/** How far back, before the first call under a key, a created transaction may be dated. */
const CLOCK_SKEW_MS = 5 * 60 * 1000;
/** Pages of 100 read while looking for a transaction a stored 5xx may have created. */
const MAX_RECONCILE_PAGES = 10;

/**
 * Turns one accepted request into exactly one Persona transaction. Safe to run any number
 * of times for the same request: every call reuses the request's Idempotency-Key, and a
 * settled request is never touched again.
 */
export async function submitTransaction(
  deps: SubmitDeps,
  id: string,
  ctx: { finalAttempt: boolean; log: Logger; signal?: AbortSignal },
): Promise<SubmitOutcome> {
  const { store, persona } = deps;
  const { log } = ctx;
  let request = await store.get(id);
  if (!request) {
    log.error('request record is missing; nothing to submit');
    return { kind: 'done', result: 'skipped' };
  }
  if (request.status !== 'queued') return { kind: 'done', result: 'skipped' };

  const fields = await store.fields(id);
  if (!fields) {
    await store.markFailed(id, {
      code: 'request_data_missing',
      message: 'the request data expired before it reached Persona',
    });
    log.error('request fields are missing; request failed');
    return { kind: 'done', result: 'failed' };
  }
  const input: TransactionInput = {
    transactionTypeId: request.transactionTypeId,
    fields,
    referenceId: request.referenceId ?? undefined,
    tags: request.tags ?? undefined,
  };

  if (request.serverErrors >= deps.reconcileAfter) {
    // Persona stores a 5xx against its key and replays it: retrying the key cannot succeed.
    // Find out whether that first call created the transaction before minting a new key.
    const found = await findCreatedTransaction(deps, request, input, log);
    switch (found.kind) {
      case 'wait':
        return found;
      case 'error':
        return ctx.finalAttempt
          ? failUnavailable(
              store,
              id,
              log,
              'and we could not check whether it created the transaction',
            )
          : { kind: 'retry', reason: found.reason };
      case 'found':
        log.info({ personaTransactionId: found.id }, 'found the transaction a 5xx had hidden');
        return { kind: 'done', result: 'submitted' };
      case 'none': {
        await store.rotatePersonaKey(id, request.keyGeneration);
        log.warn(
          { keyGeneration: request.keyGeneration + 1 },
          'nothing was created under the old Idempotency-Key; using a new one',
        );
        request = await store.get(id);
        if (!request || request.status !== 'queued') return { kind: 'done', result: 'skipped' };
      }
    }
  }

  await store.markAttempt(id);
  const res = await persona.createTransaction(input, {
    idempotencyKey: request.personaKey,
    ...(ctx.signal ? { signal: ctx.signal } : {}),
  });
  switch (res.kind) {
    case 'ok': {
      const settled = await store.markSubmitted(id, {
        transactionId: res.data.id,
        status: res.data.attributes.status ?? null,
      });
      log.info(
        {
          personaTransactionId: res.data.id,
          personaStatus: res.data.attributes.status,
          personaRequestId: res.requestId,
          settled,
        },
        'transaction created at Persona',
      );
      if (settled === 'conflict') {
        // Persona says this key created a transaction that another request of ours already
        // claimed while reconciling a 5xx: one of the two is wrong, and a person must look.
        log.error(
          { personaTransactionId: res.data.id },
          'Persona transaction already linked to another request',
        );
        await store.markFailed(id, {
          code: 'persona_link_conflict',
          message: `Persona created ${res.data.id} for this request, but another request had claimed it`,
        });
        return { kind: 'done', result: 'failed' };
      }
      if (settled === 'settled') await deps.onLinked(res.data.id);
      return { kind: 'done', result: 'submitted' };
    }
    case 'throttled':
      return { kind: 'wait', retryInMs: res.retryInMs, reason: res.reason };
    case 'rate_limited':
      log.warn(
        { retryInMs: res.retryInMs },
        'Persona answered 429; every worker waits for the reset',
      );
      return { kind: 'wait', retryInMs: res.retryInMs, reason: 'rate_limited' };
    case 'quota_exceeded':
      log.error(
        { retryInMs: res.retryInMs, titles: res.errors.map((e) => e.title) },
        'Persona transaction-creation quota exceeded; creations wait for the quota to reset',
      );
      return { kind: 'wait', retryInMs: res.retryInMs, reason: 'quota' };
    case 'rejected': {
      const titles = res.errors.map((e) => e.title).filter(Boolean);
      if (res.config) {
        log.error(
          { status: res.status, titles },
          'CONFIGURATION PROBLEM: Persona refused our API key or its permissions; check PERSONA_API_KEY and the key permissions (txn.write)',
        );
      } else if (res.idempotencyMismatch) {
        log.error(
          { status: res.status },
          'BUG: Persona says this Idempotency-Key was used with another body',
        );
      } else {
        log.warn({ status: res.status, titles }, 'Persona refused the transaction');
      }
      await store.markFailed(id, {
        code: 'persona_rejected',
        message: `Persona answered ${res.status}${titles.length ? `: ${titles.join('; ')}` : ''}`,
        details: { status: res.status, errors: res.errors },
      });
      return { kind: 'done', result: 'failed' };
    }
    case 'server_error': {
      const count = await store.recordServerError(id);
      log.warn(
        { status: res.status, consecutive: count },
        'Persona answered 5xx; retrying with the same key',
      );
      return ctx.finalAttempt
        ? giveUp(deps, request, input, log)
        : { kind: 'retry', reason: `persona ${res.status}` };
    }
    case 'conflict':
      // Our own earlier call under this key is still being processed (we timed out first):
      // back off and ask again with the same key until Persona has its answer stored.
      log.warn('Persona is still processing an earlier call under this key; retrying');
      // Not a 5xx: the key may still be creating, so it must not count toward the 5xx check.
      if (request.serverErrors > 0) await store.clearServerErrors(id);
      return ctx.finalAttempt
        ? giveUp(deps, request, input, log)
        : { kind: 'retry', reason: 'persona 409' };
    case 'network':
      if (request.serverErrors > 0) await store.clearServerErrors(id);
      return ctx.finalAttempt
        ? giveUp(deps, request, input, log)
        : { kind: 'retry', reason: `persona ${res.code}` };
  }
}

/**
 * The last attempt ended without an answer we can trust: Persona may have created the
 * transaction all the same. Look before failing the request.
 */
async function giveUp(
  deps: SubmitDeps,
  request: TransactionRequest,
  input: TransactionInput,
  log: Logger,
): Promise<SubmitOutcome> {
  const found = await findCreatedTransaction(deps, request, input, log);
  switch (found.kind) {
    case 'found':
      log.info(
        { personaTransactionId: found.id },
        'last attempt failed, but Persona had created the transaction',
      );
      return { kind: 'done', result: 'submitted' };
    case 'wait':
      return found;
    case 'none':
      return failUnavailable(deps.store, request.id, log, 'and no transaction was created for it');
    case 'error':
      return failUnavailable(
        deps.store,
        request.id,
        log,
        'and we could not check whether it created the transaction',
      );
  }
}

async function failUnavailable(
  store: RequestStore,
  id: string,
  log: Logger,
  checked: string,
): Promise<SubmitOutcome> {
  await store.markFailed(id, {
    code: 'persona_unavailable',
    message: `Persona did not accept the request on any attempt (5xx, timeouts or no connection), ${checked}`,
  });
  log.error('every attempt failed; request failed');
  return { kind: 'done', result: 'failed' };
}

type FindResult =
  | { kind: 'found'; id: string }
  | { kind: 'none' }
  | { kind: 'wait'; retryInMs: number; reason: string }
  | { kind: 'error'; reason: string };

/**
 * Looks for a transaction that a call answered by a 5xx may have created anyway: same
 * Transaction Type, same reference id, same field values, created after our first call
 * under the key, and not already linked to another request.
 */
async function findCreatedTransaction(
  deps: SubmitDeps,
  request: TransactionRequest,
  input: TransactionInput,
  log: Logger,
): Promise<FindResult> {
  const since = (request.firstAttemptAt ?? Date.parse(request.createdAt)) - CLOCK_SKEW_MS;
  let after: string | undefined;
  for (let page = 0; page < MAX_RECONCILE_PAGES; page++) {
    const res = await deps.persona.listTransactions(
      {
        transactionTypeId: input.transactionTypeId,
        ...(input.referenceId ? { referenceId: input.referenceId } : {}),
      },
      { ...(after ? { after } : {}), size: 100 },
      { callClass: 'create' },
    );
    switch (res.kind) {
      case 'ok':
        break;
      case 'throttled':
      case 'rate_limited':
        return { kind: 'wait', retryInMs: res.retryInMs, reason: 'reconcile_rate_limited' };
      case 'quota_exceeded':
        return { kind: 'wait', retryInMs: res.retryInMs, reason: 'quota' };
      case 'rejected':
      case 'server_error':
      case 'conflict':
        return { kind: 'error', reason: `reconcile list answered ${res.status}` };
      case 'network':
        return { kind: 'error', reason: `reconcile list ${res.code}` };
    }
    for (const txn of res.data.data) {
      const created = Date.parse(txn.attributes['created-at'] ?? '');
      if (Number.isFinite(created) && created < since) return { kind: 'none' };
      if (!sameRequest(txn, input)) continue;
      const owner = await deps.store.requestIdFor(txn.id);
      if (owner !== null && owner !== request.id) continue;
      const settled = await deps.store.markSubmitted(request.id, {
        transactionId: txn.id,
        status: txn.attributes.status ?? null,
      });
      if (settled === 'conflict') continue;
      if (settled === 'settled') await deps.onLinked(txn.id);
      return { kind: 'found', id: txn.id };
    }
    if (!res.data.nextCursor) return { kind: 'none' };
    after = res.data.nextCursor;
  }
  // Not knowing is not "nothing was created": a new key could make a second transaction.
  log.warn('reconciliation read its page budget without reaching the first call; will look again');
  return { kind: 'error', reason: 'reconciliation page budget exhausted' };
}

/** Persona may normalise what it stores (case, spaces); compare scalars loosely, skip files and hashes. */
const normalise = (v: unknown): string | null =>
  typeof v === 'string'
    ? v.trim().toLowerCase()
    : typeof v === 'number' || typeof v === 'boolean'
      ? String(v)
      : null;

function sameRequest(txn: TransactionResource, input: TransactionInput): boolean {
  if ((txn.attributes['reference-id'] ?? undefined) !== input.referenceId) return false;
  const theirs = txn.attributes.fields ?? {};
  return Object.entries(input.fields).every(([key, value]) => {
    const ours = normalise(value);
    if (ours === null) return true;
    const field = theirs[key];
    const actual =
      field !== null && typeof field === 'object' && 'value' in field ? field.value : field;
    return normalise(actual) === ours;
  });
}
