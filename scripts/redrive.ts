/**
 * `pnpm redrive`: lists the requests that failed, and re-drives those that failed for a
 * transient reason (Persona unreachable past every attempt, its quota outlasting our wait, a
 * job that died). Requests Persona refused (4xx) are listed, never re-driven.
 *
 *   pnpm redrive list          every failed request, and whether it can be re-driven
 *   pnpm redrive <id> [<id>…]  re-drive these
 *   pnpm redrive --all         re-drive every one that can be
 *
 * Reads REDIS_URL and QUEUE_PREFIX, like the services.
 */
import { Queue } from 'bullmq';
import { z } from 'zod';
import {
  baseEnv,
  catalog,
  connectProducer,
  isRedrivable,
  loadConfigOrExit,
  redriveRequest,
  RequestStore,
} from '@pp/shared';

const config = loadConfigOrExit('redrive', z.object(baseEnv));
const args = process.argv.slice(2);
if (args.length === 0 || args.includes('--help')) {
  process.stdout.write('usage: pnpm redrive list | <request id>… | --all\n');
  process.exit(args.length === 0 ? 2 : 0);
}

const redis = await connectProducer({ url: config.REDIS_URL, name: 'redrive' });
const store = new RequestStore(redis, { prefix: config.QUEUE_PREFIX });
const queue = new Queue(catalog.transactionCreate.name, {
  connection: redis,
  prefix: config.QUEUE_PREFIX,
});
const say = (line: string) => process.stdout.write(`${line}\n`);

try {
  const failed = await store.failed();
  if (args[0] === 'list') {
    say(`${failed.length} failed request(s)`);
    for (const f of failed) {
      const when = new Date(f.failedAt).toISOString();
      say(
        `${f.id}  ${f.code.padEnd(20)} ${when}  ${isRedrivable(f.code) ? 're-drivable' : 'refused, not re-drivable'}`,
      );
    }
  } else {
    const ids = args.includes('--all')
      ? failed.filter((f) => isRedrivable(f.code)).map((f) => f.id)
      : args;
    let redriven = 0;
    for (const id of ids) {
      const result = await redriveRequest(store, queue, id);
      if (result === 'redriven') redriven++;
      say(`${id}  ${result}`);
    }
    say(`${redriven} of ${ids.length} re-driven`);
    process.exitCode = redriven === ids.length ? 0 : 1;
  }
} finally {
  await queue.close();
  redis.disconnect();
}
