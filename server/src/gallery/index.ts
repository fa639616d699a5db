/**
 * The gallery: encrypted face templates, the in-process 1:N index, and the decision (match,
 * ask for the phone's last four digits, or no match) at a known false-match risk.
 *
 * The Gallery class (service.ts: start, index information, search and decision) is built over
 * parts that each own one thing: keys.ts (the data keys under the master keyring), events.ts (the
 * change log other processes follow), enrolment.ts (every write of a face), rebuild.ts (a
 * partition's index from the database) and shared.ts (the embedding check); shapes in types.ts.
 */
export { galleryMigrations } from './migrations.ts';
export { DEFAULT_CANDIDATES, Gallery } from './service.ts';
export { GAP_WAIT_MS } from './events.ts';
export { DEFAULT_SEARCH_BUDGET_MS } from './types.ts';
export type { Embedding, EnrolInput, GalleryOptions, ModelRef, SearchScope, SearchStats, ServedPartition, StartReport } from './types.ts';
export { DEFAULT_POLICY, decide, decideNarrowed, falseMatchProbability, thresholdForGallery } from './policy.ts';
export type { Decision, DecisionPolicy, ScoredShopper } from './policy.ts';
export { calibrationFromJson, fitImpostorTail } from './tail.ts';
export { ENVELOPE_CONFIDENCE, envelopeOf, poissonUpperBound, populationTail } from './envelope.ts';
export type { Envelope, PopulationTail } from './envelope.ts';
export type { CurvePoint, FalseMatchCalibration, TailDescription, TailModel } from './tail.ts';
export { loadMasterKeys, masterKeyFromBase64, masterKeyFromBytes } from './crypto.ts';
export type { MasterKey, MasterKeyring, MasterKeySource } from './crypto.ts';
export { DEFAULT_ANN, DEFAULT_PARALLEL_FROM, LocalPartition, PartitionRouter } from './partition.ts';
export type { AnnParams, GalleryPartition, Hit, PartitionSearch, SearchMethod } from './partition.ts';
export { chooseMethod, ExactStore, measureExactScanRate } from './exact.ts';
export { learnProjection, project } from './projection.ts';
export type { Projection } from './projection.ts';
export { deleteShopperTemplates, describeShopperTemplates } from './offline.ts';
