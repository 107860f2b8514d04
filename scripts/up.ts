/**
 * `pnpm start` (or `./pipeline up`): the whole pipeline on this machine.
 *
 * - Redis at REDIS_URL; if nothing answers on a loopback URL and `redis-server` exists, one
 *   is started with its data in .data/ (append-only file, fsync every second).
 * - The Persona simulator, wired to the webhook receiver, when PERSONA_API_KEY is unset.
 * - The API gateway, the webhook receiver and PIPELINE_WORKERS worker processes (1).
 *
 * Every setting is an environment variable, the same ones the services read. Ctrl-C stops
 * everything this script started.
 *
 * The parts live in scripts/up/: config (the environment), supervisor (child processes),
 * redis (find or start Redis), services, log-format (printing) and banner.
 */
import { printBanner } from './up/banner.ts';
import { readConfig } from './up/config.ts';
import { formatLogLine, rawLogLine } from './up/log-format.ts';
import { ensureRedis } from './up/redis.ts';
import { startServices, startSimulator } from './up/services.ts';
import { Supervisor } from './up/supervisor.ts';

const config = readConfig();
if (config.problems.length > 0) {
  process.stderr.write(
    `pnpm start: refusing to start:\n${config.problems.map((p) => `  - ${p}`).join('\n')}\n`,
  );
  process.exit(1);
}
const sup = new Supervisor({
  cwd: config.root,
  env: process.env,
  format: config.rawLogs ? rawLogLine : formatLogLine,
});
sup.stopOnSignals();

await ensureRedis(sup, config.redisUrl, config.dataDir);
if (config.useSimulator) await startSimulator(sup, config);
await startServices(sup, config);
printBanner(config);
