/**
 * The face stack as the platform wires it: real models, a real gallery on SQLite, real LFW photos.
 * A shopper's face enrolled through the shoppers' port is found again from another photo, a
 * stranger is not, and deleting the face takes effect at once.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createFaceStack, meanEmbedding, type FaceStack } from './face-stack.ts';
import { findDataset, ManualClock, seededRandom, sequentialIds } from './platform/index.ts';
import { allMigrations } from './composition.ts';
import { freshDb } from './storage/testing.ts';

const lfw = findDataset('lfw/images');
const skip = lfw === undefined ? 'no LFW under ../shared/datasets (or $FACEPAY_DATASETS): face stack test skipped' : false;

test('the mean of embeddings is a unit vector between them', () => {
  const m = meanEmbedding([new Float32Array([1, 0]), new Float32Array([0, 1])]);
  assert.ok(Math.abs(m[0]! - Math.SQRT1_2) < 1e-6 && Math.abs(m[1]! - Math.SQRT1_2) < 1e-6);
});

test('enrol, find again from another photo, refuse a stranger, delete at once', { skip, timeout: 120_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'facepay-face-stack-'));
  const db = await freshDb('sqlite', allMigrations);
  let stack: FaceStack | undefined;
  t.after(async () => {
    await stack?.close();
    await db.dispose();
    rmSync(dir, { recursive: true, force: true });
  });
  stack = await createFaceStack({
    db,
    dataDir: dir,
    env: {},
    clock: new ManualClock('2026-11-25T12:00:00Z'),
    ids: sequentialIds(),
    random: seededRandom(7),
    workers: 0,
    progressOut: null,
  });
  const embed = async (file: string): Promise<Float32Array> => {
    const a = await stack!.engine.analyze(readFileSync(join(lfw!, file)), { purpose: 'inspect' });
    assert.ok(a.embedding);
    return a.embedding;
  };
  const enrolled = await embed('Colin_Powell/Colin_Powell_0001.jpg');
  await stack.templates.enrol('shp_colin', [{ embedding: enrolled, model: stack.model }], { phoneLast4: '1234', alwaysAskDigits: false });
  assert.equal(await stack.templates.searchable('shp_colin'), true);

  const again = await stack.identifier.identify(await embed('Colin_Powell/Colin_Powell_0002.jpg'), stack.model, {});
  assert.notEqual(again.outcome, 'no_match', 'another photo of the enrolled shopper is at least worth asking for the digits');
  const withDigits = await stack.identifier.identify(await embed('Colin_Powell/Colin_Powell_0002.jpg'), stack.model, { phoneLast4: '1234' });
  assert.deepEqual(withDigits.outcome === 'match' && withDigits.shopperId, 'shp_colin');

  const stranger = await stack.identifier.identify(await embed('Tony_Blair/Tony_Blair_0001.jpg'), stack.model, {});
  assert.equal(stranger.outcome, 'no_match');
  const strangerWithDigits = await stack.identifier.identify(await embed('Tony_Blair/Tony_Blair_0001.jpg'), stack.model, { phoneLast4: '1234' });
  assert.equal(strangerWithDigits.outcome, 'no_match');

  // Enrolling again with templates the gallery refuses (another model's length) fails as a whole:
  // the old face still pays.
  await assert.rejects(stack.templates.enrol('shp_colin', [{ embedding: new Float32Array(7).fill(0.3), model: stack.model }], { phoneLast4: '1234', alwaysAskDigits: false }));
  assert.equal(await stack.templates.searchable('shp_colin'), true);
  const still = await stack.identifier.identify(await embed('Colin_Powell/Colin_Powell_0002.jpg'), stack.model, { phoneLast4: '1234' });
  assert.deepEqual(still.outcome === 'match' && still.shopperId, 'shp_colin', 'a failed re-enrolment keeps the old face');

  await stack.templates.remove('shp_colin');
  const gone = await stack.identifier.identify(enrolled, stack.model, { phoneLast4: '1234' });
  assert.equal(gone.outcome, 'no_match', 'a deleted face is never found again');
  assert.equal(await stack.templates.searchable('shp_colin'), false);
});

test('a late or sparse answer is refused on its times, before the engine sees a frame', { timeout: 120_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'facepay-face-stack-'));
  const db = await freshDb('sqlite', allMigrations);
  const clock = new ManualClock('2026-11-25T12:00:00Z');
  const stack = await createFaceStack({ db, dataDir: dir, env: {}, clock, ids: sequentialIds(), random: seededRandom(7), workers: 0, progressOut: null });
  t.after(async () => {
    await stack.close();
    await db.dispose();
    rmSync(dir, { recursive: true, force: true });
  });
  // Not images at all: analysing any of them would fail with image_undecodable.
  const junk = (from: number, n: number, step: number) => Array.from({ length: n }, (_, i) => ({ at: from + i * step, image: new Uint8Array([1, 2, 3, i]) }));
  for (const port of ['payment', 'enrolment'] as const) {
    const c = stack.faceCheck.issueChallenge();
    clock.advance(20_000);
    // 20 s late, with capture times forged to sit inside the 10 s window.
    const late = junk(c.issuedAt + 500, 25, 80);
    const r = port === 'payment' ? await stack.faceCheck.verify(c, late, clock.now().getTime()) : await stack.enrolment.templatesFor(c, late);
    assert.equal(r.ok === false && r.code, 'challenge_expired', port);
    const d = stack.faceCheck.issueChallenge();
    clock.advance(4_000);
    const sparse = junk(d.issuedAt + 500, 12, 250);
    const s = port === 'payment' ? await stack.faceCheck.verify(d, sparse, clock.now().getTime()) : await stack.enrolment.templatesFor(d, sparse);
    assert.equal(s.ok === false && s.code, 'challenge_frames_sparse', port);
  }
  assert.equal(stack.engine.pending(), 0);
});
