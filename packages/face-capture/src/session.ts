/**
 * The camera while a shopper pays or enrols: on-device guidance until the face is steady, then the
 * burst of frames for the server's liveness challenge. Frames stay in memory and go only to the
 * platform.
 */
import { captureStream, closeCamera, grab, openCamera, type CapturedFrame } from './camera.ts';
import { createDetector, FACE_ASSETS, type Detector } from './detector.ts';
import { guidance, SteadyGate, type Guidance, type SeenFrame } from './guidance.ts';

let detector: Promise<Detector | undefined> | undefined;

/**
 * The answer's stream: 12 frames a second leaves room above the server's 10 for a late timer;
 * 5 s holds the moment a shopper takes to read the prompt, an unhurried head turn and the return
 * (the server finds the turn anywhere in the stream); 60 frames at 480 px (about 35 kB each) keep
 * the request near 3 MB, well under its 8 MB limit.
 */
export const STREAM = { count: 60, fps: 12, maxSide: 480 } as const;

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

/** The face was not steady in time; `guidance` is what the screen asked for most meanwhile. */
export class CaptureTimeout extends Error {
  constructor(readonly guidance: Guidance) {
    super(`no steady face in time (${guidance})`);
    this.name = 'CaptureTimeout';
  }
}

function mostSeen(counts: ReadonlyMap<Guidance, number>): Guidance {
  let best: Guidance = 'no_face';
  let n = 0;
  for (const [g, c] of counts) if (g !== 'ok' && c > n) [best, n] = [g, c];
  return best;
}

export class CameraSession {
  private stream: MediaStream | undefined;
  private stopped = false;

  constructor(private readonly video: HTMLVideoElement) {}

  async start(): Promise<void> {
    this.stream = await openCamera(this.video);
    void loadDetector();
  }

  /**
   * Resolves once guidance has been `ok` for a few frames in a row; reports guidance as it changes.
   * With `timeoutMs`, gives up after that long with a `CaptureTimeout` naming the guidance shown
   * most in that time, so the screen can say what kept the capture from starting and offer a retry.
   */
  async waitForSteadyFace(onGuidance: (g: Guidance) => void, opts: { timeoutMs?: number; now?: () => number } = {}): Promise<void> {
    const now = opts.now ?? Date.now;
    const deadline = opts.timeoutMs === undefined ? Infinity : now() + opts.timeoutMs;
    const seenCount = new Map<Guidance, number>();
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
      seenCount.set(g, (seenCount.get(g) ?? 0) + 1);
      if (now() >= deadline) throw new CaptureTimeout(mostSeen(seenCount));
      await new Promise((r) => setTimeout(r, 120));
    }
    throw new Error('camera stopped');
  }

  /**
   * The challenge's answer: a continuous stream of 60 frames at 12 a second (5 s), every one sent,
   * so that the server sees the motion between neighbouring frames and not a few chosen snapshots.
   */
  async burst(onFrame?: (i: number) => void): Promise<CapturedFrame[]> {
    return captureStream(this.video, { count: STREAM.count, fps: STREAM.fps, maxSide: STREAM.maxSide, quality: 0.8, ...(onFrame ? { onFrame } : {}) });
  }

  stop(): void {
    this.stopped = true;
    closeCamera(this.stream);
    this.stream = undefined;
  }
}
