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

/**
 * How the server spreads its work over a stream. Analysing every frame of a 60-frame answer (face
 * mesh and a check embedding each) took about a second on two cores, most of a face payment's time;
 * most of those frames are a face looking at the camera, or turning again after the answer, where
 * nothing is measured but the identity. So the stream is analysed in two passes: a coarse one on
 * every `coarseEvery`-th frame (and the last), which finds the stretches where the face leaves the
 * frontal pose, then a dense one on every frame of those stretches, from the frontal sample before
 * to the frontal sample after, one stretch after the other until a turn in them answers the
 * challenge (the check takes the first turn that does; one stretch is usually enough). The checks
 * then run on the frames analysed, in order (see checkStaged for why that holds every check of the
 * turn to every frame of it).
 */
export interface StreamPlan {
  /** every how many frames the coarse pass looks (1 analyses every frame) */
  coarseEvery: number;
}

/**
 * Every third frame, a quarter of a second apart at 12 frames a second: measured on the live clips
 * at once and twice their speed (bench:liveness), the refusals and acceptances were those of every
 * frame analysed.
 */
export const defaultStreamPlan: StreamPlan = { coarseEvery: 3 };

/**
 * Whether a frame counts as seen by verifyChallenge (the same test as there): a face with quality and
 * a check embedding, and no fault other than the face being turned.
 */
export function usableFrame(a: ChallengeFrameAnalysis): boolean {
  const fault = a.error !== null && a.error.code !== 'face_turned';
  return !fault && a.checkEmbedding !== null && a.faces.length > 0 && a.quality !== null;
}

/** A usable face at most `frontalYawDeg` from facing the camera: what bounds a stretch of the dense pass. */
function frontalSample(a: ChallengeFrameAnalysis, opts: Partial<ChallengeOptions>): boolean {
  return usableFrame(a) && Math.abs(a.quality!.pose.yaw) <= (opts.frontalYawDeg ?? defaultChallengeOptions.frontalYawDeg);
}

/** The coarse pass: every `coarseEvery`-th frame from the first, and the last. A blink is over within a frame or two, so its answer is analysed whole. */
export function coarseFrames(count: number, kind: ChallengeKind, plan: StreamPlan = defaultStreamPlan): number[] {
  const every = kind === 'blink' ? 1 : Math.max(1, Math.floor(plan.coarseEvery));
  const out: number[] = [];
  for (let i = 0; i < count; i += every) out.push(i);
  if (count > 0 && out[out.length - 1] !== count - 1) out.push(count - 1);
  return out;
}

/**
 * The stretches of the dense pass, in order, as [first, last] frame: from the frontal coarse sample
 * before each run of samples that are not frontal or show no usable face (a turn, in either
 * direction, a look away, a lost face) to the frontal sample after it (or an end of the stream).
 * Only the coarse samples given are looked at: a prefix of the coarse pass that ends on a frontal
 * sample already gives its stretches for good.
 */
export function stretchesOf(count: number, coarse: ReadonlyMap<number, ChallengeFrameAnalysis>, opts: Partial<ChallengeOptions> = {}): [number, number][] {
  const samples = [...coarse.keys()].sort((a, b) => a - b);
  const out: [number, number][] = [];
  for (let k = 0; k < samples.length; k++) {
    if (frontalSample(coarse.get(samples[k]!)!, opts)) continue;
    let end = k;
    while (end + 1 < samples.length && !frontalSample(coarse.get(samples[end + 1]!)!, opts)) end++;
    out.push([k > 0 ? samples[k - 1]! : 0, end + 1 < samples.length ? samples[end + 1]! : count - 1]);
    k = end;
  }
  return out;
}

/** Every frame whose bytes equal another frame's: analysed whatever the passes find, so that a replay is judged as with every frame analysed. */
export function repeatedFrames(hashes: readonly string[]): number[] {
  const first = new Map<string, number>();
  const out = new Set<number>();
  for (const [i, h] of hashes.entries()) {
    const j = first.get(h);
    if (j === undefined) first.set(h, i);
    else out.add(j).add(i);
  }
  return [...out].sort((a, b) => a - b);
}

const range = ([from, to]: readonly [number, number]): number[] => Array.from({ length: to - from + 1 }, (_, k) => from + k);

/**
 * Whether a turn answers the challenge among the analysed frames up to `upto` (the end of the last
 * stretch analysed whole): the turn the check would take, seen only where every frame was analysed.
 */
function answeredWithin(challenge: Challenge, ats: readonly number[], analysed: ReadonlyMap<number, ChallengeFrameAnalysis>, upto: number, opts: Partial<ChallengeOptions>): boolean {
  const frames = [...analysed.keys()]
    .filter((i) => i <= upto)
    .sort((a, b) => a - b)
    .map((i) => ({ at: ats[i]!, analysis: analysed.get(i)! }));
  return verifyChallenge(challenge, frames, opts).passed;
}

/**
 * The frames the server analyses for an answer, for callers that hold every frame's analysis already
 * (bench:liveness, `facepay face liveness`): the same choice as analyseStream makes.
 */
export function stagedSelection(
  challenge: Challenge,
  ats: readonly number[],
  hashes: readonly string[],
  analysisOf: (i: number) => ChallengeFrameAnalysis,
  opts: Partial<ChallengeOptions> = {},
  plan: StreamPlan = defaultStreamPlan,
): number[] {
  const coarse = new Map(coarseFrames(hashes.length, challenge.kind, plan).map((i) => [i, analysisOf(i)] as const));
  const chosen = new Map(coarse);
  for (const i of repeatedFrames(hashes)) if (!chosen.has(i)) chosen.set(i, analysisOf(i));
  for (const stretch of stretchesOf(hashes.length, coarse, opts)) {
    for (const i of range(stretch)) if (!chosen.has(i)) chosen.set(i, analysisOf(i));
    if (answeredWithin(challenge, ats, chosen, stretch[1], opts)) break;
  }
  return [...chosen.keys()].sort((a, b) => a - b);
}

/**
 * Runs the two passes with `analyse` (one frame's analysis, told which pass asks) and answers every
 * analysis made, by frame index; no frame is analysed twice, and the frames are those
 * stagedSelection chooses. The first stretch does not wait for the whole coarse pass: it is asked
 * for as soon as the coarse samples up to the frontal one after it are in (they come back about in
 * order), so the engine's workers are not left idle between the passes. Each further stretch is
 * analysed only when the ones before it did not answer the challenge.
 */
export async function analyseStream<A extends ChallengeFrameAnalysis>(
  challenge: Challenge,
  ats: readonly number[],
  hashes: readonly string[],
  analyse: (index: number, pass: 'coarse' | 'dense') => Promise<A>,
  opts: Partial<ChallengeOptions> = {},
  plan: StreamPlan = defaultStreamPlan,
): Promise<Map<number, A>> {
  const first = coarseFrames(hashes.length, challenge.kind, plan);
  const done = new Map<number, A>();
  const asked = new Map<number, Promise<void>>();
  const ask = (i: number, pass: 'coarse' | 'dense'): Promise<void> => {
    let p = asked.get(i);
    if (p === undefined) {
      p = analyse(i, pass).then((a) => void done.set(i, a));
      // Awaited below; handled at once so that a refusal while other work runs is not unhandled.
      p.catch(() => undefined);
      asked.set(i, p);
    }
    return p;
  };
  const stretchNow = (s: readonly [number, number]): Promise<unknown> => Promise.all(range(s).map((i) => ask(i, 'dense')));
  const coarse = new Map<number, A>();
  let known = 0;
  let early: [number, number] | undefined;
  const onCoarse = (): void => {
    // The coarse samples known without a gap from the first, up to the last frontal one among them
    // (a stretch after it may still grow): the first stretch among them is final.
    while (known < first.length && coarse.has(first[known]!)) known++;
    if (early !== undefined) return;
    let upto = known;
    if (known < first.length) while (upto > 0 && !frontalSample(coarse.get(first[upto - 1]!)!, opts)) upto--;
    const s = stretchesOf(hashes.length, new Map(first.slice(0, upto).map((i) => [i, coarse.get(i)!] as const)), opts)[0];
    if (s !== undefined) {
      early = s;
      void stretchNow(s).catch(() => undefined);
    }
  };
  const coarsePass = first.map((i) =>
    ask(i, 'coarse').then(() => {
      coarse.set(i, done.get(i)!);
      onCoarse();
    }),
  );
  const repeated = repeatedFrames(hashes).map((i) => ask(i, 'dense'));
  await Promise.all([...coarsePass, ...repeated]);
  for (const s of stretchesOf(hashes.length, coarse, opts)) {
    await stretchNow(s);
    if (answeredWithin(challenge, ats, done, s[1], opts)) break;
  }
  await Promise.all(asked.values());
  return done;
}

/**
 * The server's decision on an answer of which only some frames were analysed (`analysed`, by frame
 * index; see analyseStream): timing on every frame's capture time, then a second face and the
 * challenge on the analysed frames in order, the verdict's window given as indices of the whole
 * stream. Every turn the check can accept lies inside one stretch the dense pass analysed whole: a
 * turned frame is either a coarse sample that is not frontal, or a dense frame, and either way lies
 * between two frontal samples (or an end of the stream) with every frame between them analysed; the
 * check measures a turn from the last frontal frame before it to the first frontal one after, so
 * its continuity, flatness and identity are measured on every frame of it. Outside the turns, the
 * identity is checked on every coarse sample (a face switched for longer than the coarse step is
 * seen), and exact replays on every frame by their bytes.
 */
export function checkStaged(
  challenge: Challenge,
  ats: readonly number[],
  analysed: ReadonlyMap<number, ChallengeFrameAnalysis>,
  arrivedAt: number,
  opts: Partial<ChallengeOptions> = {},
  timing: Partial<FrameTimingOptions> = {},
): StreamVerdict & { indices: number[] } {
  const indices = [...analysed.keys()].sort((a, b) => a - b);
  const frames = indices.map((i) => ({ at: ats[i]!, analysis: analysed.get(i)! }));
  const late = checkFrameTiming(challenge, ats, arrivedAt, timing);
  if (late !== null) return { passed: false, reason: late, verdict: null, indices };
  if (frames.some((f) => secondFaceNear(f.analysis))) return { passed: false, reason: 'multiple_faces', verdict: null, indices };
  const v = verifyChallenge(challenge, frames, opts);
  const verdict: ChallengeVerdict = v.window === null ? v : { ...v, window: [indices[v.window[0]]!, indices[v.window[1]]!] };
  return { passed: verdict.passed, reason: verdict.reason, verdict, indices };
}
