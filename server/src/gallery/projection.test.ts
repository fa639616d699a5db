import assert from 'node:assert/strict';
import { test } from 'node:test';
import { seededRandom } from '../platform/index.ts';
import { learnProjection, project, projectionFromBytes, projectionToBytes, quantizeI8, symmetricEigen } from './projection.ts';
import { gaussian, unit } from './testing.ts';

/** Unit vectors that span only `rank` of `dim` dimensions (like the 512-d model's ~150), in a random orientation. */
function lowRank(count: number, dim: number, rank: number, seed: number): Float32Array {
  const r = seededRandom(seed);
  const axes = Array.from({ length: rank }, () => Float32Array.from({ length: dim }, () => gaussian(r)));
  const out = new Float32Array(count * dim);
  for (let i = 0; i < count; i++) {
    const v = new Float32Array(dim);
    axes.forEach((a, j) => {
      const c = gaussian(r) / (1 + j * 0.2);
      for (let k = 0; k < dim; k++) v[k] = (v[k] ?? 0) + c * (a[k] ?? 0);
    });
    out.set(unit(v), i * dim);
  }
  return out;
}

test('the symmetric eigen decomposition satisfies A v = lambda v with orthonormal vectors', () => {
  const r = seededRandom(1);
  const n = 30;
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      const x = r.float() - 0.5;
      a[i * n + j] = x;
      a[j * n + i] = x;
    }
  }
  const { values, vectors } = symmetricEigen(a, n);
  for (let c = 0; c < n; c++) {
    if (c > 0) assert.ok((values[c] ?? 0) >= (values[c - 1] ?? 0), 'ascending');
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += (a[i * n + k] ?? 0) * (vectors[k * n + c] ?? 0);
      assert.ok(Math.abs(s - (values[c] ?? 0) * (vectors[i * n + c] ?? 0)) < 1e-10);
    }
    for (let d = 0; d <= c; d++) {
      let dot = 0;
      for (let k = 0; k < n; k++) dot += (vectors[k * n + c] ?? 0) * (vectors[k * n + d] ?? 0);
      assert.ok(Math.abs(dot - (c === d ? 1 : 0)) < 1e-10);
    }
  }
});

test('a projection keeps inner products exactly when the templates span no more directions than it keeps', () => {
  const dim = 48;
  const x = lowRank(200, dim, 12, 2);
  const p = learnProjection(x, dim, 16);
  assert.equal(p.samples, 200);
  assert.ok(p.kept > 0.999999);
  const a = x.subarray(0, dim);
  const b = x.subarray(dim, 2 * dim);
  let exact = 0;
  for (let k = 0; k < dim; k++) exact += (a[k] ?? 0) * (b[k] ?? 0);
  const pa = project(p, a);
  const pb = project(p, b);
  let approx = 0;
  for (let k = 0; k < 16; k++) approx += (pa[k] ?? 0) * (pb[k] ?? 0);
  assert.ok(Math.abs(exact - approx) < 1e-5);
  // With fewer directions than the templates span, some of their length is lost, the most of it kept first.
  const q = learnProjection(x, dim, 4);
  assert.ok(q.kept < 0.99 && q.kept > 4 / 12);
});

test('learning is deterministic, and the projection survives the round trip through bytes', () => {
  const dim = 64;
  const x = lowRank(300, dim, 20, 3);
  const a = learnProjection(x, dim, 24);
  const b = learnProjection(Float32Array.from(x), dim, 24);
  assert.equal(a.fingerprint, b.fingerprint);
  const back = projectionFromBytes(projectionToBytes(a));
  assert.equal(back.fingerprint, a.fingerprint);
  assert.deepEqual([back.inDim, back.outDim, back.samples], [64, 24, 300]);
  assert.equal(back.kept, a.kept);
  // Other templates make another projection, with another fingerprint.
  assert.notEqual(learnProjection(lowRank(300, dim, 20, 4), dim, 24).fingerprint, a.fingerprint);
  assert.throws(() => projectionFromBytes(projectionToBytes(a).subarray(0, 100)));
});

test('i8 quantisation uses the whole byte range and rounds', () => {
  const q = quantizeI8(Float32Array.from([0.25, -0.5, 0.125, 0]));
  assert.deepEqual([...q], [64, -127, 32, 0]);
  assert.deepEqual([...quantizeI8(new Float32Array(3))], [0, 0, 0]);
});
