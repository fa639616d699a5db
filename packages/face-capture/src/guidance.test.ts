import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GUIDANCE_TEXT, GUIDANCES, guidance, SteadyGate, type SeenFrame } from './guidance.ts';

const frame = (faces: SeenFrame['faces'], brightness = 120): SeenFrame => ({ width: 640, height: 480, brightness, faces });
const good = { box: [220, 120, 200, 240] as const, yaw: 0.05, pitch: -0.02 };

test('each problem gets its own guidance, in the order a shopper can fix them', () => {
  assert.equal(guidance(frame([])), 'no_face');
  assert.equal(guidance(frame([good, { box: [10, 10, 150, 170] }])), 'one_person');
  assert.equal(guidance(frame([good, { box: [10, 10, 40, 50] }])), 'ok', 'a small face far behind is not at the camera');
  assert.equal(guidance(frame([{ box: [300, 200, 80, 100] }])), 'come_closer');
  assert.equal(guidance(frame([{ ...good, yaw: 0.6 }])), 'face_camera');
  assert.equal(guidance(frame([{ ...good, pitch: -0.5 }])), 'face_camera');
  assert.equal(guidance(frame([good], 30)), 'too_dark');
  assert.equal(guidance(frame([good])), 'ok');
});

test('a face that moved since the last frame is asked to hold still', () => {
  const moved = { ...good, box: [260, 120, 200, 240] as const };
  assert.equal(guidance(frame([moved]), frame([good])), 'hold_still');
  const nudged = { ...good, box: [224, 122, 200, 240] as const };
  assert.equal(guidance(frame([nudged]), frame([good])), 'ok');
});

test('the capture waits for several good frames in a row', () => {
  const gate = new SteadyGate(3);
  assert.deepEqual(['ok', 'ok', 'hold_still', 'ok', 'ok', 'ok'].map((g) => gate.push(g as 'ok')), [false, false, false, false, false, true]);
});

test('with no face in view the guidance says why where the picture tells: a dark picture is the light', () => {
  assert.equal(guidance({ width: 640, height: 480, brightness: 25, frameBrightness: 25, faces: [] }), 'no_face_dark');
  assert.equal(guidance({ width: 640, height: 480, brightness: 130, frameBrightness: 130, faces: [] }), 'no_face');
});

test('a face too near, off to one side or lit from behind gets its own hint', () => {
  assert.equal(guidance(frame([{ box: [70, 10, 460, 470] }])), 'too_close');
  assert.equal(guidance(frame([{ box: [0, 140, 180, 200] }])), 'off_centre');
  assert.equal(guidance(frame([{ box: [440, 140, 200, 200] }])), 'off_centre');
  assert.equal(guidance({ ...frame([good], 40), frameBrightness: 180 }), 'backlit');
  assert.equal(guidance({ ...frame([good], 40), frameBrightness: 60 }), 'too_dark');
  assert.equal(guidance({ ...frame([good], 120), frameBrightness: 200 }), 'ok', 'a bright background alone is no problem');
});

test('every guidance has its words', () => {
  for (const g of GUIDANCES) assert.ok(GUIDANCE_TEXT[g].length > 0, g);
});
