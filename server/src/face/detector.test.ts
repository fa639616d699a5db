import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { before, describe, test } from 'node:test';
import sharp from 'sharp';
import { faceConfig } from './config.ts';
import { decodeImage, type Frame } from './decode.ts';
import { createFaceDetector, type FaceDetector, type MeshFace } from './detector.ts';

const fixture = (name: string): Buffer => readFileSync(new URL(`./fixtures/${name}`, import.meta.url));
const frameOf = async (image: Buffer): Promise<Frame> => decodeImage(image, faceConfig());
const DEG = 180 / Math.PI;
/** The line through the eye corners, in degrees (image y downwards). */
const eyeLine = (f: MeshFace): number => {
  const [a, b] = [f.mesh[33]!, f.mesh[263]!];
  const [l, r] = a[0]! <= b[0]! ? [a, b] : [b, a];
  return Math.atan2(r[1]! - l[1]!, r[0]! - l[0]!) * DEG;
};

let detector: FaceDetector;
before(async () => {
  detector = await createFaceDetector();
});

describe('face detector', () => {
  test('finds the one face of a portrait, with a mesh inside its box', async () => {
    const frame = await frameOf(fixture('person-a-1.jpg'));
    const faces = await detector.detect(frame);
    assert.equal(faces.length, 1);
    const [f] = faces as [MeshFace];
    assert.ok(f.boxScore >= 0.9 && f.faceScore >= 0.5, `scores ${f.boxScore} / ${f.faceScore}`);
    assert.equal(f.mesh.length, 468);
    const [x, y, w, h] = f.box;
    const inside = f.mesh.filter((p) => p[0]! >= x && p[0]! <= x + w && p[1]! >= y && p[1]! <= y + h).length;
    assert.ok(inside >= 460, `${inside} of 468 landmarks inside the box`);
    assert.ok(Math.abs(f.angle.yaw) * DEG < 20 && Math.abs(f.angle.pitch) * DEG < 25, `a frontal face: ${JSON.stringify(f.angle)}`);
  });

  test('finds both people of a group photo', async () => {
    const faces = await detector.detect(await frameOf(fixture('two-people.jpg')));
    assert.equal(faces.filter((f) => f.boxScore >= 0.5).length, 2);
  });

  test('finds nothing in a blank frame, or in a region away from the face', async () => {
    const blank = await sharp({ create: { width: 320, height: 240, channels: 3, background: '#808080' } }).jpeg().toBuffer();
    assert.deepEqual(await detector.detect(await frameOf(blank)), []);
    // The portrait on the left of a wide grey canvas: the right half holds no face.
    const portrait = sharp(fixture('person-a-1.jpg'));
    const { width, height } = await portrait.metadata();
    const wide = await sharp({ create: { width: 2 * width!, height: height!, channels: 3, background: '#808080' } })
      .composite([{ input: await portrait.toBuffer(), left: 0, top: 0 }])
      .jpeg()
      .toBuffer();
    const frame = await frameOf(wide);
    assert.equal((await detector.detect(frame)).length, 1);
    assert.deepEqual(await detector.detect(frame, { x: Math.ceil(frame.width / 2), y: 0, width: Math.floor(frame.width / 2), height: frame.height }), []);
  });

  test('places the mesh of a leaning head upright: the eye line follows the lean', async () => {
    const image = fixture('person-a-1.jpg');
    const upright = (await detector.detect(await frameOf(image)))[0]!;
    const leaning = await sharp(image).rotate(25, { background: '#000000' }).jpeg().toBuffer();
    const faces = await detector.detect(await frameOf(leaning));
    assert.equal(faces.length, 1);
    const lean = eyeLine(faces[0]!) - eyeLine(upright);
    assert.ok(Math.abs(lean - 25) < 4, `eye line turned by ${lean.toFixed(1)} degrees for a 25 degree lean`);
  });
});
