export { createLedger } from './service.ts';
export type { Ledger, LedgerDeps } from './service.ts';
export { ledgerMigrations } from './migrations.ts';
export * from './types.ts';
export { createWallets, topUpFundingSource, walletAccountId, fundingAccountId, checkShopperId } from './wallets.ts';
export type { Wallets, FundingSource, FundingRequest } from './wallets.ts';
