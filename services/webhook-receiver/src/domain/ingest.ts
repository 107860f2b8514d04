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
  /** Stores the event's job and remembers its id, unless stored before; throws when Redis fails. */
  admit: (summary: EventSummary) => Promise<GateOutcome>;
  isAvailable: () => boolean;
}

export type IngestOutcome =
  /** `accepted` and `duplicate`: stored. */
  | { kind: GateOutcome; summary: EventSummary }
  | { kind: 'invalid_signature'; reason: Extract<VerifyResult, { kind: 'invalid' }>['reason'] }
  | { kind: 'invalid_event' }
  | { kind: 'unavailable'; summary: EventSummary | null };

/**
 * One delivery: the signature over the raw bytes first, then the envelope, then the gate
 * that stores the event's job unless it was stored before. `accepted` and `duplicate` mean
 * the event is stored; every other outcome makes Persona retry.
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
  if (verified.kind === 'invalid') return { kind: 'invalid_signature', reason: verified.reason };

  const parsed = parseWebhookBody(raw);
  if (parsed.kind === 'not_an_event') return { kind: 'invalid_event' };
  const { summary } = parsed;
  if (!deps.isAvailable()) return { kind: 'unavailable', summary };

  try {
    return { kind: await deps.admit(summary), summary };
  } catch {
    // Not stored (or not known to be): Persona's retry will be processed, not swallowed.
    return { kind: 'unavailable', summary };
  }
}
