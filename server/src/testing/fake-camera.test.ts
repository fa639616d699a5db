import assert from 'node:assert/strict';
import { test } from 'node:test';
import sharp from 'sharp';
import { buildY4m, rgbToI420 } from './fake-camera.ts';

test('pure colours convert to their BT.601 YUV values', () => {
  const white = rgbToI420(new Uint8Array(2 * 2 * 3).fill(255), 2, 2);
  assert.deepEqual([...white], [235, 235, 235, 235, 128, 128]);
  const red = rgbToI420(new Uint8Array([255, 0, 0, 255, 0, 0, 255, 0, 0, 255, 0, 0]), 2, 2);
  assert.equal(red[0], 82);
  assert.equal(red[5], 240);
});

test('a y4m file holds a header and each image for the asked number of frames', async () => {
  const png = await sharp({ create: { width: 10, height: 10, channels: 3, background: '#336699' } }).png().toBuffer();
  const y4m = await buildY4m([png, png], { width: 8, height: 6, fps: 5, holdFrames: 3 });
  const header = 'YUV4MPEG2 W8 H6 F5:1 Ip A1:1 C420jpeg\n';
  assert.equal(y4m.subarray(0, header.length).toString(), header);
  const frameBytes = 'FRAME\n'.length + 8 * 6 * 1.5;
  assert.equal(y4m.length, header.length + 6 * frameBytes);
  assert.equal(y4m.subarray(header.length, header.length + 6).toString(), 'FRAME\n');
});

test('with noise no two frames are the same, and without it they are', async () => {
  const png = await sharp({ create: { width: 10, height: 10, channels: 3, background: '#808080' } }).png().toBuffer();
  const frameBytes = 'FRAME\n'.length + 8 * 6 * 1.5;
  const frames = (y4m: Buffer, header: number) =>
    Array.from({ length: 3 }, (_, i) => y4m.subarray(header + i * frameBytes, header + (i + 1) * frameBytes).toString('hex'));
  const header = 'YUV4MPEG2 W8 H6 F5:1 Ip A1:1 C420jpeg\n'.length;
  const plain = frames(await buildY4m([png], { width: 8, height: 6, fps: 5, holdFrames: 3 }), header);
  assert.equal(new Set(plain).size, 1);
  const noisy = frames(await buildY4m([png], { width: 8, height: 6, fps: 5, holdFrames: 3, noise: 2 }), header);
  assert.equal(new Set(noisy).size, 3);
});
