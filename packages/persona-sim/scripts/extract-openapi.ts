/**
 * Extracts from Persona's bundled OpenAPI spec the operations the simulator serves and the
 * webhooks it sends, with every component they reference, into one JSON file that the
 * simulator's conformance test validates against.
 *
 *   node packages/persona-sim/scripts/extract-openapi.ts <openapi-bundled.yaml>
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parse } from 'yaml';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

const SERVED = {
  '/transactions': ['get', 'post'],
  '/transactions/{transaction-id}': ['get'],
  '/events': ['get'],
  '/events/{event-id}': ['get'],
} as const;

const WEBHOOKS = [
  'transaction.created',
  'transaction.status-updated',
  'verification.created',
  'verification.passed',
  'verification.failed',
  'report/watchlist.ready',
  'account.created',
  'account.added-relation',
] as const;

const source = process.argv[2];
if (!source) {
  process.stderr.write('usage: extract-openapi.ts <openapi-bundled.yaml>\n');
  process.exit(2);
}
const spec = parse(readFileSync(source, 'utf8')) as { [k: string]: Json };
const paths = spec.paths as Record<string, Record<string, Json>>;
const webhooks = spec.webhooks as Record<string, Json>;

const out: Record<string, Json> = {
  openapi: spec.openapi ?? null,
  info: {
    title: 'Persona API subset served by persona-sim',
    version: (spec.info as { version?: string }).version ?? '',
  },
  paths: {},
  webhooks: {},
  components: {},
};
for (const [path, methods] of Object.entries(SERVED)) {
  const item = paths[path];
  if (!item) throw new Error(`path ${path} not in spec`);
  (out.paths as Record<string, Json>)[path] = Object.fromEntries(
    methods.map((m) => [m, item[m] ?? null]),
  );
}
for (const name of WEBHOOKS) {
  const hook = webhooks[name];
  if (!hook) throw new Error(`webhook ${name} not in spec`);
  (out.webhooks as Record<string, Json>)[name] = hook;
}

// Copy every referenced component, transitively.
const components = spec.components as Record<string, Record<string, Json>>;
const copied = new Set<string>();
const visit = (node: Json): void => {
  if (Array.isArray(node)) return node.forEach(visit);
  if (node === null || typeof node !== 'object') return;
  for (const [k, v] of Object.entries(node)) {
    if (k === '$ref' && typeof v === 'string' && v.startsWith('#/components/')) {
      if (copied.has(v)) continue;
      copied.add(v);
      const [, , kind, name] = v.split('/') as [string, string, string, string];
      const target = components[kind]?.[name];
      if (target === undefined) throw new Error(`dangling ${v}`);
      const bucket = ((out.components as Record<string, Json>)[kind] ??= {}) as Record<
        string,
        Json
      >;
      bucket[name] = target;
      visit(target);
    } else {
      visit(v);
    }
  }
};
visit(out.paths as Json);
visit(out.webhooks as Json);

const target = new URL('../openapi/persona-2025-12-08.subset.json', import.meta.url);
writeFileSync(target, `${JSON.stringify(out)}\n`);
process.stdout.write(`wrote ${target.pathname}: ${copied.size} components\n`);
