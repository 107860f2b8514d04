/** What every plain baseline reads from its env (the orchestrator passes it). */
export const baselineEnv = {
  redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  prefix: process.env.QUEUE_PREFIX ?? 'plain',
  port: Number(process.env.PORT ?? 0),
};

/** One JSON line, like the services' pino lines (the orchestrator waits for `url`). */
export const say = (fields: Record<string, unknown>): void => {
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), ...fields })}\n`);
};

/** On SIGTERM or SIGINT: `close`, then exit. */
export const exitOnSignals = (close: () => Promise<void>): void => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      void close().finally(() => process.exit(0));
    });
  }
};
