/** The "persona-pipeline is up" message: where everything is, and a first request to try. */
import type { UpConfig } from './config.ts';
import { say } from './log-format.ts';

export function printBanner(c: UpConfig): void {
  const token = c.gatewayKeys.split(',')[0]!.trim();
  const gateway = `http://127.0.0.1:${c.gatewayPort}`;
  const demo = JSON.stringify({
    transaction_type_id: 'txntp_demo',
    fields: { name_first: 'Ada', name_last: 'Lovelace', birthdate: '1815-12-10' },
    reference_id: 'user-1',
  });
  const persona = c.useSimulator ? `simulator at ${c.personaBase}` : c.personaBase;
  const workers = `${c.workerCount} process${c.workerCount > 1 ? 'es' : ''}`;
  say('');
  say('persona-pipeline is up');
  say(`  API gateway       ${gateway}   (bearer token: ${token})`);
  say(`  webhook receiver  http://127.0.0.1:${c.receiverPort}/webhooks/persona`);
  say(`  Persona           ${persona}`);
  say(`  Redis             ${c.redisUrl} (queue prefix ${c.prefix})`);
  say(`  workers           ${workers}${workerHealth(c)}`);
  if (c.adminUser && c.adminPassword) {
    say(
      `  Bull Board        ${gateway}/admin/queues   (user ${c.adminUser}, password ${c.adminPassword})`,
    );
  }
  say('');
  say('Create a transaction:');
  say(
    `  curl -s -X POST ${gateway}/v1/transactions -H 'Authorization: Bearer ${token}' -H 'Content-Type: application/json' -H "Idempotency-Key: demo-$(date +%s)" -d '${demo}'`,
  );
  say(
    'Then look it up with the id it printed (persona_status becomes approved when the webhooks arrive):',
  );
  say(`  curl -s ${gateway}/v1/transactions/<id> -H 'Authorization: Bearer ${token}'`);
  say('And watch the decision reach the business-action queue:');
  say(
    `  REDIS_URL=${c.redisUrl} QUEUE_PREFIX=${c.prefix} node --experimental-strip-types examples/actions-consumer.ts`,
  );
  say('');
  say('Ctrl-C stops everything.');
}

/** Where the workers' health and metrics listeners are. */
function workerHealth(c: UpConfig): string {
  if (c.workerHttpPort === 0) return '';
  const last = c.workerHttpPort + c.workerCount - 1;
  const ports = c.workerCount > 1 ? `${c.workerHttpPort}-${last}` : String(c.workerHttpPort);
  return `, health and metrics on :${ports}`;
}
