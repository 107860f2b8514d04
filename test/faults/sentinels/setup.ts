import { expect } from 'vitest';
import { seededRandom } from '@pp/testing';
import { startFleet, type Fleet } from '../fleet.ts';
import { ADMIN_USER, SENTINEL } from './needles.ts';

/**
 * The fleet with a sentinel for every secret (tokens, Persona's key, the webhook secret, the
 * board's and Redis's passwords), a Persona that may quote what it was sent, and the
 * production limits; and a client of its gateway.
 */
export async function startSentinelFleet(workerPort: number): Promise<Fleet> {
  const fleet = await startFleet({
    redisPassword: SENTINEL.redisPassword,
    sim: {
      apiKeys: [SENTINEL.personaKey],
      random: seededRandom(20_261_128),
      decisionDelayMs: 300,
      accounts: true,
      transactionTypes: {
        txntp_KYC123: {},
        // Persona's error details may quote what was sent.
        txntp_STRICT: {
          validate: (fields) =>
            `fields.name_first '${String(fields.name_first)}' is not allowed for ${String(fields.email_address)}`,
        },
        txntp_REQUIRED: { requiredFields: ['selfie_photo'] },
      },
    },
    workerEnv: {
      PERSONA_API_KEY: SENTINEL.personaKey,
      PERSONA_RETRY_CAP_MS: '100',
      PERSONA_TIMEOUT_MS: '1000',
      WORKER_LOCK_DURATION_MS: '5000',
      // Lookups, reconciliation and the event sweep read Persona's bodies (fields and all).
      RECONCILE_INTERVAL_MS: '1000',
      RECONCILE_AFTER_MS: '1500',
      EVENT_SWEEP_INTERVAL_MS: '2000',
      // Metrics on, so the metrics leader runs and its lease is in Redis.
      WORKER_HTTP_PORT: String(workerPort),
    },
    gatewayEnv: {
      GATEWAY_API_KEYS: SENTINEL.gatewayToken,
      // The production limits, so their keys (a caller's rate window, the backlog) exist.
      GATEWAY_CALLER_RATE_PER_MINUTE: '1200',
      GATEWAY_MAX_BACKLOG: '36000',
      ADMIN_USERNAME: ADMIN_USER,
      ADMIN_PASSWORD: SENTINEL.adminPassword,
      ADMIN_READ_ONLY: 'false',
    },
    receiverEnv: { PERSONA_WEBHOOK_SECRETS: SENTINEL.webhookSecret },
  });
  fleet.sim.webhooks.configure({
    ...fleet.sim.webhooks.options!,
    secrets: [SENTINEL.webhookSecret],
  });
  return fleet;
}

/** The gateway, called with the sentinel token and a JSON content type unless told otherwise. */
export function gatewayClient(f: Fleet) {
  const gateway = (path: string, init: RequestInit = {}) =>
    fetch(`${f.gatewayUrl}${path}`, {
      ...init,
      headers: {
        authorization: `Bearer ${SENTINEL.gatewayToken}`,
        'content-type': 'application/json',
        ...(init.headers as Record<string, string> | undefined),
      },
    });
  /** POST /v1/transactions, which must be accepted: the new request's id. */
  const create = async (body: unknown, headers: Record<string, string> = {}) => {
    const res = await gateway('/v1/transactions', {
      method: 'POST',
      body: JSON.stringify(body),
      headers,
    });
    expect(res.status, await res.clone().text()).toBe(202);
    return ((await res.json()) as { id: string }).id;
  };
  const view = async (id: string) =>
    (await (await gateway(`/v1/transactions/${id}`)).json()) as {
      status: string;
      persona_status: string | null;
      error?: { code: string };
    };
  return { gateway, create, view };
}
