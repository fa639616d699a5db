import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cropGeometry, warpCrop, type FivePoints } from './align.ts';
import type { Frame } from './decode.ts';
import type { Liveness } from './analyzer.ts';
import { padFeatureNames, padFeatures } from './pad-features.ts';
import { humanModelUrl, loadTf, type Tf } from './runtime.ts';

export { padFeatureNames, padFeatures, PAD_CHANNELS, LBP_BINS } from './pad-features.ts';

/** Passive (single-frame) presentation-attack score. It is a weak signal: see the model card. */
export interface PassiveLiveness {
  score(frame: Frame, points: FivePoints): Promise<Liveness>;
}

/** The face crop both Human models see: the whole face with a little margin, upright. */
export const LIVENESS_CROP = { eyeToMouth: 0.32, rotate: true, side: 128 } as const;
const CROP = LIVENESS_CROP;

/** A logistic regression over the signals: standardise, weigh, squash. */
export interface LogisticModel {
  name: string;
  features: string[];
  mean: number[];
  sd: number[];
  weights: number[];
  bias: number;
  /** the operating threshold chosen on the training split */
  threshold: number;
  trained_on: string;
  measured: Record<string, number>;
  /** how the data was split (the held-out files by number, so a test can measure the shipped model on them) */
  split?: { seed: number; grouping: string; heldout: { live: number[]; spoof: number[] } };
}

/** The shipped passive model: a logistic regression over colour-texture features and the Human scores (see models/liveness.md). */
export const livenessModelPath = join(dirname(fileURLToPath(import.meta.url)), 'models', 'liveness-pad.json');

export function loadLivenessModel(path = livenessModelPath): LogisticModel | null {
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as LogisticModel) : null;
}

const PAD_NAMES = padFeatureNames();

/**
 * Every signal the passive model may use, from the 128 px liveness crop and Human's two scores:
 * the scalar statistics of `imageStatistics` and the 354 colour-texture features of `padFeatures`.
 * The engine and the training script both compute them here, so they cannot drift apart.
 */
export function passiveSignals(crop: Float32Array, human: { antispoof: number; liveness: number }, side = CROP.side): { signals: { antispoof: number; liveness: number } & Record<string, number>; texture: Record<string, number> } {
  const f = padFeatures(crop, side);
  const texture: Record<string, number> = {};
  PAD_NAMES.forEach((n, i) => (texture[n] = f[i]!));
  return { signals: { ...human, ...imageStatistics(crop, side) }, texture };
}

export function applyLogistic(m: Pick<LogisticModel, 'features' | 'mean' | 'sd' | 'weights' | 'bias'>, signals: Record<string, number>): number {
  let z = m.bias;
  m.features.forEach((f, i) => {
    z += m.weights[i]! * (((signals[f] ?? 0) - m.mean[i]!) / m.sd[i]!);
  });
  return 1 / (1 + Math.exp(-z));
}

/** Plain batch gradient descent with an L2 penalty: a few features, a few hundred samples. */
export function trainLogistic(rows: Record<string, number>[], labels: boolean[], features: string[], l2 = 0.01, steps = 3000, rate = 0.5): Pick<LogisticModel, 'features' | 'mean' | 'sd' | 'weights' | 'bias'> {
  const n = rows.length;
  const mean = features.map((f) => rows.reduce((s, r) => s + (r[f] ?? 0), 0) / n);
  const sd = features.map((f, i) => Math.sqrt(rows.reduce((s, r) => s + ((r[f] ?? 0) - mean[i]!) ** 2, 0) / n) || 1);
  const X = rows.map((r) => features.map((f, i) => ((r[f] ?? 0) - mean[i]!) / sd[i]!));
  const w = new Array<number>(features.length).fill(0);
  let b = 0;
  for (let step = 0; step < steps; step++) {
    const gw = new Array<number>(features.length).fill(0);
    let gb = 0;
    for (let k = 0; k < n; k++) {
      const x = X[k]!;
      let z = b;
      for (let i = 0; i < x.length; i++) z += w[i]! * x[i]!;
      const err = 1 / (1 + Math.exp(-z)) - (labels[k] ? 1 : 0);
      for (let i = 0; i < x.length; i++) gw[i]! += err * x[i]!;
      gb += err;
    }
    for (let i = 0; i < w.length; i++) w[i] = w[i]! - rate * (gw[i]! / n + l2 * w[i]!);
    b -= (rate * gb) / n;
  }
  return { features, mean, sd, weights: w, bias: b };
}

/** Where the liveness crop is cut: the same geometry for every frame, then `side` pixels square. */
export function livenessCrop(frame: Frame, points: FivePoints, side = CROP.side): Float32Array {
  return warpCrop(frame.rgb, frame.width, frame.height, cropGeometry(points, CROP.eyeToMouth, CROP.rotate), side);
}

/** Human's `antispoof` and `liveness` models on the 128 px liveness crop. */
export interface HumanPadModels {
  scores(crop: Float32Array): Promise<{ antispoof: number; liveness: number }>;
}

export async function loadHumanPadModels(): Promise<HumanPadModels> {
  const tf: Tf = await loadTf();
  const antispoof = await tf.loadGraphModel(humanModelUrl('antispoof'));
  const live = await tf.loadGraphModel(humanModelUrl('liveness'));
  return {
    async scores(crop) {
      const x = tf.tidy(() => tf.div(tf.tensor4d(crop, [1, CROP.side, CROP.side, 3]), 255));
      const x32 = tf.image.resizeBilinear(x, [32, 32]);
      const a = antispoof.execute(x);
      const l = live.execute(x32);
      const [av, lv] = await Promise.all([a.data(), l.data()]);
      tf.dispose([x, x32, a, l]);
      return { antispoof: Number(av[0]), liveness: Number(lv[0]) };
    },
  };
}

/**
 * Runs Human's `antispoof` (trained on doctored photos) and `liveness` models on our own crop, so
 * that the crop is the same for every frame (their scores move with crop borders), plus colour and
 * texture statistics and the colour-LBP histograms of pad-features.ts. When models/liveness-pad.json
 * exists (trained by server/bench/train-liveness.ts on part of ../shared/datasets/pad) the score is
 * that regression, with its own threshold; else Human's antispoof output alone at
 * `defaultThreshold`. It is a second signal beside the active challenge, trained on one small
 * collection: see models/liveness.md. `signals` carries the scalar signals, not the histograms.
 */
export async function createPassiveLiveness(defaultThreshold: number, modelPath = livenessModelPath): Promise<PassiveLiveness> {
  const lr = loadLivenessModel(modelPath);
  const threshold = lr?.threshold ?? defaultThreshold;
  const human = await loadHumanPadModels();
  return {
    async score(frame, points) {
      const crop = livenessCrop(frame, points);
      const { signals, texture } = passiveSignals(crop, await human.scores(crop));
      const score = lr ? applyLogistic(lr, { ...signals, ...texture }) : signals.antispoof;
      return { score, live: score >= threshold, model: lr ? lr.name : 'human-antispoof', signals };
    },
  };
}

/**
 * Colour and texture statistics of the face crop that tend to differ between a live face and its
 * recapture from paper or a screen (saturation, fine texture against contrast, specular highlights).
 */
export function imageStatistics(crop: Float32Array, side: number): Record<string, number> {
  const n = side * side;
  let satSum = 0;
  let satSq = 0;
  let lSum = 0;
  let lSq = 0;
  let bright = 0;
  let rg = 0;
  let bg = 0;
  const grey = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const r = crop[3 * i]!;
    const g = crop[3 * i + 1]!;
    const b = crop[3 * i + 2]!;
    const max = Math.max(r, g, b);
    const min = Math.min(r, g, b);
    const sat = max > 0 ? (max - min) / max : 0;
    satSum += sat;
    satSq += sat * sat;
    const l = 0.299 * r + 0.587 * g + 0.114 * b;
    grey[i] = l;
    lSum += l;
    lSq += l * l;
    if (l > 235) bright++;
    rg += r - g;
    bg += b - g;
  }
  const lMean = lSum / n;
  const lVar = Math.max(1e-6, lSq / n - lMean * lMean);
  let lap = 0;
  let lap2 = 0;
  let m = 0;
  for (let y = 1; y < side - 1; y++) {
    for (let x = 1; x < side - 1; x++) {
      const i = y * side + x;
      const v = grey[i - 1]! + grey[i + 1]! + grey[i - side]! + grey[i + side]! - 4 * grey[i]!;
      lap += v;
      lap2 += v * v;
      m++;
    }
  }
  const lapVar = lap2 / m - (lap / m) ** 2;
  const satMean = satSum / n;
  return {
    saturation_mean: satMean,
    saturation_sd: Math.sqrt(Math.max(0, satSq / n - satMean * satMean)),
    luma_sd: Math.sqrt(lVar) / 255,
    texture: Math.log1p(lapVar) - Math.log1p(lVar),
    highlights: bright / n,
    red_green: rg / n / 255,
    blue_green: bg / n / 255,
  };
}
