import fc from 'fast-check';
import { actionQueuesOf, catalog, DEFAULT_ROUTING_RULES } from '@pp/shared';
import type { Sent } from './http.ts';
import { bearer, extraHeaders, headerValue, pathSegment, queryString } from './pieces.ts';

/** Bull Board: its page, its static files and every API route, with arbitrary basic auth. */

/** The board's login, which the gateway is given. */
export const ADMIN = { user: 'fuzz-admin', password: 'fuzz-admin-password-0123' };

const basic = (credentials: string) => `Basic ${Buffer.from(credentials).toString('base64')}`;

interface BoardCase {
  sent: Sent;
  authorized: boolean;
}

export function boardCase(known: readonly string[]): fc.Arbitrary<BoardCase> {
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
