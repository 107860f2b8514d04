/**
 * Redis Cluster mode, as `REDIS_URL` names it: `redis+cluster://` (or `rediss+cluster://`
 * for TLS) and one seed node; the client learns the other nodes from the seed.
 */
const CLUSTER_URL = /^rediss?\+cluster:\/\//i;

export const isClusterUrl = (url: string): boolean => CLUSTER_URL.test(url);

/** The seed node and the options every node connection shares, from a cluster URL. */
export function clusterSeed(url: string): {
  host: string;
  port: number;
  username?: string;
  password?: string;
  tls: boolean;
} {
  const u = new URL(url);
  const username = decodeURIComponent(u.username);
  const password = decodeURIComponent(u.password);
  return {
    host: u.hostname.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1',
    port: u.port ? Number(u.port) : 6379,
    ...(username ? { username } : {}),
    ...(password ? { password } : {}),
    tls: u.protocol.startsWith('rediss'),
  };
}

/**
 * The hash tag of a key as Redis Cluster reads it (the text between the first `{` and the
 * next `}`, when not empty), or null. A prefix with a tag keeps every key under it in one
 * slot: the tag lies in the prefix itself, so nothing after it changes the slot.
 */
export function hashTag(key: string): string | null {
  const open = key.indexOf('{');
  if (open < 0) return null;
  const close = key.indexOf('}', open + 1);
  return close > open + 1 ? key.slice(open + 1, close) : null;
}
