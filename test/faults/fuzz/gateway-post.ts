import fc from 'fast-check';
import { FLEET_TOKEN } from '../fleet.ts';
import { postBody, type PostBody } from './gateway-body.ts';
import type { Sent } from './http.ts';
import { bearer, contentEncoding, extraHeaders, headerValue, type Encoding } from './pieces.ts';

/** The gateway's POST /v1/transactions: bodies with odd headers, and the answer each must get. */

const postAuth = fc.oneof(
  {
    weight: 8,
    arbitrary: fc
      .constantFrom(bearer, `bearer ${FLEET_TOKEN}`, `Bearer   ${FLEET_TOKEN}  `)
      .map((header) => ({ header, ok: true })),
  },
  {
    weight: 2,
    arbitrary: fc
      .oneof(
        fc.constant(undefined),
        headerValue(),
        fc.constantFrom(
          `${bearer}x`,
          `Basic ${FLEET_TOKEN}`,
          FLEET_TOKEN,
          'Bearer',
          `${bearer} x`,
          `Bearer ${FLEET_TOKEN.toUpperCase()}`,
        ),
      )
      .map((header) => ({ header, ok: false })),
  },
);

/** `json`: the body is sent as JSON (true), as something else (false), or who can say (null). */
const postContentType = fc.oneof(
  {
    weight: 8,
    arbitrary: fc
      .constantFrom(
        'application/json',
        'application/json; charset=utf-8',
        'Application/JSON',
        'application/json;charset=UTF-8',
      )
      .map((header) => ({ header, json: true })),
  },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom(
        undefined,
        'text/plain',
        'application/x-www-form-urlencoded',
        'multipart/form-data; boundary=x',
        'application/vnd.api+json',
        'application/jsonx',
      )
      .map((header) => ({ header, json: false })),
  },
  {
    weight: 1,
    arbitrary: fc
      .oneof(
        headerValue(100),
        fc.constantFrom(
          'application/json; charset=latin1',
          'application/json; charset=utf-16',
          'application/json;;',
          'application/',
        ),
      )
      .map((header) => ({ header, json: null as boolean | null })),
  },
);

const idempotencyHeader = fc.oneof(
  { weight: 5, arbitrary: fc.constant(undefined) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 19 }).map((i) => `fuzz-key-${i}`) },
  { weight: 2, arbitrary: fc.stringMatching(/^[\x21-\x7e]{1,255}$/) },
  { weight: 1, arbitrary: fc.oneof(headerValue(300), fc.constantFrom('', 'a b', 'k'.repeat(256))) },
);

export interface PostCase {
  sent: Sent;
  authorized: boolean;
  json: boolean | null;
  encoding: Encoding['kind'];
  /** `key`: the Idempotency-Key as the server reads it (trimmed), when it is a valid one. */
  idem: { valid: boolean; key?: string };
  body: PostBody;
}

export const postCase: fc.Arbitrary<PostCase> = fc
  .record({
    auth: postAuth,
    type: postContentType,
    encoding: contentEncoding,
    idem: idempotencyHeader,
    body: postBody,
    extra: extraHeaders,
  })
  .map(({ auth, type, encoding, idem, body, extra }) => {
    const headers: Record<string, string> = { ...extra };
    if (auth.header !== undefined) headers.authorization = auth.header;
    if (type.header !== undefined) headers['content-type'] = type.header;
    if (encoding.header !== undefined) headers['content-encoding'] = encoding.header;
    if (idem !== undefined) headers['idempotency-key'] = idem;
    const trimmed = idem?.replace(/^[ \t]+|[ \t]+$/g, '');
    const validKey = trimmed === undefined || /^[\x21-\x7e]{1,255}$/.test(trimmed);
    return {
      sent: {
        method: 'POST',
        path: '/v1/transactions',
        headers,
        body: encoding.encode(body.bytes),
        oversized: body.kind === 'oversize',
      },
      authorized: auth.ok,
      json: type.json,
      encoding: encoding.kind,
      idem: { valid: validKey, ...(validKey && trimmed !== undefined ? { key: trimmed } : {}) },
      body,
    };
  });

/**
 * What the gateway must answer, in the order it checks: the token, then (for a JSON body)
 * reading it, then the content type, the Idempotency-Key and the body's fields. `accept` is
 * 202 (or 422 for a key already bound to another body); `any` is only "not 5xx".
 */
export function expectedPostStatus(c: PostCase): number | 'accept' | 'any' {
  if (!c.authorized) return 401;
  if (c.json === null) return 'any';
  if (c.json) {
    if (c.encoding === 'unknown') return 415;
    if (c.encoding === 'garbage') return 400;
    if (c.body.kind === 'oversize') return 413;
  }
  if (!c.json) return 415;
  if (c.body.kind !== 'valid') return 400;
  if (!c.idem.valid) return 400;
  return 'accept';
}
