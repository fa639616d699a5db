import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { findDataset } from '../platform/index.ts';
import { createAnalyzer } from './analyzer.ts';
import { faceConfig } from './config.ts';
import { loadLivenessModel, passiveSignals } from './liveness.ts';
import { colourPlanes, LBP_BINS, lbpHistogram, PAD_CHANNELS, padFeatureNames, padFeatures } from './pad-features.ts';

/** A synthetic 128 x 128 RGB crop: colour gradients plus seeded noise (no real face, nothing read from disk). */
function syntheticCrop(side = 128, seed = 7): Float32Array {
  let x = seed;
  const rand = (): number => (x = (Math.imul(x, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  const c = new Float32Array(side * side * 3);
  for (let y = 0; y < side; y++)
    for (let u = 0; u < side; u++) {
      const i = 3 * (y * side + u);
      c[i] = Math.min(255, (200 * u) / side + 40 * rand());
      c[i + 1] = Math.min(255, (150 * y) / side + 40 * rand());
      c[i + 2] = Math.min(255, 90 + 60 * Math.sin(u / 5) + 30 * rand());
    }
  return c;
}

describe('colour-texture PAD features', () => {
  test('have the expected length and names, are deterministic, and each channel histogram sums to 1', () => {
    const crop = syntheticCrop();
    const a = padFeatures(crop, 128);
    const b = padFeatures(crop.slice(), 128);
    assert.equal(a.length, PAD_CHANNELS.length * LBP_BINS);
    assert.equal(a.length, 354);
    assert.equal(padFeatureNames().length, a.length);
    assert.equal(new Set(padFeatureNames()).size, a.length);
    assert.deepEqual(Array.from(a), Array.from(b));
    for (let c = 0; c < PAD_CHANNELS.length; c++) {
      const sum = a.slice(c * LBP_BINS, (c + 1) * LBP_BINS).reduce((s, v) => s + v, 0);
      assert.ok(Math.abs(sum - 1) < 1e-5, `channel ${PAD_CHANNELS[c]} sums to ${sum}`);
    }
    assert.ok(a.every((v) => v >= 0 && v <= 1));
    // Another image gives other features.
    assert.notDeepEqual(Array.from(padFeatures(syntheticCrop(128, 8), 128)), Array.from(a));
  });

  test('a flat plane is all one uniform pattern (every neighbour ties the centre: code 255, the last uniform bin)', () => {
    const out = new Float32Array(LBP_BINS);
    lbpHistogram(new Float32Array(16 * 16).fill(3), 16, out, 0);
    assert.equal(out[LBP_BINS - 2], 1);
    assert.equal(out.reduce((s, v) => s + v, 0), 1);
  });

  test('colour planes: a grey pixel has no chroma and no saturation', () => {
    const [Y, Cb, Cr, , S, V] = colourPlanes(new Float32Array([100, 100, 100]), 1);
    assert.ok(Math.abs(Y![0]! - 100) < 1e-3 && Math.abs(Cb![0]! - 128) < 1e-3 && Math.abs(Cr![0]! - 128) < 1e-3);
    assert.equal(S![0], 0);
    assert.ok(Math.abs(V![0]! - 100 / 255) < 1e-6);
  });

  test('refuses a crop of the wrong size', () => {
    assert.throws(() => padFeatures(new Float32Array(10), 128), /expected 128 x 128 x 3/);
  });

  test('the shipped model uses only signals the engine computes, and costs a few milliseconds', (t) => {
    const m = loadLivenessModel();
    assert.ok(m, 'models/liveness-pad.json is present');
    const crop = syntheticCrop();
    let s = passiveSignals(crop, { antispoof: 0.5, liveness: 0.5 });
    for (let i = 0; i < 20; i++) s = passiveSignals(crop, { antispoof: 0.5, liveness: 0.5 }); // warm the JIT
    const t0 = performance.now();
    const n = 50;
    for (let i = 0; i < n; i++) s = passiveSignals(crop, { antispoof: 0.5, liveness: 0.5 });
    t.diagnostic(`signals of a 128 px crop: ${((performance.now() - t0) / n).toFixed(2)} ms`);
    const have = new Set([...Object.keys(s.signals), ...Object.keys(s.texture)]);
    for (const f of m.features) assert.ok(have.has(f), `feature ${f} is computed`);
    assert.equal(m.features.length, m.mean.length);
    assert.equal(m.features.length, m.sd.length);
    assert.equal(m.features.length, m.weights.length);
    assert.ok(m.threshold > 0 && m.threshold < 1);
  });
});

const pad = findDataset('pad');
describe('shipped passive liveness model on the held-out part of pad/', { skip: pad ? false : 'no ../shared/datasets/pad (set FACEPAY_DATASETS): the held-out measurement is skipped' }, () => {
  // The held-out images are listed in the model file (split by identity group, never trained on).
  // Measured when trained: APCER 26.5 % (35 of 132 attacks), BPCER 6.6 % (12 of 182 genuine), AUC
  // 0.929, and this path (the engine itself) reproduces them exactly. The bounds leave about two
  // binomial standard deviations (APCER 3.8 points, BPCER 1.8) for small numeric drift (resampling,
  // decoder versions) yet fail when the features and the weights no longer belong together: the
  // previous 9-signal model on the same images had APCER 67 % at the same BPCER, AUC 0.79.
  test('APCER at most 35 %, BPCER at most 12 % (faces found), AUC at least 0.88', { timeout: 600_000 }, async (t) => {
    const m = loadLivenessModel();
    assert.ok(m?.split, 'the model file lists its held-out images');
    const files = [
      ...m.split.heldout.live.map((n) => ({ path: `live/${String(n).padStart(4, '0')}.jpg`, live: true })),
      ...m.split.heldout.spoof.map((n) => ({ path: `spoof/${String(n).padStart(4, '0')}.jpg`, live: false })),
    ];
    const analyzer = await createAnalyzer(faceConfig({ embedder: 'faceapi-resnet128', mirrorAverage: false }));
    const gen: number[] = [];
    const att: number[] = [];
    let missed = 0;
    for (const f of files) {
      const a = await analyzer.analyze(readFileSync(join(pad!, f.path)), { purpose: 'inspect', embedding: 'check' });
      if (!a.liveness) missed++;
      else (f.live ? gen : att).push(a.liveness.score);
    }
    await analyzer.close();
    const apcer = att.filter((s) => s >= m.threshold).length / att.length;
    const bpcer = gen.filter((s) => s < m.threshold).length / gen.length;
    let wins = 0;
    for (const g of gen) for (const x of att) wins += g > x ? 1 : g === x ? 0.5 : 0;
    const auc = wins / (gen.length * att.length);
    t.diagnostic(`${files.length} held-out images, ${missed} without a face; ${att.length} attacks, ${gen.length} genuine: APCER ${(100 * apcer).toFixed(1)} %, BPCER ${(100 * bpcer).toFixed(1)} %, AUC ${auc.toFixed(3)}`);
    assert.ok(att.length >= 100 && gen.length >= 150, 'enough held-out faces to measure');
    assert.ok(apcer <= 0.35, `APCER ${apcer}`);
    assert.ok(bpcer <= 0.12, `BPCER ${bpcer}`);
    assert.ok(auc >= 0.88, `AUC ${auc}`);
  });
});
