import { randomUUID } from 'node:crypto';

/** A request as the store keeps it: its status, its ids and what the attempts left behind. */

export type RequestStatus = 'queued' | 'submitted' | 'failed';

/** The error code a request fails with when a look finds nothing was created. */
export type GiveUpReason = 'persona_unavailable' | 'quota_exceeded';

/**
 * Failures for transient reasons: Persona never answered, its quota outlasted our wait, or
 * the job died. Their fields are kept (until the record's retention) so that they can be
 * re-driven; a request Persona refused (4xx) cannot be.
 */
export const REDRIVABLE_CODES = ['persona_unavailable', 'quota_exceeded', 'processing_failed'];
export const isRedrivable = (code: string | undefined): boolean =>
  code !== undefined && REDRIVABLE_CODES.includes(code);

export interface RequestError {
  /** Stable machine code: `persona_rejected`, `persona_unavailable`, ... */
  code: string;
  message: string;
  /** Persona's `errors[]` (title and details), when Persona refused the request. */
  details?: unknown;
}

/** What an internal caller asked for; `fields` are kept apart, see {@link RequestStore.fields}. */
export interface TransactionInput {
  transactionTypeId: string;
  fields: Record<string, unknown>;
  referenceId?: string | undefined;
  tags?: string[] | undefined;
}

export interface TransactionRequest {
  id: string;
  status: RequestStatus;
  transactionTypeId: string;
  referenceId: string | null;
  tags: string[] | null;
  correlationId: string;
  /** The caller that made it (and alone may read it). */
  caller: string;
  /** The Idempotency-Key we send to Persona: minted at accept time, reused by every retry. */
  personaKey: string;
  /** Bumped when reconciliation proved a stored 5xx created nothing and a new key was minted. */
  keyGeneration: number;
  personaTransactionId: string | null;
  personaStatus: string | null;
  /** The status the last applied Persona event set (null until one applied). */
  stateStatus: string | null;
  error: RequestError | null;
  /** Consecutive 5xx answers under the current key. */
  serverErrors: number;
  /** When the first Persona call under the current key was made (ms), for reconciliation. */
  firstAttemptAt: number | null;
  /** When the latest Persona call under the current key was made (ms): lists may lag behind it. */
  lastAttemptAt: number | null;
  /**
   * Set once the job has given up calling Persona (its last attempt ended without a trustworthy
   * answer, or a quota outlasted our wait): from then on it only looks for the transaction,
   * and fails with this code if there is none.
   */
  givenUp: GiveUpReason | null;
  /**
   * The calls under the current key carry our request tag. False only for a request first
   * tried by a version that did not tag: its body must stay as it was under that key.
   */
  tagged: boolean;
  /** Re-driven after Persona may have dropped its key: look for the transaction before calling. */
  searchFirst: boolean;
  createdAt: string;
  updatedAt: string;
}

export type AcceptResult =
  | { kind: 'created'; request: TransactionRequest }
  | { kind: 'existing'; id: string; sameBody: boolean }
  /** The caller is over its rate: try again in `retryInMs`. */
  | { kind: 'rate_limited'; retryInMs: number }
  /** More is queued than the Persona budget can drain soon. */
  | { kind: 'backlog_full' };

/** The owner of requests made before callers had names, and of bare tokens. */
export const DEFAULT_OWNER = 'default';

export type SettleResult = 'settled' | 'missing' | 'conflict' | RequestStatus;

export type RedriveResult = 'redriven' | 'missing' | 'not_failed' | 'not_redrivable' | 'data_gone';

/**
 * How long after its first call a key is trusted to be kept by Persona (it keeps them at
 * least 24 h): a re-drive later than that searches for the transaction before calling.
 */
export const KEY_TRUSTED_MS = 23 * 3600 * 1000;

export function parseRecord(h: Record<string, string>): TransactionRequest | null {
  if (!h.id || !h.status) return null;
  return {
    id: h.id,
    status: h.status as RequestStatus,
    transactionTypeId: h.transaction_type_id ?? '',
    referenceId: h.reference_id ?? null,
    tags: h.tags ? (JSON.parse(h.tags) as string[]) : null,
    correlationId: h.correlation_id ?? '',
    caller: h.caller ?? DEFAULT_OWNER,
    personaKey: h.persona_key ?? '',
    keyGeneration: Number(h.key_generation ?? 0),
    personaTransactionId: h.persona_transaction_id ?? null,
    personaStatus: h.persona_status ?? null,
    stateStatus: h.state_status ?? null,
    error: h.error ? (JSON.parse(h.error) as RequestError) : null,
    serverErrors: Number(h.server_errors ?? 0),
    firstAttemptAt: h.first_attempt_at ? Number(h.first_attempt_at) : null,
    lastAttemptAt: h.last_attempt_at ? Number(h.last_attempt_at) : null,
    givenUp: (h.given_up as GiveUpReason | undefined) ?? null,
    tagged: h.tagged === '1' || !h.first_attempt_at,
    searchFirst: h.search_first === '1',
    createdAt: h.created_at ?? '',
    updatedAt: h.updated_at ?? '',
  };
}

/** Limits on accepting new requests, checked in the same step as the record. */
export interface AcceptLimits {
  /** Requests one caller may make per window (429 past it). */
  perCallerPerWindow: number;
  windowMs: number;
  /** Requests queued for Persona at most (429 past it: the budget could not drain more). */
  maxBacklog: number;
}

/** `req_` and 32 hex digits (a v4 UUID's: 122 random bits, from Node's batched entropy). */
export const newRequestId = (): string => `req_${randomUUID().replaceAll('-', '')}`;
