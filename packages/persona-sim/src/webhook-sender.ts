import { inflectKeys, type Inflection } from './inflection.ts';
import { personaSignature } from './signature.ts';

export interface WebhookOptions {
  /** Where events are POSTed. */
  url: string;
  /** Signing secrets; two during a rotation. */
  secrets: string[];
  /**
   * Delays between attempts. Persona retries 7 times, roughly n⁶ seconds apart (3 s, 64 s,
   * 729 s, ... about 51 h in all); tests pass a scaled-down schedule.
   */
  retryDelaysMs?: number[];
  /** Persona waits 5 s for an answer. */
  timeoutMs?: number;
  /** Share of events delivered twice (Persona may deliver an event more than once). */
  duplicateRate?: number;
  /** Random delay before each event's first attempt, so later events can overtake earlier ones. */
  reorderJitterMs?: number;
  /**
   * The webhook's `api-key-inflection`: casing of every key of the body except those inside
   * a `fields` object. The signature covers the inflected bytes. @defaultValue 'kebab'
   */
  inflection?: Inflection;
  /**
   * `t` of `Persona-Signature`: `per-attempt` signs each retry with its own send time;
   * `first-attempt` re-sends every retry with the `t` of its first attempt.
   * @defaultValue 'per-attempt'
   */
  timestamps?: 'per-attempt' | 'first-attempt';
  /** `t` is the send time minus this many seconds (e.g. 3600: hour-old signatures). @defaultValue 0 */
  signatureAgeSeconds?: number;
}

export const PERSONA_RETRY_DELAYS_MS = [3, 64, 729, 4096, 15625, 46656, 117649].map(
  (s) => s * 1000,
);

export interface Delivery {
  eventId: string;
  attempt: number;
  at: number;
  /** HTTP status, or the error code when no answer came. */
  outcome: number | string;
  delivered: boolean;
}

const SUCCESS = new Set([200, 201, 202, 204]);

/** Sends signed events with Persona's retry behaviour; records every attempt. */
export class WebhookSender {
  readonly deliveries: Delivery[] = [];
  /** Ids of events recorded but never sent (lost on purpose). */
  readonly lost: string[] = [];
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #inFlight = new Set<AbortController>();
  #options: WebhookOptions | null;
  readonly #random: () => number;
  #closed = false;

  constructor(options: WebhookOptions | null, random: () => number) {
    this.#options = options;
    this.#random = random;
  }

  configure(options: WebhookOptions | null): void {
    this.#options = options;
  }

  get options(): WebhookOptions | null {
    return this.#options;
  }

  /** Queues one kebab-case event document, serialised in the webhook's inflection. */
  sendEvent(eventId: string, document: unknown): void {
    const o = this.#options;
    if (!o || this.#closed) return;
    this.send(eventId, JSON.stringify(inflectKeys(document, o.inflection ?? 'kebab')));
  }

  /** Queues one event body, sent as it is, for delivery (and maybe a duplicate). */
  send(eventId: string, body: string): void {
    const o = this.#options;
    if (!o || this.#closed) return;
    const jitter = o.reorderJitterMs ? Math.floor(this.#random() * o.reorderJitterMs) : 0;
    const firstAttemptAt = Math.floor(Date.now() / 1000);
    this.#schedule(jitter, () => this.#attempt(eventId, body, 1, firstAttemptAt, {}));
    if (o.duplicateRate && this.#random() < o.duplicateRate) {
      const again = jitter + Math.floor(this.#random() * Math.max(50, o.reorderJitterMs ?? 50));
      this.#schedule(again, () => this.#attempt(eventId, body, 1, firstAttemptAt, {}));
    }
  }

  /** Records an event that is never sent. */
  lose(eventId: string): void {
    this.lost.push(eventId);
  }

  /** Stops all pending and in-flight deliveries. */
  close(): void {
    this.#closed = true;
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    for (const c of this.#inFlight) c.abort();
  }

  #schedule(ms: number, fn: () => Promise<void>): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      void fn();
    }, ms);
    this.#timers.add(timer);
  }

  async #attempt(
    eventId: string,
    body: string,
    attempt: number,
    firstAttemptAt: number,
    chain: { t?: number },
  ): Promise<void> {
    const o = this.#options;
    if (!o || this.#closed) return;
    const delays = o.retryDelaysMs ?? PERSONA_RETRY_DELAYS_MS;
    const sentT = Math.floor(Date.now() / 1000) - (o.signatureAgeSeconds ?? 0);
    chain.t ??= sentT;
    const t = o.timestamps === 'first-attempt' ? chain.t : sentT;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), o.timeoutMs ?? 5000);
    this.#inFlight.add(controller);
    let outcome: number | string;
    try {
      const res = await fetch(o.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'persona-signature': personaSignature(body, o.secrets, t),
          'persona-webhook-attempts-made': String(attempt),
          'persona-webhook-attempts-left': String(delays.length + 1 - attempt),
          'persona-webhook-first-attempted-at': String(firstAttemptAt),
        },
        body,
        signal: controller.signal,
      });
      await res.arrayBuffer();
      outcome = res.status;
    } catch (err) {
      outcome = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name;
    } finally {
      clearTimeout(timer);
      this.#inFlight.delete(controller);
    }
    const delivered = typeof outcome === 'number' && SUCCESS.has(outcome);
    this.deliveries.push({ eventId, attempt, at: Date.now(), outcome, delivered });
    if (!delivered && attempt <= delays.length && !this.#closed) {
      this.#schedule(delays[attempt - 1]!, () =>
        this.#attempt(eventId, body, attempt + 1, firstAttemptAt, chain),
      );
    }
  }
}
