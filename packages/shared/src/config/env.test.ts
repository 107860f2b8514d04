import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { baseEnv, ConfigError, csv, parseConfig, personaBaseUrl, port, secretList } from './env.ts';

const Schema = z.object({
  ...baseEnv,
  PERSONA_API_BASE_URL: personaBaseUrl,
  PORT: port(3000),
  KEYS: csv('key'),
  PERSONA_WEBHOOK_SECRETS: secretList('webhook secret').optional(),
});

const problemsOf = (env: Record<string, string>) => {
  try {
    parseConfig(Schema, env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
};

describe('parseConfig', () => {
  it('When nothing optional is set, then the documented defaults apply', () => {
    const config = parseConfig(Schema, { KEYS: 'a' });
    expect(config).toMatchObject({
      REDIS_URL: 'redis://127.0.0.1:6379',
      QUEUE_PREFIX: 'pp',
      LOG_LEVEL: 'info',
      PERSONA_API_BASE_URL: 'https://api.withpersona.com/api/v1',
      PORT: 3000,
      KEYS: ['a'],
    });
  });

  it('When several values are wrong, then one error names every one of them', () => {
    const problems = problemsOf({
      REDIS_URL: 'http://nope',
      QUEUE_PREFIX: 'has space',
      PERSONA_API_BASE_URL: 'http://api.withpersona.com/api/v1',
      PORT: '70000',
    });
    expect(problems).toHaveLength(5);
    expect(problems.join('\n')).toMatch(/REDIS_URL: must be a redis:\/\/ or rediss:\/\/ URL/);
    expect(problems.join('\n')).toMatch(/QUEUE_PREFIX: /);
    expect(problems.join('\n')).toMatch(/PERSONA_API_BASE_URL: must use https/);
    expect(problems.join('\n')).toMatch(/PORT: /);
    expect(problems.join('\n')).toMatch(/KEYS: is required/);
  });

  it.each([
    'http://127.0.0.1:4010/api/v1',
    'http://localhost:4010/api/v1',
    'http://[::1]:4010/api/v1',
  ])('When the Persona URL is plain http on loopback (%s), then it is allowed', (url) => {
    expect(
      parseConfig(Schema, { KEYS: 'a', PERSONA_API_BASE_URL: `${url}/` }).PERSONA_API_BASE_URL,
    ).toBe(url);
  });

  it('When a value is an empty string, then it counts as unset', () => {
    expect(problemsOf({ KEYS: '' })).toEqual(['KEYS: is required']);
    expect(parseConfig(Schema, { KEYS: 'a', PORT: '' }).PORT).toBe(3000);
  });

  it('When a list holds only separators, then it is reported as empty', () => {
    expect(problemsOf({ KEYS: ' , ,' })).toEqual(['KEYS: needs at least one key']);
  });

  describe('secrets from files (*_FILE)', () => {
    const secretFile = (content: string) => {
      const file = join(mkdtempSync(join(tmpdir(), 'pp-secret-')), 'secret');
      writeFileSync(file, content);
      return file;
    };

    it('When X_FILE names a file, then X is its content without the trailing newline', () => {
      const config = parseConfig(Schema, {
        KEYS: 'a',
        PERSONA_WEBHOOK_SECRETS_FILE: secretFile('wbhsec_from_a_mounted_file\n'),
      });
      expect(config.PERSONA_WEBHOOK_SECRETS).toEqual(['wbhsec_from_a_mounted_file']);
    });

    it('When a secret file is short, then the problem names the variable, not the value', () => {
      const problems = problemsOf({
        KEYS: 'a',
        PERSONA_WEBHOOK_SECRETS_FILE: secretFile('wbhsec_short'),
      });
      expect(problems).toEqual([
        'PERSONA_WEBHOOK_SECRETS: webhook secret 1 is 12 characters; use at least 16',
      ]);
    });

    it('When both X and X_FILE are set, or the file cannot be read, then each is a problem', () => {
      expect(
        problemsOf({
          KEYS: 'a',
          PERSONA_WEBHOOK_SECRETS: 'wbhsec_from_the_environment',
          PERSONA_WEBHOOK_SECRETS_FILE: secretFile('wbhsec_from_a_mounted_file'),
          REDIS_URL_FILE: '/nonexistent/redis-url',
        }),
      ).toEqual([
        'REDIS_URL_FILE: cannot read /nonexistent/redis-url (ENOENT)',
        'PERSONA_WEBHOOK_SECRETS_FILE: set PERSONA_WEBHOOK_SECRETS or PERSONA_WEBHOOK_SECRETS_FILE, not both',
      ]);
    });
  });
});
