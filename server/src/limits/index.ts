/**
 * Platform limits set by the operator's admins at run time (the configuration gives the
 * defaults), read by payments, face pay's risk rules and funding when they apply them.
 */
export { createPlatformLimits, LIMIT_KEYS } from './service.ts';
export type { LimitChange, LimitKey, PlatformLimit, PlatformLimits, PlatformLimitsDeps, PlatformLimitsService } from './service.ts';
export { limitMigrations } from './migrations.ts';
