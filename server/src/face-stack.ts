/**
 * Composition code for everything a face passes through: the face engine, the gallery, and the
 * adapters that give the shoppers and facepay modules their ports. It lives beside the composition
 * root because it is the one place allowed to know several modules at once.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import {
  analyseStream,
  challengeBars,
  checkFrameTiming,
  checkStaged,
  defaultStreamPlan,
  cosine,
  createFaceEngine,
  defaultChallengeOptions,
  issueChallenge,
  l2normalise,
  loadCalibration,
  loadPopulationCalibrations,
  withoutLabelErrors,
  type ChallengeFailure,
  type ChallengeOptions,
  type FaceAnalysis,
  type FaceEngine,
  type FrameTimingOptions,
  type StreamPlan,
} from './face/index.ts';
import type { CaptureFrame, CaptureVerdict, ChallengeSpec, FaceCheck, Identifier, ModelId } from './facepay/index.ts';
import { calibrationFromJson, Gallery, loadMasterKeys } from './gallery/index.ts';
import type { Clock, IdGenerator, Random } from './platform/index.ts';
import type { FaceEnrolmentPort, FaceTemplatePort } from './shoppers/index.ts';
import type { Db } from './storage/index.ts';

/** Failures that mean "not a live, single, unchanging face answering the challenge", as opposed to a poor capture. */
const ATTACK_SIGNS: ReadonlySet<ChallengeFailure> = new Set([
  'challenge_face_changed',
  'challenge_replayed_frame',
  'challenge_motion_missing',
  'challenge_motion_discontinuous',
  'challenge_flat_face',
  'challenge_frames_out_of_order',
]);

const MESSAGES: Record<ChallengeFailure, string> = {
  challenge_too_few_frames: 'Too few pictures arrived. Please try again.',
  challenge_too_many_frames: 'Too many pictures arrived. Please try again.',
  challenge_expired: 'That took too long. Please try again.',
  challenge_frames_out_of_order: 'The pictures arrived out of order.',
  challenge_no_face: 'We lost sight of your face. Keep it in the frame and try again.',
  challenge_face_changed: 'The face changed during the check.',
  challenge_replayed_frame: 'The same picture was sent twice.',
  challenge_not_frontal: 'Start by looking straight at the camera.',
  challenge_motion_missing: 'We did not see the movement that was asked for.',
  challenge_motion_discontinuous: 'The movement jumped instead of turning smoothly. Please turn slowly.',
  challenge_flat_face: 'We could not see a real head turning.',
  challenge_frames_sparse: 'The camera sent too few pictures. Please try again.',
};


export interface FaceStack {
  engine: FaceEngine;
  gallery: Gallery;
  model: ModelId;
  faceCheck: FaceCheck;
  enrolment: FaceEnrolmentPort;
  templates: FaceTemplatePort;
  identifier: Identifier;
  /** True when the gallery runs on the generated development master key. */
  developmentKey: boolean;
  close(): Promise<void>;
}

export interface FaceStackDeps {
  db: Db;
  dataDir: string;
  env: NodeJS.ProcessEnv;
  /** Decide on this one measured population instead of the envelope of all (FACEPAY_CALIBRATION_POPULATION). */
  calibrationPopulation?: string;
  clock: Clock;
  ids: IdGenerator;
  random: Random;
  workers: number;
  /** The gallery's latency budget for one partition's exact scan (FACEPAY_SEARCH_BUDGET_MS). */
  searchBudgetMs?: number;
  /** The gallery partitions this process loads and searches (FACEPAY_GALLERY_PARTITIONS); default all. */
  servedPartitions?: readonly string[];
  /** The embedder (FACEPAY_FACE_MODEL); the face engine's default when absent. */
  model?: string;
  /** Progress of the index build goes here; null keeps quiet (tests). */
  progressOut?: NodeJS.WriteStream | null;
  /** The liveness challenge's settings, e.g. only the kinds a test's fake camera can perform. */
  challenge?: Partial<ChallengeOptions>;
  /** How densely the answer must be filmed (defaults in face/challenge.ts). */
  frameTiming?: Partial<FrameTimingOptions>;
  /** How the stream is spread over the engine's two passes (defaults in face/sequence.ts); read at each answer. */
  streamPlan?: Partial<StreamPlan>;
  /** Told the time of each frame analysis (for /metrics), by its queue and whether it failed. */
  onAnalysis?: (a: { priority: string; ms: number; failed: boolean }) => void;
}


/**
 * Analyses the stream in two passes (analyseStream in face/sequence.ts: every third frame, then
 * every frame around each stretch where the face leaves the frontal pose) and checks the challenge
 * on the frames analysed; answers the frontal frames' analyses when it passed. `probe` says which
 * frames need the template-comparable embedding: for an enrolment, the coarse pass's frames (every
 * third frame of the stream and the last; its templates are chosen among the frontal ones); for a
 * payment, only the two frontal ends of the answer the check found (where the turn began and where
 * it came back), embedded once the check has passed: their mirrored crops only, on the landmarks and
 * beside the check embedding of their first analysis. Those embeddings cost a mirror pass of the
 * embedder each; the other frames need only the one-pass vector the same-face check compares.
 * The passive liveness score is not part of the decision, so its model is not run.
 */
async function checkFrames(
  engine: FaceEngine,
  challenge: ChallengeSpec,
  frames: readonly CaptureFrame[],
  opts: Partial<ChallengeOptions>,
  probe: 'all' | 'ends',
  timing: { arrivedAt: number; opts: Partial<FrameTimingOptions> },
  plan: StreamPlan,
): Promise<{ ok: true; frontal: FaceAnalysis[] } | { ok: false; liveness: boolean; code: string; message: string }> {
  // Late, sparse or disordered answers are refused on their times alone, before the engine is asked anything.
  const ats = frames.map((f) => f.at);
  const late = checkFrameTiming(challenge, ats, timing.arrivedAt, timing.opts);
  if (late !== null) return { ok: false, liveness: ATTACK_SIGNS.has(late), code: late, message: MESSAGES[late] };
  const priority = probe === 'all' ? 'enrolment' : 'payment';
  const hashes = frames.map((f) => createHash('sha256').update(f.image).digest('hex'));
  const analysed = await analyseStream<FaceAnalysis>(
    challenge,
    ats,
    hashes,
    // The enrolment's templates come from the coarse pass's frames, embedded in full there.
    (i, pass) => engine.analyze(frames[i]!.image, { purpose: 'inspect', liveness: false, embedding: probe === 'all' && pass === 'coarse' ? 'model' : 'check', priority }),
    opts,
    plan,
  );
  const result = checkStaged(challenge, ats, analysed, timing.arrivedAt, opts, timing.opts);
  if (result.reason === 'multiple_faces')
    return { ok: false, liveness: false, code: 'multiple_faces', message: 'Only one person should be in front of the camera.' };
  const verdict = result.verdict;
  if (!result.passed || verdict === null || verdict.window === null) {
    const reason = (result.reason ?? 'challenge_motion_missing') as ChallengeFailure;
    return { ok: false, liveness: ATTACK_SIGNS.has(reason), code: reason, message: MESSAGES[reason] };
  }
  const frontalYaw = opts.frontalYawDeg ?? defaultChallengeOptions.frontalYawDeg;
  const isFrontal = (a: FaceAnalysis): boolean => a.embedding !== null && a.error === null && Math.abs(a.quality?.pose.yaw ?? 90) <= frontalYaw;
  if (probe === 'ends') {
    // The ends were analysed already: only their mirrored crops are embedded now, on the landmarks
    // found then, for the mirror-averaged embedding templates are compared with.
    const [from, to] = verdict.window;
    const ends = await Promise.all(
      [...new Set([from, to])].map(async (i) => {
        const seen = analysed.get(i)!;
        const face = seen.faces[0];
        if (face === undefined || seen.checkEmbedding === null) return seen;
        const m = await engine.analyze(frames[i]!.image, { purpose: 'inspect', liveness: false, priority, mirrorOf: { landmarks: face.landmarks, checkEmbedding: seen.checkEmbedding } });
        return { ...seen, embedding: m.embedding };
      }),
    );
    const frontal = ends.filter(isFrontal);
    if (frontal.length === 0) return { ok: false, liveness: false, code: 'challenge_not_frontal', message: MESSAGES.challenge_not_frontal };
    return { ok: true, frontal };
  }
  const frontal = [...analysed.keys()].sort((a, b) => a - b).map((i) => analysed.get(i)!).filter(isFrontal);
  if (frontal.length === 0) return { ok: false, liveness: false, code: 'challenge_not_frontal', message: MESSAGES.challenge_not_frontal };
  return { ok: true, frontal };
}

/** The mean of the frontal frames' embeddings: steadier than any single frame. */
export function meanEmbedding(vectors: readonly Float32Array[]): Float32Array {
  const first = vectors[0];
  if (first === undefined) throw new Error('no vectors');
  const sum = new Float32Array(first.length);
  for (const v of vectors) for (let i = 0; i < v.length; i++) sum[i] = sum[i]! + v[i]!;
  return l2normalise(sum);
}

/** The engine with each analysis timed for the caller's hook (the engine itself stays unaware of metrics). */
function observed(engine: FaceEngine, hook: FaceStackDeps['onAnalysis']): FaceEngine {
  if (hook === undefined) return engine;
  return {
    ...engine,
    model: engine.model,
    async analyze(image, opts) {
      const t0 = performance.now();
      let failed = true;
      try {
        const r = await engine.analyze(image, opts);
        failed = false;
        return r;
      } finally {
        hook({ priority: opts.priority ?? 'background', ms: performance.now() - t0, failed });
      }
    },
  };
}

/** The partition the platform enrols shoppers in (the gallery's own default). */
const DEFAULT_PARTITION = 'default';

/** The start log's line naming what this process holds in memory. */
export function servedPartitionsLine(served: readonly string[] | undefined): string {
  return served === undefined
    ? 'gallery: this process serves partitions: all (FACEPAY_GALLERY_PARTITIONS unset)'
    : `gallery: this process serves partitions: ${served.join(', ')} (FACEPAY_GALLERY_PARTITIONS)`;
}

export async function createFaceStack(deps: FaceStackDeps): Promise<FaceStack> {
  const engine = observed(await createFaceEngine({ workers: deps.workers, ...(deps.model ? { embedder: deps.model } : {}) }), deps.onAnalysis);
  // The engine's version names the weights and the crop geometry: templates of another never mix.
  const model = { name: engine.model.name, version: engine.model.version };
  const keys = loadMasterKeys(deps.env, deps.dataDir, deps.random);
  const calibration = withoutLabelErrors(loadCalibration(model.name));
  const out = deps.progressOut === undefined ? process.stderr : deps.progressOut;
  // The gallery decides on the envelope of every population measured for the model, so that no
  // stated risk is lower than a measured population shows; one population only by configuration.
  const [decideOn, ...morePopulations] = loadPopulationCalibrations(model.name, deps.calibrationPopulation);
  if (deps.calibrationPopulation !== undefined) {
    out?.write(
      `warning: face matches decide on the ${deps.calibrationPopulation} population only (FACEPAY_CALIBRATION_POPULATION); the risks they state are not measured for other people\n`,
    );
  }
  const gallery = new Gallery({
    db: deps.db,
    masterKeys: keys.ring,
    model,
    dim: engine.model.dim,
    calibration: calibrationFromJson(decideOn),
    populations: morePopulations.map((c) => calibrationFromJson(c)),
    clock: deps.clock,
    ids: deps.ids,
    random: deps.random,
    snapshotDir: join(deps.dataDir, 'gallery'),
    progressOut: out,
    ...(deps.searchBudgetMs !== undefined ? { searchBudgetMs: deps.searchBudgetMs } : {}),
    ...(deps.servedPartitions !== undefined ? { servedPartitions: deps.servedPartitions } : {}),
  });
  out?.write(`${servedPartitionsLine(deps.servedPartitions)}\n`);
  if (deps.servedPartitions !== undefined && !deps.servedPartitions.includes(DEFAULT_PARTITION)) {
    // Stores carry no partition yet, so the platform enrols every shopper in the default one and
    // a terminal searches every partition its process serves: say plainly what that means here.
    out?.write(
      `warning: gallery partition ${DEFAULT_PARTITION}, where this platform enrols shoppers, is not served by this process: its terminals will not find them (enrolments are still written to the database)\n`,
    );
  }
  const started = await gallery.start();
  if (gallery.rewrapped.length > 0) {
    const retired = keys.retiredDevelopmentKey;
    const fromDev = retired !== undefined && gallery.rewrapped.some((r) => r.from === retired.id);
    out?.write(
      `gallery: re-wrapped ${gallery.rewrapped.length} data key(s) with FACEPAY_MASTER_KEY (${keys.ring.current.id}), from ${[...new Set(gallery.rewrapped.map((r) => r.from))].join(', ')}\n` +
        (fromDev
          ? `gallery: the development key ${retired.file} no longer protects anything in this database; delete it (keep it apart only to restore a backup made before now)\n`
          : ''),
    );
  }
  for (const u of started.unsearchable) {
    out?.write(
      `gallery: ${u.shoppers} shopper(s) enrolled only with ${u.modelName} ${u.modelVersion} cannot be found by ${model.name} ${model.version}; they must enrol their face again\n`,
    );
  }

  const challengeOptions: Partial<ChallengeOptions> = { ...challengeBars(calibration, engine.model.sameFaceFmr), ...deps.challenge };
  // Read at each answer: bench:facepay alternates plans within one run to compare them under the same load.
  const plan = (): StreamPlan => ({ ...defaultStreamPlan, ...deps.streamPlan });
  const challenge = (): ChallengeSpec => issueChallenge(deps.random, deps.clock, challengeOptions);

  const faceCheck: FaceCheck = {
    issueChallenge: challenge,
    async verify(c, frames, arrivedAt): Promise<CaptureVerdict> {
      const r = await checkFrames(engine, c, frames, challengeOptions, 'ends', { arrivedAt, opts: deps.frameTiming ?? {} }, plan());
      if (!r.ok) return r;
      return { ok: true, embedding: meanEmbedding(r.frontal.map((a) => a.embedding!)), model };
    },
  };

  const enrolment: FaceEnrolmentPort = {
    issueChallenge: challenge,
    async templatesFor(c, frames) {
      const r = await checkFrames(engine, c, frames, challengeOptions, 'all', { arrivedAt: deps.clock.now().getTime(), opts: deps.frameTiming ?? {} }, plan());
      if (!r.ok) return { ok: false, code: r.code, message: r.message };
      // Up to five templates, each as different from the ones kept as the frames allow.
      const kept: Float32Array[] = [];
      for (const a of [...r.frontal].sort((x, y) => Math.abs(x.quality!.pose.yaw) - Math.abs(y.quality!.pose.yaw))) {
        if (kept.length === 5) break;
        if (kept.every((k) => cosine(k, a.embedding!) < 0.999)) kept.push(a.embedding!);
      }
      return { ok: true, templates: kept.map((embedding) => ({ embedding, model })) };
    },
  };

  const templates: FaceTemplatePort = {
    async enrol(shopperId, list, profile) {
      // Enrolling again replaces the face: the gallery swaps the old templates for the new ones in
      // one transaction, so a failure part-way leaves the old face, never none.
      await gallery.enrol({
        shopperId,
        embeddings: list.map((t) => ({ model: t.model, vector: t.embedding })),
        phoneLast4: profile.phoneLast4,
        alwaysAsk: profile.alwaysAskDigits,
      });
    },
    async updateProfile(shopperId, profile) {
      await gallery.setOptions(shopperId, { phoneLast4: profile.phoneLast4, alwaysAsk: profile.alwaysAskDigits });
    },
    async remove(shopperId) {
      await gallery.deleteShopper(shopperId);
    },
    searchable: (shopperId) => gallery.searchable(shopperId),
    describe: (shopperId) => gallery.describeShopper(shopperId),
  };

  const identifier: Identifier = {
    async identify(probe, probeModel, opts) {
      const embedding = { model: probeModel, vector: probe };
      const d = opts.phoneLast4 === undefined ? await gallery.identify(embedding) : await gallery.identifyWithDigits(embedding, opts.phoneLast4);
      if (d.outcome === 'match') return { outcome: 'match', shopperId: d.shopperId, falseMatchProbability: d.falseMatchProbability };
      if (d.outcome === 'ambiguous') return { outcome: 'ambiguous', candidates: d.candidates };
      return { outcome: d.outcome };
    },
  };

  return {
    engine,
    gallery,
    model,
    faceCheck,
    enrolment,
    templates,
    identifier,
    developmentKey: keys.development,
    async close() {
      await gallery.snapshot().catch(() => undefined);
      await engine.close();
    },
  };
}
