import type { IncomingMessage, ServerResponse } from 'node:http';
import { handleAdmin, type AdminTarget } from './admin.ts';
import { errorBody, JSON_HEADERS, readBody, sleep, type RouteResult } from './http.ts';
import { IdempotencyStore } from './idempotency.ts';
import { inflectJson, kebabParams, parseInflection } from './inflection.ts';
import type { Quota } from './quota.ts';
import { rateHeaders, type FixedWindow } from './rate-window.ts';
import type { SimState } from './state.ts';
import type { Faults, LoggedRequest } from './types.ts';

const ENVIRONMENT_ID = 'env_SimulatedEnvironment000000000';
const ORGANIZATION_ID = 'org_SimulatedOrganization00000000';
export const CREATE_PATH = '/api/v1/transactions';

export interface ApiDeps {
  state: SimState;
  requests: LoggedRequest[];
  /** The environment's rate limit, and a second of its (possibly scaled-down) window. */
  rate: FixedWindow;
  secondMs: number;
  quota: () => Quota | null;
  faults: () => Faults;
  admin: AdminTarget;
  /** Answers a request that passed auth, the rate limit, the quota and idempotency. */
  route: (
    method: string,
    path: string,
    params: URLSearchParams,
    raw: string,
    key: string | null,
  ) => RouteResult;
}

/**
 * Persona's front door, in its order: bearer auth (401), the fixed-window rate limit (429
 * and `RateLimit-*` headers), the creation quota (never stored), idempotency (stored
 * replays, 409 in flight, 400 on another body), processing latency, then the route. Bodies are
 * sent in the request's `Key-Inflection`; every request is logged.
 */
export function createApiHandler(
  deps: ApiDeps,
): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const { state, requests, rate, secondMs, quota, faults, admin, route } = deps;
  const idempotency = new IdempotencyStore();
  return async (req, res) => {
    const at = Date.now();
    const url = new URL(req.url ?? '/', 'http://sim.invalid');
    const method = req.method ?? 'GET';
    const path = url.pathname.replace(/\/+$/, '');
    const isCreate = method === 'POST' && path === CREATE_PATH;
    const idemHeader = req.headers['idempotency-key'];
    const entry: LoggedRequest = {
      at,
      method,
      path: url.pathname + url.search,
      status: 0,
      idempotencyKey: typeof idemHeader === 'string' ? idemHeader : undefined,
      replay: false,
      counted: false,
    };
    const inflection = parseInflection(req.headers['key-inflection']);
    let headers: Record<string, string> = {};
    const send = (status: number, body: string) => {
      entry.status = status;
      // Quota headers go on every authenticated answer to a create.
      const q = isCreate && 'request-id' in headers ? quota() : null;
      res.writeHead(status, { ...JSON_HEADERS, ...headers, ...q?.headers(at, secondMs) });
      res.end(inflectJson(body, inflection));
    };

    if (url.pathname.startsWith('/__sim/')) {
      handleAdmin(admin, method, url, req, send);
      return;
    }
    requests.push(entry);
    const f = faults();
    if (f.resetRate > 0 && state.random() < f.resetRate) {
      entry.status = 'reset';
      res.socket?.resetAndDestroy();
      return;
    }

    let raw: string;
    try {
      raw = await readBody(req);
    } catch {
      send(413, errorBody('Payload too large'));
      return;
    }

    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (!token || !state.options.apiKeys.includes(token)) {
      send(
        401,
        errorBody(token ? 'Token is invalid' : 'Must be authenticated to access this endpoint'),
      );
      return;
    }

    const counted = rate.spend(at);
    headers = rateHeaders(rate, at, secondMs, {
      requestId: state.ids.mint('request'),
      environmentId: ENVIRONMENT_ID,
      organizationId: ORGANIZATION_ID,
    });
    if (!counted) {
      const details = `You have hit your rate limit of ${rate.limit} requests / min. Please reach out to support@withpersona.com if you need this changed.`;
      send(429, errorBody('Rate limit exceeded', details));
      return;
    }
    entry.counted = true;

    // The creation quota is a rate limit of its own: like a 429 it comes before the
    // idempotency layer, so a quota error is never stored and even a replay meets it.
    const q = isCreate ? quota() : null;
    if (q && !q.spend(at)) {
      const refused = q.exceeded();
      send(refused.status, refused.body);
      return;
    }
    // Idempotency sits after auth and the rate limits, so 401s and 429s are never stored.
    const key = method === 'POST' ? (entry.idempotencyKey ?? null) : null;
    if (key !== null) {
      const admission = idempotency.admit(key, raw);
      if (admission.kind === 'answer') {
        entry.replay = admission.replay;
        send(admission.result.status, admission.result.body);
        return;
      }
    }

    // Persona's processing time: a second request with the same key meanwhile gets a 409.
    if (f.latencyRate > 0 && state.random() < f.latencyRate) {
      await sleep(f.latencyMs);
    }
    const result = route(method, path, kebabParams(url.searchParams), raw, key);
    if (key !== null) idempotency.finish(key, result);
    if (result.drop) {
      entry.status = 'dropped';
      res.socket?.destroy();
      return;
    }
    send(result.status, result.body);
  };
}
