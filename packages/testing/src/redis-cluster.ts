import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { redisAnswers } from '@pp/shared';
import { freePort } from './redis-server.ts';
import { eventually } from './wait.ts';

const SLOTS = 16_384;

interface ClusterNode {
  port: number;
  dir: string;
  proc: ChildProcess;
}

/**
 * A Redis Cluster of the test's own: `masters` local `redis-server --cluster-enabled yes`
 * on free ports (data and cluster bus), each with a temporary directory, the slots split
 * between them, no replicas. `start` resolves once every node says `cluster_state:ok`.
 */
export class SpawnedCluster {
  readonly #nodes: ClusterNode[];

  private constructor(nodes: ClusterNode[]) {
    this.#nodes = nodes;
  }

  static async start({ masters = 3 }: { masters?: number } = {}): Promise<SpawnedCluster> {
    const ports = await distinctFreePorts(masters * 2);
    const nodes: ClusterNode[] = [];
    const cluster = new SpawnedCluster(nodes);
    try {
      for (let i = 0; i < masters; i++) {
        nodes.push(startNode(ports[i]!, ports[masters + i]!));
      }
      await Promise.all(
        nodes.map((n) =>
          eventually(() => redisAnswers(`redis://127.0.0.1:${n.port}`), {
            timeoutMs: 10_000,
            intervalMs: 50,
            what: `cluster node on ${n.port} to start`,
          }),
        ),
      );
      await withNodes(nodes, async (clients) => {
        // Contiguous slot ranges, one per master; then the first node meets the others.
        await Promise.all(
          clients.map((c, i) =>
            c.call(
              'CLUSTER',
              'ADDSLOTSRANGE',
              String(Math.floor((SLOTS * i) / masters)),
              String(Math.floor((SLOTS * (i + 1)) / masters) - 1),
            ),
          ),
        );
        await Promise.all(
          clients
            .slice(1)
            .map((_c, i) =>
              clients[0]!.call(
                'CLUSTER',
                'MEET',
                '127.0.0.1',
                String(ports[i + 1]),
                String(ports[masters + i + 1]),
              ),
            ),
        );
        await eventually(
          async () => {
            const infos = await Promise.all(clients.map((c) => c.call('CLUSTER', 'INFO')));
            return infos.every(
              (info) =>
                String(info).includes('cluster_state:ok') &&
                String(info).includes(`cluster_known_nodes:${masters}`),
            );
          },
          { timeoutMs: 20_000, intervalMs: 50, what: 'cluster_state:ok on every node' },
        );
      });
    } catch (err) {
      await cluster.stop();
      throw err;
    }
    return cluster;
  }

  /** The REDIS_URL of this cluster: the first node as the seed. */
  get url(): string {
    return `redis+cluster://127.0.0.1:${this.#nodes[0]!.port}`;
  }

  /** SIGKILLs every node and removes their directories. */
  async stop(): Promise<void> {
    await Promise.all(
      this.#nodes.map(async ({ proc, dir }) => {
        if (proc.exitCode === null && proc.signalCode === null) {
          const exited = new Promise((r) => proc.once('exit', r));
          proc.kill('SIGKILL');
          await exited;
        }
        rmSync(dir, { recursive: true, force: true });
      }),
    );
  }
}

function startNode(port: number, busPort: number): ClusterNode {
  const dir = mkdtempSync(join(tmpdir(), 'pp-redis-cluster-'));
  const proc = spawn(
    process.env.REDIS_SERVER_BIN ?? '/usr/bin/redis-server',
    [
      '--port',
      String(port),
      '--cluster-port',
      String(busPort),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--cluster-enabled',
      'yes',
      '--cluster-config-file',
      'nodes.conf',
      '--cluster-node-timeout',
      '5000',
      '--save',
      '',
      '--appendonly',
      'no',
    ],
    { stdio: 'ignore' },
  );
  return { port, dir, proc };
}

/** Runs `work` with one plain connection per node, closed afterwards. */
async function withNodes(nodes: ClusterNode[], work: (clients: Redis[]) => Promise<void>) {
  const clients = nodes.map((n) => new Redis(n.port, '127.0.0.1', { maxRetriesPerRequest: 1 }));
  try {
    await work(clients);
  } finally {
    for (const c of clients) c.disconnect();
  }
}

async function distinctFreePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}
