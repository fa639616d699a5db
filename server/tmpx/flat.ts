import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { createFaceEngine } from '../src/face/index.ts';
type P = [number, number];
function solve(A: number[][], b: number[]): number[] {
  const n = b.length; const M = A.map((r, i) => [...r, b[i]!]);
  for (let c = 0; c < n; c++) { let p = c; for (let r = c + 1; r < n; r++) if (Math.abs(M[r]![c]!) > Math.abs(M[p]![c]!)) p = r; [M[c], M[p]] = [M[p]!, M[c]!];
    for (let r = 0; r < n; r++) if (r !== c) { const f = M[r]![c]! / M[c]![c]!; for (let k = c; k <= n; k++) M[r]![k]! -= f * M[c]![k]!; } }
  return M.map((r, i) => r[n]! / r[i]!);
}
function homography(src: P[], dst: P[]): number[] {
  const A: number[][] = []; const b: number[] = [];
  for (let i = 0; i < 4; i++) { const [x, y] = src[i]!; const [u, v] = dst[i]!;
    A.push([x, y, 1, 0, 0, 0, -u * x, -u * y]); b.push(u); A.push([0, 0, 0, x, y, 1, -v * x, -v * y]); b.push(v); }
  return [...solve(A, b), 1];
}
const apply = (H: number[], [x, y]: P): P => { const w = H[6]! * x + H[7]! * y + 1; return [(H[0]! * x + H[1]! * y + H[2]!) / w, (H[3]! * x + H[4]! * y + H[5]!) / w]; };
const engine = await createFaceEngine({ workers: 1 });
const lm = async (img: Buffer) => { const a = await engine.analyze(img, { purpose: 'inspect', liveness: false, embedding: 'check' }); const l = a.faces[0]?.landmarks; return l ? { l, yaw: a.quality?.pose.yaw ?? NaN } : null; };
function parallax(a: any, b: any): number {
  const src: P[] = [a.leftEye, a.rightEye, a.mouthLeft, a.mouthRight]; const dst: P[] = [b.leftEye, b.rightEye, b.mouthLeft, b.mouthRight];
  const H = homography(src, dst); const pred = apply(H, a.nose);
  const iod = Math.hypot(b.rightEye[0] - b.leftEye[0], b.rightEye[1] - b.leftEye[1]);
  return Math.hypot(pred[0] - b.nose[0], pred[1] - b.nose[1]) / iod;
}
const frame = (c: string, i: number) => readFileSync(`/work/shared/datasets/video/${c}/frame_${String(i).padStart(5, '0')}.jpg`);
for (const [clip, ref, frames] of [['tran_real', 25, [40, 50, 60, 70, 80, 115, 118]], ['krzys_real', 20, [34, 36, 47, 50]]] as const) {
  const r = (await lm(frame(clip, ref)))!;
  const out = [];
  for (const f of frames) { const x = await lm(frame(clip, f)); if (x) out.push(`${f}:yaw${x.yaw.toFixed(0)} par${parallax(r.l, x.l).toFixed(3)}`); }
  console.log('GENUINE', clip, out.join('  '));
}
// a flat photo rotated about its vertical axis by theta, seen by a pinhole camera (focal = width)
async function warp(img: Buffer, thetaDeg: number): Promise<Buffer> {
  const { data, info } = await sharp(img).raw().toBuffer({ resolveWithObject: true });
  const W = info.width, Hh = info.height, C = info.channels; const out = Buffer.alloc(data.length);
  const f = W, t = (thetaDeg * Math.PI) / 180, cx = W / 2, cy = Hh / 2, d = f;
  for (let v = 0; v < Hh; v++) for (let u = 0; u < W; u++) {
    // ray through output pixel hits plane rotated by t at distance d: solve for plane coords
    const rx = (u - cx) / f, ry = (v - cy) / f; // ray (rx, ry, 1)
    // plane: point = (X cos t, Y, d + X sin t); ray*s = point → s*rx = X cos t, s = d + X sin t
    const X = (d * rx) / (Math.cos(t) - rx * Math.sin(t)); const s = d + X * Math.sin(t); const Y = s * ry;
    const sx = Math.round(X * f / d + cx), sy = Math.round(Y * f / d + cy);
    if (sx >= 0 && sx < W && sy >= 0 && sy < Hh) for (let c = 0; c < C; c++) out[(v * W + u) * C + c] = data[(sy * W + sx) * C + c]!;
  }
  return sharp(out, { raw: { width: W, height: Hh, channels: C } }).jpeg({ quality: 92 }).toBuffer();
}
for (const [clip, ref] of [['tran_real', 25], ['krzys_real', 20]] as const) {
  const img = frame(clip, ref); const r = (await lm(img))!;
  const out = [];
  for (const th of [10, 20, 30, 40, 50, 60]) { const x = await lm(await warp(img, th)); out.push(x ? `${th}:yaw${x.yaw.toFixed(0)} par${parallax(r.l, x.l).toFixed(3)}` : `${th}:noface`); }
  console.log('FLAT', clip, out.join('  '));
}
process.exit(0);
