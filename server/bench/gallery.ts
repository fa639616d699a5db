/**
 * npm run bench:gallery [-- --quick] [-- --json] [-- --sizes=10000,100000,1000000] [-- --model=NAME] [-- --ef=N]
 *   [-- --index-dim=N] [-- --candidates=N] [-- --import-only] [-- --budget=MS] [-- --no-compare] [-- --slab=N,...]
 *
 * --slab=N: the exact partition alone at N templates (random 128-d int8, no database): memory per
 * template, scan p50/p99 on one and on both threads, and the restart of its slab (decrypt + load).
 *
 * Each size runs with the method the gallery chooses (the exact scan when the measured scan rate
 * fits the partition in the latency budget, else the HNSW graph), then, unless --no-compare, with
 * the other method on the same database and queries, so that both sets of figures come from one run.
 *
 * For each gallery size: search p50/p99 (the whole identify call: index, exact re-score from the
 * encrypted rows, decision), recall@1 against an exact scan of the same vectors in the same run,
 * the exact scan's own time, memory per template, full rebuild time from the database and the
 * restart time from the encrypted snapshot. Then open-set identification on LFW: a gallery of one
 * image per person plus distractors, the other images as probes.
 *
 * Each size runs in a child process so that its memory figure is its own. Databases, snapshots and
 * distractors are cached under .bench-cache/gallery so that a rerun skips the import and the build
 * (the build time printed is then the one measured when the cache was made, and says so).
 */
import { spawnSync } from 'node:child_process';
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { exactSearch, MetricKind } from 'usearch';
import {
  calibrationFromJson,
  decide,
  decideNarrowed,
  DEFAULT_ANN,
  DEFAULT_CANDIDATES,
  DEFAULT_PARALLEL_FROM,
  LocalPartition,
  DEFAULT_POLICY,
  DEFAULT_SEARCH_BUDGET_MS,
  chooseMethod,
  measureExactScanRate,
  project,
  type SearchMethod,
  fitImpostorTail,
  Gallery,
  galleryMigrations,
  masterKeyFromBytes,
  type Decision,
  type FalseMatchCalibration,
  type ScoredShopper,
} from '../src/gallery/index.ts';
import { findDataset, ManualClock, repoRoot, seededRandom, type Random } from '../src/platform/index.ts';
import { migrate, SqliteDb } from '../src/storage/index.ts';

const DIM_DEFAULT = 128;
const argv = process.argv.slice(2);
const flag = (name: string): boolean => argv.includes(`--${name}`);
const opt = (name: string): string | undefined => argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
const quick = flag('quick');
const asJson = flag('json');
const cacheRoot = join(repoRoot, '.bench-cache', 'gallery');
const log = (s: string): void => {
  process.stderr.write(`${s}\n`);
};

// ---------------------------------------------------------------- data

export interface Lfw {
  model: string;
  version: string;
  dim: number;
  /** One embedded image per person, in name order: the gallery's LFW part. */
  enrolNames: string[];
  enrol: Float32Array;
  /** The other images of those people: mated probes. */
  probes: { name: string; vector: Float32Array }[];
  /** Every embedded image, for fitting the distractor distribution. */
  all: Float32Array;
  allNames: string[];
  failed: number;
  synthetic: boolean;
  /** The face engine was still embedding: only part of LFW is there. */
  partial: boolean;
  /**
   * The distractor distribution is fitted on these: the first image of each of the first
   * FIT_PEOPLE people in file order (one template per identity, like a gallery). The file only
   * grows at its end while the face engine embeds, so the fit stays put once it holds that many
   * people. At 512 dimensions the first 1000 images of the file (the earlier choice) were too few
   * for a 512 x 512 covariance and came from a few hundred people, some with many photos.
   */
  fit: Float32Array;
}

/** Images embedded by bench:facepay when it has no LFW file of its own model. */
export const FIT_IMAGES = 1000;
/** People whose first image the distractors are fitted on (LFW has 5,749; the 512-d model's embeddings span about 150 directions). */
export const FIT_PEOPLE = 2500;
/** LFW's people: the gallery of size S holds S - 5749 distractors plus one image of each person. */
const LFW_PEOPLE = 5749;

function l2(v: Float32Array): Float32Array {
  let n = 0;
  for (const x of v) n += x * x;
  const inv = 1 / Math.sqrt(n);
  for (let i = 0; i < v.length; i++) v[i] = (v[i] ?? 0) * inv;
  return v;
}

function gaussian(r: Random): number {
  const u = Math.max(r.float(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r.float());
}

function findLfwFile(): { file: string; model: string; partial: boolean } | undefined {
  const dir = join(repoRoot, '.bench-cache', 'face');
  if (!existsSync(dir)) return undefined;
  const files = readdirSync(dir).filter((f) => /^lfw\.[^.]+\.jsonl(\.partial)?$/.test(f));
  const wanted = opt('model');
  const models = [...new Set(files.map((f) => f.split('.')[1] as string))];
  const model = wanted ?? models.find((m) => m.includes('faceapi')) ?? models[0];
  if (model === undefined) return undefined;
  // A finished file wins; the face engine's partial file (written while it embeds) is used, and labelled, otherwise.
  if (files.includes(`lfw.${model}.jsonl`)) return { file: join(dir, `lfw.${model}.jsonl`), model, partial: false };
  if (files.includes(`lfw.${model}.jsonl.partial`)) return { file: join(dir, `lfw.${model}.jsonl.partial`), model, partial: true };
  return undefined;
}

export function loadLfw(): Lfw {
  const found = findLfwFile();
  if (found === undefined) return syntheticLfw();
  const byName = new Map<string, Float32Array[]>();
  let failed = 0;
  let version = '';
  let dim = DIM_DEFAULT;
  for (const line of readFileSync(found.file, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    const o = JSON.parse(line) as { name: string; path: string; embedding?: number[]; version?: string; error?: unknown };
    if (!o.embedding) {
      failed++;
      continue;
    }
    version = o.version ?? version;
    dim = o.embedding.length;
    const list = byName.get(o.name) ?? [];
    list.push(l2(Float32Array.from(o.embedding)));
    byName.set(o.name, list);
  }
  const fitNames = [...byName.keys()].slice(0, FIT_PEOPLE);
  const names = [...byName.keys()].sort();
  const firstFit = new Float32Array(fitNames.length * dim);
  fitNames.forEach((name, i) => firstFit.set((byName.get(name) ?? [])[0] as Float32Array, i * dim));
  const enrol = new Float32Array(names.length * dim);
  const probes: Lfw['probes'] = [];
  const allList: Float32Array[] = [];
  const allNames: string[] = [];
  names.forEach((name, i) => {
    const list = byName.get(name) ?? [];
    enrol.set(list[0] as Float32Array, i * dim);
    for (const v of list.slice(1)) probes.push({ name, vector: v });
    for (const v of list) {
      allList.push(v);
      allNames.push(name);
    }
  });
  const all = new Float32Array(allList.length * dim);
  allList.forEach((v, i) => all.set(v, i * dim));
  return { model: found.model, version, dim, enrolNames: names, enrol, probes, all, allNames, failed, synthetic: false, partial: found.partial, fit: firstFit };
}

/** Only when the face engine's LFW embeddings are missing: clustered stand-ins, clearly labelled. */
function syntheticLfw(): Lfw {
  const r = seededRandom(99);
  const dim = DIM_DEFAULT;
  const mean = l2(Float32Array.from({ length: dim }, () => gaussian(r)));
  const sd = Float32Array.from({ length: dim }, (_, i) => Math.exp(-i / 40));
  const names: string[] = [];
  const enrolList: Float32Array[] = [];
  const probes: Lfw['probes'] = [];
  const allList: Float32Array[] = [];
  const allNames: string[] = [];
  for (let p = 0; p < 5749; p++) {
    const name = `Synthetic_${p}`;
    const centre = Float32Array.from(mean, (m, i) => m + gaussian(r) * (sd[i] ?? 0) * 0.12);
    const images = p < 1680 ? 2 + Math.floor(r.float() * 4) : 1;
    for (let k = 0; k < images; k++) {
      const v = l2(Float32Array.from(centre, (c, i) => c + gaussian(r) * (sd[i] ?? 0) * 0.045));
      if (k === 0) enrolList.push(v);
      else probes.push({ name, vector: v });
      allList.push(v);
      allNames.push(name);
    }
    names.push(name);
  }
  const enrol = new Float32Array(names.length * dim);
  enrolList.forEach((v, i) => enrol.set(v, i * dim));
  const all = new Float32Array(allList.length * dim);
  allList.forEach((v, i) => all.set(v, i * dim));
  return { model: 'synthetic', version: '0', dim, enrolNames: names, enrol, probes, all, allNames, failed: 0, synthetic: true, partial: false, fit: all.slice(0, FIT_IMAGES * dim) };
}

/** The face engine's calibration through its entry; without it, one computed here from the same embeddings. */
async function loadCal(lfw: Lfw): Promise<{ cal: FalseMatchCalibration; source: string }> {
  if (!lfw.synthetic) {
    try {
      // As the composition does (face-stack.ts): LFW's label errors are not impostors.
      const face = await import('../src/face/index.ts');
      const cal = calibrationFromJson(face.withoutLabelErrors(face.loadCalibration(lfw.model)));
      return { cal, source: `face engine calibration (server/src/face/calibration/${lfw.model}.json), without LFW's label errors as the composition reads it` };
    } catch (e) {
      log(`# face calibration for ${lfw.model} unavailable (${(e as Error).message}); computing the impostor tail here`);
    }
  }
  const file = join(cacheRoot, `calibration-v2-${lfw.model}-${createHash('sha256').update(Buffer.from(lfw.all.buffer)).digest('hex').slice(0, 12)}.json`);
  if (!existsSync(file)) {
    mkdirSync(cacheRoot, { recursive: true });
    writeFileSync(file, JSON.stringify(impostorCalibration(lfw)));
  }
  const cal = JSON.parse(readFileSync(file, 'utf8')) as FalseMatchCalibration;
  return { cal, source: 'computed by this bench over all different-person pairs of the embeddings, less the pairs of lfw/label_errors.txt' };
}

/** LFW's known label errors (one person under two names): not impostors. Twins and siblings stay in. */
function labelErrors(): Set<string> {
  const file = findDataset('lfw/label_errors.txt');
  const set = new Set<string>();
  if (file === undefined) return set;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const [a, b] = line.trim().split(/\s+/);
    if (line.startsWith('#') || a === undefined || b === undefined) continue;
    set.add(`${a}|${b}`);
    set.add(`${b}|${a}`);
  }
  return set;
}

function impostorCalibration(lfw: Lfw): FalseMatchCalibration {
  const { all, allNames, dim } = lfw;
  const errors = labelErrors();
  const n = allNames.length;
  const keep = 5000;
  const top: number[] = [];
  let floor = -1;
  let pairs = 0;
  let sum = 0;
  let sum2 = 0;
  for (let i = 0; i < n; i++) {
    const oi = i * dim;
    for (let j = i + 1; j < n; j++) {
      if (allNames[i] === allNames[j] || errors.has(`${allNames[i]}|${allNames[j]}`)) continue;
      const oj = j * dim;
      let d = 0;
      for (let k = 0; k < dim; k++) d += (all[oi + k] ?? 0) * (all[oj + k] ?? 0);
      pairs++;
      sum += d;
      sum2 += d * d;
      if (d > floor) {
        top.push(d);
        if (top.length >= 2 * keep) {
          top.sort((a, b) => b - a);
          top.length = keep;
          floor = top[keep - 1] ?? -1;
        }
      }
    }
  }
  top.sort((a, b) => b - a);
  top.length = Math.min(top.length, keep);
  const mean = sum / pairs;
  const sd = Math.sqrt(sum2 / pairs - mean * mean);
  const curve = [1e-3, 1e-4, 1e-5]
    .filter((f) => f * pairs <= top.length)
    .map((f) => ({ fmr: f, threshold: top[Math.max(0, Math.floor(f * pairs) - 1)] ?? 1 }));
  return { model: lfw.model, version: lfw.version, dim, impostorPairs: pairs, curve, topImpostorScores: top, impostorMean: mean, impostorSd: sd };
}

/** What the distractors are drawn from: real embeddings of one model. */
export type DistractorBasis = Pick<Lfw, 'model' | 'dim' | 'fit'>;

/**
 * Distractors: a Gaussian with the mean and full covariance of the LFW embeddings (Cholesky
 * factor), each draw renormalised to unit length: one template per synthetic identity.
 */
export function distractorFactory(lfw: DistractorBasis): (count: number, seed: number) => Float32Array {
  const { fit: all, dim } = lfw;
  const n = all.length / dim;
  const mean = new Float64Array(dim);
  for (let i = 0; i < n; i++) for (let k = 0; k < dim; k++) mean[k] = (mean[k] ?? 0) + (all[i * dim + k] ?? 0) / n;
  const cov = new Float64Array(dim * dim);
  const c = new Float64Array(dim);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < dim; k++) c[k] = (all[i * dim + k] ?? 0) - (mean[k] ?? 0);
    for (let a = 0; a < dim; a++) {
      const ca = c[a] ?? 0;
      for (let b = 0; b <= a; b++) cov[a * dim + b] = (cov[a * dim + b] ?? 0) + (ca * (c[b] ?? 0)) / (n - 1);
    }
  }
  const L = new Float64Array(dim * dim);
  for (let a = 0; a < dim; a++) {
    for (let b = 0; b <= a; b++) {
      let s = cov[a * dim + b] ?? 0;
      for (let k = 0; k < b; k++) s -= (L[a * dim + k] ?? 0) * (L[b * dim + k] ?? 0);
      if (a === b) L[a * dim + a] = Math.sqrt(Math.max(s, 1e-12));
      else L[a * dim + b] = s / (L[b * dim + b] ?? 1);
    }
  }
  return (count, seed) => {
    const r = seededRandom(seed);
    const out = new Float32Array(count * dim);
    const z = new Float64Array(dim);
    const x = new Float64Array(dim);
    for (let i = 0; i < count; i++) {
      for (let k = 0; k < dim; k++) z[k] = gaussian(r);
      let norm = 0;
      for (let a = 0; a < dim; a++) {
        // The hot loop of a million-template gallery (dim^2 / 2 per draw): plain indexing, no fallbacks.
        let v = mean[a]!;
        const row = a * dim;
        for (let b = 0; b <= a; b++) v += L[row + b]! * z[b]!;
        x[a] = v;
        norm += v * v;
      }
      const inv = 1 / Math.sqrt(norm);
      for (let a = 0; a < dim; a++) out[i * dim + a] = x[a]! * inv;
    }
    return out;
  };
}

function fingerprint(lfw: DistractorBasis): string {
  return createHash('sha256').update(Buffer.from(lfw.fit.buffer)).digest('hex').slice(0, 12);
}

/** Distractors 0..count-1, made in blocks of 50,000 with a seed per block and cached on disk. */
export function distractors(lfw: DistractorBasis, count: number): Float32Array {
  const dim = lfw.dim;
  const file = join(cacheRoot, `distractors-${lfw.model}-${fingerprint(lfw)}.f32`);
  const block = 50_000;
  const blocks = Math.ceil(count / block);
  const out = new Float32Array(blocks * block * dim);
  let have = 0;
  if (existsSync(file)) {
    const fd = openSync(file, 'r');
    const bytes = new Uint8Array(out.buffer);
    have = readSync(fd, bytes, 0, bytes.length, 0) / (block * dim * 4);
    have = Math.floor(have);
    closeSync(fd);
  }
  if (have < blocks) {
    const make = distractorFactory(lfw);
    mkdirSync(cacheRoot, { recursive: true });
    const fd = openSync(file, 'a');
    for (let b = have; b < blocks; b++) {
      const part = make(block, 1000 + b);
      out.set(part, b * block * dim);
      writeSync(fd, new Uint8Array(part.buffer));
      log(`# distractors: block ${b + 1}/${blocks}`);
    }
    closeSync(fd);
  }
  return out.subarray(0, count * dim);
}

export function digitsFor(i: number): string {
  return String(seededRandom(777_000 + i).int(10_000)).padStart(4, '0');
}

// ---------------------------------------------------------------- one size, in a child process

const benchKey = masterKeyFromBytes(createHash('sha256').update('facepay bench gallery master key (not a secret)').digest());

export function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? NaN;
}

function gc(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

interface SizeResult {
  size: number;
  method: SearchMethod;
  /** The method the gallery chose for this size (the run may force the other, to compare). */
  chosen: SearchMethod;
  exact_scan_rate_per_ms: number;
  budget_ms: number;
  p50_ms: number;
  p99_ms: number;
  index_p50_ms: number;
  index_p99_ms: number;
  recall_at_1: number;
  recall_mated: number;
  recall_nonmated: number;
  recall_decision_relevant: number;
  decision_relevant_queries: number;
  decision_relevant: { mated: number; matedHits: number; strangers: number; strangerHits: number };
  rest_p50_ms: number;
  rest_p99_ms: number;
  index_dim: number;
  candidates: number;
  projection: { samples: number; kept_on_learned: number; kept_on_lfw: number | null } | null;
  exact_ms: number;
  bytes_per_template: number;
  snapshot_bytes_per_template: number;
  database_cache_mib: number;
  build_s: number;
  build_measured_at: string;
  import_s: number | null;
  restart_s: number;
  lfw: {
    probes: number;
    rank1: number;
    fnir_at_fpir_0_003: number;
    threshold_at_fpir_0_003: number;
    mated: Record<string, number>;
    nonmated: Record<string, number>;
    policy_threshold: number;
  };
  built_now: boolean;
  sweep: SweepPoint[];
}

interface SweepPoint {
  ef: number;
  recall_at_1: number;
  recall_mated: number;
  recall_nonmated: number;
  recall_decision_relevant: number;
  index_p50_ms: number;
  index_p99_ms: number;
  p50_ms: number;
  p99_ms: number;
}

async function runSize(size: number, force: SearchMethod | undefined): Promise<SizeResult | { built: true }> {
  const lfw = loadLfw();
  const { cal } = await loadCal(lfw);
  const dim = lfw.dim;
  const nLfw = lfw.enrolNames.length;
  // The distractor base is cached per size and distribution; LFW's people are enrolled on top at
  // each run (and deleted again at the end), so the base survives the LFW file growing.
  const nD = Math.max(0, size - LFW_PEOPLE);
  const ef = Number(opt('ef') ?? DEFAULT_ANN.expansionSearch);
  const dir = join(cacheRoot, `${lfw.model}-${fingerprint(lfw)}-${size}`);
  // The database depends on the distractors only; the index and its snapshot on the index's shape too.
  const indexDim = Number(opt('index-dim') ?? DEFAULT_ANN.indexDim ?? dim);
  const candidates = Number(opt('candidates') ?? DEFAULT_CANDIDATES);
  const model = { name: lfw.model, version: lfw.version };
  const dist = distractors(lfw, nD);
  const total = nD + nLfw;
  // The gallery measures the scan rate itself at start; the bench measures it once here and hands
  // it over so that every gallery of this run (and the snapshot folder's name) agree on the choice.
  const budget = Number(opt('budget') ?? DEFAULT_SEARCH_BUDGET_MS);
  // Measured once per run and size: the children of one run (build, then measure; chosen, then
  // compared) must agree on it, or a noisy machine could make them choose differently.
  const rateFile = join(dir, 'scan-rate.json');
  const started = process.env.GALLERY_BENCH_STARTED ?? '';
  const cachedRate = existsSync(rateFile) ? (JSON.parse(readFileSync(rateFile, 'utf8')) as { started: string; rate: number }) : undefined;
  const rate =
    cachedRate !== undefined && cachedRate.started === started
      ? cachedRate.rate
      : measureExactScanRate(Math.min(indexDim, dim), DEFAULT_ANN.quantization === 'i8' ? 'i8' : 'f32', Number.isFinite(DEFAULT_PARALLEL_FROM) ? DEFAULT_ANN.threads : 1);
  if (cachedRate?.started !== started && existsSync(dir)) writeFileSync(rateFile, JSON.stringify({ started, rate }));
  const chosen = chooseMethod(total, rate, budget);
  const method = force ?? chosen;
  log(`# size ${size}: exact scan ${Math.round(rate)} templates/ms, ${(total / rate).toFixed(1)} ms for ${total}; chosen ${chosen}, running ${method}`);
  const snapDir = join(dir, `index-d${Math.min(indexDim, dim)}-${method === 'exact' ? 'exact' : `c${DEFAULT_ANN.connectivity}`}-${DEFAULT_ANN.quantization}`);
  const shopperOf = (i: number): string => (i < nD ? `d:${i}` : `lfw:${lfw.enrolNames[i - nD]}`);

  const makeGallery = (db: SqliteDb, efSearch = ef): Gallery =>
    new Gallery({
      db,
      masterKeys: { current: benchKey, previous: [] },
      model,
      dim,
      calibration: cal,
      clock: new ManualClock('2026-11-25T00:00:00Z'),
      ids: { next: (p) => `${p}_${Math.random().toString(36).slice(2)}${Date.now().toString(36)}` },
      random: seededRandom(Date.now() % 2 ** 31),
      snapshotDir: snapDir,
      ann: { expansionSearch: efSearch, indexDim },
      candidates,
      progressOut: process.stderr,
      exactScanRate: rate,
      searchBudgetMs: budget,
      searchMethod: method,
    });

  const marker = join(dir, 'imported.json');
  let importS: number | null = null;
  if (!existsSync(marker)) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const db = new SqliteDb(join(dir, 'facepay.sqlite'));
    await migrate(db, galleryMigrations);
    const g = makeGallery(db);
    const t0 = performance.now();
    const batch = 5000;
    for (let s = 0; s < nD; s += batch) {
      const inputs = [];
      for (let i = s; i < Math.min(nD, s + batch); i++) {
        inputs.push({ shopperId: `d:${i}`, embeddings: [{ model, vector: dist.subarray(i * dim, (i + 1) * dim) }], phoneLast4: digitsFor(i) });
      }
      await g.importMany(inputs);
      if ((s / batch) % 20 === 0) log(`# import ${size}: ${Math.min(nD, s + batch)}/${nD}`);
    }
    importS = (performance.now() - t0) / 1000;
    await db.close();
    writeFileSync(marker, JSON.stringify({ size, import_s: importS }));
  }
  if (flag('import-only')) return { built: true };

  const buildFile = join(snapDir, 'build.json');
  if (!existsSync(buildFile)) {
    // The full rebuild from the database: read, decrypt, learn the projection, insert into the graph. Then snapshot it.
    const db = new SqliteDb(join(dir, 'facepay.sqlite'));
    rmSync(snapDir, { recursive: true, force: true });
    mkdirSync(snapDir, { recursive: true });
    const g = makeGallery(db);
    const t0 = performance.now();
    const report = await g.start();
    const buildS = (performance.now() - t0) / 1000;
    if (report.partitions.some((p) => p.source !== 'rebuild')) throw new Error('expected a rebuild');
    await g.snapshot();
    await db.close();
    const imported = JSON.parse(readFileSync(marker, 'utf8')) as { import_s: number };
    writeFileSync(buildFile, JSON.stringify({ build_s: buildS, measured_at: new Date().toISOString(), import_s: imported.import_s, templates: nD }));
    return { built: true };
  }
  const built = JSON.parse(readFileSync(buildFile, 'utf8')) as { build_s: number; measured_at: string; import_s: number | null };

  // Restart: a fresh gallery loads the encrypted snapshot and checks it against the database.
  // Memory: the growth of the process over the restart. SQLite's page cache (up to 64 MiB, filled
  // by the start-up check and the replay of the events since the snapshot) is a fixed cost, not
  // one per template, and closing the database does not give its memory back to the system
  // (glibc keeps it), so for this one restart the cache is held to 2 MiB and the 64 MiB are
  // reported apart.
  gc();
  const rssBare = process.memoryUsage().rss;
  const db0 = new SqliteDb(join(dir, 'facepay.sqlite'));
  db0.raw.pragma('cache_size = -2048');
  const g0 = makeGallery(db0);
  await g0.storedCounts();
  await g0.storedCounts();
  gc();
  const rss0 = process.memoryUsage().rss;
  const t0 = performance.now();
  const report = await g0.start();
  const restartS = (performance.now() - t0) / 1000;
  gc();
  const rss1 = process.memoryUsage().rss;
  const status = readFileSync('/proc/self/status', 'utf8');
  const kb = (k: string): number => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN) * 1024;
  await db0.close();
  log(
    `# restart: ${g0.sizes().default ?? 0} templates; process memory ${((rss1 - rss0) / Math.max(1, nD)).toFixed(0)} B/template over the restart, ` +
      `${((rss0 - rssBare) / 2 ** 20).toFixed(0)} MiB for the open database before it (page cache held to 2 MiB); RssAnon ${(kb('RssAnon') / 2 ** 20).toFixed(0)} MiB, RssShmem ${(kb('RssShmem') / 2 ** 20).toFixed(0)} MiB`,
  );
  if (report.partitions.some((p) => p.source !== 'snapshot')) log(`# warning: restart did not use the snapshot: ${JSON.stringify(report)}`);
  const db = new SqliteDb(join(dir, 'facepay.sqlite'));
  const g = makeGallery(db);
  await g.start();
  const snapBytes = readdirSync(snapDir)
    .filter((f) => f.endsWith('.idx.enc') || f.endsWith('.proj.enc'))
    .reduce((n, f) => n + readFileSync(join(snapDir, f)).length, 0);

  // LFW's people on top of the base: whatever an interrupted run left is removed first.
  for (const name of lfw.enrolNames) await g.deleteShopper(`lfw:${name}`);
  const tLfw = performance.now();
  await g.importMany(
    lfw.enrolNames.map((name, i) => ({
      shopperId: `lfw:${name}`,
      embeddings: [{ model, vector: lfw.enrol.subarray(i * dim, (i + 1) * dim) }],
      phoneLast4: digitsFor(nD + i),
    })),
  );
  log(`# enrolled ${nLfw} LFW people into the running index in ${((performance.now() - tLfw) / 1000).toFixed(1)} s`);

  // The gallery's vectors in one matrix, in the order shopperOf numbers them, for the exact scan.
  const matrix = new Float32Array(total * dim);
  if (nD > 0) matrix.set(dist, 0);
  matrix.set(lfw.enrol, nD * dim);

  // Queries: half LFW probes whose person is enrolled, half fresh draws of nobody enrolled.
  const q = quick ? 200 : 1000;
  const r = seededRandom(4242);
  const mated = Array.from({ length: q / 2 }, () => lfw.probes[r.int(lfw.probes.length)] as Lfw['probes'][number]);
  const strangers = distractorFactory(lfw)(q / 2, 987_654);
  const queries = [...mated.map((m) => m.vector), ...Array.from({ length: q / 2 }, (_, i) => strangers.subarray(i * dim, (i + 1) * dim))];
  const flatQ = new Float32Array(queries.length * dim);
  queries.forEach((v, i) => flatQ.set(v, i * dim));
  const truth = exactSearch(matrix, flatQ, dim, 1, MetricKind.Cos, 2) as unknown as { keys: BigUint64Array; distances: Float32Array };
  // Queries whose exact best score could lead to anything but no_match (even against a set of one template).
  const tAny = g.tailModel.thresholdFor(g.decisionPolicy.targetFalseMatchRate);
  const relevant = (i: number): boolean => 1 - (truth.distances[i] ?? 1) >= tAny;
  const exactTimes: number[] = [];
  for (let i = 0; i < 20; i++) {
    const t = performance.now();
    exactSearch(matrix, queries[i] as Float32Array, dim, 1, MetricKind.Cos, 1);
    exactTimes.push(performance.now() - t);
  }

  for (let i = 0; i < 50; i++) await g.identify({ model, vector: queries[i % queries.length] as Float32Array });
  const latIndex: number[] = [];
  for (const v of queries) {
    const t = performance.now();
    await g.searchIndex({ model, vector: v });
    latIndex.push(performance.now() - t);
  }
  const lat: number[] = [];
  // The identify call less the index search of the same query: database read, decryptions, decision.
  const latRest: number[] = [];
  let hitM = 0;
  let hitN = 0;
  const rel = { mated: 0, matedHits: 0, strangers: 0, strangerHits: 0 };
  for (let i = 0; i < queries.length; i++) {
    const probe = { model, vector: queries[i] as Float32Array };
    const t = performance.now();
    await g.identify(probe);
    const tIdentify = performance.now() - t;
    lat.push(tIdentify);
    const t2 = performance.now();
    await g.searchIndex(probe);
    latRest.push(tIdentify - (performance.now() - t2));
    const top = (await g.rank(probe)).ranked[0]?.shopperId;
    const want = shopperOf(Number(truth.keys[i]));
    const mate = i < q / 2;
    if (top === want) {
      if (mate) hitM++;
      else hitN++;
    }
    if (relevant(i)) {
      if (mate) rel.mated++;
      else rel.strangers++;
      if (top === want) {
        if (mate) rel.matedHits++;
        else rel.strangerHits++;
      }
    }
  }
  const relevantN = rel.mated + rel.strangers;
  const relevantHits = rel.matedHits + rel.strangerHits;
  // How much of the templates' squared length the projection keeps, on real LFW embeddings (not the distractors it may have been learned from).
  const info = g.indexInfo().find((p) => p.id === 'default');
  let keptOnLfw: number | null = null;
  const projection = info?.projection ?? null;
  if (projection !== null) {
    const p = g.projectionOf('default');
    if (p !== undefined) {
      let sum = 0;
      const n = lfw.all.length / dim;
      const tmp = new Float32Array(p.outDim);
      for (let i = 0; i < n; i++) {
        project(p, lfw.all.subarray(i * dim, (i + 1) * dim), tmp);
        for (const x of tmp) sum += x * x;
      }
      keptOnLfw = sum / n;
    }
  }

  // Open-set identification on LFW.
  const probes = quick ? lfw.probes.filter((_, i) => i % Math.ceil(lfw.probes.length / 500) === 0) : lfw.probes;
  const matedScores: number[] = [];
  const nonMatedBest: number[] = [];
  let rank1 = 0;
  const mOut: Record<string, number> = { match_correct: 0, match_wrong: 0, ambiguous: 0, no_match: 0, after_digits_correct: 0, after_digits_wrong: 0, after_digits_no_match: 0 };
  const nOut: Record<string, number> = { match: 0, ambiguous: 0, no_match: 0, after_digits_match: 0 };
  let policyThreshold = NaN;
  const policy = g.decisionPolicy;
  const enrolIndex = new Map(lfw.enrolNames.map((n, i) => [n, i]));
  for (const p of probes) {
    const probe = { model, vector: p.vector };
    const mate = `lfw:${p.name}`;
    const { ranked, comparedTemplates } = await g.rank(probe);
    const top = ranked[0];
    if (top?.shopperId === mate) rank1++;
    matedScores.push(top?.shopperId === mate ? top.score : -Infinity);
    const others = ranked.filter((s) => s.shopperId !== mate);
    nonMatedBest.push(others[0]?.score ?? -Infinity);

    const d: Decision = await g.identify(probe);
    policyThreshold = d.threshold;
    if (d.outcome === 'match') mOut[d.shopperId === mate ? 'match_correct' : 'match_wrong']!++;
    else if (d.outcome === 'no_match') mOut.no_match!++;
    else {
      mOut.ambiguous!++;
      const d2 = await g.identifyWithDigits(probe, digitsFor(nD + (enrolIndex.get(p.name) ?? -1)));
      if (d2.outcome === 'match') mOut[d2.shopperId === mate ? 'after_digits_correct' : 'after_digits_wrong']!++;
      else mOut.after_digits_no_match!++;
    }

    // The same probe as a person who is not enrolled: the gallery without their template.
    const dn = await decide(others, comparedTemplates - 1, g.tailModel, policy, (first: ScoredShopper) => g.narrowedSize(first));
    if (dn.outcome === 'match') nOut.match!++;
    else if (dn.outcome === 'no_match') nOut.no_match!++;
    else {
      nOut.ambiguous!++;
      const claimed = digitsFor(1_000_000_000 + matedScores.length);
      const n2 = await g.rankWithDigits(probe, claimed);
      const rest = n2.ranked.filter((s) => s.shopperId !== mate);
      const dn2 = decideNarrowed(rest, n2.comparedTemplates - (rest.length === n2.ranked.length ? 0 : 1), g.tailModel, policy);
      if (dn2.outcome === 'match') nOut.after_digits_match!++;
    }
  }
  // FPIR 0.003: the threshold that 0.3 % of non-mated searches reach; FNIR: mated searches whose mate is not first above it.
  const sortedN = [...nonMatedBest].sort((a, b) => b - a);
  const tFpir = sortedN[Math.max(0, Math.ceil(0.003 * sortedN.length) - 1)] ?? 1;
  const fnir = matedScores.filter((s) => !(s > tFpir)).length / matedScores.length;
  // The search expansion against recall and time, on the same queries (printed, not in the JSON).
  const sweep: SweepPoint[] = [];
  if (!quick && method === 'hnsw') {
    for (const e of [64, 128, 256, 512]) {
      const h = makeGallery(db, e);
      await h.start();
      const lat2: number[] = [];
      const latId: number[] = [];
      const hits = { mated: 0, strangers: 0, relevant: 0 };
      for (let i = 0; i < queries.length; i++) {
        const probe = { model, vector: queries[i] as Float32Array };
        const t = performance.now();
        await h.searchIndex(probe);
        lat2.push(performance.now() - t);
        const t2 = performance.now();
        await h.identify(probe);
        latId.push(performance.now() - t2);
        if ((await h.rank(probe)).ranked[0]?.shopperId === shopperOf(Number(truth.keys[i]))) {
          if (i < q / 2) hits.mated++;
          else hits.strangers++;
          if (relevant(i)) hits.relevant++;
        }
      }
      sweep.push({
        ef: e,
        recall_at_1: (hits.mated + hits.strangers) / queries.length,
        recall_mated: hits.mated / (q / 2),
        recall_nonmated: hits.strangers / (q / 2),
        recall_decision_relevant: relevantN > 0 ? hits.relevant / relevantN : NaN,
        index_p50_ms: percentile(lat2, 0.5),
        index_p99_ms: percentile(lat2, 0.99),
        p50_ms: percentile(latId, 0.5),
        p99_ms: percentile(latId, 0.99),
      });
    }
  }
  for (const name of lfw.enrolNames) await g.deleteShopper(`lfw:${name}`);
  await db.close();

  return {
    size: total,
    method,
    chosen,
    exact_scan_rate_per_ms: rate,
    budget_ms: budget,
    p50_ms: percentile(lat, 0.5),
    p99_ms: percentile(lat, 0.99),
    index_p50_ms: percentile(latIndex, 0.5),
    index_p99_ms: percentile(latIndex, 0.99),
    recall_at_1: (hitM + hitN) / q,
    recall_mated: hitM / (q / 2),
    recall_nonmated: hitN / (q / 2),
    recall_decision_relevant: relevantN > 0 ? relevantHits / relevantN : NaN,
    decision_relevant_queries: relevantN,
    decision_relevant: rel,
    rest_p50_ms: percentile(latRest, 0.5),
    rest_p99_ms: percentile(latRest, 0.99),
    index_dim: info?.indexDim ?? dim,
    candidates,
    projection: projection === null ? null : { samples: projection.samples, kept_on_learned: projection.kept, kept_on_lfw: keptOnLfw },
    exact_ms: percentile(exactTimes, 0.5),
    bytes_per_template: (rss1 - rss0) / Math.max(1, nD),
    database_cache_mib: 64,
    snapshot_bytes_per_template: snapBytes / Math.max(1, nD),
    build_s: built.build_s,
    build_measured_at: built.measured_at,
    import_s: built.import_s,
    restart_s: restartS,
    lfw: {
      probes: probes.length,
      rank1: rank1 / probes.length,
      fnir_at_fpir_0_003: fnir,
      threshold_at_fpir_0_003: tFpir,
      mated: mOut,
      nonmated: nOut,
      policy_threshold: policyThreshold,
    },
    sweep,
    built_now: Date.parse(built.measured_at) >= Number(process.env.GALLERY_BENCH_STARTED ?? Date.now()),
  };
}

// ---------------------------------------------------------------- the exact slab alone

interface SlabResult {
  templates: number;
  /** Growth of the process over a restart of the slab (allocated once, at its size). */
  bytes_per_template: number;
  /** Growth over the build from nothing (grown in steps, whose freed copies the allocator may keep). */
  bytes_per_template_built: number;
  scan1_p50_ms: number;
  scan1_p99_ms: number;
  scan2_p50_ms: number;
  scan2_p99_ms: number;
  /** The quickest scans: what the machine does when the other work on it lets the scan run. */
  scan1_min_ms: number;
  scan2_min_ms: number;
  /** Templates per ms on both threads, at the p50. */
  rate2_per_ms: number;
  save_s: number;
  restart_s: number;
  file_bytes_per_template: number;
}

async function runSlab(n: number): Promise<SlabResult> {
  const dim = DEFAULT_ANN.indexDim ?? 128;
  const params = { ...DEFAULT_ANN, dim, indexDim: dim };
  // The partition reads its thread count at each search, so the same slab is timed on one thread and on two.
  const live = { ...params, parallelFrom: 0 };
  const r = seededRandom(99);
  const batch = 10_000;
  gc();
  const rss0 = process.memoryUsage().rss;
  const part = new LocalPartition('slab', live, 'exact');
  const flat = new Float32Array(batch * dim);
  for (let s = 0; s < n; s += batch) {
    const m = Math.min(batch, n - s);
    for (let i = 0; i < m * dim; i++) flat[i] = gaussian(r);
    part.addSync(
      Array.from({ length: m }, (_, i) => s + i + 1),
      flat.subarray(0, m * dim),
    );
  }
  gc();
  const rss1 = process.memoryUsage().rss;
  const queries = Array.from({ length: quick ? 100 : 300 }, () => l2(Float32Array.from({ length: dim }, () => gaussian(r))));
  const times = (threads: number): number[] => {
    const ts: number[] = [];
    live.threads = threads;
    for (const q of queries.slice(0, 10)) part.searchSync(q, DEFAULT_CANDIDATES);
    for (const q of queries) {
      const t = performance.now();
      part.searchSync(q, DEFAULT_CANDIDATES);
      ts.push(performance.now() - t);
    }
    return ts;
  };
  const t1 = times(1);
  const t2 = times(2);
  // The restart of the slab as the snapshot does it: AES-256-GCM over the plain file in /dev/shm, then load.
  const dir = existsSync('/dev/shm') ? '/dev/shm' : join(cacheRoot, 'slab');
  mkdirSync(dir, { recursive: true });
  const plain = join(dir, `gallery-slab-${process.pid}.plain`);
  const key = randomBytes(32);
  const iv = randomBytes(12);
  const ts0 = performance.now();
  part.saveTo(plain);
  const c = createCipheriv('aes-256-gcm', key, iv);
  const enc = Buffer.concat([c.update(readFileSync(plain)), c.final()]);
  const tag = c.getAuthTag();
  rmSync(plain);
  const saveS = (performance.now() - ts0) / 1000;
  // The restart in a fresh process, so that its memory growth is the slab's alone.
  const encFile = join(dir, `gallery-slab-${process.pid}.enc`);
  writeFileSync(encFile, enc);
  const res = spawnSync(process.execPath, ['--import', 'tsx', new URL(import.meta.url).pathname, `--slab-restart=${encFile}`], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, SLAB_KEY: key.toString('base64'), SLAB_IV: iv.toString('base64'), SLAB_TAG: tag.toString('base64'), SLAB_SUM: String(part.keySum) },
  });
  rmSync(encFile, { force: true });
  if (res.status !== 0) throw new Error('the slab restart failed');
  const restart = JSON.parse(res.stdout.toString().trim().split('\n').pop() ?? '{}') as { bytes: number; s: number; count: number };
  if (restart.count !== n) throw new Error('the slab did not come back whole');
  return {
    templates: n,
    bytes_per_template: restart.bytes / n,
    bytes_per_template_built: (rss1 - rss0) / n,
    scan1_p50_ms: percentile(t1, 0.5),
    scan1_p99_ms: percentile(t1, 0.99),
    scan2_p50_ms: percentile(t2, 0.5),
    scan2_p99_ms: percentile(t2, 0.99),
    scan1_min_ms: Math.min(...t1),
    scan2_min_ms: Math.min(...t2),
    rate2_per_ms: n / percentile(t2, 0.5),
    save_s: saveS,
    restart_s: restart.s,
    file_bytes_per_template: enc.length / n,
  };
}

// ---------------------------------------------------------------- parent

function childRun(size: number, force?: SearchMethod): SizeResult {
  for (let attempt = 0; attempt < 2; attempt++) {
    const res = spawnSync(process.execPath, ['--import', 'tsx', new URL(import.meta.url).pathname, `--child=${size}`, ...(force ? [`--force=${force}`] : []), ...argv], {
      timeout: 45 * 60 * 1000,
      stdio: ['ignore', 'pipe', 'inherit'],
      maxBuffer: 64 * 1024 * 1024,
      env: process.env,
    });
    if (res.status !== 0) throw new Error(`size ${size}: child failed with ${res.status}`);
    const last = res.stdout.toString().trim().split('\n').pop() ?? '{}';
    const out = JSON.parse(last) as SizeResult | { built: true };
    if (!('built' in out)) return out;
  }
  throw new Error(`size ${size}: index built but not loadable`);
}

async function main(): Promise<void> {
  process.env.GALLERY_BENCH_STARTED ??= String(Date.now());
  const slabRestart = opt('slab-restart');
  if (slabRestart !== undefined) {
    // Decrypt to /dev/shm and load, as the snapshot does; the growth of the process is the slab's.
    const env = process.env;
    const enc = readFileSync(slabRestart);
    const dim = DEFAULT_ANN.indexDim ?? 128;
    gc();
    const rss0 = process.memoryUsage().rss;
    const t0 = performance.now();
    const d = createDecipheriv('aes-256-gcm', Buffer.from(env.SLAB_KEY ?? '', 'base64'), Buffer.from(env.SLAB_IV ?? '', 'base64'));
    d.setAuthTag(Buffer.from(env.SLAB_TAG ?? '', 'base64'));
    const plain = `${slabRestart}.plain`;
    writeFileSync(plain, Buffer.concat([d.update(enc), d.final()]));
    const part = new LocalPartition('slab', { ...DEFAULT_ANN, dim, indexDim: dim }, 'exact');
    part.loadFrom(plain, Number(env.SLAB_SUM), undefined);
    rmSync(plain);
    const s = (performance.now() - t0) / 1000;
    gc();
    const rss1 = process.memoryUsage().rss;
    process.stdout.write(`${JSON.stringify({ bytes: rss1 - rss0, s, count: part.count() })}\n`);
    return;
  }
  const slabChild = opt('slab-child');
  if (slabChild !== undefined) {
    process.stdout.write(`${JSON.stringify(await runSlab(Number(slabChild)))}\n`);
    return;
  }
  const slab = opt('slab');
  if (slab !== undefined) {
    process.stdout.write(`load average ${loadavg().map((x) => x.toFixed(1)).join(' ')} at ${new Date().toISOString()}\n`);
    const all: SlabResult[] = [];
    for (const n of slab.split(',').map(Number)) {
      // A child per size, so that its memory figure is its own.
      const res = spawnSync(process.execPath, ['--import', 'tsx', new URL(import.meta.url).pathname, `--slab-child=${n}`, ...argv.filter((a) => !a.startsWith('--slab='))], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      if (res.status !== 0) throw new Error(`slab ${n}: child failed with ${res.status}`);
      const x = JSON.parse(res.stdout.toString().trim().split('\n').pop() ?? '{}') as SlabResult;
      all.push(x);
      process.stdout.write(
        `exact slab ${n}: ${x.bytes_per_template.toFixed(0)} B/template in memory after a restart (${x.bytes_per_template_built.toFixed(0)} B as built by adds; ${x.file_bytes_per_template.toFixed(0)} B encrypted on disk); ` +
          `scan of ${DEFAULT_CANDIDATES} best, one thread p50 ${x.scan1_p50_ms.toFixed(2)} / p99 ${x.scan1_p99_ms.toFixed(2)} ms, both threads p50 ${x.scan2_p50_ms.toFixed(2)} / p99 ${x.scan2_p99_ms.toFixed(2)} ms, quickest ${x.scan1_min_ms.toFixed(2)} / ${x.scan2_min_ms.toFixed(2)} ms ` +
          `(${Math.round(x.rate2_per_ms)} templates/ms); save ${x.save_s.toFixed(2)} s, restart (decrypt + load) ${x.restart_s.toFixed(2)} s; load average ${loadavg().map((v) => v.toFixed(1)).join(' ')}\n`,
      );
    }
    if (asJson) process.stdout.write(`${JSON.stringify({ load_average: loadavg(), slab: all })}\n`);
    return;
  }
  const child = opt('child');
  if (child !== undefined) {
    const force = opt('force');
    process.stdout.write(`${JSON.stringify(await runSize(Number(child), force === 'exact' || force === 'hnsw' ? force : undefined))}\n`);
    return;
  }
  const sizes = (opt('sizes') ?? (quick ? '10000' : '10000,100000,1000000')).split(',').map(Number);
  if (flag('import-only')) {
    // Fills the cached databases (encrypting and inserting the distractors) without building an index.
    for (const size of sizes) {
      const res = spawnSync(process.execPath, ['--import', 'tsx', new URL(import.meta.url).pathname, `--child=${size}`, ...argv], { stdio: ['ignore', 'ignore', 'inherit'] });
      if (res.status !== 0) throw new Error(`size ${size}: import failed with ${res.status}`);
    }
    return;
  }
  const cpu = cpus();
  const out = (s: string): void => {
    process.stdout.write(`${s}\n`);
  };
  out(
    `machine: ${cpu[0]?.model ?? 'unknown cpu'}, ${cpu.length} cores, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, node ${process.version}; load average ${loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')} at ${new Date().toISOString()} (other work on the machine lengthens the tails)`,
  );
  const lfw = loadLfw();
  const { cal, source } = await loadCal(lfw);
  out(
    lfw.synthetic
      ? 'LFW embeddings: MISSING (.bench-cache/face/lfw.<model>.jsonl): every figure below is on SYNTHETIC identities, not LFW'
      : `LFW embeddings: ${lfw.model}@${lfw.version}, ${lfw.allNames.length} images of ${lfw.enrolNames.length} people embedded (${lfw.failed} failed), ${lfw.probes.length} mated probes` +
          (lfw.partial ? ' — PARTIAL: the face engine was still embedding LFW, these are the people it had reached (alphabetical)' : ''),
  );
  out(`impostor tail: ${source}; ${cal.impostorPairs} impostor pairs`);
  out(
    `distractors: Gaussian with the mean and full ${lfw.dim} x ${lfw.dim} covariance of ${lfw.fit.length / lfw.dim} real LFW embeddings of ${lfw.model} (the first image of each of the first ${lfw.fit.length / lfw.dim} people in the file; Cholesky), renormalised; one template per synthetic identity; ` +
      `the gallery = size - ${LFW_PEOPLE} distractors (cached, with their index) + one image of each LFW person, enrolled into the running index at each run`,
  );

  // How alike the distractors are to real faces: impostor similarities, real vs synthetic.
  {
    const r = seededRandom(5);
    const d = distractorFactory(lfw)(2000, 31337);
    const dim = lfw.dim;
    const n = lfw.allNames.length;
    const real: number[] = [];
    const synth: number[] = [];
    for (let k = 0; k < 200_000; k++) {
      const i = r.int(n);
      const j = r.int(n);
      if (lfw.allNames[i] !== lfw.allNames[j]) {
        let s = 0;
        for (let x = 0; x < dim; x++) s += (lfw.all[i * dim + x] ?? 0) * (lfw.all[j * dim + x] ?? 0);
        real.push(s);
      }
      const m = r.int(2000);
      let s2 = 0;
      for (let x = 0; x < dim; x++) s2 += (lfw.all[i * dim + x] ?? 0) * (d[m * dim + x] ?? 0);
      synth.push(s2);
    }
    const st = (xs: number[]): string => {
      const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
      const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length);
      return `mean ${mean.toFixed(3)} sd ${sd.toFixed(3)} p99 ${percentile(xs, 0.99).toFixed(3)} p99.99 ${percentile(xs, 0.9999).toFixed(3)}`;
    };
    out(`impostor cosine, LFW vs LFW:        ${st(real)}`);
    out(`impostor cosine, LFW vs distractor: ${st(synth)}`);
  }
  const tailModel = fitImpostorTail(cal);
  const td = tailModel.describe();
  out(
    `tail model: ${td.method} in Fisher z from score ${td.anchorScore.toFixed(4)} (FMR ${td.anchorFmr.toExponential(2)}), shape ${td.shape.toFixed(3)}, scale ${td.scale.toFixed(4)}, ${td.exceedances} exceedances${td.conservative ? '' : ' (NOT conservative)'}`,
  );
  out(
    `thresholds at target ${DEFAULT_POLICY.targetFalseMatchRate} per decision: ` +
      [1e3, 1e4, 1e5, 1e6].map((n) => `N=${n}: ${tailModel.thresholdFor(DEFAULT_POLICY.targetFalseMatchRate / n).toFixed(4)}`).join(', '),
  );
  out(
    `index: per partition the exact scan (${DEFAULT_ANN.quantization} slab, usearch exactSearch, one thread per query) when it fits the budget of ${opt('budget') ?? DEFAULT_SEARCH_BUDGET_MS} ms at the rate measured at start, else usearch HNSW ${DEFAULT_ANN.quantization} (quantised by the gallery: largest coordinate ±127), connectivity ${DEFAULT_ANN.connectivity}, expansion add ${DEFAULT_ANN.expansionAdd} / search ${opt('ef') ?? DEFAULT_ANN.expansionSearch}; ` +
      `${lfw.dim > Number(opt('index-dim') ?? DEFAULT_ANN.indexDim ?? lfw.dim) ? `templates projected from ${lfw.dim} to ${opt('index-dim') ?? DEFAULT_ANN.indexDim} dimensions (principal directions of the partition's first templates, learned at the rebuild); ` : ''}` +
      `exact re-score of the top ${opt('candidates') ?? DEFAULT_CANDIDATES} from the encrypted rows (SQLite, full ${lfw.dim}-d templates)`,
  );
  out('exact baseline: usearch exactSearch (SIMD brute force over float32, one thread) per query');

  const results: SizeResult[] = [];
  const runs: { size: number; force?: SearchMethod }[] = [];
  for (const size of sizes) runs.push({ size });
  const compared: SizeResult[] = [];
  for (let ri = 0; ri < runs.length; ri++) {
    const { size, force } = runs[ri] as { size: number; force?: SearchMethod };
    log(`# size ${size}${force ? ` (${force}, to compare)` : ''}`);
    const res = childRun(size, force);
    if (force === undefined) {
      results.push(res);
      // The other method on the same database and queries, right after.
      if (!flag('no-compare')) runs.splice(ri + 1, 0, { size, force: res.chosen === 'exact' ? 'hnsw' : 'exact' });
    } else compared.push(res);
    out(`load average after size ${size}: ${loadavg().map((x) => x.toFixed(1)).join(' ')} at ${new Date().toISOString()}`);
    out(
      `size ${res.size} [${res.method === 'exact' ? 'EXACT scan' : 'HNSW graph'}${res.method === res.chosen ? ', chosen' : ', forced to compare'}: scan rate ${Math.round(res.exact_scan_rate_per_ms)} templates/ms, budget ${res.budget_ms} ms]${res.size === size ? '' : ` (asked ${size}; ${LFW_PEOPLE - (res.size - (size - LFW_PEOPLE))} LFW people have no embedding)`}: p50 ${res.p50_ms.toFixed(3)} ms, p99 ${res.p99_ms.toFixed(3)} ms (identify: index + exact re-score + decision; the index alone ${res.index_p50_ms.toFixed(3)} / ${res.index_p99_ms.toFixed(3)} ms); ` +
        `recall@1 ${res.recall_at_1.toFixed(4)} (mated ${res.recall_mated.toFixed(4)}, not enrolled ${res.recall_nonmated.toFixed(4)}; ` +
        `${res.recall_decision_relevant.toFixed(4)} over the ${res.decision_relevant_queries} queries whose exact best score could pass any threshold: ` +
        `mated ${res.decision_relevant.matedHits}/${res.decision_relevant.mated}, not enrolled ${res.decision_relevant.strangerHits}/${res.decision_relevant.strangers}); ` +
        `identify less its index search (database read, ${res.candidates} decryptions, decision) p50 ${res.rest_p50_ms.toFixed(3)} / p99 ${res.rest_p99_ms.toFixed(3)} ms; ` +
        `index ${res.index_dim}-d${res.projection ? ` (projection learned from ${res.projection.samples} templates, keeps ${res.projection.kept_on_learned.toFixed(3)} of their squared length and ${res.projection.kept_on_lfw?.toFixed(3)} of real LFW embeddings')` : ''}; ` +
        `exact scan ${res.exact_ms.toFixed(2)} ms; memory ${res.bytes_per_template.toFixed(0)} B/template (growth of the process over the restart, index included; SQLite's fixed page cache apart, ${res.database_cache_mib.toFixed(0)} MiB = ${((res.database_cache_mib * 2 ** 20) / Math.max(1, res.size)).toFixed(0)} B/template at this size; encrypted snapshot ${res.snapshot_bytes_per_template.toFixed(0)} B); ` +
        `full rebuild ${res.build_s.toFixed(1)} s${res.built_now ? '' : ` (cached, measured ${res.build_measured_at})`}; restart ${res.restart_s.toFixed(2)} s` +
        (res.import_s !== null ? `; database import ${res.import_s.toFixed(1)} s` : ''),
    );
    for (const w of res.sweep) {
      out(
        `  search expansion ${w.ef}: recall@1 ${w.recall_at_1.toFixed(4)} (mated ${w.recall_mated.toFixed(4)}, not enrolled ${w.recall_nonmated.toFixed(4)}, decision-relevant ${w.recall_decision_relevant.toFixed(4)}), ` +
          `identify p50 ${w.p50_ms.toFixed(3)} / p99 ${w.p99_ms.toFixed(3)} ms, index alone p50 ${w.index_p50_ms.toFixed(3)} / p99 ${w.index_p99_ms.toFixed(3)} ms`,
      );
    }
    out(
      `  LFW open-set (${res.lfw.probes} probes): rank-1 ${res.lfw.rank1.toFixed(4)}, FNIR ${res.lfw.fnir_at_fpir_0_003.toFixed(4)} at FPIR 0.003 (threshold ${res.lfw.threshold_at_fpir_0_003.toFixed(4)}); ` +
        `policy threshold ${res.lfw.policy_threshold.toFixed(4)}; mated ${JSON.stringify(res.lfw.mated)}; not enrolled ${JSON.stringify(res.lfw.nonmated)}`,
    );
  }
  const last = results[results.length - 1];
  const row = (r: SizeResult): Record<string, unknown> => ({
    size: r.size,
    method: r.method,
    chosen: r.chosen,
    exact_scan_rate_per_ms: r.exact_scan_rate_per_ms,
    p50_ms: r.p50_ms,
    p99_ms: r.p99_ms,
    scan_p50_ms: r.index_p50_ms,
    scan_p99_ms: r.index_p99_ms,
    recall_at_1: r.recall_at_1,
    recall_decision_relevant: r.recall_decision_relevant,
    decision_relevant_queries: r.decision_relevant_queries,
    exact_ms: r.exact_ms,
    bytes_per_template: r.bytes_per_template,
    build_s: r.build_s,
    restart_s: r.restart_s,
  });
  // Open-set identification on Korean adults (issue 15), when the set is there: the same sizes.
  // Loaded here, not imported at the top: it draws its distractors with this file's generator.
  let korean: Awaited<ReturnType<typeof import('./gallery-korean.ts').koreanOpenSet>> | null = null;
  if (process.env.FACEPAY_KOREAN_FAMILY) {
    const { koreanOpenSet } = await import('./gallery-korean.ts');
    korean = await koreanOpenSet({ sizes, quick, log: (line: string) => process.stderr.write(`${line}\n`) });
    for (const k of korean.sizes)
      out(`korean ${k.size}: face-alone FPIR ${k.face_alone_fpir} (stated ${k.stated_fpir.toExponential(2)}), FNIR ${k.fnir.toFixed(3)}, sent to digits or PIN ${k.step_up_rate.toFixed(3)}`);
  } else out('korean open-set: skipped (set FACEPAY_KOREAN_FAMILY to the Korean family folder)');
  const json = {
    load_average: loadavg(),
    sizes: results.map(row),
    compared: compared.map(row),
    'lfw_fnir_at_fpir_0.003': last?.lfw.fnir_at_fpir_0_003 ?? null,
    lfw_rank1: last?.lfw.rank1 ?? null,
    ambiguous_rate: last ? (last.lfw.mated.ambiguous ?? 0) / last.lfw.probes : null,
    korean_face_alone_fpir: korean?.korean_face_alone_fpir ?? null,
    korean_stated_fpir: korean?.korean_stated_fpir ?? null,
    korean_step_up_rate: korean?.korean_step_up_rate ?? null,
    korean: korean?.sizes ?? null,
  };
  if (last) {
    out(
      `at ${last.size}: lfw_fnir_at_fpir_0.003, lfw_rank1 and ambiguous_rate (share of mated LFW probes answered "ambiguous" at the default policy) come from this size`,
    );
  }
  if (asJson) out(JSON.stringify(json));
}

// Other benches import the distractors from here; only running this file runs the bench.
if (process.argv[1] !== undefined && new URL(import.meta.url).pathname === process.argv[1]) await main();
