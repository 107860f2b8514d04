/** The pipeline's own processes: the Persona simulator (without a key), then the services. */
import type { UpConfig } from './config.ts';
import { httpOk, type Supervisor } from './supervisor.ts';

/** Node 22.12-22.17 strips types only with this flag; later versions accept it as a no-op. */
const TS = '--experimental-strip-types';

/** Starts the simulator, wired to the webhook receiver, and waits until it answers. */
export async function startSimulator(sup: Supervisor, c: UpConfig): Promise<void> {
  sup.run('persona-sim', [TS, 'packages/persona-sim/src/main.ts'], {
    PERSONA_SIM_PORT: c.simPort,
    PERSONA_SIM_API_KEYS: c.simKey,
    PERSONA_SIM_WEBHOOK_URL: `http://127.0.0.1:${c.receiverPort}/webhooks/persona`,
    PERSONA_SIM_WEBHOOK_SECRETS: c.webhookSecrets.split(',')[0]!.trim(),
    PERSONA_SIM_DECISION_DELAY_MS: c.simDecisionDelayMs,
  });
  await sup.waitUntil('persona simulator', httpOk(`http://127.0.0.1:${c.simPort}/__sim/stats`));
}

/**
 * Starts the gateway, the receiver and the workers, configured only by environment, and
 * waits until both HTTP services are ready.
 */
export async function startServices(sup: Supervisor, c: UpConfig): Promise<void> {
  const common = { REDIS_URL: c.redisUrl, QUEUE_PREFIX: c.prefix };
  sup.run('api-gateway', [TS, 'services/api-gateway/src/main.ts'], {
    ...common,
    GATEWAY_PORT: c.gatewayPort,
    GATEWAY_API_KEYS: c.gatewayKeys,
    ...(c.adminUser && c.adminPassword
      ? { ADMIN_USERNAME: c.adminUser, ADMIN_PASSWORD: c.adminPassword }
      : {}),
  });
  sup.run('webhook-receiver', [TS, 'services/webhook-receiver/src/main.ts'], {
    ...common,
    WEBHOOK_RECEIVER_PORT: c.receiverPort,
    PERSONA_WEBHOOK_SECRETS: c.webhookSecrets,
  });
  for (let i = 1; i <= c.workerCount; i++) {
    const name = c.workerCount > 1 ? `workers-${i}` : 'workers';
    sup.run(name, [TS, 'services/workers/src/main.ts'], {
      ...common,
      PERSONA_API_KEY: c.personaKey,
      PERSONA_API_BASE_URL: c.personaBase,
      // Each worker process its own health and metrics port (0 stays off).
      WORKER_HTTP_PORT: String(c.workerHttpPort === 0 ? 0 : c.workerHttpPort + i - 1),
    });
  }
  await sup.waitUntil('api gateway', httpOk(`http://127.0.0.1:${c.gatewayPort}/readyz`));
  await sup.waitUntil('webhook receiver', httpOk(`http://127.0.0.1:${c.receiverPort}/readyz`));
}
