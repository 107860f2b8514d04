import type { IncomingMessage } from 'node:http';
import { errorBody, readBody } from './http.ts';
import type { Faults, LoggedRequest, SimEvent, SimTransaction } from './types.ts';
import type { WebhookSender } from './webhook-sender.ts';

/** What the `/__sim/*` endpoints read and change. */
export interface AdminTarget {
  readonly requests: LoggedRequest[];
  readonly transactions: Map<string, SimTransaction>;
  readonly events: SimEvent[];
  readonly webhooks: WebhookSender;
  faults: Faults;
}

/** `GET /__sim/stats` and `PUT /__sim/faults`, for a simulator run as its own process. */
export function handleAdmin(
  sim: AdminTarget,
  method: string,
  url: URL,
  req: IncomingMessage,
  send: (status: number, body: string) => void,
): void {
  if (method === 'GET' && url.pathname === '/__sim/stats') {
    const byStatus: Record<string, number> = {};
    for (const r of sim.requests)
      byStatus[String(r.status)] = (byStatus[String(r.status)] ?? 0) + 1;
    send(
      200,
      JSON.stringify({
        requests: sim.requests.length,
        byStatus,
        transactions: sim.transactions.size,
        events: sim.events.length,
        webhookDeliveries: sim.webhooks.deliveries.length,
        webhooksLost: sim.webhooks.lost.length,
        faults: sim.faults,
      }),
    );
    return;
  }
  if (method === 'PUT' && url.pathname === '/__sim/faults') {
    void readBody(req).then(
      (raw) => {
        try {
          sim.faults = { ...sim.faults, ...(JSON.parse(raw) as Partial<Faults>) };
          send(200, JSON.stringify(sim.faults));
        } catch {
          send(400, errorBody('Bad Request', 'faults must be a JSON object'));
        }
      },
      () => send(413, errorBody('Payload too large')),
    );
    return;
  }
  send(404, errorBody('Record not found'));
}
