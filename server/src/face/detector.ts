import { join } from 'node:path';
import { warpCrop, type CropGeometry } from './align.ts';
import type { Frame } from './decode.ts';
import { humanModelUrl, loadOnnxRuntime, loadTf, onnxSession, packageDir, type Tf } from './runtime.ts';

/** A face found in a frame, with its 468 face-mesh landmarks; all coordinates in frame pixels. */
export interface MeshFace {
  /** [x, y, width, height]: the square the landmarks were placed in, clamped to the frame */
  box: [number, number, number, number];
  /** the detector's confidence that this is a face */
  boxScore: number;
  /** the face mesh's confidence that its crop holds a face */
  faceScore: number;
  /** 468 points [x, y, z]; z in the same pixel scale, towards the camera negative */
  mesh: number[][];
  /** radians: yaw (turn) and pitch (nod) of the head, from the mesh (the lean is the eye line's) */
  angle: { yaw: number; pitch: number };
}

export interface Region {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface FaceDetector {
  /**
   * Faces the detector finds in `region` (default: the whole frame), highest detector score first;
   * their landmarks may reach beyond the region, into the rest of the frame.
   */
  detect(frame: Frame, region?: Region): Promise<MeshFace[]>;
}

/** A detector box in frame pixels. */
interface ScoredBox {
  x: number;
  y: number;
  w: number;
  h: number;
  score: number;
}

const IN_W = 320;
const IN_H = 240;
const MESH_SIDE = 192;
/** Candidates below this never reach the mesh; the engine's own threshold is applied by its caller. */
const MIN_CANDIDATE = 0.3;
/** A mesh confidence below this means the crop held no face after all. */
const MIN_MESH = 0.3;
const NMS_IOU = 0.4;
const MAX_FACES = 6;
/**
 * The mesh crop around a detector box: the box's longer side times MESH_SCALE, its centre moved
 * down by MESH_DROP of the box height (the detector's boxes include the forehead). Both were fitted
 * on LFW to the crops Human's BlazeFace gave the same mesh model, so the landmarks, and through
 * them the aligned crops the embedder was measured on, stay where they were.
 */
const MESH_SCALE = 1.1;
const MESH_DROP = 0.05;
/**
 * The mesh's confidence swings with the crop on hard faces (glasses, a cap, a turned head): when it
 * doubts the first crop, a wider one centred on the box is tried (of LFW's 7,701 pair images, 3 had
 * no face without it, 1 with it).
 */
const RETRY_SCALE = 1.4;
/** Above this lean (radians) the mesh is run again on a crop rotated upright, as it was trained. */
const ROTATE_ABOVE = 0.2;

/**
 * Detection with `fr_detect.onnx` (an Ultra-Light 320x240 face detector shipped in the npm package
 * faceplugin-face-recognition-js, beside the embedder) on onnxruntime, one thread: about 2 ms a
 * frame against 20 ms for Human's BlazeFace on the wasm backend. Landmarks from MediaPipe's face
 * mesh (the model file Human ships) on the tfjs wasm backend.
 */
export async function createFaceDetector(): Promise<FaceDetector> {
  const ort = loadOnnxRuntime();
  const file = join(packageDir('faceplugin-face-recognition-js'), 'model', 'fr_detect.onnx');
  const session = await onnxSession(file);
  const tf: Tf = await loadTf();
  const meshModel = await tf.loadGraphModel(humanModelUrl('facemesh'));

  async function boxes(frame: Frame, r: Region): Promise<ScoredBox[]> {
    // Letterboxed: the region keeps its proportions at the top left, the rest is the mean grey (0).
    const s = Math.min(IN_W / r.width, IN_H / r.height);
    const plane = IN_W * IN_H;
    const x = new Float32Array(3 * plane);
    const uMax = Math.min(IN_W, Math.round(r.width * s));
    const vMax = Math.min(IN_H, Math.round(r.height * s));
    const rgb = frame.rgb;
    const fw = frame.width;
    for (let v = 0; v < vMax; v++) {
      const fy = Math.min(frame.height - 1, Math.max(0, r.y + (v + 0.5) / s - 0.5));
      const y0 = Math.floor(fy);
      const y1 = Math.min(frame.height - 1, y0 + 1);
      const ay = fy - y0;
      for (let u = 0; u < uMax; u++) {
        const fx = Math.min(fw - 1, Math.max(0, r.x + (u + 0.5) / s - 0.5));
        const x0 = Math.floor(fx);
        const x1 = Math.min(fw - 1, x0 + 1);
        const ax = fx - x0;
        const i00 = (y0 * fw + x0) * 3;
        const i10 = (y0 * fw + x1) * 3;
        const i01 = (y1 * fw + x0) * 3;
        const i11 = (y1 * fw + x1) * 3;
        const o = v * IN_W + u;
        for (let c = 0; c < 3; c++) {
          const top = rgb[i00 + c]! + (rgb[i10 + c]! - rgb[i00 + c]!) * ax;
          const bottom = rgb[i01 + c]! + (rgb[i11 + c]! - rgb[i01 + c]!) * ax;
          x[c * plane + o] = (top + (bottom - top) * ay - 127) / 128;
        }
      }
    }
    const out = await session.run({ input: new ort.Tensor('float32', x, [1, 3, IN_H, IN_W]) });
    const scores = out['scores']!.data as Float32Array;
    const corners = out['boxes']!.data as Float32Array;
    const found: ScoredBox[] = [];
    for (let i = 0; i < scores.length / 2; i++) {
      const score = scores[2 * i + 1]!;
      if (score < MIN_CANDIDATE) continue;
      const x1 = r.x + (corners[4 * i]! * IN_W) / s;
      const y1 = r.y + (corners[4 * i + 1]! * IN_H) / s;
      const x2 = r.x + (corners[4 * i + 2]! * IN_W) / s;
      const y2 = r.y + (corners[4 * i + 3]! * IN_H) / s;
      if (x2 <= x1 || y2 <= y1) continue;
      found.push({ x: x1, y: y1, w: x2 - x1, h: y2 - y1, score });
    }
    found.sort((a, b) => b.score - a.score);
    const kept: ScoredBox[] = [];
    for (const b of found) {
      if (kept.length === MAX_FACES) break;
      if (kept.every((k) => iou(k, b) <= NMS_IOU)) kept.push(b);
    }
    return kept;
  }

  /** The mesh in a square crop of the frame, mapped back to frame pixels. */
  async function mesh(frame: Frame, g: CropGeometry): Promise<{ score: number; points: number[][] }> {
    const crop = warpCrop(frame.rgb, frame.width, frame.height, g, MESH_SIDE);
    for (let i = 0; i < crop.length; i++) crop[i] = crop[i]! / 255;
    const input = tf.tensor4d(crop, [1, MESH_SIDE, MESH_SIDE, 3]);
    const outputs = meshModel.execute(input) as { shape: number[]; data(): Promise<Float32Array>; dispose(): void }[];
    input.dispose();
    try {
      const score = (await outputs.find((t) => t.shape[t.shape.length - 1] === 1)!.data())[0]!;
      const raw = await outputs.find((t) => t.shape[t.shape.length - 1] === 1404)!.data();
      const k = g.size / MESH_SIDE;
      const c = Math.cos(g.angle);
      const sn = Math.sin(g.angle);
      const points: number[][] = [];
      for (let i = 0; i < 468; i++) {
        const du = (raw[3 * i]! - MESH_SIDE / 2) * k;
        const dv = (raw[3 * i + 1]! - MESH_SIDE / 2) * k;
        points.push([g.cx + c * du - sn * dv, g.cy + sn * du + c * dv, raw[3 * i + 2]! * k]);
      }
      return { score, points };
    } finally {
      for (const t of outputs) t.dispose();
    }
  }

  return {
    async detect(frame, region = { x: 0, y: 0, width: frame.width, height: frame.height }) {
      const faces: MeshFace[] = [];
      for (const b of await boxes(frame, region)) {
        let size = MESH_SCALE * Math.max(b.w, b.h);
        let m = await mesh(frame, { cx: b.x + b.w / 2, cy: b.y + b.h / 2 + MESH_DROP * b.h, size, angle: 0 });
        if (m.score < MIN_MESH) {
          const wider = RETRY_SCALE * Math.max(b.w, b.h);
          const second = await mesh(frame, { cx: b.x + b.w / 2, cy: b.y + b.h / 2, size: wider, angle: 0 });
          if (second.score > m.score) [m, size] = [second, wider];
        }
        if (m.score < MIN_MESH) continue;
        const lean = eyeLine(m.points);
        if (Math.abs(lean) > ROTATE_ABOVE) {
          const [mx, my] = centre(m.points);
          const upright = await mesh(frame, { cx: mx, cy: my, size, angle: lean });
          if (upright.score >= MIN_MESH) m = upright;
        }
        const [mx, my] = centre(m.points);
        const x0 = Math.max(0, mx - size / 2);
        const y0 = Math.max(0, my - size / 2);
        const box: MeshFace['box'] = [x0, y0, Math.min(frame.width, mx + size / 2) - x0, Math.min(frame.height, my + size / 2) - y0];
        faces.push({ box, boxScore: b.score, faceScore: m.score, mesh: m.points, angle: headAngles(m.points) });
      }
      return faces;
    },
  };
}

function iou(a: ScoredBox, b: ScoredBox): number {
  const w = Math.min(a.x + a.w, b.x + b.w) - Math.max(a.x, b.x);
  const h = Math.min(a.y + a.h, b.y + b.h) - Math.max(a.y, b.y);
  if (w <= 0 || h <= 0) return 0;
  const inter = w * h;
  return inter / (a.w * a.h + b.w * b.h - inter);
}

/** Centre of the mesh's bounding box. */
function centre(mesh: number[][]): [number, number] {
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  for (const p of mesh) {
    x0 = Math.min(x0, p[0]!);
    x1 = Math.max(x1, p[0]!);
    y0 = Math.min(y0, p[1]!);
    y1 = Math.max(y1, p[1]!);
  }
  return [(x0 + x1) / 2, (y0 + y1) / 2];
}

// Outer eye corners and the face's top, bottom and sides in MediaPipe's mesh numbering.
const EYE_OUTER = [33, 263] as const;
const TOP = 10;
const CHIN = 152;
const SIDE_A = 234;
const SIDE_B = 454;

/** Angle of the line through the outer eye corners (radians, image y downwards). */
function eyeLine(mesh: number[][]): number {
  const [a, b] = [mesh[EYE_OUTER[0]]!, mesh[EYE_OUTER[1]]!];
  const [l, r] = a[0]! <= b[0]! ? [a, b] : [b, a];
  return Math.atan2(r[1]! - l[1]!, r[0]! - l[0]!);
}

/**
 * Head angles from the mesh's own axes: the line across the face (side to side) and the line down
 * it (top to chin), with depth. Depth is weighed at 1 / 1.5 of the image axes, the scale of Human's
 * pose that the quality gate's limits were set on.
 */
function headAngles(mesh: number[][]): MeshFace['angle'] {
  const p = (i: number): [number, number, number] => [mesh[i]![0]!, mesh[i]![1]!, mesh[i]![2]! / 1.5];
  const unit = (v: [number, number, number]): [number, number, number] => {
    const n = Math.hypot(v[0], v[1], v[2]) || 1;
    return [v[0] / n, v[1] / n, v[2] / n];
  };
  const sub = (a: [number, number, number], b: [number, number, number]): [number, number, number] => [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
  const cross = (a: [number, number, number], b: [number, number, number]): [number, number, number] => [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
  const down = unit(sub(p(CHIN), p(TOP)));
  const across0 = unit(sub(p(SIDE_B), p(SIDE_A)));
  const normal = unit(cross(across0, down));
  const across = cross(down, normal);
  return { yaw: Math.atan2(normal[0], across[0]), pitch: Math.atan2(down[2], down[1]) };
}
