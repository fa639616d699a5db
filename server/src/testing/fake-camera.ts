/**
 * Builds a .y4m video for Chromium's --use-file-for-fake-video-capture from still images: each
 * image is scaled into the frame (letterboxed on grey) and held for `holdFrames` frames. Chromium
 * loops the file, so a test controls what the "camera" sees by what it writes here.
 */
import { writeFileSync } from 'node:fs';
import sharp from 'sharp';

export interface FakeVideoOptions {
  width?: number;
  height?: number;
  fps?: number;
  /** How many frames each image stays on screen. */
  holdFrames?: number;
  /**
   * Sensor-like noise of up to this many luma levels, different in every frame. A real camera never
   * gives two identical frames, and the server refuses repeated frames as a replay.
   */
  noise?: number;
}

/** RGB (packed, 3 bytes a pixel) to planar YUV 4:2:0 with BT.601 limited-range coefficients. */
export function rgbToI420(rgb: Uint8Array, width: number, height: number): Buffer {
  const ySize = width * height;
  const cw = width >> 1;
  const ch = height >> 1;
  const out = Buffer.alloc(ySize + 2 * cw * ch);
  for (let i = 0; i < ySize; i++) {
    const r = rgb[3 * i]!;
    const g = rgb[3 * i + 1]!;
    const b = rgb[3 * i + 2]!;
    out[i] = Math.min(255, Math.max(0, Math.round(16 + 0.257 * r + 0.504 * g + 0.098 * b)));
  }
  for (let y = 0; y < ch; y++) {
    for (let x = 0; x < cw; x++) {
      let r = 0;
      let g = 0;
      let b = 0;
      for (const [dx, dy] of [[0, 0], [1, 0], [0, 1], [1, 1]] as const) {
        const p = 3 * ((2 * y + dy) * width + 2 * x + dx);
        r += rgb[p]!;
        g += rgb[p + 1]!;
        b += rgb[p + 2]!;
      }
      r /= 4;
      g /= 4;
      b /= 4;
      const u = 128 - 0.148 * r - 0.291 * g + 0.439 * b;
      const v = 128 + 0.439 * r - 0.368 * g - 0.071 * b;
      out[ySize + y * cw + x] = Math.min(255, Math.max(0, Math.round(u)));
      out[ySize + cw * ch + y * cw + x] = Math.min(255, Math.max(0, Math.round(v)));
    }
  }
  return out;
}

/** A copy of the frame with seeded noise on the luma plane (or the frame itself without noise). */
function noisy(frame: Buffer, lumaBytes: number, amplitude: number, seed: number): Buffer {
  if (amplitude <= 0) return frame;
  const out = Buffer.from(frame);
  let s = seed * 2654435761;
  for (let i = 0; i < lumaBytes; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const delta = (s % (2 * amplitude + 1)) - amplitude;
    out[i] = Math.min(255, Math.max(0, out[i]! + delta));
  }
  return out;
}

export async function buildY4m(images: readonly (Buffer | string)[], opts: FakeVideoOptions = {}): Promise<Buffer> {
  const width = opts.width ?? 640;
  const height = opts.height ?? 480;
  const fps = opts.fps ?? 15;
  const hold = opts.holdFrames ?? fps;
  if (width % 2 !== 0 || height % 2 !== 0) throw new Error('y4m frames need even dimensions');
  let seed = 1;
  const parts: Buffer[] = [Buffer.from(`YUV4MPEG2 W${width} H${height} F${fps}:1 Ip A1:1 C420jpeg\n`)];
  for (const image of images) {
    const rgb = await sharp(image)
      .rotate()
      .resize(width, height, { fit: 'contain', background: { r: 128, g: 128, b: 128 } })
      .removeAlpha()
      .raw()
      .toBuffer();
    const frame = rgbToI420(rgb, width, height);
    for (let i = 0; i < hold; i++) parts.push(Buffer.from('FRAME\n'), noisy(frame, width * height, opts.noise ?? 0, seed++));
  }
  return Buffer.concat(parts);
}

export async function writeY4m(file: string, images: readonly (Buffer | string)[], opts?: FakeVideoOptions): Promise<void> {
  writeFileSync(file, await buildY4m(images, opts));
}
