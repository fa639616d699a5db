import assert from 'node:assert/strict';
import { test } from 'node:test';
import sharp from 'sharp';
import { movedPhoto, tiltedPhoto } from './photo-attacks.ts';

/** A photo of vertical stripes 10 px apart: their spacing shows the perspective. */
async function stripes(): Promise<Buffer> {
  const w = 200;
  const h = 100;
  const raw = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) raw.fill(x % 20 < 10 ? 255 : 0, 3 * (y * w + x), 3 * (y * w + x) + 3);
  return sharp(raw, { raw: { width: w, height: h, channels: 3 } }).png().toBuffer();
}

async function row(jpeg: Buffer, y: number): Promise<number[]> {
  const { data, info } = await sharp(jpeg).greyscale().raw().toBuffer({ resolveWithObject: true });
  return Array.from(data.subarray(y * info.width, (y + 1) * info.width));
}

test('a photo tilted before the camera narrows on the side turned away and keeps its size facing it', async () => {
  const flat = await row(await tiltedPhoto(await stripes(), 0), 50);
  const edges = (r: number[]) => r.filter((v, i) => i > 0 && (v > 128) !== (r[i - 1]! > 128)).length;
  assert.equal(edges(flat), 19, 'unturned, the stripes stay where they were');
  const turned = await row(await tiltedPhoto(await stripes(), 45), 50);
  assert.ok(turned.filter((v) => v === 128 || Math.abs(v - 128) < 8).length > 20, 'turned, the photo no longer fills the frame');
});

test('a moved photo goes out to its largest angle and comes back', async () => {
  const frames = await movedPhoto(await stripes(), 7, 40);
  assert.equal(frames.length, 7);
  const grey = async (b: Buffer) => (await row(b, 50)).filter((v) => Math.abs(v - 128) < 8).length;
  const g = await Promise.all(frames.map(grey));
  assert.ok(g[3]! > g[0]! && g[3]! > g[6]!, `the middle frame is the most turned: ${g.join(',')}`);
});
