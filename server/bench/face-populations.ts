/**
 * False-match curves per population, the envelope the gallery decides on, the held-out check of
 * the extrapolated tail, and kin: section 2b of bench:face.
 *
 * Populations: all of LFW (the calibration bench:face writes from all its pairs), LFW's East Asian
 * people (picked by name, `populations/lfw-east-asian.txt`) and the Korean family set (adults,
 * age classes d to h; unrelated people only as impostors, relatives scored apart as kin) when
 * $FACEPAY_KOREAN_FAMILY points at it.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { withoutLabelErrors, type Calibration, type CurvePoint, type EmbeddingLine } from '../src/face/index.ts';
import { calibrationFromJson, envelopeOf, fitImpostorTail, poissonUpperBound, type Envelope, type FalseMatchCalibration } from '../src/gallery/index.ts';
import { embeddingOf } from './embed-cache.ts';
import { binOf, curveFromHistogram, HIST_BINS, lowerBound } from './face-stats.ts';

export interface PopulationImage {
  /** Relative to the population's root folder. */
  path: string;
  person: string;
  family: string;
}

export interface PopulationSet {
  name: string;
  root: string;
  description: string;
  images: PopulationImage[];
  /** Pairs of people who are relatives across families (`a|b`, both orders); same family is kin too. */
  kin: Set<string>;
}

export const POPULATION_FMRS = [1e-3, 1e-4, 1e-5, 1e-6];

export function lfwEastAsian(ds: string): PopulationSet {
  const names = readFileSync(new URL('./populations/lfw-east-asian.txt', import.meta.url), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  // LFW files some East Asian people twice, family name first and last (Chyung_Dai-chul and
  // Dai_Chul_Chyung, Wang_Nan and Nan_Wang): one person whatever the order of the name's parts,
  // and the pairs of lfw/label_errors.txt are one person too.
  const canonical = (name: string): string => name.toLowerCase().split(/[_-]/).sort().join(' ');
  const same = new Map<string, string>();
  for (const l of readFileSync(join(ds, 'lfw/label_errors.txt'), 'utf8').split('\n')) {
    const [a, b] = l.trim().split(/\s+/);
    if (a && b && !l.startsWith('#')) same.set(canonical(b), canonical(a));
  }
  const images: PopulationImage[] = [];
  for (const name of names) {
    const dir = join(ds, 'lfw/images', name);
    if (!existsSync(dir)) throw new Error(`lfw-east-asian.txt names ${name}, who is not in LFW`);
    const person = same.get(canonical(name)) ?? canonical(name);
    for (const f of readdirSync(dir).sort()) images.push({ path: `lfw/images/${name}/${f}`, person, family: person });
  }
  return { name: 'lfw-east-asian', root: ds, description: `LFW's East Asian people (${names.length} named in populations/lfw-east-asian.txt)`, images, kin: new Set() };
}

/** The adults (age classes d to h, 20 and over) of the Korean family set built by korean-family.sh. */
export function koreanFamily(dir: string): PopulationSet {
  const rows = readFileSync(join(dir, 'files.tsv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split('\t'));
  const images: PopulationImage[] = [];
  for (const [path, person, family, age] of rows) {
    if (!path || !person || !family || !age || !/^[d-h]$/.test(age)) continue;
    const name = `${path.split('/').pop()!.replace(/\.[^.]+$/, '')}.jpg`;
    images.push({ path: `${person}/${name}`, person, family });
  }
  const kin = new Set<string>();
  for (const l of readFileSync(join(dir, 'siblings.tsv'), 'utf8').trim().split('\n').slice(1)) {
    const [a, b] = l.split('\t');
    if (a && b) kin.add(`${a}|${b}`).add(`${b}|${a}`);
  }
  const people = new Set(images.map((i) => i.person)).size;
  return { name: 'korean-family', root: dir, description: `Korean family set, adults: ${images.length} photos of ${people} people`, images, kin };
}

export interface PopulationMeasure {
  name: string;
  description: string;
  images: number;
  failedImages: number;
  impostorPairs: number;
  genuinePairs: number;
  kinPairs: number;
  curve: CurvePoint[];
  impostorMean: number;
  impostorSd: number;
  /** The highest impostor scores, best first (at most 2000). */
  top: number[];
  /** Every kin pair's score, best first. */
  kinScores: number[];
  genuineSorted: Float32Array;
  /** The impostor score histogram (face-stats' bins). */
  bins: Float64Array;
  heldOut: HeldOutCheck[];
}

/** The tail fitted on half the families, checked on the other half. */
export interface HeldOutCheck {
  fmr: number;
  threshold: number;
  fitPairs: number;
  checkPairs: number;
  checkAbove: number;
  measured: number;
}

interface Scored {
  impostors: number;
  bins: Float64Array;
  sum: number;
  sumSq: number;
  top: number[];
  genuine: number[];
  kin: number[];
}

function scoreAll(vectors: Float32Array, dim: number, items: PopulationImage[], kin: Set<string>, keep: (i: number, j: number) => boolean): Scored {
  const out: Scored = { impostors: 0, bins: new Float64Array(HIST_BINS), sum: 0, sumSq: 0, top: [], genuine: [], kin: [] };
  const n = items.length;
  let floor = -1;
  for (let i = 0; i < n; i++) {
    const a = items[i]!;
    for (let j = i + 1; j < n; j++) {
      if (!keep(i, j)) continue;
      const b = items[j]!;
      let s = 0;
      for (let k = 0; k < dim; k++) s += vectors[i * dim + k]! * vectors[j * dim + k]!;
      if (a.person === b.person) out.genuine.push(s);
      else if (a.family === b.family || kin.has(`${a.person}|${b.person}`)) out.kin.push(s);
      else {
        out.impostors++;
        out.bins[binOf(s)]!++;
        out.sum += s;
        out.sumSq += s * s;
        if (s > floor) {
          out.top.push(s);
          // Keep the best 2000 without sorting on every pair.
          if (out.top.length >= 4000) {
            out.top.sort((x, y) => y - x).length = 2000;
            floor = out.top[1999]!;
          }
        }
      }
    }
  }
  out.top.sort((x, y) => y - x);
  out.top.length = Math.min(out.top.length, 2000);
  return out;
}

function asCalibration(name: string, model: string, version: string, s: Scored, genuineSorted: Float32Array): FalseMatchCalibration {
  const mean = s.sum / Math.max(1, s.impostors);
  return {
    model,
    version,
    population: name,
    impostorPairs: s.impostors,
    curve: curveFromHistogram(s.bins, s.impostors, genuineSorted, genuineSorted.length, POPULATION_FMRS),
    topImpostorScores: s.top,
    impostorMean: mean,
    impostorSd: Math.sqrt(Math.max(0, s.sumSq / Math.max(1, s.impostors) - mean * mean)),
  };
}

export function measurePopulation(set: PopulationSet, emb: Map<string, EmbeddingLine>, model: { name: string; version: string; dim: number }): PopulationMeasure {
  const usable = set.images.filter((im) => embeddingOf(emb.get(im.path)));
  const dim = model.dim;
  const M = new Float32Array(usable.length * dim);
  usable.forEach((im, i) => M.set(embeddingOf(emb.get(im.path))!, i * dim));
  const all = scoreAll(M, dim, usable, set.kin, () => true);
  const genuineSorted = Float32Array.from(all.genuine).sort();
  const cal = asCalibration(set.name, model.name, model.version, all, genuineSorted);

  // Held-out check: families in alternate halves, the tail fitted on pairs within one half and
  // its thresholds checked on pairs within the other.
  const families = [...new Set(usable.map((u) => u.family))].sort();
  const half = new Map(families.map((f, i) => [f, i % 2]));
  const side = usable.map((u) => half.get(u.family)!);
  const fitPart = scoreAll(M, dim, usable, set.kin, (i, j) => side[i] === 0 && side[j] === 0);
  const checkPart = scoreAll(M, dim, usable, set.kin, (i, j) => side[i] === 1 && side[j] === 1);
  // Extrapolated whatever the half's size: this is the check of the extrapolation itself.
  const fitted = fitImpostorTail(asCalibration(set.name, model.name, model.version, fitPart, Float32Array.from(fitPart.genuine).sort()), { countBound: (k) => poissonUpperBound(k) });
  const heldOut = POPULATION_FMRS.map((fmr) => {
    const threshold = fitted.thresholdFor(fmr);
    let above = 0;
    for (let b = binOf(threshold); b < HIST_BINS; b++) above += checkPart.bins[b]!;
    return { fmr, threshold, fitPairs: fitPart.impostors, checkPairs: checkPart.impostors, checkAbove: above, measured: above / Math.max(1, checkPart.impostors) };
  });

  return {
    name: set.name,
    description: set.description,
    images: set.images.length,
    failedImages: set.images.length - usable.length,
    impostorPairs: all.impostors,
    genuinePairs: all.genuine.length,
    kinPairs: all.kin.length,
    curve: curveFromHistogram(all.bins, all.impostors, genuineSorted, genuineSorted.length, POPULATION_FMRS),
    impostorMean: cal.impostorMean!,
    impostorSd: cal.impostorSd!,
    top: all.top,
    kinScores: all.kin.sort((a, b) => b - a),
    genuineSorted,
    bins: all.bins,
    heldOut,
  };
}

/** The calibration file of one population, in the shape the face engine ships (`<model>.<population>.json`). */
export function populationCalibrationFile(m: PopulationMeasure, model: { name: string; version: string; dim: number }, measuredAt: string): Calibration {
  const r5 = (x: number): number => Math.round(x * 1e5) / 1e5;
  const genMean = m.genuineSorted.reduce((s, x) => s + x, 0) / Math.max(1, m.genuineSorted.length);
  const genSd = Math.sqrt(m.genuineSorted.reduce((s, x) => s + (x - genMean) ** 2, 0) / Math.max(1, m.genuineSorted.length));
  const top = m.top.slice(0, 1000).map(r5);
  return {
    model: model.name,
    version: model.version,
    dim: model.dim,
    population: m.name,
    dataset: m.description,
    measured_at: measuredAt,
    images: m.images,
    failed_images: m.failedImages,
    genuine_pairs: m.genuinePairs,
    impostor_pairs: m.impostorPairs,
    curve: m.curve,
    tail: { impostor_mean: r5(m.impostorMean), impostor_sd: r5(m.impostorSd), top_impostor_scores: top, genuine_mean: r5(genMean), genuine_sd: r5(genSd) },
    without_label_errors: { impostor_pairs: m.impostorPairs, removed_pairs: 0, curve: m.curve, top_impostor_scores: top },
  };
}

/** The envelope over the LFW calibration and the measured populations, as the gallery builds it. */
export function envelopeFor(lfw: Calibration, measured: Calibration[]): Envelope {
  return envelopeOf([calibrationFromJson({ ...withoutLabelErrors(lfw), population: 'lfw' }), ...measured.map((c) => calibrationFromJson(c))]);
}

/** The share of a population's impostor pairs at or above a score (to the histogram's bin). */
export function rateAt(m: PopulationMeasure, s: number): number {
  let above = 0;
  for (let b = binOf(s); b < HIST_BINS; b++) above += m.bins[b]!;
  return above / Math.max(1, m.impostorPairs);
}

export interface PopulationReport {
  populations: {
    name: string;
    impostor_pairs: number;
    genuine_pairs: number;
    'tar_at_fmr_1e-4': number;
    'tar_at_fmr_1e-5': number;
    'tar_at_fmr_1e-6': number;
    'threshold_at_fmr_1e-4': number;
    'threshold_at_fmr_1e-5': number;
    'threshold_at_fmr_1e-6': number;
    'fmr_at_lfw_threshold_1e-5': number;
    'fmr_at_lfw_threshold_1e-6': number;
    held_out: HeldOutCheck[];
  }[];
  envelope: { fmr: number; threshold: number; set_by: string; tar_by_population: Record<string, number> }[];
  kin_pairs: number;
  kin_face_alone_matches: number;
  kin_face_alone_matches_by_gallery: Record<string, number>;
  skipped: string[];
}

const pct = (x: number, d = 2): string => (Number.isFinite(x) ? `${(100 * x).toFixed(d)} %` : 'n/a');

/**
 * Measures every population it can read, prints them beside LFW and the envelope, and returns the
 * figures and the calibration files to write. `embed` gives the embeddings of a set's images.
 */
export async function reportPopulations(o: {
  ds: string;
  lfw: Calibration;
  model: { name: string; version: string; dim: number };
  embed: (set: PopulationSet) => Promise<Map<string, EmbeddingLine>>;
  log: (line?: string) => void;
  quick: boolean;
  /** The policy's target for one decision (DEFAULT_POLICY.targetFalseMatchRate). */
  target: number;
}): Promise<{ report: PopulationReport; files: Calibration[] }> {
  const { log } = o;
  const sets: PopulationSet[] = [lfwEastAsian(o.ds)];
  const skipped: string[] = [];
  const kf = process.env.FACEPAY_KOREAN_FAMILY;
  if (kf && existsSync(join(kf, 'files.tsv'))) sets.push(koreanFamily(kf));
  else skipped.push(`korean-family: FACEPAY_KOREAN_FAMILY ${kf ? `(${kf}) has no files.tsv` : 'is not set'}; build it with ../shared/tools/korean-family.sh`);
  for (const s of skipped) log(`   skipped ${s}`);
  if (o.quick) for (const s of sets) s.images = s.images.filter((_, i) => i % 3 === 0);

  const measured: PopulationMeasure[] = [];
  for (const set of sets) measured.push(measurePopulation(set, await o.embed(set), o.model));
  const measuredAt = new Date().toISOString();
  const files = measured.map((m) => populationCalibrationFile(m, o.model, measuredAt));
  const env = envelopeFor(o.lfw, files);
  const lfwCurve = withoutLabelErrors(o.lfw).curve;
  const lfwT = (f: number): number => lfwCurve.find((c) => c.fmr === f)?.threshold ?? Number.NaN;
  const tarAt = (g: Float32Array, t: number): number => (g.length - lowerBound(g, t)) / Math.max(1, g.length);
  const at = (m: PopulationMeasure, f: number): CurvePoint => m.curve.find((c) => c.fmr === f)!;

  log(`   population        impostor pairs  genuine  | FMR 1e-4: threshold TAR | 1e-5 | 1e-6 | rate at LFW's 1e-5 (${lfwT(1e-5).toFixed(3)}) and 1e-6 (${lfwT(1e-6).toFixed(3)})`);
  const lfwRow = `   ${'lfw'.padEnd(17)} ${o.lfw.impostor_pairs.toLocaleString('en').padStart(14)}  ${String(o.lfw.genuine_pairs).padStart(7)}  | ${[1e-4, 1e-5, 1e-6].map((f) => `${lfwT(f).toFixed(3)} ${pct(lfwCurve.find((c) => c.fmr === f)?.tar ?? NaN, 1)}`).join(' | ')}`;
  log(lfwRow);
  for (const m of measured) {
    log(
      `   ${m.name.padEnd(17)} ${m.impostorPairs.toLocaleString('en').padStart(14)}  ${String(m.genuinePairs).padStart(7)}  | ${[1e-4, 1e-5, 1e-6]
        .map((f) => `${at(m, f).threshold.toFixed(3)} ${pct(at(m, f).tar, 1)}`)
        .join(' | ')} | ${rateAt(m, lfwT(1e-5)).toExponential(1)} (${Math.round(rateAt(m, lfwT(1e-5)) / 1e-5)}x), ${rateAt(m, lfwT(1e-6)).toExponential(1)} (${Math.round(rateAt(m, lfwT(1e-6)) / 1e-6)}x)`,
    );
    if (m.failedImages) log(`      ${m.failedImages} of ${m.images} images without a usable face`);
    for (const h of m.heldOut) {
      log(
        `      held-out tail check at ${h.fmr.toExponential(0)}: threshold ${h.threshold.toFixed(3)} fitted on ${h.fitPairs.toLocaleString('en')} pairs of half the families; the other half's ${h.checkPairs.toLocaleString('en')} pairs: ${h.checkAbove} above (${h.measured.toExponential(1)})`,
      );
    }
  }
  log(`   envelope (the highest 95 % upper-bounded rate of any population at each score; the gallery decides on it):`);
  const envelope = [1e-4, 1e-5, 1e-6, 1e-8, 1e-10, 1e-12].map((fmr) => {
    const threshold = env.thresholdFor(fmr);
    const tars = Object.fromEntries(measured.map((m) => [m.name, tarAt(m.genuineSorted, threshold)] as const));
    log(`   FMR ${fmr.toExponential(0).padEnd(6)} threshold ${threshold.toFixed(3)} (set by ${env.worstAt(threshold)}); TAR ${measured.map((m) => `${m.name} ${pct(tars[m.name]!, 1)}`).join(', ')}`);
    return { fmr, threshold, set_by: env.worstAt(threshold), tar_by_population: tars };
  });

  // Kin: a relative of an enrolled shopper paying alone is a face-alone match when their score
  // clears the threshold of the searched set. Narrowed by the digits the set can be one template.
  const kinScores = measured.flatMap((m) => m.kinScores);
  const byGallery: Record<string, number> = {};
  for (const n of [1, 10_000, 1_000_000]) byGallery[String(n)] = kinScores.filter((s) => s >= env.thresholdFor(o.target / n)).length;
  log(`   kin pairs (relatives, likely twins included): ${kinScores.length}; face-alone matches at the default policy: ${Object.entries(byGallery).map(([n, k]) => `${k} in a set of ${Number(n).toLocaleString('en')}`).join(', ')}`);

  const report: PopulationReport = {
    populations: measured.map((m) => ({
      name: m.name,
      impostor_pairs: m.impostorPairs,
      genuine_pairs: m.genuinePairs,
      'tar_at_fmr_1e-4': at(m, 1e-4).tar,
      'tar_at_fmr_1e-5': at(m, 1e-5).tar,
      'tar_at_fmr_1e-6': at(m, 1e-6).tar,
      'threshold_at_fmr_1e-4': at(m, 1e-4).threshold,
      'threshold_at_fmr_1e-5': at(m, 1e-5).threshold,
      'threshold_at_fmr_1e-6': at(m, 1e-6).threshold,
      'fmr_at_lfw_threshold_1e-5': rateAt(m, lfwT(1e-5)),
      'fmr_at_lfw_threshold_1e-6': rateAt(m, lfwT(1e-6)),
      held_out: m.heldOut,
    })),
    envelope,
    kin_pairs: kinScores.length,
    kin_face_alone_matches: byGallery['1']!,
    kin_face_alone_matches_by_gallery: byGallery,
    skipped,
  };
  return { report, files };
}

