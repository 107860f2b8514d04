import fc from 'fast-check';
import type { Sent } from './http.ts';
import {
  bearer,
  bulk,
  extraHeaders,
  headerValue,
  methods,
  pathSegment,
  queryString,
} from './pieces.ts';

/** The reads: the gateway's GET /v1/transactions/:id, and /healthz, /readyz and /metrics. */

interface LookupCase {
  sent: Sent;
  authorized: boolean;
  /** The segment after /v1/transactions/, as sent, and what follows it. */
  segment: string;
  suffix: '' | '/' | '/extra' | '?';
  /** The id the segment decodes to; null for a broken %-escape (a malformed request). */
  id: string | null;
}

const decoded = (segment: string) => {
  try {
    return decodeURIComponent(segment);
  } catch {
    return null;
  }
};

/** Ids of every shape (some of them `known`, requests of ours), odd suffixes and queries. */
export const lookupCase = (known: readonly string[]): fc.Arbitrary<LookupCase> =>
  fc
    .tuple(
      fc.oneof(
        { weight: 6, arbitrary: pathSegment(200) },
        {
          weight: 2,
          arbitrary: bulk(1000, 3000).map((s) => encodeURIComponent(s)),
        },
        { weight: 1, arbitrary: fc.constantFrom(...known) },
        { weight: 1, arbitrary: fc.stringMatching(/^req_[a-f0-9]{32}$/) },
      ),
      fc.constantFrom('' as const, '/' as const, '/extra' as const, '?' as const),
      queryString,
      fc.oneof(
        { weight: 5, arbitrary: fc.constant(bearer) },
        { weight: 1, arbitrary: headerValue() },
      ),
      extraHeaders,
    )
    .map(([segment, suffix, query, authorization, extra]) => ({
      sent: {
        method: 'GET',
        path: `/v1/transactions/${segment}${suffix === '?' ? query || '?' : suffix}`,
        headers: { ...extra, authorization },
      },
      authorized: authorization === bearer,
      segment,
      suffix,
      id: decoded(segment),
    }));

interface ProbeCase {
  sent: Sent;
  /** A GET or HEAD of the route itself (in any case, with or without a trailing slash). */
  served: boolean;
}

/** The gateway's: any method on the route or near it, with a query, odd headers, a body. */
export const probeCase = (route: string): fc.Arbitrary<ProbeCase> =>
  fc
    .tuple(
      fc.oneof(
        { weight: 4, arbitrary: fc.constant('GET') },
        { weight: 1, arbitrary: fc.constantFrom(...methods) },
      ),
      fc.constantFrom(route, route.toUpperCase(), `${route}/`, `${route}/x`, `/${route}`),
      queryString,
      extraHeaders,
      fc.option(fc.uint8Array({ maxLength: 512 }), { nil: undefined }),
    )
    .map(([method, path, query, extra, body]) => ({
      sent: {
        method,
        path: `${path}${query}`,
        headers: extra,
        ...(body && method !== 'GET' && method !== 'HEAD' ? { body: Buffer.from(body) } : {}),
      },
      served:
        [route, route.toUpperCase(), `${route}/`].includes(path) &&
        (method === 'GET' || method === 'HEAD'),
    }));

/** The receiver's (the same handlers as the gateway's): any method, the routes and near them. */
export const receiverProbeCase: fc.Arbitrary<ProbeCase> = fc
  .tuple(
    fc.constantFrom(...methods),
    fc.constantFrom('/healthz', '/readyz', '/metrics'),
    fc.constantFrom('', '/', '/x'),
    queryString,
    extraHeaders,
  )
  .map(([method, route, suffix, query, extra]) => ({
    sent: { method, path: `${route}${suffix}${query}`, headers: extra },
    served: suffix !== '/x' && (method === 'GET' || method === 'HEAD'),
  }));
