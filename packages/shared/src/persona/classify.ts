import { errorDocument, type PersonaError } from './resources.ts';

/**
 * What one Persona response means for the caller. Expected outcomes are values, never
 * exceptions; the processor maps each kind to a BullMQ signal.
 */
export type Classified =
  | { kind: 'ok'; status: number }
  /** 429 `Rate limit exceeded`: wait for Persona's reset, spend no attempt. */
  | { kind: 'rate_limited'; status: 429 }
  /** `Quota exceeded` (429 or 403): the product's creation quota, not the request budget. */
  | { kind: 'quota_exceeded'; status: number; errors: PersonaError[] }
  /**
   * 409: another request conflicts. For a create under our Idempotency-Key that is our own
   * earlier call still in flight (a retry after a timeout), so it is retried with the key.
   */
  | { kind: 'conflict'; status: 409; errors: PersonaError[] }
  /** 4xx that retrying cannot fix. `config` marks 401/403: our key or permissions are wrong. */
  | {
      kind: 'rejected';
      status: number;
      errors: PersonaError[];
      config: boolean;
      /** 400 `Idempotency error`: the same key with another body, a bug of ours. */
      idempotencyMismatch: boolean;
    }
  /** 5xx (and 408): indeterminate; Persona may have stored it against the key. */
  | { kind: 'server_error'; status: number; errors: PersonaError[] };

function parseErrors(body: string): PersonaError[] {
  try {
    const parsed = errorDocument.safeParse(JSON.parse(body));
    if (!parsed.success) return [];
    return parsed.data.errors.map((e) => {
      const out: PersonaError = { title: (e.title ?? '').slice(0, 200) };
      const pointer = e.source?.pointer;
      if (pointer) out.pointer = pointer.slice(0, 200);
      return out;
    });
  } catch {
    return [];
  }
}

const hasTitle = (errors: PersonaError[], title: string) =>
  errors.some((e) => e.title.trim().toLowerCase() === title);

export function classifyResponse(status: number, body: string): Classified {
  if (status >= 200 && status < 300) return { kind: 'ok', status };
  const errors = parseErrors(body);
  if ((status === 429 || status === 403) && hasTitle(errors, 'quota exceeded')) {
    return { kind: 'quota_exceeded', status, errors };
  }
  if (status === 429) return { kind: 'rate_limited', status };
  if (status === 408 || status >= 500) return { kind: 'server_error', status, errors };
  if (status === 409) return { kind: 'conflict', status, errors };
  return {
    kind: 'rejected',
    status,
    errors,
    config: status === 401 || status === 403,
    idempotencyMismatch: status === 400 && hasTitle(errors, 'idempotency error'),
  };
}

/** Reads a numeric header the way Persona sends it (HTTP/2 lower-cases names). */
export function numericHeader(
  headers: Record<string, string | string[] | undefined>,
  ...names: string[]
): number | undefined {
  for (const name of names) {
    const raw = headers[name.toLowerCase()];
    const value = Array.isArray(raw) ? raw[0] : raw;
    if (value === undefined || value.trim() === '') continue;
    const n = Number(value);
    if (Number.isFinite(n) && n >= 0) return n;
  }
  return undefined;
}
