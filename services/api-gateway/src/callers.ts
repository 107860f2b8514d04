import { z } from 'zod';
import { MIN_SECRET_LENGTH } from '@pp/shared';

/** One caller of the gateway: its name (in logs, metrics and the requests it owns) and a token. */
export interface CallerToken {
  name: string;
  token: string;
}

const NAME = /^[a-z0-9][a-z0-9_-]{0,31}$/;
/** The caller of bare tokens (no `name:`): one shared caller, as before names existed. */
export const DEFAULT_CALLER = 'default';

/**
 * `GATEWAY_API_KEYS`: comma-separated `name:token` entries (a name may have several tokens
 * during a rotation) or bare tokens (the `default` caller). Every token is at least 16
 * characters; problems name the entry, never the token.
 */
export const gatewayApiKeys = z
  .string({ error: 'is required' })
  .transform((raw, ctx): CallerToken[] => {
    const entries = raw
      .split(',')
      .map((e) => e.trim())
      .filter(Boolean);
    if (entries.length === 0) {
      ctx.addIssue({ code: 'custom', message: 'needs at least one token' });
      return [];
    }
    return entries.map((entry, i) => {
      const colon = entry.indexOf(':');
      const named = colon > 0 && NAME.test(entry.slice(0, colon));
      const caller: CallerToken = named
        ? { name: entry.slice(0, colon), token: entry.slice(colon + 1) }
        : { name: DEFAULT_CALLER, token: entry };
      if (caller.token.length < MIN_SECRET_LENGTH) {
        ctx.addIssue({
          code: 'custom',
          message: `entry ${i + 1} (caller ${caller.name}) has a token of ${caller.token.length} characters; use at least ${MIN_SECRET_LENGTH}`,
        });
      }
      return caller;
    });
  });
