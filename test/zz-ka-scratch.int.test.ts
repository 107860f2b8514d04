import { Agent, request as httpRequest } from 'node:http';
import { Redis } from 'ioredis';
import { it } from 'vitest';
import { freePort, ServiceProcess, SpawnedRedis, uniquePrefix } from '@pp/testing';

it('keepalive drain', async () => {
  const redis = await SpawnedRedis.start();
  const port = await freePort();
  const gw = new ServiceProcess('api-gateway', { REDIS_URL: redis.url, QUEUE_PREFIX: uniquePrefix('ka'), GATEWAY_PORT: String(port), GATEWAY_API_KEYS: 't', GATEWAY_REDIS_TIMEOUT_MS: '5000' });
  await gw.waitForLine(/listening/);
  const r = new Redis(redis.url);
  const agent = new Agent({ keepAlive: true });
  const body = JSON.stringify({ transaction_type_id: 'txntp_x', fields: {} });
  const send = () => new Promise<number>((resolve, reject) => {
    const req = httpRequest(`http://127.0.0.1:${port}/v1/transactions`, { method: 'POST', agent, headers: { authorization: 'Bearer t', 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), expect: '100-continue' } });
    req.on('continue', () => { req.end(body); });
    req.on('response', (res) => { console.log('conn header', res.headers.connection); res.resume(); res.on('end', () => resolve(res.statusCode!)); });
    req.on('error', reject);
    req.flushHeaders();
  });
  await send(); // warm a keep-alive connection
  await r.call('CLIENT', 'PAUSE', '500', 'WRITE');
  const p = Promise.all([send(), send(), send()]);
  await new Promise((res) => setTimeout(res, 100));
  const t = Date.now();
  gw.proc.kill('SIGTERM');
  console.log(await p);
  const tAfter = Date.now();
  const late = await send().catch((e: Error) => e.message);
  console.log('request sent on a kept-alive connection', Date.now() - t, 'ms after SIGTERM:', late, 'exitCode now', gw.proc.exitCode);
  const code = await gw.exited();
  console.log('exit', code, 'after', Date.now() - t);
  console.log(gw.logs.lines.slice(-4).join('\n'));
  r.disconnect(); agent.destroy(); await redis.stop();
}, 30000);
