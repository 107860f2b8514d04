import { IdMinter } from './ids.ts';
import type { ReviewerOptions, SimEvent, SimTransaction, SimulatorOptions } from './types.ts';
import { WebhookSender } from './webhook-sender.ts';

/** Behaviours a test may change while the simulator runs. */
export interface Settings {
  listLagMs: number;
  normaliseFields: boolean;
  accounts: boolean;
  reviewer: ReviewerOptions | null;
  loseWebhooks: ((event: SimEvent) => boolean) | null;
}

/** What the simulator's modules share: its data, ids, clock, timers and live settings. */
export class SimState {
  readonly options: SimulatorOptions;
  readonly random: () => number;
  readonly ids: IdMinter;
  readonly transactions = new Map<string, SimTransaction>();
  readonly events: SimEvent[] = [];
  readonly webhooks: WebhookSender;
  readonly settings: Settings;
  readonly #timers = new Set<NodeJS.Timeout>();
  #lastStamp = 0;

  constructor(options: SimulatorOptions) {
    this.options = options;
    this.random = options.random ?? Math.random;
    this.ids = new IdMinter(options.idPrefixes);
    this.webhooks = new WebhookSender(options.webhook ?? null, this.random);
    this.settings = {
      listLagMs: options.listLagMs ?? 0,
      normaliseFields: options.normaliseFields ?? false,
      accounts: options.accounts ?? false,
      reviewer: options.reviewer ?? null,
      loseWebhooks: options.loseWebhooks ?? null,
    };
  }

  /** Strictly increasing ISO timestamps, so events of one workflow never tie on `created-at`. */
  stamp(): string {
    this.#lastStamp = Math.max(Date.now(), this.#lastStamp + 1);
    return new Date(this.#lastStamp).toISOString();
  }

  /** Runs `fn` after `ms` unless the simulator closes first. */
  later(ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      fn();
    }, ms);
    this.#timers.add(timer);
  }

  clearTimers(): void {
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
  }
}
