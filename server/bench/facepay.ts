/**
 * npm run bench:facepay [-- --quick] [-- --json] [-- --sizes=100000,1000000] [-- --coarse-every=N] [-- --alternate]
 *
 * A face payment as the server sees it, on the whole platform (face engine, gallery, shoppers,
 * payments, ledger on SQLite), with galleries of distractors drawn from the distribution of real
 * LFW embeddings (the gallery bench's generator). Measured at the face-pay service, in process:
 *
 * - capture -> decision: from the terminal's frames arriving (the 60-frame, 5 s stream it sends at
 *   12 a second, 480 px JPEGs of real live video: see `stream`) to the answer: quality, landmarks
 *   and a one-pass embedding on the frames the face stack's two passes choose (every third frame,
 *   then every frame around the turn: face/sequence.ts; `--coarse-every=1` analyses every frame, as
 *   before the passes) for the liveness challenge, the mirror pass of the two most frontal frames
 *   around the turn (the probe), the gallery search and decision, the shopper and the offers;
 * - confirmation -> posted payment: from the shopper's tap to the payment posted in the ledger;
 * - payments per second: several terminals paying at once, the flow end to end, both cores busy.
 *
 * Two enrolled shoppers, real people in real live clips (testing/live-video.ts), pay by face (every
 * decision is counted by outcome). The platform's clock runs ahead by each stream's 5 s as it is
 * "filmed", so the server's window checks see the times a terminal would give, without waiting. Each size's
 * platform data dir (database, encrypted gallery snapshot) is cached under .bench-cache/facepay,
 * so only the first run of a size pays for filling the gallery. The real embeddings the
 * distractors are fitted on come from the face bench's LFW file when it exists, else this bench
 * embeds a sample of LFW once (about a minute) and caches the vectors (never the images).
 */
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { createPlatform, type Platform } from '../src/composition.ts';
import { loadConfig } from '../src/config/index.ts';
import type { CaptureFrame, TerminalRef } from '../src/facepay/index.ts';
import { createFaceEngine, type FaceEngine } from '../src/face/index.ts';
import { repoRoot, type Clock } from '../src/platform/index.ts';
import { LFW_IMAGES } from '../src/testing/lfw-faces.ts';
import { LIVE_SHOPPER, LIVE_STRANGER, liveClipFrames, shifted, VIDEO_CLIPS, type LiveSegment } from '../src/testing/live-video.ts';
import { digitsFor, distractors, FIT_IMAGES, loadLfw, percentile, type DistractorBasis } from './gallery.ts';

const argv = process.argv.slice(2);
const flag = (name: string): boolean => argv.includes(`--${name}`);
const opt = (name: string): string | undefined => argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
const quick = flag('quick');
const asJson = flag('json');
const sizes = (opt('sizes') ?? (quick ? '10000,100000' : '100000,1000000')).split(',').map(Number);
const SEQUENTIAL = quick ? 12 : 60;
/** The face stack's coarse step (face/sequence.ts); `--coarse-every=1` analyses every frame, as before the two passes. */
const COARSE_EVERY = opt('coarse-every') === undefined ? undefined : Number(opt('coarse-every'));
/**
 * `--alternate`: the sequential payments alternate between the shipped plan and every frame analysed
 * (coarse step 1), so that other load on the machine weighs on both alike; both are reported.
 */
const ALTERNATE = flag('alternate');
/** The face stack reads this at each answer (see openPlatform). */
const livePlan: { coarseEvery?: number } = COARSE_EVERY === undefined ? {} : { coarseEvery: COARSE_EVERY };
const LOAD_SECONDS = quick ? 8 : 30;
const TERMINALS = 4;
const cacheRoot = join(repoRoot, '.bench-cache', 'facepay');
// Not a secret: it only guards the bench's own synthetic gallery.
const BENCH_MASTER_KEY = Buffer.from('facepay bench:facepay master key!').subarray(0, 32).toString('base64');
const log = (s: string): void => void process.stderr.write(`${s}\n`);
const out = (s: string): void => void process.stdout.write(`${s}\n`);

const lfwDir = LFW_IMAGES;
if (lfwDir === undefined) {
  out('bench:facepay needs LFW under ../shared/datasets (or $FACEPAY_DATASETS): nothing measured');
  process.exit(1);
}

if (VIDEO_CLIPS === undefined) {
  out('bench:facepay needs the live video clips under ../shared/datasets/video: nothing measured');
  process.exit(1);
}

/**
 * Two people of the live clips, each looking at the camera and turning to their own left, which the
 * server is told to ask for. Enrolment and payments are different streams of them (other framing).
 */
const PEOPLE: { name: string; clip: LiveSegment }[] = [
  { name: 'Tran Walker', clip: LIVE_SHOPPER },
  { name: 'Colin Lee', clip: LIVE_STRANGER },
];

/** What the terminal sends: 60 frames at 12 a second (packages/face-capture STREAM). */
const STREAM_FRAMES = 60;
const FRAME_MS = 1000 / 12;

/**
 * The terminal's stream of one person: from the start of the clip's loop, played as the browser
 * tests' fake camera plays it (`fps` loop frames a second) and sampled 12 times a second, 480 px on
 * the longer side, shifted by a few pixels per stream as another moment at the counter would frame it.
 */
async function stream(seg: LiveSegment, shift: number): Promise<Uint8Array[]> {
  const loop = await liveClipFrames(seg);
  const rate = (seg.fps ?? 30) / 12;
  const frames: Uint8Array[] = [];
  for (let i = 0; i < STREAM_FRAMES; i++) {
    const jpeg = await shifted(loop[Math.round(i * rate) % loop.length]!, shift, shift);
    frames.push(await sharp(jpeg).resize(480, 480, { fit: 'inside' }).jpeg({ quality: 80 }).toBuffer());
  }
  return frames;
}

/** The platform's clock: real time, moved ahead by the time each stream takes to film. */
const ahead = { ms: 0 };
const benchClock: Clock = { now: () => new Date(Date.now() + ahead.ms) };

/** Capture times of a stream that began just after now, on the platform's clock, which then moves to its end. */
function filmed(images: readonly Uint8Array[]): CaptureFrame[] {
  const start = benchClock.now().getTime() + 1;
  ahead.ms += Math.ceil(images.length * FRAME_MS) + 1;
  return images.map((image, i) => ({ at: start + Math.round(i * FRAME_MS), image }));
}

// ---------------------------------------------------------------- the distractors' real basis

/**
 * Real embeddings to fit the distractor distribution on: the face bench's LFW file when it is
 * there for this model, else a sample of LFW spread over all people, embedded here once.
 */
async function basisFor(model: { name: string; version: string; dim: number }, workers: number): Promise<{ basis: DistractorBasis; source: string }> {
  const lfw = loadLfw();
  if (!lfw.synthetic && lfw.model === model.name && lfw.version === model.version) {
    return { basis: lfw, source: `${lfw.fit.length / lfw.dim} embeddings of the face bench's LFW file (the first image of each of the first people in the file)` };
  }
  const file = join(cacheRoot, `basis-${model.name}-${model.version.replace(/[^A-Za-z0-9.+-]/g, '_')}.f32`);
  if (!existsSync(file)) {
    const all = readdirSync(lfwDir!)
      .sort()
      .flatMap((person) => readdirSync(join(lfwDir!, person)).sort().map((f) => join(person, f)));
    const step = Math.max(1, Math.floor(all.length / FIT_IMAGES));
    const chosen = all.filter((_, i) => i % step === 0).slice(0, FIT_IMAGES);
    log(`# embedding ${chosen.length} LFW images (one in ${step}) for the distractor distribution; cached afterwards`);
    const engine = await createFaceEngine({ workers });
    const vectors: Float32Array[] = [];
    for (let i = 0; i < chosen.length; i += 16) {
      const batch = await Promise.all(chosen.slice(i, i + 16).map((f) => engine.analyze(readFileSync(join(lfwDir!, f)), { purpose: 'inspect' })));
      for (const a of batch) if (a.embedding) vectors.push(a.embedding);
      if (i % 160 === 0) log(`# embedded ${i + batch.length}/${chosen.length}`);
    }
    await engine.close();
    const flat = new Float32Array(vectors.length * model.dim);
    vectors.forEach((v, i) => flat.set(v, i * model.dim));
    mkdirSync(cacheRoot, { recursive: true });
    writeFileSync(file, new Uint8Array(flat.buffer));
  }
  const bytes = readFileSync(file);
  const fit = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
  return { basis: { model: model.name, dim: model.dim, fit }, source: `${fit.length / model.dim} LFW images, one in every ~13 over all people, embedded by this bench` };
}

// ---------------------------------------------------------------- one size

interface SizeResult {
  gallery_size: number;
  capture_to_decision_p50_ms: number;
  capture_to_decision_p95_ms: number;
  confirm_to_posted_p50_ms: number;
  confirm_to_posted_p95_ms: number;
  gallery_identify_p50_ms: number;
  gallery_identify_p95_ms: number;
  payments_per_s: number;
  sequential_payments: number;
  frames_per_capture: number;
  /** face-engine analyses one sequential capture asked for (both passes and the probe's ends), mean */
  analyses_per_capture: number;
  /** with --alternate: the same for the payments made between them with every frame analysed */
  every_frame_analysed: { capture_to_decision_p50_ms: number; capture_to_decision_p95_ms: number; analyses_per_capture: number; engine_ms_per_capture: number } | null;
  /** the summed time of those analyses on their workers (two run at once), queueing left out, mean ms */
  engine_ms_per_capture: number;
  decisions: Record<string, number>;
  fill_s: number | null;
  start_s: number;
}

async function openPlatform(dir: string): Promise<Platform> {
  const config = loadConfig({
    FACEPAY_DATA_DIR: dir,
    FACEPAY_FACE: '1',
    FACEPAY_FACE_WORKERS: String(cpus().length),
    FACEPAY_LOG_LEVEL: 'silent',
    FACEPAY_MASTER_KEY: BENCH_MASTER_KEY,
    FACEPAY_SHOPPER_DAILY_LIMIT: '100000000',
    // Thousands of requests from one address and a few devices: a benchmark, not an attack.
    FACEPAY_RATE_LIMITS: '0',
  });
  // Terminals paying at once each move the shared clock on by their stream's 5 s, which would expire
  // the others' challenges (10 s); the bench measures the server's work, not the window, so the
  // challenges live long here.
  return createPlatform(config, {
    clock: benchClock,
    faceChallenge: { kinds: ['turn_left'], ttlMs: 600_000 },
    faceStreamPlan: livePlan,
  });
}

async function runSize(size: number): Promise<SizeResult> {
  // The model first, to know which real embeddings the distractors must resemble.
  const probeEngine = await createFaceEngine({ workers: 0 });
  const model = { name: probeEngine.model.name, version: probeEngine.model.version, dim: probeEngine.model.dim };
  await probeEngine.close();
  const { basis, source } = await basisFor(model, cpus().length);
  log(`# size ${size}: distractors fitted on ${source}`);

  // A new model version or basis makes a new gallery: templates of another model never match.
  const fp = createHash('sha256').update(model.version).update(new Uint8Array(basis.fit.buffer, basis.fit.byteOffset, basis.fit.byteLength)).digest('hex').slice(0, 12);
  const dir = join(cacheRoot, `${model.name}-${fp}-${size}`);
  const filled = join(dir, 'filled.json');
  const t0 = performance.now();
  const platform = await openPlatform(dir);
  const startS = (performance.now() - t0) / 1000;
  const face = platform.face!;
  let fillS: number | null = null;
  if (!existsSync(filled)) {
    const dist = distractors(basis, size);
    const gmodel = { name: model.name, version: model.version };
    const tf = performance.now();
    for (let s = 0; s < size; s += 5000) {
      const inputs = [];
      for (let i = s; i < Math.min(size, s + 5000); i++)
        inputs.push({ shopperId: `dst_${i}`, embeddings: [{ model: gmodel, vector: dist.subarray(i * model.dim, (i + 1) * model.dim) }], phoneLast4: digitsFor(i) });
      await face.gallery.importMany(inputs);
      if ((s / 5000) % 20 === 0) log(`# gallery ${size}: ${Math.min(size, s + 5000)}/${size}`);
    }
    fillS = (performance.now() - tf) / 1000;
    await face.gallery.snapshot();
    writeFileSync(filled, JSON.stringify({ size, fill_s: fillS, at: new Date().toISOString() }));
  }

  const { services } = platform;
  const merchant = await services.merchants.createMerchant({ name: 'Bench Shop' });
  const store = await services.merchants.createStore(merchant.id, { name: 'Counter' });
  const terminals: TerminalRef[] = Array.from({ length: TERMINALS }, (_, i) => ({ merchantId: merchant.id, storeId: store.id, terminalId: `term_bench_${i}` }));

  // The bench's shoppers, enrolled through the portal's path; an interrupted run's are removed first.
  const leftovers = join(dir, 'shoppers.json');
  if (existsSync(leftovers)) for (const id of JSON.parse(readFileSync(leftovers, 'utf8')) as string[]) await face.gallery.deleteShopper(id);
  const shoppers: { id: string; frames: Uint8Array[] }[] = [];
  for (const [k, p] of PEOPLE.entries()) {
    const { shopper } = await services.shoppers.signUp({ email: `bench-${randomUUID()}@example.com`, password: 'bench password 1234', name: p.name, phone: `+1 555 000 ${1000 + k}` });
    writeFileSync(leftovers, JSON.stringify([...shoppers.map((s) => s.id), shopper.id]));
    await services.shoppers.acceptFacePayConsent(shopper.id, services.shoppers.consentText.version);
    const challenge = await services.shoppers.issueEnrolmentChallenge(shopper.id);
    await services.shoppers.enrolFromFrames(shopper.id, challenge.token, filmed(await stream(p.clip, 1 + k)));
    await services.funding.fund({ shopperId: shopper.id, amount: 50_000_000, currency: services.walletCurrency, reference: `bench-${shopper.id}` });
    shoppers.push({ id: shopper.id, frames: await stream(p.clip, 3 + k) });
  }

  // Each analysis the face stack asks for is counted, to tell the work a capture costs from the
  // wall time (which other load on the machine inflates).
  const engineCalls = { n: 0, ms: 0 };
  const analyze = face.engine.analyze.bind(face.engine);
  face.engine.analyze = async (image, o) => {
    const a = await analyze(image, o);
    engineCalls.n++;
    // The analysis's own time on its worker, without the wait in the engine's queue.
    engineCalls.ms += a.timings.total;
    return a;
  };
  const decisions: Record<string, number> = {};
  const pay = async (terminal: TerminalRef, who: (typeof shoppers)[number], timings?: { capture: number[]; confirm: number[] }): Promise<boolean> => {
    const intent = await services.payments.createIntent(merchant.id, { amount: 250, currency: services.walletCurrency, storeId: store.id, terminalId: terminal.terminalId });
    const { attemptId } = await services.facePay.challenge(terminal, intent.id);
    const frames = filmed(who.frames);
    const a = performance.now();
    const d = await services.facePay.capture(terminal, attemptId, frames);
    const b = performance.now();
    decisions[d.outcome] = (decisions[d.outcome] ?? 0) + 1;
    timings?.capture.push(b - a);
    if (d.outcome !== 'match') return false;
    const c = performance.now();
    const r = await services.facePay.confirm(terminal, attemptId, { paymentId: `pay_${randomUUID().replace(/-/g, '')}` });
    const e = performance.now();
    timings?.confirm.push(e - c);
    return r.status === 'succeeded';
  };

  // Warm-up, then one payment at a time: the latency a shopper at an idle counter sees.
  for (let i = 0; i < 6; i++) await pay(terminals[i % TERMINALS]!, shoppers[i % shoppers.length]!);
  const timings = { capture: [] as number[], confirm: [] as number[] };
  const before = { ...engineCalls };
  const everyFrame = { capture: [] as number[], confirm: [] as number[], n: 0, ms: 0 };
  for (let i = 0; i < SEQUENTIAL; i++) {
    if (!ALTERNATE) {
      await pay(terminals[0]!, shoppers[i % shoppers.length]!, timings);
      continue;
    }
    // Each shopper pays once with each plan, in turn.
    for (const every of [undefined, 1]) {
      if (every === undefined) delete livePlan.coarseEvery;
      else livePlan.coarseEvery = every;
      const c0 = { ...engineCalls };
      await pay(terminals[0]!, shoppers[i % shoppers.length]!, every === undefined ? timings : everyFrame);
      if (every === undefined) continue;
      everyFrame.n += engineCalls.n - c0.n;
      everyFrame.ms += engineCalls.ms - c0.ms;
      engineCalls.n = c0.n;
      engineCalls.ms = c0.ms;
    }
    delete livePlan.coarseEvery;
  }
  const perCapture = { n: (engineCalls.n - before.n) / SEQUENTIAL, ms: (engineCalls.ms - before.ms) / SEQUENTIAL };
  const alternated = ALTERNATE
    ? {
        capture_to_decision_p50_ms: percentile(everyFrame.capture, 0.5),
        capture_to_decision_p95_ms: percentile(everyFrame.capture, 0.95),
        analyses_per_capture: everyFrame.n / SEQUENTIAL,
        engine_ms_per_capture: everyFrame.ms / SEQUENTIAL,
      }
    : null;

  // The gallery's share of the decision: the search and decision alone, on the shoppers' probes.
  const identifyMs: number[] = [];
  for (const s of shoppers) {
    const analyses = await Promise.all(s.frames.slice(0, 1).map((f) => face.engine.analyze(f, { purpose: 'inspect' })));
    const probe = analyses[0]!.embedding!;
    for (let i = 0; i < 50; i++) {
      const t = performance.now();
      await face.identifier.identify(probe, face.model, {});
      identifyMs.push(performance.now() - t);
    }
  }

  // Several terminals at once for a while: payments per second with every core busy.
  let done = 0;
  const until = performance.now() + LOAD_SECONDS * 1000;
  const tl = performance.now();
  await Promise.all(
    terminals.map(async (t, i) => {
      for (let k = 0; performance.now() < until; k++) if (await pay(t, shoppers[(i + k) % shoppers.length]!)) done++;
    }),
  );
  const paymentsPerS = done / ((performance.now() - tl) / 1000);

  for (const s of shoppers) await services.shoppers.deleteFace(s.id);
  writeFileSync(leftovers, '[]');
  await platform.close();
  const built = JSON.parse(readFileSync(filled, 'utf8')) as { fill_s: number };
  return {
    gallery_size: size + shoppers.length,
    capture_to_decision_p50_ms: percentile(timings.capture, 0.5),
    capture_to_decision_p95_ms: percentile(timings.capture, 0.95),
    confirm_to_posted_p50_ms: percentile(timings.confirm, 0.5),
    confirm_to_posted_p95_ms: percentile(timings.confirm, 0.95),
    gallery_identify_p50_ms: percentile(identifyMs, 0.5),
    gallery_identify_p95_ms: percentile(identifyMs, 0.95),
    payments_per_s: paymentsPerS,
    sequential_payments: timings.capture.length,
    frames_per_capture: shoppers[0]!.frames.length,
    analyses_per_capture: perCapture.n,
    engine_ms_per_capture: perCapture.ms,
    every_frame_analysed: alternated,
    decisions,
    fill_s: fillS ?? built.fill_s,
    start_s: startS,
  };
}

const cpu = cpus();
// The face analysis is CPU-bound: other work on the machine shows in every figure, so the load is printed.
const load = (): string => loadavg().map((l) => l.toFixed(2)).join(' ');
out(`machine: ${cpu[0]?.model ?? 'unknown cpu'}, ${cpu.length} cores, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, node ${process.version}; load average before: ${load()}`);
out(
  `per size: ${SEQUENTIAL} face payments one at a time (each a 60-frame stream of real live video at 12 a second, 480 px, as the terminal sends it; two enrolled shoppers), ` +
    `then ${TERMINALS} terminals paying at once for ${LOAD_SECONDS} s; face engine workers = ${cpu.length}`,
);
const results: SizeResult[] = [];
for (const size of sizes) {
  const r = await runSize(size);
  results.push(r);
  out(
    `gallery ${r.gallery_size}: ${r.frames_per_capture} frames per capture, ${r.analyses_per_capture.toFixed(1)} face analyses each (${r.engine_ms_per_capture.toFixed(0)} ms of engine time, two workers); capture -> decision p50 ${r.capture_to_decision_p50_ms.toFixed(1)} ms, p95 ${r.capture_to_decision_p95_ms.toFixed(1)} ms ` +
      `(of which the gallery's search and decision p50 ${r.gallery_identify_p50_ms.toFixed(2)} ms, p95 ${r.gallery_identify_p95_ms.toFixed(2)} ms); ` +
      `confirm -> posted p50 ${r.confirm_to_posted_p50_ms.toFixed(1)} ms, p95 ${r.confirm_to_posted_p95_ms.toFixed(1)} ms; ` +
      `${r.payments_per_s.toFixed(2)} payments/s with ${TERMINALS} terminals; decisions ${JSON.stringify(r.decisions)}; ` +
      `gallery filled in ${r.fill_s?.toFixed(1) ?? '?'} s${r.fill_s === null ? '' : ' (once, cached)'}, platform start ${r.start_s.toFixed(1)} s`,
  );
  const e = r.every_frame_analysed;
  if (e)
    out(
      `  alternating with payments that analysed every frame: those took ${e.analyses_per_capture.toFixed(1)} analyses each (${e.engine_ms_per_capture.toFixed(0)} ms of engine time), ` +
        `capture -> decision p50 ${e.capture_to_decision_p50_ms.toFixed(1)} ms, p95 ${e.capture_to_decision_p95_ms.toFixed(1)} ms`,
    );
}
const last = results[results.length - 1]!;
out(`target: capture -> decision p95 <= 250 ms at 1,000,000 templates; at ${last.gallery_size}: ${last.capture_to_decision_p95_ms.toFixed(1)} ms; load average after: ${load()}`);
if (asJson) {
  out(
    JSON.stringify({
      capture_to_decision_p50_ms: last.capture_to_decision_p50_ms,
      capture_to_decision_p95_ms: last.capture_to_decision_p95_ms,
      analyses_per_capture: last.analyses_per_capture,
      coarse_every: COARSE_EVERY ?? null,
      every_frame_analysed: last.every_frame_analysed,
      confirm_to_posted_p95_ms: last.confirm_to_posted_p95_ms,
      gallery_size: last.gallery_size,
      payments_per_s: last.payments_per_s,
      sizes: results,
    }),
  );
}
