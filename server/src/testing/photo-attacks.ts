/**
 * Presentation attacks built from one real photo, for tests and benchmarks: the photo as a flat
 * print or screen turned before the camera. Only geometry is simulated (a pinhole camera looking at
 * a plane rotated about its vertical axis); the pixels stay the photo's own.
 */
import sharp from 'sharp';

/**
 * The photo as a plane rotated by `degrees` about its vertical centre line, seen by a camera with a
 * focal length of one image width at one image width's distance, shifted by dx, dy pixels. Pixels
 * that fall outside the photo are grey, as the wall behind a print would be.
 */
export async function tiltedPhoto(jpeg: Buffer, degrees: number, dx = 0, dy = 0): Promise<Buffer> {
  const { data, info } = await sharp(jpeg).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const { width: w, height: h } = info;
  const out = Buffer.alloc(w * h * 3, 128);
  const t = (degrees * Math.PI) / 180;
  const [cx, cy, f] = [w / 2, h / 2, w];
  for (let v = 0; v < h; v++) {
    for (let u = 0; u < w; u++) {
      // The ray through (u, v) meets the rotated plane at X along it: s * rx = X cos t, s = f + X sin t.
      const rx = (u - dx - cx) / f;
      const x = (f * rx) / (Math.cos(t) - rx * Math.sin(t));
      const s = f + x * Math.sin(t);
      const sx = Math.round(x + cx);
      const sy = Math.round(((v - dy - cy) / f) * s + cy);
      if (sx < 0 || sx >= w || sy < 0 || sy >= h) continue;
      data.copy(out, 3 * (v * w + u), 3 * (sy * w + sx), 3 * (sy * w + sx) + 3);
    }
  }
  return sharp(out, { raw: { width: w, height: h, channels: 3 } }).jpeg({ quality: 92 }).toBuffer();
}

/**
 * A hand moving a print: `n` frames along a smooth path from facing the camera to `maxDegrees`
 * and back, trembling by a pixel or two.
 */
export async function movedPhoto(jpeg: Buffer, n: number, maxDegrees = 50): Promise<Buffer[]> {
  const frames: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    const phase = Math.sin((Math.PI * i) / (n - 1));
    frames.push(await tiltedPhoto(jpeg, maxDegrees * phase, Math.round(2 * Math.sin(i * 0.9)), Math.round(2 * Math.cos(i * 0.7))));
  }
  return frames;
}
