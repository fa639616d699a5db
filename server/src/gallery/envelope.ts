/**
 * One false-match model for every population measured: at each score, the highest rate any
 * population shows, each rate taken as an upper confidence bound for the pairs behind it.
 *
 * A rate measured on LFW (mostly older Western men in news photos) is wrong by orders of magnitude
 * for ordinary East Asian adults, the people who would use face pay most. The gallery therefore
 * decides on the envelope: a stated risk is never lower than what the worst measured population
 * shows. Within each population the empirical rate k / P is replaced by the one-sided 95 % upper
 * bound for a Poisson count k (the binomial with a small rate), so a population of few pairs cannot
 * look safer than its evidence; below the lowest rate it can measure, its fitted tail decides (see
 * tail.ts).
 */
import { fitImpostorTail, thresholdByBisection, type FalseMatchCalibration, type TailModel } from './tail.ts';

export interface PopulationTail {
  population: string;
  tail: TailModel;
}

export interface Envelope extends TailModel {
  populations: readonly PopulationTail[];
  /** The population whose rate is the highest at this score (the one that sets the envelope there). */
  worstAt(score: number): string;
}

/** Confidence of the upper bounds on every measured rate. */
export const ENVELOPE_CONFIDENCE = 0.95;

/** P(X <= k) for X ~ Poisson(lambda), summed in log space so large k and lambda stay finite. */
function poissonCdf(k: number, lambda: number): number {
  if (lambda <= 0) return 1;
  let term = -lambda;
  let sum = Math.exp(term);
  for (let i = 1; i <= k; i++) {
    term += Math.log(lambda) - Math.log(i);
    sum += Math.exp(term);
  }
  return Math.min(1, sum);
}

/**
 * The smallest lambda with P(X <= k; lambda) <= 1 - confidence: the one-sided upper bound on the
 * expected count behind an observed count k (3.0 for k = 0 at 95 %, 4.74 for k = 1).
 */
export function poissonUpperBound(k: number, confidence = ENVELOPE_CONFIDENCE): number {
  if (!(k >= 0) || !Number.isFinite(k)) throw new Error(`count must be a finite non-negative number, got ${k}`);
  const alpha = 1 - confidence;
  let lo = k;
  let hi = k + 10 + 10 * Math.sqrt(k + 1);
  while (poissonCdf(k, hi) > alpha) hi *= 2;
  for (let i = 0; i < 100; i++) {
    const mid = (lo + hi) / 2;
    if (poissonCdf(k, mid) > alpha) lo = mid;
    else hi = mid;
  }
  return hi;
}

/**
 * Impostor pairs a population needs before its own tail is extrapolated. With fewer (LFW's 131
 * thousand East Asian pairs), a tail fitted on them and carried over six decades is set by a
 * few hundred scores near its bulk: its measured rates still enter the envelope, and below them
 * the larger populations' tails decide (at least one must be this large).
 */
export const MIN_PAIRS_TO_EXTRAPOLATE = 1_000_000;

/** One population's tail with its measured rates as upper confidence bounds. */
export function populationTail(cal: FalseMatchCalibration, confidence = ENVELOPE_CONFIDENCE): TailModel {
  return fitImpostorTail(cal, { countBound: (k) => poissonUpperBound(k, confidence), extrapolate: cal.impostorPairs >= MIN_PAIRS_TO_EXTRAPOLATE });
}

export function envelopeOf(populations: readonly FalseMatchCalibration[], confidence = ENVELOPE_CONFIDENCE): Envelope {
  if (populations.length === 0) throw new Error('an envelope needs at least one population');
  const models = [...new Set(populations.map((p) => p.model))];
  if (models.length > 1) throw new Error(`populations were measured with different models: ${models.join(', ')}`);
  if (!populations.some((p) => p.impostorPairs >= MIN_PAIRS_TO_EXTRAPOLATE)) {
    throw new Error(`no population has the ${MIN_PAIRS_TO_EXTRAPOLATE} impostor pairs to extrapolate a tail from`);
  }
  const tails: PopulationTail[] = populations.map((p) => ({ population: p.population ?? 'unnamed', tail: populationTail(p, confidence) }));
  const fmrAt = (s: number): number => Math.max(...tails.map((t) => t.tail.fmrAt(s)));
  const worst = (s: number): PopulationTail => tails.reduce((a, b) => (b.tail.fmrAt(s) > a.tail.fmrAt(s) ? b : a));
  const thresholdFor = thresholdByBisection(fmrAt);
  return {
    populations: tails,
    fmrAt,
    thresholdFor,
    worstAt: (s) => worst(s).population,
    // The tail of the population that sets the envelope at one in a million per comparison.
    describe: () => worst(thresholdFor(1e-6)).tail.describe(),
  };
}
