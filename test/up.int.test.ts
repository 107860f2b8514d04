import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { eventually, freePort, LogCapture, repoRoot } from '@pp/testing';

/**
 * The README's first command, as a new user runs it: `pnpm start` with nothing but the
 * environment. Here Redis is pointed at a free port, so the script must start its own.
 */
describe('one command starts the whole pipeline', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'pp-up-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('When started with no Redis running and no Persona key, then it starts Redis and the simulator, prints a curl whose transaction reaches actions-approve, and stops everything on Ctrl-C', async () => {
    const [redisPort, gatewayPort, receiverPort, simPort, workerPort] = await Promise.all([
      freePort(),
      freePort(),
      freePort(),
      freePort(),
      freePort(),
    ]);
    const out = new LogCapture();
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      REDIS_URL: `redis://127.0.0.1:${redisPort}`,
      GATEWAY_PORT: String(gatewayPort),
      WEBHOOK_RECEIVER_PORT: String(receiverPort),
      PERSONA_SIM_PORT: String(simPort),
      WORKER_HTTP_PORT: String(workerPort),
      PIPELINE_DATA_DIR: dataDir,
      PERSONA_SIM_DECISION_DELAY_MS: '200',
    };
    const up = spawn(process.execPath, ['scripts/up.ts'], {
      cwd: repoRoot,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    up.stdout.on('data', (d: Buffer) => out.push(d.toString()));
    up.stderr.on('data', (d: Buffer) => out.push(d.toString()));
    const exited = new Promise<number | null>((r) => up.once('exit', (code) => r(code)));
    try {
      await eventually(() => out.lines.some((l) => l.includes('persona-pipeline is up')), {
        timeoutMs: 60_000,
        what: 'the pipeline to start',
      });
      expect(out.text).toContain(`starting`);
      expect(out.text).toContain(`redis-${redisPort}`);
      // Children's JSON log lines are printed compactly (time, name, level, message); other
      // output, such as redis-server's, is indented under the name.
      expect(out.text).toMatch(/^\d\d:\d\d:\d\d\.\d{3} api-gateway {6}INFO {2}\S/m);
      expect(out.text).toMatch(/^ {13}redis {12}\S/m);

      // The banner names Bull Board and its local login, and the workers' health port.
      const board = /Bull Board\s+(\S+)\s+\(user (\S+), password (\S+)\)/.exec(out.text)!;
      expect(board[1]).toBe(`http://127.0.0.1:${gatewayPort}/admin/queues`);
      expect((await fetch(board[1]!)).status).toBe(401);
      const login = Buffer.from(`${board[2]}:${board[3]}`).toString('base64');
      expect(
        (await fetch(board[1]!, { headers: { authorization: `Basic ${login}` } })).status,
      ).toBe(200);
      expect(out.text).toContain(`health and metrics on :${workerPort}`);
      expect((await fetch(`http://127.0.0.1:${workerPort}/readyz`)).status).toBe(200);

      // Run the printed curl, as printed: URL, headers and body.
      const curl = out.lines.find((l) => l.trim().startsWith('curl -s -X POST'))!;
      const url = /-X POST (\S+)/.exec(curl)![1]!;
      const headers = Object.fromEntries(
        [...curl.matchAll(/-H (?:'([^']*)'|"([^"]*)")/g)].map((m) => {
          const h = (m[1] ?? m[2]!).replace('$(date +%s)', String(Date.now()));
          const i = h.indexOf(':');
          return [h.slice(0, i).trim(), h.slice(i + 1).trim()];
        }),
      );
      const body = /-d '([^']*)'/.exec(curl)![1]!;
      const res = await fetch(url, { method: 'POST', headers, body });
      expect(res.status).toBe(202);
      const { id } = (await res.json()) as { id: string };

      const lookup = out.lines.find((l) => l.trim().startsWith('curl -s http'))!;
      const getUrl = /curl -s (\S+)/.exec(lookup)![1]!.replace('<id>', id);
      const record = await eventually(
        async () => {
          const r = (await (
            await fetch(getUrl, { headers: { authorization: headers.Authorization! } })
          ).json()) as Record<string, unknown>;
          return r.status === 'submitted' ? r : undefined;
        },
        { what: 'the transaction to be submitted' },
      );
      expect(record.persona_transaction_id).toMatch(/^txn_/);

      // The simulator decides, its signed webhooks reach the receiver, and the decision
      // lands on actions-approve, where the README's consumer picks it up.
      await eventually(
        async () => {
          const r = (await (
            await fetch(getUrl, { headers: { authorization: headers.Authorization! } })
          ).json()) as Record<string, unknown>;
          return r.persona_status === 'approved';
        },
        { what: 'the decision to arrive by webhook' },
      );
      const consumer = spawn(
        process.execPath,
        ['--experimental-strip-types', 'examples/actions-consumer.ts'],
        {
          cwd: repoRoot,
          env: { PATH: env.PATH, REDIS_URL: env.REDIS_URL },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      const printed = new LogCapture();
      consumer.stdout.on('data', (d: Buffer) => printed.push(d.toString()));
      try {
        const line = await eventually(() => printed.lines.find((l) => l.includes(id)), {
          what: 'the consumer to print the job',
        });
        expect(line).toBe(
          `actions-approve: request ${id} is approved (Persona ${String(record.persona_transaction_id)}, user user-1)`,
        );
      } finally {
        consumer.kill('SIGTERM');
      }
    } finally {
      up.kill('SIGINT');
      expect(await exited).toBe(0);
    }
    // Its redis-server went with it.
    await expect(fetch(`http://127.0.0.1:${gatewayPort}/healthz`)).rejects.toThrow();
  });
});
