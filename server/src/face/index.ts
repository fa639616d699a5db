/**
 * The face module: find, check, align and embed faces, passive liveness, and the active challenge.
 * Other modules import only from here.
 */
export { createFaceEngine, type Comparison, type FaceEngine } from './engine.ts';
export { faceConfig, defaultFaceConfig, type FaceConfig } from './config.ts';
export type { AnalyzeOptions, DetectedFace, FaceAnalysis, Liveness, Pose, Purpose, Quality, Timings } from './analyzer.ts';
export type { Embedder, EmbedderModel } from './embedders.ts';
export { EMBEDDER_NAMES } from './embedders.ts';
export { faceErrors, FACE_REFUSAL_CODES, type FaceRefusalCode } from './errors.ts';
export { cosine, l2normalise, type FivePoints, type Point } from './align.ts';
export { loadCalibration, loadPopulationCalibrations, sameFaceBar, thresholdForFmr, withoutLabelErrors, calibrationPath, type Calibration, type CurvePoint } from './calibration.ts';
export {
  issueChallenge,
  verifyChallenge,
  checkFrameTiming,
  defaultFrameTiming,
  type FrameTimingOptions,
  CHALLENGE_KINDS,
  defaultChallengeOptions,
  type Challenge,
  type ChallengeFrame,
  type ChallengeFrameAnalysis,
  type ChallengeKind,
  type ChallengeOptions,
  type ChallengeVerdict,
  type ChallengeFailure,
} from './challenge.ts';
export {
  analyseStream,
  challengeBars,
  checkStaged,
  checkStream,
  coarseFrames,
  defaultStreamPlan,
  repeatedFrames,
  secondFaceNear,
  shippedChallengeOptions,
  stagedSelection,
  stretchesOf,
  streamSignals,
  usableFrame,
  type StreamPlan,
} from './sequence.ts';
export { embedFiles, writeJsonl, readJsonl, nameOf, type EmbeddingLine } from './bulk.ts';
export { applyLogistic, trainLogistic, loadLivenessModel, livenessModelPath, type LogisticModel } from './liveness.ts';
export { defaultWorkers } from './pool.ts';
