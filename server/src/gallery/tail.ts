/**
 * How often a random impostor scores at least s: the per-comparison false-match rate FMR(s), far
 * into the tail that no dataset measures.
 *
 * A 1:N decision compares the probe with N templates, so to keep the false-match probability of
 * one decision under a target T the threshold must sit where FMR = T / N: at T = 1e-6 and a
 * million templates that is 1e-12, while LFW's 87 million impostor pairs measure rates down to
 * about 1e-7 and rest on a handful of pairs there. Beyond the data the rate is extrapolated:
 *
 * 1. Scores are mapped to Fisher's z = atanh(s), which stretches the crowded top of the cosine
 *    scale so that tails look like ordinary unbounded tails.
 * 2. Over the k highest impostor scores of the face engine's calibration (k = min(available,
 *    1000), at least 20), the excesses y = z - z_u above the k-th score z_u are fitted with a
 *    generalised Pareto distribution: the shape by Pickands' estimator (from the k-th, k/2-th
 *    and k/4-th scores), the scale from the median excess, both blind to the very top few pairs.
 *    The shape is clamped to [0, 0.45]: a bounded tail (shape < 0) would let the threshold stop
 *    rising, which is exactly the optimism to avoid; shape 0 is the exponential tail, shape > 0
 *    a heavier one, kept when the data say so. The scale is raised by (1 + 2/sqrt(k)).
 *    FMR(s) = (k / P) * (1 + shape * y / scale)^(-1 / shape), P the number of impostor pairs.
 * 3. Where the data reach (at least 5 impostor pairs at or above s), the empirical rate (their
 *    count over P) is used when it is higher than the model: the model may only add caution.
 *    Above the fifth-highest pair the fitted tail alone decides: one or two pairs (in LFW often
 *    the same photo filed under two names) are no measure of a rate, and taking them as one
 *    would put every threshold above the single highest impostor score ever seen.
 * 4. Without a list of top scores, the same exponential form is fitted by least squares through
 *    the calibration curve's points at FMR <= 1e-3 (scale inflated by 25 %); with only a mean
 *    and a standard deviation, a Gaussian in z, which is flagged as not conservative.
 *
 * The extrapolation assumes the impostors met in service are like LFW's: different cameras,
 * ethnic groups the model handles worse, twins and relatives all make the real tail heavier.
 * The decision's margin rule and the phone-suffix question are the guards for that.
 */

export interface CurvePoint {
  fmr: number;
  threshold: number;
  tar?: number;
}

/** The face engine's measured false-match curve, as the gallery needs it. */
export interface FalseMatchCalibration {
  model: string;
  /** Whose faces the pairs are (`lfw`, `lfw-east-asian`, `korean-family`, ...). */
  population?: string;
  version: string;
  dim?: number;
  /** How many impostor comparisons the curve and the scores come from. */
  impostorPairs: number;
  curve: CurvePoint[];
  /** The highest impostor similarities, in any order (the more the better, a few thousand is plenty). */
  topImpostorScores?: number[];
  impostorMean?: number;
  impostorSd?: number;
}

export interface TailDescription {
  method: 'gpd_top_scores' | 'exponential_curve' | 'gaussian_z';
  conservative: boolean;
  /** Where the extrapolation starts (cosine) and the measured rate there. */
  anchorScore: number;
  anchorFmr: number;
  shape: number;
  /** In Fisher-z units, after the upward correction. */
  scale: number;
  exceedances: number;
}

export interface TailModel {
  /** Per-comparison false-match rate at this score (1 at and below the lowest scores). */
  fmrAt(score: number): number;
  /** The lowest score whose false-match rate is at most fmr; 1 when nothing below 1 reaches it. */
  thresholdFor(fmr: number): number;
  describe(): TailDescription;
}

const Z_MAX = atanh(0.9999999);
/** Impostor pairs needed above a score before their count is taken as the rate there. */
const MIN_EVIDENCE = 5;

function atanh(s: number): number {
  const c = Math.min(Math.max(s, -0.9999999), 0.9999999);
  return 0.5 * Math.log((1 + c) / (1 - c));
}

/** Upper tail of the standard normal (Abramowitz and Stegun 7.1.26 through erfc). */
function normalSf(x: number): number {
  const t = 1 / (1 + (0.3275911 * Math.abs(x)) / Math.SQRT2);
  const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erfc = poly * Math.exp(-(x * x) / 2);
  return x >= 0 ? erfc / 2 : 1 - erfc / 2;
}

export interface TailOptions {
  /**
   * The expected count to take for an observed count of impostor pairs above a score (default:
   * the count itself). The envelope passes an upper confidence bound, so that few pairs never
   * read as a low rate.
   */
  countBound?: (count: number) => number;
  /** false: only measured rates, no tail beyond them (for a population too small to fit one). */
  extrapolate?: boolean;
}

export function fitImpostorTail(cal: FalseMatchCalibration, opts: TailOptions = {}): TailModel {
  const countBound = opts.countBound ?? ((k: number) => k);
  const P = cal.impostorPairs;
  if (!(P > 0)) throw new Error('calibration has no impostor pairs');
  const top = [...(cal.topImpostorScores ?? [])].filter(Number.isFinite).sort((a, b) => b - a);
  const curve = [...cal.curve].filter((p) => p.fmr > 0 && Number.isFinite(p.threshold)).sort((a, b) => b.fmr - a.fmr);

  // The empirical rate where measured (from the top scores, else interpolated on the curve);
  // undefined below the measured range.
  const lowestTop = top[top.length - 1];
  const empirical = (s: number): number | undefined => {
    if (lowestTop !== undefined && s >= lowestTop) {
      let lo = 0;
      let hi = top.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if ((top[mid] ?? -Infinity) >= s) lo = mid + 1;
        else hi = mid;
      }
      // A count of one or two pairs is not a rate: there the fitted tail decides.
      return lo >= MIN_EVIDENCE ? countBound(lo) / P : undefined;
    }
    for (let i = curve.length - 1; i >= 0; i--) {
      const a = curve[i];
      if (a === undefined || s < a.threshold) continue;
      const b = curve[i + 1];
      if (b === undefined || b.threshold <= a.threshold) return a.fmr;
      const w = Math.min(1, (s - a.threshold) / (b.threshold - a.threshold));
      return Math.exp(Math.log(a.fmr) + w * (Math.log(b.fmr) - Math.log(a.fmr)));
    }
    return undefined;
  };

  let describe: TailDescription;
  let modelSf: (s: number) => number | undefined;
  let below: (s: number) => number = () => 1;

  if (top.length >= 20) {
    // The excesses start no lower than the one-in-a-thousand score: a small population's top
    // thousand would reach into its bulk, and a tail extrapolated from there over nine decades
    // says more about the bulk than about the tail.
    const k = Math.max(20, Math.min(top.length, 1000, Math.floor(P * 1e-3)));
    const zAt = (rank: number): number => atanh(top[Math.max(0, Math.round(rank) - 1)] ?? 0);
    const zu = zAt(k);
    // Pickands' estimator from the k-th, k/2-th and k/4-th highest scores: it never looks at the
    // very top, where LFW puts a few pairs of one photo under two names that would make a
    // moment estimate explode.
    const a = zAt(k / 4) - zAt(k / 2);
    const b = zAt(k / 2) - zu;
    const pickands = a > 0 && b > 0 ? Math.log(a / b) / Math.LN2 : 0;
    const shape = Math.min(0.45, Math.max(0, pickands));
    // The scale from the median excess (y at rank k/2), which is as robust.
    const scale = (shape > 1e-9 ? (shape * b) / (2 ** shape - 1) : b / Math.LN2) * (1 + 2 / Math.sqrt(k));
    const pu = k / P;
    modelSf = (s) => {
      const y = atanh(s) - zu;
      if (y < 0) return undefined;
      return shape > 1e-9 ? pu * Math.pow(1 + (shape * y) / scale, -1 / shape) : pu * Math.exp(-y / scale);
    };
    describe = { method: 'gpd_top_scores', conservative: true, anchorScore: Math.tanh(zu), anchorFmr: pu, shape, scale, exceedances: k };
  } else if (curve.filter((p) => p.fmr <= 1e-3).length >= 2) {
    const pts = curve.filter((p) => p.fmr <= 1e-3);
    const xs = pts.map((p) => atanh(p.threshold));
    const ls = pts.map((p) => Math.log(p.fmr));
    const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
    const ml = ls.reduce((a, b) => a + b, 0) / ls.length;
    let sxy = 0;
    let sxx = 0;
    xs.forEach((x, i) => {
      sxy += (x - mx) * ((ls[i] ?? 0) - ml);
      sxx += (x - mx) ** 2;
    });
    const slope = sxx > 0 ? sxy / sxx : -Infinity;
    if (!(slope < 0)) throw new Error('calibration curve does not fall with the threshold');
    const scale = (-1 / slope) * 1.25;
    const last = pts[pts.length - 1] as CurvePoint;
    const z0 = atanh(last.threshold);
    modelSf = (s) => {
      const y = atanh(s) - z0;
      return y < 0 ? undefined : last.fmr * Math.exp(-y / scale);
    };
    describe = {
      method: 'exponential_curve',
      conservative: true,
      anchorScore: last.threshold,
      anchorFmr: last.fmr,
      shape: 0,
      scale,
      exceedances: Math.round(last.fmr * P),
    };
  } else if (cal.impostorMean !== undefined && cal.impostorSd !== undefined && cal.impostorSd > 0) {
    // The sd of z is close to the sd of s divided by the derivative of tanh at the mean.
    const mz = atanh(cal.impostorMean);
    const sz = cal.impostorSd / (1 - cal.impostorMean ** 2);
    modelSf = (s) => normalSf((atanh(s) - mz) / sz);
    describe = { method: 'gaussian_z', conservative: false, anchorScore: cal.impostorMean, anchorFmr: 0.5, shape: 0, scale: sz, exceedances: 0 };
  } else {
    throw new Error('calibration has neither top impostor scores, a curve below 1e-3, nor a mean and sd');
  }

  if (cal.impostorMean !== undefined && cal.impostorSd !== undefined && cal.impostorSd > 0 && describe.method !== 'gaussian_z') {
    const mz = atanh(cal.impostorMean);
    const sz = cal.impostorSd / (1 - cal.impostorMean ** 2);
    // Below everything measured only the bulk is known; no decision threshold lives there.
    below = (s) => normalSf((atanh(s) - mz) / sz);
  }
  if (opts.extrapolate === false) modelSf = () => undefined;
  const fmrAt = (s: number): number => {
    const m = modelSf(s);
    const e = empirical(s);
    if (m === undefined && e === undefined) return Math.min(1, below(s));
    return Math.min(1, Math.max(m ?? 0, e ?? 0));
  };
  return { fmrAt, thresholdFor: thresholdByBisection(fmrAt), describe: () => describe };
}

/**
 * The lowest score whose rate is at most fmr, for any rate that falls as the score rises (1 when
 * nothing below 1 reaches it), memoised: decisions ask for the same few rates again and again.
 */
export function thresholdByBisection(fmrAt: (score: number) => number): (fmr: number) => number {
  const memo = new Map<number, number>();
  return (fmr: number): number => {
    const hit = memo.get(fmr);
    if (hit !== undefined) return hit;
    let t: number;
    if (fmrAt(Math.tanh(Z_MAX)) > fmr) t = 1;
    else {
      // Bisect in z, where the crowded top of the cosine scale is stretched out.
      let lo = atanh(-0.9999999);
      let hi = Z_MAX;
      for (let i = 0; i < 80; i++) {
        const mid = (lo + hi) / 2;
        if (fmrAt(Math.tanh(mid)) <= fmr) hi = mid;
        else lo = mid;
      }
      t = Math.tanh(hi);
    }
    if (memo.size > 1000) memo.clear();
    memo.set(fmr, t);
    return t;
  };
}

/**
 * Reads the face engine's calibration file (`server/src/face/calibration/<model>.json`) into the
 * gallery's shape, accepting the spellings the engine may use for the tail.
 */
export function calibrationFromJson(json: unknown): FalseMatchCalibration {
  const o = (json ?? {}) as Record<string, unknown>;
  const tail = (o.tail ?? {}) as Record<string, unknown>;
  const numArr = (v: unknown): number[] | undefined =>
    Array.isArray(v) ? v.map((x) => (typeof x === 'number' ? x : Number((x as Record<string, unknown>)?.score))).filter(Number.isFinite) : undefined;
  const firstNum = (...vs: unknown[]): number | undefined => vs.find((v): v is number => typeof v === 'number' && Number.isFinite(v));
  const curve = Array.isArray(o.curve)
    ? (o.curve as Record<string, unknown>[]).map((p) => ({ fmr: Number(p.fmr), threshold: Number(p.threshold), tar: Number(p.tar) }))
    : [];
  const cal: FalseMatchCalibration = {
    model: String(o.model ?? ''),
    version: String(o.version ?? ''),
    impostorPairs: Number(o.impostor_pairs ?? o.impostorPairs ?? 0),
    curve,
  };
  const dim = firstNum(o.dim);
  if (dim !== undefined) cal.dim = dim;
  cal.population = typeof o.population === 'string' ? o.population : 'lfw';
  const top = numArr(tail.top_impostor_scores) ?? numArr(tail.top_scores) ?? numArr(tail.top) ?? numArr(tail.scores);
  if (top !== undefined) cal.topImpostorScores = top;
  const mean = firstNum(tail.impostor_mean, tail.mean, o.impostor_mean);
  if (mean !== undefined) cal.impostorMean = mean;
  const sd = firstNum(tail.impostor_sd, tail.sd, o.impostor_sd);
  if (sd !== undefined) cal.impostorSd = sd;
  return cal;
}
