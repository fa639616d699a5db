export { createMerchantService, hasScope, hashSecret, pageLimit, toPage } from './service.ts';
export type { MerchantService, MerchantsDeps } from './service.ts';
export { isPublicAddress, type Resolver } from './url-guard.ts';
export { createWebhookService, signPayload, verifySignature, nextDelay, defaultRetry, SIGNATURE_HEADER } from './webhooks.ts';
export type { WebhookService, WebhookDeps, NewEvent, RetryPolicy } from './webhooks.ts';
export { merchantMigrations } from './migrations.ts';
export * from './types.ts';
export type * from './webhook-types.ts';
