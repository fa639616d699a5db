/**
 * Does the passive model hold across cameras? The shipped colour-texture regression
 * (models/liveness-pad.json, trained on ../shared/datasets/pad alone) and the same features
 * retrained on pad plus the real clips of ../shared/datasets/video, measured leave-one-clip-out:
 * for each clip, a model fitted on the pad training folds and every other clip (penalty and
 * threshold chosen by grouped CV inside that training data, threshold at 5 % BPCER of its
 * out-of-fold genuine scores), scored on the frames of the held-out clip only; and one model fitted on
 * the pad training folds and all clips, scored on the held-out pad folds (stills it was not
 * trained on). Only numbers are printed or cached; no image is written.
 *
 *   node --import tsx server/bench/liveness-passive.ts [--every N] [--json]
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createAnalyzer } from '../src/face/analyzer.ts';
import { faceConfig } from '../src/face/config.ts';
import { applyLogistic, LIVENESS_CROP, livenessCrop, loadHumanPadModels, loadLivenessModel, passiveSignals, type PassiveLiveness } from '../src/face/liveness.ts';
import { packageVersion } from '../src/face/runtime.ts';
import { datasetsDir, repoRoot } from '../src/platform/index.ts';
import { collectPad, fitPad, FOLDS, GROUP_THRESHOLD, groupFolds, HELDOUT_FOLDS, identityGroups, MODEL_FEATURES, padRates, padSignals, SEED } from './train-liveness.ts';

const argv = process.argv.slice(2);
const json = argv.includes('--json');
const every = Number(argv[argv.indexOf('--every') + 1] ?? 0) || 3;
const log = (s = ''): void => void (json ? process.stderr : process.stdout).write(`${s}\n`);
const pct = (x: number): string => (Number.isFinite(x) ? `${(100 * x).toFixed(1)} %` : 'n/a');
const ds = datasetsDir();
const VIDEO = join(ds, 'video');

interface ClipRow {
  clip: string;
  frame: number;
  live: boolean;
  signals: Record<string, number> | null;
}
const clips = readFileSync(join(VIDEO, 'MANIFEST.tsv'), 'utf8')
  .trim()
  .split('\n')
  .slice(1)
  .map((l) => l.split('\t'))
  .map((c) => ({ name: c[0]!, frames: Number(c[6]), live: c[10] === 'live' }));

// ---------- the clips' frames: features as the engine computes them, cached as numbers ----------
const config = faceConfig({ embedder: 'faceapi-resnet128', mirrorAverage: false });
const version = `human ${packageVersion('@vladmandic/human')}, detect ${config.detectSidePx}, crop ${JSON.stringify(LIVENESS_CROP)}, every ${every}`;
const cacheDir = join(repoRoot, '.bench-cache/face');
const cacheFile = join(cacheDir, 'video-passive.json');
let rows: ClipRow[] = [];
if (existsSync(cacheFile)) {
  const c = JSON.parse(readFileSync(cacheFile, 'utf8')) as { version: string; rows: ClipRow[] };
  if (c.version === version) rows = c.rows;
}
if (rows.length === 0) {
  const human = await loadHumanPadModels();
  let last: Record<string, number> | null = null;
  const recorder: PassiveLiveness = {
    async score(frame, points) {
      const crop = livenessCrop(frame, points);
      const { signals, texture } = passiveSignals(crop, await human.scores(crop));
      last = { ...signals, ...texture };
      return { score: 0, live: false, model: 'recorder', signals: {} };
    },
  };
  const analyzer = await createAnalyzer(config, { liveness: recorder });
  for (const clip of clips) {
    for (let i = 0; i < clip.frames; i += every) {
      last = null;
      await analyzer.analyze(readFileSync(join(VIDEO, clip.name, `frame_${String(i + 1).padStart(5, '0')}.jpg`)), { purpose: 'inspect', embedding: 'check' });
      rows.push({ clip: clip.name, frame: i, live: clip.live, signals: last });
    }
    log(`  ${clip.name}: ${rows.filter((r) => r.clip === clip.name).length} frames`);
  }
  await analyzer.close();
  mkdirSync(cacheDir, { recursive: true });
  writeFileSync(cacheFile, JSON.stringify({ version, rows }));
}

// ---------- pad, as train-liveness splits it ----------
const samples = await collectPad(ds, log);
const { rows: padRows } = await padSignals(ds, samples);
const padLive = samples.map((s) => s.live);
const padGroups = identityGroups(samples.map((s) => s.embedding), GROUP_THRESHOLD);
const padFold = groupFolds(padGroups, padLive, FOLDS, SEED);
const features = MODEL_FEATURES(padRows);

// One table: pad rows first, then the clips' frames (each clip one group: its person, camera and light).
const allRows = [...padRows, ...rows.map((r) => r.signals)];
const allLive = [...padLive, ...rows.map((r) => r.live)];
const clipIndex = new Map(clips.map((c, k) => [c.name, k]));
const allGroups = [...padGroups, ...rows.map((r) => 1_000_000 + clipIndex.get(r.clip)!)];
const padTrain = samples.map((_, i) => i).filter((i) => !HELDOUT_FOLDS.includes(padFold[i]!));
const padTest = samples.map((_, i) => i).filter((i) => HELDOUT_FOLDS.includes(padFold[i]!));
const off = samples.length;

const shipped = loadLivenessModel();
interface ClipResult {
  clip: string;
  live: boolean;
  frames: number;
  shipped_accepted: number | null;
  retrained_accepted: number;
  retrained_threshold: number;
}
const perClip: ClipResult[] = [];
log(`passive model across cameras: ${rows.length} frames of ${clips.length} clips (every ${every}th), pad ${samples.length} stills; ${features.length} features`);
log(`${'clip'.padEnd(20)}${'kind'.padEnd(8)}${'frames'.padStart(7)}${'shipped accepts'.padStart(17)}${'retrained (LOCO) accepts'.padStart(26)}`);
for (const clip of clips) {
  const mine = rows.map((r, k) => (r.clip === clip.name && r.signals ? off + k : -1)).filter((k) => k >= 0);
  const train = [...padTrain, ...rows.map((r, k) => (r.clip !== clip.name ? off + k : -1)).filter((k) => k >= 0)];
  const fit = fitPad(allRows, allLive, allGroups, train, features, SEED);
  const acc = mine.filter((k) => applyLogistic(fit.model, allRows[k]!) >= fit.threshold).length / Math.max(1, mine.length);
  const accShipped = shipped ? mine.filter((k) => applyLogistic(shipped, allRows[k]!) >= shipped.threshold).length / Math.max(1, mine.length) : null;
  perClip.push({ clip: clip.name, live: clip.live, frames: mine.length, shipped_accepted: accShipped, retrained_accepted: acc, retrained_threshold: fit.threshold });
  log(`${clip.name.padEnd(20)}${(clip.live ? 'live' : 'attack').padEnd(8)}${String(mine.length).padStart(7)}${pct(accShipped ?? Number.NaN).padStart(17)}${pct(acc).padStart(26)}`);
}
const pooled = (live: boolean, key: 'shipped_accepted' | 'retrained_accepted'): number => {
  const xs = perClip.filter((c) => c.live === live && c.frames > 0);
  const n = xs.reduce((a, c) => a + c.frames, 0);
  return xs.reduce((a, c) => a + (c[key] ?? 0) * c.frames, 0) / Math.max(1, n);
};
const clipBpcer = { shipped: 1 - pooled(true, 'shipped_accepted'), retrained: 1 - pooled(true, 'retrained_accepted') };
const clipApcer = { shipped: pooled(false, 'shipped_accepted'), retrained: pooled(false, 'retrained_accepted') };
log(`clip frames, pooled: BPCER shipped ${pct(clipBpcer.shipped)}, retrained ${pct(clipBpcer.retrained)}; APCER shipped ${pct(clipApcer.shipped)}, retrained ${pct(clipApcer.retrained)} (each clip scored by a model not trained on it)`);

// Held-out pad stills: a model fitted on the pad training folds and every clip.
const full = fitPad(allRows, allLive, allGroups, [...padTrain, ...rows.map((_, k) => off + k)], features, SEED);
const padHeld = padRates(padTest.map((i) => (padRows[i] ? applyLogistic(full.model, padRows[i]!) : null)), padTest.map((i) => padLive[i]!), full.threshold);
const padShipped = shipped ? padRates(padTest.map((i) => (padRows[i] ? applyLogistic(shipped, padRows[i]!) : null)), padTest.map((i) => padLive[i]!), shipped.threshold) : null;
log(`held-out pad stills (${padHeld.genuine} genuine, ${padHeld.attacks} attacks): retrained APCER ${pct(padHeld.apcer)}, BPCER ${pct(padHeld.bpcer)}, AUC ${padHeld.auc.toFixed(3)} (threshold ${full.threshold.toFixed(4)}); shipped APCER ${pct(padShipped?.apcer ?? Number.NaN)}, BPCER ${pct(padShipped?.bpcer ?? Number.NaN)}`);
if (json) process.stdout.write(JSON.stringify({ every, per_clip: perClip, clip_bpcer: clipBpcer, clip_apcer: clipApcer, pad_heldout: { retrained: padHeld, shipped: padShipped, threshold: full.threshold } }) + '\n');
