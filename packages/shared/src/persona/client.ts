import got, { RequestError } from 'got';
import type { Logger } from 'pino';
import type { z } from 'zod';
import type { TransactionInput } from '../requests/request.ts';
import { eventResource, type EventResource } from '../webhooks/envelope.ts';
import { classifyResponse, numericHeader, type Classified } from './classify.ts';
import type { PersonaCallObserver } from '../metrics/persona.ts';
import type { CallClass, PersonaRateLimiter } from './rate-limit/persona-rate-limiter.ts';
import {
  listDocument,
  nextCursor,
  readable,
  transactionDocument,
  transactionResource,
  type Page,
  type PersonaError,
  type TransactionResource,
} from './resources.ts';

export interface PersonaClientOptions {
  /** e.g. https://api.withpersona.com/api/v1 (no trailing slash). */
  baseUrl: string;
  apiKey: string;
  /** Persona-Version header. */
  version: string;
  /** Whole-request timeout (connect, send, wait, receive). */
  timeoutMs: number;
  limiter: PersonaRateLimiter;
  logger: Logger;
  /** Told of every call and every wait (metrics). */
  observer?: PersonaCallObserver;
}

/** One Persona call, as the caller needs to act on it. Nothing here is thrown. */
export type CallResult<T> =
  | { kind: 'ok'; status: number; data: T; requestId: string | undefined }
  /** The shared budget said wait; nothing was sent. */
  | { kind: 'throttled'; retryInMs: number; reason: string }
  | { kind: 'rate_limited'; retryInMs: number }
  | { kind: 'quota_exceeded'; retryInMs: number; errors: PersonaError[] }
  /** Persona's answer as classified: refused (4xx), 5xx, or 409. */
  | Extract<Classified, { kind: 'rejected' | 'server_error' | 'conflict' }>
  /** No answer: refused, reset, timed out, or a 2xx body we could not read. */
  | { kind: 'network'; code: string };

export interface CallOptions {
  callClass: CallClass;
  idempotencyKey?: string;
  signal?: AbortSignal;
}

/** The product whose creation quota `POST /transactions` spends. */
export const TRANSACTION_PRODUCT = 'transaction';

export type EventPage = Page<EventResource>;
export type TransactionPage = Page<TransactionResource>;

/**
 * Persona's server API, as much of it as the pipeline uses. Every call first takes a slot
 * from the fleet-wide {@link PersonaRateLimiter} and reports the response's rate-limit
 * headers back to it; there is no other way to reach Persona from this codebase.
 */
export class PersonaClient {
  readonly #o: PersonaClientOptions;

  constructor(options: PersonaClientOptions) {
    this.#o = options;
  }

  createTransaction(
    input: TransactionInput,
    options: { idempotencyKey: string; signal?: AbortSignal },
  ): Promise<CallResult<TransactionResource>> {
    const attributes: Record<string, unknown> = {
      'transaction-type-id': input.transactionTypeId,
      fields: input.fields,
    };
    if (input.referenceId !== undefined) attributes['reference-id'] = input.referenceId;
    if (input.tags !== undefined) attributes.tags = input.tags;
    return this.#call(
      'POST',
      '/transactions',
      'POST /transactions',
      { callClass: 'create', ...options },
      { json: { data: { attributes } }, product: TRANSACTION_PRODUCT },
      (body) => transactionDocument.safeParse(body),
      (doc) => doc.data,
    );
  }

  getTransaction(id: string, options: CallOptions): Promise<CallResult<TransactionResource>> {
    return this.#call(
      'GET',
      `/transactions/${encodeURIComponent(id)}`,
      'GET /transactions/:id',
      options,
      {},
      (body) => transactionDocument.safeParse(body),
      (doc) => doc.data,
    );
  }

  listTransactions(
    filter: { referenceId?: string; transactionTypeId?: string },
    page: { after?: string; size?: number },
    options: CallOptions,
  ): Promise<CallResult<TransactionPage>> {
    return this.#list(
      '/transactions',
      {
        'filter[reference-id]': filter.referenceId,
        'filter[transaction-type-id]': filter.transactionTypeId,
      },
      page,
      options,
      transactionResource,
    );
  }

  /** `GET /events`, newest first, filtered by the objects they are about and/or by name. */
  listEvents(
    filter: { objectIds?: string[]; names?: string[] },
    page: { after?: string; size?: number },
    options: CallOptions,
  ): Promise<CallResult<EventPage>> {
    return this.#list(
      '/events',
      { 'filter[object-id]': filter.objectIds?.join(','), 'filter[name]': filter.names?.join(',') },
      page,
      options,
      eventResource,
    );
  }

  /** One page of a list, newest first. One odd item never hides the others: it is logged and skipped. */
  #list<S extends z.ZodType>(
    path: '/transactions' | '/events',
    filters: Record<string, string | undefined>,
    page: { after?: string; size?: number },
    options: CallOptions,
    item: S,
  ): Promise<CallResult<Page<z.output<S>>>> {
    const query = new URLSearchParams();
    for (const [name, value] of Object.entries(filters)) if (value) query.set(name, value);
    if (page.after) query.set('page[after]', page.after);
    query.set('page[size]', String(page.size ?? 100));
    return this.#call(
      'GET',
      `${path}?${query.toString()}`,
      `GET ${path}`,
      options,
      {},
      (body) => listDocument.safeParse(body),
      (doc) => ({
        data: readable(doc.data, item, this.#o.logger, path.slice(1)),
        nextCursor: nextCursor(doc.links?.next),
      }),
    );
  }

  async #call<S, T>(
    method: 'GET' | 'POST',
    path: string,
    /** The endpoint, without ids: what logs and metrics name the call by. */
    op: string,
    options: CallOptions,
    extra: { json?: unknown; product?: string },
    parse: (body: unknown) => z.ZodSafeParseResult<S>,
    pick: (parsed: S) => T,
  ): Promise<CallResult<T>> {
    const { limiter, logger } = this.#o;
    const permit = await limiter.acquire(options.callClass, extra.product ?? '');
    if (permit.kind === 'denied') {
      this.#o.observer?.throttled(permit.reason);
      return { kind: 'throttled', retryInMs: permit.retryInMs, reason: permit.reason };
    }
    const started = performance.now();
    let status: number;
    let headers: Record<string, string | string[] | undefined>;
    let body: string;
    try {
      const res = await got(`${this.#o.baseUrl}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${this.#o.apiKey}`,
          'persona-version': this.#o.version,
          'key-inflection': 'kebab',
          accept: 'application/json',
          'user-agent': 'persona-pipeline',
          ...(options.idempotencyKey ? { 'idempotency-key': options.idempotencyKey } : {}),
        },
        ...(extra.json === undefined ? {} : { json: extra.json }),
        timeout: { request: this.#o.timeoutMs },
        retry: { limit: 0 },
        throwHttpErrors: false,
        followRedirect: false,
        responseType: 'text',
        ...(options.signal ? { signal: options.signal } : {}),
      });
      status = res.statusCode;
      headers = res.headers;
      body = res.body;
    } catch (err) {
      const code = err instanceof RequestError ? err.code : 'EUNKNOWN';
      this.#o.observer?.answered(op, code, 'network', (performance.now() - started) / 1000);
      logger.warn(
        { persona: { op, ms: Math.round(performance.now() - started) }, code },
        'persona call got no answer',
      );
      return { kind: 'network', code };
    }

    const classified = classifyResponse(status, body);
    this.#o.observer?.answered(
      op,
      String(status),
      classified.kind,
      (performance.now() - started) / 1000,
    );
    const requestId = firstHeader(headers['request-id']);
    // Persona documents its quota headers under two spellings; read both.
    const quotaRemaining = numericHeader(headers, 'quota-remaining', 'quotalimit-remaining');
    const blockedForMs = await limiter.observe({
      status,
      limit: numericHeader(headers, 'ratelimit-limit'),
      remaining: numericHeader(headers, 'ratelimit-remaining'),
      resetSeconds: numericHeader(headers, 'ratelimit-reset'),
      kind:
        classified.kind === 'rate_limited'
          ? 'rate_limited'
          : classified.kind === 'quota_exceeded'
            ? 'quota'
            : extra.product && quotaRemaining === 0
              ? 'quota_spent'
              : undefined,
      product: extra.product,
      quotaResetSeconds: numericHeader(headers, 'quota-reset', 'quotalimit-reset'),
      latencyMs: performance.now() - started,
    });
    logger.debug(
      {
        persona: {
          op,
          status,
          requestId,
          ms: Math.round(performance.now() - started),
          remaining: numericHeader(headers, 'ratelimit-remaining'),
          ...(quotaRemaining === undefined ? {} : { quotaRemaining }),
        },
      },
      'persona call',
    );

    switch (classified.kind) {
      case 'ok': {
        let json: unknown;
        try {
          json = JSON.parse(body);
        } catch {
          return { kind: 'network', code: 'EBADBODY' };
        }
        const parsed = parse(json);
        if (!parsed.success) return { kind: 'network', code: 'EBADBODY' };
        return { kind: 'ok', status, data: pick(parsed.data), requestId };
      }
      case 'rate_limited':
        return { kind: 'rate_limited', retryInMs: Math.max(1, blockedForMs) };
      case 'quota_exceeded':
        return {
          kind: 'quota_exceeded',
          retryInMs: Math.max(1, blockedForMs),
          errors: classified.errors,
        };
      case 'rejected':
      case 'server_error':
      case 'conflict':
        return classified;
    }
  }
}

const firstHeader = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);
