/** What `pnpm start` runs, read from the same environment variables the services read. */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface UpConfig {
  /** Why it must not start: set against real Persona, the local-only defaults are refused. */
  problems: string[];
  /** The repository root: children run there. */
  root: string;
  /** LOG_FORMAT=json: pass the children's JSON lines through as they are. */
  rawLogs: boolean;
  redisUrl: string;
  prefix: string;
  gatewayPort: string;
  receiverPort: string;
  simPort: string;
  gatewayKeys: string;
  webhookSecrets: string;
  workerCount: number;
  dataDir: string;
  /** No PERSONA_API_KEY: run the Persona simulator and point the workers at it. */
  useSimulator: boolean;
  simKey: string;
  simDecisionDelayMs: string;
  personaBase: string;
  personaKey: string;
  /** The first worker's health and metrics port; the next ones count up from it. */
  workerHttpPort: number;
  /** Bull Board's login (on the gateway at /admin/queues); local defaults with the simulator. */
  adminUser: string;
  adminPassword: string;
}

export function readConfig(env: NodeJS.ProcessEnv = process.env): UpConfig {
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const simPort = env.PERSONA_SIM_PORT ?? '4010';
  const useSimulator = !env.PERSONA_API_KEY;
  const simKey = 'persona_sandbox_local_simulator';
  // The local token and webhook secret exist only with the simulator: against Persona they
  // would let anyone who read this repository call the gateway or forge a decision.
  const problems = useSimulator
    ? []
    : (['GATEWAY_API_KEYS', 'PERSONA_WEBHOOK_SECRETS'] as const)
        .filter((name) => !env[name] && !env[`${name}_FILE`])
        .map(
          (name) =>
            `${name} is required with PERSONA_API_KEY (the local default is for the simulator only)`,
        );
  return {
    problems,
    root,
    rawLogs: env.LOG_FORMAT === 'json',
    redisUrl: env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    prefix: env.QUEUE_PREFIX ?? 'pp',
    gatewayPort: env.GATEWAY_PORT ?? '3000',
    receiverPort: env.WEBHOOK_RECEIVER_PORT ?? '3001',
    simPort,
    // Empty when read from a file: the services read the file themselves.
    gatewayKeys:
      env.GATEWAY_API_KEYS ?? (env.GATEWAY_API_KEYS_FILE ? '' : 'local-dev-token-change-me'),
    webhookSecrets:
      env.PERSONA_WEBHOOK_SECRETS ??
      (env.PERSONA_WEBHOOK_SECRETS_FILE ? '' : 'wbhsec_local_simulator_secret'),
    workerCount: Math.max(1, Number(env.PIPELINE_WORKERS ?? 1)),
    dataDir: env.PIPELINE_DATA_DIR ?? join(root, '.data'),
    useSimulator,
    simKey,
    simDecisionDelayMs: env.PERSONA_SIM_DECISION_DELAY_MS ?? '1500',
    personaBase: useSimulator
      ? `http://127.0.0.1:${simPort}/api/v1`
      : (env.PERSONA_API_BASE_URL ?? 'https://api.withpersona.com/api/v1'),
    personaKey: env.PERSONA_API_KEY ?? simKey,
    workerHttpPort: Number(env.WORKER_HTTP_PORT ?? 3002),
    adminUser: env.ADMIN_USERNAME ?? (useSimulator ? 'admin' : ''),
    adminPassword: env.ADMIN_PASSWORD ?? (useSimulator ? 'local-admin-password' : ''),
  };
}
