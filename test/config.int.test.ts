import { describe, expect, it } from 'vitest';
import { ServiceProcess } from '@pp/testing';

describe('a bad configuration stops a service with one message naming every problem', () => {
  it.each([
    [
      'workers',
      {
        PERSONA_API_BASE_URL: 'http://api.withpersona.com/api/v1',
        PERSONA_RATE_LIMIT_PER_MINUTE: '0',
        REDIS_URL: 'localhost:6379',
      },
      [
        'PERSONA_API_KEY: is required',
        'PERSONA_API_BASE_URL: must use https',
        'PERSONA_RATE_LIMIT_PER_MINUTE:',
        'REDIS_URL: must be a redis://',
      ],
    ],
    [
      'api-gateway',
      { GATEWAY_PORT: 'eighty', QUEUE_PREFIX: 'a b' },
      ['GATEWAY_API_KEYS: is required', 'GATEWAY_PORT:', 'QUEUE_PREFIX:'],
    ],
    [
      'webhook-receiver',
      { LOG_LEVEL: 'loud' },
      ['PERSONA_WEBHOOK_SECRETS: is required', 'LOG_LEVEL:'],
    ],
    [
      'webhook-receiver',
      {
        PERSONA_WEBHOOK_SECRETS: 'wbhsec_config_test_secret',
        PERSONA_EVENT_DEDUPE_TTL_SECONDS: '3600',
        PERSONA_WEBHOOK_TOLERANCE_SECONDS: '3601',
      },
      [
        'PERSONA_WEBHOOK_TOLERANCE_SECONDS: must not exceed PERSONA_EVENT_DEDUPE_TTL_SECONDS (3600)',
      ],
    ],
    [
      'workers',
      { PERSONA_API_KEY: 'persona_sandbox_x', PERSONA_QUOTA_MAX_WAIT_MS: String(24 * 3600 * 1000) },
      ['PERSONA_QUOTA_MAX_WAIT_MS: must stay well under 24 h'],
    ],
    [
      'api-gateway',
      { GATEWAY_API_KEYS: 'onboarding:short-token,fine-token-0000001' },
      [
        'GATEWAY_API_KEYS: entry 1 (caller onboarding) has a token of 11 characters; use at least 16',
      ],
    ],
    [
      'webhook-receiver',
      { PERSONA_WEBHOOK_SECRETS: 'wbhsec_long_enough_secret,wbhsec_x' },
      ['PERSONA_WEBHOOK_SECRETS: secret 2 is 8 characters; use at least 16'],
    ],
  ] as const)(
    'When %s starts with bad values, then it exits 1 and lists each one',
    async (service, env, expected) => {
      const proc = new ServiceProcess(service, { ...env });
      expect(await proc.exited()).toBe(1);
      const text = proc.logs.text;
      expect(text).toContain(`${service}: invalid configuration:`);
      for (const problem of expected) expect(text).toContain(problem);
      expect(text.match(/^ {2}- /gm)).toHaveLength(expected.length);
    },
  );
});
