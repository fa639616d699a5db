/**
 * Reads a portal pay code from the camera: a frame every few hundred milliseconds goes through
 * jsQR until one holds a Facepay pay code. Frames stay on the device.
 */
import * as jsqr from 'jsqr';
import { closeCamera, grab, openCamera } from '@facepay/face-capture';
import { payCodeFromQr } from '@facepay/web-common';

const SCAN_INTERVAL_MS = 200;
type JsQr = (data: Uint8ClampedArray, width: number, height: number, opts?: { inversionAttempts?: 'dontInvert' }) => { data: string } | null;
// jsqr is a CommonJS bundle whose types say ES module: the function sits one `default` deep or two.
const wrapped = jsqr as unknown as { default: JsQr | { default: JsQr } };
const jsQR: JsQr = typeof wrapped.default === 'function' ? wrapped.default : wrapped.default.default;

/** Scans until a pay code is seen (resolves with it) or `signal` aborts (resolves undefined). */
export async function scanPayCode(video: HTMLVideoElement, signal: AbortSignal): Promise<string | undefined> {
  const stream = await openCamera(video);
  const canvas = document.createElement('canvas');
  try {
    while (!signal.aborted) {
      if (video.videoWidth > 0) {
        const frame = grab(video, 640, canvas);
        const pixels = frame.getContext('2d', { willReadFrequently: true })?.getImageData(0, 0, frame.width, frame.height);
        const found = pixels && jsQR(pixels.data, pixels.width, pixels.height, { inversionAttempts: 'dontInvert' });
        const code = found ? payCodeFromQr(found.data) : undefined;
        if (code !== undefined) return code;
      }
      await new Promise((r) => setTimeout(r, SCAN_INTERVAL_MS));
    }
    return undefined;
  } finally {
    closeCamera(stream);
  }
}
