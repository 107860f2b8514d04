import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Accounts } from './accounts.ts';
import { createApiHandler, CREATE_PATH } from './api.ts';
import { EventLog } from './events.ts';
import { errorBody, notFound, type RouteResult } from './http.ts';
import { Quota } from './quota.ts';
import { FixedWindow, Neighbour } from './rate-window.ts';
import { SimState } from './state.ts';
import { Transactions } from './transactions.ts';
import { NO_FAULTS } from './types.ts';
import type {
  Faults,
  ForeignOptions,
  LoggedRequest,
  QuotaOptions,
  ReviewerOptions,
  SimEvent,
  SimObject,
  SimTransaction,
  SimulatorOptions,
} from './types.ts';
import type { WebhookSender } from './webhook-sender.ts';
import { Workflow } from './workflow.ts';

export * from './types.ts';

/**
 * A local Persona: bearer auth, the fixed-window rate limit with its headers, a
 * transaction-creation quota, idempotency that stores and replays first responses (5xx
 * included), JSON:API transactions, accounts and events in any key inflection, a workflow
 * that reaches a decision (and a reviewer who resolves `needs_review`), and signed webhooks
 * with Persona's retries. This class routes; the behaviours live in their own modules.
 */
export class PersonaSimulator {
  readonly requests: LoggedRequest[] = [];
  readonly transactions: Map<string, SimTransaction>;
  readonly events: SimEvent[];
  readonly webhooks: WebhookSender;
  faults: Faults;

  readonly #state: SimState;
  readonly #rate: FixedWindow;
  /** A second of the (possibly scaled-down) window: a window is always 60 of them. */
  readonly #secondMs: number;
  #quota: Quota | null;
  readonly #neighbour = new Neighbour();
  readonly #handle: (req: IncomingMessage, res: ServerResponse) => Promise<void>;
  readonly #accounts: Accounts;
  readonly #workflow: Workflow;
  readonly #txns: Transactions;
  readonly #eventLog: EventLog;
  #server: Server | null = null;
  #url = '';

  constructor(options: SimulatorOptions) {
    const state = new SimState(options);
    this.#state = state;
    this.transactions = state.transactions;
    this.events = state.events;
    this.webhooks = state.webhooks;
    this.faults = { ...NO_FAULTS, ...options.faults };
    this.#rate = new FixedWindow(
      options.rateLimit?.limit ?? 300,
      options.rateLimit?.windowMs ?? 60_000,
    );
    this.#secondMs = this.#rate.windowMs / 60;
    this.#quota = options.quota ? new Quota(options.quota) : null;
    this.#eventLog = new EventLog(state);
    this.#accounts = new Accounts(state, this.#eventLog);
    this.#workflow = new Workflow(state, this.#eventLog);
    this.#txns = new Transactions(state, this.#eventLog, this.#accounts, this.#workflow);
    this.#handle = createApiHandler({
      state,
      requests: this.requests,
      rate: this.#rate,
      secondMs: this.#secondMs,
      quota: () => this.#quota,
      faults: () => this.faults,
      admin: this,
      route: (method, path, params, raw, key) => this.#route(method, path, params, raw, key),
    });
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
    const neighbour = this.#state.options.neighbour;
    if (neighbour && neighbour.perWindow > 0) this.setNeighbour(neighbour.perWindow, neighbour);
    return this.url;
  }

  async close(): Promise<void> {
    this.#neighbour.stop();
    this.#state.clearTimers();
    this.webhooks.close();
    const server = this.#server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    this.#server = null;
  }

  /**
   * Another program acting `perWindow` times in each window, evenly: spending a request, or
   * (`createsTransactions`) creating a transaction. 0 stops it.
   */
  setNeighbour(perWindow: number, opts: { createsTransactions?: boolean } = {}): void {
    const act = opts.createsTransactions
      ? () => void this.createForeign(1)
      : () => this.spendBudget(1);
    this.#neighbour.start(perWindow, this.#rate.windowMs, act);
  }

  /** Another program spends `n` requests of the current window at once (a 429 for whoever comes next). */
  spendBudget(n: number): void {
    const at = Date.now();
    for (let i = 0; i < n; i++) {
      const counted = this.#rate.spend(at);
      this.#logNeighbour(at, '', counted ? 200 : 429, counted);
    }
  }

  /**
   * Another program on the environment creates `n` transactions: each spends a request of
   * the shared window (and of the quota), runs the workflow and sends its webhooks to the
   * configured URL. Returns those created (none for requests that met a 429 or the quota).
   */
  createForeign(n: number, opts: ForeignOptions = {}): SimTransaction[] {
    const created: SimTransaction[] = [];
    for (let i = 0; i < n; i++) {
      const at = Date.now();
      const counted = this.#rate.spend(at);
      let status = counted ? 201 : 429;
      if (counted && this.#quota && !this.#quota.spend(at)) status = this.#quota.exceeded().status;
      this.#logNeighbour(at, CREATE_PATH, status, counted);
      if (status !== 201) continue;
      created.push(
        this.#txns.insert({
          transactionTypeId: opts.transactionTypeId ?? 'txntp_ForeignProgram',
          referenceId: opts.referenceId ?? null,
          fields: opts.fields ?? {},
          tags: [...(opts.tags ?? [])],
          idempotencyKey: null,
          foreign: true,
        }),
      );
    }
    return created;
  }

  #logNeighbour(at: number, path: string, status: number, counted: boolean): void {
    const entry = { at, method: 'NEIGHBOUR', path, status, idempotencyKey: undefined };
    this.requests.push({ ...entry, replay: false, counted });
  }

  /** When the current fixed window ends (ms), or null when none is open. */
  get windowEndsAt(): number | null {
    return this.#rate.endsAt;
  }

  /** Transactions whose `reference-id` is the given one. */
  transactionsFor(referenceId: string): SimTransaction[] {
    return [...this.transactions.values()].filter((t) => t.referenceId === referenceId);
  }

  /** The Account of a reference id (when `accounts` is on and a transaction used it). */
  accountFor(referenceId: string): SimObject | undefined {
    return this.#accounts.get(referenceId);
  }

  /** Changes a transaction's status as a reviewer or PATCH would, emitting the event. */
  setStatus(id: string, status: string): void {
    const txn = this.transactions.get(id);
    if (!txn) throw new Error(`unknown transaction ${id}`);
    this.#workflow.setStatus(txn, status);
  }

  /** Starts (or with null, stops) a transaction-creation quota, with a fresh window. */
  setQuota(quota: QuotaOptions | null): void {
    this.#quota = quota ? new Quota(quota) : null;
  }

  get quota(): QuotaOptions | null {
    return this.#quota?.options ?? null;
  }

  /** When the current quota window ends (ms), or null. */
  get quotaEndsAt(): number | null {
    return this.#quota?.endsAt ?? null;
  }

  /** Lists (`GET /transactions`, `GET /events`) omit items younger than this. */
  get listLagMs(): number {
    return this.#state.settings.listLagMs;
  }
  set listLagMs(ms: number) {
    this.#state.settings.listLagMs = ms;
  }

  /** Fields of transactions created from now on are normalised. */
  get normaliseFields(): boolean {
    return this.#state.settings.normaliseFields;
  }
  set normaliseFields(on: boolean) {
    this.#state.settings.normaliseFields = on;
  }

  /** Transactions created from now on are related to their reference id's Account. */
  get accounts(): boolean {
    return this.#state.settings.accounts;
  }
  set accounts(on: boolean) {
    this.#state.settings.accounts = on;
  }

  /** The reviewer for `needs_review` decisions reached from now on. */
  get reviewer(): ReviewerOptions | null {
    return this.#state.settings.reviewer;
  }
  set reviewer(reviewer: ReviewerOptions | null) {
    this.#state.settings.reviewer = reviewer;
  }

  /** Events matching it are recorded but never delivered (see `webhooks.lost`). */
  get loseWebhooks(): ((event: SimEvent) => boolean) | null {
    return this.#state.settings.loseWebhooks;
  }
  set loseWebhooks(predicate: ((event: SimEvent) => boolean) | null) {
    this.#state.settings.loseWebhooks = predicate;
  }

  #route(
    method: string,
    path: string,
    params: URLSearchParams,
    raw: string,
    key: string | null,
  ): RouteResult {
    const random = this.#state.random;
    const serverError = this.faults.serverErrorRate > 0 && random() < this.faults.serverErrorRate;
    const internal = { status: 500, body: errorBody('Internal Server Error') };

    if (method === 'POST' && path === CREATE_PATH) {
      if (serverError) {
        if (random() < this.faults.serverErrorAfterCreateShare) this.#txns.create(raw, key);
        return internal;
      }
      const created = this.#txns.create(raw, key);
      if (created.status !== 201) return created;
      const drop = this.faults.dropRate > 0 && random() < this.faults.dropRate;
      return drop ? { ...created, drop: true } : created;
    }
    if (method !== 'GET') return notFound();
    if (serverError) return internal;

    if (path === '/api/v1/transactions') return this.#txns.list(params);
    const txnMatch = /^\/api\/v1\/transactions\/([^/]+)$/.exec(path);
    if (txnMatch) return this.#txns.get(decodeURIComponent(txnMatch[1]!));
    if (path === '/api/v1/events') return this.#eventLog.list(params);
    const evtMatch = /^\/api\/v1\/events\/([^/]+)$/.exec(path);
    if (evtMatch) return this.#eventLog.get(decodeURIComponent(evtMatch[1]!));
    return notFound();
  }
}
