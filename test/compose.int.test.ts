// The deployment files keep their promises: docker-compose.yml validates (with and without the
// simulator profile) and its parsed config has Redis durable, unevicting, capped and
// password-protected, workers without host ports, a healthcheck on every service; the image
// installs production dependencies only and runs as a non-root user; .dockerignore keeps
// secrets and local data out. The compose part needs `docker compose` or `docker-compose`
// (validation only, no engine) and is skipped, by name, without one.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..');
const read = (file: string) => readFileSync(join(ROOT, file), 'utf8');

// --- compose

interface Service {
  command?: string | string[];
  environment?: Record<string, string | null>;
  ports?: unknown[];
  container_name?: string;
  profiles?: string[];
  healthcheck?: { test?: string | string[]; disable?: boolean };
  /** v1 prints `mem_limit` as given (`512m`), v2 in bytes. */
  mem_limit?: string | number;
}
interface ComposeConfig {
  services: Record<string, Service>;
}

/** Compose v2 prints JSON; v1 (Debian's docker-compose 1.29) only YAML. */
interface ComposeCli {
  command: string;
  args: string[];
  json: boolean;
}

function findCompose(): ComposeCli | null {
  const works = (command: string, args: string[]) =>
    spawnSync(command, args, { stdio: 'ignore', timeout: 20_000 }).status === 0;
  if (works('docker', ['compose', 'version']))
    return { command: 'docker', args: ['compose'], json: true };
  if (works('docker-compose', ['version']))
    return { command: 'docker-compose', args: [], json: false };
  return null;
}

const compose = findCompose();
const skipped = compose
  ? ''
  : ' [skipped: neither `docker compose` nor `docker-compose` works on this machine]';

/** The simulator's devDependency, so the root package needs no YAML parser of its own. */
const parseYaml = (text: string): unknown =>
  (
    createRequire(join(ROOT, 'packages/persona-sim/package.json'))('yaml') as {
      parse: (src: string) => unknown;
    }
  ).parse(text);

/** Instead of the project's .env, which compose would otherwise read. */
const EMPTY_ENV_FILE = join(mkdtempSync(join(tmpdir(), 'pp-compose-')), 'empty.env');
writeFileSync(EMPTY_ENV_FILE, '');

/**
 * Runs compose on docker-compose.yml with only `env` (and PATH/HOME) as its environment and
 * no .env file, so a developer's own settings cannot change what is checked.
 */
function runCompose(
  cli: ComposeCli,
  { profile, env = {}, args }: { profile?: string; env?: Record<string, string>; args: string[] },
) {
  const result = spawnSync(
    cli.command,
    [
      ...cli.args,
      '--project-directory',
      ROOT,
      '--env-file',
      EMPTY_ENV_FILE,
      '-f',
      join(ROOT, 'docker-compose.yml'),
      ...(profile ? ['--profile', profile] : []),
      ...args,
    ],
    {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 60_000,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    },
  );
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function composeConfig(options: { profile?: string; env?: Record<string, string> } = {}) {
  const cli = compose!;
  const result = runCompose(cli, {
    ...options,
    args: cli.json ? ['config', '--format', 'json'] : ['config'],
  });
  if (result.status !== 0) throw new Error(`compose config failed: ${result.stderr}`);
  return (cli.json ? JSON.parse(result.stdout) : parseYaml(result.stdout)) as ComposeConfig;
}

const words = (command: Service['command']): string[] =>
  typeof command === 'string' ? command.split(/\s+/) : (command ?? []);

/** The value after `--flag` in a command line. */
const flag = (command: string[], name: string) => {
  const at = command.indexOf(name);
  return at >= 0 ? command[at + 1] : undefined;
};

const PERSONA_MODE = {
  PERSONA_API_BASE_URL: 'https://api.withpersona.com/api/v1',
  PERSONA_API_KEY: 'persona_production_compose_test',
  PERSONA_WEBHOOK_SECRETS: 'wbhsec_compose_test',
  GATEWAY_API_KEYS: 'compose-test-token',
  REDIS_PASSWORD: 'compose-test-redis-password',
};

describe('docker-compose.yml', () => {
  it.skipIf(!compose)(
    `When compose validates it with no environment, with the sim profile and in Persona mode, then every variant is valid${skipped}`,
    () => {
      for (const variant of [{}, { profile: 'sim' }, { env: PERSONA_MODE }]) {
        const result = runCompose(compose!, { ...variant, args: ['config', '-q'] });
        expect(result.status, result.stderr).toBe(0);
      }
    },
  );

  it.skipIf(!compose)(
    `When its config is parsed, then Redis has an append-only file, noeviction, a maxmemory and a password that every service's REDIS_URL carries${skipped}`,
    () => {
      const { services } = composeConfig({ profile: 'sim' });
      const redis = words(services.redis?.command);
      expect(flag(redis, '--appendonly')).toBe('yes');
      expect(flag(redis, '--maxmemory-policy')).toBe('noeviction');
      expect(flag(redis, '--maxmemory')).toMatch(/^\d+(b|kb|mb|gb)?$/i);
      const password = flag(redis, '--requirepass');
      expect(password).toMatch(/.{16,}/);
      const escaped = password!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      for (const name of ['api-gateway', 'webhook-receiver', 'workers']) {
        expect(services[name]?.environment?.REDIS_URL).toMatch(
          new RegExp(`^rediss?://[^@/]*:${escaped}@`),
        );
      }
    },
  );

  it.skipIf(!compose)(
    `When its config is parsed, then every service has a healthcheck, every Node service the README's memory limit, and workers have no host ports or fixed name, so they scale${skipped}`,
    () => {
      const { services } = composeConfig({ profile: 'sim' });
      expect(Object.keys(services).sort()).toEqual([
        'api-gateway',
        'persona-sim',
        'redis',
        'webhook-receiver',
        'workers',
      ]);
      for (const [name, service] of Object.entries(services)) {
        expect(service.healthcheck?.disable, name).not.toBe(true);
        expect(words(service.healthcheck?.test).length, name).toBeGreaterThan(1);
        expect(words(service.healthcheck?.test), name).not.toContain('NONE');
        if (name !== 'redis') expect(String(service.mem_limit), name).toMatch(/^(512m|536870912)$/);
      }
      expect(services.workers?.ports).toBeUndefined();
      expect(services.workers?.container_name).toBeUndefined();
    },
  );

  it.skipIf(!compose)(
    `When no profile is given, then the simulator stays off, and it runs under the sim profile${skipped}`,
    () => {
      const plain = composeConfig().services['persona-sim'];
      // Compose v2 leaves a disabled service out; v1 lists it with its profiles.
      if (plain) expect(plain.profiles).toEqual(['sim']);
      expect(composeConfig({ profile: 'sim' }).services['persona-sim']).toBeDefined();
    },
  );

  it.skipIf(!compose)(
    `When Persona mode is configured, then the workers get it, and the preflight refuses every local-only default of the file${skipped}`,
    () => {
      const persona = composeConfig({ env: PERSONA_MODE }).services;
      expect(persona.workers?.environment).toMatchObject({
        PERSONA_API_BASE_URL: PERSONA_MODE.PERSONA_API_BASE_URL,
        PERSONA_API_KEY: PERSONA_MODE.PERSONA_API_KEY,
      });
      expect(persona['webhook-receiver']?.environment?.PERSONA_WEBHOOK_SECRETS).toBe(
        PERSONA_MODE.PERSONA_WEBHOOK_SECRETS,
      );

      const local = composeConfig().services;
      const preflight = words(local.workers?.command).join(' ');
      expect(preflight).toContain('--import=data:text/javascript,');
      const defaults = [
        local['api-gateway']?.environment?.GATEWAY_API_KEYS,
        local['webhook-receiver']?.environment?.PERSONA_WEBHOOK_SECRETS,
        local.workers?.environment?.PERSONA_API_KEY,
        flag(words(local.redis?.command), '--requirepass'),
      ];
      for (const value of defaults) expect(preflight).toContain(`'${value}'`);
    },
  );
});

// --- image

/** Dockerfile instructions (continuations joined, comments dropped), grouped by stage. */
function dockerfileStages(text: string) {
  const instructions = text
    .replace(/\\\r?\n/g, ' ')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  const stages: { name: string | undefined; lines: string[] }[] = [];
  for (const line of instructions) {
    const from = /^FROM\s+\S+(?:\s+AS\s+(\S+))?/i.exec(line);
    if (from) stages.push({ name: from[1], lines: [] });
    else stages.at(-1)?.lines.push(line);
  }
  return stages;
}

describe('the image', () => {
  const stages = dockerfileStages(read('Dockerfile'));
  const final = stages.at(-1)!;

  it('When the Dockerfile is read, then its final stage runs as a non-root user', () => {
    expect(stages.length).toBeGreaterThan(1);
    const user = final.lines.filter((line) => /^USER\s/i.test(line)).at(-1);
    expect(user).toBeDefined();
    const [name] = user!.replace(/^USER\s+/i, '').split(':');
    expect(['root', '0']).not.toContain(name);
  });

  it('When the Dockerfile is read, then the final stage gets its dependencies from a --prod --frozen-lockfile install only', () => {
    const installs = (lines: string[]) => lines.filter((line) => /pnpm\s+install/.test(line));
    const sources = final.lines
      .map((line) => /^COPY\s+.*--from=(\S+)/i.exec(line)?.[1])
      .filter((name) => name !== undefined);
    const feeding = [final, ...stages.filter((stage) => sources.includes(stage.name ?? '?'))];
    const all = feeding.flatMap((stage) => installs(stage.lines));
    expect(all.length).toBeGreaterThan(0);
    for (const install of all) {
      expect(install).toMatch(/\s--prod\b/);
      expect(install).toMatch(/\s--frozen-lockfile\b/);
    }
  });

  it('When a workspace package exists, then the install stage copies its manifest (the lockfile names them all)', () => {
    const copied = stages.flatMap((stage) => stage.lines).join('\n');
    for (const dir of ['packages', 'services']) {
      for (const name of readdirSync(join(ROOT, dir))) {
        if (!existsSync(join(ROOT, dir, name, 'package.json'))) continue;
        expect(copied).toContain(`COPY ${dir}/${name}/package.json ${dir}/${name}/`);
      }
    }
  });

  it('When the build context is sent, then .dockerignore keeps out .env*, local data and node_modules', () => {
    const ignored = read('.dockerignore')
      .split(/\r?\n/)
      .map((line) => line.trim());
    for (const entry of ['.env*', '.data', 'node_modules', '**/node_modules', '.git']) {
      expect(ignored).toContain(entry);
    }
  });
});
