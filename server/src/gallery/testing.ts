import type { Random } from '../platform/index.ts';
import type { FalseMatchCalibration } from './tail.ts';

/** Test and bench helpers: synthetic vectors and a calibration with a known tail. */

export function gaussian(random: Random): number {
  const u = Math.max(random.float(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random.float());
}

export function unit(v: Float32Array): Float32Array {
  let n = 0;
  for (const x of v) n += x * x;
  const inv = 1 / Math.sqrt(n);
  return v.map((x) => x * inv);
}

export function randomUnit(dim: number, random: Random): Float32Array {
  return unit(Float32Array.from({ length: dim }, () => gaussian(random)));
}

/** v plus isotropic noise of the given size, renormalised (noise 0.3 on 128-d gives cosine ~0.96). */
export function near(v: Float32Array, noise: number, random: Random): Float32Array {
  const sd = noise / Math.sqrt(v.length);
  return unit(v.map((x) => x + gaussian(random) * sd));
}

/**
 * A calibration whose impostor tail is exactly exponential in Fisher's z: FMR(s) = f0 *
 * exp(-(atanh(s) - atanh(s0)) / beta) above s0. Its top scores are the ideal order statistics.
 */
export function syntheticCalibration(opts: { model?: string; s0?: number; f0?: number; beta?: number; pairs?: number; top?: number } = {}): FalseMatchCalibration {
  const s0 = opts.s0 ?? 0.3;
  const f0 = opts.f0 ?? 1e-3;
  const beta = opts.beta ?? 0.05;
  const P = opts.pairs ?? 1e8;
  const n = opts.top ?? 2000;
  const z0 = Math.atanh(s0);
  const top = Array.from({ length: n }, (_, i) => Math.tanh(z0 + beta * Math.log((f0 * P) / (i + 1))));
  const curve = [1e-3, 1e-4, 1e-5, 1e-6].map((fmr) => ({ fmr, threshold: Math.tanh(z0 + beta * Math.log(f0 / fmr)), tar: 0.9 }));
  return { model: opts.model ?? 'test-model', version: '1', dim: 128, impostorPairs: P, curve, topImpostorScores: top, impostorMean: 0, impostorSd: 0.09 };
}
