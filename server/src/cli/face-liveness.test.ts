import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { findDataset, repoRoot } from '../platform/index.ts';

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
