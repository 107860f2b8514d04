// An internal system consuming a business-action queue (node examples/actions-consumer.ts).
import { Worker } from 'bullmq';

const queue = process.env.ACTION_QUEUE ?? 'actions-approve';
const connection = { url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' };
new Worker(
  queue,
  async (job) => {
    // job.id is the Persona event id: make the action idempotent on it.
    const { id, persona_status, persona_transaction_id, reference_id } = job.data as Record<
      string,
      string
    >;
    console.log(
      `${queue}: request ${id} is ${persona_status} (Persona ${persona_transaction_id}, user ${reference_id})`,
    );
  },
  { connection, prefix: process.env.QUEUE_PREFIX ?? 'pp' },
);
