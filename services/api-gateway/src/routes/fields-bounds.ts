import type { z } from 'zod';

/**
 * The bounds of a request's `fields` (Persona's fields are flat or nearly so): deeper,
 * wider or longer is a 400 that names the path, checked without recursion so that no shape
 * can overflow the stack.
 */
const FIELDS_BOUNDS = {
  /** Levels of objects or arrays inside `fields`. */
  maxDepth: 8,
  /** Keys and array items in all, at every level. */
  maxEntries: 500,
  /** Characters of one string value (or key). */
  maxStringLength: 10_000,
} as const;

export function checkFieldsBounds(fields: Record<string, unknown>, ctx: z.RefinementCtx): void {
  const stack: { value: unknown; path: (string | number)[] }[] = [{ value: fields, path: [] }];
  let entries = 0;
  while (stack.length > 0) {
    const { value, path } = stack.pop()!;
    const fail = (message: string) => {
      ctx.addIssue({ code: 'custom', path, message });
    };
    if (typeof value === 'string') {
      if (value.length > FIELDS_BOUNDS.maxStringLength) {
        return fail(`is ${value.length} characters; at most ${FIELDS_BOUNDS.maxStringLength}`);
      }
      continue;
    }
    if (value === null || typeof value !== 'object') continue;
    if (path.length >= FIELDS_BOUNDS.maxDepth) {
      return fail(`is nested deeper than ${FIELDS_BOUNDS.maxDepth} levels`);
    }
    const children = Array.isArray(value)
      ? value.map((v, i) => [i, v] as const)
      : Object.entries(value as Record<string, unknown>);
    entries += children.length;
    if (entries > FIELDS_BOUNDS.maxEntries) {
      return fail(`holds more than ${FIELDS_BOUNDS.maxEntries} keys and items in all`);
    }
    for (const [key, child] of children) {
      if (typeof key === 'string' && key.length > FIELDS_BOUNDS.maxStringLength) {
        return fail(`has a key of ${key.length} characters`);
      }
      stack.push({ value: child, path: [...path, key] });
    }
  }
}
