/**
 * Settlement: merchants' daily statements of their live payable, shoppers' withdrawals, and
 * payout runs that pay both out in one ISO 20022 pain.001 SEPA credit-transfer file.
 */
export { createSettlementService, statementResource, payoutClearingAccountId, payoutSentAccountId, withdrawalPendingAccountId } from './service.ts';
export type { SettlementService, SettlementDeps, SettlementAudit, SettlementEvents } from './service.ts';
export { settlementMigrations } from './migrations.ts';
export { buildPain001, decimalAmount, sepaText } from './pain001.ts';
export { checkIban } from './iban.ts';
export type * from './types.ts';
export { createFeeSchedule } from './fees.ts';
export type { FeeRate, FeeSchedule, FeeScheduleDeps } from './fees.ts';
