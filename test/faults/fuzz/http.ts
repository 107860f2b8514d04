import { Agent, request, type IncomingHttpHeaders } from 'node:http';

/** HTTP over keep-alive connections, with nothing added or checked by a client library. */

export interface Sent {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
  /**
   * A body over the server's limit, refused unread: sent on a connection of its own, and not
   * counted in what the server was given to hold.
   */
  oversized?: boolean;
}

export interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  /** The body as text; a body over 64 KiB is cut there (only its status is ever checked). */
  body: string;
}

/** Enough sockets for every request the properties keep in flight at once. */
const agent = new Agent({ keepAlive: true, maxSockets: 256 });

/** What of an answer is decoded: /metrics and Bull Board's lists run to megabytes. */
const TEXT_BYTES = 64 * 1024;

function sendOnce(base: string, sent: Sent, fresh = sent.oversized === true): Promise<Answer> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: hostname,
        port,
        method: sent.method,
        path: sent.path,
        headers: sent.body ? { ...sent.headers, 'content-length': sent.body.length } : sent.headers,
        agent: fresh ? false : agent,
        timeout: 30_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let kept = 0;
        let total = 0;
        res.on('data', (c: Buffer) => {
          total += c.length;
          if (kept >= TEXT_BYTES) return;
          chunks.push(c);
          kept += c.length;
        });
        res.on('end', () => {
          const text = Buffer.concat(chunks).subarray(0, TEXT_BYTES).toString('utf8');
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: total > TEXT_BYTES ? `${text}… (${total} bytes)` : text,
          });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('no answer within 30 s')));
    req.on('error', (err: NodeJS.ErrnoException) =>
      reject(Object.assign(err, { reusedSocket: req.reusedSocket })),
    );
    // A refused oversized body may be cut off mid-write; the answer still arrives.
    req.end(sent.body);
  });
}

/**
 * One request. A kept-alive socket the server closed just as it was reused fails before the
 * request was read (Node's documented race): that one is sent again on a new connection.
 * Any other failure to answer fails the property.
 */
export async function send(base: string, sent: Sent): Promise<Answer> {
  try {
    return await sendOnce(base, sent);
  } catch (err) {
    const { code, reusedSocket } = err as NodeJS.ErrnoException & { reusedSocket?: boolean };
    if (!reusedSocket || (code !== 'ECONNRESET' && code !== 'EPIPE')) throw err;
    return sendOnce(base, sent, true);
  }
}

/** Closes the kept-alive connections. */
export const closeConnections = () => agent.destroy();

/** What a request gave the server to hold: its path, headers and body. */
export const bytesOf = (s: Sent) =>
  s.oversized
    ? 0
    : s.path.length +
      Object.entries(s.headers).reduce((n, [k, v]) => n + k.length + v.length, 0) +
      (s.body?.length ?? 0);
