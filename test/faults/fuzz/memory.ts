import type { ServiceProcess } from '@pp/testing';

/** Memory: the live heap after a full GC, through the process's inspector, and the RSS. */

/** `Runtime.getHeapUsage` after two full collections, via the process's inspector (CDP). */
export async function liveHeapBytes(proc: ServiceProcess): Promise<number> {
  const line = await proc.waitForLine(/Debugger listening on ws:\/\//);
  const url = /ws:\/\/\S+/.exec(line)![0];
  const ws = new WebSocket(url);
  await new Promise<void>((resolve, reject) => {
    ws.onopen = () => resolve();
    ws.onerror = () => reject(new Error(`inspector at ${url} refused the connection`));
  });
  const waiting = new Map<number, (result: unknown) => void>();
  ws.onmessage = (m: MessageEvent) => {
    const msg = JSON.parse(String(m.data)) as { id?: number; result?: unknown };
    if (msg.id !== undefined) waiting.get(msg.id)?.(msg.result);
  };
  let id = 0;
  const call = (method: string) =>
    new Promise<unknown>((resolve, reject) => {
      const mine = ++id;
      const timer = setTimeout(() => reject(new Error(`${method}: no answer`)), 30_000);
      waiting.set(mine, (result) => {
        clearTimeout(timer);
        resolve(result);
      });
      ws.send(JSON.stringify({ id: mine, method }));
    });
  try {
    await call('HeapProfiler.collectGarbage');
    await call('HeapProfiler.collectGarbage');
    return ((await call('Runtime.getHeapUsage')) as { usedSize: number }).usedSize;
  } finally {
    ws.close();
  }
}

/** The resident set size the process reports in its /metrics. */
export async function rssBytes(base: string): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  return Number(/^process_resident_memory_bytes(?:\{[^}]*\})? (\S+)/m.exec(text)?.[1]);
}
