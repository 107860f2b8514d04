/**
 * Fails when runtime imports form a cycle anywhere in the workspace (type-only imports are
 * erased, so they cannot). Workspace packages (`@pp/x`) resolve to their `src/index.ts`.
 *
 *   node --experimental-strip-types scripts/check-cycles.ts
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { execFileSync } from 'node:child_process';
import ts from 'typescript';

const root = resolve(import.meta.dirname, '..');
const files = execFileSync('git', ['ls-files', '*.ts'], { cwd: root, encoding: 'utf8' })
  .split('\n')
  .filter((f) => f && !f.endsWith('.d.ts'))
  .map((f) => join(root, f));

const workspace = (spec: string): string | null => {
  const match = /^@pp\/([^/]+)(?:\/(.+))?$/.exec(spec);
  if (!match) return null;
  for (const dir of ['packages', 'services']) {
    const base = join(root, dir, match[1]!);
    if (!existsSync(base)) continue;
    if (!match[2]) return join(base, 'src/index.ts');
    const pkg = JSON.parse(readFileSync(join(base, 'package.json'), 'utf8')) as {
      exports?: Record<string, string>;
    };
    const target = pkg.exports?.[`./${match[2]}`];
    return target ? join(base, target) : null;
  }
  return null;
};

/** The files a file imports at run time (no `import type`, no `export type`). */
function runtimeImports(file: string): string[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest);
  const out: string[] = [];
  for (const node of source.statements) {
    let spec: string | null = null;
    if (ts.isImportDeclaration(node) && !node.importClause?.isTypeOnly) {
      const named = node.importClause?.namedBindings;
      const allTypes =
        named && ts.isNamedImports(named) && !node.importClause?.name
          ? named.elements.length > 0 && named.elements.every((e) => e.isTypeOnly)
          : false;
      if (!allTypes) spec = (node.moduleSpecifier as ts.StringLiteral).text;
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && !node.isTypeOnly) {
      spec = (node.moduleSpecifier as ts.StringLiteral).text;
    }
    if (!spec) continue;
    const target = spec.startsWith('.') ? resolve(dirname(file), spec) : workspace(spec);
    if (target && target.endsWith('.ts') && existsSync(target)) out.push(target);
  }
  return out;
}

const graph = new Map(files.map((f) => [f, runtimeImports(f)]));
const state = new Map<string, 'open' | 'done'>();
const cycles: string[][] = [];
function visit(file: string, path: string[]): void {
  if (state.get(file) === 'done') return;
  if (state.get(file) === 'open') {
    cycles.push([...path.slice(path.indexOf(file)), file]);
    return;
  }
  state.set(file, 'open');
  for (const next of graph.get(file) ?? []) visit(next, [...path, file]);
  state.set(file, 'done');
}
for (const file of graph.keys()) visit(file, []);

if (cycles.length > 0) {
  for (const c of cycles)
    console.error(`import cycle: ${c.map((f) => relative(root, f)).join(' -> ')}`);
  process.exit(1);
}
console.log(`no import cycles among ${graph.size} files`);
