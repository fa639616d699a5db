/**
 * Attack presentations built from real photos for bench:liveness, as a camera would film them: every
 * frame is a new JPEG with its own sensor noise (a camera never sends the same bytes twice), so an
 * attack is refused, or not, by the liveness checks and not by the repeated-frame check.
 * Deterministic: the randomness is a seeded generator, so a rerun builds the very same frames.
 */
import sharp from 'sharp';

export interface Rgb {
  data: Uint8Array;
  width: number;
  height: number;
}

export async function decodeRgb(bytes: Uint8Array): Promise<Rgb> {
  const { data, info } = await sharp(bytes).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height };
}

export function encodeJpeg(img: Rgb, quality = 90): Promise<Buffer> {
  return sharp(Buffer.from(img.data.buffer, img.data.byteOffset, img.data.length), { raw: { width: img.width, height: img.height, channels: 3 } })
    .jpeg({ quality })
    .toBuffer();
}

/** The image flipped left to right: a turn to one side becomes a turn to the other. */
export function mirrorJpeg(bytes: Uint8Array): Promise<Buffer> {
  return sharp(bytes).flop().jpeg({ quality: 95 }).toBuffer();
}

/** mulberry32: a small seeded generator, enough for noise and paths. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function gaussian(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
}

/** Sensor noise: independent Gaussian noise of `sigma` grey levels on every channel of every pixel. */
export function withNoise(img: Rgb, sigma: number, rand: () => number): Rgb {
  const out = new Uint8Array(img.data.length);
  for (let i = 0; i < out.length; i++) out[i] = clamp(img.data[i]! + sigma * gaussian(rand));
  return { data: out, width: img.width, height: img.height };
}

const clamp = (x: number): number => (x < 0 ? 0 : x > 255 ? 255 : Math.round(x));

/** A plain wall behind the held photo: a soft gradient, so the frame is not a flat colour. */
function wall(width: number, height: number): Rgb {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const k = (y * width + x) * 3;
      const g = 150 + 40 * (x / width) - 30 * (y / height);
      data[k] = clamp(g + 8);
      data[k + 1] = clamp(g);
      data[k + 2] = clamp(g - 10);
    }
  return { data, width, height };
}

export interface PrintPose {
  /** rotation of the print about its vertical axis, degrees (the face seems to turn, but flat) */
  yawDeg: number;
  /** rotation of the print about its horizontal axis, degrees */
  pitchDeg: number;
  /** rotation in the image plane, degrees */
  rollDeg: number;
  /** print centre in canvas pixels */
  cx: number;
  cy: number;
  /** canvas pixels per photo pixel when the print faces the camera */
  scale: number;
}

/**
 * The photo as a flat print seen by a pinhole camera (focal length 1.2 canvas widths), turned by the
 * pose's yaw and pitch about its centre and rolled in the image plane: a true perspective warp, by
 * inverse mapping with bilinear sampling.
 */
export function renderPrint(photo: Rgb, pose: PrintPose, canvas: Rgb): Rgb {
  const { width: W, height: H } = canvas;
  const out = new Uint8Array(canvas.data);
  const f = 1.2 * W;
  const Z = f; // the print sits where one photo pixel spans `scale` canvas pixels when facing the camera
  const [cy, sy] = [Math.cos((pose.yawDeg * Math.PI) / 180), Math.sin((pose.yawDeg * Math.PI) / 180)];
  const [cp, sp] = [Math.cos((pose.pitchDeg * Math.PI) / 180), Math.sin((pose.pitchDeg * Math.PI) / 180)];
  const [cr, sr] = [Math.cos((pose.rollDeg * Math.PI) / 180), Math.sin((pose.rollDeg * Math.PI) / 180)];
  // Plane point (x, y, 0) -> R = Ry(yaw) * Rx(pitch) -> camera (X, Y, Z + Zc); projected u = f X / Zc.
  // Columns of R for x and y: rx = (cy, 0, -sy), ry = (sy*sp, cp, cy*sp). A ray d = (u, v, f) meets the
  // plane where Z + t... solved as the 3x3 system [rx ry -d] [x y t]^T = -(0, 0, Z).
  const rx = [cy, 0, -sy];
  const ry = [sy * sp, cp, cy * sp];
  const pw = photo.width;
  const ph = photo.height;
  const sc = pose.scale;
  for (let py = 0; py < H; py++) {
    for (let px = 0; px < W; px++) {
      const du = px - pose.cx;
      const dv = py - pose.cy;
      // undo the roll in the image plane
      const u = cr * du + sr * dv;
      const v = -sr * du + cr * dv;
      const d = [u, v, f];
      // Solve x*rx + y*ry - t*d = (0, 0, -Z) by Cramer's rule.
      const m = [
        [rx[0]!, ry[0]!, -d[0]!],
        [rx[1]!, ry[1]!, -d[1]!],
        [rx[2]!, ry[2]!, -d[2]!],
      ];
      const b = [0, 0, -Z];
      const det = det3(m);
      if (Math.abs(det) < 1e-9) continue;
      const x = det3(replaceCol(m, 0, b)) / det;
      const y = det3(replaceCol(m, 1, b)) / det;
      // plane units: canvas pixels at the facing distance; back to photo pixels
      const sx = x / sc + pw / 2;
      const syy = y / sc + ph / 2;
      if (sx < 0 || syy < 0 || sx > pw - 1 || syy > ph - 1) continue;
      const x0 = Math.floor(sx);
      const y0 = Math.floor(syy);
      const x1 = Math.min(x0 + 1, pw - 1);
      const y1 = Math.min(y0 + 1, ph - 1);
      const fx = sx - x0;
      const fy = syy - y0;
      const k = (py * W + px) * 3;
      for (let c = 0; c < 3; c++) {
        const a = photo.data[(y0 * pw + x0) * 3 + c]! * (1 - fx) + photo.data[(y0 * pw + x1) * 3 + c]! * fx;
        const bb = photo.data[(y1 * pw + x0) * 3 + c]! * (1 - fx) + photo.data[(y1 * pw + x1) * 3 + c]! * fx;
        out[k + c] = clamp(a * (1 - fy) + bb * fy);
      }
    }
  }
  return { data: out, width: W, height: H };
}

function det3(m: number[][]): number {
  const [a, b, c] = m as [number[], number[], number[]];
  return a[0]! * (b[1]! * c[2]! - b[2]! * c[1]!) - a[1]! * (b[0]! * c[2]! - b[2]! * c[0]!) + a[2]! * (b[0]! * c[1]! - b[1]! * c[0]!);
}
function replaceCol(m: number[][], col: number, v: number[]): number[][] {
  return m.map((row, i) => row.map((x, j) => (j === col ? v[i]! : x)));
}

export interface SpeciesOptions {
  frames: number;
  seed: number;
  /** sensor noise, grey levels */
  noise?: number;
}

/** S1: one photo held still before the camera: the same picture, a new sensor noise in every frame. */
export async function heldStill(photo: Uint8Array, o: SpeciesOptions): Promise<Buffer[]> {
  const img = await decodeRgb(photo);
  const rand = seeded(o.seed);
  const out: Buffer[] = [];
  for (let i = 0; i < o.frames; i++) out.push(await encodeJpeg(withNoise(img, o.noise ?? 3, rand)));
  return out;
}

/**
 * S2 (and S4's recaptures): one photo held by hand as a print (or a phone), on a wall, moved and
 * tilted along a smooth path: over the window the print turns `yawAmpDeg` one way, back, and the
 * other way (so the frames hold a "turn" each way, as flat as the print is), with a little pitch,
 * roll, drift and zoom, and sensor noise.
 */
export async function handHeld(photo: Uint8Array, o: SpeciesOptions & { yawAmpDeg?: number; canvas?: [number, number] }): Promise<Buffer[]> {
  const img = await decodeRgb(photo);
  const [W, H] = o.canvas ?? [480, 480];
  const bg = wall(W, H);
  const rand = seeded(o.seed);
  const phase = rand() * 2 * Math.PI;
  const amp = o.yawAmpDeg ?? 40;
  // the print fills about 60 % of the canvas height when facing the camera
  const scale = (0.6 * H) / Math.max(img.width, img.height);
  const out: Buffer[] = [];
  for (let i = 0; i < o.frames; i++) {
    const t = o.frames > 1 ? i / (o.frames - 1) : 0;
    const pose: PrintPose = {
      yawDeg: amp * Math.sin(2 * Math.PI * t),
      pitchDeg: 6 * Math.sin(2 * Math.PI * t * 1.5 + phase),
      rollDeg: 4 * Math.sin(2 * Math.PI * t * 0.8 + phase),
      cx: W / 2 + 0.04 * W * Math.sin(2 * Math.PI * t + phase),
      cy: H / 2 + 0.03 * H * Math.cos(2 * Math.PI * t * 1.3 + phase),
      scale: scale * (1 + 0.05 * Math.sin(2 * Math.PI * t * 0.7 + phase)),
    };
    out.push(await encodeJpeg(withNoise(renderPrint(img, pose, bg), o.noise ?? 3, rand)));
  }
  return out;
}

/**
 * S3: a slideshow of photos of one person, each shown for an equal share of the frames, every frame
 * with its own sensor noise. `photos` in the order shown, e.g. frontal, turned left, frontal, turned
 * right, frontal. Photos of different sizes are fitted to the first one's size.
 */
export async function slideshow(photos: Uint8Array[], o: SpeciesOptions): Promise<Buffer[]> {
  const first = await decodeRgb(photos[0]!);
  const imgs = await Promise.all(
    photos.map(async (p, i) => (i === 0 ? first : decodeRgb(await sharp(p).resize(first.width, first.height, { fit: 'fill' }).toBuffer()))),
  );
  const rand = seeded(o.seed);
  const out: Buffer[] = [];
  for (let i = 0; i < o.frames; i++) {
    const k = Math.min(imgs.length - 1, Math.floor((i * imgs.length) / o.frames));
    out.push(await encodeJpeg(withNoise(imgs[k]!, o.noise ?? 3, rand)));
  }
  return out;
}

/**
 * Indices of source frames shown at `fps` when a clip filmed at `sourceFps` is played at `speed`
 * (1 = as filmed, 2 = twice as fast), starting at source frame `from`: `count` frames, nearest
 * source frame for each, never past the clip's end (then shorter).
 */
export function resampleIndices(from: number, count: number, sourceFps: number, fps: number, speed: number, clipFrames: number): number[] {
  const out: number[] = [];
  for (let k = 0; k < count; k++) {
    const i = from + Math.round((k * speed * sourceFps) / fps);
    if (i >= clipFrames) break;
    out.push(i);
  }
  return out;
}

/**
 * S5: a face switched in the middle of a turn: `a` up to and including its turn's peak (the largest
 * `along` value: yaw signed in the asked direction), then `b` from just after its own peak, at most
 * `max` frames. Both are streams of the same kind of turn, from two different people.
 */
export function spliceAtPeak<T>(a: readonly T[], b: readonly T[], along: (x: T) => number, max: number): T[] {
  const peak = (xs: readonly T[]): number => xs.reduce((best, x, i) => (along(x) > along(xs[best]!) ? i : best), 0);
  return [...a.slice(0, peak(a) + 1), ...b.slice(peak(b) + 1)].slice(0, max);
}
