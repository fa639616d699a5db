export { createPaymentService, platformFee, feeRefund, merchantAccountId, platformFeeAccountId, isTestShopper, testWalletAccountId } from './service.ts';
export type { PaymentService, PaymentsDeps, StoreDirectory, EventSink, AuditReport, RefundListener } from './service.ts';
export { paymentMigrations } from './migrations.ts';
export * from './types.ts';
