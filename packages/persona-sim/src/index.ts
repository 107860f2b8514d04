export * from './simulator.ts';
export * from './signature.ts';
export * from './webhook-sender.ts';
export * from './ids.ts';
export * from './inflection.ts';
