import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { sameFaceBar, thresholdForFmr } from './calibration.ts';
import { applyLogistic, trainLogistic } from './liveness.ts';
import { cosine, cropGeometry, l2normalise, sharpness, warpCrop } from './align.ts';

describe('thresholdForFmr', () => {
  const cal = {
    curve: [
      { fmr: 1e-3, threshold: 0.5, tar: 0.99, impostors_above: 87000 },
      { fmr: 1e-4, threshold: 0.6, tar: 0.95, impostors_above: 8700 },
      { fmr: 1e-5, threshold: 0.7, tar: 0.9, impostors_above: 870 },
    ],
  };
  test('reads measured points and interpolates between them on a log scale', () => {
    assert.equal(thresholdForFmr(cal, 1e-4), 0.6);
    assert.ok(Math.abs(thresholdForFmr(cal, Math.sqrt(1e-4 * 1e-5)) - 0.65) < 1e-9);
  });
  test('never extrapolates below the smallest measured rate, and is looser above the largest', () => {
    assert.equal(thresholdForFmr(cal, 1e-9), 0.7);
    assert.equal(thresholdForFmr(cal, 0.5), 0.5);
  });
});

describe('sameFaceBar', () => {
  const tail = { impostor_mean: 0.01, impostor_sd: 0.1, top_impostor_scores: [], genuine_mean: 0.7, genuine_sd: 0.1 };
  const curve = [
    { fmr: 1e-1, threshold: 0.13, tar: 0.998, impostors_above: 10 },
    { fmr: 1e-2, threshold: 0.25, tar: 0.995, impostors_above: 1 },
  ];
  test('is the score strangers reach at the given false-match rate', () => {
    assert.equal(sameFaceBar({ tail, curve }, 0.1), 0.13);
    assert.equal(sameFaceBar({ tail, curve }, 0.01), 0.25);
  });
  test('is the impostor mean at a rate of one half', () => {
    assert.equal(sameFaceBar({ tail, curve }, 0.5), 0.01);
  });
});

describe('alignment helpers', () => {
  test('the crop is centred below the eyes and scales with the face', () => {
    const p = { leftEye: [40, 50] as [number, number], rightEye: [80, 50] as [number, number], nose: [60, 70] as [number, number], mouthLeft: [45, 90] as [number, number], mouthRight: [75, 90] as [number, number] };
    const g = cropGeometry(p, 0.45, false);
    assert.ok(g.cx === 60 && g.cy > 63 && g.angle === 0);
    const big = cropGeometry({ leftEye: [80, 100], rightEye: [160, 100], nose: [120, 140], mouthLeft: [90, 180], mouthRight: [150, 180] }, 0.45, false);
    assert.ok(Math.abs(big.size - 2 * g.size) < 1e-9);
    const tilted = cropGeometry({ ...p, rightEye: [80, 90] }, 0.45, true);
    assert.ok(tilted.angle > 0.7);
  });
  test('warpCrop samples the frame and mirror flips it', () => {
    const w = 4;
    const rgb = new Uint8Array(w * w * 3);
    for (let y = 0; y < w; y++) for (let x = 0; x < w; x++) rgb.fill(x * 60, (y * w + x) * 3, (y * w + x) * 3 + 3);
    const g = { cx: 2, cy: 2, size: 4, angle: 0 };
    const c = warpCrop(rgb, w, w, g, 4);
    const m = warpCrop(rgb, w, w, g, 4, true);
    assert.deepEqual([c[0], c[9]], [0, 180]);
    assert.deepEqual([m[0], m[9]], [180, 0]);
  });
  test('sharpness falls when an image is smoothed', () => {
    const side = 32;
    const sharp = new Float32Array(side * side).map((_, i) => ((i % side) + Math.floor(i / side)) % 2 ? 200 : 50);
    const flat = new Float32Array(side * side).fill(120);
    assert.ok(sharpness(sharp, side) > 1000 && sharpness(flat, side) === 0);
  });
  test('l2normalise and cosine', () => {
    const a = l2normalise(Float32Array.from([3, 4]));
    assert.ok(Math.abs(cosine(a, a) - 1) < 1e-6);
    assert.ok(Math.abs(a[0]! - 0.6) < 1e-6);
  });
});

describe('logistic liveness model', () => {
  test('learns a separable signal and scores in [0, 1]', () => {
    const rows = Array.from({ length: 60 }, (_, i) => ({ a: i < 30 ? 1 + (i % 5) * 0.1 : -1 - (i % 5) * 0.1, noise: (i * 7) % 3 }));
    const labels = rows.map((_, i) => i < 30);
    const m = trainLogistic(rows, labels, ['a', 'noise']);
    assert.ok(applyLogistic(m, { a: 1.2, noise: 1 }) > 0.9);
    assert.ok(applyLogistic(m, { a: -1.2, noise: 1 }) < 0.1);
  });
});
