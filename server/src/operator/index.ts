/**
 * Operator staff: the people of the platform operator (not of any merchant) who sign in to the
 * operator API: `desk` users credit wallets at the service desk, `admin` users also import bank
 * statements and read the reconciliation. Passwords are scrypt hashes, sessions stored hashed.
 */
export { createOperatorService, OPERATOR_ROLES } from './service.ts';
export type { OperatorService, OperatorStaff, OperatorServiceDeps } from './service.ts';
export { OperatorRepo } from './repo.ts';
export type { OperatorRole } from './repo.ts';
export { operatorMigrations } from './migrations.ts';
export { createMerchantOverview } from './overview.ts';
export type { MerchantOverview, MerchantOverviewService, VolumeFigures } from './overview.ts';
