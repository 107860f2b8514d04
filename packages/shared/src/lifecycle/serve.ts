import { createServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';

export interface Listening {
  url: string;
  port: number;
  /**
   * Stops accepting, lets open requests finish (within the shutdown timeout, then cuts what
   * is left), drops idle keep-alive sockets.
   */
  close: () => Promise<void>;
}

/** Listens on `port` (0 picks a free one) and says where, with timeouts that cut off slow senders. */
export async function serve(
  handler: RequestListener,
  options: {
    port: number;
    host: string;
    logger: Logger;
    what: string;
    headersTimeoutMs: number;
    requestTimeoutMs: number;
    /** How long open requests get to finish once closing starts. @defaultValue 10000 */
    shutdownTimeoutMs?: number;
  },
): Promise<Listening> {
  const server = createServer(handler);
  server.headersTimeout = options.headersTimeoutMs;
  server.requestTimeout = options.requestTimeoutMs;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${options.host === '0.0.0.0' ? '127.0.0.1' : options.host}:${port}`;
  options.logger.info({ url }, `${options.what} listening`);
  return {
    url,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        const cut = setTimeout(() => {
          options.logger.warn(`${options.what}: requests still open at the shutdown timeout; cut`);
          server.closeAllConnections();
        }, options.shutdownTimeoutMs ?? 10_000);
        cut.unref();
        server.close(() => {
          clearTimeout(cut);
          resolve();
        });
        server.closeIdleConnections();
      }),
  };
}

/**
 * `main.ts`'s last step: on SIGTERM or SIGINT, close (within `deadlineMs`, else exit 1) and
 * exit 0; log unhandled rejections.
 */
export function stopOnSignals(
  logger: Logger,
  close: () => Promise<void>,
  deadlineMs: number,
): void {
  let stopping = false;
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal }, 'shutting down');
      setTimeout(() => process.exit(1), deadlineMs).unref();
      void close().then(() => {
        logger.info('stopped');
        logger.flush();
        process.exit(0);
      });
    });
  }
  process.on('unhandledRejection', (err) => {
    logger.error({ err }, 'unhandled rejection');
  });
}
