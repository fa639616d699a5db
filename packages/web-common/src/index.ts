export * from './money.ts';
export * from './pay-code.ts';
