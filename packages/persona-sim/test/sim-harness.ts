import { createHmac } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { afterEach } from 'vitest';
import { PersonaSimulator, type SimulatorOptions } from '../src/index.ts';
import { WebhookCollector } from './webhook-collector.ts';

const KEY = 'persona_sandbox_sim_test';
export const SECRET = 'wbhsec_harness';

/** A simulator (and webhook collectors) per test, closed after each test of the file. */
export function useSimulator() {
  let sims: PersonaSimulator[] = [];
  let collectors: WebhookCollector[] = [];
  afterEach(async () => {
    await Promise.all(sims.map((s) => s.close()));
    await Promise.all(collectors.map((c) => c.close()));
    sims = [];
    collectors = [];
  });
  return {
    async start(options: Partial<SimulatorOptions> = {}): Promise<PersonaSimulator> {
      const sim = new PersonaSimulator({ apiKeys: [KEY], decisionDelayMs: 60_000, ...options });
      sims.push(sim);
      await sim.listen();
      return sim;
    },
    async collector(): Promise<WebhookCollector> {
      const c = new WebhookCollector();
      collectors.push(c);
      await c.listen();
      return c;
    },
  };
}

export const createBody = (ref: string | null = 'user-1', extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    data: {
      attributes: {
        'transaction-type-id': 'txntp_KYC',
        ...(ref === null ? {} : { 'reference-id': ref }),
        fields: { name_first: 'Ada', age: 36 },
        ...extra,
      },
    },
  });

export function call(
  sim: PersonaSimulator,
  method: string,
  path: string,
  init: { body?: string; key?: string; headers?: Record<string, string> } = {},
): Promise<Response> {
  return fetch(`${sim.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${KEY}`,
      'content-type': 'application/json',
      ...(init.key ? { 'idempotency-key': init.key } : {}),
      ...init.headers,
    },
    ...(init.body ? { body: init.body } : {}),
  });
}

/** Answers as `{ status, headers, body }` with the body parsed. */
export async function callJson<T = unknown>(
  sim: PersonaSimulator,
  method: string,
  path: string,
  init: { body?: string; key?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; headers: Headers; body: T }> {
  const res = await call(sim, method, path, init);
  return { status: res.status, headers: res.headers, body: (await res.json()) as T };
}

/** A JSON:API resource as the simulator renders it (kebab-case). */
interface Resource {
  type: string;
  id: string;
  attributes: Record<string, unknown>;
  relationships?: Record<string, { data: unknown }>;
}
export interface Doc {
  data: Resource;
  included?: Resource[];
}
export interface ListDoc {
  data: Resource[];
  links: { prev: string | null; next: string | null };
}
/** A webhook body or `GET /events/{id}` answer. */
export interface EventDoc {
  data: {
    type: 'event';
    id: string;
    attributes: {
      name: string;
      payload: { data: Resource; included?: Resource[] };
      'created-at': string;
      context?: Record<string, unknown>;
    };
  };
}

/** The value at a path of keys/indexes (for bodies in other inflections). */
export function dig(value: unknown, ...path: (string | number)[]): unknown {
  let v = value;
  for (const k of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string | number, unknown>)[k];
  }
  return v;
}

/** Checks `Persona-Signature` against the raw body; returns its `t`. */
export function signedAt(headers: IncomingHttpHeaders, body: string, secret = SECRET): number {
  const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(String(headers['persona-signature']));
  if (!match) throw new Error(`malformed signature ${String(headers['persona-signature'])}`);
  const expected = createHmac('sha256', secret).update(`${match[1]}.${body}`).digest('hex');
  if (expected !== match[2]) throw new Error('signature does not cover the bytes received');
  return Number(match[1]);
}

/** Every key of a document, with its path, skipping what sits inside `fields` objects. */
export function keysOutsideFields(value: unknown, path = ''): string[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => keysOutsideFields(v, `${path}[${i}]`));
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([k, v]) => [
    k,
    ...(k === 'fields' ? [] : keysOutsideFields(v, `${path}.${k}`)),
  ]);
}

/** The event names of collected webhook bodies (in any inflection). */
export const eventName = (body: string): string =>
  (JSON.parse(body) as { data: { attributes: { name: string } } }).data.attributes.name;

export const eventId = (body: string): string =>
  (JSON.parse(body) as { data: { id: string } }).data.id;
