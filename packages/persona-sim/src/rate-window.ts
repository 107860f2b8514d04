/**
 * Persona's fixed window: it opens at the first request after the previous one ended and
 * allows `limit` requests until it ends. Used for the environment's rate limit and for the
 * transaction-creation quota.
 */
export class FixedWindow {
  readonly limit: number;
  readonly windowMs: number;
  #window: { start: number; count: number } | null = null;

  constructor(limit: number, windowMs: number) {
    this.limit = limit;
    this.windowMs = windowMs;
  }

  /** Counts one request; false when the window is spent. */
  spend(at: number): boolean {
    if (!this.#window || at >= this.#window.start + this.windowMs) {
      this.#window = { start: at, count: 0 };
    }
    if (this.#window.count >= this.limit) return false;
    this.#window.count += 1;
    return true;
  }

  #open(at: number) {
    return this.#window && at < this.#window.start + this.windowMs ? this.#window : null;
  }

  /** When the current window ends (ms), or null when none is open. */
  get endsAt(): number | null {
    return this.#window ? this.#window.start + this.windowMs : null;
  }

  remaining(at: number): number {
    const w = this.#open(at);
    return w ? Math.max(0, this.limit - w.count) : this.limit;
  }

  /** Whole (possibly scaled) seconds until the window resets, rounded up. */
  resetSeconds(at: number, secondMs: number): number {
    const w = this.#open(at);
    return Math.ceil((w ? w.start + this.windowMs - at : this.windowMs) / secondMs);
  }
}

/**
 * Another program on the environment: it acts `perWindow` times in each window, evenly
 * spread (each act spends one request of the shared window, or creates a transaction).
 */
export class Neighbour {
  #timer: NodeJS.Timeout | null = null;

  start(perWindow: number, windowMs: number, act: () => void): void {
    this.stop();
    if (perWindow <= 0) return;
    this.#timer = setInterval(act, windowMs / perWindow);
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }
}

/** `RateLimit-*` headers, plus the identity headers Persona puts on every authenticated answer. */
export function rateHeaders(
  window: FixedWindow,
  at: number,
  secondMs: number,
  ids: { requestId: string; environmentId: string; organizationId: string },
): Record<string, string> {
  return {
    'ratelimit-limit': String(window.limit),
    'ratelimit-remaining': String(window.remaining(at)),
    // A scaled-down window scales the second with it (a window is always 60 of them), so
    // tests keep Persona's proportions.
    'ratelimit-reset': String(window.resetSeconds(at, secondMs)),
    'request-id': ids.requestId,
    'persona-environment-id': ids.environmentId,
    'persona-organization-id': ids.organizationId,
  };
}
