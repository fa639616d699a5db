import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { seededRandom } from '../platform/index.ts';
import { chooseMethod, ExactStore, measureExactScanRate } from './exact.ts';
import { DEFAULT_ANN, LocalPartition, type SearchMethod } from './partition.ts';
import { near, randomUnit } from './testing.ts';

const DIM = 128;
const params = { ...DEFAULT_ANN, dim: DIM, indexDim: DIM, threads: 1 };

function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] ?? 0) * (b[i] ?? 0);
  return s;
}

test('the exact path returns exactly the true best: int8 scan then the full re-score agrees with a float32 brute force', () => {
  const random = seededRandom(11);
  const n = 3000;
  const vectors = Array.from({ length: n }, () => randomUnit(DIM, random));
  const flat = new Float32Array(n * DIM);
  vectors.forEach((v, i) => flat.set(v, i * DIM));
  const part = new LocalPartition('p', params, 'exact');
  part.addSync(
    vectors.map((_, i) => 1000 + i),
    flat,
  );
  assert.equal(part.count(), n);
  // Probes near stored templates (a returning shopper) and far from all of them (a stranger).
  const probes = [...Array.from({ length: 100 }, (_, i) => near(vectors[(i * 29) % n] as Float32Array, 0.6, random)), ...Array.from({ length: 100 }, () => randomUnit(DIM, random))];
  for (const q of probes) {
    let truth = -1;
    let best = -Infinity;
    vectors.forEach((v, i) => {
      const s = dot(q, v);
      if (s > best) {
        best = s;
        truth = i;
      }
    });
    const { hits, size } = part.searchSync(q, 16);
    assert.equal(size, n);
    const rescored = hits.map((h) => ({ i: h.key - 1000, s: dot(q, vectors[h.key - 1000] as Float32Array) })).sort((a, b) => b.s - a.s);
    assert.equal(rescored[0]?.i, truth);
  }
});

test('a removed key is gone from the next scan at once; the slot it left is filled by the last one, which stays findable', () => {
  const random = seededRandom(3);
  const vectors = Array.from({ length: 50 }, () => randomUnit(DIM, random));
  const flat = new Float32Array(50 * DIM);
  vectors.forEach((v, i) => flat.set(v, i * DIM));
  const part = new LocalPartition('p', params, 'exact');
  part.addSync(
    vectors.map((_, i) => i + 1),
    flat,
  );
  const sum = part.keySum;
  part.removeSync([10]);
  assert.equal(part.count(), 49);
  assert.equal(part.keySum, sum - 10);
  assert.equal(part.has(10), false);
  assert.ok(!part.searchSync(vectors[9] as Float32Array, 49).hits.some((h) => h.key === 10));
  assert.equal(part.searchSync(vectors[49] as Float32Array, 1).hits[0]?.key, 50);
  part.removeSync([10, 999]);
  assert.equal(part.count(), 49);
  part.removeSync(vectors.map((_, i) => i + 1));
  assert.equal(part.count(), 0);
  assert.deepEqual(part.searchSync(vectors[0] as Float32Array, 5).hits, []);
});

for (const method of ['exact', 'hnsw'] as SearchMethod[]) {
  test(`${method}: a saved partition loads with the same keys and answers`, () => {
    const random = seededRandom(5);
    const vectors = Array.from({ length: 200 }, () => randomUnit(DIM, random));
    const flat = new Float32Array(200 * DIM);
    vectors.forEach((v, i) => flat.set(v, i * DIM));
    const part = new LocalPartition('p', params, method);
    part.addSync(
      vectors.map((_, i) => i * 3),
      flat,
    );
    part.removeSync([30]);
    const file = join(mkdtempSync(join(tmpdir(), 'gallery-exact-')), 'slab');
    part.saveTo(file);
    const back = new LocalPartition('p', params, method);
    back.loadFrom(file, part.keySum, undefined);
    assert.equal(back.count(), 199);
    assert.equal(back.has(30), false);
    assert.equal(back.searchSync(vectors[7] as Float32Array, 1).hits[0]?.key, 21);
    back.addSync([9999], vectors[10] as Float32Array);
    assert.equal(back.count(), 200);
  });
}

test('a truncated or foreign slab is refused', () => {
  const s = new ExactStore(4, 'i8');
  s.add([1, 2], Int8Array.from([1, 2, 3, 4, 5, 6, 7, 8]));
  const b = s.toBytes();
  assert.equal(ExactStore.fromBytes(b).size, 2);
  assert.throws(() => ExactStore.fromBytes(b.subarray(0, b.length - 1)), /truncated/);
  assert.throws(() => ExactStore.fromBytes(Buffer.alloc(40)), /not an exact/);
  const dir = mkdtempSync(join(tmpdir(), 'gallery-exact-'));
  writeFileSync(join(dir, 'cut'), b.subarray(0, b.length - 1));
  assert.throws(() => ExactStore.fromFile(join(dir, 'cut')), /truncated/);
  writeFileSync(join(dir, 'whole'), b);
  assert.equal(ExactStore.fromFile(join(dir, 'whole')).has(2), true);
});

test('the method: exact while the scan fits the budget at the measured rate, the graph beyond it', () => {
  assert.equal(chooseMethod(0, 50, 15), 'exact');
  assert.equal(chooseMethod(750, 50, 15), 'exact');
  assert.equal(chooseMethod(751, 50, 15), 'hnsw');
  assert.equal(chooseMethod(1_000_000, 70_000, 15), 'exact');
  assert.equal(chooseMethod(10_000_000, 70_000, 15), 'hnsw');
  const rate = measureExactScanRate(DIM, 'i8', 1, 8192);
  assert.ok(Number.isFinite(rate) && rate > 0, `rate ${rate}`);
});
