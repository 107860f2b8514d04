import { canonicalJson, sha256 } from '@pp/shared';
import { errorBody, type RouteResult } from './http.ts';

interface StoredResponse {
  hash: string;
  status: number;
  body: string;
  inFlight: boolean;
}

/** What the idempotency layer makes of a keyed request. */
export type Admission =
  /** First use of the key: handle it, then `finish` (or `forget`) it. */
  | { kind: 'new'; key: string }
  /** A stored answer (or a 409/400) to send as it is. */
  | { kind: 'answer'; result: RouteResult; replay: boolean };

/**
 * Persona's idempotency: the first response for a key (4xx and 5xx included) is stored and
 * replayed; another body with the key is a 400 "Idempotency error"; the key coming again
 * while its first request is still being handled is a 409.
 */
export class IdempotencyStore {
  readonly #stored = new Map<string, StoredResponse>();

  admit(key: string, raw: string): Admission {
    const hash = sha256(canonical(raw));
    const existing = this.#stored.get(key);
    if (!existing) {
      this.#stored.set(key, { hash, status: 0, body: '', inFlight: true });
      return { kind: 'new', key };
    }
    if (existing.inFlight) {
      return {
        kind: 'answer',
        replay: false,
        result: {
          status: 409,
          body: errorBody(
            'Conflict',
            'A request with this Idempotency-Key is still being processed.',
          ),
        },
      };
    }
    if (existing.hash !== hash) {
      return {
        kind: 'answer',
        replay: false,
        result: {
          status: 400,
          body: errorBody(
            'Idempotency error',
            `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`,
          ),
        },
      };
    }
    return {
      kind: 'answer',
      replay: true,
      result: { status: existing.status, body: existing.body },
    };
  }

  /** Stores the first answer for the key. */
  finish(key: string, result: RouteResult): void {
    const stored = this.#stored.get(key);
    if (!stored) return;
    stored.status = result.status;
    stored.body = result.body;
    stored.inFlight = false;
  }

  /** Forgets the key (an answer Persona gives before its idempotency layer, e.g. a quota error). */
  forget(key: string): void {
    this.#stored.delete(key);
  }
}

function canonical(raw: string): string {
  try {
    return canonicalJson(JSON.parse(raw));
  } catch {
    return raw;
  }
}
