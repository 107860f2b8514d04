import { brotliCompressSync, constants, deflateSync, gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { seededRandom } from '@pp/testing';
import { FLEET_TOKEN } from '../fleet.ts';

/** Pieces every endpoint's cases are made of. */

/** The fleet's token, as a caller of the gateway sends it. */
export const bearer = `Bearer ${FLEET_TOKEN}`;

/** Characters Node sends in a header value: tab, printable ASCII and Latin-1. */
const headerChar = fc
  .oneof(fc.integer({ min: 0x20, max: 0x7e }), fc.integer({ min: 0x80, max: 0xff }), fc.constant(9))
  .map((c) => String.fromCharCode(c));
export const headerValue = (maxLength = 300) => fc.string({ unit: headerChar, maxLength });

/** Headers no endpoint asks for; framing headers are left to the client. */
export const extraHeaders = fc.dictionary(
  fc.oneof(
    fc.constantFrom(
      'x-request-id',
      'accept',
      'accept-encoding',
      'cookie',
      'x-forwarded-for',
      'forwarded',
      'if-none-match',
      'range',
      'origin',
      'user-agent',
      'x-http-method-override',
    ),
    fc.stringMatching(/^x-[a-z0-9-]{1,30}$/),
  ),
  headerValue(200),
  { maxKeys: 4 },
);

/** Query strings: well-formed pairs, raw junk, broken %-escapes. */
export const queryString = fc.oneof(
  fc.constant(''),
  fc
    .dictionary(fc.string({ maxLength: 20 }), fc.string({ maxLength: 60 }), { maxKeys: 4 })
    .map((q) => `?${new URLSearchParams(q).toString()}`),
  fc.stringMatching(/^\?[!-~]{0,80}$/),
  fc.constantFrom('?%', '?a=%zz', '?a=%E0%A4%A', '?a[b][c]=1', '?a=1&a=2&a=3', '?__proto__=1'),
);

/** One path segment, encoded as a client would, or raw (broken escapes included). */
export const pathSegment = (maxLength = 80) =>
  fc.oneof(
    fc.string({ unit: 'grapheme', maxLength }).map((s) => encodeURIComponent(s)),
    fc.stringMatching(/^[!-~]*$/, { size: 'small' }).map((s) => s.replace(/[/?#]/g, '')),
    fc.constantFrom('%', '%zz', '%E0%A4%A', '%00', '%2F', '..', '.', '%2e%2e', ';', '~', '%C0%AF'),
  );

/** A Persona-style id: 1-128 letters, digits, _ - or . (edge cases included). */
export const personaIdArb = fc.oneof(
  fc.stringMatching(/^[A-Za-z0-9_.-]{1,128}$/),
  fc.constantFrom('-1', '-1.', '-01', '-0', '0', '1.5', '1e3', '0x1', '-Infinity', '.', '..', '-'),
  fc.constantFrom('NaN', 'Infinity', '_', 'txn_0', 'a'.repeat(128)),
);

export const methods = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

/**
 * Printable ASCII of `min`-`max` characters, drawn from a seeded PRNG rather than character
 * by character: bulk that makes a leak of inputs visible, at a fraction of the cost.
 */
export const bulk = (min: number, max: number) =>
  fc.tuple(fc.nat(), fc.integer({ min, max })).map(([seed, length]) => {
    const random = seededRandom(seed);
    let text = '';
    for (let i = 0; i < length; i++) text += String.fromCharCode(0x20 + Math.floor(random() * 95));
    return text;
  });

/** A key in a JSON object: any string but the one `JSON.parse` does not make an own key. */
export const fieldKey = fc
  .string({ unit: 'binary', maxLength: 40 })
  .filter((k) => k !== '__proto__');

/** How a body goes on the wire; `kind` says whether the server can decode it. */
export type Encoding = {
  header?: string;
  kind: 'ok' | 'unknown' | 'garbage';
  encode: (b: Buffer) => Buffer;
};
const compress: Record<string, (b: Buffer) => Buffer> = {
  gzip: (b) => gzipSync(b),
  deflate: (b) => deflateSync(b),
  // Brotli's default (quality 11) costs the client more than the server's whole answer;
  // the server decodes any quality alike.
  br: (b) => brotliCompressSync(b, { params: { [constants.BROTLI_PARAM_QUALITY]: 4 } }),
  identity: (b) => b,
};
/** `Content-Encoding`: none, a real one (body compressed), an unknown one, or a lie. */
export const contentEncoding: fc.Arbitrary<Encoding> = fc.oneof(
  { weight: 12, arbitrary: fc.constant<Encoding>({ kind: 'ok', encode: (b) => b }) },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom('gzip', 'deflate', 'br', 'identity')
      .map((e): Encoding => ({ header: e, kind: 'ok', encode: compress[e]! })),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom('gzip', 'deflate').map((e): Encoding => ({
      header: e,
      kind: 'garbage',
      encode: (b) => Buffer.concat([Buffer.from('not compressed: '), b]),
    })),
  },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom('compress', 'x-gzip', 'gzip, deflate', '*', 'utf-8')
      .map((e): Encoding => ({ header: e, kind: 'unknown', encode: (b) => b })),
  },
);
