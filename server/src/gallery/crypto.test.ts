import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { seededRandom } from '../platform/index.ts';
import { bytesToVector, loadMasterKeys, masterKeyFromBytes, open, phoneSuffixMac, seal, unwrapDataKey, vectorToBytes, wrapDataKey } from './crypto.ts';

const random = seededRandom(1);

test('a sealed template opens only with its key and its associated data', () => {
  const key = random.bytes(32);
  const v = Float32Array.from([0.5, -0.25, 1e-7, 3]);
  const sealed = seal(key, vectorToBytes(v), 'tpl_1|s1', random);
  assert.deepEqual(bytesToVector(open(key, sealed, 'tpl_1|s1')), v);
  assert.throws(() => open(key, sealed, 'tpl_1|s2'), { code: 'template_corrupt' });
  assert.throws(() => open(random.bytes(32), sealed, 'tpl_1|s1'), { code: 'template_corrupt' });
  const flipped = Buffer.from(sealed);
  flipped[flipped.length - 1] = (flipped[flipped.length - 1] ?? 0) ^ 1;
  assert.throws(() => open(key, flipped, 'tpl_1|s1'), { code: 'template_corrupt' });
  assert.equal(sealed.includes(vectorToBytes(v)), false);
});

test('data keys are wrapped by the master key and bound to their id', () => {
  const master = masterKeyFromBytes(random.bytes(32));
  const dk = random.bytes(32);
  const wrapped = wrapDataKey(master, 'gk_1', dk, random);
  assert.deepEqual(unwrapDataKey(master, 'gk_1', wrapped), dk);
  assert.throws(() => unwrapDataKey(master, 'gk_2', wrapped));
  assert.throws(() => masterKeyFromBytes(random.bytes(16)), { code: 'bad_master_key' });
});

test('without FACEPAY_MASTER_KEY a development key is made once, private to the owner', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gallery-key-'));
  const a = loadMasterKeys({}, dir, random);
  const b = loadMasterKeys({}, dir, random);
  assert.equal(a.development, true);
  assert.equal(a.ring.current.id, b.ring.current.id);
  assert.equal(statSync(join(dir, 'gallery-dev-master.key')).mode & 0o077, 0);
  assert.equal(Buffer.from(readFileSync(join(dir, 'gallery-dev-master.key'), 'utf8').trim(), 'base64').length, 32);
  const configured = loadMasterKeys({ FACEPAY_MASTER_KEY: random.bytes(32).toString('base64') }, dir, random);
  assert.equal(configured.development, false);
  assert.notEqual(configured.ring.current.id, a.ring.current.id);
});

test('phone suffix MACs differ by key and by digits', () => {
  const k1 = random.bytes(32);
  assert.equal(phoneSuffixMac(k1, '1234'), phoneSuffixMac(k1, '1234'));
  assert.notEqual(phoneSuffixMac(k1, '1234'), phoneSuffixMac(k1, '1235'));
  assert.notEqual(phoneSuffixMac(k1, '1234'), phoneSuffixMac(random.bytes(32), '1234'));
});
