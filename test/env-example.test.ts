import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GatewayEnv } from '@pp/api-gateway/config';
import { ReceiverEnv } from '@pp/webhook-receiver/config';
import { WorkersEnv } from '@pp/workers/config';

/** The variables a config schema reads: its object's keys, through pipes and refinements. */
function envKeys(schema: unknown): string[] {
  const s = schema as { shape?: object; in?: unknown; def?: { innerType?: unknown } };
  if (s.shape) return Object.keys(s.shape);
  if (s.in) return envKeys(s.in);
  if (s.def?.innerType) return envKeys(s.def.innerType);
  throw new Error('not an object schema');
}

const example = readFileSync(new URL('../.env.example', import.meta.url), 'utf8');
/** Every `NAME=` line of .env.example, commented out or not. */
const listed = new Set([...example.matchAll(/^#?\s*([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1]!));

describe('.env.example', () => {
  it.each([
    ['api-gateway', GatewayEnv],
    ['webhook-receiver', ReceiverEnv],
    ['workers', WorkersEnv],
  ] as const)('When %s reads a variable, then .env.example lists it', (_service, schema) => {
    const keys = envKeys(schema);
    expect(keys.length).toBeGreaterThan(3);
    expect(keys.filter((k) => !listed.has(k))).toEqual([]);
  });
});
