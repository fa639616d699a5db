/**
 * npm run bench:znorm [-- --json]
 *
 * Does score normalisation per probe (Z-norm against a cohort of impostor faces) raise the
 * true-accept rate at the envelope's false-match thresholds, on people not fitted on?
 *
 * Data: the Korean family set (adults; $FACEPAY_KOREAN_FAMILY) and LFW's East Asian people, from
 * the embeddings `bench:face -- --populations` caches in .bench-cache/face. Each population is
 * split by family (Korean) or person (LFW) into alternate halves: the fit half gives the cohort
 * (one photo per person of both populations' fit halves) and the thresholds; every figure is
 * measured on the held-out half.
 *
 * Z-norm of a score s between a probe p and a template t: (s - mean_p) / sd_p, where mean_p and
 * sd_p are the probe's scores against the cohort (people of the probe's own family left out).
 * Each unordered pair is scored both ways (each face the probe once), for raw scores alike.
 *
 * Reported per false-match target:
 *   A. the shipped envelope's raw threshold (server/src/face/calibration: it was fitted on every
 *      Korean pair, the held-out half included, so this row is not held out for Korean);
 *   B. raw and Z-normed thresholds fitted the same way on the fit halves (the highest threshold
 *      any population's fit half needs for the target), each measured on the held-out halves:
 *      false-match rate per population and false non-match rate (genuine pairs refused).
 * Z-norm is worth adopting only if B shows a lower false non-match rate at held-out false-match
 * rates no higher than raw's.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadPopulationCalibrations, type EmbeddingLine } from '../src/face/index.ts';
import { calibrationFromJson, envelopeOf } from '../src/gallery/index.ts';
import { datasetsDir, repoRoot } from '../src/platform/index.ts';
import { embeddingOf } from './embed-cache.ts';
import { koreanFamily, lfwEastAsian, type PopulationSet } from './face-populations.ts';

const MODEL = process.env.FACEPAY_FACE_MODEL || 'faceplugin-arcface512';
const json = process.argv.includes('--json');
const TARGETS = [1e-3, 1e-4, 1e-5];
const log = (s = ''): void => {
  (json ? process.stderr : process.stdout).write(`${s}\n`);
};

interface Face {
  person: string;
  family: string;
  half: 0 | 1;
  v: Float32Array;
}

function readCache(file: string): Map<string, EmbeddingLine> {
  const out = new Map<string, EmbeddingLine>();
  for (const l of readFileSync(file, 'utf8').split('\n')) {
    if (!l.trim()) continue;
    const o = JSON.parse(l) as EmbeddingLine;
    out.set(o.path, o);
  }
  return out;
}

function facesOf(set: PopulationSet, byPerson: boolean): Face[] {
  const file = join(repoRoot, '.bench-cache/face', `${set.name}.${MODEL}.jsonl`);
  if (!existsSync(file)) throw new Error(`no embeddings at ${file}: run npm run bench:face -- --populations first`);
  const emb = readCache(file);
  const groups = [...new Set(set.images.map((i) => (byPerson ? i.person : i.family)))].sort();
  const half = new Map(groups.map((g, i) => [g, (i % 2) as 0 | 1]));
  const out: Face[] = [];
  for (const im of set.images) {
    const v = embeddingOf(emb.get(im.path));
    if (v) out.push({ person: im.person, family: im.family, half: half.get(byPerson ? im.person : im.family)!, v: Float32Array.from(v) });
  }
  return out;
}

const dot = (a: Float32Array, b: Float32Array): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
};

/** Each face's mean and sd against the cohort, leaving out its own family. */
function cohortStats(faces: readonly Face[], cohort: readonly Face[]): { mean: Float64Array; sd: Float64Array } {
  const mean = new Float64Array(faces.length);
  const sd = new Float64Array(faces.length);
  faces.forEach((f, i) => {
    let n = 0;
    let s = 0;
    let ss = 0;
    for (const c of cohort) {
      if (c.family === f.family) continue;
      const x = dot(f.v, c.v);
      n++;
      s += x;
      ss += x * x;
    }
    mean[i] = s / n;
    sd[i] = Math.sqrt(Math.max(1e-12, ss / n - (s / n) ** 2));
  });
  return { mean, sd };
}

interface Scores {
  impostorsRaw: Float32Array;
  impostorsZ: Float32Array;
  genuineRaw: Float32Array;
  genuineZ: Float32Array;
}

/** Ordered pairs within one half of one population: unrelated people (other families, not listed kin) and the same person. */
function scoreHalf(faces: readonly Face[], stats: { mean: Float64Array; sd: Float64Array }, half: 0 | 1, kin: Set<string>): Scores {
  const idx = faces.map((_, i) => i).filter((i) => faces[i]!.half === half);
  const ir: number[] = [];
  const iz: number[] = [];
  const gr: number[] = [];
  const gz: number[] = [];
  for (let a = 0; a < idx.length; a++) {
    const i = idx[a]!;
    const fi = faces[i]!;
    for (let b = a + 1; b < idx.length; b++) {
      const j = idx[b]!;
      const fj = faces[j]!;
      const same = fi.person === fj.person;
      if (!same && (fi.family === fj.family || kin.has(`${fi.person}|${fj.person}`))) continue;
      const s = dot(fi.v, fj.v);
      const zj = (s - stats.mean[j]!) / stats.sd[j]!;
      const zi = (s - stats.mean[i]!) / stats.sd[i]!;
      if (same) gr.push(s, s), gz.push(zi, zj);
      else ir.push(s, s), iz.push(zi, zj);
    }
  }
  const f = (x: number[]): Float32Array => Float32Array.from(x).sort().reverse();
  return { impostorsRaw: f(ir), impostorsZ: f(iz), genuineRaw: f(gr), genuineZ: f(gz) };
}

/** The score the k-th highest impostor reaches, k = target x pairs: at most that share of pairs lies strictly above it. */
function thresholdAt(sortedDesc: Float32Array, target: number): number {
  const k = Math.floor(target * sortedDesc.length);
  return k < sortedDesc.length ? sortedDesc[k]! : -Infinity;
}
function rateAbove(sortedDesc: Float32Array, t: number): number {
  let lo = 0;
  let hi = sortedDesc.length;
  while (lo < hi) {
    const m = (lo + hi) >> 1;
    if (sortedDesc[m]! > t) lo = m + 1;
    else hi = m;
  }
  return lo / Math.max(1, sortedDesc.length);
}

const kfDir = process.env.FACEPAY_KOREAN_FAMILY;
if (!kfDir || !existsSync(join(kfDir, 'files.tsv'))) {
  process.stderr.write('bench:znorm needs FACEPAY_KOREAN_FAMILY (the built Korean family set)\n');
  process.exit(1);
}
const kSet = koreanFamily(kfDir);
const lSet = lfwEastAsian(datasetsDir());
const pops = [
  { name: 'korean-family', faces: facesOf(kSet, false), kin: kSet.kin },
  { name: 'lfw-east-asian', faces: facesOf(lSet, true), kin: lSet.kin },
];
// The cohort: one photo (the first) per person of every fit half.
const cohort: Face[] = [];
for (const p of pops) {
  const seen = new Set<string>();
  for (const f of p.faces) if (f.half === 0 && !seen.has(f.person)) seen.add(f.person), cohort.push(f);
}
log(`bench:znorm (${MODEL}): cohort of ${cohort.length} people from the fit halves`);
const scored = pops.map((p) => {
  const stats = cohortStats(p.faces, cohort);
  const fit = scoreHalf(p.faces, stats, 0, p.kin);
  const held = scoreHalf(p.faces, stats, 1, p.kin);
  log(
    `  ${p.name}: fit half ${fit.impostorsRaw.length / 2} impostor / ${fit.genuineRaw.length / 2} genuine pairs; held-out half ${held.impostorsRaw.length / 2} / ${held.genuineRaw.length / 2}`,
  );
  return { name: p.name, fit, held };
});

const envelope = envelopeOf(loadPopulationCalibrations(MODEL).map((c) => calibrationFromJson(c)));
const fmt = (x: number): string => (x === 0 ? '0' : x.toExponential(1));
const pct = (x: number): string => `${(100 * x).toFixed(1)} %`;

const rows: Record<string, unknown>[] = [];
log();
log('A. shipped envelope (raw scores; its Korean curve saw the held-out half): held-out FMR per population, FNMR');
for (const target of [1e-4, 1e-5, 1e-6]) {
  const t = envelope.thresholdFor(target);
  const per = scored.map((s) => ({ name: s.name, fmr: rateAbove(s.held.impostorsRaw, t), fnmr: 1 - rateAbove(s.held.genuineRaw, t) }));
  log(`   ${fmt(target)} threshold ${t.toFixed(3)}: ${per.map((p) => `${p.name} FMR ${fmt(p.fmr)} FNMR ${pct(p.fnmr)}`).join('; ')}`);
  rows.push({ kind: 'envelope_raw', target, threshold: t, populations: per });
}
log();
log('B. thresholds fitted on the fit halves (the highest any population needs), measured on the held-out halves');
for (const target of TARGETS) {
  for (const kind of ['raw', 'znorm'] as const) {
    const key = kind === 'raw' ? 'impostorsRaw' : 'impostorsZ';
    const gkey = kind === 'raw' ? 'genuineRaw' : 'genuineZ';
    const t = Math.max(...scored.map((s) => thresholdAt(s.fit[key], target)));
    const per = scored.map((s) => ({ name: s.name, fmr: rateAbove(s.held[key], t), fnmr: 1 - rateAbove(s.held[gkey], t), fit_fmr: rateAbove(s.fit[key], t) }));
    const lo = Math.min(...per.map((p) => p.fmr));
    const spread = lo > 0 ? Math.max(...per.map((p) => p.fmr)) / lo : Number.NaN;
    log(
      `   ${fmt(target)} ${kind.padEnd(5)} threshold ${t.toFixed(3)}: ${per.map((p) => `${p.name} FMR ${fmt(p.fmr)} (fit ${fmt(p.fit_fmr)}) FNMR ${pct(p.fnmr)}`).join('; ')}; FMR spread ${Number.isFinite(spread) ? `${spread.toFixed(1)}x` : 'n/a (none above in a population)'}`,
    );
    rows.push({ kind, target, threshold: t, populations: per });
  }
}
if (json) process.stdout.write(JSON.stringify({ model: MODEL, cohort: cohort.length, rows }) + '\n');
