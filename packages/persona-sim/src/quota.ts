import { errorBody, type RouteResult } from './http.ts';
import { FixedWindow } from './rate-window.ts';
import type { QuotaOptions } from './types.ts';

/**
 * The transaction-creation quota: a fixed window that only creates spend. Its errors sit,
 * like 429s, before the idempotency layer and are never stored against a key.
 */
export class Quota {
  readonly options: QuotaOptions;
  readonly #window: FixedWindow;

  constructor(options: QuotaOptions) {
    this.options = options;
    this.#window = new FixedWindow(options.limit, options.windowMs);
  }

  spend(at: number): boolean {
    return this.#window.spend(at);
  }

  get endsAt(): number | null {
    return this.#window.endsAt;
  }

  /** `Quota-*` (or `QuotaLimit-*`) headers; the reset counts (scaled) seconds. */
  headers(at: number, secondMs: number): Record<string, string> {
    const prefix = this.options.headers === 'quotalimit' ? 'quotalimit' : 'quota';
    return {
      [`${prefix}-limit`]: String(this.options.limit),
      [`${prefix}-remaining`]: String(this.#window.remaining(at)),
      [`${prefix}-reset`]: String(this.#window.resetSeconds(at, secondMs)),
    };
  }

  exceeded(): RouteResult {
    return {
      status: this.options.status ?? 429,
      body: errorBody(
        'Quota exceeded',
        `You have hit your create_transaction quota limit of ${this.options.limit} requests. Please reach out to support@withpersona.com if you need this changed.`,
      ),
    };
  }
}
