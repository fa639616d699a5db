export { createFundingService } from './service.ts';
export type { FundingService, FundingDeps } from './service.ts';
export { fundingMigrations } from './migrations.ts';
export { rfReference, parseRfReference } from './reference.ts';
export type * from './types.ts';
