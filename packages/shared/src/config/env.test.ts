import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { baseEnv, ConfigError, csv, parseConfig, personaBaseUrl, port } from './env.ts';

const Schema = z.object({
  ...baseEnv,
  PERSONA_API_BASE_URL: personaBaseUrl,
  PORT: port(3000),
  KEYS: csv('key'),
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
});
