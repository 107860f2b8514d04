import type { IncomingMessage } from 'node:http';

export const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8' };
const MAX_BODY = 1024 * 1024;

/** What a route answers: a status, a kebab-case JSON body, and whether to drop the socket. */
export interface RouteResult {
  status: number;
  body: string;
  drop?: boolean;
}

/** Persona's error body: `{"errors":[{"title", "details"?, ...}]}`. */
export const errorBody = (title: string, details?: string, extra?: Record<string, unknown>) =>
  JSON.stringify({ errors: [{ title, ...(details ? { details } : {}), ...extra }] });

export const notFound = (): RouteResult => ({ status: 404, body: errorBody('Record not found') });

export const badRequest = (details: string): RouteResult => ({
  status: 400,
  body: errorBody('Bad Request', details),
});

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new Error('too large'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** A comma-list query parameter (`filter[name]=a,b`), or null when absent. */
export function csvParam(params: URLSearchParams, name: string): string[] | null {
  const v = params.get(name);
  return v === null
    ? null
    : v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
}

/**
 * One page of a newest-first list: `page[size]` (1-100, default 10), `page[after]`, and
 * relative `links.prev`/`links.next` that keep the filters.
 */
export function page<T>(
  params: URLSearchParams,
  base: string,
  list: T[],
  idOf: (x: T) => string,
  render: (x: T) => unknown,
): RouteResult {
  const sizeParam = Number(params.get('page[size]') ?? 10);
  if (!Number.isInteger(sizeParam) || sizeParam < 1 || sizeParam > 100) {
    return badRequest('page[size] must be between 1 and 100');
  }
  const after = params.get('page[after]');
  let start = 0;
  if (after) {
    const i = list.findIndex((x) => idOf(x) === after);
    start = i < 0 ? list.length : i + 1;
  }
  const slice = list.slice(start, start + sizeParam);
  const keep = new URLSearchParams();
  for (const [k, v] of params) if (k.startsWith('filter[')) keep.append(k, v);
  const link = (cursor: 'after' | 'before', id: string) => {
    const q = new URLSearchParams(keep);
    q.set(`page[${cursor}]`, id);
    q.set('page[size]', String(sizeParam));
    return `${base}?${q.toString()}`;
  };
  const hasMore = start + sizeParam < list.length;
  return {
    status: 200,
    body: JSON.stringify({
      data: slice.map(render),
      links: {
        prev: start > 0 && slice.length > 0 ? link('before', idOf(slice[0]!)) : null,
        next: hasMore && slice.length > 0 ? link('after', idOf(slice[slice.length - 1]!)) : null,
      },
    }),
  };
}

/** Items at least `lagMs` old (by their ISO `created-at`), as a lagging list index shows them. */
export function settled<T>(list: T[], createdAt: (x: T) => string, lagMs: number): T[] {
  if (lagMs <= 0) return list;
  const cutoff = Date.now() - lagMs;
  return list.filter((x) => Date.parse(createdAt(x)) <= cutoff);
}
