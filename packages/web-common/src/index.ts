export * from './money.ts';
export * from './pay-code.ts';
export * from './member-fields.ts';
export * from './payment-method.ts';
export * from './i18n.ts';
export * from './localize.ts';
export { commonMessages, type CommonKey } from './messages/common.ts';
export { errorMessages, type ErrorKey } from './messages/errors.ts';
