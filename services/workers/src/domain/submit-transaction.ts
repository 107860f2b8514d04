import {
  isRedrivable,
  requestTag,
  type GiveUpReason,
  type Logger,
  type PersonaClient,
  type RequestStore,
  type TransactionInput,
  type TransactionRequest,
} from '@pp/shared';
import { findCreatedTransaction } from './find-created-transaction.ts';

type RunContext = { finalAttempt: boolean; log: Logger };

export interface SubmitDeps {
  store: RequestStore;
  persona: PersonaClient;
  /** Consecutive 5xx under one Idempotency-Key before we look for the transaction ourselves. */
  reconcileAfter: number;
  /** How far Persona's lists may lag behind a creation: a search sooner than this proves nothing. */
  listLagMs: number;
  /** The longest a request waits on Persona's creation quota before we look and give up. */
  quotaMaxWaitMs: number;
  /** Since when (ms) the transaction-creation quota has refused us, or null. */
  quotaBlockedSince: () => Promise<number | null>;
  /** Called once a Persona transaction is linked to its request: events waiting for it can go. */
  onLinked: (personaTransactionId: string) => Promise<void>;
}

/**
 * What the processor does next. `wait` (the shared budget: the queue pauses for the fleet)
 * and `defer` (this job only) never spend an attempt; `retry` does.
 */
export type SubmitOutcome =
  | { kind: 'done'; result: 'submitted' | 'failed' | 'skipped' }
  /** A failed request was put back in the queue: run again, with a fresh count of attempts. */
  | { kind: 'redriven' }
  | { kind: 'wait'; retryInMs: number; reason: string }
  | { kind: 'defer'; retryInMs: number; reason: string }
  | { kind: 'retry'; reason: string };

const FAILURE_MESSAGES: Record<GiveUpReason, string> = {
  persona_unavailable:
    'Persona did not accept the request on any attempt (5xx, timeouts or no connection)',
  quota_exceeded: "Persona's transaction-creation quota stayed exhausted longer than we wait",
};

/**
 * Turns one accepted request into exactly one Persona transaction. Safe to run any number
 * of times for the same request: every call reuses the request's Idempotency-Key, carries
 * the request's tag, and a settled request is never touched again.
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
  if (request.status === 'failed' && isRedrivable(request.error?.code)) {
    // Its failed job was retried (from Bull Board): that is a re-drive.
    const redriven = await store.redrive(id);
    log.info({ redriven, code: request.error?.code }, 're-drive of a failed request');
    if (redriven === 'redriven') return { kind: 'redriven' };
  }
  if (request.status !== 'queued') {
    // Its settling run may have died before onLinked, which is idempotent: call it again.
    if (request.personaTransactionId) await deps.onLinked(request.personaTransactionId);
    return { kind: 'done', result: 'skipped' };
  }
  // An earlier run gave up calling: it only looks now (calling again would delay the look).
  if (request.givenUp) return giveUp(deps, request, request.givenUp, ctx);

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

  if (request.serverErrors >= deps.reconcileAfter || request.searchFirst) {
    // Persona stores a 5xx against its key and replays it, and forgets a key after a day:
    // either way calling again under it proves nothing. Find out whether an earlier call
    // created the transaction before minting a new key.
    const found = await findCreatedTransaction(deps, request, log);
    switch (found.kind) {
      case 'wait':
      case 'defer':
        return found;
      case 'error':
        return ctx.finalAttempt
          ? fail(store, id, 'persona_unavailable', log, 'and we could not check what it created')
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

  // Our tag last, after the caller's: the transaction names its request wherever it goes.
  // (A key first used untagged, by an earlier version, keeps its body as it was.)
  if (request.tagged) input.tags = [...(request.tags ?? []), requestTag(id)];
  await store.markAttempt(id, { tagged: request.tagged });
  const res = await persona.createTransaction(input, {
    idempotencyKey: request.personaKey,
    ...(ctx.signal ? { signal: ctx.signal } : {}),
  });
  const retryOrGiveUp = (reason: string) =>
    ctx.finalAttempt
      ? giveUp(deps, request, 'persona_unavailable', ctx)
      : ({ kind: 'retry', reason } as const);
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
        // claimed: one of the two is wrong, and a person must look.
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
      if (settled === 'failed' || settled === 'missing') {
        // Another run settled the request meanwhile (a stalled job run twice), or it expired.
        log.error(
          { personaTransactionId: res.data.id, requestStatus: settled },
          'Persona created a transaction for a request that is no longer queued; a person must look',
        );
        return { kind: 'done', result: 'skipped' };
      }
      // Also when an event's tag linked it first: that run may have died before its onLinked.
      await deps.onLinked(res.data.id);
      return { kind: 'done', result: 'submitted' };
    }
    case 'throttled':
      if (res.reason === 'quota') return quotaWait(deps, request, res.retryInMs, ctx);
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
      return quotaWait(deps, request, res.retryInMs, ctx);
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
      return retryOrGiveUp(`persona ${res.status}`);
    }
    case 'conflict':
      // Our own earlier call under this key is still being processed (we timed out first):
      // back off and ask again with the same key until Persona has its answer stored.
      log.warn('Persona is still processing an earlier call under this key; retrying');
      // Not a 5xx: the key may still be creating, so it must not count toward the 5xx check.
      if (request.serverErrors > 0) await store.clearServerErrors(id);
      return retryOrGiveUp('persona 409');
    case 'network':
      if (request.serverErrors > 0) await store.clearServerErrors(id);
      return retryOrGiveUp(`persona ${res.code}`);
  }
}

/**
 * A creation quota can stay exhausted for days, longer than Persona keeps an Idempotency-Key.
 * The request waits (no attempt spent) for at most `quotaMaxWaitMs` since it was accepted or
 * since the quota began refusing, whichever is later; past that it gives up.
 */
async function quotaWait(
  deps: SubmitDeps,
  request: TransactionRequest,
  retryInMs: number,
  ctx: RunContext,
): Promise<SubmitOutcome> {
  const accepted = Date.parse(request.createdAt);
  const since = Math.max(accepted, (await deps.quotaBlockedSince()) ?? accepted);
  if (Date.now() - since < deps.quotaMaxWaitMs) return { kind: 'wait', retryInMs, reason: 'quota' };
  ctx.log.error(
    { waitedMs: Date.now() - since },
    'the creation quota outlasted PERSONA_QUOTA_MAX_WAIT_MS; giving up on this request',
  );
  return giveUp(deps, request, 'quota_exceeded', ctx);
}

/**
 * The job stops calling Persona: an earlier call may have created the transaction all the
 * same, so look (by our tag) before failing the request with `reason`.
 */
async function giveUp(
  deps: SubmitDeps,
  request: TransactionRequest,
  reason: GiveUpReason,
  ctx: RunContext,
): Promise<SubmitOutcome> {
  const { log } = ctx;
  if (!request.givenUp) await deps.store.markGivenUp(request.id, reason);
  // As it is now: the calls this run made are part of what the search must cover.
  const current = await deps.store.get(request.id);
  if (!current || current.status !== 'queued') return { kind: 'done', result: 'skipped' };
  const found = await findCreatedTransaction(deps, current, log);
  switch (found.kind) {
    case 'found':
      log.info(
        { personaTransactionId: found.id },
        'gave up calling, but Persona had created the transaction',
      );
      return { kind: 'done', result: 'submitted' };
    case 'wait':
    case 'defer':
      return found;
    case 'none':
      return fail(deps.store, request.id, reason, log, 'and no transaction was created for it');
    case 'error':
      // A search that failed once may succeed on the next attempt; the last one decides.
      return ctx.finalAttempt
        ? fail(deps.store, request.id, reason, log, 'and we could not check what it created')
        : { kind: 'retry', reason: found.reason };
  }
}

async function fail(
  store: RequestStore,
  id: string,
  code: GiveUpReason,
  log: Logger,
  checked: string,
): Promise<SubmitOutcome> {
  await store.markFailed(id, { code, message: `${FAILURE_MESSAGES[code]}, ${checked}` });
  log.error({ code }, 'request failed');
  return { kind: 'done', result: 'failed' };
}
