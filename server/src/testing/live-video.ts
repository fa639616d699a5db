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
  /**
   * Frames a second of the file (default 30: twice the clips' 15, so that a terminal grabbing 12 a
   * second never takes one video frame twice and the loop is short).
   */
  fps?: number;
}

/**
 * The one young man of `tran_real` (a hand-held phone selfie) looking at the camera (frames 20 to
 * 31), turning to his own left (yaw measured with the face engine: 20 degrees and more in frames 34
 * to 84, 37 at most) and back (frontal from 87). The server is told to ask for `turn_left`. Played
 * forward and back, each leg holds a whole answer, so that a terminal's 5 s stream begun anywhere
 * in the 4.9 s loop sees one.
 */
export const LIVE_SHOPPER: LiveSegment = { clip: 'tran_real', from: 20, to: 95 };
/**
 * Another person, the bearded man of `krzys_real` (a webcam), mirrored so that his turn is to his
 * left too (frontal to frame 44, 20 degrees and more in 46 to 54, frontal again from 57), at his
 * own speed: his turn is quick, and at twice the speed a 12-a-second stream would see it jump.
 */
export const LIVE_STRANGER: LiveSegment = { clip: 'krzys_real', from: 41, to: 66, mirror: true, passes: 2, fps: 15 };

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
  // Light sensor noise makes every frame distinct, as a camera's are.
  await writeY4m(file, await liveClipFrames(seg), { fps: seg.fps ?? 30, holdFrames: 1, noise: 2 });
}
