import { cosine } from './align.ts';
import { loadCalibration, sameFaceBar, withoutLabelErrors, type Calibration } from './calibration.ts';
import {
  checkFrameTiming,
  defaultChallengeOptions,
  defaultFrameTiming,
  verifyChallenge,
  type Challenge,
  type ChallengeFailure,
  type ChallengeFrame,
  type ChallengeFrameAnalysis,
  type ChallengeKind,
  type ChallengeOptions,
  type ChallengeVerdict,
  type FrameTimingOptions,
} from './challenge.ts';
import type { EmbedderModel } from './embedders.ts';

/**
 * A stream of analysed frames run through the same checks the server makes on an answer to the
 * liveness challenge (timing, a second face, then verifyChallenge), plus the sequence signals
 * measured beside them. Pure: the bench (bench:liveness) and `facepay face liveness` use it, so the
 * figures they print are the server's decision, not a copy of it.
 */

/** A second face this wide, relative to the main one, means someone else is at the camera. */
export const SECOND_FACE_RATIO = 0.5;

export function secondFaceNear(a: Pick<ChallengeFrameAnalysis, 'faces'>): boolean {
  const [main, second] = a.faces;
  return main !== undefined && second !== undefined && second.box[2] >= SECOND_FACE_RATIO * main.box[2];
}

/**
 * Frames of one answer must show one person. The bars follow the model (a fixed cosine means
 * nothing across models): frontal frames at the score one stranger in a hundred reaches with the
 * 512-d model (see sameFaceBar), turned ones at the impostor mean, which half of all strangers
 * fail. A stricter bar for turned frames needs more live turning sequences to measure on than the
 * few clips we have.
 */
export function challengeBars(calibration: Calibration, sameFaceFmr: number): Pick<ChallengeOptions, 'sameFaceSimilarity' | 'turnedFaceSimilarity'> {
  return { sameFaceSimilarity: sameFaceBar(calibration, sameFaceFmr), turnedFaceSimilarity: calibration.tail.impostor_mean };
}

/** The challenge settings the face stack runs with for this model. */
export function shippedChallengeOptions(model: Pick<EmbedderModel, 'name' | 'sameFaceFmr'>): Partial<ChallengeOptions> {
  return challengeBars(withoutLabelErrors(loadCalibration(model.name)), model.sameFaceFmr);
}

export interface StreamVerdict {
  passed: boolean;
  /** the first check that refused the answer, null when it passed */
  reason: ChallengeFailure | 'multiple_faces' | null;
  /** null when the timing check refused the answer before any frame was looked at */
  verdict: ChallengeVerdict | null;
}

/** The server's decision on one answer, in the server's order: timing first, then a second face, then the challenge. */
export function checkStream(
  challenge: Challenge,
  frames: readonly ChallengeFrame[],
  arrivedAt: number,
  opts: Partial<ChallengeOptions> = {},
  timing: Partial<FrameTimingOptions> = {},
): StreamVerdict {
  const late = checkFrameTiming(challenge, frames.map((f) => f.at), arrivedAt, timing);
  if (late !== null) return { passed: false, reason: late, verdict: null };
  if (frames.some((f) => secondFaceNear(f.analysis))) return { passed: false, reason: 'multiple_faces', verdict: null };
  const verdict = verifyChallenge(challenge, [...frames], opts);
  return { passed: verdict.passed, reason: verdict.reason, verdict };
}

/** The lowest cosine between the check embeddings of neighbouring frames (identity continuity; 1 with fewer than two faces). */
export function neighbourSimilarityMin(frames: readonly Pick<ChallengeFrameAnalysis, 'checkEmbedding'>[]): number {
  let min = 1;
  for (let i = 1; i < frames.length; i++) {
    const a = frames[i - 1]!.checkEmbedding;
    const b = frames[i]!.checkEmbedding;
    if (a && b) min = Math.min(min, cosine(a, b));
  }
  return min;
}

/**
 * The largest jump of the face box's centre between neighbouring frames, in face widths per second.
 * A head held before a camera moves smoothly; a cut between two recordings or photos jumps.
 */
export function boxSpeedMax(frames: readonly (Pick<ChallengeFrameAnalysis, 'faces'> & { at: number })[]): number {
  let max = 0;
  for (let i = 1; i < frames.length; i++) {
    const a = frames[i - 1]!.faces[0]?.box;
    const b = frames[i]!.faces[0]?.box;
    const dt = (frames[i]!.at - frames[i - 1]!.at) / 1000;
    if (!a || !b || !(dt > 0)) continue;
    const d = Math.hypot(a[0] + a[2] / 2 - (b[0] + b[2] / 2), a[1] + a[3] / 2 - (b[1] + b[3] / 2));
    max = Math.max(max, d / ((a[2] + b[2]) / 2) / dt);
  }
  return max;
}

/** Timing of a stream as a device would report it: fps over the span and the longest gap. */
export function streamTiming(ats: readonly number[]): { frames: number; fps: number; maxGapMs: number } {
  let gap = 0;
  for (let i = 1; i < ats.length; i++) gap = Math.max(gap, ats[i]! - ats[i - 1]!);
  const span = ats.length > 1 ? ats[ats.length - 1]! - ats[0]! : 0;
  return { frames: ats.length, fps: span > 0 ? ((ats.length - 1) * 1000) / span : 0, maxGapMs: gap };
}

export type SignalVerdict = 'pass' | 'fail' | 'info';
export interface Signal {
  value: unknown;
  /** the bar the value is held to, when the signal takes part in the decision */
  threshold?: unknown;
  /** 'info' when the signal is measured but takes no part in the decision */
  verdict: SignalVerdict;
}

/**
 * Each check's value and verdict for one answer, for `facepay face liveness` and the log. `passive`
 * is the median passive score of the frames that were scored (it takes no part in the decision).
 */
export function streamSignals(
  kind: ChallengeKind,
  frames: readonly ChallengeFrame[],
  result: StreamVerdict,
  opts: Partial<ChallengeOptions>,
  passive: { scores: number[]; threshold: number } | null,
  timing: Partial<FrameTimingOptions> = {},
): Record<string, Signal> {
  const o = { ...defaultChallengeOptions, ...opts };
  const t = { ...defaultFrameTiming, ...timing };
  const timingReasons = new Set<string>(['challenge_expired', 'challenge_too_few_frames', 'challenge_too_many_frames', 'challenge_frames_out_of_order', 'challenge_frames_sparse']);
  const timed = result.verdict === null && result.reason !== null && timingReasons.has(result.reason);
  const v = result.verdict;
  const reason = result.reason;
  const yaws = frames.map((f) => f.analysis.quality?.pose.yaw ?? Number.NaN).filter(Number.isFinite);
  const peak = kind === 'turn_left' ? Math.max(0, ...yaws) : kind === 'turn_right' ? -Math.min(0, ...yaws) : 0;
  const out: Record<string, Signal> = {
    timing: { value: streamTiming(frames.map((f) => f.at)), threshold: { minFps: t.minFps, maxGapMs: t.maxGapMs, minFrames: t.minFrames, maxFrames: t.maxFrames }, verdict: timed ? 'fail' : 'pass' },
    single_face: { value: frames.filter((f) => secondFaceNear(f.analysis)).length, threshold: 0, verdict: reason === 'multiple_faces' ? 'fail' : timed ? 'info' : 'pass' },
    same_face_min_similarity: {
      value: v ? round(v.observed.minSimilarity) : null,
      threshold: { frontal: round(o.sameFaceSimilarity), turned: round(o.turnedFaceSimilarity) },
      verdict: v === null ? 'info' : reason === 'challenge_face_changed' ? 'fail' : 'pass',
    },
    neighbour_min_similarity: { value: round(neighbourSimilarityMin(frames.map((f) => f.analysis))), verdict: 'info' },
    box_speed_max: { value: round(boxSpeedMax(frames.map((f) => ({ at: f.at, faces: f.analysis.faces })))), verdict: 'info' },
  };
  if (kind === 'blink') {
    out.eye_aspect_ratio = { value: v ? { min: round(v.observed.earMin), max: round(v.observed.earMax) } : null, threshold: { drop: o.blinkDropRatio, recover: o.blinkRecoverRatio }, verdict: v === null ? 'info' : v.passed ? 'pass' : 'fail' };
  } else {
    out.yaw_range = {
      value: v ? { min: round(v.observed.yawMin), max: round(v.observed.yawMax), peak_in_asked_direction: round(peak) } : null,
      threshold: { frontal: o.frontalYawDeg, turn: o.turnYawDeg },
      verdict: v === null ? 'info' : reason === 'challenge_not_frontal' || (reason === 'challenge_motion_missing' && peak < o.turnYawDeg) ? 'fail' : 'pass',
    };
    out.max_yaw_step_share = {
      value: v ? round(v.observed.maxYawStepShare) : null,
      threshold: o.maxYawStepShare,
      verdict: v === null ? 'info' : reason === 'challenge_motion_discontinuous' && v.observed.maxYawStepShare >= o.maxYawStepShare ? 'fail' : v.passed || v.observed.maxYawStepShare > 0 ? 'pass' : 'info',
    };
    // The turn's swing from the shopper's own frontal yaw (0 when no turn was seen).
    out.turn_swing = { value: v ? round(v.observed.turnSwing) : null, threshold: { swing: o.turnYawDeg, min_yaw: o.minTurnYawDeg }, verdict: 'info' };
    // Hold, jump, hold: the largest step of the turn over its neighbouring steps (a slideshow's signature).
    out.yaw_jerk = {
      value: v ? round(v.observed.yawJerk) : null,
      threshold: o.maxYawJerk,
      verdict: v === null ? 'info' : reason === 'challenge_motion_discontinuous' && v.observed.yawJerk > o.maxYawJerk ? 'fail' : v.passed ? 'pass' : 'info',
    };
    out.turn_neighbour_min_similarity = { value: v ? round(v.observed.turnNeighbourMin) : null, verdict: 'info' };
    // Flatness: the nose's parallax off the face's plane at the turn's peak (0 when no turn was seen).
    out.parallax = {
      value: v ? round(v.observed.parallax) : null,
      threshold: o.minParallax,
      verdict: v === null ? 'info' : reason === 'challenge_flat_face' ? 'fail' : v.passed ? 'pass' : 'info',
    };
  }
  if (passive && passive.scores.length > 0) {
    const s = [...passive.scores].sort((a, b) => a - b);
    const median = s[Math.floor(s.length / 2)]!;
    out.passive_score = { value: { median: round(median), min: round(s[0]!), frames: s.length }, threshold: round(passive.threshold), verdict: 'info' };
  }
  return out;
}

const round = (x: number, d = 4): number => Math.round(x * 10 ** d) / 10 ** d;
