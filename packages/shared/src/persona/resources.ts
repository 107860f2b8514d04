import type { Logger } from 'pino';
import { z } from 'zod';
import { personaId } from './ids.ts';
import { inflected } from './inflection.ts';

/**
 * The parts of Persona's JSON:API bodies we read. Objects are loose on purpose: Persona
 * adds attributes and types without notice (its versioning policy), so we never reject a
 * body for carrying more than we know.
 */
const relationshipRef = inflected(z.looseObject({ type: z.string(), id: z.string() }));

/** Read in any of Persona's key casings; keys inside `fields` are never inflected. */
export const transactionResource = z.looseObject({
  type: z.string(),
  // Persona may change id formats without notice (its versioning policy): any safe id will do.
  id: personaId,
  attributes: inflected(
    z.looseObject({
      status: z.string().nullish(),
      'reference-id': z.string().nullish(),
      /** `{ "<key>": { "type": "...", "value": ... } }`; personal data, never logged. */
      fields: z.record(z.string(), z.unknown()).nullish(),
      tags: z.array(z.string()).nullish(),
      'created-at': z.string().nullish(),
      'updated-at': z.string().nullish(),
    }),
  ),
  relationships: inflected(
    z.looseObject({
      'related-objects': inflected(
        z.looseObject({ data: z.array(relationshipRef).nullish() }),
      ).nullish(),
    }),
  ).nullish(),
});
export type TransactionResource = z.output<typeof transactionResource>;

export const transactionDocument = z.looseObject({ data: transactionResource });

/** A list page: items are read one by one (see the client), so one odd item never hides the others. */
export const listDocument = z.looseObject({
  data: z.array(z.unknown()),
  links: z.looseObject({ next: z.string().nullish(), prev: z.string().nullish() }).nullish(),
});

/**
 * `{"errors": [{"title", "details"?, "source": {"pointer"}?}]}`. Only the title and the
 * field's path are kept: `details` may echo the values sent, which are personal data.
 */
export const errorDocument = z.looseObject({
  errors: z.array(
    z.looseObject({
      title: z.string().nullish(),
      source: z.looseObject({ pointer: z.string().nullish() }).nullish().catch(null),
    }),
  ),
});

export interface PersonaError {
  title: string;
  /** The JSON pointer of the field Persona refused (`/data/attributes/fields/birthdate`). */
  pointer?: string;
}

/** One page of a list, newest first. */
export interface Page<T> {
  data: T[];
  /** `page[after]` cursor of the next page, or null on the last page. */
  nextCursor: string | null;
}

/** The items of a list that parse; the rest are logged (by position, never content) and skipped. */
export function readable<S extends z.ZodType>(
  items: unknown[],
  schema: S,
  logger: Logger,
  what: string,
): z.output<S>[] {
  return items.flatMap((item, index) => {
    const parsed = schema.safeParse(item);
    if (parsed.success) return [parsed.data];
    logger.warn(
      { index, problems: parsed.error.issues.map((i) => i.path.join('.')).slice(0, 5) },
      `skipped an item of ${what} we could not read in a Persona list`,
    );
    return [];
  });
}

/** `links.next` is a relative URL such as `/api/v1/transactions?page%5Bafter%5D=txn_X`. */
export function nextCursor(next: string | null | undefined): string | null {
  if (!next) return null;
  try {
    return new URL(next, 'https://persona.invalid').searchParams.get('page[after]');
  } catch {
    return null;
  }
}
