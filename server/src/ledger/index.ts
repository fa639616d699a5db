export { createLedger } from './service.ts';
export type { Ledger, LedgerDeps, AccountSum } from './service.ts';
export type { ExactTotals } from './repo.ts';
export { ledgerMigrations } from './migrations.ts';
export * from './types.ts';
export { createWallets, topUpFundingSource, walletAccountId, fundingAccountId, checkShopperId } from './wallets.ts';
export type { Wallets, FundingSource, FundingRequest } from './wallets.ts';
