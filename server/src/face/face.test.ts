import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { DomainError, findDataset } from '../platform/index.ts';
import { cosine } from './align.ts';
import { createAnalyzer, type Analyzer, type FaceAnalysis } from './analyzer.ts';
import { verifyChallenge, type Challenge } from './challenge.ts';
import { faceConfig, type FaceConfig } from './config.ts';
import { decodeImage } from './decode.ts';
import { createFaceDetector, type FaceDetector } from './detector.ts';
import { faceApiResnetEmbedder, faceplugin512Embedder, type Embedder } from './embedders.ts';
import { FACE_REFUSAL_CODES } from './errors.ts';
import { createPassiveLiveness, type PassiveLiveness } from './liveness.ts';
import { createRunner } from './pool.ts';

const fixtures = join(fileURLToPath(new URL('.', import.meta.url)), 'fixtures');
const fixture = (name: string): Buffer => readFileSync(join(fixtures, name));

// Models load once per file (the slow part); analyzers with other settings share them.
let deps: { detector: FaceDetector; embedder: Embedder; liveness: PassiveLiveness };
let engine: Analyzer;
const analyzerWith = (o: Partial<FaceConfig>): Promise<Analyzer> => createAnalyzer(faceConfig(o), deps);

before(async () => {
  deps = { detector: await createFaceDetector(), embedder: await faceplugin512Embedder(), liveness: await createPassiveLiveness(0.5) };
  engine = await analyzerWith({});
});

async function refusal(image: Buffer | Promise<Buffer>, purpose: 'payment' | 'enrolment' = 'payment', a?: Analyzer): Promise<string> {
  try {
    await (a ?? engine).analyze(await image, { purpose });
  } catch (e) {
    assert.ok(e instanceof DomainError, String(e));
    assert.ok(e.message.length > 10, 'a message a person understands');
    return e.code;
  }
  return 'accepted';
}

/** A face cut out of a fixture, resized to `side` pixels wide. */
const faceTile = (name: string, side: number): Promise<Buffer> =>
  sharp(fixture(name)).resize({ width: side, height: Math.round(side * 1.25), fit: 'cover', position: 'north' }).jpeg().toBuffer();

const canvas = (w: number, h: number, composite: { input: Buffer; left: number; top: number }[] = []): Promise<Buffer> =>
  sharp({ create: { width: w, height: h, channels: 3, background: { r: 120, g: 130, b: 140 } } }).composite(composite).jpeg().toBuffer();

describe('face engine on fixtures', () => {
  test('finds one face with landmarks, quality, liveness, a unit embedding and timings', async () => {
    const a = await engine.analyze(fixture('person-a-1.jpg'), { purpose: 'payment' });
    assert.equal(a.faces.length, 1);
    const f = a.faces[0]!;
    assert.ok(f.score > 0.5);
    assert.ok(f.landmarks.leftEye[0] < f.landmarks.rightEye[0]);
    assert.ok(f.landmarks.nose[1] > f.landmarks.leftEye[1] && f.landmarks.mouthLeft[1] > f.landmarks.nose[1]);
    assert.equal(a.quality?.ok, true);
    assert.ok(Math.abs(a.quality!.pose.yaw) < 20);
    assert.equal(a.embedding?.length, 512);
    assert.ok(Math.abs(cosine(a.embedding!, a.embedding!) - 1) < 1e-4);
    assert.ok(a.liveness && a.liveness.score >= 0 && a.liveness.score <= 1);
    assert.equal(a.error, null);
    for (const k of ['decode', 'detect', 'quality', 'align', 'liveness', 'embed', 'total'] as const) assert.ok(a.timings[k] >= 0);
    assert.match(a.image.sha256, /^[0-9a-f]{64}$/);
  });

  test('the same person scores higher than another person', async () => {
    const [a1, a2, b] = await Promise.all(['person-a-1.jpg', 'person-a-2.jpg', 'person-b.jpg'].map((n) => engine.analyze(fixture(n), { purpose: 'enrolment' })));
    const genuine = cosine(a1!.embedding!, a2!.embedding!);
    const impostor = Math.max(cosine(a1!.embedding!, b!.embedding!), cosine(a2!.embedding!, b!.embedding!));
    // The ArcFace-style model spreads strangers around cosine 0 and one person's photos far above.
    assert.ok(genuine > impostor + 0.3, `genuine ${genuine} vs impostor ${impostor}`);
  });

  test("face-api's ResNet stays selectable, with vectors of its own dimension and model version", async () => {
    const other = await createAnalyzer(faceConfig({ embedder: 'faceapi-resnet128' }), { detector: deps.detector, liveness: deps.liveness, embedder: await faceApiResnetEmbedder() });
    const [a, b] = await Promise.all([engine.analyze(fixture('person-a-1.jpg'), { purpose: 'payment' }), other.analyze(fixture('person-a-1.jpg'), { purpose: 'payment' })]);
    assert.equal(b.embedding?.length, 128);
    assert.equal(b.model.name, 'faceapi-resnet128');
    assert.notEqual(a.model.version, b.model.version);
    assert.match(a.model.version, /crop-arcface112\+mirror$/);
  });

  test('EXIF orientation is applied', async () => {
    const sideways = await sharp(fixture('person-a-1.jpg')).rotate(90).withMetadata({ orientation: 8 }).jpeg().toBuffer();
    const a = await engine.analyze(sideways, { purpose: 'payment' });
    assert.equal(a.image.width, 296);
    assert.ok(Math.abs(a.quality!.pose.roll) < 15);
  });

  test('a check-only analysis skips the mirror pass and, when asked, passive liveness', async () => {
    const img = fixture('person-a-1.jpg');
    const [full, check] = await Promise.all([
      engine.analyze(img, { purpose: 'payment' }),
      engine.analyze(img, { purpose: 'payment', embedding: 'check', liveness: false }),
    ]);
    assert.equal(check.embedding, null, 'a check embedding is never offered for comparison with templates');
    assert.equal(check.liveness, null);
    assert.equal(check.checkEmbedding?.length, 512);
    // The full analysis's first pass is the very vector the check-only analysis computes.
    assert.ok(cosine(full.checkEmbedding!, check.checkEmbedding!) > 0.9999);
    const other = await engine.analyze(fixture('person-b.jpg'), { purpose: 'payment', embedding: 'check', liveness: false });
    assert.ok(cosine(check.checkEmbedding!, full.checkEmbedding!) > cosine(check.checkEmbedding!, other.checkEmbedding!) + 0.05);
    assert.ok(full.embedding && cosine(full.embedding, full.checkEmbedding!) < 0.99999, 'the model embedding averages the mirror image in');
  });

  test('the mirror pass alone, on an earlier check analysis, gives the model embedding without detecting again', async () => {
    const img = fixture('person-a-2.jpg');
    const full = await engine.analyze(img, { purpose: 'inspect', liveness: false });
    const check = await engine.analyze(img, { purpose: 'inspect', embedding: 'check', liveness: false });
    const m = await engine.analyze(img, { purpose: 'inspect', liveness: false, mirrorOf: { landmarks: check.faces[0]!.landmarks, checkEmbedding: check.checkEmbedding! } });
    assert.ok(cosine(m.embedding!, full.embedding!) > 0.9999, `cosine ${cosine(m.embedding!, full.embedding!)}`);
    assert.ok(cosine(m.embedding!, check.checkEmbedding!) < 0.99999, 'the mirrored crop is averaged in');
    assert.equal(m.timings.detect, 0, 'no detection ran');
    assert.deepEqual(m.faces, []);
    // Landmarks of another frame give another crop: the answer is only as good as the landmarks given.
    const moved = { ...check.faces[0]!.landmarks, nose: [check.faces[0]!.landmarks.nose[0] + 40, check.faces[0]!.landmarks.nose[1]] as [number, number] };
    const off = await engine.analyze(img, { purpose: 'inspect', liveness: false, mirrorOf: { landmarks: moved, checkEmbedding: check.checkEmbedding! } });
    assert.ok(cosine(off.embedding!, full.embedding!) < cosine(m.embedding!, full.embedding!));
  });

  test('inspect reports a refusal instead of throwing', async () => {
    const a = await engine.analyze(await canvas(300, 300), { purpose: 'inspect' });
    assert.equal(a.error?.code, 'no_face');
    assert.equal(a.embedding, null);
  });
});

describe('every refusal has its own code', () => {
  const seen = new Set<string>();
  const expect = async (code: string, got: Promise<string>): Promise<void> => {
    assert.equal(await got, code);
    seen.add(code);
  };

  test('image_empty, image_too_large, image_dimensions_too_large, image_undecodable', async () => {
    await expect('image_empty', refusal(Buffer.alloc(0)));
    await expect('image_too_large', refusal(Buffer.alloc(8 * 1024 * 1024 + 1, 7)));
    const wide = await sharp({ create: { width: 4097, height: 8, channels: 3, background: '#888' } }).png().toBuffer();
    await expect('image_dimensions_too_large', refusal(wide));
    await expect('image_undecodable', refusal(Buffer.from('this is not an image, just some bytes that pretend to be one')));
    const truncated = fixture('person-b.jpg').subarray(0, 2000);
    await expect('image_undecodable', refusal(truncated));
  });

  test('no_face', async () => {
    await expect('no_face', refusal(canvas(400, 300)));
  });

  test('multiple_faces: three faces, and the two-person photo, for payment', async () => {
    const tiles = await Promise.all(['person-a-1.jpg', 'person-b.jpg', 'person-a-2.jpg'].map((n) => faceTile(n, 180)));
    const three = await canvas(600, 260, tiles.map((t, i) => ({ input: t, left: 10 + i * 200, top: 20 })));
    await expect('multiple_faces', refusal(three));
    const inspected = await engine.analyze(three, { purpose: 'inspect' });
    assert.equal(inspected.faces.length, 3);
    await expect('multiple_faces', refusal(fixture('two-people.jpg')));
  });

  test('face_too_small', async () => {
    await expect('face_too_small', refusal(sharp(fixture('person-a-1.jpg')).resize({ width: 100 }).jpeg().toBuffer()));
  });

  test('face_cut_off', async () => {
    const img = fixture('person-a-1.jpg');
    await expect('face_cut_off', refusal(sharp(img).extract({ left: 0, top: 0, width: 296, height: 190 }).jpeg().toBuffer()));
  });

  test('face_turned', async () => {
    await expect('face_turned', refusal(sharp(fixture('person-a-1.jpg')).rotate(40, { background: '#777' }).jpeg().toBuffer()));
  });

  test('face_blurred', async () => {
    await expect('face_blurred', refusal(sharp(fixture('person-a-1.jpg')).blur(5).jpeg().toBuffer()));
  });

  test('face_too_dark and face_too_bright', async () => {
    await expect('face_too_dark', refusal(sharp(fixture('person-a-1.jpg')).linear(0.22, 0).jpeg().toBuffer()));
    await expect('face_too_bright', refusal(sharp(fixture('person-a-1.jpg')).linear(1.6, 90).jpeg().toBuffer()));
  });

  test('covers the whole list', () => {
    assert.deepEqual([...seen].sort(), [...FACE_REFUSAL_CODES].sort());
  });
});

describe('decode limits are configurable', () => {
  test('a smaller limit refuses before decoding', async () => {
    const img = fixture('person-a-1.jpg');
    await assert.rejects(decodeImage(img, { maxBytes: 1000, maxSidePx: 4096, detectSidePx: 640 }), { code: 'image_too_large' });
    await assert.rejects(decodeImage(img, { maxBytes: 1e7, maxSidePx: 300, detectSidePx: 640 }), { code: 'image_dimensions_too_large' });
    const f = await decodeImage(img, { maxBytes: 1e7, maxSidePx: 4096, detectSidePx: 200 });
    assert.equal(Math.max(f.width, f.height), 200);
    assert.ok(f.scale > 1.9 && f.scale < 2.1);
  });
});

describe('worker pool', () => {
  let runner: Awaited<ReturnType<typeof createRunner>>;
  before(async () => {
    runner = await createRunner(faceConfig({ workers: 1, maxQueue: 1 }));
  });
  after(async () => {
    await runner.close();
  });

  test('gives the same embedding as the calling thread', async () => {
    const img = fixture('person-a-2.jpg');
    const [pooled, local] = await Promise.all([runner.analyze(img, { purpose: 'payment' }), engine.analyze(img, { purpose: 'payment' })]);
    assert.ok(pooled.embedding instanceof Float32Array);
    assert.ok(cosine(pooled.embedding!, local.embedding!) > 0.9999);
    assert.equal(img.length > 0, true, 'the caller keeps its buffer unless it asks to transfer it');
    const check = await runner.analyze(img, { purpose: 'payment', embedding: 'check', liveness: false });
    assert.equal(check.embedding, null, 'the options cross the thread');
    assert.equal(check.liveness, null);
    assert.ok(cosine(check.checkEmbedding!, local.checkEmbedding!) > 0.9999);
    const m = await runner.analyze(img, { purpose: 'payment', liveness: false, mirrorOf: { landmarks: check.faces[0]!.landmarks, checkEmbedding: check.checkEmbedding! } });
    assert.ok(cosine(m.embedding!, local.embedding!) > 0.9999, 'the mirror pass crosses the thread too');
  });

  test('refusals cross the thread as DomainErrors', async () => {
    await assert.rejects(runner.analyze(Buffer.from('nope'), { purpose: 'payment' }), (e: unknown) => e instanceof DomainError && e.code === 'image_undecodable');
  });

  test('answers busy when the queue is full, and closed after close', async () => {
    const img = fixture('person-b.jpg');
    const running = runner.analyze(img, { purpose: 'inspect' });
    const queued = runner.analyze(img, { purpose: 'inspect' });
    await assert.rejects(runner.analyze(img, { purpose: 'inspect' }), (e: unknown) => e instanceof DomainError && e.code === 'face_engine_busy' && e.kind === 'busy');
    await Promise.all([running, queued]);
    const other = await createRunner(faceConfig({ workers: 0, maxQueue: 0 }));
    await other.close();
    await assert.rejects(other.analyze(img, { purpose: 'inspect' }), { code: 'face_engine_closed' });
  });
});

const lfw = findDataset('lfw/images');
describe('on LFW (../shared/datasets)', { skip: lfw ? false : 'the LFW dataset is absent: set FACEPAY_DATASETS or place it at ../shared/datasets' }, () => {
  test('a still photo sent as a challenge sequence fails, whichever the challenge', async () => {
    const dir = join(lfw!, 'George_W_Bush');
    const files = readdirSync(dir).sort().slice(0, 1);
    const still = readFileSync(join(dir, files[0]!));
    // The same photo, re-encoded and slightly shifted each time, as a printed photo held up to a camera would give.
    const frames: { at: number; analysis: FaceAnalysis }[] = [];
    for (let i = 0; i < 5; i++) {
      const jittered = await sharp(still).extract({ left: i, top: i % 2, width: 240, height: 240 }).jpeg({ quality: 90 - i }).toBuffer();
      frames.push({ at: 1000 + i * 200, analysis: await engine.analyze(jittered, { purpose: 'payment' }) });
    }
    for (const kind of ['turn_left', 'turn_right', 'blink'] as const) {
      const c: Challenge = { id: 'chl_x', kind, issuedAt: 0, expiresAt: 10_000 };
      assert.equal(verifyChallenge(c, frames).reason, 'challenge_motion_missing', kind);
    }
    // The very same bytes again are a replay.
    const same = await engine.analyze(still, { purpose: 'payment' });
    const replay = [0, 1, 2].map((i) => ({ at: 1000 + i * 100, analysis: same }));
    assert.equal(verifyChallenge({ id: 'chl_y', kind: 'turn_left', issuedAt: 0, expiresAt: 10_000 }, replay).reason, 'challenge_replayed_frame');
  });

  test('different photos of one person pass the same-face check, two people do not', async () => {
    const a = readdirSync(join(lfw!, 'Colin_Powell')).sort().slice(0, 2).map((f) => readFileSync(join(lfw!, 'Colin_Powell', f)));
    const b = readFileSync(join(lfw!, 'Tony_Blair', 'Tony_Blair_0001.jpg'));
    const [a1, a2, b1] = await Promise.all([...a, b].map((img) => engine.analyze(img, { purpose: 'inspect' })));
    assert.ok(cosine(a1!.embedding!, a2!.embedding!) > cosine(a1!.embedding!, b1!.embedding!));
  });
});
