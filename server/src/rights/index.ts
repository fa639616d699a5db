/**
 * Shopper rights (DESIGN.md, privacy): export my data, delete my account, the face-template
 * retention rule. Entry points: createRightsService(deps) with RightsRepo(db) and the ports the
 * composition root wires (rights-ports.ts); rightsMigrations. The deletion is a persisted workflow
 * (rights_deletions.step), resumed by resumeDeletions (housekeeping); runRetention runs daily.
 */
export { createRightsService, DELETION_STEPS, KEPT_AFTER_DELETION, RETENTION_NOTICE_DAYS, DEFAULT_RETENTION_DAYS } from './service.ts';
export type { RightsService, RightsPorts, RightsDeps, Deletion, AccountFacts, EndedMembership } from './service.ts';
export { RightsRepo } from './repo.ts';
export type { DeletionStep } from './repo.ts';
export { rightsMigrations } from './migrations.ts';
