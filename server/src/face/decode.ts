import sharp from 'sharp';
import type { FaceConfig } from './config.ts';
import { faceErrors } from './errors.ts';

/** An RGB frame, 3 bytes a pixel, row-major, with the factor it was scaled by from the original. */
export interface Frame {
  rgb: Buffer;
  width: number;
  height: number;
  /** original pixels per frame pixel (>= 1) */
  scale: number;
  originalWidth: number;
  originalHeight: number;
}

/**
 * Decodes JPEG, PNG or WebP with EXIF orientation applied, refuses files and dimensions above the
 * configured limits before decoding the pixels, and scales the frame down to `detectSidePx`.
 */
export async function decodeImage(image: Uint8Array, config: Pick<FaceConfig, 'maxBytes' | 'maxSidePx' | 'detectSidePx'>): Promise<Frame> {
  if (image.byteLength === 0) throw faceErrors.imageEmpty();
  if (image.byteLength > config.maxBytes) throw faceErrors.imageTooLarge(image.byteLength, config.maxBytes);
  let meta: Awaited<ReturnType<ReturnType<typeof sharp>['metadata']>>;
  try {
    meta = await sharp(image, { failOn: 'error', limitInputPixels: false }).metadata();
  } catch {
    throw faceErrors.imageUndecodable();
  }
  if (!meta.width || !meta.height || !['jpeg', 'png', 'webp'].includes(meta.format ?? '')) throw faceErrors.imageUndecodable();
  // EXIF orientations 5..8 swap the sides.
  const swap = (meta.orientation ?? 1) >= 5;
  const originalWidth = swap ? meta.height : meta.width;
  const originalHeight = swap ? meta.width : meta.height;
  if (Math.max(originalWidth, originalHeight) > config.maxSidePx) {
    throw faceErrors.imageDimensionsTooLarge(originalWidth, originalHeight, config.maxSidePx);
  }
  try {
    const { data, info } = await sharp(image, { failOn: 'error' })
      .rotate()
      .resize({ width: config.detectSidePx, height: config.detectSidePx, fit: 'inside', withoutEnlargement: true })
      .removeAlpha()
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
    let rgb = data;
    if (info.channels === 1) {
      rgb = Buffer.alloc(info.width * info.height * 3);
      for (let i = 0; i < data.length; i++) rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = data[i]!;
    } else if (info.channels !== 3) {
      throw faceErrors.imageUndecodable();
    }
    return { rgb, width: info.width, height: info.height, scale: originalWidth / info.width, originalWidth, originalHeight };
  } catch (e) {
    if (e instanceof Error && e.name === 'DomainError') throw e;
    throw faceErrors.imageUndecodable();
  }
}
