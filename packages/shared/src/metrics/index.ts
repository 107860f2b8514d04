export * from './registry.ts';
export * from './http.ts';
export * from './leader.ts';
export * from './persona.ts';
export * from './queues.ts';
export * from './events.ts';
