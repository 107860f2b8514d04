import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

interface Share {
  name: string;
  ms: number;
  share: number;
}

export interface ProfileSummary {
  totalMs: number;
  functions: Share[];
  packages: Share[];
}

/** Where code lives: a package of node_modules, a workspace package, Node's core, or V8/GC. */
function packageOf(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  if (url.startsWith('node:')) return 'node core';
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + '/node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  const ws = /\/(packages|services|bench)\/([^/]+)\//.exec(url);
  return ws ? `${ws[1]}/${ws[2]}` : url;
}

const shortUrl = (url: string) =>
  url
    .replace(/^file:\/\//, '')
    .replace(/^.*\/node_modules\/\.pnpm\/[^/]+\/node_modules\//, '')
    .replace(/^.*\/main\//, '');

/** Self time per function and per package of one .cpuprofile (V8's format). */
function summarise(profile: CpuProfile, top = 25): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) =>
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)),
  );
  const functions = new Map<string, number>();
  const packages = new Map<string, number>();
  let total = 0;
  for (const [id, us] of self) {
    const frame = byId.get(id)!.callFrame;
    total += us;
    const where = frame.url ? ` ${shortUrl(frame.url)}:${frame.lineNumber + 1}` : '';
    const key = `${frame.functionName || '(anonymous)'}${where}`;
    functions.set(key, (functions.get(key) ?? 0) + us);
    const pkg = packageOf(frame);
    packages.set(pkg, (packages.get(pkg) ?? 0) + us);
  }
  const rank = (m: Map<string, number>, n: number): Share[] =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, us]) => ({ name, ms: us / 1000, share: us / total }));
  return { totalMs: total / 1000, functions: rank(functions, top), packages: rank(packages, 15) };
}

/** The summary of the only (or the largest) .cpuprofile in a directory. */
export function summariseDir(dir: string, top?: number): ProfileSummary {
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  if (files.length === 0) throw new Error(`no .cpuprofile in ${dir}`);
  const profiles = files.map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as CpuProfile);
  const largest = profiles.sort((a, b) => b.samples.length - a.samples.length)[0]!;
  return summarise(largest, top);
}

export function formatSummary(title: string, s: ProfileSummary): string {
  const pct = (x: Share) =>
    `${(x.share * 100).toFixed(1).padStart(5)} %  ${x.ms.toFixed(0).padStart(6)} ms  ${x.name}`;
  return [
    `### ${title} (${(s.totalMs / 1000).toFixed(1)} s sampled)`,
    '',
    'By package (self time):',
    '```',
    ...s.packages.map(pct),
    '```',
    'Top functions (self time):',
    '```',
    ...s.functions.map(pct),
    '```',
    '',
  ].join('\n');
}
