import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chooseFrames, type BurstLook } from './choose.ts';

const front: BurstLook = { yaw: 0.03, eyes: 0.3 };
const turned: BurstLook = { yaw: -0.5, eyes: 0.3 };

test('a turn keeps the first frame, the turned frames and the last two', () => {
  assert.deepEqual(chooseFrames([front, front, turned, turned, front, front, front, front]), [0, 2, 3, 6, 7]);
  // A turned face shows its eyes wider: that sets no open level the frontal frames fall short of.
  const wide = { yaw: 0.5, eyes: 0.4 };
  assert.deepEqual(chooseFrames([front, front, wide, wide, front, front, front, front]), [0, 2, 3, 6, 7]);
});

test('a blink keeps the frames whose eyes closed, against the most open level before them', () => {
  const eyes = [0.3, 0.32, 0.31, 0.12, 0.25, 0.3, 0.31, 0.3];
  assert.deepEqual(chooseFrames(eyes.map((e) => ({ yaw: 0, eyes: e }))), [0, 3, 4, 6, 7]);
});

test('frames the detector could not read are sent for the server to judge', () => {
  assert.deepEqual(chooseFrames([front, undefined, front, { eyes: 0.3 }, front, front]), [0, 1, 3, 4, 5]);
});

test('a still face sends three frames, the fewest the challenge accepts', () => {
  assert.deepEqual(chooseFrames(Array<BurstLook>(8).fill(front)), [0, 6, 7]);
  assert.deepEqual(chooseFrames([front, front]), [0, 1]);
});
