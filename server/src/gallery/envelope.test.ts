import assert from 'node:assert/strict';
import { test } from 'node:test';
import { envelopeOf, poissonUpperBound, populationTail } from './envelope.ts';
import { fitImpostorTail } from './tail.ts';
import { syntheticCalibration } from './testing.ts';

test('the Poisson upper bound: 3.0 for no pair, 4.74 for one, near k + 1.645 sqrt(k) for many', () => {
  assert.ok(Math.abs(poissonUpperBound(0) - 2.996) < 0.01);
  assert.ok(Math.abs(poissonUpperBound(1) - 4.744) < 0.01);
  assert.ok(Math.abs(poissonUpperBound(5) - 10.51) < 0.02);
  const k = 10_000;
  assert.ok(Math.abs(poissonUpperBound(k) - (k + 1.645 * Math.sqrt(k))) < 5);
  assert.throws(() => poissonUpperBound(-1));
});

test('a population tail never states a lower rate than the point estimate of its own pairs', () => {
  const cal = syntheticCalibration();
  const point = fitImpostorTail(cal);
  const bounded = populationTail(cal);
  for (const s of [0.3, 0.35, 0.4, 0.45, 0.5]) assert.ok(bounded.fmrAt(s) >= point.fmrAt(s), `at ${s}`);
  assert.ok(bounded.thresholdFor(1e-5) >= point.thresholdFor(1e-5));
});

test('the envelope takes the worst population at every score and its thresholds sit at or above each one', () => {
  const western = { ...syntheticCalibration(), population: 'lfw' };
  // A population whose impostors score higher: every top score shifted up, as the Korean set is
  // against LFW's thresholds.
  const base = syntheticCalibration();
  const eastAsian = { ...base, population: 'korean-family', topImpostorScores: (base.topImpostorScores ?? []).map((x) => Math.min(0.99, x + 0.08)) };
  const env = envelopeOf([western, eastAsian]);
  for (const s of [0.35, 0.45, 0.55, 0.65]) {
    assert.equal(env.fmrAt(s), Math.max(populationTail(western).fmrAt(s), populationTail(eastAsian).fmrAt(s)));
  }
  assert.equal(env.worstAt(0.6), 'korean-family');
  for (const f of [1e-5, 1e-6, 1e-9]) {
    const t = env.thresholdFor(f);
    assert.ok(t >= populationTail(western).thresholdFor(f) && t >= populationTail(eastAsian).thresholdFor(f));
    assert.ok(env.fmrAt(t) <= f * 1.0001);
  }
  assert.ok(env.thresholdFor(1e-6) > populationTail(western).thresholdFor(1e-6) + 0.03, 'the envelope follows the worse population');
});

test('populations measured with another model cannot share an envelope', () => {
  assert.throws(() => envelopeOf([syntheticCalibration(), { ...syntheticCalibration(), model: 'other' }]), /different models/);
  assert.throws(() => envelopeOf([]));
});
