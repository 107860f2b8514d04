import { z } from 'zod';
import { personaId } from './ids.ts';
import { inflected } from './inflection.ts';

/**
 * The parts of Persona's JSON:API bodies we read. Objects are loose on purpose: Persona
 * adds attributes and types without notice (its versioning policy), so we never reject a
 * body for carrying more than we know.
 */
export const relationshipRef = inflected(z.looseObject({ type: z.string(), id: z.string() }));

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

/** Items are read one by one (see the client): one odd item must not hide the others. */
export const transactionList = z.looseObject({
  data: z.array(z.unknown()),
  links: z.looseObject({ next: z.string().nullish(), prev: z.string().nullish() }).nullish(),
});

/** `{"errors": [{"title", "details"?}]}`; only title and details are kept. */
export const errorDocument = z.looseObject({
  errors: z.array(z.looseObject({ title: z.string().nullish(), details: z.string().nullish() })),
});

export interface PersonaError {
  title: string;
  details?: string;
}
