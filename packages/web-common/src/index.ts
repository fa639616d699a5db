export * from './money.ts';
export * from './pay-code.ts';
export * from './member-fields.ts';
export * from './payment-method.ts';
