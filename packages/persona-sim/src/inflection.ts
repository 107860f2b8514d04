/**
 * Persona's key inflection (`Key-Inflection` header for the API, `api-key-inflection` for a
 * webhook): keys are kebab-case by default, or snake_case or camelCase. Values never change,
 * and keys inside a `fields` object (a Transaction's or an Account's) are never inflected.
 */
export type Inflection = 'kebab' | 'snake' | 'camel';

export const INFLECTIONS: readonly Inflection[] = ['kebab', 'snake', 'camel'];

/** The key that holds field values, whose own keys are left as they are. */
const VERBATIM = 'fields';

/** One kebab-case key in the given inflection. */
function inflectKey(key: string, to: Inflection): string {
  if (to === 'snake') return key.replace(/-/g, '_');
  if (to === 'camel') return key.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
  return key;
}

/** One key in any inflection, as kebab-case. */
function kebabKey(key: string): string {
  return key.replace(/_/g, '-').replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

function mapKeys(value: unknown, rename: (key: string) => string): unknown {
  if (Array.isArray(value)) return value.map((v) => mapKeys(v, rename));
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [
      rename(k),
      k === VERBATIM ? structuredClone(v) : mapKeys(v, rename),
    ]),
  );
}

/** A kebab-case document with all keys (but those inside `fields`) in the given inflection. */
export function inflectKeys<T>(value: T, to: Inflection): T {
  return (to === 'kebab' ? value : mapKeys(value, (k) => inflectKey(k, to))) as T;
}

/** A request document in any inflection, with all keys (but those inside `fields`) kebab-case. */
export function kebabKeys<T>(value: T): T {
  return mapKeys(value, kebabKey) as T;
}

/** A JSON body re-serialised in the given inflection (unchanged for kebab or non-JSON). */
export function inflectJson(body: string, to: Inflection): string {
  if (to === 'kebab' || body === '') return body;
  try {
    return JSON.stringify(inflectKeys(JSON.parse(body) as unknown, to));
  } catch {
    return body;
  }
}

/** The `Key-Inflection` request header; kebab when missing or unknown. */
export function parseInflection(header: string | string[] | undefined): Inflection {
  const v = (Array.isArray(header) ? header[0] : header)?.trim().toLowerCase();
  return INFLECTIONS.find((i) => i === v) ?? 'kebab';
}

/** Query parameter names in any inflection, as kebab-case: `filter[reference_id]` → `filter[reference-id]`. */
export function kebabParams(params: URLSearchParams): URLSearchParams {
  const out = new URLSearchParams();
  for (const [k, v] of params)
    out.append(
      k.replace(/\[([^\]]*)\]/g, (_, n: string) => `[${kebabKey(n)}]`),
      v,
    );
  return out;
}
