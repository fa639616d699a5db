/**
 * An experiment, not a bench:* target: would an inverted-file index (k-means cells over the
 * gallery's 128-d int8 projection, the nearest cells scanned exactly in native code) find the
 * exact best template of a million where the HNSW graph does not?
 *
 *   node --import tsx server/bench/gallery-ivf.ts --model=faceplugin-arcface512 [--size=1000000] [--cells=1024]
 *
 * Same gallery as bench:gallery (distractors from the LFW embeddings' distribution plus one image
 * of each LFW person), same queries (LFW probes of enrolled people and fresh strangers), truth from
 * the exact f32 scan of the full templates.
 */
import { cpus, totalmem } from 'node:os';
import { exactSearch, MetricKind } from 'usearch';
import { learnProjection, project } from '../src/gallery/index.ts';
import { quantizeI8 } from '../src/gallery/projection.ts';
import { seededRandom } from '../src/platform/index.ts';
import { distractorFactory, distractors, loadLfw, percentile } from './gallery.ts';

const opt = (name: string): string | undefined => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
const SIZE = Number(opt('size') ?? 1_000_000);
const CELLS = Number(opt('cells') ?? 1024);
const PDIM = 128;
const RELEVANT = 0.5;
const log = (s: string): void => console.log(s);
const t0 = performance.now();
const since = (): string => `${((performance.now() - t0) / 1000).toFixed(0)} s`;

log(`machine: ${cpus()[0]?.model ?? '?'}, ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB`);
const lfw = loadLfw();
const dim = lfw.dim;
const nLfw = lfw.enrolNames.length;
const nD = SIZE - nLfw;
const matrix = new Float32Array(SIZE * dim);
matrix.set(distractors(lfw, nD), 0);
matrix.set(lfw.enrol, nD * dim);
log(`gallery of ${SIZE} (${nD} distractors + ${nLfw} LFW people), ${dim}-d: ${since()}`);

// The gallery's own projection: learned from the first 20,000 templates, int8 as the index holds them.
const proj = learnProjection(matrix.subarray(0, 20_000 * dim), dim, PDIM);
const pf = new Float32Array(SIZE * PDIM);
const pi8 = new Int8Array(SIZE * PDIM);
const tmp = new Float32Array(PDIM);
for (let i = 0; i < SIZE; i++) {
  project(proj, matrix.subarray(i * dim, (i + 1) * dim), tmp);
  let n = 0;
  for (const x of tmp) n += x * x;
  const inv = 1 / Math.sqrt(n);
  for (let k = 0; k < PDIM; k++) pf[i * PDIM + k] = tmp[k]! * inv;
  quantizeI8(tmp, pi8.subarray(i * PDIM, (i + 1) * PDIM));
}
log(`projected to ${PDIM}-d int8 (keeps ${(proj.kept * 100).toFixed(1)} %): ${since()}`);

// Spherical k-means on a sample, assignments by usearch's exact inner-product search.
const r = seededRandom(7);
const sampleN = Math.min(SIZE, 100 * CELLS);
const stride = Math.floor(SIZE / sampleN);
const sample = new Float32Array(sampleN * PDIM);
for (let i = 0; i < sampleN; i++) sample.set(pf.subarray(i * stride * PDIM, (i * stride + 1) * PDIM), i * PDIM);
let centroids = new Float32Array(CELLS * PDIM);
const every = Math.floor(sampleN / CELLS);
for (let c = 0; c < CELLS; c++) centroids.set(sample.subarray(c * every * PDIM, (c * every + 1) * PDIM), c * PDIM);
const assign = (data: Float32Array): BigUint64Array => (exactSearch(centroids, data, PDIM, 1, MetricKind.IP, 2) as unknown as { keys: BigUint64Array }).keys;
for (let it = 0; it < 10; it++) {
  const a = assign(sample);
  const next = new Float32Array(CELLS * PDIM);
  for (let i = 0; i < sampleN; i++) {
    const c = Number(a[i]);
    for (let k = 0; k < PDIM; k++) next[c * PDIM + k] = next[c * PDIM + k]! + sample[i * PDIM + k]!;
  }
  for (let c = 0; c < CELLS; c++) {
    let n = 0;
    for (let k = 0; k < PDIM; k++) n += next[c * PDIM + k]! ** 2;
    if (n === 0) {
      // An empty cell starts again from a random sample point.
      const j = r.int(sampleN);
      next.set(sample.subarray(j * PDIM, (j + 1) * PDIM), c * PDIM);
    } else for (let k = 0; k < PDIM; k++) next[c * PDIM + k] = next[c * PDIM + k]! / Math.sqrt(n);
  }
  centroids = next;
}
const cellOf = assign(pf);
const counts = new Int32Array(CELLS);
for (let i = 0; i < SIZE; i++) counts[Number(cellOf[i])]!++;
const start = new Int32Array(CELLS + 1);
for (let c = 0; c < CELLS; c++) start[c + 1] = start[c]! + counts[c]!;
const fill = start.slice(0, CELLS);
const slab = new Int8Array(SIZE * PDIM);
const slabKey = new Int32Array(SIZE);
for (let i = 0; i < SIZE; i++) {
  const c = Number(cellOf[i]);
  const at = fill[c]!++;
  slab.set(pi8.subarray(i * PDIM, (i + 1) * PDIM), at * PDIM);
  slabKey[at] = i;
}
const sorted = [...counts].sort((a, b) => a - b);
log(`${CELLS} cells, sizes median ${sorted[CELLS >> 1]}, max ${sorted[CELLS - 1]}: ${since()}`);

// Queries as bench:gallery makes them.
const q = 1000;
const rq = seededRandom(4242);
const mated = Array.from({ length: q / 2 }, () => lfw.probes[rq.int(lfw.probes.length)]!.vector);
const strangers = distractorFactory(lfw)(q / 2, 987_654);
const queries = [...mated, ...Array.from({ length: q / 2 }, (_, i) => strangers.subarray(i * dim, (i + 1) * dim))];
const flatQ = new Float32Array(q * dim);
queries.forEach((v, i) => flatQ.set(v, i * dim));
const truth = exactSearch(matrix, flatQ, dim, 1, MetricKind.Cos, 2) as unknown as { keys: BigUint64Array; distances: Float32Array };
log(`truth (exact f32 scan of ${dim}-d): ${since()}`);
const exactI8: number[] = [];
for (let i = 0; i < 20; i++) {
  const qi = quantizeI8(project(proj, queries[i]!));
  const t = performance.now();
  exactSearch(pi8, qi, PDIM, 16, MetricKind.Cos, 1);
  exactI8.push(performance.now() - t);
}
log(`baseline: exact int8 scan of all ${SIZE} projected templates, one thread: median ${percentile(exactI8, 0.5).toFixed(2)} ms`);

const dot = (a: Float32Array, b: Float32Array): number => {
  let s = 0;
  for (let k = 0; k < a.length; k++) s += a[k]! * b[k]!;
  return s;
};
const scratch = new Int8Array(SIZE * PDIM);
const scratchKey = new Int32Array(SIZE);
for (const nprobe of [8, 16, 32, 64, 128]) {
  const lat: number[] = [];
  const hits = { mated: 0, strangers: 0, relevant: 0, relevantHits: 0, scanned: 0 };
  for (let i = 0; i < q; i++) {
    const t = performance.now();
    const qf = project(proj, queries[i]!);
    let n = 0;
    for (const x of qf) n += x * x;
    for (let k = 0; k < PDIM; k++) qf[k] = qf[k]! / Math.sqrt(n);
    const cs = exactSearch(centroids, qf, PDIM, nprobe, MetricKind.IP, 1) as unknown as { keys: BigUint64Array };
    let m = 0;
    for (const ck of cs.keys) {
      const c = Number(ck);
      scratch.set(slab.subarray(start[c]! * PDIM, start[c + 1]! * PDIM), m * PDIM);
      scratchKey.set(slabKey.subarray(start[c]!, start[c + 1]!), m);
      m += start[c + 1]! - start[c]!;
    }
    const cand = exactSearch(scratch.subarray(0, m * PDIM), quantizeI8(qf), PDIM, Math.min(16, m), MetricKind.Cos, 1) as unknown as { keys: BigUint64Array };
    let best = -1;
    let bestScore = -2;
    for (const ck of cand.keys) {
      const key = scratchKey[Number(ck)]!;
      const s = dot(queries[i]!, matrix.subarray(key * dim, (key + 1) * dim));
      if (s > bestScore) [best, bestScore] = [key, s];
    }
    lat.push(performance.now() - t);
    hits.scanned += m;
    const hit = best === Number(truth.keys[i]);
    if (hit) hits[i < q / 2 ? 'mated' : 'strangers']++;
    if (1 - truth.distances[i]! >= RELEVANT) {
      hits.relevant++;
      if (hit) hits.relevantHits++;
    }
  }
  lat.sort((a, b) => a - b);
  log(
    `nprobe ${String(nprobe).padStart(3)}: scanned ${(hits.scanned / q / 1000).toFixed(1)}k a query; recall@1 mated ${(hits.mated / (q / 2)).toFixed(3)}, strangers ${(hits.strangers / (q / 2)).toFixed(3)}, exact best >= ${RELEVANT}: ${hits.relevantHits}/${hits.relevant}; p50 ${percentile(lat, 0.5).toFixed(2)} ms, p99 ${percentile(lat, 0.99).toFixed(2)} ms`,
  );
}
log(`done: ${since()}`);
