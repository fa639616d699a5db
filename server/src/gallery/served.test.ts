import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DomainError, ManualClock, seededRandom } from '../platform/index.ts';
import type { Db } from '../storage/index.ts';
import { describeEachDb } from '../storage/testing.ts';
import { masterKeyFromBytes, type MasterKeyring } from './crypto.ts';
import { Gallery, galleryMigrations, type Embedding, type GalleryOptions } from './index.ts';
import { near, randomUnit, syntheticCalibration } from './testing.ts';

const DIM = 128;
const model = { name: 'test-model', version: '1' };
const emb = (vector: Float32Array): Embedding => ({ model, vector });
const ring: MasterKeyring = { current: masterKeyFromBytes(Buffer.alloc(32, 3)), previous: [] };
// Template and shopper ids are unique across the instances sharing a database, as real ids are.
let idCounter = 0;

function makeGallery(db: Db, extra: Partial<GalleryOptions> = {}): Gallery {
  return new Gallery({
    db,
    masterKeys: ring,
    model,
    dim: DIM,
    calibration: syntheticCalibration(),
    clock: new ManualClock(),
    ids: { next: (p) => `${p}_${String(++idCounter).padStart(6, '0')}` },
    random: seededRandom(idCounter + 11),
    progressOut: null,
    ann: { threads: 1 },
    exactScanRate: 10_000,
    ...extra,
  });
}

function isNotServed(partition: string): (e: unknown) => boolean {
  return (e) => {
    assert.ok(e instanceof DomainError, String(e));
    assert.equal(e.code, 'gallery_partition_not_served');
    assert.equal(e.kind, 'unavailable');
    assert.equal(e.details?.partition, partition);
    assert.match(e.message, new RegExp(`gallery partition ${partition} is not served by this process`));
    return true;
  };
}

test('the served partitions are one or more distinct ids', () => {
  assert.throws(() => makeGallery(undefined as unknown as Db, { servedPartitions: [] }), /one or more distinct/);
  assert.throws(() => makeGallery(undefined as unknown as Db, { servedPartitions: ['eu', 'eu'] }), /one or more distinct/);
  assert.throws(() => makeGallery(undefined as unknown as Db, { servedPartitions: [''] }), /one or more distinct/);
});

describeEachDb('gallery serving some partitions', galleryMigrations, (getDb) => {
  const random = seededRandom(99);
  const people = new Map<string, Float32Array>();
  const person = (id: string): Float32Array => {
    let v = people.get(id);
    if (v === undefined) {
      v = randomUnit(DIM, random);
      people.set(id, v);
    }
    return v;
  };
  const frames = (id: string, n = 3): Embedding[] => Array.from({ length: n }, () => emb(near(person(id), 0.25, random)));
  const probe = (id: string): Embedding => emb(near(person(id), 0.3, random));

  // Each test uses partitions of its own (the database is shared by the suite), named by a prefix.
  const pair = async (prefix: string): Promise<{ a: Gallery; b: Gallery; pa: string; pb: string }> => {
    const pa = `${prefix}-a`;
    const pb = `${prefix}-b`;
    const a = makeGallery(getDb(), { servedPartitions: [pa] });
    const b = makeGallery(getDb(), { servedPartitions: [pb] });
    await a.start();
    await b.start();
    return { a, b, pa, pb };
  };

  test('a shopper enrolled through A in both partitions is found by B in its own; B holds only its partition', async () => {
    const { a, b, pa, pb } = await pair('both');
    await a.enrol({ shopperId: 'sh_both', embeddings: frames('sh_both'), partitions: [pa, pb], phoneLast4: '4321' });
    for (let i = 0; i < 12; i++) await a.enrol({ shopperId: `sh_aonly${i}`, embeddings: frames(`sh_aonly${i}`), partitions: [pa] });
    const found = await b.identify(probe('sh_both'), { partitions: [pb] });
    assert.equal(found.outcome, 'match');
    if (found.outcome === 'match') assert.equal(found.shopperId, 'sh_both');
    // The default scope is what this process serves.
    const again = await b.identify(probe('sh_both'));
    assert.equal(again.outcome, 'match');
    // A's own shoppers were written to the database and stay out of B's memory.
    assert.deepEqual(b.sizes(), { [pb]: 3 });
    assert.deepEqual(a.sizes(), { [pa]: 3 + 36 });
    assert.equal(b.projectionOf(pa), undefined);
    const stored = await b.storedCounts();
    assert.equal(stored[pa], 39, 'the database holds every partition');
    // A's shoppers are no one to B, even by the digits (the narrowed search reads the database).
    assert.equal((await b.identify(probe('sh_aonly3'))).outcome, 'no_match');
    // A restart of B loads its partition alone, from the database.
    const b2 = makeGallery(getDb(), { servedPartitions: [pb] });
    const report = await b2.start();
    assert.deepEqual(
      report.partitions.map((p) => [p.id, p.templates]),
      [[pb, 3]],
    );
    assert.deepEqual(b2.sizes(), { [pb]: 3 });
    // A process serving every partition (today's default) still loads both.
    const all = makeGallery(getDb());
    await all.start();
    assert.equal(all.sizes()[pa], 39);
    assert.equal(all.sizes()[pb], 3);
  });

  test('a search of a partition this process does not serve is refused with a typed error naming it, the digits step too', async () => {
    const { a, b, pa, pb } = await pair('refuse');
    await a.enrol({ shopperId: 'sh_refused', embeddings: frames('sh_refused'), partitions: [pa], phoneLast4: '1111' });
    await assert.rejects(b.identify(probe('sh_refused'), { partitions: [pa] }), isNotServed(pa));
    await assert.rejects(b.identify(probe('sh_refused'), { partitions: [pb, pa] }), isNotServed(pa));
    await assert.rejects(b.identifyWithDigits(probe('sh_refused'), '1111', { partitions: [pa] }), isNotServed(pa));
    await assert.rejects(b.rank(probe('sh_refused'), { partitions: [pa] }), isNotServed(pa));
    await assert.rejects(b.searchIndex(probe('sh_refused'), { partitions: [pa] }), (e: unknown) => {
      assert.ok(e instanceof DomainError);
      assert.deepEqual(e.details, { partition: pa, served: [pb] });
      return true;
    });
    // The process that serves it answers.
    const d = await a.identify(probe('sh_refused'), { partitions: [pa] });
    assert.equal(d.outcome, 'match');
  });

  test('an enrolment through a process that does not serve the partition is written and found at once where it is served', async () => {
    const { a, b, pa } = await pair('write');
    await b.enrol({ shopperId: 'sh_via_b', embeddings: frames('sh_via_b'), partitions: [pa] });
    assert.deepEqual(b.sizes(), {}, 'B keeps nothing of it in memory');
    assert.equal((await b.storedCounts())[pa], 3);
    const d = await a.identify(probe('sh_via_b'), { partitions: [pa] });
    assert.equal(d.outcome, 'match');
    if (d.outcome === 'match') assert.equal(d.shopperId, 'sh_via_b');
    // A refresh through B (it reads the shopper's partitions from the database) reaches A as well.
    await b.addTemplate('sh_via_b', probe('sh_via_b'));
    await a.sync();
    assert.equal(a.sizes()[pa], 4);
    assert.deepEqual(b.sizes(), {});
  });

  test('a deletion through either process is gone from the other at once', async () => {
    const { a, b, pa, pb } = await pair('delete');
    await a.enrol({ shopperId: 'sh_del1', embeddings: frames('sh_del1'), partitions: [pa, pb] });
    await a.enrol({ shopperId: 'sh_del2', embeddings: frames('sh_del2'), partitions: [pa] });
    assert.equal((await b.identify(probe('sh_del1'), { partitions: [pb] })).outcome, 'match');
    assert.equal((await a.identify(probe('sh_del2'), { partitions: [pa] })).outcome, 'match');
    const r1 = await a.deleteShopper('sh_del1');
    assert.equal(r1.templatesRemoved, 6, 'both partitions\' rows');
    // No sync in between: the search itself takes in the change.
    assert.equal((await b.identify(probe('sh_del1'), { partitions: [pb] })).outcome, 'no_match');
    assert.equal(b.sizes()[pb], 0);
    // B deletes a shopper it never held; A, which did, drops it before its next answer.
    const r2 = await b.deleteShopper('sh_del2');
    assert.equal(r2.templatesRemoved, 3);
    assert.equal((await a.identify(probe('sh_del2'), { partitions: [pa] })).outcome, 'no_match');
    assert.equal(a.sizes()[pa], 0);
  });

  test('readiness: the partitions served and their state, loaded once the start is done (one with no templates yet included)', async () => {
    const g = makeGallery(getDb(), { servedPartitions: ['ready-b', 'ready-a'] });
    const before = g.readiness();
    assert.equal(before.ready, false);
    assert.deepEqual(
      before.details.partitions.map((p) => [p.id, p.state]),
      [
        ['ready-a', 'waiting'],
        ['ready-b', 'waiting'],
      ],
    );
    const writer = makeGallery(getDb(), { servedPartitions: ['ready-a'] });
    await writer.start();
    await writer.enrol({ shopperId: 'sh_ready', embeddings: frames('sh_ready'), partitions: ['ready-a'] });
    await g.start();
    const after = g.readiness();
    assert.equal(after.ready, true);
    assert.deepEqual(after.details.served, ['ready-a', 'ready-b']);
    assert.deepEqual(after.details.partitions, [
      { id: 'ready-a', state: 'loaded', templates: 3, method: 'exact' },
      { id: 'ready-b', state: 'loaded', templates: 0, method: null },
    ]);
    assert.match(after.detail, /3 templates loaded; serves partitions ready-a, ready-b/);
    const every = makeGallery(getDb());
    assert.equal(every.readiness().ready, false, 'not before its start');
    await every.start();
    assert.equal(every.readiness().details.served, 'all');
    assert.ok(every.readiness().details.partitions.some((p) => p.id === 'ready-a' && p.state === 'loaded'));
  });
});
