import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { DomainError } from '../platform/index.ts';
import { brightness, cropGeometry, luma, sharpness, warpCrop, type CropGeometry, type FivePoints, type Point } from './align.ts';
import type { FaceConfig } from './config.ts';
import { decodeImage, type Frame } from './decode.ts';
import { cropTag, embedderGeometry, EMBEDDERS, type Embedder } from './embedders.ts';
import { faceErrors } from './errors.ts';
import { createPassiveLiveness, type PassiveLiveness } from './liveness.ts';
import { createFaceDetector, type FaceDetector, type MeshFace } from './detector.ts';

export type Purpose = 'payment' | 'enrolment' | 'inspect';

export interface DetectedFace {
  /** [x, y, width, height] in original image pixels */
  box: [number, number, number, number];
  score: number;
  /** five landmarks in original image pixels */
  landmarks: FivePoints;
}

export interface Pose {
  /** degrees; positive when the person turns to their own left (nose towards the image's right) */
  yaw: number;
  /** degrees; positive when the head tilts up */
  pitch: number;
  /** degrees; positive when the head leans towards the image's right shoulder */
  roll: number;
}

export interface Quality {
  ok: boolean;
  /** the first check that failed */
  reason: string | null;
  faceSizePx: number;
  pose: Pose;
  sharpness: number;
  brightness: number;
}

export interface Liveness {
  score: number;
  live: boolean;
  model: string;
  /** the raw model scores the decision was made from */
  signals: Record<string, number>;
}

export interface Timings {
  decode: number;
  detect: number;
  quality: number;
  align: number;
  liveness: number;
  embed: number;
  total: number;
}

export interface FaceAnalysis {
  purpose: Purpose;
  image: { width: number; height: number; sha256: string };
  faces: DetectedFace[];
  quality: Quality | null;
  /** eye aspect ratio (mean of both eyes): drops when the eyes close */
  eyeAspectRatio: number | null;
  /**
   * L2-normalised, comparable with templates of `model`; absent when the analysis was refused or
   * only the check embedding was asked for
   */
  embedding: Float32Array | null;
  /**
   * L2-normalised single pass of the embedder (no mirror average): for comparing the frames of one
   * capture with each other, never with templates. Absent only when the analysis was refused.
   */
  checkEmbedding: Float32Array | null;
  model: { name: string; version: string; dim: number };
  liveness: Liveness | null;
  /** set when the image is refused (purpose inspect returns it; the others throw) */
  error: { code: string; message: string } | null;
  timings: Timings;
}

export interface AnalyzeOptions {
  purpose: Purpose;
  /**
   * Hand the image's memory over to the worker instead of copying it; the caller's buffer is then
   * detached (empty). Only for a buffer that holds nothing else and is not used afterwards.
   */
  transfer?: boolean;
  /** Score passive liveness (default true); callers that do not use the score skip its model run. */
  liveness?: boolean;
  /**
   * 'model' (default) computes `embedding`, comparable with templates (with its mirror pass when
   * configured); 'check' computes only `checkEmbedding`, one pass cheaper with mirror averaging.
   */
  embedding?: 'model' | 'check';
  /**
   * Where the request waits in the engine's queue (default 'background'): a terminal's payment goes
   * before any enrolment, an enrolment before background work, so a flood of one cannot starve the
   * other. Each class has its own bounded queue.
   */
  priority?: AnalysisPriority;
  /**
   * The template-comparable embedding of a frame analysed before with `embedding: 'check'`: given
   * that analysis's landmarks (original pixels) and check embedding, only the image is decoded again
   * and the mirrored crop embedded, and the answer holds `embedding` (the same mirror average a
   * 'model' analysis gives) and no faces or quality. For the caller's own earlier analysis of the
   * same bytes only: the landmarks are trusted, not found again. It saves the detection and one
   * embedder pass of a second full analysis.
   */
  mirrorOf?: { landmarks: FivePoints; checkEmbedding: Float32Array };
}

export type AnalysisPriority = 'payment' | 'enrolment' | 'background';

export interface Analyzer {
  model: Embedder['model'];
  analyze(image: Uint8Array, opts: AnalyzeOptions): Promise<FaceAnalysis>;
  close(): Promise<void>;
}

const avg = (pts: number[][]): Point => {
  let x = 0;
  let y = 0;
  for (const p of pts) {
    x += p[0]!;
    y += p[1]!;
  }
  return [x / pts.length, y / pts.length];
};
const dist = (a: number[], b: number[]): number => Math.hypot(a[0]! - b[0]!, a[1]! - b[1]!);

// MediaPipe face-mesh indices: eye contours, nose tip, mouth corners, eye-aspect-ratio points.
const EYE_A = [33, 246, 161, 160, 159, 158, 157, 173, 133, 155, 154, 153, 145, 144, 163, 7];
const EYE_B = [263, 466, 388, 387, 386, 385, 384, 398, 362, 382, 381, 380, 374, 373, 390, 249];
const EAR_A = [33, 160, 158, 133, 153, 144];
const EAR_B = [362, 385, 387, 263, 373, 380];

function fivePoints(mesh: number[][]): FivePoints {
  const a = avg(EYE_A.map((i) => mesh[i]!));
  const b = avg(EYE_B.map((i) => mesh[i]!));
  const m1 = mesh[61]!;
  const m2 = mesh[291]!;
  const nose = mesh[1]!;
  const [leftEye, rightEye] = a[0] <= b[0] ? [a, b] : [b, a];
  const [mouthLeft, mouthRight] = m1[0]! <= m2[0]! ? [m1, m2] : [m2, m1];
  return { leftEye, rightEye, nose: [nose[0]!, nose[1]!], mouthLeft: [mouthLeft[0]!, mouthLeft[1]!], mouthRight: [mouthRight[0]!, mouthRight[1]!] };
}

function eyeAspect(mesh: number[][], idx: number[]): number {
  const p = idx.map((i) => mesh[i]!);
  return (dist(p[1]!, p[5]!) + dist(p[2]!, p[4]!)) / (2 * dist(p[0]!, p[3]!));
}

const DEG = 180 / Math.PI;
function pose(face: MeshFace, p: FivePoints): Pose {
  const a = face.angle;
  // The yaw's sign is taken from the nose offset, so the convention does not depend on the mesh's axes.
  const mid = (p.leftEye[0] + p.rightEye[0]) / 2;
  const noseSide = Math.sign(p.nose[0] - mid);
  const yawDeg = Math.abs(a.yaw * DEG) * (noseSide === 0 ? 1 : noseSide);
  return { yaw: yawDeg, pitch: a.pitch * DEG, roll: Math.atan2(p.rightEye[1] - p.leftEye[1], p.rightEye[0] - p.leftEye[0]) * DEG };
}

/** The unit vector along the sum of the crop's and the mirrored crop's embeddings. */
function averaged(vectors: readonly Float32Array[]): Float32Array {
  const v = new Float32Array(vectors[0]!.length);
  for (const w of vectors) for (let i = 0; i < v.length; i++) v[i] = v[i]! + w[i]!;
  let n = 0;
  for (let i = 0; i < v.length; i++) n += v[i]! * v[i]!;
  n = Math.sqrt(n);
  for (let i = 0; i < v.length; i++) v[i] = v[i]! / n;
  return v;
}

function scalePoints(p: FivePoints, s: number): FivePoints {
  const f = (q: Point): Point => [q[0] * s, q[1] * s];
  return { leftEye: f(p.leftEye), rightEye: f(p.rightEye), nose: f(p.nose), mouthLeft: f(p.mouthLeft), mouthRight: f(p.mouthRight) };
}

/**
 * Side of the grey crop that sharpness and brightness are measured on: about the native size of a
 * face at the smallest accepted size, so that small faces are not judged blurred for being upscaled.
 */
const QUALITY_SIDE = 96;
const now = (): number => performance.now();
const round = (x: number): number => Math.round(x * 100) / 100;

/**
 * The whole pipeline on the calling thread: decode, detect and landmark (`detector.ts`), quality,
 * alignment, passive liveness, embedding. The worker pool runs one of these per thread. The
 * aligned crop lives only in this function's memory.
 */
export async function createAnalyzer(config: FaceConfig, deps: { embedder?: Embedder; detector?: FaceDetector; liveness?: PassiveLiveness } = {}): Promise<Analyzer> {
  const make = EMBEDDERS[config.embedder];
  if (!deps.embedder && !make) throw new DomainError('invalid', 'face_model_unknown', `Unknown face model "${config.embedder}".`);
  const embedder = deps.embedder ?? (await make!());
  const detector = deps.detector ?? (await createFaceDetector());
  const passive = deps.liveness ?? (await createPassiveLiveness(config.livenessThreshold));
  // The version stored beside templates also names the crop and the mirror averaging: vectors made
  // with another geometry are not comparable even from the same weights.
  const model = { ...embedder.model, version: `${embedder.model.version}+${cropTag(embedder.model.crop)}${config.mirrorAverage ? '+mirror' : ''}` };

  async function analyze(image: Uint8Array, opts: AnalyzeOptions): Promise<FaceAnalysis> {
    const t0 = now();
    const timings: Timings = { decode: 0, detect: 0, quality: 0, align: 0, liveness: 0, embed: 0, total: 0 };
    const result: FaceAnalysis = {
      purpose: opts.purpose,
      image: { width: 0, height: 0, sha256: createHash('sha256').update(image).digest('hex') },
      faces: [],
      quality: null,
      eyeAspectRatio: null,
      embedding: null,
      checkEmbedding: null,
      model: { name: model.name, version: model.version, dim: model.dim },
      liveness: null,
      error: null,
      timings,
    };
    const refuse = (e: DomainError): FaceAnalysis => {
      timings.total = round(now() - t0);
      if (opts.purpose !== 'inspect') throw e;
      result.error = { code: e.code, message: e.message };
      return result;
    };
    let frame: Frame;
    try {
      frame = await decodeImage(image, config);
    } catch (e) {
      if (e instanceof DomainError) return refuse(e);
      throw e;
    }
    result.image.width = frame.originalWidth;
    result.image.height = frame.originalHeight;
    timings.decode = round(now() - t0);

    if (opts.mirrorOf !== undefined) {
      const check = opts.mirrorOf.checkEmbedding;
      result.checkEmbedding = check;
      result.embedding = check;
      if (config.mirrorAverage) {
        const t1 = now();
        const geometry = embedderGeometry(model, scalePoints(opts.mirrorOf.landmarks, 1 / frame.scale));
        const [mirrored] = await embedder.embed([warpCrop(frame.rgb, frame.width, frame.height, geometry, model.inputSize, true)]);
        result.embedding = averaged([check, mirrored!]);
        timings.embed = round(now() - t1);
      }
      timings.total = round(now() - t0);
      return result;
    }

    let t = now();
    const faces = await detect(frame);
    timings.detect = round(now() - t);
    const s = frame.scale;
    result.faces = faces.map(({ face, points }) => ({
      box: [round(face.box[0]! * s), round(face.box[1]! * s), round(face.box[2]! * s), round(face.box[3]! * s)],
      score: round(face.boxScore),
      landmarks: scalePoints(points, s),
    }));
    const main = faces[0];
    if (!main) return refuse(faceErrors.noFace());

    t = now();
    const faceWidth = (f: (typeof faces)[number]): number => {
      const xs = f.face.mesh.map((q) => q[0]!);
      return (Math.max(...xs) - Math.min(...xs)) * s;
    };
    const mainWidth = faceWidth(main);
    const ratio = opts.purpose === 'enrolment' ? config.secondFaceRatioEnrolment : config.secondFaceRatioPayment;
    const grey = luma(warpCrop(frame.rgb, frame.width, frame.height, cropGeometry(main.points, 0.4, true), QUALITY_SIDE));
    const quality: Quality = {
      ok: true,
      reason: null,
      faceSizePx: Math.round(mainWidth),
      pose: pose(main.face, main.points),
      sharpness: round(sharpness(grey, QUALITY_SIDE)),
      brightness: round(brightness(grey, QUALITY_SIDE)),
    };
    result.quality = quality;
    result.eyeAspectRatio = round((eyeAspect(main.face.mesh, EAR_A) + eyeAspect(main.face.mesh, EAR_B)) / 2 * 1000) / 1000;
    let failure: DomainError | null = null;
    const second = faces[1];
    const xs = main.face.mesh.map((q) => q[0]!);
    const ys = main.face.mesh.map((q) => q[1]!);
    const margin = 0.05 * (Math.max(...xs) - Math.min(...xs));
    if (second && opts.purpose !== 'inspect' && faceWidth(second) >= ratio * mainWidth) failure = faceErrors.multipleFaces(faces.length);
    else if (mainWidth < config.minFaceSizePx) failure = faceErrors.faceTooSmall(Math.round(mainWidth), config.minFaceSizePx);
    else if (Math.min(...xs) < -margin || Math.min(...ys) < -margin || Math.max(...xs) > frame.width + margin || Math.max(...ys) > frame.height + margin)
      failure = faceErrors.faceCutOff();
    else if (Math.abs(quality.pose.yaw) > config.maxYawDeg || Math.abs(quality.pose.pitch) > config.maxPitchDeg || Math.abs(quality.pose.roll) > config.maxRollDeg)
      failure = faceErrors.faceTurned(round(quality.pose.yaw), round(quality.pose.pitch), round(quality.pose.roll));
    else if (quality.sharpness < config.minSharpness) failure = faceErrors.faceBlurred(quality.sharpness, config.minSharpness);
    else if (quality.brightness < config.minBrightness) failure = faceErrors.faceTooDark(quality.brightness, config.minBrightness);
    else if (quality.brightness > config.maxBrightness) failure = faceErrors.faceTooBright(quality.brightness, config.maxBrightness);
    if (failure) {
      quality.ok = false;
      quality.reason = failure.code;
    }
    timings.quality = round(now() - t);
    if (failure && opts.purpose !== 'inspect') return refuse(failure);

    if (opts.liveness !== false) {
      t = now();
      result.liveness = await passive.score(frame, main.points);
      timings.liveness = round(now() - t);
    }

    t = now();
    const geometry: CropGeometry = embedderGeometry(model, main.points);
    const crop = warpCrop(frame.rgb, frame.width, frame.height, geometry, model.inputSize);
    const mirror = config.mirrorAverage && opts.embedding !== 'check';
    const crops = mirror ? [crop, warpCrop(frame.rgb, frame.width, frame.height, geometry, model.inputSize, true)] : [crop];
    const t1 = now();
    timings.align = round(t1 - t);
    const vectors = await embedder.embed(crops);
    const single = vectors[0]!;
    result.checkEmbedding = single;
    if (mirror) {
      result.embedding = averaged(vectors);
    } else if (opts.embedding !== 'check') {
      result.embedding = single;
    }
    timings.embed = round(now() - t1);
    timings.total = round(now() - t0);
    if (failure) result.error = { code: failure.code, message: failure.message };
    return result;
  }

  /**
   * The faces of a frame, the shopper's first. The shopper stands in front of the camera, so among
   * faces of about the same size the one nearer the middle comes first; size alone picked a
   * bystander at the edge of the frame as often as not when two faces were alike. When no face lies
   * in the middle of the frame and none is large, its central part is searched again, enlarged: a
   * detector misses some small faces at its input's scale that it finds magnified.
   */
  async function detect(frame: Frame): Promise<{ face: MeshFace; points: FivePoints }[]> {
    const cx = frame.width / 2;
    const cy = frame.height / 2;
    const halfDiagonal = Math.hypot(cx, cy);
    const offCentre = (f: MeshFace): number => Math.hypot(f.box[0]! + f.box[2]! / 2 - cx, f.box[1]! + f.box[3]! / 2 - cy) / halfDiagonal;
    // The faces the detector misses are small at its input's scale: a face found a fifth of the
    // frame wide or more is the subject even away from the middle (portraits framed high, a quarter
    // of the 64 deepface photos), and looking again would only double the detection time.
    const minSide = Math.min(frame.width, frame.height);
    const subject = (f: MeshFace): boolean => offCentre(f) < 0.25 || f.box[2]! >= 0.2 * minSide;
    let faces = (await detector.detect(frame)).filter((f) => f.boxScore >= config.minDetectionScore);
    if (!faces.some(subject)) {
      const w = Math.round(frame.width * 0.6);
      const h = Math.round(frame.height * 0.6);
      const region = { x: Math.round((frame.width - w) / 2), y: Math.round((frame.height - h) / 2), width: w, height: h };
      const inner = (await detector.detect(frame, region)).filter((f) => f.boxScore >= config.minDetectionScore);
      const overlaps = (a: MeshFace, b: MeshFace): boolean =>
        Math.abs(a.box[0]! + a.box[2]! / 2 - (b.box[0]! + b.box[2]! / 2)) < (a.box[2]! + b.box[2]!) / 4 &&
        Math.abs(a.box[1]! + a.box[3]! / 2 - (b.box[1]! + b.box[3]! / 2)) < (a.box[3]! + b.box[3]!) / 4;
      faces = [...inner, ...faces.filter((f) => !inner.some((g) => overlaps(f, g)))];
    }
    const prominence = (f: MeshFace): number => f.box[2]! * (1 - 0.5 * offCentre(f));
    return faces
      .sort((a, b) => prominence(b) - prominence(a))
      .map((face) => ({ face, points: fivePoints(face.mesh) }));
  }

  // The first inference of each model compiles kernels and grows wasm memory: one real face runs
  // every stage once (a blank frame never reaches the landmark model), so the first shopper after a
  // start does not wait about 100 ms longer than the next.
  await analyze(readFileSync(new URL('./fixtures/person-a-1.jpg', import.meta.url)), { purpose: 'inspect' });

  return { model, analyze, close: async () => {} };
}
