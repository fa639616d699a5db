import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { findDataset, repoRoot } from '../platform/index.ts';
import { shifted } from '../testing/live-video.ts';

const video = findDataset('video/tran_real');
const facepay = (...args: string[]) => spawnSync(process.execPath, [join(repoRoot, 'server/bin/facepay.js'), 'face', 'liveness', ...args], { encoding: 'utf8', maxBuffer: 1 << 24 });

interface Out {
  live: boolean;
  challenge: { kind: string; passed: boolean; reason: string | null };
  signals: Record<string, { value: unknown; verdict: string; threshold?: unknown }>;
  frames: number;
}

describe('facepay face liveness on a real clip', { skip: video ? false : 'the video clips are absent: set FACEPAY_DATASETS or place them at ../shared/datasets' }, () => {
  test('a real head turn to the left, as filmed (15 fps), is live; each check reports its value and verdict', () => {
    // tran_real frames 20-95: frontal, a turn to his own left (about 37 degrees), frontal again.
    const res = facepay(video!, '--from', '20', '--to', '95', '--fps', '15', '--challenge', 'turn_left', '--json');
    assert.equal(res.status, 0, res.stderr);
    const out = JSON.parse(res.stdout) as Out;
    assert.equal(out.live, true);
    assert.deepEqual(out.challenge, { kind: 'turn_left', passed: true, reason: null });
    assert.equal(out.frames, 76);
    for (const k of ['timing', 'single_face', 'same_face_min_similarity', 'yaw_range', 'max_yaw_step_share']) assert.equal(out.signals[k]?.verdict, 'pass', k);
    const yaw = out.signals.yaw_range!.value as { peak_in_asked_direction: number };
    assert.ok(yaw.peak_in_asked_direction >= 20, `peak ${yaw.peak_in_asked_direction}`);
    const share = out.signals.max_yaw_step_share!.value as number;
    assert.ok(share > 0 && share < 0.5, `step share ${share}`);
    assert.equal(out.signals.passive_score?.verdict, 'info');
  });
  test('the frontal frames alone do not answer a turn; a malformed flag is a usage error', () => {
    const res = facepay(video!, '--from', '1', '--to', '25', '--fps', '12', '--json');
    assert.equal(res.status, 1, res.stderr);
    const out = JSON.parse(res.stdout) as Out;
    assert.equal(out.live, false);
    assert.equal(out.challenge.reason, 'challenge_motion_missing');
    assert.equal(out.signals.yaw_range?.verdict, 'fail');
    const bad = facepay(video!, '--challenge', 'nod', '--json');
    assert.equal(bad.status, 1);
    assert.equal((JSON.parse(bad.stdout) as { error: { code: string } }).error.code, 'invalid_challenge');
  });
});

/** Source frames (0-based) as a 12-a-second terminal sees a 15-a-second clip played at `speed`. */
const resample = (from: number, count: number, speed: number): number[] => Array.from({ length: count }, (_, k) => from + Math.round((k * speed * 15) / 12));
const source = (i: number): string => join(video!, `frame_${String(i + 1).padStart(5, '0')}.jpg`);
/** A temp folder of links to the clip's frames in the order given (no image is copied or written). */
function linked(indices: number[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'facepay-liveness-'));
  indices.forEach((i, k) => symlinkSync(source(i), join(dir, `f${String(k).padStart(4, '0')}.jpg`)));
  return dir;
}

describe('the turn signals on real frames', { skip: video ? false : 'the video clips are absent' }, () => {
  test('tran_real\'s turn to his right peaks under 20 degrees from the camera\'s axis but swings more than 20 from his own frontal yaw: live', () => {
    const dir = linked(resample(100, 60, 1));
    try {
      const res = facepay(dir, '--fps', '12', '--challenge', 'turn_right', '--json');
      const out = JSON.parse(res.stdout) as Out;
      assert.equal(out.challenge.reason, null, res.stdout);
      const yaw = out.signals.yaw_range!.value as { peak_in_asked_direction: number };
      assert.ok(yaw.peak_in_asked_direction < 20, `peak ${yaw.peak_in_asked_direction}`);
      assert.ok((out.signals.turn_swing!.value as number) >= 20, `swing ${JSON.stringify(out.signals.turn_swing)}`);
      assert.ok((out.signals.yaw_jerk!.value as number) < 4, `jerk ${JSON.stringify(out.signals.yaw_jerk)}`);
      assert.equal(out.signals.parallax!.verdict, 'pass');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  test('the same turn at twice its speed, followed by a look down close to the camera, is still one person: live', () => {
    // Frames 90-238: the turn, then his face looking down 30 degrees (cosine 0.23 to his first frame).
    const dir = linked(resample(90, 60, 2));
    try {
      const out = JSON.parse(facepay(dir, '--fps', '12', '--challenge', 'turn_right', '--json').stdout) as Out;
      assert.equal(out.challenge.reason, null);
      assert.equal(out.signals.same_face_min_similarity!.verdict, 'pass');
      assert.ok((out.signals.same_face_min_similarity!.value as number) < 0.3, 'the look-down is in the stream');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  test('a slideshow of his own real frames at middle poses, each held, jumps between holds: refused', async () => {
    // His frames at 3, 9, 23 and 37 degrees (his turn to his left), each shown for five frames (moved
    // a pixel each, as a phone held by hand), and back: no step covers half the swing, but each jump
    // of 14 degrees follows a hold.
    const poses = [24, 30, 34, 74, 34, 30, 24];
    const dir = mkdtempSync(join(tmpdir(), 'facepay-liveness-'));
    try {
      let k = 0;
      for (const [p, i] of poses.entries())
        for (let j = 0; j < 5; j++) writeFileSync(join(dir, `f${String(k++).padStart(4, '0')}.jpg`), await shifted(readFileSync(source(i)), (j % 3) + 3 * (p > 3 ? 1 : 0), j % 2));
      const out = JSON.parse(facepay(dir, '--fps', '12', '--challenge', 'turn_left', '--json').stdout) as Out;
      assert.equal(out.live, false);
      assert.equal(out.challenge.reason, 'challenge_motion_discontinuous');
      assert.equal(out.signals.yaw_jerk!.verdict, 'fail', JSON.stringify(out.signals.yaw_jerk));
      assert.ok((out.signals.max_yaw_step_share!.value as number) < 0.5, JSON.stringify(out.signals.max_yaw_step_share));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
