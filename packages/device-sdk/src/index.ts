export * from './protocol.ts';
export * from './keys.ts';
export * from './key-store.ts';
export * from './client.ts';
export * from './retry.ts';
