import type { IdKind } from './ids.ts';
import type { WebhookOptions } from './webhook-sender.ts';

/** Failure modes, each a share of requests between 0 and 1. */
export interface Faults {
  /** Share of API requests answered 500 (stored against the Idempotency-Key, as Persona does). */
  serverErrorRate: number;
  /** Of those 500s on a create, the share that happen after the transaction was created. */
  serverErrorAfterCreateShare: number;
  /** Share of creates whose response is dropped (socket destroyed) after the transaction was created. */
  dropRate: number;
  /** Share of requests delayed by `latencyMs` before they are handled. */
  latencyRate: number;
  latencyMs: number;
  /** Share of API requests whose connection is reset before anything is done (nothing created). */
  resetRate: number;
}

export const NO_FAULTS: Faults = {
  serverErrorRate: 0,
  serverErrorAfterCreateShare: 0.5,
  dropRate: 0,
  latencyRate: 0,
  latencyMs: 0,
  resetRate: 0,
};

/**
 * Persona's per-product creation quota, here for `POST /transactions` only: a fixed window
 * like the rate limit, started by the first create.
 */
export interface QuotaOptions {
  limit: number;
  windowMs: number;
  /** Persona documents both. @defaultValue 429 */
  status?: 429 | 403;
  /**
   * Header names: `quota` → `Quota-Limit`/`-Remaining`/`-Reset`; `quotalimit` →
   * `QuotaLimit-Limit`/`-Remaining`/`-Reset` (Persona's docs show both). @defaultValue 'quota'
   */
  headers?: 'quota' | 'quotalimit';
}

/** A reviewer who resolves `needs_review` (or `needs review`) transactions later. */
export interface ReviewerOptions {
  /** Time from the workflow's `needs_review` decision to the reviewer's. */
  delayMs: number;
  /** The status the reviewer sets, e.g. `approved`. */
  decision: string;
  /** The reviewer's `transaction.status-updated` is recorded but its webhook never sent. */
  loseWebhook?: boolean;
}

/** Another program on the same environment. */
interface NeighbourOptions {
  /** Requests it spends in each window, evenly spread; 0 for none. */
  perWindow: number;
  /** Each of its requests creates a transaction (with a workflow and webhooks). @defaultValue false */
  createsTransactions?: boolean;
}

export interface ForeignOptions {
  tags?: string[];
  referenceId?: string;
  /** @defaultValue 'txntp_ForeignProgram' */
  transactionTypeId?: string;
  fields?: Record<string, unknown>;
}

export interface SimulatorOptions {
  /** Bearer tokens the simulated environment accepts. */
  apiKeys: string[];
  /**
   * Persona's fixed window: it starts at the first request and allows `limit` requests. A
   * window shorter than a minute shrinks time as a whole: `RateLimit-Reset` (and
   * `Quota-Reset`) then count sixtieths of the window.
   */
  rateLimit?: { limit: number; windowMs: number };
  faults?: Partial<Faults>;
  /** Another program spending this environment's budget, evenly over each window. */
  neighbour?: NeighbourOptions | null;
  /** Time from creation to the workflow's decision. @defaultValue 1000 */
  decisionDelayMs?: number;
  /**
   * Decision of a transaction. By default a tag `sim-decision:<status>` picks it, else
   * `approved`.
   */
  decide?: (txn: SimTransaction) => string;
  /**
   * Known Transaction Types; when set, other ids get 404, missing required fields 422, and
   * `validate` may refuse fields with a 422 whose details it writes.
   */
  transactionTypes?: Record<
    string,
    { requiredFields?: string[]; validate?: (fields: Record<string, unknown>) => string | null }
  >;
  webhook?: WebhookOptions | null;
  /** Seeded randomness for reproducible fault patterns. */
  random?: () => number;
  /**
   * Prefixes (separator included) of the ids the simulator mints.
   * @defaultValue `{ transaction: 'txn_', event: 'evt_', verification: 'ver_', report: 'rep_', account: 'act_', request: 'req_' }`
   */
  idPrefixes?: Partial<Record<IdKind, string>>;
  /** A reviewer resolving `needs_review` decisions later. @defaultValue null (none) */
  reviewer?: ReviewerOptions | null;
  /** Events matching it are recorded but never delivered. @defaultValue none */
  loseWebhooks?: ((event: SimEvent) => boolean) | null;
  /** Transaction-creation quota. @defaultValue null (none) */
  quota?: QuotaOptions | null;
  /**
   * Relate every transaction with a `reference-id` to that reference id's Account
   * (`account.created` on first use, `account.added-relation` for each later transaction).
   * @defaultValue false
   */
  accounts?: boolean;
  /** `GET /transactions` and `GET /events` omit items younger than this. @defaultValue 0 */
  listLagMs?: number;
  /** Trim/collapse string fields, lower-case emails, reduce phone numbers to `+digits`. @defaultValue false */
  normaliseFields?: boolean;
}

export interface SimObject {
  type: string;
  id: string;
  attributes: Record<string, unknown>;
}

export interface SimTransaction {
  id: string;
  status: string;
  transactionTypeId: string;
  referenceId: string | null;
  fields: Record<string, { type: string; value: unknown }>;
  tags: string[];
  createdAt: string;
  updatedAt: string;
  related: SimObject[];
  /** The Idempotency-Key of the request that created it. */
  idempotencyKey: string | null;
  /** Created by another program on the environment (`createForeign`, a creating neighbour). */
  foreign?: boolean;
}

export interface SimEvent {
  id: string;
  name: string;
  createdAt: string;
  object: SimObject & { relationships?: Record<string, unknown> };
  included: SimObject[];
  /** `data.attributes.context`, for the events that carry one. */
  context?: Record<string, unknown>;
}

export interface LoggedRequest {
  at: number;
  method: string;
  path: string;
  /** The HTTP status, or `dropped` when the response was never written. */
  status: number | 'dropped' | 'reset';
  idempotencyKey: string | undefined;
  /** True when the answer was replayed from the idempotency store. */
  replay: boolean;
  /** Counted against the environment's rate limit. */
  counted: boolean;
}
