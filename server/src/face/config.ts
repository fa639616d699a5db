/** What the engine accepts and how strict the quality gate is; every field can be overridden. */
export interface FaceConfig {
  /** Largest accepted file, in bytes. */
  maxBytes: number;
  /** Largest accepted side, in pixels, before any scaling. */
  maxSidePx: number;
  /** Frames are scaled so that neither side exceeds this before detection (wasm memory never shrinks). */
  detectSidePx: number;
  /** Which embedder to run (see `EMBEDDER_NAMES`). */
  embedder: string;
  /** Average the embedding of the crop and of its mirror image (costs a second embedding pass). */
  mirrorAverage: boolean;
  /** Detections below this score are ignored. */
  minDetectionScore: number;
  /** Smallest face accepted, as the width of the face in the original image, in pixels. */
  minFaceSizePx: number;
  /** For payment, a second face at least this fraction of the main face's width is a refusal. */
  secondFaceRatioPayment: number;
  /** For enrolment, a stricter ratio: nobody else should be recognisable in an enrolment photo. */
  secondFaceRatioEnrolment: number;
  maxYawDeg: number;
  maxPitchDeg: number;
  maxRollDeg: number;
  /** Variance of the Laplacian of the 150 px grey face crop. */
  minSharpness: number;
  /** Mean luma (0..255) of the face crop. */
  minBrightness: number;
  maxBrightness: number;
  /** Passive liveness threshold: scores at or above it count as live. */
  livenessThreshold: number;
  /** Worker threads; 0 runs the engine on the calling thread (tests, CLI on one image). */
  workers: number;
  /**
   * Requests waiting for a worker, per priority, beyond which the next is refused with
   * face_engine_busy. A request is one frame, and a dense capture sends 10 to 150 of them.
   */
  maxQueue: number;
  /** False-match rate at which `compare` decides (threshold read from the calibration file). */
  compareFmr: number;
}

export const defaultFaceConfig: FaceConfig = {
  maxBytes: 8 * 1024 * 1024,
  maxSidePx: 4096,
  detectSidePx: 640,
  embedder: 'faceplugin-arcface512',
  mirrorAverage: true,
  minDetectionScore: 0.5,
  minFaceSizePx: 64,
  secondFaceRatioPayment: 0.5,
  secondFaceRatioEnrolment: 0.3,
  maxYawDeg: 30,
  maxPitchDeg: 30,
  maxRollDeg: 30,
  minSharpness: 20,
  minBrightness: 45,
  maxBrightness: 225,
  livenessThreshold: 0.5,
  workers: 0,
  maxQueue: 320,
  compareFmr: 1e-5,
};

export function faceConfig(overrides: Partial<FaceConfig> = {}): FaceConfig {
  return { ...defaultFaceConfig, ...overrides };
}
