import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A bare HTTP endpoint that records what the simulator's webhooks deliver. */
export class WebhookCollector {
  readonly received: { headers: IncomingHttpHeaders; body: string }[] = [];
  respond: (n: number) => number = () => 200;
  #server: Server | null = null;
  url = '';

  async listen(): Promise<void> {
    this.#server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.received.push({ headers: req.headers, body: Buffer.concat(chunks).toString() });
        res.writeHead(this.respond(this.received.length)).end();
      });
    });
    await new Promise<void>((r) => this.#server!.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/hook`;
  }

  async close(): Promise<void> {
    this.#server?.closeAllConnections();
    await new Promise<void>((r) => (this.#server ? this.#server.close(() => r()) : r()));
  }
}
