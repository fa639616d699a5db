/**
 * The camera while a shopper pays or enrols: on-device guidance until the face is steady, then the
 * burst of frames for the server's liveness challenge. Frames stay in memory and go only to the
 * platform.
 */
import { captureBurst, closeCamera, grab, openCamera, type CapturedFrame } from './camera.ts';
import { chooseFrames, type BurstLook } from './choose.ts';
import { createDetector, FACE_ASSETS, type Detector } from './detector.ts';
import { guidance, mainFace, SteadyGate, type Guidance, type SeenFrame } from './guidance.ts';

let detector: Promise<Detector | undefined> | undefined;

/** How long after the burst the frames' detections may still take before every frame is sent instead. */
const LOOK_GRACE_MS = 1500;

/**
 * The detector loads once per page. If it cannot load (an old tablet, models not served) the
 * terminal still works: the server checks every frame anyway, the shopper just gets less help.
 */
function loadDetector(): Promise<Detector | undefined> {
  detector ??= createDetector(FACE_ASSETS).catch((e: unknown) => {
    console.warn('on-device face guidance is unavailable', e);
    return undefined;
  });
  return detector;
}

export class CameraSession {
  private stream: MediaStream | undefined;
  private stopped = false;

  constructor(private readonly video: HTMLVideoElement) {}

  async start(): Promise<void> {
    this.stream = await openCamera(this.video);
    void loadDetector();
  }

  /** Resolves once guidance has been `ok` for a few frames in a row; reports guidance as it changes. */
  async waitForSteadyFace(onGuidance: (g: Guidance) => void): Promise<void> {
    const found = await loadDetector();
    if (found === undefined) {
      onGuidance('ok');
      await new Promise((r) => setTimeout(r, 800));
      return;
    }
    const gate = new SteadyGate(4);
    let previous: SeenFrame | undefined;
    let last: Guidance | undefined;
    while (!this.stopped) {
      const seen = await found.see(grab(this.video, 320));
      const g = guidance(seen, previous);
      previous = seen;
      if (g !== last) onGuidance(g);
      last = g;
      if (gate.push(g)) return;
      await new Promise((r) => setTimeout(r, 120));
    }
    throw new Error('camera stopped');
  }

  /**
   * The challenge burst: 8 frames, 250 ms apart, each looked at by the on-device detector while the
   * next is awaited; only the frames the server's check needs are kept (see `chooseFrames`). Without
   * the detector, or when it has not caught up shortly after the burst, every frame is sent.
   */
  async burst(onFrame?: (i: number) => void): Promise<CapturedFrame[]> {
    const found = await loadDetector();
    let looking: Promise<unknown> = Promise.resolve();
    const looks: Promise<BurstLook | undefined>[] = [];
    const onCanvas = (canvas: HTMLCanvasElement): void => {
      const look = looking.then(async (): Promise<BurstLook | undefined> => {
        const face = mainFace(await found!.see(canvas));
        return face === undefined ? undefined : { ...(face.yaw === undefined ? {} : { yaw: face.yaw }), ...(face.eyes === undefined ? {} : { eyes: face.eyes }) };
      });
      looking = look.catch(() => undefined);
      looks.push(look.catch(() => undefined));
    };
    const frames = await captureBurst(this.video, { count: 8, intervalMs: 250, maxSide: 480, ...(onFrame ? { onFrame } : {}), ...(found ? { onCanvas } : {}) });
    if (found === undefined) return frames;
    const seen = await Promise.race([Promise.all(looks), new Promise<undefined>((r) => setTimeout(r, LOOK_GRACE_MS))]);
    return seen === undefined ? frames : chooseFrames(seen).map((i) => frames[i]!);
  }

  stop(): void {
    this.stopped = true;
    closeCamera(this.stream);
    this.stream = undefined;
  }
}
