/** Verification statistics for the face bench: pure functions over similarity scores. */

export interface ScoredPair {
  /** cosine similarity, or NaN when one of the images had no usable face (counted as an error) */
  score: number;
  same: boolean;
  fold: number;
}

/** Accuracy of the threshold that maximises accuracy on `train`, measured on `test` (NaN pairs are errors). */
function bestThreshold(train: ScoredPair[]): number {
  const valid = train.filter((p) => Number.isFinite(p.score)).sort((a, b) => a.score - b.score);
  // Sweep the threshold upwards between consecutive scores (pairs at or above it are "same"),
  // starting below every score, where exactly the same-person pairs are right.
  let correct = valid.filter((p) => p.same).length;
  let best = correct;
  let bestT = valid.length ? valid[0]!.score - 1e-6 : 0;
  for (let i = 0; i < valid.length; i++) {
    correct += valid[i]!.same ? -1 : 1;
    if (correct > best) {
      best = correct;
      bestT = i + 1 < valid.length ? (valid[i]!.score + valid[i + 1]!.score) / 2 : valid[i]!.score + 1e-6;
    }
  }
  return bestT;
}

function accuracyAt(pairs: ScoredPair[], t: number): number {
  let ok = 0;
  for (const p of pairs) if (Number.isFinite(p.score) && p.score >= t === p.same) ok++;
  return ok / pairs.length;
}

/** LFW-style k-fold: the threshold is chosen on the other folds and measured on each fold. */
export function kFoldAccuracy(pairs: ScoredPair[]): { mean: number; sd: number; folds: number[]; thresholds: number[] } {
  const foldIds = [...new Set(pairs.map((p) => p.fold))].sort((a, b) => a - b);
  const folds: number[] = [];
  const thresholds: number[] = [];
  for (const f of foldIds) {
    const t = bestThreshold(pairs.filter((p) => p.fold !== f));
    thresholds.push(t);
    folds.push(accuracyAt(pairs.filter((p) => p.fold === f), t));
  }
  const mean = folds.reduce((s, x) => s + x, 0) / folds.length;
  // LFW reports the standard error of the mean over folds; this is the plain standard deviation, as the brief asks.
  const sd = Math.sqrt(folds.reduce((s, x) => s + (x - mean) ** 2, 0) / Math.max(1, folds.length - 1));
  return { mean, sd, folds, thresholds };
}

/** TAR at a FAR over the pairs given: the threshold lets at most far x impostors through; failures are rejects. */
export function tarAtFar(pairs: ScoredPair[], far: number): { tar: number; threshold: number } {
  const imp = pairs.filter((p) => !p.same).map((p) => (Number.isFinite(p.score) ? p.score : -Infinity)).sort((a, b) => b - a);
  const allowed = Math.floor(far * imp.length);
  const threshold = allowed < imp.length ? nextUp(imp[allowed]!) : -1;
  const gen = pairs.filter((p) => p.same);
  const tar = gen.filter((p) => Number.isFinite(p.score) && p.score >= threshold).length / gen.length;
  return { tar, threshold };
}

const nextUp = (x: number): number => x + Math.max(1e-7, Math.abs(x) * 1e-7);

/**
 * All-pairs statistics over a set of embeddings: every impostor pair goes into a fine histogram
 * (bin width 2/bins over [-1, 1]); impostor pairs above `keepAbove` are kept with their indices,
 * and genuine pairs are kept whole (they are few).
 */
export interface AllPairs {
  bins: Float64Array;
  impostors: number;
  genuine: Float32Array;
  top: { i: number; j: number; score: number }[];
  impostorMean: number;
  impostorSd: number;
}

export const HIST_BINS = 200_000;
export const binOf = (s: number): number => Math.min(HIST_BINS - 1, Math.max(0, Math.floor(((s + 1) / 2) * HIST_BINS)));
export const binLow = (b: number): number => (b / HIST_BINS) * 2 - 1;

export function allPairs(vectors: Float32Array, dim: number, ids: Int32Array, keepAbove: number, rows?: number[]): AllPairs {
  const n = ids.length;
  const bins = new Float64Array(HIST_BINS);
  const genuine: number[] = [];
  const top: { i: number; j: number; score: number }[] = [];
  let impostors = 0;
  let sum = 0;
  let sum2 = 0;
  const scale = HIST_BINS / 2;
  for (const i of rows ?? Array.from({ length: n }, (_, k) => k)) {
    const oi = i * dim;
    const idi = ids[i]!;
    for (let j = i + 1; j < n; j++) {
      const oj = j * dim;
      let s = 0;
      for (let k = 0; k < dim; k++) s += vectors[oi + k]! * vectors[oj + k]!;
      if (ids[j] === idi) {
        genuine.push(s);
        continue;
      }
      impostors++;
      sum += s;
      sum2 += s * s;
      let b = Math.floor((s + 1) * scale);
      if (b >= HIST_BINS) b = HIST_BINS - 1;
      else if (b < 0) b = 0;
      bins[b]!++;
      if (s >= keepAbove) top.push({ i, j, score: s });
    }
  }
  const mean = sum / impostors;
  return { bins, impostors, genuine: Float32Array.from(genuine), top, impostorMean: mean, impostorSd: Math.sqrt(sum2 / impostors - mean * mean) };
}

/**
 * For each false-match rate, the lowest bin edge such that the impostors at or above it are at most
 * fmr x impostors, and the share of genuine scores at or above that threshold.
 */
export function curveFromHistogram(
  bins: Float64Array,
  impostors: number,
  genuineSorted: Float32Array,
  genuineTotal: number,
  fmrs: number[],
): { fmr: number; threshold: number; tar: number; impostors_above: number }[] {
  const out: { fmr: number; threshold: number; tar: number; impostors_above: number }[] = [];
  for (const fmr of fmrs) {
    const allowed = fmr * impostors;
    let above = 0;
    let b = HIST_BINS;
    while (b > 0 && above + bins[b - 1]! <= allowed) {
      above += bins[b - 1]!;
      b--;
    }
    const threshold = binLow(b);
    // genuineSorted ascending: count >= threshold
    const lo = lowerBound(genuineSorted, threshold);
    out.push({ fmr, threshold: Math.round(threshold * 1e5) / 1e5, tar: (genuineSorted.length - lo) / genuineTotal, impostors_above: above });
  }
  return out;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** The number of values of an ascending array below `x` (the index of the first one at or above it). */
export function lowerBound(sorted: ArrayLike<number>, x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
