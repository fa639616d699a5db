/**
 * Trains and measures the passive presentation-attack detector shipped as
 * server/src/face/models/liveness-pad.json, on ../shared/datasets/pad (or $FACEPAY_DATASETS/pad).
 *
 *   node --import tsx server/bench/train-liveness.ts [--no-write] [--no-cv] [--check] [--json]
 *
 * --check measures the written model again through the engine on the held-out images.
 *
 * 1. every image once through the analyser (detection, five points, Human's antispoof/liveness
 *    scores, a check embedding for grouping): cached as numbers only in .bench-cache/face/;
 * 2. the colour-texture features of the liveness crop (pad-features.ts), from the decoded frame;
 * 3. identity groups (file names carry no subject or session, so faces are grouped by embedding),
 *    a stratified split by group with a fixed seed: 60 % train, 40 % held out;
 * 4. logistic regression on the training part, threshold at 5 % BPCER of the training part,
 *    APCER / BPCER / AUC on the held-out part; 5-fold grouped cross-validation for stability;
 * 5. the model written to server/src/face/models/liveness-pad.json.
 * No image or piece of one is written or logged.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createAnalyzer } from '../src/face/analyzer.ts';
import { cosine, type FivePoints } from '../src/face/align.ts';
import { faceConfig } from '../src/face/config.ts';
import { decodeImage, type Frame } from '../src/face/decode.ts';
import {
  applyLogistic,
  LIVENESS_CROP,
  livenessCrop,
  livenessModelPath,
  loadHumanPadModels,
  loadLivenessModel,
  passiveSignals,
  trainLogistic,
  type LogisticModel,
  type PassiveLiveness,
} from '../src/face/liveness.ts';
import { packageVersion } from '../src/face/runtime.ts';
import { datasetsDir, Progress, repoRoot } from '../src/platform/index.ts';
import { lowerBound } from './face-stats.ts';

export interface PadSample {
  /** dataset-relative path, e.g. pad/live/0001.jpg */
  path: string;
  live: boolean;
  /** null when no face was found (counts as not accepted: an attack stopped, a genuine user rejected) */
  points: FivePoints | null;
  antispoof: number;
  liveness: number;
  embedding: number[] | null;
}

const r5 = (x: number): number => Math.round(x * 1e5) / 1e5;

/** Stage 1: detection, points, Human scores and a check embedding per image, cached as numbers. */
export async function collectPad(ds: string, log: (s: string) => void): Promise<PadSample[]> {
  const files = (['live', 'spoof'] as const).flatMap((k) =>
    readdirSync(join(ds, 'pad', k))
      .filter((f) => /\.(jpe?g|png)$/i.test(f))
      .sort()
      .map((f) => ({ path: `pad/${k}/${f}`, live: k === 'live' })),
  );
  const config = faceConfig({ embedder: 'faceapi-resnet128', mirrorAverage: false });
  // The cache holds landmarks, Human scores and embeddings; it is reused only for the same packages,
  // detection size and liveness crop (delete it after changing the detection code itself).
  const version = `human ${packageVersion('@vladmandic/human')}, detect ${config.detectSidePx}, faceapi-resnet128, crop ${JSON.stringify(LIVENESS_CROP)}`;
  const cacheDir = join(repoRoot, '.bench-cache/face');
  const cacheFile = join(cacheDir, 'pad-liveness.jsonl');
  const have = new Map<string, PadSample>();
  if (existsSync(cacheFile)) {
    const lines = readFileSync(cacheFile, 'utf8').trim().split('\n');
    if (lines[0] === JSON.stringify({ version })) for (const l of lines.slice(1)) { const s = JSON.parse(l) as PadSample; have.set(s.path, s); }
  }
  const todo = files.filter((f) => !have.has(f.path));
  if (todo.length) {
    log(`pad: analysing ${todo.length} images (${have.size} cached)`);
    const human = await loadHumanPadModels();
    let last: { points: FivePoints; antispoof: number; liveness: number } | null = null;
    const recorder: PassiveLiveness = {
      async score(frame, points) {
        last = { points, ...(await human.scores(livenessCrop(frame, points))) };
        return { score: 0, live: false, model: 'recorder', signals: {} };
      },
    };
    const analyzer = await createAnalyzer(config, { liveness: recorder });
    const progress = new Progress('pad', todo.length);
    for (const f of todo) {
      last = null;
      const a = await analyzer.analyze(readFileSync(join(ds, f.path)), { purpose: 'inspect', embedding: 'check' });
      const got = last as { points: FivePoints; antispoof: number; liveness: number } | null;
      have.set(f.path, {
        path: f.path,
        live: f.live,
        points: got ? (Object.fromEntries(Object.entries(got.points).map(([k, p]) => [k, [r5(p[0]), r5(p[1])]])) as unknown as FivePoints) : null,
        antispoof: got ? r5(got.antispoof) : 0,
        liveness: got ? r5(got.liveness) : 0,
        embedding: a.checkEmbedding ? Array.from(a.checkEmbedding, r5) : null,
      });
      progress.tick();
    }
    progress.finish();
    await analyzer.close();
    mkdirSync(cacheDir, { recursive: true });
    writeFileSync(cacheFile, [JSON.stringify({ version }), ...files.map((f) => JSON.stringify(have.get(f.path)))].join('\n') + '\n');
  }
  return files.map((f) => have.get(f.path)!);
}

/** The decoded frame of a dataset image, as the engine decodes it (kept in memory only). */
export async function padFrame(ds: string, path: string): Promise<Frame> {
  return decodeImage(readFileSync(join(ds, path)), faceConfig());
}

/** The features of every sample with a face (null without one), computed as the engine computes them. */
export async function padSignals(ds: string, samples: PadSample[]): Promise<{ rows: (Record<string, number> | null)[]; msPerFace: number }> {
  const rows: (Record<string, number> | null)[] = [];
  const progress = new Progress('pad features', samples.length);
  let ms = 0;
  let n = 0;
  for (const s of samples) {
    if (!s.points) {
      rows.push(null);
      progress.tick();
      continue;
    }
    const frame = await padFrame(ds, s.path);
    const t = performance.now();
    const crop = livenessCrop(frame, s.points);
    const { signals, texture } = passiveSignals(crop, { antispoof: s.antispoof, liveness: s.liveness });
    ms += performance.now() - t;
    n++;
    rows.push({ ...signals, ...texture });
    progress.tick();
  }
  progress.finish();
  return { rows, msPerFace: ms / Math.max(1, n) };
}

/**
 * Identity groups by average-linkage clustering of the check embeddings: clusters merge while the
 * mean cosine between them is at least `threshold`. A sample without an embedding is its own group.
 */
export function identityGroups(embeddings: (number[] | null)[], threshold: number): number[] {
  const idx = embeddings.map((e, i) => (e ? i : -1)).filter((i) => i >= 0);
  const clusters = idx.map((i) => [i]);
  const sim = idx.map((i) => idx.map((j) => cosine(embeddings[i]!, embeddings[j]!)));
  for (;;) {
    let bi = -1;
    let bj = -1;
    let best = -Infinity;
    for (let i = 0; i < clusters.length; i++) for (let j = i + 1; j < clusters.length; j++) if (sim[i]![j]! > best) [best, bi, bj] = [sim[i]![j]!, i, j];
    if (bi < 0 || best < threshold) break;
    const na = clusters[bi]!.length;
    const nb = clusters[bj]!.length;
    for (let k = 0; k < clusters.length; k++) {
      if (k === bi || k === bj) continue;
      const v = (sim[bi]![k]! * na + sim[bj]![k]! * nb) / (na + nb);
      sim[bi]![k] = v;
      sim[k]![bi] = v;
    }
    clusters[bi] = clusters[bi]!.concat(clusters[bj]!);
    clusters.splice(bj, 1);
    sim.splice(bj, 1);
    for (const r of sim) r.splice(bj, 1);
  }
  const out = embeddings.map((_, i) => -1 - i);
  clusters.forEach((c, k) => c.forEach((i) => (out[i] = k)));
  return out;
}

/** A small deterministic generator (LCG), enough to shuffle groups with a fixed seed. */
function lcg(seed: number): () => number {
  let x = seed >>> 0;
  return () => (x = (Math.imul(x, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

/**
 * Stratified group folds: whole groups go to one fold, largest first (ties in seeded random order),
 * each to the fold that keeps the genuine and attack shares of every fold closest to 1/k.
 */
export function groupFolds(groups: number[], live: boolean[], k: number, seed: number): number[] {
  const rand = lcg(seed);
  const info = new Map<number, { id: number; live: number; attack: number; r: number }>();
  groups.forEach((g, i) => {
    const x = info.get(g) ?? { id: g, live: 0, attack: 0, r: 0 };
    if (live[i]) x.live++;
    else x.attack++;
    info.set(g, x);
  });
  const list = [...info.values()].sort((a, b) => a.id - b.id);
  for (const x of list) x.r = rand();
  list.sort((a, b) => b.live + b.attack - (a.live + a.attack) || a.r - b.r);
  const L = live.filter(Boolean).length || 1;
  const A = live.length - L || 1;
  const fl = new Array<number>(k).fill(0);
  const fa = new Array<number>(k).fill(0);
  const fold = new Map<number, number>();
  for (const x of list) {
    let best = 0;
    let cost = Infinity;
    for (let f = 0; f < k; f++) {
      const c = ((fl[f]! + x.live) / L) ** 2 + ((fa[f]! + x.attack) / A) ** 2 - (fl[f]! / L) ** 2 - (fa[f]! / A) ** 2;
      if (c < cost - 1e-12) [cost, best] = [c, f];
    }
    fold.set(x.id, best);
    fl[best]! += x.live;
    fa[best]! += x.attack;
  }
  return groups.map((g) => fold.get(g)!);
}

export interface PadRates {
  /** attacks accepted, of the attacks with a face found */
  apcer: number;
  /** genuine rejected, of the genuine captures with a face found */
  bpcer: number;
  /** BPCER when a genuine capture without a face found also counts as rejected */
  bpcerWithMisses: number;
  auc: number;
  attacks: number;
  genuine: number;
  missed: { attacks: number; genuine: number };
}

/** ISO/IEC 30107-3 at one threshold; scores are null where no face was found. */
export function padRates(scores: (number | null)[], live: boolean[], threshold: number): PadRates {
  const gen: number[] = [];
  const att: number[] = [];
  let missG = 0;
  let missA = 0;
  scores.forEach((s, i) => {
    if (s === null) {
      if (live[i]) missG++;
      else missA++;
    } else (live[i] ? gen : att).push(s);
  });
  const sortedAtt = [...att].sort((a, b) => a - b);
  let wins = 0;
  for (const g of gen) {
    // attacks below g, plus half the ties
    const lo = lowerBound(sortedAtt, g);
    let eq = lo;
    while (eq < sortedAtt.length && sortedAtt[eq] === g) eq++;
    wins += lo + (eq - lo) / 2;
  }
  const rejected = gen.filter((x) => x < threshold).length;
  return {
    apcer: att.filter((x) => x >= threshold).length / Math.max(1, att.length),
    bpcer: rejected / Math.max(1, gen.length),
    bpcerWithMisses: (rejected + missG) / Math.max(1, gen.length + missG),
    auc: wins / Math.max(1, gen.length * att.length),
    attacks: att.length,
    genuine: gen.length,
    missed: { attacks: missA, genuine: missG },
  };
}

/** The signals the shipped model uses: the two Human scores, the scalar statistics and the colour-LBP histograms. */
export const MODEL_FEATURES = (rows: (Record<string, number> | null)[]): string[] => Object.keys(rows.find((r) => r) ?? {});
/** The nine signals of the previous model (pad-logistic-v1), kept as a baseline. */
export const OLD_FEATURES = ['antispoof', 'liveness', 'saturation_mean', 'saturation_sd', 'luma_sd', 'texture', 'highlights', 'red_green', 'blue_green'];

const L2S = [0.03, 0.01, 0.003];
const STEPS = 1500;
/** Share of genuine training captures (out-of-fold) the threshold rejects. */
export const TARGET_BPCER = 0.05;

type Fitted = Pick<LogisticModel, 'features' | 'mean' | 'sd' | 'weights' | 'bias'>;

/**
 * Fits on the samples `train` (indices with a face): L2 penalty chosen by grouped 3-fold CV AUC
 * inside them, threshold at TARGET_BPCER of their out-of-fold genuine scores (in-sample scores
 * would be optimistic), then one fit on all of them.
 */
export function fitPad(rows: (Record<string, number> | null)[], live: boolean[], groups: number[], train: number[], features: string[], seed: number): { model: Fitted; l2: number; threshold: number; genuineOof: number[] } {
  const idx = train.filter((i) => rows[i]);
  const inner = groupFolds(idx.map((i) => groups[i]!), idx.map((i) => live[i]!), 3, seed + 1);
  let best = { l2: L2S[0]!, auc: -1, oof: [] as number[] };
  for (const l2 of L2S) {
    const oof = new Array<number>(idx.length).fill(0);
    for (let f = 0; f < 3; f++) {
      const tr = idx.filter((_, k) => inner[k] !== f);
      const m = trainLogistic(tr.map((i) => rows[i]!), tr.map((i) => live[i]!), features, l2, STEPS);
      idx.forEach((i, k) => {
        if (inner[k] === f) oof[k] = applyLogistic(m, rows[i]!);
      });
    }
    const auc = padRates(oof, idx.map((i) => live[i]!), 0.5).auc;
    if (auc > best.auc) best = { l2, auc, oof };
  }
  const genuine = best.oof.filter((_, k) => live[idx[k]!]).sort((a, b) => a - b);
  const threshold = genuine[Math.floor(TARGET_BPCER * genuine.length)] ?? 0.5;
  const model = trainLogistic(idx.map((i) => rows[i]!), idx.map((i) => live[i]!), features, best.l2, STEPS);
  return { model, l2: best.l2, threshold, genuineOof: genuine };
}

/** The threshold that rejects `bpcer` of the out-of-fold genuine training scores. */
function fitOperatingPoint(fit: { genuineOof: number[] }, bpcer: number): number {
  return fit.genuineOof[Math.floor(bpcer * fit.genuineOof.length)] ?? 0.5;
}

const sig = (x: number): number => Number(x.toPrecision(6));
function rounded(m: Fitted): Fitted {
  return { features: m.features, mean: m.mean.map(sig), sd: m.sd.map(sig), weights: m.weights.map(sig), bias: sig(m.bias) };
}

export const SEED = 20261205;
export const GROUP_THRESHOLD = 0.95;
export const FOLDS = 5;
/** Folds 0..2 train the shipped model, folds 3 and 4 (40 %) are held out. */
export const HELDOUT_FOLDS = [3, 4];

const numberOf = (path: string): number => Number(path.replace(/^.*\/(\d+)\.\w+$/, '$1'));
const pct = (x: number): string => `${(100 * x).toFixed(1)} %`;
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const sd = (xs: number[]): number => Math.sqrt(mean(xs.map((x) => (x - mean(xs)) ** 2)));

export interface PadReport {
  heldout: PadRates & { threshold: number };
  heldoutOld: PadRates;
  heldoutAntispoof: PadRates;
  cv: { auc: [number, number]; apcer: [number, number]; bpcer: [number, number] };
  msPerFace: number;
}

/**
 * The whole procedure: collect, features, groups, split, fit, measure, cross-validate; writes the
 * model to `out` unless `write` is false.
 */
export async function trainPassiveLiveness(opts: { ds: string; write: boolean; out?: string; log: (s: string) => void; cv?: boolean }): Promise<PadReport> {
  const { ds, log } = opts;
  const samples = await collectPad(ds, log);
  const live = samples.map((s) => s.live);
  const { rows, msPerFace } = await padSignals(ds, samples);
  const groups = identityGroups(samples.map((s) => s.embedding), GROUP_THRESHOLD);
  const nGroups = new Set(groups.filter((_, i) => samples[i]!.embedding)).size;
  const sizes = [...groups.filter((_, i) => samples[i]!.embedding).reduce((m, g) => m.set(g, (m.get(g) ?? 0) + 1), new Map<number, number>()).values()].sort((a, b) => b - a);
  const mixed = [...new Set(groups)].filter((g) => groups.some((x, i) => x === g && live[i]) && groups.some((x, i) => x === g && !live[i])).length;
  const fold = groupFolds(groups, live, FOLDS, SEED);
  const all = samples.map((_, i) => i);
  const train = all.filter((i) => !HELDOUT_FOLDS.includes(fold[i]!));
  const test = all.filter((i) => HELDOUT_FOLDS.includes(fold[i]!));
  const count = (ix: number[]): string => `${ix.filter((i) => live[i]).length} genuine / ${ix.filter((i) => !live[i]).length} attacks`;
  log(`pad: ${samples.length} images (${count(all)}); a face found in ${rows.filter(Boolean).length}; features ${msPerFace.toFixed(2)} ms per face`);
  log(`groups: file names are bare numbers (no subject or session); average-linkage clusters of face embeddings at cosine ${GROUP_THRESHOLD}: ${nGroups} groups of faces, largest ${sizes.slice(0, 5).join(', ')}, ${mixed} with both genuine and attack images`);
  log(`split by group, seed ${SEED}: train ${count(train)}, held out ${count(test)}`);

  const features = MODEL_FEATURES(rows);
  const fit = fitPad(rows, live, groups, train, features, SEED);
  const model = rounded(fit.model);
  const score = (m: Fitted, ix: number[]): (number | null)[] => ix.map((i) => (rows[i] ? applyLogistic(m, rows[i]!) : null));
  const heldout = { ...padRates(score(model, test), test.map((i) => live[i]!), fit.threshold), threshold: fit.threshold };
  const trainRates = padRates(score(model, train), train.map((i) => live[i]!), fit.threshold);
  const old = fitPad(rows, live, groups, train, OLD_FEATURES, SEED);
  const heldoutOld = padRates(score(old.model, test), test.map((i) => live[i]!), old.threshold);
  const heldoutAntispoof = padRates(test.map((i) => (rows[i] ? rows[i]!.antispoof! : null)), test.map((i) => live[i]!), 0.5);
  const line = (r: PadRates): string => `APCER ${pct(r.apcer)}, BPCER ${pct(r.bpcer)} (${pct(r.bpcerWithMisses)} counting the ${r.missed.genuine} genuine without a face found), AUC ${r.auc.toFixed(3)}`;
  log(`model: ${features.length} features, L2 ${fit.l2} (by grouped CV inside the training part), threshold ${fit.threshold.toFixed(4)} (${pct(TARGET_BPCER)} BPCER of the training part, out of fold)`);
  log(`  held out (${heldout.genuine} genuine, ${heldout.attacks} attacks with a face): ${line(heldout)}`);
  const genuineOof10 = fitOperatingPoint(fit, 0.1);
  const at10 = padRates(score(model, test), test.map((i) => live[i]!), genuineOof10);
  log(`  at the 10 % training BPCER point instead (threshold ${genuineOof10.toFixed(4)}): held-out APCER ${pct(at10.apcer)}, BPCER ${pct(at10.bpcer)}`);
  log(`  training part, in sample: AUC ${trainRates.auc.toFixed(3)}, APCER ${pct(trainRates.apcer)}, BPCER ${pct(trainRates.bpcer)}`);
  log(`  baselines on the same split: previous 9-signal regression ${line(heldoutOld)}; Human antispoof alone at 0.5: ${line(heldoutAntispoof)}`);

  let cv: PadReport['cv'] = { auc: [NaN, NaN], apcer: [NaN, NaN], bpcer: [NaN, NaN] };
  if (opts.cv !== false) {
    const per: PadRates[] = [];
    for (let f = 0; f < FOLDS; f++) {
      const tr = all.filter((i) => fold[i] !== f);
      const te = all.filter((i) => fold[i] === f);
      const m = fitPad(rows, live, groups, tr, features, SEED + 10 * f);
      per.push(padRates(score(m.model, te), te.map((i) => live[i]!), m.threshold));
      log(`  CV fold ${f + 1}/${FOLDS}: ${line(per[f]!)}`);
    }
    cv = { auc: [mean(per.map((r) => r.auc)), sd(per.map((r) => r.auc))], apcer: [mean(per.map((r) => r.apcer)), sd(per.map((r) => r.apcer))], bpcer: [mean(per.map((r) => r.bpcer)), sd(per.map((r) => r.bpcer))] };
    log(`${FOLDS}-fold grouped CV (each fold's threshold chosen on its training folds): AUC ${cv.auc[0].toFixed(3)} ± ${cv.auc[1].toFixed(3)}, APCER ${pct(cv.apcer[0])} ± ${pct(cv.apcer[1])}, BPCER ${pct(cv.bpcer[0])} ± ${pct(cv.bpcer[1])}`);
  }
  log('trained and measured on this one folder (one collection, its cameras and attacks): expect it to generalise poorly to other cameras; the active challenge is what stops a photo or a screen.');

  if (opts.write) {
    const r4 = (x: number): number => Math.round(x * 1e4) / 1e4;
    const out: LogisticModel = {
      name: 'pad-colour-lbp-v1',
      ...model,
      threshold: sig(fit.threshold),
      trained_on: `../shared/datasets/pad: ${train.filter((i) => rows[i]).length} of the ${train.length} training images (60 %, 3 of ${FOLDS} group folds) had a face; measured on the other ${test.length} (held out)`,
      measured: {
        heldout_apcer: r4(heldout.apcer),
        heldout_bpcer: r4(heldout.bpcer),
        heldout_bpcer_with_missed_faces: r4(heldout.bpcerWithMisses),
        heldout_auc: r4(heldout.auc),
        heldout_attacks: heldout.attacks,
        heldout_genuine: heldout.genuine,
        cv5_auc: r4(cv.auc[0]),
        cv5_apcer: r4(cv.apcer[0]),
        cv5_bpcer: r4(cv.bpcer[0]),
        previous_model_heldout_auc: r4(heldoutOld.auc),
        antispoof_alone_heldout_auc: r4(heldoutAntispoof.auc),
        l2: fit.l2,
      },
      split: {
        seed: SEED,
        grouping: `average-linkage clusters of faceapi-resnet128 check embeddings at cosine ${GROUP_THRESHOLD}; ${FOLDS} stratified group folds, folds ${HELDOUT_FOLDS.join(' and ')} held out`,
        heldout: { live: test.filter((i) => live[i]).map((i) => numberOf(samples[i]!.path)), spoof: test.filter((i) => !live[i]).map((i) => numberOf(samples[i]!.path)) },
      },
    };
    const file = opts.out ?? livenessModelPath;
    writeFileSync(file, JSON.stringify(out) + '\n');
    log(`model written to ${file.slice(repoRoot.length + 1)} (the engine loads it at start)`);
  }
  return { heldout, heldoutOld, heldoutAntispoof, cv, msPerFace };
}

/**
 * The shipped model measured through the engine itself (decode, detect, crop, Human models,
 * features, regression), without training, on every `every`-th held-out image listed in its file:
 * the bench's quick mode. With `every` above 1 the figures rest on few images.
 */
export async function measureShipped(ds: string, log: (s: string) => void, every = 1): Promise<(PadRates & { threshold: number }) | null> {
  const m = loadLivenessModel();
  if (!m?.split) return null;
  const files = [
    ...m.split.heldout.live.map((n) => ({ path: `pad/live/${String(n).padStart(4, '0')}.jpg`, live: true })),
    ...m.split.heldout.spoof.map((n) => ({ path: `pad/spoof/${String(n).padStart(4, '0')}.jpg`, live: false })),
  ].filter((_, i) => i % every === 0);
  const analyzer = await createAnalyzer(faceConfig({ embedder: 'faceapi-resnet128', mirrorAverage: false }));
  const progress = new Progress('pad (shipped model)', files.length);
  const scores: (number | null)[] = [];
  for (const f of files) {
    const a = await analyzer.analyze(readFileSync(join(ds, f.path)), { purpose: 'inspect', embedding: 'check' });
    scores.push(a.liveness ? a.liveness.score : null);
    progress.tick();
  }
  progress.finish();
  await analyzer.close();
  const r = { ...padRates(scores, files.map((f) => f.live), m.threshold), threshold: m.threshold };
  log(`shipped ${m.name} on ${every > 1 ? `every ${every}th of ` : ''}the held-out images (${r.genuine} genuine, ${r.attacks} attacks with a face): APCER ${pct(r.apcer)}, BPCER ${pct(r.bpcer)}, AUC ${r.auc.toFixed(3)}`);
  return r;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const json = argv.includes('--json');
  const log = (s = ''): void => void (json ? process.stderr : process.stdout).write(`${s}\n`);
  const ds = datasetsDir();
  if (!existsSync(join(ds, 'pad'))) {
    process.stderr.write(`train-liveness needs ${join(ds, 'pad')} (set FACEPAY_DATASETS); not found.\n`);
    process.exit(1);
  }
  const t0 = Date.now();
  const r = await trainPassiveLiveness({ ds, write: !argv.includes('--no-write'), log, cv: !argv.includes('--no-cv') });
  // The same held-out images through the engine as it runs in production, with the model just written.
  if (argv.includes('--check')) await measureShipped(ds, log);
  log(`done in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  if (json) process.stdout.write(JSON.stringify(r) + '\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
