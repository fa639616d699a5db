import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cameraProblem } from './camera.ts';

const err = (name: string) => Object.assign(new Error(name), { name });
const secure = { isSecureContext: true, hasMediaDevices: true };

test('a camera that did not open is told apart by what the person can do about it', () => {
  assert.equal(cameraProblem(err('NotAllowedError'), secure), 'denied');
  assert.equal(cameraProblem(err('NotFoundError'), secure), 'no_camera');
  assert.equal(cameraProblem(err('NotReadableError'), secure), 'in_use');
  assert.equal(cameraProblem(err('SecurityError'), secure), 'insecure');
  assert.equal(cameraProblem(err('TypeError'), secure), 'unavailable');
  assert.equal(cameraProblem(err('TypeError'), { isSecureContext: false, hasMediaDevices: false }), 'insecure', 'http pages get no mediaDevices at all');
  assert.equal(cameraProblem(err('TypeError'), { isSecureContext: true, hasMediaDevices: false }), 'unavailable');
});
