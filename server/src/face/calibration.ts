import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { faceErrors } from './errors.ts';

export interface CurvePoint {
  /** false-match rate over the impostor pairs */
  fmr: number;
  /** cosine similarity at or above which a pair is a match */
  threshold: number;
  /** true-accept rate of the genuine pairs at that threshold */
  tar: number;
  /** how many impostor pairs score at or above the threshold (the evidence behind the rate) */
  impostors_above: number;
}

/**
 * What the bench measured for one embedder on all LFW pairs; the gallery sets its thresholds from
 * it. Written by `npm run bench:face`, read by `loadCalibration`.
 */
export interface Calibration {
  model: string;
  /** Whose faces: absent for the LFW file `<model>.json`, else the population of `<model>.<population>.json`. */
  population?: string;
  version: string;
  dim: number;
  dataset: string;
  measured_at: string;
  images: number;
  failed_images: number;
  genuine_pairs: number;
  impostor_pairs: number;
  curve: CurvePoint[];
  tail: { impostor_mean: number; impostor_sd: number; top_impostor_scores: number[]; genuine_mean: number; genuine_sd: number };
  /** the same with the identity pairs of lfw/label_errors.txt removed from the impostors */
  without_label_errors: { impostor_pairs: number; removed_pairs: number; curve: CurvePoint[]; top_impostor_scores?: number[] };
}

/**
 * The view for deciding 1:N: LFW's label errors (one person under two names) are not impostors,
 * and left in they set the extreme tail, so that almost no genuine pair clears the threshold.
 * Twins and siblings stay in: they are real impostors.
 */
export function withoutLabelErrors(cal: Calibration): Calibration {
  const clean = cal.without_label_errors;
  if (clean.top_impostor_scores === undefined) return cal;
  return {
    ...cal,
    impostor_pairs: clean.impostor_pairs,
    curve: clean.curve,
    tail: { ...cal.tail, top_impostor_scores: clean.top_impostor_scores },
  };
}

export const calibrationDir = join(dirname(fileURLToPath(import.meta.url)), 'calibration');

/** `<model>.json` for LFW, `<model>.<population>.json` for every other population. */
export function calibrationPath(modelName: string, population?: string): string {
  return join(calibrationDir, population === undefined || population === 'lfw' ? `${modelName}.json` : `${modelName}.${population}.json`);
}

export function loadCalibration(modelName: string): Calibration {
  const p = calibrationPath(modelName);
  if (!existsSync(p)) throw faceErrors.calibrationMissing(modelName);
  return JSON.parse(readFileSync(p, 'utf8')) as Calibration;
}

/**
 * Every population measured for a model: LFW (`<model>.json`, its label errors taken out) first,
 * then each `<model>.<population>.json` that bench:face wrote. `only` keeps one population.
 */
export function loadPopulationCalibrations(modelName: string, only?: string): Calibration[] {
  const lfw = { ...withoutLabelErrors(loadCalibration(modelName)), population: 'lfw' };
  const others = existsSync(calibrationDir)
    ? readdirSync(calibrationDir)
        .filter((f) => f.startsWith(`${modelName}.`) && f.endsWith('.json') && f !== `${modelName}.json`)
        .sort()
        .map((f) => JSON.parse(readFileSync(join(calibrationDir, f), 'utf8')) as Calibration)
    : [];
  const all = [lfw, ...others];
  if (only === undefined) return all;
  const picked = all.filter((c) => c.population === only);
  if (picked.length === 0) throw faceErrors.calibrationMissing(`${modelName} (population ${only}; measured: ${all.map((c) => c.population).join(', ')})`);
  return picked;
}

/**
 * The threshold for a false-match rate: the measured point at that rate, or between two measured
 * points a log-linear interpolation (never extrapolated below the smallest measured rate, where the
 * strictest measured threshold is returned).
 */
export function thresholdForFmr(cal: Pick<Calibration, 'curve'>, fmr: number, opts: { withoutLabelErrors?: Calibration['without_label_errors'] } = {}): number {
  const curve = [...(opts.withoutLabelErrors?.curve ?? cal.curve)].sort((a, b) => b.fmr - a.fmr);
  if (curve.length === 0) throw new Error('empty calibration curve');
  const first = curve[0]!;
  if (fmr >= first.fmr) return first.threshold;
  for (let i = 1; i < curve.length; i++) {
    const hi = curve[i - 1]!;
    const lo = curve[i]!;
    if (fmr >= lo.fmr) {
      const f = (Math.log10(hi.fmr) - Math.log10(fmr)) / (Math.log10(hi.fmr) - Math.log10(lo.fmr));
      return hi.threshold + f * (lo.threshold - hi.threshold);
    }
  }
  return curve[curve.length - 1]!.threshold;
}

/**
 * The bar for "every frame of one capture shows the same person": the score that strangers reach
 * at the false-match rate `fmr` on LFW, or the impostor mean (half of all strangers) for 0.5 and
 * above. The rate is the embedder's own (`EmbedderModel.sameFaceFmr`), chosen by measurement:
 * frames of one person turned 30 degrees must clear it, and LFW's genuine pairs, mostly frontal,
 * do not say how low those go.
 */
export function sameFaceBar(cal: Pick<Calibration, 'curve' | 'tail'>, fmr: number): number {
  return fmr >= 0.5 || cal.curve.length === 0 ? cal.tail.impostor_mean : thresholdForFmr(cal, fmr);
}
