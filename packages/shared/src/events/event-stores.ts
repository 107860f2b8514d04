import type { Redis } from 'ioredis';
import { redisKeys } from '../redis/keys.ts';
import { AwaitingIndex } from './awaiting-index.ts';
import { EventLinks } from './event-links.ts';
import { ProcessedEvents } from './processed-events.ts';
import { RequestEvents } from './request-events.ts';

export interface EventStoresOptions {
  prefix: string;
  /** How long a processed event id is remembered. @defaultValue 7 days */
  dedupeTtlSeconds?: number;
  /** How long links are kept. @defaultValue 30 days */
  retentionSeconds?: number;
  /** How long a transaction proven another program's is remembered. @defaultValue 12 h */
  foreignTtlSeconds?: number;
}

/** What event processing keeps in Redis, by concern. */
export interface EventStores {
  processed: ProcessedEvents;
  links: EventLinks;
  awaiting: AwaitingIndex;
  state: RequestEvents;
}

export function createEventStores(redis: Redis, options: EventStoresOptions): EventStores {
  const keys = redisKeys(options.prefix);
  const dedupe = options.dedupeTtlSeconds ?? 7 * 24 * 3600;
  return {
    processed: new ProcessedEvents(redis, keys, dedupe),
    links: new EventLinks(redis, keys, {
      waitTtlSeconds: dedupe,
      retentionSeconds: options.retentionSeconds ?? 30 * 24 * 3600,
      foreignTtlSeconds: options.foreignTtlSeconds ?? 12 * 3600,
    }),
    awaiting: new AwaitingIndex(redis, keys),
    state: new RequestEvents(redis, keys, dedupe),
  };
}
