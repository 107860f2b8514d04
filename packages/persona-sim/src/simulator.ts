import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { personaId } from './ids.ts';
import { WebhookSender, type WebhookOptions } from './webhook-sender.ts';

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
}

export const NO_FAULTS: Faults = {
  serverErrorRate: 0,
  serverErrorAfterCreateShare: 0.5,
  dropRate: 0,
  latencyRate: 0,
  latencyMs: 0,
};

export interface SimulatorOptions {
  /** Bearer tokens the simulated environment accepts. */
  apiKeys: string[];
  /**
   * Persona's fixed window: it starts at the first request and allows `limit` requests. A
   * window shorter than a minute shrinks time as a whole: `RateLimit-Reset` then counts
   * sixtieths of the window.
   */
  rateLimit?: { limit: number; windowMs: number };
  faults?: Partial<Faults>;
  /** Another program spending this environment's budget, evenly over each window. */
  neighbour?: { perWindow: number } | null;
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
}

export interface SimEvent {
  id: string;
  name: string;
  createdAt: string;
  object: SimObject & { relationships?: Record<string, unknown> };
  included: SimObject[];
}

export interface LoggedRequest {
  at: number;
  method: string;
  path: string;
  /** The HTTP status, or `dropped` when the response was never written. */
  status: number | 'dropped';
  idempotencyKey: string | undefined;
  /** True when the answer was replayed from the idempotency store. */
  replay: boolean;
  /** Counted against the environment's rate limit. */
  counted: boolean;
}

interface StoredResponse {
  hash: string;
  status: number;
  body: string;
  inFlight: boolean;
}

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8' };
const MAX_BODY = 1024 * 1024;
const ENVIRONMENT_ID = 'env_SimulatedEnvironment000000000';
const ORGANIZATION_ID = 'org_SimulatedOrganization00000000';

const errorBody = (title: string, details?: string, extra?: Record<string, unknown>) =>
  JSON.stringify({ errors: [{ title, ...(details ? { details } : {}), ...extra }] });

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * A local Persona: bearer auth, the fixed-window rate limit with its headers, idempotency
 * that stores and replays first responses (5xx included), JSON:API transactions and
 * events, a workflow that reaches a decision, and signed webhooks with Persona's retries.
 */
export class PersonaSimulator {
  readonly requests: LoggedRequest[] = [];
  readonly transactions = new Map<string, SimTransaction>();
  readonly events: SimEvent[] = [];
  readonly webhooks: WebhookSender;
  faults: Faults;

  readonly #o: SimulatorOptions;
  readonly #random: () => number;
  readonly #limit: number;
  readonly #windowMs: number;
  #window: { start: number; count: number } | null = null;
  readonly #idempotency = new Map<string, StoredResponse>();
  readonly #timers = new Set<NodeJS.Timeout>();
  #neighbourTimer: NodeJS.Timeout | null = null;
  #lastStamp = 0;
  #server: Server | null = null;
  #url = '';

  constructor(options: SimulatorOptions) {
    this.#o = options;
    this.#random = options.random ?? Math.random;
    this.#limit = options.rateLimit?.limit ?? 300;
    this.#windowMs = options.rateLimit?.windowMs ?? 60_000;
    this.faults = { ...NO_FAULTS, ...options.faults };
    this.webhooks = new WebhookSender(options.webhook ?? null, this.#random);
  }

  /** Base URL of the API, e.g. `http://127.0.0.1:40123/api/v1`. */
  get url(): string {
    return `${this.#url}/api/v1`;
  }

  get origin(): string {
    return this.#url;
  }

  async listen(port = 0, host = '127.0.0.1'): Promise<string> {
    const server = createServer((req, res) => void this.#handle(req, res));
    server.keepAliveTimeout = 5000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    this.#server = server;
    const { port: bound } = server.address() as AddressInfo;
    this.#url = `http://${host}:${bound}`;
    const perWindow = this.#o.neighbour?.perWindow ?? 0;
    if (perWindow > 0) this.setNeighbour(perWindow);
    return this.url;
  }

  async close(): Promise<void> {
    if (this.#neighbourTimer) clearInterval(this.#neighbourTimer);
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    this.webhooks.close();
    const server = this.#server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    this.#server = null;
  }

  /** Another program spending `perWindow` requests of each window, evenly; 0 stops it. */
  setNeighbour(perWindow: number): void {
    if (this.#neighbourTimer) clearInterval(this.#neighbourTimer);
    this.#neighbourTimer = null;
    if (perWindow <= 0) return;
    this.#neighbourTimer = setInterval(() => this.spendBudget(1), this.#windowMs / perWindow);
  }

  /** Another program spends `n` requests of the current window at once (a 429 for whoever comes next). */
  spendBudget(n: number): void {
    const at = Date.now();
    for (let i = 0; i < n; i++) {
      const counted = this.#spend(at);
      this.requests.push({
        at,
        method: 'NEIGHBOUR',
        path: '',
        status: counted ? 200 : 429,
        idempotencyKey: undefined,
        replay: false,
        counted,
      });
    }
  }

  /** When the current fixed window ends (ms), or null when none is open. */
  get windowEndsAt(): number | null {
    return this.#window ? this.#window.start + this.#windowMs : null;
  }

  /** Transactions whose `reference-id` is the given one. */
  transactionsFor(referenceId: string): SimTransaction[] {
    return [...this.transactions.values()].filter((t) => t.referenceId === referenceId);
  }

  /** Counts one request against the fixed window; false when the window is spent. */
  #spend(at: number): boolean {
    if (!this.#window || at >= this.#window.start + this.#windowMs) {
      this.#window = { start: at, count: 0 };
    }
    if (this.#window.count >= this.#limit) return false;
    this.#window.count += 1;
    return true;
  }

  #rateHeaders(at: number): Record<string, string> {
    const w = this.#window && at < this.#window.start + this.#windowMs ? this.#window : null;
    const remaining = w ? Math.max(0, this.#limit - w.count) : this.#limit;
    // Whole seconds, rounded up. A scaled-down window scales the second with it (a window is
    // always 60 of them), so tests keep Persona's proportions.
    const second = this.#windowMs / 60;
    const reset = w ? Math.ceil((w.start + this.#windowMs - at) / second) : 60;
    return {
      'ratelimit-limit': String(this.#limit),
      'ratelimit-remaining': String(remaining),
      'ratelimit-reset': String(reset),
      'request-id': personaId('req'),
      'persona-environment-id': ENVIRONMENT_ID,
      'persona-organization-id': ORGANIZATION_ID,
    };
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const at = Date.now();
    const url = new URL(req.url ?? '/', 'http://sim.invalid');
    const method = req.method ?? 'GET';
    const idemHeader = req.headers['idempotency-key'];
    const entry: LoggedRequest = {
      at,
      method,
      path: url.pathname + url.search,
      status: 0,
      idempotencyKey: typeof idemHeader === 'string' ? idemHeader : undefined,
      replay: false,
      counted: false,
    };
    const send = (status: number, body: string, headers: Record<string, string> = {}) => {
      entry.status = status;
      res.writeHead(status, { ...JSON_HEADERS, ...headers });
      res.end(body);
    };

    if (url.pathname.startsWith('/__sim/')) {
      this.#admin(method, url, req, send);
      return;
    }
    this.requests.push(entry);

    let raw: string;
    try {
      raw = await readBody(req);
    } catch {
      send(413, errorBody('Payload too large'));
      return;
    }

    const auth = req.headers.authorization ?? '';
    const token = /^Bearer (.+)$/.exec(auth)?.[1];
    if (!token) {
      send(401, errorBody('Must be authenticated to access this endpoint'));
      return;
    }
    if (!this.#o.apiKeys.includes(token)) {
      send(401, errorBody('Token is invalid'));
      return;
    }

    if (!this.#spend(at)) {
      send(
        429,
        errorBody(
          'Rate limit exceeded',
          `You have hit your rate limit of ${this.#limit} requests / min. Please reach out to support@withpersona.com if you need this changed.`,
        ),
        this.#rateHeaders(at),
      );
      return;
    }
    entry.counted = true;
    const headers = this.#rateHeaders(at);

    // Idempotency sits after auth and rate limiting: 401 and 429 are never stored.
    const key = method === 'POST' ? entry.idempotencyKey : undefined;
    let stored: StoredResponse | undefined;
    if (key !== undefined) {
      const hash = sha256(canonical(raw));
      const existing = this.#idempotency.get(key);
      if (existing) {
        if (existing.inFlight) {
          send(
            409,
            errorBody('Conflict', 'A request with this Idempotency-Key is still being processed.'),
            headers,
          );
        } else if (existing.hash !== hash) {
          send(
            400,
            errorBody(
              'Idempotency error',
              `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`,
            ),
            headers,
          );
        } else {
          entry.replay = true;
          send(existing.status, existing.body, headers);
        }
        return;
      }
      stored = { hash, status: 0, body: '', inFlight: true };
      this.#idempotency.set(key, stored);
    }

    // Persona's processing time: a second request with the same key meanwhile gets a 409.
    if (this.faults.latencyRate > 0 && this.#random() < this.faults.latencyRate) {
      await sleep(this.faults.latencyMs);
    }
    const result = this.#route(method, url, raw, key ?? null);
    if (stored) {
      stored.status = result.status;
      stored.body = result.body;
      stored.inFlight = false;
    }
    if (result.drop) {
      entry.status = 'dropped';
      res.socket?.destroy();
      return;
    }
    send(result.status, result.body, headers);
  }

  #route(
    method: string,
    url: URL,
    raw: string,
    key: string | null,
  ): { status: number; body: string; drop?: boolean } {
    const path = url.pathname.replace(/\/+$/, '');
    const serverError =
      this.faults.serverErrorRate > 0 && this.#random() < this.faults.serverErrorRate;
    const internal = { status: 500, body: errorBody('Internal Server Error') };

    if (method === 'POST' && path === '/api/v1/transactions') {
      if (serverError) {
        if (this.#random() < this.faults.serverErrorAfterCreateShare) this.#createFrom(raw, key);
        return internal;
      }
      const created = this.#createFrom(raw, key);
      if (created.status !== 201) return created;
      const drop = this.faults.dropRate > 0 && this.#random() < this.faults.dropRate;
      return drop ? { ...created, drop: true } : created;
    }
    if (method !== 'GET') return { status: 404, body: errorBody('Record not found') };
    if (serverError) return internal;

    if (path === '/api/v1/transactions') {
      const filterRef = url.searchParams.get('filter[reference-id]');
      const filterType = url.searchParams.get('filter[transaction-type-id]');
      const list = [...this.transactions.values()]
        .filter(
          (t) =>
            (filterRef === null || t.referenceId === filterRef) &&
            (filterType === null || t.transactionTypeId === filterType),
        )
        .reverse();
      return this.#page(
        url,
        '/api/v1/transactions',
        list,
        (t) => t.id,
        (t) => this.#transactionResource(t),
      );
    }
    const txnMatch = /^\/api\/v1\/transactions\/([^/]+)$/.exec(path);
    if (txnMatch) {
      const txn = this.transactions.get(decodeURIComponent(txnMatch[1]!));
      if (!txn) return { status: 404, body: errorBody('Record not found') };
      return {
        status: 200,
        body: JSON.stringify({
          data: this.#transactionResource(txn),
          included: this.#included(txn),
        }),
      };
    }
    if (path === '/api/v1/events') {
      const names = csvParam(url, 'filter[name]');
      const objectIds = csvParam(url, 'filter[object-id]');
      const ids = csvParam(url, 'filter[id]');
      const list = this.events
        .filter(
          (e) =>
            (!names || names.includes(e.name)) &&
            (!objectIds || objectIds.includes(e.object.id)) &&
            (!ids || ids.includes(e.id)),
        )
        .reverse();
      return this.#page(
        url,
        '/api/v1/events',
        list,
        (e) => e.id,
        (e) => eventResource(e, false),
      );
    }
    const evtMatch = /^\/api\/v1\/events\/([^/]+)$/.exec(path);
    if (evtMatch) {
      const event = this.events.find((e) => e.id === decodeURIComponent(evtMatch[1]!));
      if (!event) return { status: 404, body: errorBody('Record not found') };
      return { status: 200, body: JSON.stringify({ data: eventResource(event, false) }) };
    }
    return { status: 404, body: errorBody('Record not found') };
  }

  #page<T>(
    url: URL,
    base: string,
    list: T[],
    idOf: (x: T) => string,
    render: (x: T) => unknown,
  ): { status: number; body: string } {
    const sizeParam = Number(url.searchParams.get('page[size]') ?? 10);
    if (!Number.isInteger(sizeParam) || sizeParam < 1 || sizeParam > 100) {
      return {
        status: 400,
        body: errorBody('Bad Request', 'page[size] must be between 1 and 100'),
      };
    }
    const after = url.searchParams.get('page[after]');
    let start = 0;
    if (after) {
      const i = list.findIndex((x) => idOf(x) === after);
      start = i < 0 ? list.length : i + 1;
    }
    const slice = list.slice(start, start + sizeParam);
    const keep = new URLSearchParams();
    for (const [k, v] of url.searchParams) if (k.startsWith('filter[')) keep.append(k, v);
    const link = (cursor: 'after' | 'before', id: string) => {
      const q = new URLSearchParams(keep);
      q.set(`page[${cursor}]`, id);
      q.set('page[size]', String(sizeParam));
      return `${base}?${q.toString()}`;
    };
    const hasMore = start + sizeParam < list.length;
    return {
      status: 200,
      body: JSON.stringify({
        data: slice.map(render),
        links: {
          prev: start > 0 && slice.length > 0 ? link('before', idOf(slice[0]!)) : null,
          next: hasMore && slice.length > 0 ? link('after', idOf(slice[slice.length - 1]!)) : null,
        },
      }),
    };
  }

  #createFrom(raw: string, key: string | null): { status: number; body: string } {
    let doc: unknown;
    try {
      doc = JSON.parse(raw);
    } catch {
      return { status: 400, body: errorBody('Bad Request', 'Request body is not valid JSON') };
    }
    const attributes = inflect(
      (doc as { data?: { attributes?: unknown } } | null)?.data?.attributes,
    );
    if (!attributes)
      return { status: 400, body: errorBody('Bad Request', 'data.attributes is missing') };
    const typeId = attributes['transaction-type-id'];
    if (typeof typeId !== 'string' || typeId === '') {
      return {
        status: 400,
        body: errorBody('Bad Request', 'data.attributes.transaction-type-id is missing'),
      };
    }
    const fields = attributes.fields ?? {};
    if (typeof fields !== 'object' || fields === null || Array.isArray(fields)) {
      return {
        status: 400,
        body: errorBody('Bad Request', 'data.attributes.fields must be an object'),
      };
    }
    const known = this.#o.transactionTypes;
    if (known) {
      const type = known[typeId];
      if (!type)
        return {
          status: 404,
          body: errorBody('Record not found', `Could not find transaction type ${typeId}`),
        };
      for (const name of type.requiredFields ?? []) {
        const v = (fields as Record<string, unknown>)[name];
        if (v === undefined || v === null || v === '') {
          return {
            status: 422,
            body: errorBody('Unprocessable entity', `fields.${name} is missing`, {
              source: { pointer: `/data/attributes/fields/${name}` },
            }),
          };
        }
      }
      const problem = type.validate?.(fields as Record<string, unknown>) ?? null;
      if (problem !== null)
        return { status: 422, body: errorBody('Unprocessable entity', problem) };
    }
    const tags = attributes.tags;
    const now = this.#stamp();
    const txn: SimTransaction = {
      id: personaId('txn'),
      status: 'created',
      transactionTypeId: typeId,
      referenceId:
        typeof attributes['reference-id'] === 'string' ? attributes['reference-id'] : null,
      fields: Object.fromEntries(
        Object.entries(fields as Record<string, unknown>).map(([k, v]) => [
          k,
          { type: fieldType(v), value: v },
        ]),
      ),
      tags: Array.isArray(tags) ? tags.filter((t): t is string => typeof t === 'string') : [],
      createdAt: now,
      updatedAt: now,
      related: [],
      idempotencyKey: key,
    };
    this.transactions.set(txn.id, txn);
    this.#emit('transaction.created', txn);
    this.#later(this.#o.decisionDelayMs ?? 1000, () => this.#runWorkflow(txn));
    return { status: 201, body: JSON.stringify({ data: this.#transactionResource(txn) }) };
  }

  /** The Transaction Type's workflow: a database verification, a watchlist report, a decision. */
  #runWorkflow(txn: SimTransaction): void {
    const decision = (this.#o.decide ?? defaultDecision)(txn);
    const now = () => this.#stamp();
    const verification: SimObject = {
      type: 'verification/database',
      id: personaId('ver'),
      attributes: { status: 'submitted', 'created-at': now(), 'completed-at': null },
    };
    const report: SimObject = {
      type: 'report/watchlist',
      id: personaId('rep'),
      attributes: { status: 'pending', 'created-at': now(), 'completed-at': null },
    };
    txn.related.push(verification, report);
    this.#emitObject('verification.created', verification, txn);
    verification.attributes.status = decision === 'declined' ? 'failed' : 'passed';
    verification.attributes['completed-at'] = now();
    this.#emitObject(
      decision === 'declined' ? 'verification.failed' : 'verification.passed',
      verification,
      txn,
    );
    report.attributes.status = 'ready';
    report.attributes['completed-at'] = now();
    this.#emitObject('report/watchlist.ready', report, txn);
    txn.status = decision;
    txn.updatedAt = now();
    this.#emit('transaction.status-updated', txn);
  }

  /** Changes a transaction's status as a reviewer or PATCH would, emitting the event. */
  setStatus(id: string, status: string): void {
    const txn = this.transactions.get(id);
    if (!txn) throw new Error(`unknown transaction ${id}`);
    txn.status = status;
    txn.updatedAt = this.#stamp();
    this.#emit('transaction.status-updated', txn);
  }

  #emit(name: string, txn: SimTransaction): void {
    const object = this.#transactionResource(txn) as SimEvent['object'];
    this.#record({
      id: personaId('evt'),
      name,
      createdAt: this.#stamp(),
      object,
      included: this.#included(txn),
    });
  }

  #emitObject(name: string, object: SimObject, txn: SimTransaction): void {
    const snapshot = {
      ...structuredClone(object),
      relationships: { transaction: { data: { type: 'transaction', id: txn.id } } },
    };
    this.#record({
      id: personaId('evt'),
      name,
      createdAt: this.#stamp(),
      object: snapshot,
      included: [],
    });
  }

  #record(event: SimEvent): void {
    this.events.push(event);
    this.webhooks.send(event.id, JSON.stringify({ data: eventResource(event, true) }));
  }

  #transactionResource(
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

  #included(txn: SimTransaction): SimObject[] {
    return [
      {
        type: 'transaction-type',
        id: txn.transactionTypeId,
        attributes: { name: 'Simulated', 'field-schemas': [] },
      },
      ...txn.related.map((o) => structuredClone(o)),
    ];
  }

  /** Strictly increasing ISO timestamps, so events of one workflow never tie on `created-at`. */
  #stamp(): string {
    this.#lastStamp = Math.max(Date.now(), this.#lastStamp + 1);
    return new Date(this.#lastStamp).toISOString();
  }

  #later(ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      fn();
    }, ms);
    this.#timers.add(timer);
  }

  #admin(
    method: string,
    url: URL,
    req: IncomingMessage,
    send: (status: number, body: string) => void,
  ): void {
    if (method === 'GET' && url.pathname === '/__sim/stats') {
      const byStatus: Record<string, number> = {};
      for (const r of this.requests)
        byStatus[String(r.status)] = (byStatus[String(r.status)] ?? 0) + 1;
      send(
        200,
        JSON.stringify({
          requests: this.requests.length,
          byStatus,
          transactions: this.transactions.size,
          events: this.events.length,
          webhookDeliveries: this.webhooks.deliveries.length,
          faults: this.faults,
        }),
      );
      return;
    }
    if (method === 'PUT' && url.pathname === '/__sim/faults') {
      void readBody(req).then(
        (raw) => {
          try {
            this.faults = { ...this.faults, ...(JSON.parse(raw) as Partial<Faults>) };
            send(200, JSON.stringify(this.faults));
          } catch {
            send(400, errorBody('Bad Request', 'faults must be a JSON object'));
          }
        },
        () => send(413, errorBody('Payload too large')),
      );
      return;
    }
    send(404, errorBody('Record not found'));
  }
}

function eventResource(e: SimEvent, withIncluded: boolean) {
  return {
    type: 'event',
    id: e.id,
    attributes: {
      name: e.name,
      payload: withIncluded ? { data: e.object, included: e.included } : { data: e.object },
      'created-at': e.createdAt,
    },
  };
}

function defaultDecision(txn: SimTransaction): string {
  const tag = txn.tags.find((t) => t.startsWith('sim-decision:'));
  return tag ? tag.slice('sim-decision:'.length) : 'approved';
}

function fieldType(v: unknown): string {
  if (typeof v === 'boolean') return 'boolean';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'float';
  if (Array.isArray(v)) return 'array';
  if (v !== null && typeof v === 'object') return 'hash';
  return 'string';
}

/** Persona accepts request keys in any inflection; the simulator reads them as kebab-case. */
function inflect(attributes: unknown): Record<string, unknown> | null {
  if (attributes === null || typeof attributes !== 'object' || Array.isArray(attributes))
    return null;
  return Object.fromEntries(
    Object.entries(attributes).map(([k, v]) => [
      k === 'fields' ? k : k.replace(/_/g, '-').replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`),
      v,
    ]),
  );
}

function csvParam(url: URL, name: string): string[] | null {
  const v = url.searchParams.get(name);
  return v === null
    ? null
    : v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new Error('too large'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

function canonical(raw: string): string {
  try {
    return JSON.stringify(sortKeys(JSON.parse(raw)));
  } catch {
    return raw;
  }
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v !== null && typeof v === 'object') {
    return Object.fromEntries(
      Object.keys(v as Record<string, unknown>)
        .sort()
        .map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]),
    );
  }
  return v;
}
