/**
 * Real faces for tests and benchmarks that need a person to turn their head: LFW photos whose
 * pose was measured with the face engine (yaw in degrees; negative is the person's own right).
 * A server told to ask only for `turn_right` is answered by frontal, turned, frontal. The photos
 * are read from ../shared/datasets at run time; never commit, print or keep them.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { findDataset } from '../platform/index.ts';

export const LFW_IMAGES = findDataset('lfw/images');

export interface TurningPerson {
  /** |yaw| <= 5 */
  frontal: readonly [string, string];
  /** yaw <= -26 */
  turned: readonly [string, string];
}

export const PERSON_A: TurningPerson = { frontal: ['George_W_Bush_0006', 'George_W_Bush_0002'], turned: ['George_W_Bush_0004', 'George_W_Bush_0054'] };
export const PERSON_B: TurningPerson = { frontal: ['Colin_Powell_0040', 'Colin_Powell_0009'], turned: ['Colin_Powell_0071', 'Colin_Powell_0043'] };

/** The JPEG bytes of an LFW photo named like `George_W_Bush_0006`. */
export function lfwPhoto(name: string): Buffer {
  if (LFW_IMAGES === undefined) throw new Error('no LFW under ../shared/datasets (or $FACEPAY_DATASETS)');
  return readFileSync(join(LFW_IMAGES, name.replace(/_\d{4}$/, ''), `${name}.jpg`));
}
