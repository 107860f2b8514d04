import type { SimTransaction } from './types.ts';

/** Persona's field type for a JSON value. */
function fieldType(v: unknown): string {
  if (typeof v === 'boolean') return 'boolean';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'float';
  if (Array.isArray(v)) return 'array';
  if (v !== null && typeof v === 'object') return 'hash';
  return 'string';
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const PHONE = /^\+?[\d\s().-]+$/;
const DATE = /^\d{4}-\d{2}-\d{2}/;

/**
 * A string as Persona stores it when it normalises fields: trimmed, inner whitespace
 * collapsed, an email lower-cased, a phone number (`+1 (555) 010-0000`) reduced to
 * `+15550100000`.
 */
function normaliseString(s: string): string {
  const text = s.trim().replace(/\s+/g, ' ');
  if (EMAIL.test(text)) return text.toLowerCase();
  const digits = text.replace(/\D/g, '');
  const phoneLike =
    PHONE.test(text) &&
    !DATE.test(text) &&
    /[\s().+-]/.test(text) &&
    digits.length >= 7 &&
    digits.length <= 15;
  if (phoneLike) return `${text.startsWith('+') ? '+' : ''}${digits}`;
  return text;
}

/** Every string inside a field value, normalised; other values unchanged. */
function normaliseValue(v: unknown): unknown {
  if (typeof v === 'string') return normaliseString(v);
  if (Array.isArray(v)) return v.map(normaliseValue);
  if (v !== null && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, normaliseValue(x)]));
  }
  return v;
}

/** Request fields (`{ key: value }`) as a transaction stores them (`{ key: { type, value } }`). */
export function storeFields(
  fields: Record<string, unknown>,
  normalise: boolean,
): SimTransaction['fields'] {
  return Object.fromEntries(
    Object.entries(fields).map(([k, raw]) => {
      const value = normalise ? normaliseValue(raw) : raw;
      return [k, { type: fieldType(value), value }];
    }),
  );
}
