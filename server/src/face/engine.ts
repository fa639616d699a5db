import { DomainError } from '../platform/index.ts';
import { cosine } from './align.ts';
import type { AnalyzeOptions, FaceAnalysis } from './analyzer.ts';
import { loadCalibration, thresholdForFmr } from './calibration.ts';
import { faceConfig, type FaceConfig } from './config.ts';
import type { EmbedderModel } from './embedders.ts';
import { faceErrors } from './errors.ts';
import { createRunner } from './pool.ts';

export interface Comparison {
  similarity: number;
  threshold: number;
  /** false-match rate the threshold was read for */
  fmr: number;
  match: boolean;
  model: { name: string; version: string };
  a: FaceAnalysis;
  b: FaceAnalysis;
}

export interface FaceEngine {
  model: EmbedderModel;
  /** Throws a DomainError with a stable code when the image is refused (except for purpose 'inspect'). */
  analyze(image: Uint8Array, opts: AnalyzeOptions): Promise<FaceAnalysis>;
  /** Both images analysed as enrolment-quality photos, then the cosine similarity at the configured threshold. */
  compare(a: Uint8Array, b: Uint8Array, opts?: { fmr?: number; purpose?: AnalyzeOptions['purpose'] }): Promise<Comparison>;
  /** Threshold for a false-match rate, from the calibration file the bench wrote for this model. */
  threshold(fmr: number): number;
  /** requests accepted and not yet answered */
  pending(): number;
  close(): Promise<void>;
}

/**
 * The face engine: `workers` threads (0 = the calling thread), each with its own models, behind a
 * bounded queue that refuses with `face_engine_busy` rather than growing.
 */
export async function createFaceEngine(overrides: Partial<FaceConfig> = {}): Promise<FaceEngine> {
  const config = faceConfig(overrides);
  const runner = await createRunner(config);
  const model = runner.model;
  const threshold = (fmr: number): number => thresholdForFmr(loadCalibration(model.name), fmr);
  return {
    model,
    analyze: (image, opts) => runner.analyze(image, opts),
    async compare(a, b, opts = {}) {
      const fmr = opts.fmr ?? config.compareFmr;
      const t = threshold(fmr);
      const purpose = opts.purpose ?? 'inspect';
      const [ra, rb] = await Promise.all([runner.analyze(a, { purpose }), runner.analyze(b, { purpose })]);
      if (!ra.embedding || !rb.embedding) {
        const bad = (ra.embedding ? rb : ra).error ?? { code: 'no_face', message: faceErrors.noFace().message };
        const kind = bad.code === 'image_too_large' || bad.code === 'image_dimensions_too_large' ? 'too_large' : bad.code.startsWith('image_') ? 'invalid' : 'unprocessable';
        throw new DomainError(kind, bad.code, `${ra.embedding ? 'Second' : 'First'} image: ${bad.message}`);
      }
      if (ra.model.name !== rb.model.name || ra.model.version !== rb.model.version) throw faceErrors.modelMismatch(ra.model.version, rb.model.version);
      const similarity = cosine(ra.embedding, rb.embedding);
      return { similarity, threshold: t, fmr, match: similarity >= t, model: { name: model.name, version: model.version }, a: ra, b: rb };
    },
    threshold,
    pending: () => runner.pending(),
    close: () => runner.close(),
  };
}
