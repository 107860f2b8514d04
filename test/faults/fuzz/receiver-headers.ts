import fc from 'fast-check';
import { personaSignature } from '@pp/persona-sim';
import { FLEET_WEBHOOK_SECRET } from '../fleet.ts';
import { contentEncoding, headerValue } from './pieces.ts';

/** The receiver's headers: signatures that must not pass, content types and encodings. */

export const now = () => Math.floor(Date.now() / 1000);
const hex64 = fc.stringMatching(/^[0-9a-f]{64}$/);
/** A `Persona-Signature` that must not pass, for a given body. */
export const badSignature: fc.Arbitrary<(raw: Buffer) => string | undefined> = fc.oneof(
  fc.constant(() => undefined),
  headerValue(400).map((h) => () => h),
  hex64.map((v) => () => `t=${now()},v1=${v}`),
  fc
    .string({ minLength: 1, maxLength: 40 })
    .filter((s) => s !== FLEET_WEBHOOK_SECRET)
    .map((secret) => (raw: Buffer) => personaSignature(raw, [secret], now())),
  fc.constant((raw: Buffer) =>
    personaSignature(Buffer.concat([raw, Buffer.from(' ')]), [FLEET_WEBHOOK_SECRET], now()),
  ),
  // Outside the tolerance (the dedupe window, 7 days), either way.
  fc
    .constantFrom(-8, 8)
    .map(
      (days) => (raw: Buffer) =>
        personaSignature(raw, [FLEET_WEBHOOK_SECRET], now() + days * 24 * 3600),
    ),
  // The right MAC behind more junk sets than are ever tried, or in a header over the cap.
  fc.constant(
    (raw: Buffer) =>
      `${`t=1,v1=${'0'.repeat(64)} `.repeat(4)}${personaSignature(raw, [FLEET_WEBHOOK_SECRET], now())}`,
  ),
  fc.constant(
    (raw: Buffer) => `${'x'.repeat(4100)} ${personaSignature(raw, [FLEET_WEBHOOK_SECRET], now())}`,
  ),
  // Two timestamps in one set, or a timestamp that is not an integer.
  fc.constant((raw: Buffer) => {
    const t = now();
    return `t=${t},${personaSignature(raw, [FLEET_WEBHOOK_SECRET], t)}`;
  }),
);

/** Content headers of a delivery; `refusal` is the answer they alone must get. */
export const receiverContent = fc
  .tuple(fc.option(headerValue(100), { nil: undefined }), contentEncoding)
  .map(([type, encoding]) => ({
    headers: {
      ...(type !== undefined ? { 'content-type': type } : {}),
      ...(encoding.header !== undefined ? { 'content-encoding': encoding.header } : {}),
    },
    encode: encoding.encode,
    refusal: encoding.kind === 'unknown' ? 415 : encoding.kind === 'garbage' ? 400 : undefined,
  }));
