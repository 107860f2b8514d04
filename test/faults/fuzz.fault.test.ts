import { Agent, request, type IncomingHttpHeaders } from 'node:http';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { Queue, type JobType } from 'bullmq';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inflectKeys, personaSignature, type Inflection } from '@pp/persona-sim';
import {
  actionQueuesOf,
  canonicalJson,
  catalog,
  DEFAULT_ROUTING_RULES,
  parseWebhookBody,
} from '@pp/shared';
import { seededRandom, type ServiceProcess } from '@pp/testing';
import { FLEET_TOKEN, FLEET_WEBHOOK_SECRET, startFleet, type Fleet } from './fleet.ts';

/**
 * fast-check at every public endpoint, over real HTTP to the real processes: 10,000 seeded
 * cases per endpoint, each endpoint's property running at the same time as the others' (one
 * request in flight per property, on keep-alive connections). No answer may be 5xx (Redis is
 * up, so not even the documented 503), no process may die, no job may come from a request
 * that was not answered 202 (gateway) or 200 `accepted` (receiver), and each process's live
 * heap, measured after a full GC forced through its inspector, must come back to its level.
 */

const RUNS = 10_000;
const WARM_UP = 200;
/** Reproduce a run: the seed of each property is SEED + its index (printed on failure too). */
const SEED = 20_261_128;
const ADMIN = { user: 'fuzz-admin', password: 'fuzz-admin-password-0123' };

// --- HTTP over keep-alive connections, with nothing added or checked by a client library.

interface Sent {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
  /**
   * A body over the server's limit, refused unread: sent on a connection of its own, and not
   * counted in what the server was given to hold.
   */
  oversized?: boolean;
}

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

const agent = new Agent({ keepAlive: true, maxSockets: 32 });

function sendOnce(base: string, sent: Sent, fresh = sent.oversized === true): Promise<Answer> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: hostname,
        port,
        method: sent.method,
        path: sent.path,
        headers: sent.body ? { ...sent.headers, 'content-length': sent.body.length } : sent.headers,
        agent: fresh ? false : agent,
        timeout: 30_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('no answer within 30 s')));
    req.on('error', (err: NodeJS.ErrnoException) =>
      reject(Object.assign(err, { reusedSocket: req.reusedSocket })),
    );
    // A refused oversized body may be cut off mid-write; the answer still arrives.
    req.end(sent.body);
  });
}

/**
 * One request. A kept-alive socket the server closed just as it was reused fails before the
 * request was read (Node's documented race): that one is sent again on a new connection.
 * Any other failure to answer fails the property.
 */
async function send(base: string, sent: Sent): Promise<Answer> {
  try {
    return await sendOnce(base, sent);
  } catch (err) {
    const { code, reusedSocket } = err as NodeJS.ErrnoException & { reusedSocket?: boolean };
    if (!reusedSocket || (code !== 'ECONNRESET' && code !== 'EPIPE')) throw err;
    return sendOnce(base, sent, true);
  }
}

const bytesOf = (s: Sent) =>
  s.oversized
    ? 0
    : s.path.length +
      Object.entries(s.headers).reduce((n, [k, v]) => n + k.length + v.length, 0) +
      (s.body?.length ?? 0);

// --- Pieces every endpoint's cases are made of.

/** Characters Node sends in a header value: tab, printable ASCII and Latin-1. */
const headerChar = fc
  .oneof(fc.integer({ min: 0x20, max: 0x7e }), fc.integer({ min: 0x80, max: 0xff }), fc.constant(9))
  .map((c) => String.fromCharCode(c));
const headerValue = (maxLength = 300) => fc.string({ unit: headerChar, maxLength });

/** Headers no endpoint asks for; framing headers are left to the client. */
const extraHeaders = fc.dictionary(
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
const queryString = fc.oneof(
  fc.constant(''),
  fc
    .dictionary(fc.string({ maxLength: 20 }), fc.string({ maxLength: 60 }), { maxKeys: 4 })
    .map((q) => `?${new URLSearchParams(q).toString()}`),
  fc.stringMatching(/^\?[!-~]{0,80}$/),
  fc.constantFrom('?%', '?a=%zz', '?a=%E0%A4%A', '?a[b][c]=1', '?a=1&a=2&a=3', '?__proto__=1'),
);

/** One path segment, encoded as a client would, or raw (broken escapes included). */
const pathSegment = (maxLength = 80) =>
  fc.oneof(
    fc.string({ unit: 'grapheme', maxLength }).map((s) => encodeURIComponent(s)),
    fc.stringMatching(/^[!-~]*$/, { size: 'small' }).map((s) => s.replace(/[/?#]/g, '')),
    fc.constantFrom('%', '%zz', '%E0%A4%A', '%00', '%2F', '..', '.', '%2e%2e', ';', '~', '%C0%AF'),
  );

/** A Persona-style id: 1-128 letters, digits, _ - or . (edge cases included). */
const personaIdArb = fc.oneof(
  fc.stringMatching(/^[A-Za-z0-9_.-]{1,128}$/),
  fc.constantFrom('-1', '-1.', '-01', '-0', '0', '1.5', '1e3', '0x1', '-Infinity', '.', '..', '-'),
  fc.constantFrom('NaN', 'Infinity', '_', 'txn_0', 'a'.repeat(128)),
);

const methods = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

/**
 * Printable ASCII of `min`-`max` characters, drawn from a seeded PRNG rather than character
 * by character: bulk that makes a leak of inputs visible, at a fraction of the cost.
 */
const bulk = (min: number, max: number) =>
  fc.tuple(fc.nat(), fc.integer({ min, max })).map(([seed, length]) => {
    const random = seededRandom(seed);
    let text = '';
    for (let i = 0; i < length; i++) text += String.fromCharCode(0x20 + Math.floor(random() * 95));
    return text;
  });

// --- The gateway's POST /v1/transactions: arbitrary and near-valid bodies, odd headers.

const isPersonaId = (s: unknown) =>
  typeof s === 'string' &&
  /^[A-Za-z0-9_.-]{1,128}$/.test(s) &&
  s !== 'NaN' &&
  Number.isNaN(Number(s));

const fieldKey = fc.string({ unit: 'binary', maxLength: 40 }).filter((k) => k !== '__proto__');
const fieldValue = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 100 }),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.oneof(fc.string({ maxLength: 30 }), fc.integer()), { maxLength: 5 }),
  fc.dictionary(fieldKey, fc.oneof(fc.string({ maxLength: 30 }), fc.integer(), fc.boolean()), {
    maxKeys: 5,
  }),
);

/** A request body the gateway must accept: well inside every documented bound. */
const validRequest = fc.record(
  {
    transaction_type_id: personaIdArb.filter(isPersonaId),
    fields: fc.oneof(
      { weight: 7, arbitrary: fc.dictionary(fieldKey, fieldValue, { maxKeys: 10 }) },
      // Bulky but in bounds: what a leak of request bodies would be made of.
      {
        weight: 3,
        arbitrary: bulk(2000, 9000).map((document) => ({ document_front: document })),
      },
    ),
    reference_id: fc.string({ unit: 'binary', minLength: 1, maxLength: 100 }),
    tags: fc.array(fc.string({ unit: 'binary', minLength: 1, maxLength: 50 }), { maxLength: 10 }),
  },
  { requiredKeys: ['transaction_type_id', 'fields'] },
);

const nest = (depth: number): unknown => (depth === 0 ? 'deep' : { n: nest(depth - 1) });

/** Ways to break a valid body, each one a 400. */
const breakage: fc.Arbitrary<(body: Record<string, unknown>) => void> = fc.oneof(
  fc.constant((b: Record<string, unknown>) => delete b.transaction_type_id),
  fc.constant((b: Record<string, unknown>) => delete b.fields),
  fc
    .constantFrom<unknown>('', 'a b', '123', '-1', 'x'.repeat(129), 'a:b', 42, null, ['x'], {})
    .map((v) => (b: Record<string, unknown>) => (b.transaction_type_id = v)),
  fc
    .constantFrom<unknown>([], ['a'], 'x', 1, null, true)
    .map((v) => (b: Record<string, unknown>) => (b.fields = v)),
  fc
    .tuple(
      fc
        .string({ maxLength: 30 })
        .filter(
          (k) =>
            !['transaction_type_id', 'fields', 'reference_id', 'tags', '__proto__'].includes(k),
        ),
      fc.jsonValue({ maxDepth: 1 }),
    )
    .map(
      ([k, v]) =>
        (b: Record<string, unknown>) =>
          (b[k] = v),
    ),
  fc
    .constantFrom<unknown>('', 'r'.repeat(256), 1, null, {}, ['r'])
    .map((v) => (b: Record<string, unknown>) => (b.reference_id = v)),
  fc
    .constantFrom<unknown>('t', [''], Array(51).fill('t'), [1], ['t'.repeat(256)], null, {})
    .map((v) => (b: Record<string, unknown>) => (b.tags = v)),
  fc.constant((b: Record<string, unknown>) => (b.fields = { deep: nest(12) })),
  fc.constant(
    (b: Record<string, unknown>) =>
      (b.fields = Object.fromEntries(Array.from({ length: 600 }, (_, i) => [`f${i}`, i]))),
  ),
  fc.constant((b: Record<string, unknown>) => (b.fields = { long: 'l'.repeat(10_001) })),
  fc.constant((b: Record<string, unknown>) => (b.fields = { ['k'.repeat(10_001)]: 1 })),
);

interface PostBody {
  bytes: Buffer;
  kind: 'valid' | 'invalid' | 'oversize';
  /** Canonical JSON of a valid body: what an Idempotency-Key is bound to. */
  canonical?: string;
}

const textBody = (text: string, kind: PostBody['kind'] = 'invalid'): PostBody => ({
  bytes: Buffer.from(text, 'utf8'),
  kind,
});

const postBody: fc.Arbitrary<PostBody> = fc.oneof(
  {
    weight: 50,
    arbitrary: fc
      .tuple(
        validRequest,
        fc.oneof(
          { weight: 3, arbitrary: fc.constant(undefined) },
          { weight: 2, arbitrary: breakage },
        ),
        fc.boolean(),
      )
      .map(([request, broken, pretty]) => {
        const body: Record<string, unknown> = structuredClone(request);
        broken?.(body);
        const text = JSON.stringify(body, null, pretty ? 2 : undefined);
        return broken
          ? textBody(text)
          : { ...textBody(text, 'valid'), canonical: canonicalJson(body) };
      }),
  },
  // Cut short: never JSON.
  {
    weight: 5,
    arbitrary: fc
      .tuple(validRequest, fc.double({ min: 0, max: 0.999, noNaN: true }))
      .map(([request, at]) => {
        const text = JSON.stringify(request);
        return textBody(text.slice(0, Math.floor(text.length * at)));
      }),
  },
  { weight: 10, arbitrary: fc.jsonValue().map((v) => textBody(JSON.stringify(v) ?? 'null')) },
  { weight: 10, arbitrary: fc.string({ unit: 'binary', maxLength: 2000 }).map((s) => textBody(s)) },
  {
    weight: 5,
    arbitrary: fc
      .uint8Array({ maxLength: 2000 })
      .map((b) => ({ bytes: Buffer.from(b), kind: 'invalid' as const })),
  },
  {
    weight: 1,
    arbitrary: fc.integer({ min: 256 * 1024 + 1, max: 320 * 1024 }).map((size) => ({
      bytes: Buffer.from(
        JSON.stringify({ transaction_type_id: 'txntp_x', fields: { a: 'x'.repeat(size) } }),
      ),
      kind: 'oversize' as const,
    })),
  },
);

const bearer = `Bearer ${FLEET_TOKEN}`;
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

type Encoding = {
  header?: string;
  kind: 'ok' | 'unknown' | 'garbage';
  encode: (b: Buffer) => Buffer;
};
const compress: Record<string, (b: Buffer) => Buffer> = {
  gzip: (b) => gzipSync(b),
  deflate: (b) => deflateSync(b),
  br: (b) => brotliCompressSync(b),
  identity: (b) => b,
};
/** `Content-Encoding`: none, a real one (body compressed), an unknown one, or a lie. */
const contentEncoding: fc.Arbitrary<Encoding> = fc.oneof(
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

const idempotencyHeader = fc.oneof(
  { weight: 5, arbitrary: fc.constant(undefined) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 19 }).map((i) => `fuzz-key-${i}`) },
  { weight: 2, arbitrary: fc.stringMatching(/^[\x21-\x7e]{1,255}$/) },
  { weight: 1, arbitrary: fc.oneof(headerValue(300), fc.constantFrom('', 'a b', 'k'.repeat(256))) },
);

interface PostCase {
  sent: Sent;
  authorized: boolean;
  json: boolean | null;
  encoding: Encoding['kind'];
  /** `key`: the Idempotency-Key as the server reads it (trimmed), when it is a valid one. */
  idem: { valid: boolean; key?: string };
  body: PostBody;
}

const postCase: fc.Arbitrary<PostCase> = fc
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
function expectedPostStatus(c: PostCase): number | 'accept' | 'any' {
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

// --- Bull Board: its page, its static files and every API route, with arbitrary basic auth.

const basic = (credentials: string) => `Basic ${Buffer.from(credentials).toString('base64')}`;

interface BoardCase {
  sent: Sent;
  authorized: boolean;
}

function boardCase(known: readonly string[]): fc.Arbitrary<BoardCase> {
  const queueNames = [
    ...Object.values(catalog).map((spec) => spec.name),
    ...actionQueuesOf(DEFAULT_ROUTING_RULES),
  ];
  const queue = fc.oneof(fc.constantFrom(...queueNames), pathSegment(60));
  const jobId = fc.oneof(fc.constantFrom(...known), pathSegment(60));
  const state = fc.oneof(
    fc.constantFrom('latest', 'active', 'waiting', 'completed', 'failed', 'delayed', 'paused'),
    pathSegment(20),
  );
  const listQuery = fc
    .record(
      {
        activeQueue: fc.oneof(fc.constantFrom(...queueNames), fc.string({ maxLength: 30 })),
        status: fc.oneof(state, fc.string({ maxLength: 20 })),
        page: fc.oneof(fc.integer({ min: -3, max: 50 }).map(String), fc.string({ maxLength: 10 })),
        jobsPerPage: fc.oneof(
          fc.integer({ min: -3, max: 50 }).map(String),
          fc.string({ maxLength: 10 }),
        ),
      },
      { requiredKeys: [] },
    )
    .map((q) => `?${new URLSearchParams(q).toString()}`);
  const api = fc.oneof(
    fc.constantFrom('', '/', '/api/redis/stats', '/api/job-schedulers', '/api/metrics/latency'),
    fc.constantFrom('/api/queues/pause', '/api/queues/resume'),
    fc.oneof(queryString, listQuery).map((q) => `/api/queues${q}`),
    fc
      .tuple(
        queue,
        fc.constantFrom(
          'metrics',
          'default-job-options',
          'workers',
          'rate-limit',
          'rate-limit/release',
          'job-data-schema',
          'add',
          'promote',
          'pause',
          'resume',
          'concurrency',
          'empty',
          'obliterate',
        ),
      )
      .map(([q, a]) => `/api/queues/${q}/${a}`),
    fc
      .tuple(
        queue,
        jobId,
        fc.constantFrom(
          '',
          '/logs',
          '/flow',
          '/retry',
          '/clean',
          '/promote',
          '/update-data',
          '/delay',
          '/priority',
          '/remove-unprocessed-children',
        ),
      )
      .map(([q, j, a]) => `/api/queues/${q}/${j}${a}`),
    fc
      .tuple(queue, fc.constantFrom('retry', 'clean'), state)
      .map(([q, a, s]) => `/api/queues/${q}/${a}/${s}`),
    fc
      .tuple(queue, pathSegment(30), fc.constantFrom('', '/remove', '/run'))
      .map(([q, s, a]) => `/api/queues/${q}/job-schedulers/${s}${a}`),
    pathSegment(200).map((s) => `/static/${s}`),
    pathSegment(200).map((s) => `/${s}`),
  );
  const login = `${ADMIN.user}:${ADMIN.password}`;
  const auth = fc.oneof(
    {
      weight: 1,
      arbitrary: fc
        .constantFrom(basic(login), basic(login).toLowerCase().slice(0, 6) + basic(login).slice(6))
        .map((header) => ({ header, ok: true })),
    },
    {
      weight: 3,
      arbitrary: fc
        .oneof(
          fc.constant(undefined),
          headerValue(),
          fc.string({ unit: 'binary', maxLength: 100 }).map(basic),
          fc.string({ unit: 'binary', maxLength: 40 }).map((p) => basic(`${ADMIN.user}:${p}x`)),
          fc.constantFrom(
            'Basic',
            'Basic !!!',
            bearer,
            basic(`${ADMIN.password}:${ADMIN.user}`),
            basic(`${login}\n`),
            basic(ADMIN.password),
          ),
        )
        .map((header) => ({ header, ok: false })),
    },
  );
  return fc
    .record({
      root: fc.constantFrom('/admin/queues', '/ADMIN/Queues'),
      api,
      auth,
      method: fc.oneof(
        { weight: 6, arbitrary: fc.constant('GET') },
        { weight: 1, arbitrary: fc.constantFrom('HEAD', 'PUT', 'POST', 'PATCH', 'DELETE') },
      ),
      body: fc.option(fc.jsonValue({ maxDepth: 2 }), { nil: undefined }),
      extra: extraHeaders,
    })
    .map(({ root, api: path, auth: a, method, body, extra }) => {
      const headers: Record<string, string> = { ...extra };
      if (a.header !== undefined) headers.authorization = a.header;
      const withBody = body !== undefined && method !== 'GET' && method !== 'HEAD';
      if (withBody) headers['content-type'] = 'application/json';
      return {
        sent: {
          method,
          path: `${root}${path}`,
          headers,
          ...(withBody ? { body: Buffer.from(JSON.stringify(body) ?? 'null') } : {}),
        },
        authorized: a.ok,
      };
    });
}

// --- The receiver: bodies (arbitrary, near-valid Persona events), signatures, encodings.

/** Persona's ids and the ones it never sends (':' and integers break job ids). */
const eventIdArb = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 0, max: 49 }).map((i) => `evt_fuzz_${i}`) },
  { weight: 4, arbitrary: personaIdArb },
  { weight: 1, arbitrary: fc.string({ maxLength: 140 }) },
);

/** A path in a (kebab-case) event document, and what to put there (undefined: delete it). */
const eventPaths = [
  ['data'],
  ['data', 'type'],
  ['data', 'id'],
  ['data', 'attributes'],
  ['data', 'attributes', 'name'],
  ['data', 'attributes', 'created-at'],
  ['data', 'attributes', 'payload'],
  ['data', 'attributes', 'payload', 'data'],
  ['data', 'attributes', 'payload', 'data', 'id'],
  ['data', 'attributes', 'payload', 'data', 'type'],
  ['data', 'attributes', 'payload', 'data', 'attributes'],
  ['data', 'attributes', 'payload', 'data', 'attributes', 'status'],
  ['data', 'attributes', 'payload', 'data', 'attributes', 'tags'],
  ['data', 'attributes', 'payload', 'data', 'relationships'],
  ['data', 'attributes', 'payload', 'data', 'relationships', 'related-objects', 'data'],
  ['data', 'attributes', 'payload', 'data', 'relationships', 'transaction', 'data'],
];

function setPath(doc: Record<string, unknown>, path: string[], value: unknown): void {
  let at: unknown = doc;
  for (const key of path.slice(0, -1)) {
    if (at === null || typeof at !== 'object') return;
    at = (at as Record<string, unknown>)[key];
  }
  if (at === null || typeof at !== 'object') return;
  const last = path[path.length - 1]!;
  if (value === undefined) delete (at as Record<string, unknown>)[last];
  else (at as Record<string, unknown>)[last] = value;
}

const ref = fc.record({
  type: fc.constantFrom('verification/database', 'report/watchlist', 'account', 'transaction', 'x'),
  id: personaIdArb,
});

/** A Persona webhook body as Persona would send it, in any key casing, maybe broken once. */
/** Mostly what Persona sends, sometimes anything. */
const mostly = <T, U>(usual: fc.Arbitrary<T>, odd: fc.Arbitrary<U>) =>
  fc.oneof({ weight: 8, arbitrary: usual }, { weight: 1, arbitrary: odd });

const nearValidEvent = fc
  .record({
    style: fc.constantFrom<Inflection>('kebab', 'snake', 'camel'),
    id: eventIdArb,
    name: mostly(
      fc.constantFrom(
        'transaction.created',
        'transaction.status-updated',
        'verification.passed',
        'report/watchlist.ready',
        'account.created',
        'inquiry.completed',
      ),
      fc.string({ maxLength: 250 }),
    ),
    createdAt: mostly(
      fc
        .date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true })
        .map((d) => d.toISOString()),
      fc.oneof(
        fc.constantFrom('2026-01-01', '0', 'now', '2026-13-45T99:99:99Z', ''),
        fc.string({ maxLength: 40 }),
      ),
    ),
    object: fc.option(
      fc.record({
        type: mostly(
          fc.constantFrom('transaction', 'verification/database', 'report/watchlist', 'account'),
          fc.string({ maxLength: 250 }),
        ),
        id: mostly(personaIdArb, fc.string({ maxLength: 140 })),
        status: fc.option(
          mostly(
            fc.constantFrom('approved', 'declined', 'needs_review', 'created', 'passed'),
            fc.string({ maxLength: 250 }),
          ),
        ),
        referenceId: fc.option(fc.string({ unit: 'binary', maxLength: 1100 })),
        tags: fc.option(
          fc.array(
            fc.oneof(
              fc.string({ maxLength: 60 }),
              fc.constant(`persona-pipeline:req_${'ab'.repeat(16)}`),
              fc.jsonValue({ maxDepth: 1 }),
            ),
            { maxLength: 6 },
          ),
        ),
        updatedAt: fc.option(fc.string({ maxLength: 40 })),
        fields: fc.dictionary(fieldKey, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 8 }),
        transaction: fc.option(ref),
        related: fc.oneof(
          { weight: 9, arbitrary: fc.array(ref, { maxLength: 5 }) },
          { weight: 1, arbitrary: fc.array(ref, { minLength: 150, maxLength: 260 }) },
        ),
      }),
    ),
    breakage: fc.oneof(
      { weight: 3, arbitrary: fc.constant(null) },
      {
        weight: 1,
        arbitrary: fc.tuple(
          fc.constantFrom(...eventPaths),
          fc.oneof(fc.constant(undefined), fc.jsonValue({ maxDepth: 2 })),
        ),
      },
    ),
  })
  .map(({ style, id, name, createdAt, object, breakage: broken }) => {
    const doc: Record<string, unknown> = {
      data: {
        type: 'event',
        id,
        attributes: {
          name,
          'created-at': createdAt,
          payload: {
            data: object && {
              type: object.type,
              id: object.id,
              attributes: {
                status: object.status,
                'reference-id': object.referenceId,
                tags: object.tags,
                'updated-at': object.updatedAt,
                fields: object.fields,
              },
              relationships: {
                transaction: { data: object.transaction },
                'related-objects': { data: object.related },
              },
            },
            included: [],
          },
        },
      },
    };
    if (broken) setPath(doc, broken[0], broken[1]);
    return JSON.stringify(inflectKeys(doc, style));
  });

const OVERSIZE = 1024 * 1024;
const webhookBody: fc.Arbitrary<Buffer> = fc.oneof(
  { weight: 60, arbitrary: nearValidEvent.map((s) => Buffer.from(s)) },
  {
    weight: 5,
    arbitrary: fc
      .tuple(nearValidEvent, bulk(5000, 60_000))
      .map(([s, bulk]) =>
        Buffer.from(s.replace(/"data":\{/, `"bulk":${JSON.stringify(bulk)},"data":{`)),
      ),
  },
  { weight: 10, arbitrary: fc.jsonValue().map((v) => Buffer.from(JSON.stringify(v) ?? '')) },
  {
    weight: 10,
    arbitrary: fc.string({ unit: 'binary', maxLength: 2000 }).map((s) => Buffer.from(s)),
  },
  { weight: 10, arbitrary: fc.uint8Array({ maxLength: 4096 }).map((b) => Buffer.from(b)) },
  {
    weight: 1,
    arbitrary: fc
      .integer({ min: OVERSIZE + 1, max: OVERSIZE + 64 * 1024 })
      .map((n) => Buffer.alloc(n, 'x')),
  },
);

const now = () => Math.floor(Date.now() / 1000);
const hex64 = fc.stringMatching(/^[0-9a-f]{64}$/);
/** A `Persona-Signature` that must not pass, for a given body. */
const badSignature: fc.Arbitrary<(raw: Buffer) => string | undefined> = fc.oneof(
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
const receiverContent = fc
  .tuple(fc.option(headerValue(100), { nil: undefined }), contentEncoding)
  .map(([type, encoding]) => ({
    headers: {
      ...(type !== undefined ? { 'content-type': type } : {}),
      ...(encoding.header !== undefined ? { 'content-encoding': encoding.header } : {}),
    },
    encode: encoding.encode,
    refusal: encoding.kind === 'unknown' ? 415 : encoding.kind === 'garbage' ? 400 : undefined,
  }));

// --- Memory: the live heap after a full GC, through the process's inspector.

/** `Runtime.getHeapUsage` after two full collections, via the process's inspector (CDP). */
async function liveHeapBytes(proc: ServiceProcess): Promise<number> {
  const line = await proc.waitForLine(/Debugger listening on ws:\/\//);
  const url = /ws:\/\/\S+/.exec(line)![0];
  const ws = new WebSocket(url);
  await new Promise<void>((resolve, reject) => {
    ws.onopen = () => resolve();
    ws.onerror = () => reject(new Error(`inspector at ${url} refused the connection`));
  });
  const waiting = new Map<number, (result: unknown) => void>();
  ws.onmessage = (m: MessageEvent) => {
    const msg = JSON.parse(String(m.data)) as { id?: number; result?: unknown };
    if (msg.id !== undefined) waiting.get(msg.id)?.(msg.result);
  };
  let id = 0;
  const call = (method: string) =>
    new Promise<unknown>((resolve, reject) => {
      const mine = ++id;
      const timer = setTimeout(() => reject(new Error(`${method}: no answer`)), 30_000);
      waiting.set(mine, (result) => {
        clearTimeout(timer);
        resolve(result);
      });
      ws.send(JSON.stringify({ id: mine, method }));
    });
  try {
    await call('HeapProfiler.collectGarbage');
    await call('HeapProfiler.collectGarbage');
    return ((await call('Runtime.getHeapUsage')) as { usedSize: number }).usedSize;
  } finally {
    ws.close();
  }
}

async function rssBytes(base: string): Promise<number> {
  const text = (await send(base, { method: 'GET', path: '/metrics', headers: {} })).body;
  return Number(/^process_resident_memory_bytes(?:\{[^}]*\})? (\S+)/m.exec(text)?.[1]);
}

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

// --- Running properties side by side.

/**
 * Runs every property at once (each is sequential inside), then fails with every
 * counterexample fast-check found, not just the first.
 */
async function runAll(
  properties: Record<string, (numRuns: number, seed: number) => Promise<void>>,
  numRuns: number,
  seedOffset = 0,
) {
  const names = Object.keys(properties);
  const results = await Promise.allSettled(
    names.map((name, i) => properties[name]!(numRuns, SEED + seedOffset + i)),
  );
  const failures = results.flatMap((r, i) =>
    r.status === 'rejected' ? [`${names[i]}: ${(r.reason as Error).message}`] : [],
  );
  expect(failures).toEqual([]);
}

/** Every job of a queue, whatever its state. */
const ALL_STATES: JobType[] = [
  'active',
  'completed',
  'delayed',
  'failed',
  'prioritized',
  'wait',
  'waiting-children',
];

async function jobIds(fleet: Fleet, queueName: string): Promise<Set<string>> {
  const queue = new Queue(queueName, { connection: fleet.client, prefix: fleet.prefix });
  try {
    const jobs = await queue.getJobs(ALL_STATES);
    return new Set(jobs.map((j) => j.id!));
  } finally {
    await queue.close();
  }
}

const errorLines = (proc: ServiceProcess) =>
  proc.logs.json().filter((l) => typeof l.level === 'number' && l.level >= 50);

describe('fault: fuzzing every public endpoint over real HTTP', () => {
  let fleet: Fleet;
  beforeAll(async () => {
    fleet = await startFleet({
      // No workers: every job the endpoints make stays in its queue, to be counted.
      workers: 0,
      // Durability is not under test here: no fsync per write, so the run stays short.
      redisArgs: ['--appendfsync', 'no'],
      gatewayEnv: {
        ADMIN_USERNAME: ADMIN.user,
        ADMIN_PASSWORD: ADMIN.password,
        // The inspector forces a full GC before each memory reading; loopback, any port.
        NODE_OPTIONS: '--inspect=127.0.0.1:0',
      },
      receiverEnv: { NODE_OPTIONS: '--inspect=127.0.0.1:0' },
    });
  });
  afterAll(async () => {
    await fleet?.close();
    agent.destroy();
  });

  // The two run side by side (one process each), as the properties inside each do.
  it.concurrent(
    `When each gateway endpoint takes ${RUNS} fuzzed requests (POST and GET /v1/transactions, /healthz, /readyz, /metrics, Bull Board), then none is answered 5xx, only the 202s made creation jobs, the gateway lives on and its heap returns to its level`,
    async () => {
      const f = fleet;
      const base = f.gatewayUrl;
      let inputBytes = 0;
      const go = async (sent: Sent) => {
        inputBytes += bytesOf(sent);
        return send(base, sent);
      };

      // Requests of ours that exist, for GET and for Bull Board's job views.
      const known: string[] = [];
      for (let i = 0; i < 10; i++) {
        const res = await f.post({ transaction_type_id: 'txntp_fuzz', fields: { i } });
        expect(res.status).toBe(202);
        known.push(((await res.json()) as { id: string }).id);
      }
      /** Ids answered 202 as new requests, and those answered 202 as replays. */
      const accepted = new Set<string>(known);
      const replayed = new Set<string>();
      const keyUses = new Map<string, { id: string; body: string }>();

      const properties = {
        'POST /v1/transactions': (numRuns: number, seed: number) =>
          fc.assert(
            fc.asyncProperty(postCase, async (c) => {
              const res = await go(c.sent);
              expect(res.status, res.body).toBeLessThan(500);
              const expected = expectedPostStatus(c);
              if (res.status === 202) {
                const { id } = JSON.parse(res.body) as { id: string };
                const replay = res.headers['idempotent-replayed'] === 'true';
                if (c.idem.key !== undefined) {
                  const before = keyUses.get(c.idem.key);
                  if (before) expect({ replay, id }).toEqual({ replay: true, id: before.id });
                  else keyUses.set(c.idem.key, { id, body: c.body.canonical! });
                }
                (replay ? replayed : accepted).add(id);
              }
              if (expected === 'accept') {
                const before = c.idem.key === undefined ? undefined : keyUses.get(c.idem.key);
                const conflict = before !== undefined && before.body !== c.body.canonical;
                expect(res.status, res.body).toBe(conflict ? 422 : 202);
              } else if (expected !== 'any') {
                expect(res.status, res.body).toBe(expected);
              }
            }),
            { numRuns, seed, includeErrorInReport: true },
          ),
        'GET /v1/transactions/:id': (numRuns: number, seed: number) =>
          fc.assert(
            fc.asyncProperty(
              fc.oneof(
                { weight: 6, arbitrary: pathSegment(200) },
                {
                  weight: 2,
                  arbitrary: bulk(1000, 3000).map((s) => encodeURIComponent(s)),
                },
                { weight: 1, arbitrary: fc.constantFrom(...known) },
                { weight: 1, arbitrary: fc.stringMatching(/^req_[a-f0-9]{32}$/) },
              ),
              fc.constantFrom('', '/', '/extra', '?'),
              queryString,
              fc.oneof(
                { weight: 5, arbitrary: fc.constant(`Bearer ${FLEET_TOKEN}`) },
                { weight: 1, arbitrary: headerValue() },
              ),
              extraHeaders,
              async (segment, suffix, query, authorization, extra) => {
                const path = `/v1/transactions/${segment}${suffix === '?' ? query || '?' : suffix}`;
                const res = await go({ method: 'GET', path, headers: { ...extra, authorization } });
                expect(res.status, res.body).toBeLessThan(500);
                if (authorization !== `Bearer ${FLEET_TOKEN}`) return;
                let id: string | null = null;
                try {
                  id = decodeURIComponent(segment);
                } catch {
                  // A broken %-escape: the request is malformed.
                }
                const ours = id !== null && accepted.has(id);
                if (segment === '' || suffix === '/extra') expect(res.status).toBe(404);
                else if (id === null) expect(res.status, res.body).toBe(400);
                else expect(res.status, res.body).toBe(ours ? 200 : 404);
              },
            ),
            { numRuns, seed, includeErrorInReport: true },
          ),
        ...Object.fromEntries(
          (['/healthz', '/readyz', '/metrics'] as const).map((route) => [
            `${route}`,
            (numRuns: number, seed: number) =>
              fc.assert(
                fc.asyncProperty(
                  fc.oneof(
                    { weight: 4, arbitrary: fc.constant('GET') },
                    { weight: 1, arbitrary: fc.constantFrom(...methods) },
                  ),
                  fc.constantFrom(
                    route,
                    route.toUpperCase(),
                    `${route}/`,
                    `${route}/x`,
                    `/${route}`,
                  ),
                  queryString,
                  extraHeaders,
                  fc.option(fc.uint8Array({ maxLength: 512 }), { nil: undefined }),
                  async (method, path, query, extra, body) => {
                    const res = await go({
                      method,
                      path: `${path}${query}`,
                      headers: extra,
                      ...(body && method !== 'GET' && method !== 'HEAD'
                        ? { body: Buffer.from(body) }
                        : {}),
                    });
                    expect(res.status, res.body).toBeLessThan(500);
                    const exact = [route, route.toUpperCase(), `${route}/`].includes(path);
                    if (exact && (method === 'GET' || method === 'HEAD')) {
                      expect(res.status, res.body).toBe(200);
                    }
                  },
                ),
                { numRuns, seed, includeErrorInReport: true },
              ),
          ]),
        ),
        'Bull Board /admin/queues': (numRuns: number, seed: number) =>
          fc.assert(
            fc.asyncProperty(boardCase(known), async (c) => {
              const res = await go(c.sent);
              expect(res.status, res.body).toBeLessThan(500);
              if (!c.authorized) expect(res.status, res.body).toBe(401);
              // The board is read-only: nothing it is asked to change changes (pausing every
              // writable queue is a no-op on a board without one).
              if (
                c.authorized &&
                !['GET', 'HEAD'].includes(c.sent.method) &&
                !/\/api\/queues\/(pause|resume)$/.test(c.sent.path.split('?')[0]!)
              ) {
                expect(
                  res.status,
                  `${c.sent.method} ${c.sent.path}: ${res.body}`,
                ).toBeGreaterThanOrEqual(400);
              }
            }),
            { numRuns, seed, includeErrorInReport: true },
          ),
      };

      // Warm up (JIT, caches, every label set of the metrics), then the level to come back to.
      await runAll(properties, WARM_UP, 100);
      const heapBefore = await liveHeapBytes(f.gateway);
      const rssBefore = await rssBytes(base);
      inputBytes = 0;

      await runAll(properties, RUNS);

      // Alive and well.
      expect(f.gateway.proc.exitCode).toBeNull();
      expect(f.gateway.proc.signalCode).toBeNull();
      expect((await send(base, { method: 'GET', path: '/readyz', headers: {} })).status).toBe(200);
      expect(errorLines(f.gateway)).toEqual([]);

      // Exactly the requests answered 202 (not as a replay) have a creation job; replays
      // point at one of them; the read-only board changed nothing.
      const jobs = await jobIds(f, catalog.transactionCreate.name);
      expect(jobs.size).toBe(accepted.size);
      expect([...accepted].filter((id) => !jobs.has(id))).toEqual([]);
      expect([...replayed].filter((id) => !accepted.has(id))).toEqual([]);

      // Memory back to its level: a leak of even a tenth of what was sent would show.
      const heapAfter = await liveHeapBytes(f.gateway);
      const rssAfter = await rssBytes(base);
      console.info(
        `gateway: ${mb(inputBytes)} sent in ${accepted.size} accepted and many refused requests; live heap ${mb(heapBefore)} -> ${mb(heapAfter)}; rss ${mb(rssBefore)} -> ${mb(rssAfter)}`,
      );
      expect(inputBytes).toBeGreaterThan(20 * 1024 * 1024);
      expect(heapAfter - heapBefore).toBeLessThan(inputBytes / 10);
      expect(rssAfter - rssBefore).toBeLessThan(Math.max(inputBytes, 256 * 1024 * 1024));
    },
    600_000,
  );

  it.concurrent(
    `When the webhook receiver takes ${RUNS} deliveries with arbitrary signatures and ${RUNS} validly signed arbitrary and near-valid bodies, then none is answered 5xx, only accepted events made jobs, the receiver lives on and its heap returns to its level`,
    async () => {
      const f = fleet;
      const base = f.receiverUrl;
      let inputBytes = 0;
      const go = async (sent: Sent) => {
        inputBytes += bytesOf(sent);
        return send(base, sent);
      };
      const acceptedEvents = new Set<string>();
      let ok = 0;

      const properties = {
        'POST /webhooks/persona, signature arbitrary': (numRuns: number, seed: number) =>
          fc.assert(
            fc.asyncProperty(
              webhookBody,
              badSignature,
              receiverContent,
              extraHeaders,
              async (body, signature, content, extra) => {
                const headers: Record<string, string> = { ...extra, ...content.headers };
                const header = signature(body);
                if (header !== undefined) headers['persona-signature'] = header;
                const raw = content.encode(body);
                const res = await go({
                  method: 'POST',
                  path: '/webhooks/persona',
                  headers,
                  body: raw,
                  oversized: body.length > OVERSIZE,
                });
                expect(res.status, res.body).toBeLessThan(500);
                expect(res.status, res.body).toBe(
                  content.refusal ?? (body.length > OVERSIZE ? 413 : 401),
                );
              },
            ),
            { numRuns, seed, includeErrorInReport: true },
          ),
        'POST /webhooks/persona, validly signed': (numRuns: number, seed: number) =>
          fc.assert(
            fc.asyncProperty(webhookBody, fc.boolean(), extraHeaders, async (body, junk, extra) => {
              const signature = personaSignature(body, [FLEET_WEBHOOK_SECRET], now());
              const res = await go({
                method: 'POST',
                path: '/webhooks/persona',
                headers: {
                  ...extra,
                  'content-type': 'application/json',
                  // A set that matches nothing before the good one, as during a rotation.
                  'persona-signature': junk ? `t=1,v1=${'0'.repeat(64)} ${signature}` : signature,
                },
                body,
                oversized: body.length > OVERSIZE,
              });
              expect(res.status, res.body).toBeLessThan(500);
              if (body.length > OVERSIZE) {
                expect(res.status).toBe(413);
                return;
              }
              const parsed = parseWebhookBody(body);
              if (parsed.kind === 'not_an_event') {
                expect(res.status, res.body).toBe(400);
                return;
              }
              const { eventId } = parsed.summary;
              const duplicate = acceptedEvents.has(eventId);
              expect({ status: res.status, body: JSON.parse(res.body) as unknown }).toEqual({
                status: 200,
                body: { status: duplicate ? 'duplicate' : 'accepted' },
              });
              ok++;
              acceptedEvents.add(eventId);
            }),
            { numRuns, seed, includeErrorInReport: true },
          ),
        // The same handlers as the gateway's (which get 10,000 cases each): one property here.
        'receiver /healthz, /readyz, /metrics and unknown routes': (
          numRuns: number,
          seed: number,
        ) =>
          fc.assert(
            fc.asyncProperty(
              fc.constantFrom(...methods),
              fc.constantFrom('/healthz', '/readyz', '/metrics'),
              fc.constantFrom('', '/', '/x'),
              queryString,
              extraHeaders,
              async (method, route, suffix, query, extra) => {
                const res = await go({ method, path: `${route}${suffix}${query}`, headers: extra });
                expect(res.status, res.body).toBeLessThan(500);
                if (suffix !== '/x' && (method === 'GET' || method === 'HEAD')) {
                  expect(res.status).toBe(200);
                }
              },
            ),
            { numRuns, seed, includeErrorInReport: true },
          ),
      };

      await runAll(properties, WARM_UP, 200);
      const heapBefore = await liveHeapBytes(f.receiver);
      const rssBefore = await rssBytes(base);
      inputBytes = 0;

      await runAll(properties, RUNS, 10);

      expect(f.receiver.proc.exitCode).toBeNull();
      expect(f.receiver.proc.signalCode).toBeNull();
      expect((await send(base, { method: 'GET', path: '/readyz', headers: {} })).status).toBe(200);
      expect(errorLines(f.receiver)).toEqual([]);

      // One job per accepted event, none for a duplicate or a refusal.
      const jobs = await jobIds(f, catalog.personaEvents.name);
      expect(ok).toBeGreaterThan(acceptedEvents.size);
      expect(jobs).toEqual(acceptedEvents);

      const heapAfter = await liveHeapBytes(f.receiver);
      const rssAfter = await rssBytes(base);
      console.info(
        `receiver: ${mb(inputBytes)} sent, ${acceptedEvents.size} events accepted; live heap ${mb(heapBefore)} -> ${mb(heapAfter)}; rss ${mb(rssBefore)} -> ${mb(rssAfter)}`,
      );
      expect(inputBytes).toBeGreaterThan(20 * 1024 * 1024);
      expect(heapAfter - heapBefore).toBeLessThan(inputBytes / 10);
      expect(rssAfter - rssBefore).toBeLessThan(Math.max(inputBytes, 256 * 1024 * 1024));
    },
    600_000,
  );
});
