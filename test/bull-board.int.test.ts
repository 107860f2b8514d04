import { existsSync, mkdirSync } from 'node:fs';
import { Queue, Worker } from 'bullmq';
import { chromium, type Browser } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';
import { catalog, DEFAULT_ROUTING_RULES, actionQueuesOf } from '@pp/shared';
import { REDIS_URL, eventually, repoRoot } from '@pp/testing';
import { ADMIN_PATH } from '@pp/api-gateway/admin';
import { startPipeline, type Pipeline } from './harness.ts';

/**
 * Bull Board in a real browser (Debian's Chromium, driven by playwright-core): the login,
 * every queue, a failed and a completed job, and no personal data anywhere on the way.
 */

const CHROMIUM = '/usr/bin/chromium';
const USER = 'board-admin';
const PASSWORD = 'board-test-password';
/** Personal data a future payload or error might carry: none may reach the browser. */
const SENTINELS = ['Ada-SENTINEL', 'sentinel.ada@example.com', '+44 20 7946 0958', 'SENTINEL-SSN'];
const SCREENSHOT = `${repoRoot}test/artifacts/bull-board.png`;

let p: Pipeline | undefined;
let browser: Browser | undefined;
const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  await browser?.close();
  for (const c of closers.splice(0)) await c();
  await p?.close();
  p = browser = undefined;
});

describe('Bull Board', () => {
  it.skipIf(!existsSync(CHROMIUM))(
    'When an operator logs in, then every queue is listed, a failed and a completed job open, and no personal data shows; without credentials the board is refused',
    async () => {
      p = await startPipeline({
        workers: false,
        gateway: { ADMIN_USERNAME: USER, ADMIN_PASSWORD: PASSWORD, ADMIN_READ_ONLY: 'false' },
      });
      // Two lookups whose payloads (and one's failure) carry personal data they should not.
      const name = catalog.personaLookup.name;
      const connection = { url: REDIS_URL };
      const queue = new Queue(name, { connection, prefix: p.prefix });
      closers.push(() => queue.close());
      const data = (n: number) => ({
        requestId: `req_${String(n).repeat(32)}`,
        transactionId: `txn_board${n}`,
        name_first: SENTINELS[0],
        contact: { email: SENTINELS[1], phone: SENTINELS[2] },
      });
      await queue.add('lookup', data(1), { jobId: 'board-ok', attempts: 1 });
      await queue.add('lookup', data(2), { jobId: 'board-fail', attempts: 1 });
      const worker = new Worker(
        name,
        (job) => {
          if (job.id === 'board-fail') {
            throw new Error(
              `lookup failed for "${SENTINELS[0]}" <${SENTINELS[1]}> ${SENTINELS[2]} ${SENTINELS[3]}`,
            );
          }
          return Promise.resolve({ result: 'ingested', events: 2, note: SENTINELS[3] });
        },
        { connection, prefix: p.prefix },
      );
      closers.push(() => worker.close());
      await eventually(
        async () => {
          const c = await queue.getJobCounts('completed', 'failed');
          return c.completed === 1 && c.failed === 1;
        },
        { what: 'one completed and one failed lookup' },
      );

      const board = `${p.gateway.url}${ADMIN_PATH}`;
      expect((await fetch(board)).status).toBe(401);
      const wrong = Buffer.from(`${USER}:nope`).toString('base64');
      expect((await fetch(board, { headers: { authorization: `Basic ${wrong}` } })).status).toBe(
        401,
      );

      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: [
          '--no-sandbox',
          '--disable-gpu',
          '--disable-quic',
          '--no-first-run',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
        ],
      });
      // Without credentials Chromium either shows the 401 or gives up on the login it cannot do.
      const refused = await (await browser.newContext()).newPage();
      const answer = await refused.goto(board).then(
        (res) => String(res?.status()),
        (err: Error) => err.message,
      );
      expect(answer).toMatch(/^401$|ERR_INVALID_AUTH_CREDENTIALS/);
      await refused.close();

      const context = await browser.newContext({
        httpCredentials: { username: USER, password: PASSWORD },
      });
      const page = await context.newPage();
      const seen: string[] = [];
      page.on('response', (res) => {
        if (res.url().includes('/api/'))
          void res.text().then(
            (t) => seen.push(t),
            () => {},
          );
      });

      await page.goto(board);
      const queues = [
        ...Object.values(catalog).map((spec) => spec.name),
        ...actionQueuesOf(DEFAULT_ROUTING_RULES),
      ];
      for (const q of queues) await page.getByText(q, { exact: true }).first().waitFor();

      await page.goto(`${board}/queue/${name}?status=failed`);
      await page.getByText('board-fail').first().waitFor();
      await page.goto(`${board}/queue/${name}/board-fail`);
      await page.getByText('lookup failed for').first().waitFor();
      const failedPage = await page.content();
      await page.goto(`${board}/queue/${name}/board-ok`);
      await page.getByText('ingested').first().waitFor();
      const completedPage = await page.content();
      mkdirSync(`${repoRoot}test/artifacts`, { recursive: true });
      await page.screenshot({ path: SCREENSHOT, fullPage: true });

      expect(seen.length).toBeGreaterThan(0);
      for (const text of [failedPage, completedPage, ...seen]) {
        for (const sentinel of SENTINELS) expect(text).not.toContain(sentinel);
      }
      expect(existsSync(SCREENSHOT)).toBe(true);
    },
  );
});
