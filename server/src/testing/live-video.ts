/**
 * Real live video for the browser tests' fake camera: a segment of a clip in
 * ../shared/datasets/video (frames decoded to JPEG, see its MANIFEST.tsv) played forward and back
 * again, so the loop Chromium plays has no jump, at twice the clip's speed. The frames are read at
 * run time and the video is written to a temp dir only; never commit, print or keep them.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { findDataset } from '../platform/index.ts';
import { writeY4m } from './fake-camera.ts';

export const VIDEO_CLIPS = findDataset('video');

export interface LiveSegment {
  clip: string;
  /** first and last frame of the segment (1-based, as the files are numbered) */
  from: number;
  to: number;
  /** Mirror the picture: a person turning to their right then turns to their left. */
  mirror?: boolean;
  /** Forward-and-back passes in the file, each framed a little differently (default 1). */
  passes?: number;
}

/**
 * The one young man of `tran_real` (a hand-held phone selfie) looking at the camera, turning to his
 * own left (yaw measured with the face engine: up to 37 degrees in frames 36 to 86) and back. The
 * server is told to ask for `turn_left`.
 */
export const LIVE_SHOPPER: LiveSegment = { clip: 'tran_real', from: 15, to: 105 };
/**
 * Another person, the bearded man of `krzys_real` (a webcam), mirrored so that his turn is to his
 * left too (25 degrees in frames 45 to 56).
 */
export const LIVE_STRANGER: LiveSegment = { clip: 'krzys_real', from: 42, to: 90, mirror: true, passes: 2 };

/** Moves the picture right by dx and down by dy pixels, as a hand-held camera would. */
export async function shifted(jpeg: Buffer, dx: number, dy: number): Promise<Buffer> {
  if (dx === 0 && dy === 0) return jpeg;
  const { width, height } = await sharp(jpeg).metadata();
  return sharp(jpeg)
    .extend({ left: dx, top: dy, background: { r: 128, g: 128, b: 128 } })
    .extract({ left: 0, top: 0, width: width!, height: height! })
    .jpeg({ quality: 95 })
    .toBuffer();
}

/** The frames of the loop, in order, as JPEG (before the letterbox and the noise). */
export async function liveClipFrames(seg: LiveSegment): Promise<Buffer[]> {
  if (VIDEO_CLIPS === undefined) throw new Error('no video clips under ../shared/datasets (or $FACEPAY_DATASETS)');
  const forward: Buffer[] = [];
  for (let i = seg.from; i <= seg.to; i++) {
    const jpeg = readFileSync(join(VIDEO_CLIPS, seg.clip, `frame_${String(i).padStart(5, '0')}.jpg`));
    forward.push(seg.mirror ? await sharp(jpeg).flop().jpeg({ quality: 95 }).toBuffer() : jpeg);
  }
  // Each leg of each pass is framed a few pixels apart (a hand-held camera never frames a face
  // twice alike): a stream through a turning point or the file's end must not meet the very same
  // landmarks again, which the server refuses as a replayed frame.
  const offsets = [[0, 0], [2, 1], [1, 3], [3, 0]] as const;
  const loop: Buffer[] = [];
  for (let p = 0; p < (seg.passes ?? 1); p++) {
    const [fx, fy] = offsets[(2 * p) % offsets.length]!;
    const [bx, by] = offsets[(2 * p + 1) % offsets.length]!;
    for (const jpeg of forward) loop.push(await shifted(jpeg, fx, fy));
    for (const jpeg of forward.slice(1, -1).reverse()) loop.push(await shifted(jpeg, bx, by));
  }
  return loop;
}

export async function liveClipVideo(file: string, seg: LiveSegment): Promise<void> {
  // 30 frames a second from a 15 fps clip: twice its speed, and a terminal grabbing at 12 a second
  // never takes one video frame twice. Light sensor noise makes every frame distinct, as a camera's are.
  await writeY4m(file, await liveClipFrames(seg), { fps: 30, holdFrames: 1, noise: 2 });
}
