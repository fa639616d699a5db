/**
 * The camera in the browser: open it, grab frames onto a canvas, measure light, encode JPEG.
 * Frames live in memory only; nothing here stores or uploads on its own.
 */

export interface CapturedFrame {
  /** Epoch ms when the frame was grabbed: the server checks the challenge's time window with it. */
  at: number;
  jpeg: Uint8Array;
}

/** Why the camera did not open, so that the screen can say what to do about it. */
export type CameraProblem = 'denied' | 'insecure' | 'no_camera' | 'in_use' | 'unavailable';

/**
 * The reason behind a failed `openCamera`: browsers give the camera only to pages over https (or
 * localhost), reject with NotAllowedError when the person or a policy said no, NotFoundError when
 * there is none, NotReadableError when another program holds it.
 */
export function cameraProblem(e: unknown, env: { isSecureContext?: boolean; hasMediaDevices?: boolean } = {}): CameraProblem {
  const secure = env.isSecureContext ?? globalThis.isSecureContext ?? true;
  const hasDevices = env.hasMediaDevices ?? typeof globalThis.navigator?.mediaDevices?.getUserMedia === 'function';
  if (!secure || !hasDevices) return secure ? 'unavailable' : 'insecure';
  const name = typeof e === 'object' && e !== null && 'name' in e ? String((e as { name: unknown }).name) : '';
  if (name === 'NotAllowedError' || name === 'PermissionDeniedError') return 'denied';
  if (name === 'SecurityError') return 'insecure';
  if (name === 'NotFoundError' || name === 'OverconstrainedError' || name === 'DevicesNotFoundError') return 'no_camera';
  if (name === 'NotReadableError' || name === 'TrackStartError' || name === 'AbortError') return 'in_use';
  return 'unavailable';
}

/** Thrown by `openCamera` with the reason, so that a later failure (the server, the network) is not taken for a camera problem. */
export class CameraError extends Error {
  constructor(
    readonly problem: CameraProblem,
    override readonly cause?: unknown,
  ) {
    super(`the camera did not open (${problem})`);
    this.name = 'CameraError';
  }
}

export async function openCamera(video: HTMLVideoElement, ideal = { width: 640, height: 480 }): Promise<MediaStream> {
  let stream: MediaStream;
  try {
    if (typeof navigator.mediaDevices?.getUserMedia !== 'function') throw new Error('no mediaDevices');
    stream = await navigator.mediaDevices.getUserMedia({
      video: { facingMode: 'user', width: { ideal: ideal.width }, height: { ideal: ideal.height } },
      audio: false,
    });
  } catch (e) {
    throw new CameraError(cameraProblem(e), e);
  }
  video.muted = true;
  video.playsInline = true;
  video.srcObject = stream;
  await video.play();
  return stream;
}

export function closeCamera(stream: MediaStream | undefined): void {
  for (const track of stream?.getTracks() ?? []) track.stop();
}

/** The current frame, scaled so that its longer side is at most maxSide. */
export function grab(video: HTMLVideoElement, maxSide = 480, canvas = document.createElement('canvas')): HTMLCanvasElement {
  const scale = Math.min(1, maxSide / Math.max(video.videoWidth, video.videoHeight));
  canvas.width = Math.round(video.videoWidth * scale);
  canvas.height = Math.round(video.videoHeight * scale);
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  if (!ctx) throw new Error('no 2d canvas');
  ctx.drawImage(video, 0, 0, canvas.width, canvas.height);
  return canvas;
}

/** Mean luma (BT.601) inside box, or the whole canvas, sampled on a grid to stay cheap. */
export function meanLuma(canvas: HTMLCanvasElement, box?: readonly [number, number, number, number]): number {
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  if (!ctx) return 0;
  const [x, y, w, h] = box ?? [0, 0, canvas.width, canvas.height];
  const x0 = Math.max(0, Math.floor(x));
  const y0 = Math.max(0, Math.floor(y));
  const w0 = Math.max(1, Math.min(canvas.width - x0, Math.floor(w)));
  const h0 = Math.max(1, Math.min(canvas.height - y0, Math.floor(h)));
  const data = ctx.getImageData(x0, y0, w0, h0).data;
  const stride = Math.max(1, Math.floor((w0 * h0) / 2000)) * 4;
  let sum = 0;
  let n = 0;
  for (let i = 0; i < data.length; i += stride) {
    sum += 0.299 * data[i]! + 0.587 * data[i + 1]! + 0.114 * data[i + 2]!;
    n++;
  }
  return n === 0 ? 0 : sum / n;
}

export async function toJpeg(canvas: HTMLCanvasElement, quality = 0.85): Promise<Uint8Array> {
  const blob = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, 'image/jpeg', quality));
  if (blob === null) throw new Error('the browser could not encode the frame');
  return new Uint8Array(await blob.arrayBuffer());
}

/** `count` frames, `intervalMs` apart, for the server's liveness challenge; `onCanvas` sees each frame's pixels. */
export async function captureBurst(
  video: HTMLVideoElement,
  opts: { count: number; intervalMs: number; maxSide?: number; now?: () => number; onFrame?: (i: number) => void; onCanvas?: (canvas: HTMLCanvasElement, i: number) => void },
): Promise<CapturedFrame[]> {
  const now = opts.now ?? Date.now;
  const frames: CapturedFrame[] = [];
  for (let i = 0; i < opts.count; i++) {
    if (i > 0) await new Promise((r) => setTimeout(r, opts.intervalMs));
    const at = now();
    const canvas = grab(video, opts.maxSide);
    frames.push({ at, jpeg: await toJpeg(canvas) });
    opts.onCanvas?.(canvas, i);
    opts.onFrame?.(i);
  }
  return frames;
}

/**
 * The challenge's answer as the server wants it: a continuous stream of `count` frames at `fps`,
 * in order, each with its capture time (docs/device-protocol.md: at least 10 a second, no pause
 * above 400 ms). Grabs are scheduled on absolute times so a slow encoder cannot stretch the stream;
 * the JPEG encoding runs beside the next grabs.
 */
export async function captureStream(
  video: HTMLVideoElement,
  opts: { count: number; fps: number; maxSide?: number; quality?: number; now?: () => number; onFrame?: (i: number) => void },
): Promise<CapturedFrame[]> {
  const now = opts.now ?? Date.now;
  const interval = 1000 / opts.fps;
  const fresh = newFrames(video);
  const encoded: Promise<CapturedFrame>[] = [];
  const start = now();
  let last = -Infinity;
  let lastSig = '';
  try {
    for (let i = 0; i < opts.count; i++) {
      // A late timer is caught up, but never by two grabs in one camera frame: the server refuses a
      // repeated frame as a replay. A camera slower than the stream is waited for (briefly).
      const wait = Math.max(start + i * interval - now(), last + interval / 2 - now());
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      await fresh.next(interval * 2);
      // A camera (or a browser under load) may hand the same picture twice; the server would refuse
      // it as a replay, so a repeat is dropped and the next picture awaited, for one interval at most.
      let canvas = grab(video, opts.maxSide);
      let sig = signature(canvas);
      for (let tries = 0; sig === lastSig && tries < 6; tries++) {
        await new Promise((r) => setTimeout(r, interval / 6));
        canvas = grab(video, opts.maxSide);
        sig = signature(canvas);
      }
      lastSig = sig;
      const at = now();
      last = at;
      encoded.push(toJpeg(canvas, opts.quality).then((jpeg) => ({ at, jpeg })));
      opts.onFrame?.(i);
    }
  } finally {
    fresh.stop();
  }
  return Promise.all(encoded);
}

/** A cheap fingerprint of a frame's pixels (a grid of samples): equal for a picture handed twice. */
function signature(canvas: HTMLCanvasElement): string {
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  if (!ctx) return '';
  const data = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
  let h = 2166136261;
  const step = Math.max(4, Math.floor(data.length / 4096 / 4) * 4);
  for (let i = 0; i < data.length; i += step) h = Math.imul(h ^ data[i]!, 16777619);
  return `${canvas.width}x${canvas.height}:${h >>> 0}`;
}

type FrameCallbackVideo = HTMLVideoElement & { requestVideoFrameCallback?(cb: (now: number, meta: { presentedFrames: number }) => void): number };

/**
 * Follows the frames the camera presents (requestVideoFrameCallback, where the browser has it):
 * `next` resolves once a frame not yet taken is there, or after `timeoutMs` whatever happened.
 */
function newFrames(video: HTMLVideoElement): { next(timeoutMs: number): Promise<void>; stop(): void } {
  const v = video as FrameCallbackVideo;
  if (typeof v.requestVideoFrameCallback !== 'function') return { next: async () => undefined, stop: () => undefined };
  let presented = 0;
  let taken = 0;
  let waiter: (() => void) | undefined;
  let stopped = false;
  const onFrame = (_: number, meta: { presentedFrames: number }): void => {
    presented = meta.presentedFrames;
    waiter?.();
    if (!stopped) v.requestVideoFrameCallback!(onFrame);
  };
  v.requestVideoFrameCallback(onFrame);
  return {
    async next(timeoutMs) {
      if (presented <= taken) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, timeoutMs);
          waiter = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        waiter = undefined;
      }
      taken = presented;
    },
    stop() {
      stopped = true;
    },
  };
}

export function base64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}
