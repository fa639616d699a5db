import type { Clock, Random } from '../platform/index.ts';
import { cosine } from './align.ts';
import type { FaceAnalysis } from './analyzer.ts';
import type { FivePoints } from './align.ts';
import { planeParallax } from './flatness.ts';

/**
 * The active liveness challenge: the terminal asks, at random, for a head turn or a blink, sends
 * a short sequence of frames, and the server checks the landmark track. A 2-D camera cannot see
 * depth, so this (not the passive score) is what stops a photo or a replayed video frame.
 * Pure functions: randomness and time are injected.
 */
export type ChallengeKind = 'turn_left' | 'turn_right' | 'blink';
export const CHALLENGE_KINDS: readonly ChallengeKind[] = ['turn_left', 'turn_right', 'blink'];
/**
 * What is asked by default: the turns only. A blink is a jump between two eye states, so two photos
 * (eyes open, eyes closed) shown in turn answer it and no continuity check can tell; a head turn
 * passes through every angle between, which a swap of photos does not. An operator may still allow
 * the blink (for shoppers who cannot turn their head) in the face configuration.
 */
export const DEFAULT_CHALLENGE_KINDS: readonly ChallengeKind[] = ['turn_left', 'turn_right'];

export interface Challenge {
  id: string;
  kind: ChallengeKind;
  /** epoch ms */
  issuedAt: number;
  expiresAt: number;
}

/**
 * What the check needs of each frame's analysis. The frames are compared with each other by their
 * check embeddings (one pass, no mirror): like with like, and never with a template.
 */
export type ChallengeFrameAnalysis = Pick<FaceAnalysis, 'image' | 'faces' | 'quality' | 'eyeAspectRatio' | 'checkEmbedding' | 'error'>;
export interface ChallengeFrame {
  /** epoch ms at which the terminal captured the frame */
  at: number;
  analysis: ChallengeFrameAnalysis;
}

export interface ChallengeOptions {
  /** how long the person has to respond, in ms */
  ttlMs: number;
  kinds: readonly ChallengeKind[];
  minFrames: number;
  maxFrames: number;
  /** |yaw| at or below which the head counts as facing the camera (degrees) */
  frontalYawDeg: number;
  /**
   * yaw the turn must reach in the asked direction (degrees), either from straight at the camera or
   * from the shopper's own frontal yaw (the median of the frontal run before the turn): a phone held
   * a little to one side films its holder at a few degrees even when he looks into it, and his turn
   * is a head rotation from there (tran_real faces the camera at +4 degrees and turns to his right
   * to -19 or -20: a swing of 23 or more)
   */
  turnYawDeg: number;
  /** ...but when measured from the shopper's own frontal yaw, the turn must still reach this yaw from the camera's axis (degrees) */
  minTurnYawDeg: number;
  /**
   * |pitch| beyond which a frame counts as looking away from the camera (degrees) for the identity
   * check, as a turned frame does: a face looking down 30 degrees close to the camera scored 0.23
   * against its own frontal view (tran_real), under the frontal bar
   */
  frontalPitchDeg: number;
  /** the eye aspect ratio must fall below this fraction of the open-eye level... */
  blinkDropRatio: number;
  /** ...and come back above this fraction of it */
  blinkRecoverRatio: number;
  /** cosine similarity every frontal frame's embedding must reach against the first frame (the face stack sets it from the model's calibration) */
  sameFaceSimilarity: number;
  /**
   * the same for a frame turned beyond `frontalYawDeg`: embedders place a face turned 30 degrees and
   * more far from its frontal view (LFW photos of one person turned 38 degrees scored 0.09 against
   * the frontal one with the 512-d model, where strangers average 0.01), so the bar is lower there
   */
  turnedFaceSimilarity: number;
  /**
   * Continuity of the turn: every step between neighbouring frames must cover less than this share
   * of the turn's swing (from the lowest yaw of the frontal run before it to the peak). A head turns
   * through every angle between; a slideshow of a frontal and a turned photo jumps the whole swing
   * in one step, and at the default of one half, one photo at a middle pose cannot bridge it either. Measured on the real clips at 12 frames a second (bench:liveness): a turn at twice
   * its natural speed moved at most 38 % of its swing in one step; a photo swap moves 90 % and more.
   */
  maxYawStepShare: number;
  /**
   * Continuity of the turn's speed: no step between neighbouring frames of the turn may exceed this
   * many times the larger of the two steps either side of it (each counted as at least
   * `yawJerkFloorDeg`). A head has inertia and speeds up and slows down over a few frames; a
   * slideshow holds each photo, then jumps to the next (hold, jump, hold), however many middle
   * poses it shows. Dimensionless, so the same at any turning speed.
   */
  maxYawJerk: number;
  /** the least a neighbouring step counts for in `maxYawJerk` (degrees): the engine's yaw jitters by about a degree on a still face */
  yawJerkFloorDeg: number;
  /**
   * Flatness: at the turn's peak, the nose must land at least this many eye distances off where the
   * plane of the eyes and mouth corners of the frontal frame puts it (planeParallax in flatness.ts).
   * A photo moved or tilted before the camera stays on its plane. Measured (bench:liveness): photos
   * of 5 people tilted 10 to 60 degrees either way (testing/photo-attacks.ts) gave at most 0.19, and
   * the engine never read them turned beyond 11 degrees; live turns 0.25 (tran_real's small turn to
   * his right at twice its speed) to 0.73.
   */
  minParallax: number;
  /** At most this share of the frames may lack a usable face (never inside the answer itself). */
  maxLostShare: number;
}

export const defaultChallengeOptions: ChallengeOptions = {
  ttlMs: 10_000,
  kinds: DEFAULT_CHALLENGE_KINDS,
  minFrames: 3,
  maxFrames: 150,
  frontalYawDeg: 12,
  turnYawDeg: 20,
  minTurnYawDeg: 15,
  frontalPitchDeg: 20,
  blinkDropRatio: 0.65,
  blinkRecoverRatio: 0.85,
  sameFaceSimilarity: 0.6,
  turnedFaceSimilarity: 0.6,
  maxYawStepShare: 0.5,
  maxYawJerk: 6.5,
  yawJerkFloorDeg: 2,
  minParallax: 0.22,
  maxLostShare: 0.25,
};

/**
 * How densely a device must film the answer: a continuous stream, not a few snapshots, so that the
 * sequence checks see motion between neighbouring frames (docs/device-protocol.md).
 */
export interface FrameTimingOptions {
  /** fewest frames in one answer */
  minFrames: number;
  /** most frames in one answer (bounds the engine's work and the request size) */
  maxFrames: number;
  /** frames per second at least, over the span from the first frame to the last */
  minFps: number;
  /** the longest pause allowed between two neighbouring frames, in ms */
  maxGapMs: number;
}

export const defaultFrameTiming: FrameTimingOptions = { minFrames: 10, maxFrames: 150, minFps: 10, maxGapMs: 400 };

/**
 * The checks on the answer's timing alone, made on the server's clock before any frame is analysed
 * (so a late, sparse or disordered answer costs no face-engine work). `arrivedAt` is the server's
 * time when the frames arrived: the window runs from the challenge's issue to then, and must close
 * before the challenge expires, whatever times the device reports; every reported capture time
 * must fall inside that window. Answers null when the timing is acceptable.
 */
export function checkFrameTiming(
  challenge: Pick<Challenge, 'issuedAt' | 'expiresAt'>,
  ats: readonly number[],
  arrivedAt: number,
  opts: Partial<FrameTimingOptions> = {},
): ChallengeFailure | null {
  const o = { ...defaultFrameTiming, ...opts };
  if (arrivedAt > challenge.expiresAt || arrivedAt < challenge.issuedAt) return 'challenge_expired';
  if (ats.length < o.minFrames) return 'challenge_too_few_frames';
  if (ats.length > o.maxFrames) return 'challenge_too_many_frames';
  for (let i = 0; i < ats.length; i++) {
    const at = ats[i]!;
    if (!Number.isFinite(at) || at < challenge.issuedAt || at > arrivedAt) return 'challenge_expired';
    if (i > 0 && at <= ats[i - 1]!) return 'challenge_frames_out_of_order';
    if (i > 0 && at - ats[i - 1]! > o.maxGapMs) return 'challenge_frames_sparse';
  }
  const span = ats[ats.length - 1]! - ats[0]!;
  if (span <= 0 || ((ats.length - 1) * 1000) / span < o.minFps) return 'challenge_frames_sparse';
  return null;
}

export function issueChallenge(random: Random, clock: Clock, opts: Partial<ChallengeOptions> = {}): Challenge {
  const o = { ...defaultChallengeOptions, ...opts };
  const issuedAt = clock.now().getTime();
  const kind = o.kinds[random.int(o.kinds.length)]!;
  return { id: `chl_${random.bytes(12).toString('hex')}`, kind, issuedAt, expiresAt: issuedAt + o.ttlMs };
}

export type ChallengeFailure =
  | 'challenge_too_few_frames'
  | 'challenge_too_many_frames'
  | 'challenge_expired'
  | 'challenge_frames_out_of_order'
  | 'challenge_no_face'
  | 'challenge_face_changed'
  | 'challenge_replayed_frame'
  | 'challenge_not_frontal'
  | 'challenge_motion_missing'
  | 'challenge_motion_discontinuous'
  | 'challenge_flat_face'
  | 'challenge_frames_sparse';

export interface ChallengeVerdict {
  passed: boolean;
  reason: ChallengeFailure | null;
  /** what was seen, for the log and for tuning: never images */
  observed: {
    frames: number;
    yawMin: number;
    yawMax: number;
    earMin: number;
    earMax: number;
    minSimilarity: number;
    /** the largest step between neighbouring frames of a turn, as a share of its swing (0 when no turn was seen) */
    maxYawStepShare: number;
    /** the nose's parallax off the face plane at the turn's peak, in eye distances (0 when no turn was seen) */
    parallax: number;
    /** the largest step of a turn over the larger of its neighbouring steps (see `maxYawJerk`; 0 when no turn was seen) */
    yawJerk: number;
    /** the turn's swing from the shopper's own frontal yaw to its peak, degrees (0 when no turn was seen) */
    turnSwing: number;
    /** the lowest cosine between neighbouring frames' check embeddings through the turn (1 when no turn was seen; measured, not decided on) */
    turnNeighbourMin: number;
  };
  /**
   * When passed: two frames (indices) facing the camera, the most squarely facing of those before
   * the turn and of those after it came back (for a blink: the first frontal frame and the one whose
   * eyes reopened). These are the frames to compare with templates.
   */
  window: readonly [number, number] | null;
}

function landmarkKey(a: ChallengeFrameAnalysis): string {
  const p = a.faces[0]?.landmarks;
  if (!p) return '';
  return [p.leftEye, p.rightEye, p.nose, p.mouthLeft, p.mouthRight].map((q) => `${q[0].toFixed(3)},${q[1].toFixed(3)}`).join(';');
}

/**
 * Checks that the frames answer the challenge: inside its time window and in order, every frame a
 * single analysed face, all the same person, no frame repeated (same bytes or the very same
 * landmarks), and the landmarks moving as asked: for a turn, somewhere in the stream the yaw is
 * frontal, crosses the threshold in the asked direction and comes back, passing through the angles
 * between (no step jumps most of the swing) and with the nose standing out of the face's plane at
 * the turn's peak (a photo, however it is moved or tilted, stays flat); for a blink, the eye aspect ratio drops well below the
 * open-eye level and recovers. A still photo produces no such motion and fails; a slideshow of
 * photos at the poses asked jumps and fails.
 */
export function verifyChallenge(challenge: Challenge, frames: ChallengeFrame[], opts: Partial<ChallengeOptions> = {}): ChallengeVerdict {
  const o = { ...defaultChallengeOptions, ...opts };
  // A turn asked for is a turned face: the analyser's "face turned" is the answer here, not a fault.
  const seen = frames.map((f) => {
    const fault = f.analysis.error !== null && f.analysis.error.code !== 'face_turned';
    return !fault && f.analysis.checkEmbedding !== null && f.analysis.faces.length > 0 && f.analysis.quality !== null;
  });
  const yaws = frames.map((f, i) => (seen[i] ? f.analysis.quality!.pose.yaw : Number.NaN));
  const ears = frames.map((f, i) => (seen[i] ? (f.analysis.eyeAspectRatio ?? Number.NaN) : Number.NaN));
  const first = frames.find((_, i) => seen[i])?.analysis.checkEmbedding;
  const sims = frames.map((f, i) => (first && seen[i] ? cosine(first, f.analysis.checkEmbedding!) : Number.NaN));
  const finite = (xs: number[]): number[] => xs.filter((x) => Number.isFinite(x));
  const observed = {
    frames: frames.length,
    yawMin: Math.min(...finite(yaws), 0),
    yawMax: Math.max(...finite(yaws), 0),
    earMin: Math.min(...finite(ears), 1),
    earMax: Math.max(...finite(ears), 0),
    minSimilarity: Math.min(...finite(sims), 1),
    maxYawStepShare: 0,
    parallax: 0,
    yawJerk: 0,
    turnSwing: 0,
    turnNeighbourMin: 1,
  };
  const fail = (reason: ChallengeFailure): ChallengeVerdict => ({ passed: false, reason, observed, window: null });

  if (frames.length < o.minFrames) return fail('challenge_too_few_frames');
  if (frames.length > o.maxFrames) return fail('challenge_too_many_frames');
  for (let i = 0; i < frames.length; i++) {
    const f = frames[i]!;
    if (f.at < challenge.issuedAt || f.at > challenge.expiresAt) return fail('challenge_expired');
    if (i > 0 && f.at <= frames[i - 1]!.at) return fail('challenge_frames_out_of_order');
  }
  // A frame or two without a usable face (a hand passing, a look down) outside the answer do not
  // refuse it; the turn itself must be seen in every frame (the scan below never bridges one), and
  // a stream that mostly lost the face is refused.
  const lost = seen.filter((x) => !x).length;
  if (lost > frames.length * o.maxLostShare || frames.length - lost < o.minFrames) return fail('challenge_no_face');
  const hashes = new Set<string>();
  const marks = new Set<string>();
  for (const [i, f] of frames.entries()) {
    if (!seen[i]) continue;
    const key = landmarkKey(f.analysis);
    if (hashes.has(f.analysis.image.sha256) || marks.has(key)) return fail('challenge_replayed_frame');
    hashes.add(f.analysis.image.sha256);
    marks.add(key);
  }
  // A face turned or looking up or down is far from its frontal view in any embedder's space: such
  // frames are held to the lower bar (the answer's window, frontal frames, to the stricter one).
  const pitches = frames.map((f, i) => (seen[i] ? f.analysis.quality!.pose.pitch : Number.NaN));
  const bar = (i: number): number => (Math.abs(yaws[i]!) > o.frontalYawDeg || Math.abs(pitches[i]!) > o.frontalPitchDeg ? o.turnedFaceSimilarity : o.sameFaceSimilarity);
  if (sims.some((s, i) => seen[i] && !(s >= bar(i)))) return fail('challenge_face_changed');

  if (!frames.some((_, i) => Math.abs(yaws[i]!) <= o.frontalYawDeg)) return fail('challenge_not_frontal');
  const pass = (from: number, to: number): ChallengeVerdict => ({ passed: true, reason: null, observed, window: [from, to] });

  if (challenge.kind === 'blink') {
    // From a frontal frame, the open-eye level is the highest ratio seen before the dip; the dip must
    // be followed by a recovery.
    const from = yaws.findIndex((y) => Math.abs(y) <= o.frontalYawDeg);
    let open = ears[from]!;
    for (let i = from + 1; i < ears.length; i++) {
      const e = ears[i]!;
      if (!seen[i] || !Number.isFinite(e)) continue;
      if (e <= o.blinkDropRatio * open) {
        for (let j = i + 1; j < ears.length; j++) if (ears[j]! >= o.blinkRecoverRatio * open) return pass(from, j);
        break;
      }
      open = Math.max(open, e);
    }
    return fail('challenge_motion_missing');
  }

  // The turn may come anywhere in the stream (a shopper reads the prompt before turning): a frontal
  // frame, then the asked direction reached, then frontal again. Positive yaw is the person's own
  // left (see Pose in analyzer.ts).
  const sign = challenge.kind === 'turn_left' ? 1 : -1;
  const along = yaws.map((y) => sign * y);
  let discontinuous = false;
  let flat = false;
  let lostInTurn = false;
  let runFirst = -1; // the first frame of the frontal run before the turn
  let start = -1; // its last frame, where the turn began
  let runLow = Number.POSITIVE_INFINITY; // the lowest yaw of that run
  let runBase = 0; // the median yaw of that run: the shopper's own frontal yaw
  let turned = false;
  for (let i = 0; i < along.length; i++) {
    const y = along[i]!;
    if (!seen[i]) {
      // A lost face breaks the run: no answer spans it.
      if (turned) lostInTurn = true;
      start = -1;
      runFirst = -1;
      turned = false;
      continue;
    }
    if (Math.abs(y) <= o.frontalYawDeg) {
      if (turned) {
        const share = stepShare(along, start, i, runLow);
        observed.maxYawStepShare = Math.max(observed.maxYawStepShare, share);
        const jerk = yawJerk(along, seen, start, i, o.yawJerkFloorDeg);
        observed.yawJerk = Math.max(observed.yawJerk, jerk);
        const peak = peakOf(along, start, i);
        observed.turnSwing = Math.max(observed.turnSwing, along[peak]! - runBase);
        observed.turnNeighbourMin = Math.min(observed.turnNeighbourMin, neighbourMin(frames, start, i));
        const from = mostFrontal(along, runFirst, start);
        const parallax = planeParallax(landmarksOf(frames[from]!), landmarksOf(frames[peak]!));
        observed.parallax = Math.max(observed.parallax, parallax);
        if (share >= o.maxYawStepShare || jerk > o.maxYawJerk) discontinuous = true;
        else if (parallax < o.minParallax) flat = true;
        else {
          let end = i;
          while (end + 1 < along.length && Math.abs(along[end + 1]!) <= o.frontalYawDeg) end++;
          return pass(from, mostFrontal(along, i, end));
        }
        turned = false;
      }
      if (start < 0 || start !== i - 1) {
        runLow = Number.POSITIVE_INFINITY;
        runFirst = i;
      }
      runLow = Math.min(runLow, y);
      start = i;
      runBase = median(along.slice(runFirst, start + 1));
    } else if (start >= 0 && (y >= o.turnYawDeg || (y >= o.minTurnYawDeg && y - runBase >= o.turnYawDeg))) turned = true;
  }
  return fail(discontinuous ? 'challenge_motion_discontinuous' : flat ? 'challenge_flat_face' : lostInTurn ? 'challenge_no_face' : 'challenge_motion_missing');
}

/** The frame from..to turned furthest in the asked direction. */
function peakOf(along: readonly number[], from: number, to: number): number {
  let best = from;
  for (let i = from + 1; i <= to; i++) if (along[i]! > along[best]!) best = i;
  return best;
}

/** Checked to exist by the face check above: every frame of a verified answer has a face. */
function landmarksOf(f: ChallengeFrame): FivePoints {
  return f.analysis.faces[0]!.landmarks;
}

/** The frame from..to that faces the camera most squarely: the best of the run to compare with templates. */
function mostFrontal(yaws: readonly number[], from: number, to: number): number {
  let best = from;
  for (let i = from + 1; i <= to; i++) if (Math.abs(yaws[i]!) < Math.abs(yaws[best]!)) best = i;
  return best;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? 0 : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

/**
 * The largest step between neighbouring frames from..to over the larger of the steps just before
 * and just after it (each at least `floor` degrees; a step whose neighbour frame lacks a face
 * counts that neighbour as `floor`).
 */
function yawJerk(along: readonly number[], seen: readonly boolean[], from: number, to: number, floor: number): number {
  const step = (k: number): number => (k >= 1 && k < along.length && seen[k] && seen[k - 1] ? Math.abs(along[k]! - along[k - 1]!) : 0);
  let worst = 0;
  for (let k = from + 1; k <= to; k++) worst = Math.max(worst, step(k) / Math.max(floor, step(k - 1), step(k + 1)));
  return worst;
}

/** The lowest cosine between neighbouring frames' check embeddings from..to (frames with a face only). */
function neighbourMin(frames: readonly ChallengeFrame[], from: number, to: number): number {
  let min = 1;
  for (let k = from + 1; k <= to; k++) {
    const a = frames[k - 1]!.analysis.checkEmbedding;
    const b = frames[k]!.analysis.checkEmbedding;
    if (a && b) min = Math.min(min, cosine(a, b));
  }
  return min;
}

/** The largest step between neighbouring frames from..to, as a share of the swing from `low` to the peak. */
function stepShare(along: readonly number[], from: number, to: number, low: number): number {
  let peak = Number.NEGATIVE_INFINITY;
  let step = 0;
  for (let i = from; i <= to; i++) {
    peak = Math.max(peak, along[i]!);
    if (i > from) step = Math.max(step, Math.abs(along[i]! - along[i - 1]!));
  }
  return step / Math.max(peak - low, 1e-9);
}
