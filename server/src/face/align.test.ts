import assert from 'node:assert/strict';
import { test } from 'node:test';
import { templateGeometry, warpCrop, type FivePoints, type Point } from './align.ts';
import { ARCFACE_112 } from './embedders.ts';

/** The template's points moved into an image by scale k, rotation a and an offset. */
function placed(k: number, a: number, ox: number, oy: number): FivePoints {
  const m = ([x, y]: Point): Point => [ox + k * (Math.cos(a) * x - Math.sin(a) * y), oy + k * (Math.sin(a) * x + Math.cos(a) * y)];
  const [leftEye, rightEye, nose, mouthLeft, mouthRight] = ARCFACE_112.map(m) as [Point, Point, Point, Point, Point];
  return { leftEye, rightEye, nose, mouthLeft, mouthRight };
}

test('templateGeometry recovers the scale, rotation and place of landmarks that match the template', () => {
  const g = templateGeometry(placed(2.5, 0.3, 40, 17), ARCFACE_112, 112);
  assert.ok(Math.abs(g.size - 2.5 * 112) < 1e-9, `size ${g.size}`);
  assert.ok(Math.abs(g.angle - 0.3) < 1e-12, `angle ${g.angle}`);
  // The crop's centre pixel (55.5, 55.5 in template coordinates) lands where the transform puts it.
  const c = placed(2.5, 0.3, 40, 17);
  const centre = templateGeometry(c, ARCFACE_112, 112);
  const expected: Point = [40 + 2.5 * (Math.cos(0.3) * 55.5 - Math.sin(0.3) * 55.5), 17 + 2.5 * (Math.sin(0.3) * 55.5 + Math.cos(0.3) * 55.5)];
  assert.ok(Math.abs(centre.cx - 0.5 - expected[0]) < 1e-9 && Math.abs(centre.cy - 0.5 - expected[1]) < 1e-9);
});

test('an image already in template position is cut out unchanged', () => {
  // A 112 px image with a distinct value per pixel: the identity transform must sample each pixel centre.
  const side = 112;
  const rgb = new Uint8Array(side * side * 3);
  for (let i = 0; i < side * side; i++) rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = (i * 7) % 251;
  const crop = warpCrop(rgb, side, side, templateGeometry(placed(1, 0, 0, 0), ARCFACE_112, side), side);
  let worst = 0;
  for (let i = 0; i < crop.length; i++) worst = Math.max(worst, Math.abs(crop[i]! - rgb[i]!));
  assert.ok(worst < 1e-3, `largest difference ${worst}`);
});
