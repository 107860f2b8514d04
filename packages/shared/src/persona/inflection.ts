import { z } from 'zod';

/**
 * Persona sends keys in the casing the caller (`Key-Inflection`) or the webhook
 * (`api-key-inflection`) asked for: `kebab-case` (default), `snake_case` or `camelCase`.
 * We read kebab-case; these helpers turn one object level's keys into it. Only the levels
 * we read are converted, never the keys inside a transaction's `fields` (Persona does not
 * inflect those either).
 */
const needsWork = /[_A-Z]/;

const toKebab = (key: string): string =>
  needsWork.test(key)
    ? key
        .replace(/_/g, '-')
        .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
        .toLowerCase()
    : key;

/** The same object with its own keys in kebab-case (one level; values untouched). */
function kebabKeys(value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const keys = Object.keys(value);
  if (!keys.some((k) => needsWork.test(k))) return value;
  // fromEntries defines own properties: a `__proto__` key stays data, never a prototype.
  return Object.fromEntries(keys.map((k) => [toKebab(k), (value as Record<string, unknown>)[k]]));
}

/** A schema that reads an object level in any of Persona's key casings. */
export const inflected = <S extends z.ZodType>(schema: S) => z.preprocess(kebabKeys, schema);
