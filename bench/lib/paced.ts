import { Agent, request } from 'node:http';
import type { SignedEvent } from './fixtures.ts';
import { sleep } from './stats.ts';

export interface PacedResult {
  /** Event id → when its 200 arrived (epoch ms). */
  answeredAt: Map<string, number>;
  /** Send-to-answer time of each 2xx, ms. */
  latencies: number[];
  failures: number;
  seconds: number;
}

/**
 * Open-loop load: POSTs the events at a steady `rate` a second (each at its scheduled time,
 * whatever the answers), over keep-alive connections, until all are sent and answered.
 */
export async function pacedWebhooks(o: {
  url: string;
  events: readonly SignedEvent[];
  rate: number;
}): Promise<PacedResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const target = new URL('/webhooks/persona', o.url);
  const answeredAt = new Map<string, number>();
  const latencies: number[] = [];
  let failures = 0;
  let sent = 0;
  let done = 0;
  const started = performance.now();
  const send = (e: SignedEvent) => {
    const t0 = performance.now();
    const req = request(target, {
      method: 'POST',
      agent,
      headers: {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(e.body),
        'persona-signature': e.signature,
      },
    });
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => {
        done++;
        if (res.statusCode === 200) {
          answeredAt.set(e.eventId, Date.now());
          latencies.push(performance.now() - t0);
        } else failures++;
      });
    });
    req.on('error', () => {
      done++;
      failures++;
    });
    req.end(e.body);
  };
  while (sent < o.events.length) {
    const due = Math.min(
      o.events.length,
      Math.floor(((performance.now() - started) * o.rate) / 1000) + 1,
    );
    while (sent < due) send(o.events[sent++]!);
    await sleep(2);
  }
  while (done < sent) await sleep(5);
  agent.destroy();
  return { answeredAt, latencies, failures, seconds: (performance.now() - started) / 1000 };
}
