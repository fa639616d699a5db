export { createShopperService, maskName, FACE_PAY_CONSENT } from './service.ts';
export type { ShopperService, Shopper, FaceTemplatePort, FaceEnrolmentPort, EnrolmentChallenge, ShopperServiceDeps, FaceTemplateFacts } from './service.ts';
export { ShopperRepo } from './repo.ts';
export { shopperMigrations } from './migrations.ts';
