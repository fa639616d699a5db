import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Challenge, ChallengeFrame, ChallengeFrameAnalysis } from './challenge.ts';
import { analyseStream, checkStaged, checkStream, coarseFrames, repeatedFrames, stagedSelection, stretchesOf } from './sequence.ts';

/** A synthetic frame at 12 a second: a face whose yaw is given; landmarks move with the yaw (the nose off the face's plane). */
function frame(i: number, yaw: number, opts: { person?: number; hash?: string } = {}): ChallengeFrame {
  const at = T0 + 300 + Math.round((i * 1000) / 12);
  const shift = yaw / 2 + (at % 97) * 0.01;
  const embedding = new Float32Array(4);
  embedding[opts.person ?? 0] = 1;
  const analysis: ChallengeFrameAnalysis = {
    image: { width: 640, height: 480, sha256: opts.hash ?? `h${i}` },
    faces: [
      {
        box: [200, 100, 200, 200],
        score: 0.9,
        landmarks: { leftEye: [260 + shift, 180], rightEye: [340 + shift, 180], nose: [300 + 4 * shift, 230], mouthLeft: [270 + shift, 270], mouthRight: [330 + shift, 270] },
      },
    ],
    quality: { ok: true, reason: null, faceSizePx: 200, pose: { yaw, pitch: 0, roll: 0 }, sharpness: 100, brightness: 120 },
    eyeAspectRatio: 0.3,
    checkEmbedding: embedding,
    error: null,
  };
  return { at, analysis };
}

const T0 = Date.UTC(2026, 2, 1, 10);
const challenge = (kind: Challenge['kind']): Challenge => ({ id: 'chl_test', kind, issuedAt: T0, expiresAt: T0 + 10_000 });
/** 60 frames: frontal until `from`, a smooth turn to 30 degrees and back over 16 frames, frontal after. */
function turnAt(from: number, count = 60): number[] {
  return Array.from({ length: count }, (_, i) => {
    const k = i - from;
    return k < 0 || k > 16 ? ((i * 7) % 5) - 2 : Math.round(30 * Math.sin((Math.PI * k) / 16));
  });
}
const range = ([a, b]: readonly [number, number]): number[] => Array.from({ length: b - a + 1 }, (_, k) => a + k);
const stream = (yaws: number[], edit: (i: number) => { person?: number; hash?: string } = () => ({})): ChallengeFrame[] => yaws.map((y, i) => frame(i, y, edit(i)));

const hashesOf = (frames: ChallengeFrame[]): string[] => frames.map((f) => f.analysis.image.sha256);
const select = (kind: Challenge['kind'], frames: ChallengeFrame[]): number[] =>
  stagedSelection(challenge(kind), frames.map((f) => f.at), hashesOf(frames), (i) => frames[i]!.analysis);

/** The staged decision on frames whose analyses are all known, as bench:liveness makes it. */
function staged(kind: Challenge['kind'], frames: ChallengeFrame[]): ReturnType<typeof checkStaged> {
  const chosen = select(kind, frames);
  const arrivedAt = frames[frames.length - 1]!.at + 150;
  return checkStaged(challenge(kind), frames.map((f) => f.at), new Map(chosen.map((i) => [i, frames[i]!.analysis])), arrivedAt);
}

describe('the two passes over a stream', () => {
  test('the coarse pass takes every third frame and the last; a blink is analysed whole', () => {
    assert.deepEqual(coarseFrames(10, 'turn_left'), [0, 3, 6, 9]);
    assert.deepEqual(coarseFrames(11, 'turn_right'), [0, 3, 6, 9, 10]);
    assert.deepEqual(coarseFrames(5, 'blink'), [0, 1, 2, 3, 4]);
    assert.deepEqual(coarseFrames(7, 'turn_left', { coarseEvery: 1 }), [0, 1, 2, 3, 4, 5, 6]);
  });

  test('the dense pass fills every frame from the frontal sample before a turn to the frontal sample after it', () => {
    const frames = stream(turnAt(20));
    const coarse = new Map(coarseFrames(60, 'turn_left').map((i) => [i, frames[i]!.analysis] as const));
    // The turn leaves the frontal pose at frame 23 and is back by 35: samples 21 and 36 bound it.
    assert.deepEqual(stretchesOf(60, coarse), [[21, 36]]);
    const all = new Set(select('turn_left', frames));
    for (let i = 21; i <= 36; i++) assert.ok(all.has(i), `frame ${i} analysed`);
    assert.ok(!all.has(40) && !all.has(10), 'frontal frames away from the turn are left to the coarse pass');
    assert.ok(all.size < 40, `${all.size} of 60 frames analysed`);
  });

  test('a genuine turn passes as with every frame analysed, its window given in frames of the whole stream', () => {
    for (const from of [5, 20, 21, 22, 38]) {
      const frames = stream(turnAt(from));
      const full = checkStream(challenge('turn_left'), frames, frames[59]!.at + 150);
      const two = staged('turn_left', frames);
      assert.equal(full.passed, true, `full, turn at ${from}`);
      assert.equal(two.passed, true, `staged, turn at ${from}: ${two.reason}`);
      const [a, b] = two.verdict!.window!;
      assert.ok(a < from + 3 && b > from + 13, `window ${a}..${b} around the turn at ${from}`);
      assert.ok(Math.abs(frames[a]!.analysis.quality!.pose.yaw) <= 12 && Math.abs(frames[b]!.analysis.quality!.pose.yaw) <= 12);
      assert.equal(two.verdict!.observed.maxYawStepShare, full.verdict!.observed.maxYawStepShare, 'the turn is measured on the same frames');
      // The parallax is measured against the most frontal frame analysed before the turn, which the
      // coarse pass may not have sampled: near, not equal.
      assert.ok(Math.abs(two.verdict!.observed.parallax - full.verdict!.observed.parallax) < 0.1 * full.verdict!.observed.parallax);
      assert.ok(two.indices.length < 45, `${two.indices.length} frames analysed`);
    }
  });

  test('a slideshow jumping to the turned pose fails as discontinuous, wherever the jump falls between coarse samples', () => {
    for (const at of [20, 21, 22]) {
      const yaws = Array.from({ length: 60 }, (_, i) => (i >= at && i < at + 8 ? 30 : 0));
      const frames = stream(yaws);
      assert.equal(staged('turn_left', frames).reason, 'challenge_motion_discontinuous', `jump at ${at}`);
      assert.equal(checkStream(challenge('turn_left'), frames, frames[59]!.at + 150).reason, 'challenge_motion_discontinuous');
    }
  });

  test('a face switched anywhere fails: inside the turn on any frame, outside it for as long as the coarse step', () => {
    // Inside the turn, a single frame of another person.
    for (const k of [24, 25, 26, 29]) assert.equal(staged('turn_left', stream(turnAt(20), (i) => (i === k ? { person: 1 } : {}))).reason, 'challenge_face_changed', `frame ${k}`);
    // Before the turn: another person for three frames, wherever they fall.
    for (const s of [4, 5, 6]) assert.equal(staged('turn_left', stream(turnAt(30), (i) => (i >= s && i < s + 3 ? { person: 1 } : {}))).reason, 'challenge_face_changed', `from ${s}`);
    // After the turn, from there to the end.
    assert.equal(staged('turn_left', stream(turnAt(10), (i) => (i >= 40 ? { person: 1 } : {}))).reason, 'challenge_face_changed');
  });

  test('once a stretch answers the challenge, the turns after it are left to the coarse pass; a stretch that does not answer it leads to the next', () => {
    // Two left turns: the first answers, the second is not analysed densely.
    const twice = turnAt(5).map((y, i) => (i > 30 ? turnAt(33)[i]! : y));
    const frames = stream(twice);
    const coarse = new Map(coarseFrames(60, 'turn_left').map((i) => [i, frames[i]!.analysis] as const));
    const [s1, s2] = stretchesOf(60, coarse);
    assert.ok(s1 && s2, 'two stretches');
    const chosen = new Set(select('turn_left', frames));
    assert.ok(range(s1).every((i) => chosen.has(i)));
    assert.ok(!range(s2).every((i) => chosen.has(i)), 'the second turn is not analysed whole');
    assert.equal(staged('turn_left', frames).passed, true);
    // A first stretch that jumps (a swap of photos), then a real turn: both are analysed whole, and the turn passes.
    const jumpThenTurn = Array.from({ length: 60 }, (_, i) => (i >= 6 && i < 12 ? 30 : i > 30 ? turnAt(33)[i]! : 0));
    const f2 = stream(jumpThenTurn);
    const c2 = new Map(coarseFrames(60, 'turn_left').map((i) => [i, f2[i]!.analysis] as const));
    const chosen2 = new Set(select('turn_left', f2));
    for (const s of stretchesOf(60, c2)) assert.ok(range(s).every((i) => chosen2.has(i)), `stretch ${s} analysed whole`);
    assert.equal(staged('turn_left', f2).passed, true);
    // A turn the wrong way first: the one asked for comes after it, and is found.
    const wrongThenRight = turnAt(5).map((y, i) => (i <= 22 ? -y : i > 30 ? turnAt(33)[i]! : y));
    assert.equal(staged('turn_left', stream(wrongThenRight)).passed, true);
    assert.equal(staged('turn_right', stream(wrongThenRight)).passed, true);
  });

  test('a frame sent twice is refused even when neither copy is a coarse sample', () => {
    assert.deepEqual(repeatedFrames(['a', 'b', 'a', 'c', 'b', 'a']), [0, 1, 2, 4, 5]);
    const frames = stream(turnAt(30), (i) => (i === 4 || i === 8 ? { hash: 'same' } : {}));
    assert.equal(staged('turn_left', frames).reason, 'challenge_replayed_frame');
  });

  test('a still face never leaves the frontal pose: the coarse pass alone decides, and the turn is missing', () => {
    const frames = stream(Array.from({ length: 60 }, (_, i) => (i * 3) % 5));
    const r = staged('turn_left', frames);
    assert.equal(r.reason, 'challenge_motion_missing');
    assert.equal(r.indices.length, 21);
  });

  test('analyseStream analyses what stagedSelection chooses, each frame once, and starts on a turn before the coarse pass is over', async () => {
    for (const [name, frames] of [
      ['a turn', stream(turnAt(20))],
      ['two turns', stream(turnAt(5).map((y, i) => (i > 35 && i < 52 ? -turnAt(36)[i]! : y)))],
      ['a turn at the end, a frame sent twice', stream(turnAt(44), (i) => (i === 10 || i === 13 ? { hash: 'same' } : {}))],
      ['a still face', stream(Array.from({ length: 60 }, () => 0))],
    ] as const) {
      const hashes = frames.map((f) => f.analysis.image.sha256);
      const asked: { pass: string; i: number }[] = [];
      // The engine answers in the order asked, one at a time, as a busy pool does.
      let queue = Promise.resolve();
      const done = await analyseStream(challenge('turn_left'), frames.map((f) => f.at), hashes, (i, pass) => {
        asked.push({ pass, i });
        const answer = queue.then(() => frames[i]!.analysis);
        queue = answer.then(() => undefined);
        return answer;
      });
      const all = asked.map((a) => a.i);
      assert.equal(new Set(all).size, all.length, `${name}: no frame analysed twice`);
      assert.deepEqual([...done.keys()].sort((a, b) => a - b), select('turn_left', [...frames]), name);
      assert.deepEqual(asked.filter((a) => a.pass === 'coarse').map((a) => a.i), coarseFrames(60, 'turn_left'), name);
    }
    // With the engine answering as it goes, the dense frames of a turn early in the stream are asked
    // for before the last coarse sample has come back.
    const frames = stream(turnAt(5));
    const order: string[] = [];
    await analyseStream(challenge('turn_left'), frames.map((f) => f.at), hashesOf(frames), async (i, pass) => {
      order.push(pass);
      await new Promise((r) => setTimeout(r, pass === 'coarse' ? i : 0));
      order.push(`${pass} done`);
      return frames[i]!.analysis;
    });
    assert.ok(order.indexOf('dense') < order.lastIndexOf('coarse done'), 'the dense pass began during the coarse one');
  });

  test('a refusal by the engine during either pass rejects the whole analysis', async () => {
    const frames = stream(turnAt(20));
    const hashes = frames.map((f) => f.analysis.image.sha256);
    for (const failAt of [0, 21, 24]) {
      await assert.rejects(
        analyseStream(challenge('turn_left'), frames.map((f) => f.at), hashes, async (i) => {
          if (i === failAt) throw new Error(`engine failed on ${i}`);
          return frames[i]!.analysis;
        }),
        new RegExp(`engine failed on ${failAt}`),
      );
    }
  });
});
