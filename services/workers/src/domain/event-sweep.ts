import {
  eventSummary,
  summarizeEvent,
  type EventSummary,
  type GateOutcome,
  type Logger,
  type PersonaClient,
} from '@pp/shared';

/** A point in Persona's event stream. */
interface StreamPoint {
  id: string;
  /** created-at, ms */
  at: number;
}

/** How far the sweep has read Persona's event stream (newest first). */
export interface SweepCursor {
  /** Every event down from this one to the previous watermark has been seen. */
  watermark: StreamPoint | null;
  /** A walk that ran out of budget: it resumes after `after`, down to `stopAt`, then `top` is the watermark. */
  gap: { after: string; stopAt: StreamPoint; top: StreamPoint } | null;
}

export interface EventSweepDeps {
  persona: PersonaClient;
  /** Feeds one event into the webhook path (the gate makes an event seen before a no-op). */
  ingest: (summary: EventSummary) => Promise<GateOutcome>;
  load: () => Promise<SweepCursor>;
  save: (cursor: SweepCursor) => Promise<void>;
  /** Event names asked for (`filter[name]`). */
  names: readonly string[];
  /** Pages of 100 one run may read: the sweep's share of the budget. */
  pagesPerRun: number;
  /** How far Persona's lists may lag behind creation: the walk reads that far past the watermark. */
  listLagMs: number;
  /** The longest one run waits for budget slots before it saves its place and stops. */
  maxWaitMs: number;
  sleep: (ms: number) => Promise<void>;
}

export interface SweepResult {
  pages: number;
  events: number;
  /** Events we had never stored (lost after a 200, or never delivered). */
  recovered: number;
  /** The run ended with events between the top and the watermark still unread. */
  behind: boolean;
}

type Walk = {
  pages: number;
  events: number;
  recovered: number;
  first: StreamPoint | null;
  last: string | null;
  reached: boolean;
};

/**
 * One run of the event-stream sweep: walks `GET /events` (newest first, our event names,
 * 100 a page, background priority) down to the last event already seen, feeding each one
 * through the webhook path. This recovers events that Redis lost after we answered 200 and
 * events Persona stopped retrying while we were down. A run reads at most `pagesPerRun`
 * pages; a walk cut short is resumed by the next run before anything newer.
 */
export async function sweepEventStream(deps: EventSweepDeps, log: Logger): Promise<SweepResult> {
  const cursor = await deps.load();
  const started = Date.now();
  const total: SweepResult = { pages: 0, events: 0, recovered: 0, behind: false };
  const add = (walk: Walk) => {
    total.pages += walk.pages;
    total.events += walk.events;
    total.recovered += walk.recovered;
  };

  if (cursor.gap) {
    const gap = cursor.gap;
    const walk = await walkDown(deps, gap.after, gap.stopAt, deps.pagesPerRun, started, log);
    add(walk);
    if (walk.reached) {
      cursor.watermark = gap.top;
      cursor.gap = null;
    } else if (walk.last) {
      gap.after = walk.last;
    }
    await deps.save(cursor);
    if (!walk.reached) return { ...total, behind: true };
  }
  const budget = deps.pagesPerRun - total.pages;
  if (budget <= 0) return total;

  // The first run starts from now: what is older is reconciliation's.
  const stopAt = cursor.watermark ?? { id: '', at: Date.now() };
  const walk = await walkDown(deps, undefined, stopAt, budget, started, log);
  add(walk);
  if (walk.reached) {
    cursor.watermark = walk.first ?? stopAt;
  } else if (walk.first && walk.last) {
    cursor.gap = { after: walk.last, stopAt, top: walk.first };
  }
  await deps.save(cursor);
  return { ...total, behind: !walk.reached };
}

async function walkDown(
  deps: EventSweepDeps,
  after: string | undefined,
  stopAt: StreamPoint,
  budget: number,
  started: number,
  log: Logger,
): Promise<Walk> {
  const walk: Walk = { pages: 0, events: 0, recovered: 0, first: null, last: null, reached: false };
  let cursor = after;
  while (walk.pages < budget) {
    const res = await deps.persona.listEvents(
      { names: [...deps.names] },
      { ...(cursor ? { after: cursor } : {}), size: 100 },
      { callClass: 'background' },
    );
    if (res.kind === 'throttled' || res.kind === 'rate_limited' || res.kind === 'quota_exceeded') {
      if (Date.now() + res.retryInMs - started > deps.maxWaitMs) return walk;
      await deps.sleep(res.retryInMs);
      continue;
    }
    if (res.kind !== 'ok') {
      log.warn(
        { answer: res.kind === 'network' ? res.code : res.status },
        'event sweep: Persona did not answer; the next run resumes here',
      );
      return walk;
    }
    walk.pages++;
    for (const event of res.data.data) {
      const at = Date.parse(event.attributes['created-at']);
      // The watermark, or older than it by more than a list may lag: seen before.
      if (event.id === stopAt.id || at < stopAt.at - deps.listLagMs) {
        walk.reached = true;
        return walk;
      }
      walk.first ??= { id: event.id, at };
      walk.last = event.id;
      const summary = eventSummary.safeParse(summarizeEvent(event, 'sweep'));
      if (!summary.success) {
        log.error({ eventId: event.id }, 'event sweep skipped an event it cannot store');
        continue;
      }
      if ((await deps.ingest(summary.data)) === 'accepted') walk.recovered++;
      walk.events++;
    }
    if (!res.data.nextCursor) {
      walk.reached = true;
      return walk;
    }
    cursor = res.data.nextCursor;
  }
  return walk;
}
