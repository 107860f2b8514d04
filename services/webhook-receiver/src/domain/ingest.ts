import {
  parseWebhookBody,
  verifyPersonaSignature,
  type EventGate,
  type EventSummary,
  type VerifyResult,
} from '@pp/shared';

export interface IngestDeps {
  secrets: readonly string[];
  toleranceSeconds: number;
  nowSeconds: () => number;
  gate: EventGate;
  /** Stores the event's job; a no-op when the job already exists. */
  enqueue: (summary: EventSummary) => Promise<void>;
  isAvailable: () => boolean;
  withDeadline: <T>(work: Promise<T>) => Promise<T>;
}

export type IngestOutcome =
  | { outcome: 'accepted'; summary: EventSummary }
  | { outcome: 'duplicate'; summary: EventSummary }
  | { outcome: 'in_flight'; summary: EventSummary }
  | { outcome: 'invalid_signature'; reason: Extract<VerifyResult, { ok: false }>['reason'] }
  | { outcome: 'invalid_event' }
  | { outcome: 'unavailable'; summary: EventSummary | null };

/**
 * One delivery: the signature over the raw bytes first, then the envelope, then the
 * two-phase gate around the enqueue. `accepted` and `duplicate` mean the event is stored;
 * every other outcome makes Persona retry.
 */
export async function ingestWebhook(
  deps: IngestDeps,
  raw: Buffer,
  signature: string | undefined,
): Promise<IngestOutcome> {
  const verified = verifyPersonaSignature(raw, signature, deps.secrets, {
    nowSeconds: deps.nowSeconds(),
    toleranceSeconds: deps.toleranceSeconds,
  });
  if (!verified.ok) return { outcome: 'invalid_signature', reason: verified.reason };

  const parsed = parseWebhookBody(raw);
  if (!parsed.ok) return { outcome: 'invalid_event' };
  const { summary } = parsed;
  if (!deps.isAvailable()) return { outcome: 'unavailable', summary };

  let claim: Awaited<ReturnType<EventGate['claim']>>;
  try {
    claim = await deps.withDeadline(deps.gate.claim(summary.eventId));
  } catch {
    return { outcome: 'unavailable', summary };
  }
  if (claim.result === 'enqueued') return { outcome: 'duplicate', summary };
  if (claim.result === 'in_flight') return { outcome: 'in_flight', summary };

  try {
    await deps.withDeadline(deps.enqueue(summary));
  } catch {
    // Free the claim so that Persona's retry is processed, not taken for a duplicate.
    await deps.withDeadline(deps.gate.release(summary.eventId, claim.nonce)).catch(() => undefined);
    return { outcome: 'unavailable', summary };
  }
  try {
    await deps.withDeadline(deps.gate.confirm(summary.eventId, claim.nonce));
  } catch {
    // Stored, but not yet remembered as stored: the retry will find the job and the worker
    // dedupes it. Not answering 200 costs one more delivery; answering it could cost none.
    return { outcome: 'unavailable', summary };
  }
  return { outcome: 'accepted', summary };
}
