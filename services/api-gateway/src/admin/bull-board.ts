import { createHash, timingSafeEqual } from 'node:crypto';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Job, Queue } from 'bullmq';
import { Router, type NextFunction, type Request, type Response } from 'express';
import { scrubStack, scrubText, scrubValue } from '@pp/shared';

export const ADMIN_PATH = '/admin/queues';

export interface BoardOptions {
  queues: Queue[];
  username: string;
  password: string;
  /** No retries, no cleaning, no pausing: watch only. */
  readOnly: boolean;
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/** HTTP basic auth against one username and password, compared in constant time. */
function basicAuth(username: string, password: string) {
  const expected = digest(`${username}:${password}`);
  return (req: Request, res: Response, next: NextFunction): void => {
    const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(req.get('authorization') ?? '');
    const presented = digest(match ? Buffer.from(match[1]!, 'base64').toString('utf8') : '');
    if (timingSafeEqual(presented, expected)) {
      next();
      return;
    }
    res.setHeader('www-authenticate', 'Basic realm="persona-pipeline admin", charset="UTF-8"');
    res.status(401).json({ error: { code: 'unauthorized', message: 'admin login required' } });
  };
}

/**
 * A job as Bull Board handles it. What it shows, whatever the payload: data and return
 * values keep only allowlisted keys, failure reasons and stack traces lose anything that
 * could be personal (the board reads a job through `toJSON`). A retry from the board starts
 * the job's attempts afresh: for a failed creation it is a re-drive, and it deserves its
 * full share of attempts, not the one left over.
 */
function forTheBoard(job: Job): Job {
  const retry = job.retry.bind(job);
  job.retry = (state) => retry(state, { resetAttemptsMade: true, resetAttemptsStarted: true });
  const original = job.toJSON.bind(job);
  job.toJSON = () => {
    const json = original();
    return {
      ...json,
      data: scrubValue(json.data as unknown) as Record<string, unknown>,
      returnvalue: scrubValue(json.returnvalue as unknown) as Record<string, unknown>,
      failedReason: scrubText(json.failedReason ?? ''),
      stacktrace: (json.stacktrace ?? []).map(scrubStack),
    };
  };
  return job;
}

/** Bull Board's queue adapter: every job it hands out goes through {@link forTheBoard}. */
class ScrubbedAdapter extends BullMQAdapter {
  override async getJob(id: string) {
    const job = await super.getJob(id);
    return job ? forTheBoard(job) : job;
  }

  override async getJobs(...args: Parameters<BullMQAdapter['getJobs']>) {
    return (await super.getJobs(...args)).map(forTheBoard);
  }
}

/** Bull Board at `/admin/queues`, behind basic auth, over every queue of the pipeline. */
export function bullBoard(options: BoardOptions): Router {
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(ADMIN_PATH);
  createBullBoard({
    queues: options.queues.map(
      (q) =>
        new ScrubbedAdapter(q, {
          readOnlyMode: options.readOnly,
          allowRetries: !options.readOnly,
        }),
    ),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'persona-pipeline' } },
  });
  const router = Router();
  // Bull Board's router is typed loosely by its package.
  const board = serverAdapter.getRouter() as Router;
  router.use(ADMIN_PATH, basicAuth(options.username, options.password), board);
  return router;
}
