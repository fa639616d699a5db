/**
 * Flatness: a photo is a plane, a head is not. Four of the five landmarks (the eyes and the mouth
 * corners) lie close to one plane on a face; between two views of a plane, one homography maps every
 * point, so the nose tip lands where the homography of the other four puts it. On a real head the
 * nose stands out of that plane and, once the head turns, lands well off it (plane-induced
 * parallax). Pure geometry on the landmarks: no image is needed.
 */
import type { FivePoints, Point } from './align.ts';

/** Solves the n x n system A x = b by Gaussian elimination with partial pivoting; null when singular. */
function solve(a: number[][], b: number[]): number[] | null {
  const n = b.length;
  const m = a.map((row, i) => [...row, b[i]!]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r]![c]!) > Math.abs(m[p]![c]!)) p = r;
    if (Math.abs(m[p]![c]!) < 1e-12) return null;
    [m[c], m[p]] = [m[p]!, m[c]!];
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = m[r]![c]! / m[c]![c]!;
      for (let k = c; k <= n; k++) m[r]![k]! -= f * m[c]![k]!;
    }
  }
  return m.map((row, i) => row[n]! / row[i]!);
}

/** The homography (row-major 3 x 3, last entry 1) that maps four points onto four others; null when degenerate. */
export function homography(from: readonly Point[], to: readonly Point[]): number[] | null {
  const a: number[][] = [];
  const b: number[] = [];
  for (let i = 0; i < 4; i++) {
    const [x, y] = from[i]!;
    const [u, v] = to[i]!;
    a.push([x, y, 1, 0, 0, 0, -u * x, -u * y]);
    b.push(u);
    a.push([0, 0, 0, x, y, 1, -v * x, -v * y]);
    b.push(v);
  }
  const h = solve(a, b);
  return h === null ? null : [...h, 1];
}

function project(h: readonly number[], [x, y]: Point): Point {
  const w = h[6]! * x + h[7]! * y + 1;
  return [(h[0]! * x + h[1]! * y + h[2]!) / w, (h[3]! * x + h[4]! * y + h[5]!) / w];
}

/**
 * How far the nose lands off the plane of the eyes and mouth corners between two views, in
 * eye distances of the second view. About 0 for a photo however it is tilted; measured on the real
 * live clips, 0.25 to 0.73 for heads turned 19 to 38 degrees, where photos rotated 10 to 60 degrees
 * before the camera gave 0.19 at most (bench:liveness; see challenge.ts, `minParallax`).
 */
export function planeParallax(a: FivePoints, b: FivePoints): number {
  const h = homography([a.leftEye, a.rightEye, a.mouthLeft, a.mouthRight], [b.leftEye, b.rightEye, b.mouthLeft, b.mouthRight]);
  if (h === null) return 0;
  const [px, py] = project(h, a.nose);
  const eyes = Math.hypot(b.rightEye[0] - b.leftEye[0], b.rightEye[1] - b.leftEye[1]);
  return eyes > 0 ? Math.hypot(px - b.nose[0], py - b.nose[1]) / eyes : 0;
}
