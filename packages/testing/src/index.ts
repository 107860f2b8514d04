export * from './redis-server.ts';
export * from './redis-cluster.ts';
export * from './log-capture.ts';
export * from './redis.ts';
export * from './process.ts';
export * from './wait.ts';
export * from './persona-event.ts';
