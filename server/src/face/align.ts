/** Pure geometry and pixel work on RGB frames: landmark summaries, the aligned crop, quality statistics. */

export type Point = [number, number];

/** Five landmarks in frame pixels, as most alignment schemes use them (left/right as seen in the image). */
export interface FivePoints {
  leftEye: Point;
  rightEye: Point;
  nose: Point;
  mouthLeft: Point;
  mouthRight: Point;
}

/** Where to cut the face out: centre, side length and in-plane rotation, all in frame pixels. */
export interface CropGeometry {
  cx: number;
  cy: number;
  size: number;
  /** radians; the crop is rotated by this so that the eyes come out level */
  angle: number;
}

/**
 * The crop the embedder sees. The side is the mean eye-to-mouth distance divided by `eyeToMouth`,
 * centred a little below the centroid of eyes and mouth (the geometry face-api uses to approximate
 * dlib's face chips, which its ResNet was trained on). `rotate` levels the eyes.
 */
export function cropGeometry(p: FivePoints, eyeToMouth: number, rotate: boolean): CropGeometry {
  const mouth: Point = [(p.mouthLeft[0] + p.mouthRight[0]) / 2, (p.mouthLeft[1] + p.mouthRight[1]) / 2];
  const ref: Point = [(p.leftEye[0] + p.rightEye[0] + mouth[0]) / 3, (p.leftEye[1] + p.rightEye[1] + mouth[1]) / 3];
  const d = (a: Point, b: Point): number => Math.hypot(a[0] - b[0], a[1] - b[1]);
  const e2m = (d(mouth, p.leftEye) + d(mouth, p.rightEye)) / 2;
  const size = e2m / eyeToMouth;
  const angle = rotate ? Math.atan2(p.rightEye[1] - p.leftEye[1], p.rightEye[0] - p.leftEye[0]) : 0;
  const dy = 0.07 * size;
  return { cx: ref[0] - Math.sin(angle) * dy, cy: ref[1] + Math.cos(angle) * dy, size, angle };
}

/**
 * The crop for an embedder trained on faces warped onto fixed landmark positions (ArcFace's 112 px
 * template, for one): the least-squares similarity transform from the template's five points to
 * the detected ones, as a geometry for `warpCrop`. `side` is the template's crop side in pixels.
 */
export function templateGeometry(p: FivePoints, template: readonly Point[], side: number): CropGeometry {
  const src = [p.leftEye, p.rightEye, p.nose, p.mouthLeft, p.mouthRight];
  const n = src.length;
  let tx = 0, ty = 0, px = 0, py = 0;
  for (let i = 0; i < n; i++) {
    tx += template[i]![0] / n;
    ty += template[i]![1] / n;
    px += src[i]![0] / n;
    py += src[i]![1] / n;
  }
  // Image point = k R(angle) (template point - template centroid) + image centroid.
  let a = 0, b = 0, norm = 0;
  for (let i = 0; i < n; i++) {
    const ux = template[i]![0] - tx, uy = template[i]![1] - ty;
    const vx = src[i]![0] - px, vy = src[i]![1] - py;
    a += ux * vx + uy * vy;
    b += ux * vy - uy * vx;
    norm += ux * ux + uy * uy;
  }
  a /= norm;
  b /= norm;
  // Template pixel centres sit on integer coordinates, so the crop's centre is at (side - 1) / 2;
  // warpCrop samples at pixel centres, hence the half pixel added back to the image coordinates.
  const cu = (side - 1) / 2 - tx, cv = (side - 1) / 2 - ty;
  return { cx: px + a * cu - b * cv + 0.5, cy: py + b * cu + a * cv + 0.5, size: Math.hypot(a, b) * side, angle: Math.atan2(b, a) };
}

/**
 * Samples a square crop of `out` x `out` pixels (bilinear, edges clamped) as float RGB 0..255.
 * `mirror` flips it left-right, for the mirror-averaged embedding.
 */
export function warpCrop(rgb: Uint8Array, width: number, height: number, g: CropGeometry, out: number, mirror = false): Float32Array {
  const o = new Float32Array(out * out * 3);
  const s = g.size / out;
  const c = Math.cos(g.angle);
  const sn = Math.sin(g.angle);
  const half = out / 2;
  const maxX = width - 1;
  const maxY = height - 1;
  let k = 0;
  for (let v = 0; v < out; v++) {
    const dv = (v + 0.5 - half) * s;
    for (let u = 0; u < out; u++) {
      const du = ((mirror ? out - 1 - u : u) + 0.5 - half) * s;
      const x = g.cx + c * du - sn * dv - 0.5;
      const y = g.cy + sn * du + c * dv - 0.5;
      const xf = Math.floor(x);
      const yf = Math.floor(y);
      const fx = x - xf;
      const fy = y - yf;
      const x0 = xf < 0 ? 0 : xf > maxX ? maxX : xf;
      const x1 = xf + 1 < 0 ? 0 : xf + 1 > maxX ? maxX : xf + 1;
      const y0 = yf < 0 ? 0 : yf > maxY ? maxY : yf;
      const y1 = yf + 1 < 0 ? 0 : yf + 1 > maxY ? maxY : yf + 1;
      const i00 = (y0 * width + x0) * 3;
      const i10 = (y0 * width + x1) * 3;
      const i01 = (y1 * width + x0) * 3;
      const i11 = (y1 * width + x1) * 3;
      for (let ch = 0; ch < 3; ch++) {
        const top = rgb[i00 + ch]! * (1 - fx) + rgb[i10 + ch]! * fx;
        const bottom = rgb[i01 + ch]! * (1 - fx) + rgb[i11 + ch]! * fx;
        o[k++] = top * (1 - fy) + bottom * fy;
      }
    }
  }
  return o;
}

/** Grey levels (ITU-R BT.601 luma) of a float RGB crop. */
export function luma(crop: Float32Array): Float32Array {
  const n = crop.length / 3;
  const g = new Float32Array(n);
  for (let i = 0; i < n; i++) g[i] = 0.299 * crop[3 * i]! + 0.587 * crop[3 * i + 1]! + 0.114 * crop[3 * i + 2]!;
  return g;
}

/** Mean luma of the central part of the crop (the face, without background at the corners). */
export function brightness(grey: Float32Array, side: number): number {
  const m = Math.floor(side / 4);
  let s = 0;
  let n = 0;
  for (let y = m; y < side - m; y++) {
    for (let x = m; x < side - m; x++) {
      s += grey[y * side + x]!;
      n++;
    }
  }
  return s / n;
}

/** Variance of the 4-neighbour Laplacian of the grey crop: low on blurred images. */
export function sharpness(grey: Float32Array, side: number): number {
  let s = 0;
  let s2 = 0;
  let n = 0;
  for (let y = 1; y < side - 1; y++) {
    for (let x = 1; x < side - 1; x++) {
      const i = y * side + x;
      const l = grey[i - 1]! + grey[i + 1]! + grey[i - side]! + grey[i + side]! - 4 * grey[i]!;
      s += l;
      s2 += l * l;
      n++;
    }
  }
  const mean = s / n;
  return s2 / n - mean * mean;
}

export function l2normalise(v: Float32Array): Float32Array {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i]! * v[i]!;
  const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
  const o = new Float32Array(v.length);
  for (let i = 0; i < v.length; i++) o[i] = v[i]! * inv;
  return o;
}

/** Cosine similarity of two L2-normalised vectors (their dot product). */
export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) s += a[i]! * b[i]!;
  return s;
}
