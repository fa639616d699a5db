import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { allPairs, curveFromHistogram, kFoldAccuracy, tarAtFar, type ScoredPair } from './face-stats.ts';

describe('face bench statistics', () => {
  test('k-fold accuracy picks the threshold on the other folds and counts failures as errors', () => {
    const pairs: ScoredPair[] = [];
    for (let f = 0; f < 10; f++) {
      pairs.push({ score: 0.9, same: true, fold: f }, { score: 0.8, same: true, fold: f }, { score: 0.2, same: false, fold: f }, { score: 0.3, same: false, fold: f });
    }
    assert.equal(kFoldAccuracy(pairs).mean, 1);
    pairs[0] = { score: Number.NaN, same: true, fold: 0 };
    const cv = kFoldAccuracy(pairs);
    assert.equal(cv.folds[0], 0.75);
    assert.ok(cv.sd > 0);
  });
  test('TAR at FAR lets through at most that share of impostors', () => {
    const pairs: ScoredPair[] = [
      ...Array.from({ length: 1000 }, (_, i) => ({ score: i / 1000, same: false, fold: 0 })),
      ...[0.9995, 0.5, 0.998].map((score) => ({ score, same: true, fold: 0 })),
    ];
    const r = tarAtFar(pairs, 1e-3);
    // one impostor (0.999) of 1000 may pass: the threshold sits just above the second strongest
    assert.ok(r.threshold > 0.998 && r.threshold <= 0.999);
    assert.equal(r.tar, 1 / 3);
  });
  test('all pairs: impostor histogram and genuine scores; the curve reads thresholds from the tail', () => {
    const dim = 2;
    const angles = [0, 0.05, 1, 1.02, 2, 2.5];
    const v = new Float32Array(angles.flatMap((a) => [Math.cos(a), Math.sin(a)]));
    const ids = Int32Array.from([0, 0, 1, 1, 2, 3]);
    const ap = allPairs(v, dim, ids, 0.5);
    assert.equal(ap.impostors, 15 - 2);
    assert.equal(ap.genuine.length, 2);
    const curve = curveFromHistogram(ap.bins, ap.impostors, ap.genuine.slice().sort(), ap.genuine.length, [0.1, 0.5]);
    assert.equal(curve[0]!.impostors_above, 1);
    // the most permissive threshold with one impostor above: just over the second strongest impostor
    assert.ok(curve[0]!.threshold > Math.cos(0.98) && curve[0]!.threshold < Math.cos(0.5));
    assert.equal(curve[0]!.tar, 1);
    assert.ok(curve[1]!.impostors_above <= 6.5);
  });
});
