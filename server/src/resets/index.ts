export { resetMigrations } from './migrations.ts';
export { createPasswordResets } from './service.ts';
export type { AccountKind, PasswordResets, ResetDeps, ResettableAccounts } from './service.ts';
