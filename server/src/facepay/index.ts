export { createFacePayService, DEFAULT_FACE_PAY_LIMITS } from './service.ts';
export type { FacePayService, FacePayDecision, FacePayDeps, FacePayLimits, PaymentOutcome } from './service.ts';
export type * from './ports.ts';
export { AttemptRepo } from './repo.ts';
export { facePayMigrations } from './migrations.ts';
