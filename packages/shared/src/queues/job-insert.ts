import { Job, type JobsOptions, type Queue } from 'bullmq';
import { addStandardJob } from 'bullmq/dist/esm/scripts/addStandardJob-9.js';

/**
 * A BullMQ job, ready to be written by one of our Lua scripts in the same atomic step as
 * our own keys (a request and its creation job; an event's dedupe mark and its job): one
 * round trip, and no moment at which one exists without the other.
 *
 * The keys and arguments are BullMQ's own, built by BullMQ's `Job` for its
 * `addStandardJob` script, whose source our scripts embed (`JOB_INSERT_LUA`). The version
 * is pinned; `job-insert.int.test.ts` compares a job written this way with one from
 * `queue.add` and fails if an upgrade changes either.
 */
export interface JobInsert {
  /** `addStandardJob`'s nine keys (wait, paused, meta, id, completed, delayed, active, events, marker). */
  keys: string[];
  /** Its three arguments: packed job arguments, the data as JSON, packed options. */
  args: (string | Buffer)[];
}

/** A business job an event's fan-out plan still owes: its queue's name and its insert. */
export interface OwedJob {
  queue: string;
  job: JobInsert;
}

/** How many keys a {@link JobInsert} passes to a script (and three arguments). */
export const JOB_INSERT_KEYS = addStandardJob.keys;

/**
 * Lua that defines `addStandardJob(KEYS, ARGV)`: BullMQ's script as a local function, for a
 * script that calls it with a {@link JobInsert}'s keys and arguments (sliced from its own).
 */
export const JOB_INSERT_LUA = `local function addStandardJob(KEYS, ARGV)\n${addStandardJob.content}\nend\n`;

const STANDARD = `${addStandardJob.name}:`;

/**
 * Builds the insert of a job exactly as `queue.add(name, data, opts)` would (the queue's
 * default options merged in). Only jobs BullMQ writes with `addStandardJob` qualify: no
 * delay, priority, parent, repeat or deduplication.
 */
export function prepareJob(
  queue: Queue,
  name: string,
  data: unknown,
  opts: JobsOptions & { jobId: string },
): JobInsert {
  const job = new Job(queue, name, data, { ...queue.defaultJobOptions, ...opts }, opts.jobId);
  let captured: { command: string; args: unknown[] } | undefined;
  const capture = {
    runCommand: (command: string, args: unknown[]) => {
      captured = { command, args };
      return Promise.resolve(opts.jobId);
    },
  };
  // BullMQ builds the arguments and hands them to `runCommand` synchronously.
  void job.addJob(capture as never);
  if (!captured?.command.startsWith(STANDARD)) {
    throw new Error(
      `job ${opts.jobId} is not a standard job (${captured?.command ?? 'no insert'})`,
    );
  }
  const all = captured.args as (string | Buffer)[];
  return { keys: all.slice(0, JOB_INSERT_KEYS) as string[], args: all.slice(JOB_INSERT_KEYS) };
}
