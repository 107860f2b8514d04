import {
  parseWebhookBody,
  verifyPersonaSignature,
  type EventSummary,
  type GateOutcome,
  type VerifyResult,
} from '@pp/shared';

export interface IngestDeps {
  secrets: readonly string[];
  toleranceSeconds: number;
  nowSeconds: () => number;
  /** Claims the event id, stores its job, confirms; throws when Redis fails. */
  admit: (summary: EventSummary) => Promise<GateOutcome>;
  isAvailable: () => boolean;
}

export type IngestOutcome =
  /** `accepted` and `duplicate`: stored; `in_flight`: another delivery is storing it. */
  | { outcome: GateOutcome; summary: EventSummary }
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

  try {
    const outcome = await deps.admit(summary);
    return { outcome, summary };
  } catch {
    // Not stored (or not known to be): Persona's retry will be processed, not swallowed.
    return { outcome: 'unavailable', summary };
  }
}
