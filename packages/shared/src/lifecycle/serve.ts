import {
  createServer,
  type IncomingMessage,
  type RequestListener,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';

/** What `main.ts` hands a service's start function. */
export interface StartOptions {
  logger: Logger;
  /** The interface to listen on. @defaultValue '0.0.0.0' */
  host?: string;
  /**
   * The running service can no longer run safely (a restarted Redis that now evicts).
   * @defaultValue logs the error and keeps running (tests); `main.ts` exits instead.
   */
  onFatal?: (err: Error) => void;
}

/** `main.ts`: logs why the service cannot run, then exits 1. */
export function exitFatally(logger: Logger): (err: unknown) => never {
  return (err) => {
    logger.fatal({ err }, err instanceof Error ? err.message : String(err));
    logger.flush();
    process.exit(1);
  };
}

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
    /** Open connections at most; more are refused. @defaultValue 1000 */
    maxConnections?: number;
  },
): Promise<Listening> {
  const server = createServer({
    headersTimeout: options.headersTimeoutMs,
    requestTimeout: options.requestTimeoutMs,
    // Timeouts are enforced by a periodic check: every second, not Node's 30 s default,
    // so that a slow sender is cut off within seconds.
    connectionsCheckingInterval: 1000,
  });
  server.maxConnections = options.maxConnections ?? 1000;
  // Once closing, no connection is kept alive: a request that arrives on one is answered
  // with `Connection: close`, and each finished response lets its idle socket go. (This
  // listener comes before the handler, so the header is set before anything is written.)
  let closing = false;
  server.on('request', (_req: IncomingMessage, res: ServerResponse) => {
    if (closing) res.setHeader('connection', 'close');
    res.once('finish', () => {
      if (closing) setImmediate(() => server.closeIdleConnections());
    });
  });
  server.on('request', handler);
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
        closing = true;
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
