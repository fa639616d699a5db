import assert from 'node:assert/strict';
import { test } from 'node:test';
import { calibrationFromJson, fitImpostorTail } from './tail.ts';
import { syntheticCalibration } from './testing.ts';

const truth = (s: number, s0 = 0.3, f0 = 1e-3, beta = 0.05): number => f0 * Math.exp(-(Math.atanh(s) - Math.atanh(s0)) / beta);

test('on an exponential tail the extrapolated thresholds sit at or above the true ones, not far above', () => {
  const tail = fitImpostorTail(syntheticCalibration());
  assert.equal(tail.describe().method, 'gpd_top_scores');
  for (const f of [1e-6, 1e-9, 1e-12]) {
    const t = tail.thresholdFor(f);
    assert.ok(truth(t) <= f * 1.0001, `threshold ${t} for ${f} has true rate ${truth(t)}`);
    assert.ok(truth(t) >= f / 100, `threshold ${t} for ${f} is needlessly strict (true rate ${truth(t)})`);
  }
});

test('thresholds rise as the rate falls, and fmrAt inverts thresholdFor', () => {
  const tail = fitImpostorTail(syntheticCalibration());
  let last = -1;
  for (const f of [1e-3, 1e-5, 1e-7, 1e-9, 1e-11, 1e-13]) {
    const t = tail.thresholdFor(f);
    assert.ok(t > last);
    last = t;
    assert.ok(tail.fmrAt(t) <= f * 1.0001);
    assert.ok(tail.fmrAt(t - 1e-4) > f);
  }
});

test('a curve alone gives an exponential fit; a mean and sd alone a Gaussian flagged as not conservative', () => {
  const cal = syntheticCalibration();
  const curveOnly = fitImpostorTail({ ...cal, topImpostorScores: [] });
  assert.equal(curveOnly.describe().method, 'exponential_curve');
  assert.ok(truth(curveOnly.thresholdFor(1e-10)) <= 1e-10);
  const gauss = fitImpostorTail({ ...cal, topImpostorScores: [], curve: [], impostorMean: 0.1, impostorSd: 0.08 });
  assert.equal(gauss.describe().conservative, false);
  assert.ok(gauss.thresholdFor(1e-6) > 0.3);
});

test('reads the face engine calibration file shape', () => {
  const cal = calibrationFromJson({
    model: 'm',
    version: '2',
    dim: 128,
    impostor_pairs: 1000,
    curve: [{ fmr: 1e-3, threshold: 0.5, tar: 0.9, impostors_above: 1 }],
    tail: { impostor_mean: 0.1, impostor_sd: 0.1, top_impostor_scores: [0.6, 0.5], genuine_mean: 0.8, genuine_sd: 0.1 },
  });
  assert.deepEqual(cal.topImpostorScores, [0.6, 0.5]);
  assert.equal(cal.impostorPairs, 1000);
  assert.equal(cal.impostorSd, 0.1);
});

test('one or two extreme impostor pairs (the same photo under two names) do not pin every threshold above them', () => {
  const cal = syntheticCalibration();
  const withOutliers = fitImpostorTail({ ...cal, topImpostorScores: [0.9999, 0.9998, ...(cal.topImpostorScores ?? [])] });
  const t = withOutliers.thresholdFor(1e-9);
  assert.ok(t < 0.99, `threshold ${t} was pinned by two pairs`);
  // They still make the fitted tail heavier, never lighter.
  assert.ok(t >= fitImpostorTail(cal).thresholdFor(1e-9));
});
