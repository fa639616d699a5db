import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ManualClock, seededRandom } from '../platform/index.ts';
import type { Db } from '../storage/index.ts';
import { describeEachDb } from '../storage/testing.ts';
import { loadMasterKeys, type MasterKeyring } from './crypto.ts';
import { Gallery, galleryMigrations } from './index.ts';
import { near, randomUnit, syntheticCalibration } from './testing.ts';

const model = { name: 'test-model', version: '1' };
let n = 0;

function gallery(db: Db, masterKeys: MasterKeyring, seed: number): Gallery {
  return new Gallery({
    db,
    masterKeys,
    model,
    dim: 128,
    calibration: syntheticCalibration(),
    clock: new ManualClock(),
    ids: { next: (p) => `${p}_mk${String(++n).padStart(6, '0')}` },
    random: seededRandom(seed),
    progressOut: null,
    ann: { threads: 1 },
  });
}

test('the development key is created owner-only in an owner-only data directory', () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'fp-mk-')), 'data');
  const k = loadMasterKeys({}, dir, seededRandom(1));
  assert.equal(k.development, true);
  assert.equal(statSync(dir).mode & 0o777, 0o700);
  assert.equal(statSync(k.file!).mode & 0o777, 0o600);
});

describeEachDb('setting FACEPAY_MASTER_KEY on a data directory that ran on the development key', galleryMigrations, (getDb) => {
  test('re-wraps the data keys with the configured key and says which; the development key is then not needed', async () => {
    const random = seededRandom(9);
    const dir = mkdtempSync(join(tmpdir(), 'fp-mk-'));
    const dev = loadMasterKeys({}, dir, random);
    const before = gallery(getDb(), dev.ring, 1);
    await before.start();
    const face = randomUnit(128, random);
    await before.enrol({ shopperId: 'sh_mk1', embeddings: [{ model, vector: face }], partitionId: 'mk' });

    const configured = Buffer.alloc(32, 7).toString('base64');
    const keys = loadMasterKeys({ FACEPAY_MASTER_KEY: configured }, dir, random);
    assert.equal(keys.development, false);
    assert.equal(keys.retiredDevelopmentKey?.id, dev.ring.current.id, 'the development key is offered for unwrapping');
    const after = gallery(getDb(), keys.ring, 2);
    await after.start();
    assert.ok(after.rewrapped.length >= 2, 'the template and phone keys at least');
    assert.ok(after.rewrapped.every((r) => r.from === dev.ring.current.id));
    const d = await after.identify({ model, vector: near(face, 0.2, random) }, { partitions: ['mk'] });
    assert.equal(d.outcome === 'match' && d.shopperId, 'sh_mk1');

    // Gone, the development key is not missed: every data key is under the configured one.
    rmSync(dev.file!);
    const later = loadMasterKeys({ FACEPAY_MASTER_KEY: configured }, dir, random);
    assert.equal(later.retiredDevelopmentKey, undefined);
    const again = gallery(getDb(), later.ring, 3);
    await again.start();
    assert.deepEqual(again.rewrapped, []);
    const e = await again.identify({ model, vector: near(face, 0.2, random) }, { partitions: ['mk'] });
    assert.equal(e.outcome === 'match' && e.shopperId, 'sh_mk1');
  });

  test('a key that wraps nothing here is refused with what to do, not a stack trace', async () => {
    const other = loadMasterKeys({ FACEPAY_MASTER_KEY: Buffer.alloc(32, 8).toString('base64') }, mkdtempSync(join(tmpdir(), 'fp-mk-')), seededRandom(3));
    await assert.rejects(gallery(getDb(), other.ring, 4).start(), (e: Error & { code?: string }) => e.code === 'master_key_missing' && /FACEPAY_MASTER_KEY_PREVIOUS/.test(e.message));
  });
});
