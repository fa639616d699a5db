export * from './clock.ts';
export * from './random.ts';
export * from './ids.ts';
export * from './errors.ts';
export * from './paths.ts';
export * from './progress.ts';
export * from './passwords.ts';
export * from './currencies.ts';
