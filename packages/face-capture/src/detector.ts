/**
 * The on-device face detector behind the guidance: Human's blazeface and face mesh on tfjs's wasm
 * backend, with the model and wasm files served by the platform (see `DetectorOptions`). Only
 * detection runs here; recognition and liveness are the server's.
 */
import { Human } from '@vladmandic/human';
import { meanLuma } from './camera.ts';
import type { SeenFrame } from './guidance.ts';

export interface DetectorOptions {
  /** Where blazeface.json and facemesh.json (with their .bin files) are served, ending in `/`. */
  modelBasePath: string;
  /** Where tfjs-backend-wasm's .wasm files are served, ending in `/`. */
  wasmPath: string;
}

/** Where the platform serves the detector's model and wasm files for every web app. */
export const FACE_ASSETS: DetectorOptions = { modelBasePath: '/assets/face/models/', wasmPath: '/assets/face/wasm/' };

// MediaPipe face-mesh indices of each eye's corners and lids, as the server measures the eye aspect ratio.
const EYES = [
  [33, 160, 158, 133, 153, 144],
  [362, 385, 387, 263, 373, 380],
];
const dist = (a: readonly (number | undefined)[], b: readonly (number | undefined)[]): number => Math.hypot(a[0]! - b[0]!, a[1]! - b[1]!);

function eyeAspect(mesh: readonly (readonly (number | undefined)[])[]): number | undefined {
  if (mesh.length < 468) return undefined;
  let sum = 0;
  for (const idx of EYES) {
    const p = idx.map((i) => mesh[i]!);
    sum += (dist(p[1]!, p[5]!) + dist(p[2]!, p[4]!)) / (2 * dist(p[0]!, p[3]!));
  }
  return sum / EYES.length;
}

export interface Detector {
  see(canvas: HTMLCanvasElement): Promise<SeenFrame>;
}

export async function createDetector(opts: DetectorOptions): Promise<Detector> {
  const human = new Human({
    backend: 'wasm',
    wasmPath: opts.wasmPath,
    modelBasePath: opts.modelBasePath,
    // A "similar" frame must never reuse the previous frame's result.
    cacheSensitivity: 0,
    filter: { enabled: false },
    face: {
      enabled: true,
      detector: { enabled: true, rotation: false, maxDetected: 3, minConfidence: 0.5 },
      mesh: { enabled: true },
      iris: { enabled: false },
      description: { enabled: false },
      emotion: { enabled: false },
      antispoof: { enabled: false },
      liveness: { enabled: false },
    },
    body: { enabled: false },
    hand: { enabled: false },
    object: { enabled: false },
    gesture: { enabled: false },
    segmentation: { enabled: false },
  });
  await human.load();
  await human.warmup();
  return {
    async see(canvas) {
      const result = await human.detect(canvas);
      const faces = result.face.map((f) => {
        const eyes = eyeAspect(f.mesh);
        return {
          box: f.box,
          ...(f.rotation ? { yaw: f.rotation.angle.yaw, pitch: f.rotation.angle.pitch } : {}),
          ...(eyes === undefined || !Number.isFinite(eyes) ? {} : { eyes }),
        };
      });
      const main = faces.reduce<(typeof faces)[number] | undefined>((a, f) => (a === undefined || f.box[2] > a.box[2] ? f : a), undefined);
      return { width: canvas.width, height: canvas.height, brightness: meanLuma(canvas, main?.box), frameBrightness: meanLuma(canvas), faces };
    },
  };
}
