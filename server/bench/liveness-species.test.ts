import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createFaceEngine, type FaceAnalysis, type FaceEngine } from '../src/face/index.ts';
import { findDataset } from '../src/platform/index.ts';
import { decodeRgb, handHeld, heldStill, mirrorJpeg, renderPrint, resampleIndices, slideshow, spliceAtPeak, type Rgb } from './liveness-species.ts';

const video = findDataset('video/tran_real');
const lfw = findDataset('lfw/images');
const frame = (i: number): Buffer => readFileSync(join(video!, `frame_${String(i).padStart(5, '0')}.jpg`));
const meanAbsDiff = (a: Rgb, b: Rgb): number => {
  assert.equal(a.data.length, b.data.length);
  let s = 0;
  for (let i = 0; i < a.data.length; i++) s += Math.abs(a.data[i]! - b.data[i]!);
  return s / a.data.length;
};

test('resampling a 15 fps clip to 12 fps: 1x never repeats a frame, 2x skips, and neither runs past the clip', () => {
  const one = resampleIndices(0, 60, 15, 12, 1, 300);
  assert.equal(one.length, 60);
  assert.equal(new Set(one).size, 60);
  assert.equal(one[59], 74);
  const two = resampleIndices(10, 60, 15, 12, 2, 300);
  assert.equal(two[1]! - two[0]!, 3);
  assert.equal(two[59], 10 + 148);
  assert.equal(resampleIndices(0, 60, 15, 12, 2, 100).length, 40);
});

describe('attack species built from real frames', { skip: video && lfw ? false : 'the datasets are absent: set FACEPAY_DATASETS or place them at ../shared/datasets' }, () => {
  let engine: FaceEngine;
  before(async () => {
    engine = await createFaceEngine({ workers: 0 });
  });
  after(async () => engine?.close());
  const look = (b: Uint8Array): Promise<FaceAnalysis> => engine.analyze(b, { purpose: 'inspect', liveness: false, embedding: 'check' });

  test('S1 held still: every frame new bytes with a little sensor noise, the picture unchanged', async () => {
    const photo = frame(25);
    const frames = await heldStill(photo, { frames: 3, seed: 7 });
    assert.equal(new Set(frames.map((f) => f.toString('base64'))).size, 3);
    const original = await decodeRgb(photo);
    for (const f of frames) {
      const d = meanAbsDiff(await decodeRgb(f), original);
      assert.ok(d > 0.5 && d < 6, `mean difference ${d}`);
    }
    // Deterministic: the same seed builds the same frames.
    assert.deepEqual(await heldStill(photo, { frames: 1, seed: 7 }), frames.slice(0, 1));
  });

  test('the print renderer facing the camera at scale 1 reproduces the photo', async () => {
    const photo = await decodeRgb(frame(25));
    const canvas: Rgb = { data: new Uint8Array(photo.data.length), width: photo.width, height: photo.height };
    const out = renderPrint(photo, { yawDeg: 0, pitchDeg: 0, rollDeg: 0, cx: photo.width / 2, cy: photo.height / 2, scale: 1 }, canvas);
    assert.ok(meanAbsDiff(out, photo) < 2);
  });

  test('S2 hand-held print: the face stays found while the print turns, and foreshortens as a flat thing does', async () => {
    const photo = readFileSync(join(lfw!, 'Colin_Powell/Colin_Powell_0001.jpg'));
    // 9 frames over the path: frame 0 faces the camera, frame 2 is the print turned 40 degrees one way, frame 6 the other.
    const frames = await handHeld(photo, { frames: 9, seed: 3, yawAmpDeg: 40 });
    const [a0, a2, a6] = await Promise.all([look(frames[0]!), look(frames[2]!), look(frames[6]!)]);
    for (const a of [a0, a2, a6]) assert.equal(a.faces.length, 1);
    // The eyes' spacing against the eyes-to-mouth height: a print turned 40 degrees narrows by about cos 40.
    const ratio = (a: FaceAnalysis): number => {
      const p = a.faces[0]!.landmarks;
      const eyes = Math.hypot(p.leftEye[0] - p.rightEye[0], p.leftEye[1] - p.rightEye[1]);
      const mouth = [(p.mouthLeft[0] + p.mouthRight[0]) / 2, (p.mouthLeft[1] + p.mouthRight[1]) / 2];
      return eyes / Math.hypot((p.leftEye[0] + p.rightEye[0]) / 2 - mouth[0]!, (p.leftEye[1] + p.rightEye[1]) / 2 - mouth[1]!);
    };
    assert.ok(ratio(a2) < 0.92 * ratio(a0) && ratio(a6) < 0.92 * ratio(a0), `ratios ${ratio(a0)} ${ratio(a2)} ${ratio(a6)}`);
  });

  test('S3 slideshow: the photos are shown in order, each for its share of the frames', async () => {
    const a = readFileSync(join(lfw!, 'Colin_Powell/Colin_Powell_0001.jpg'));
    const b = readFileSync(join(lfw!, 'Colin_Powell/Colin_Powell_0002.jpg'));
    const frames = await slideshow([a, b], { frames: 4, seed: 1 });
    const [ra, rb] = [await decodeRgb(a), await decodeRgb(b)];
    for (const [i, photo, other] of [[0, ra, rb], [1, ra, rb], [2, rb, ra], [3, rb, ra]] as const) {
      const f = await decodeRgb(frames[i]!);
      assert.ok(meanAbsDiff(f, photo) < meanAbsDiff(f, other), `frame ${i}`);
    }
  });

  test('S5 face switch: one person up to the peak of the turn, the other from just after theirs', async () => {
    // Real frames of two people turning to their own right (tran_real 128-133, krzys_real 44-50 mirrored twice over = as filmed).
    const krzys = findDataset('video/krzys_real');
    if (!krzys) return;
    const a = await Promise.all([120, 124, 128, 132].map((i) => look(frame(i))));
    const b = await Promise.all([40, 46, 50, 56].map((i) => look(readFileSync(join(krzys, `frame_${String(i).padStart(5, '0')}.jpg`)))));
    const along = (x: FaceAnalysis): number => -(x.quality?.pose.yaw ?? Number.NEGATIVE_INFINITY);
    const s = spliceAtPeak(a, b, along, 60);
    const pa = a.reduce((best, x, i) => (along(x) > along(a[best]!) ? i : best), 0);
    const pb = b.reduce((best, x, i) => (along(x) > along(b[best]!) ? i : best), 0);
    assert.equal(s.length, pa + 1 + (b.length - pb - 1));
    assert.equal(s[pa], a[pa]);
    if (pb + 1 < b.length) assert.equal(s[pa + 1], b[pb + 1]);
  });

  test('mirroring turns a real turn to the other side (the engine measures the yaw flipped)', async () => {
    const turned = frame(60);
    const [t, m] = await Promise.all([look(turned), look(await mirrorJpeg(turned))]);
    const yt = t.quality!.pose.yaw;
    const ym = m.quality!.pose.yaw;
    assert.ok(yt > 20, `yaw ${yt}`);
    assert.ok(ym < -20 && Math.abs(yt + ym) < 6, `yaw ${yt} mirrored ${ym}`);
  });
});
