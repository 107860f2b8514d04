import { sha256 } from '../util/canonical.ts';

/**
 * Every Redis key this project writes outside BullMQ's own queue structures, in one place.
 * Each line says what the key holds, who writes it, and when it goes. `prefix` is
 * `QUEUE_PREFIX`; with a hash tag (`{pp}`) every key lands in one Redis Cluster slot.
 */
export function redisKeys(prefix: string) {
  const k = (...parts: string[]) => [prefix, ...parts].join(':');
  return {
    // --- requests (packages/shared/src/requests)
    /** hash: one request (status, ids, Persona's status, attempts); gateway creates, workers settle; expires after the retention (30 d). */
    request: (id: string) => k('req', id),
    /** string: the request's `fields` (personal data); gateway writes, settling deletes; retention at most. */
    requestFields: (id: string) => k('req', id, 'fields'),
    /** string `<request id>\n<body hash>`: an Idempotency-Key of a caller; gateway; 24 h. */
    idempotency: (key: string) => k('idem', sha256(key)),
    /** counter: a caller's requests in its current rate window; gateway; the window. */
    callerWindow: (caller: string) => k('rate', caller),
    /** sorted set: requests accepted and not yet settled (the creation backlog); accept adds, settle removes; retention. */
    queuedRequests: () => k('queued'),
    /** string: request id of a Persona transaction; settling writes it; retention. */
    transactionLink: (personaTransactionId: string) => k('ptx', personaTransactionId),
    /** sorted set: failed requests by failure time, for listing and re-driving; settle adds, a re-drive removes; trimmed to the retention. */
    failedRequests: () => k('failed'),
    /** sorted set: submitted requests awaiting a decision, scored by their next look; settle adds, a decision or the sweep removes. */
    awaiting: () => k('awaiting'),

    // --- events (packages/shared/src/events)
    /** hash: event id -> the request's history entry; workers; kept with the request. */
    requestEvents: (id: string) => k('req', id, 'events'),
    /** hash: object id -> the request's verification or report status; workers; kept with the request. */
    requestObjects: (id: string) => k('req', id, 'objects'),
    /** string `enqueued`: the event id was stored (its job added in the same step); receiver and workers; the dedupe window. */
    eventGate: (eventId: string) => k('evtgate', eventId),
    /** string: the event was processed; workers; the dedupe window (7 d). */
    eventDone: (eventId: string) => k('evt', eventId, 'done'),
    /** string: the fan-out plan of an event that changed a status; workers; dropped once processed, else the dedupe window. */
    fanOutPlan: (eventId: string) => k('evt', eventId, 'plan'),
    /** set: the queues of the plan already given their job; workers; as the plan. */
    fanOutSent: (eventId: string) => k('evt', eventId, 'sent'),
    /** string: the Persona transaction a verification or report belongs to; workers; retention. */
    objectLink: (objectId: string) => k('obj', objectId),
    /** set: event ids parked until this transaction or object is linked; workers; the dedupe window. */
    pending: (linkId: string) => k('pending', linkId),
    /** hash: event id -> summary, events that waited past the link timeout; workers; the dedupe window. */
    late: (linkId: string) => k('late', linkId),
    /** string: a transaction or object of another program on the environment; workers; the link timeout (12 h). */
    foreign: (id: string) => k('foreign', id),
    /** list: ids and names of events routed nowhere, newest first; workers; capped at 10,000. */
    unrouted: () => k('events', 'unrouted'),
    /** string: where the event-stream sweep has read to; workers; 30 d (Persona's event retention). */
    sweepCursor: () => k('event-sweep', 'cursor'),
    /** string: the lock of one sweep run; workers; twice the sweep interval. */
    sweepLock: () => k('event-sweep', 'lock'),

    /** string: which worker process reports the fleet-wide gauges; the metrics leader; a 15 s lease. */
    metricsLeader: () => k('metrics', 'leader'),

    // --- the Persona budget (packages/shared/src/persona/rate-limit)
    /** sorted set: grant times in the rolling window; workers; two windows. */
    limiterLog: () => k('persona-limiter', 'log'),
    /** hash: pacing, blocks, Persona's last headers, counters; workers; no expiry (a few fields). */
    limiterState: () => k('persona-limiter', 'state'),
    /** sorted set: background grants, for their reserved share; workers; two windows. */
    limiterBackground: () => k('persona-limiter', 'background'),
  } as const;
}

export type RedisKeys = ReturnType<typeof redisKeys>;
