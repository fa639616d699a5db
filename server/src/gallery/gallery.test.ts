import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ManualClock, seededRandom } from '../platform/index.ts';
import type { Db } from '../storage/index.ts';
import { describeEachDb } from '../storage/testing.ts';
import { masterKeyFromBytes, type MasterKeyring } from './crypto.ts';
import { GAP_WAIT_MS, Gallery, galleryMigrations, type Embedding, type GalleryOptions } from './index.ts';
import { near, randomUnit, syntheticCalibration } from './testing.ts';

const DIM = 128;
const model = { name: 'test-model', version: '1' };
const emb = (vector: Float32Array): Embedding => ({ model, vector });

function makeGallery(db: Db, extra: Partial<GalleryOptions> & { seed?: number } = {}): Gallery {
  const random = seededRandom(extra.seed ?? 7);
  return new Gallery({
    db,
    masterKeys: extra.masterKeys ?? ring,
    model,
    dim: DIM,
    calibration: syntheticCalibration(),
    clock: new ManualClock(),
    ids: { next: (p) => `${p}_${String(++idCounter).padStart(6, '0')}` },
    random,
    progressOut: null,
    ann: { threads: 1 },
    exactScanRate: 10_000,
    ...extra,
  });
}

let idCounter = 0;

test('with other populations measured, the gallery decides on their envelope: thresholds at or above every population', () => {
  const lfw = syntheticCalibration();
  const harsher = { ...syntheticCalibration({ s0: 0.4 }), population: 'korean-family' };
  const one = makeGallery(undefined as unknown as Db, { calibration: lfw }).tailModel;
  const both = makeGallery(undefined as unknown as Db, { calibration: lfw, populations: [harsher] }).tailModel;
  for (const f of [1e-6, 1e-9]) assert.ok(both.thresholdFor(f) > one.thresholdFor(f) + 0.01, `at ${f}`);
  assert.throws(() => makeGallery(undefined as unknown as Db, { populations: [syntheticCalibration({ model: 'other' })] }), /calibration is for other/);
});
const ring: MasterKeyring = { current: masterKeyFromBytes(Buffer.alloc(32, 1)), previous: [] };

describeEachDb('gallery', galleryMigrations, (getDb, dialect) => {
  const random = seededRandom(42);
  // Each test uses its own shoppers (and partitions where it matters): the database is shared.
  const people = new Map<string, Float32Array>();
  const person = (id: string): Float32Array => {
    let v = people.get(id);
    if (v === undefined) {
      v = randomUnit(DIM, random);
      people.set(id, v);
    }
    return v;
  };

  test('enrols several templates per shopper, stores them encrypted, and identifies the shopper', async () => {
    const g = makeGallery(getDb());
    await g.start();
    for (let i = 0; i < 40; i++) {
      const id = `sh_a${i}`;
      await g.enrol({ shopperId: id, embeddings: [0, 1, 2].map(() => emb(near(person(id), 0.25, random))), phoneLast4: String(1000 + i) });
    }
    const d = await g.identify(emb(near(person('sh_a7'), 0.3, random)));
    assert.equal(d.outcome, 'match');
    if (d.outcome === 'match') {
      assert.equal(d.shopperId, 'sh_a7');
      assert.ok(d.falseMatchProbability < 1e-6);
    }
    const stranger = await g.identify(emb(randomUnit(DIM, random)));
    assert.equal(stranger.outcome, 'no_match');
    const rows = await getDb().query<{ ciphertext: Buffer; key_id: string; model_name: string; created_at: number }>(
      'SELECT ciphertext, key_id, model_name, created_at FROM gallery_templates WHERE shopper_id = $1',
      ['sh_a7'],
    );
    assert.equal(rows.length, 3);
    for (const r of rows) {
      assert.equal(r.model_name, 'test-model');
      assert.equal(Buffer.from(r.ciphertext).length, 12 + 16 + DIM * 4);
      assert.ok(r.key_id.startsWith('gk_'));
    }
    const suffix = await getDb().query<{ phone_suffix_mac: string }>('SELECT phone_suffix_mac FROM gallery_shoppers WHERE shopper_id = $1', ['sh_a7']);
    assert.notEqual(suffix[0]?.phone_suffix_mac, '1007');
  });

  test('a deleted shopper cannot be returned by the very next search', async () => {
    const g = makeGallery(getDb());
    await g.start();
    await g.enrol({ shopperId: 'sh_del', embeddings: [emb(near(person('sh_del'), 0.2, random))] });
    const probe = emb(near(person('sh_del'), 0.2, random));
    const before = await g.identify(probe);
    assert.equal(before.outcome === 'match' && before.shopperId, 'sh_del');
    assert.deepEqual(await g.deleteShopper('sh_del'), { templatesRemoved: 1 });
    const after = await g.identify(probe);
    assert.notEqual(after.outcome === 'match' && after.shopperId, 'sh_del');
    const ranked = await g.rank(probe);
    assert.equal(
      ranked.ranked.some((r) => r.shopperId === 'sh_del'),
      false,
    );
    assert.deepEqual(await getDb().query('SELECT id FROM gallery_templates WHERE shopper_id = $1', ['sh_del']), []);
  });

  test('a deletion made by another process is honoured even before this one syncs', async () => {
    const a = makeGallery(getDb(), { seed: 1 });
    const b = makeGallery(getDb(), { seed: 2 });
    await a.start();
    await b.start();
    await a.enrol({ shopperId: 'sh_x1', embeddings: [emb(near(person('sh_x1'), 0.2, random))], partitionId: 'px' });
    await b.sync();
    const probe = emb(near(person('sh_x1'), 0.2, random));
    assert.equal((await b.identify(probe, { partitions: ['px'] })).outcome, 'match');
    await a.deleteShopper('sh_x1');
    // b's index still holds the template, but the exact re-score reads the database, where it is gone.
    const d = await b.identify(probe, { partitions: ['px'] });
    assert.equal(d.outcome, 'no_match');
    await b.sync();
    assert.equal(b.sizes().px, 0);
  });

  test('two changes committing out of their numbers\' order: the other process indexes both, the late one at its next sync', async () => {
    const clock = new ManualClock();
    const a = makeGallery(getDb(), { seed: 3 });
    const b = makeGallery(getDb(), { seed: 4, clock });
    await a.start();
    await b.start();
    await a.enrol({ shopperId: 'sh_oo1', embeddings: [emb(near(person('sh_oo1'), 0.2, random))], partitionId: 'ooo' });
    await a.enrol({ shopperId: 'sh_oo2', embeddings: [emb(near(person('sh_oo2'), 0.2, random))], partitionId: 'ooo' });
    // The writers' lock keeps real enrolments in order, so the first one's change is taken back
    // and committed again by a transaction that stays open while b reads the second's.
    const [late] = await getDb().query<Record<string, unknown>>(
      'SELECT e.seq, e.kind, e.template_key, e.partition_id, e.at FROM gallery_events e JOIN gallery_templates t ON t.template_key = e.template_key WHERE t.shopper_id = $1',
      ['sh_oo1'],
    );
    assert.ok(late);
    await getDb().execute('DELETE FROM gallery_events WHERE seq = $1', [late.seq]);
    const insertLate = (ex: Pick<Db, 'execute'>) =>
      ex.execute('INSERT INTO gallery_events (seq, kind, template_key, partition_id, at) VALUES ($1, $2, $3, $4, $5)', [late.seq, late.kind, late.template_key, late.partition_id, late.at]);
    let release = (): void => undefined;
    const held = new Promise<void>((r) => (release = r));
    let written = (): void => undefined;
    const inTx = new Promise<void>((r) => (written = r));
    // On PostgreSQL the late change is written in a transaction still open while b reads; SQLite
    // has one writer and no such window, so there it is simply written after b's read.
    const writer =
      dialect === 'postgres'
        ? getDb().transaction(async (tx) => {
            await insertLate(tx);
            written();
            await held;
          })
        : held.then(() => insertLate(getDb()));
    if (dialect === 'postgres') await inTx;
    await b.sync();
    assert.equal(b.sizes().ooo, 1, 'b has read the second change, numbered after the uncommitted first');
    assert.equal(b.pendingGaps, 1);
    release();
    await writer;
    const d = await b.identify(emb(near(person('sh_oo1'), 0.2, random)), { partitions: ['ooo'] });
    assert.equal(d.outcome === 'match' && d.shopperId, 'sh_oo1');
    assert.equal(b.sizes().ooo, 2);
    assert.equal(b.pendingGaps, 0);
    // A number that never commits is let go after GAP_WAIT_MS.
    await getDb().execute('UPDATE gallery_counters SET value = value + 1 WHERE name = $1', ['event_seq']);
    await a.enrol({ shopperId: 'sh_oo3', embeddings: [emb(near(person('sh_oo3'), 0.2, random))], partitionId: 'ooo' });
    await b.sync();
    assert.equal(b.pendingGaps, 1);
    clock.advance(GAP_WAIT_MS + 1);
    await b.sync();
    assert.equal(b.pendingGaps, 0);
    assert.equal(b.sizes().ooo, 3);
  });

  test('re-enrolment replaces the templates; a refresh adds one and keeps the cap', async () => {
    const g = makeGallery(getDb(), { maxTemplatesPerShopper: 3 });
    await g.start();
    const old = person('sh_re');
    await g.enrol({ shopperId: 'sh_re', embeddings: [emb(near(old, 0.2, random))], partitionId: 'pre' });
    const fresh = randomUnit(DIM, random);
    await g.enrol({ shopperId: 'sh_re', embeddings: [emb(near(fresh, 0.2, random)), emb(near(fresh, 0.2, random))] });
    assert.equal(g.sizes().pre, 0);
    assert.equal(g.sizes().default !== undefined, true);
    const dOld = await g.identify(emb(near(old, 0.2, random)));
    assert.notEqual(dOld.outcome === 'match' && dOld.shopperId, 'sh_re');
    const dNew = await g.identify(emb(near(fresh, 0.2, random)));
    assert.equal(dNew.outcome === 'match' && dNew.shopperId, 'sh_re');
    await g.addTemplate('sh_re', emb(near(fresh, 0.2, random)));
    await g.addTemplate('sh_re', emb(near(fresh, 0.2, random)));
    const n = await getDb().query<{ n: number }>('SELECT COUNT(*) AS n FROM gallery_templates WHERE shopper_id = $1', ['sh_re']);
    assert.equal(Number(n[0]?.n), 3);
    await assert.rejects(g.addTemplate('sh_nobody', emb(fresh)), { code: 'shopper_not_enrolled' });
    await assert.rejects(g.enrol({ shopperId: 'sh_bad', embeddings: [{ model: { name: 'other', version: '1' }, vector: fresh }] }), {
      code: 'model_mismatch',
    });
  });

  test('twins are ambiguous; the phone digits then decide within the smaller set', async () => {
    const g = makeGallery(getDb());
    await g.start();
    const base = randomUnit(DIM, random);
    const twinA = near(base, 0.1, random);
    const twinB = near(base, 0.1, random);
    await g.enrol({ shopperId: 'sh_twa', embeddings: [emb(twinA)], phoneLast4: '4321', partitionId: 'twins' });
    await g.enrol({ shopperId: 'sh_twb', embeddings: [emb(twinB)], phoneLast4: '8765', partitionId: 'twins' });
    const probe = emb(near(twinA, 0.05, random));
    const first = await g.identify(probe, { partitions: ['twins'] });
    assert.equal(first.outcome, 'ambiguous');
    // Both twins could be named by their digits: wrong digits are charged to each.
    if (first.outcome === 'ambiguous') assert.deepEqual([...first.candidates].sort(), ['sh_twa', 'sh_twb']);
    const second = await g.identifyWithDigits(probe, '4321', { partitions: ['twins'] });
    assert.equal(second.outcome === 'match' && second.shopperId, 'sh_twa');
    if (second.outcome === 'match') assert.equal(second.comparedTemplates, 1);
    const wrong = await g.identifyWithDigits(probe, '0000', { partitions: ['twins'] });
    assert.equal(wrong.outcome, 'no_match');
    await assert.rejects(g.identifyWithDigits(probe, '12a4'), { code: 'bad_phone_digits' });
  });

  test('a shopper can ask to be asked for the digits every time', async () => {
    const g = makeGallery(getDb());
    await g.start();
    await g.enrol({ shopperId: 'sh_ask', embeddings: [emb(person('sh_ask'))], phoneLast4: '5555', partitionId: 'ask' });
    const probe = emb(near(person('sh_ask'), 0.2, random));
    assert.equal((await g.identify(probe, { partitions: ['ask'] })).outcome, 'match');
    await g.setOptions('sh_ask', { alwaysAsk: true });
    const d = await g.identify(probe, { partitions: ['ask'] });
    assert.equal(d.outcome === 'ambiguous' && d.reason, 'always_ask');
    assert.equal((await g.identifyWithDigits(probe, '5555', { partitions: ['ask'] })).outcome, 'match');
  });

  test('a search ranks at most three shoppers, each with its own flags, and none deleted', async () => {
    const g = makeGallery(getDb());
    await g.start();
    const base = person('sh_rk0');
    for (let i = 0; i < 5; i++) {
      await g.enrol({
        shopperId: `sh_rk${i}`,
        embeddings: [emb(i === 0 ? base : near(base, 0.1 + 0.05 * i, random))],
        phoneLast4: `700${i}`,
        alwaysAsk: i % 2 === 1,
        partitionId: 'rank',
      });
    }
    const probe = emb(near(base, 0.05, random));
    const { ranked } = await g.rank(probe, { partitions: ['rank'] });
    assert.equal(ranked.length, 3);
    assert.deepEqual(
      ranked.map((r) => r.shopperId),
      ['sh_rk0', 'sh_rk1', 'sh_rk2'],
    );
    assert.ok((ranked[0]?.score ?? 0) > (ranked[1]?.score ?? 1) && (ranked[1]?.score ?? 0) > (ranked[2]?.score ?? 1));
    assert.deepEqual(
      ranked.map((r) => r.alwaysAsk),
      [false, true, false],
    );
    const macs = new Set(ranked.map((r) => r.phoneSuffixMac));
    assert.equal(macs.size, 3);
    assert.ok(!macs.has(null));
    await g.deleteShopper('sh_rk1');
    assert.deepEqual(
      (await g.rank(probe, { partitions: ['rank'] })).ranked.map((r) => r.shopperId),
      ['sh_rk0', 'sh_rk2', 'sh_rk3'],
    );
  });

  test('partitions: a search sees only the partitions it is given', async () => {
    const g = makeGallery(getDb());
    await g.start();
    await g.enrol({ shopperId: 'sh_eu', embeddings: [emb(person('sh_eu'))], partitionId: 'eu' });
    const probe = emb(near(person('sh_eu'), 0.2, random));
    assert.equal((await g.identify(probe, { partitions: ['eu'] })).outcome, 'match');
    assert.equal((await g.identify(probe, { partitions: ['us'] })).outcome, 'no_match');
  });

  test('a shopper in two partitions is found from both, each search seeing only its own partitions, and is deleted from both', async () => {
    const g = makeGallery(getDb());
    await g.start();
    await g.enrol({ shopperId: 'sh_two', embeddings: [emb(person('sh_two'))], partitions: ['two-north', 'two-south'], phoneLast4: '4242' });
    await g.enrol({ shopperId: 'sh_north', embeddings: [emb(person('sh_north'))], partitionId: 'two-north' });
    const probe = emb(near(person('sh_two'), 0.2, random));
    for (const partitions of [['two-north'], ['two-south'], ['two-north', 'two-south']]) {
      const d = await g.identify(probe, { partitions });
      assert.equal(d.outcome === 'match' && d.shopperId, 'sh_two', partitions.join('+'));
    }
    assert.equal((await g.identify(probe, { partitions: ['two-west'] })).outcome, 'no_match');
    const north = await g.identify(emb(near(person('sh_north'), 0.2, random)), { partitions: ['two-south'] });
    assert.notEqual(north.outcome === 'match' && north.shopperId, 'sh_north');
    // The narrowed search by the phone digits follows the templates' partitions too.
    assert.equal((await g.rankWithDigits(probe, '4242', { partitions: ['two-south'] })).ranked[0]?.shopperId, 'sh_two');
    // A refresh goes to both partitions; a deletion leaves neither holding the shopper.
    await g.addTemplate('sh_two', emb(near(person('sh_two'), 0.1, random)));
    assert.deepEqual(g.sizes()['two-south'], 2);
    await g.deleteShopper('sh_two');
    for (const partitions of [['two-north'], ['two-south']]) {
      const d = await g.identify(probe, { partitions });
      assert.notEqual(d.outcome === 'match' && d.shopperId, 'sh_two');
    }
    assert.equal(g.sizes()['two-south'], 0);
    await assert.rejects(g.enrol({ shopperId: 'sh_dup', embeddings: [emb(person('sh_dup'))], partitions: ['a', 'a'] }), /named twice/);
    await assert.rejects(g.enrol({ shopperId: 'sh_dup', embeddings: [emb(person('sh_dup'))], partitions: [] }), /one or more partitions/);
  });

  for (const method of ['exact', 'hnsw'] as const) {
    test(`${method}: a deleted shopper is gone from the very next search`, async () => {
      const g = makeGallery(getDb(), { searchMethod: method });
      await g.start();
      const part = `del-${method}`;
      for (let i = 0; i < 30; i++) await g.enrol({ shopperId: `sh_${part}_${i}`, embeddings: [emb(person(`sh_${part}_${i}`))], partitionId: part });
      assert.equal(g.searchStats().partitions.find((p) => p.id === part)?.method, method);
      const victim = `sh_${part}_7`;
      const probe = emb(near(person(victim), 0.2, random));
      const before = await g.identify(probe, { partitions: [part] });
      assert.equal(before.outcome === 'match' && before.shopperId, victim);
      await g.deleteShopper(victim);
      const { ranked } = await g.rank(probe, { partitions: [part] });
      assert.ok(!ranked.some((r) => r.shopperId === victim));
      assert.equal((await g.searchIndex(probe, { partitions: [part] })).size, 29);
    });
  }

  test('at start each partition gets the exact scan when it fits the budget at the measured rate, else the graph, and says which', async () => {
    const g = makeGallery(getDb());
    await g.start();
    for (let i = 0; i < 40; i++) await g.enrol({ shopperId: `sh_m${i}`, embeddings: [emb(person(`sh_m${i}`))], partitionId: 'choice-big' });
    for (let i = 0; i < 5; i++) await g.enrol({ shopperId: `sh_n${i}`, embeddings: [emb(person(`sh_n${i}`))], partitionId: 'choice-small' });
    // 10 templates per ms and 2 ms: 20 templates fit, 40 do not.
    const lines: string[] = [];
    const out = { write: (s: string) => lines.push(s) } as unknown as NodeJS.WriteStream;
    const h = makeGallery(getDb(), { exactScanRate: 10, searchBudgetMs: 2, progressOut: out });
    const report = await h.start();
    assert.equal(report.partitions.find((p) => p.id === 'choice-big')?.method, 'hnsw');
    assert.equal(report.partitions.find((p) => p.id === 'choice-small')?.method, 'exact');
    const stats = h.searchStats();
    assert.equal(stats.exactScanRate, 10);
    assert.equal(stats.budgetMs, 2);
    assert.deepEqual(
      stats.partitions.filter((p) => p.id.startsWith('choice-')).map((p) => [p.id, p.method, p.templates, p.exactScanMs]),
      [
        ['choice-big', 'hnsw', 40, 4],
        ['choice-small', 'exact', 5, 0.5],
      ],
    );
    assert.ok(lines.some((l) => /gallery partition choice-big: 40 templates, HNSW graph \(exact scan 4\.0 ms at 10 templates\/ms, budget 2 ms/.test(l)), lines.join(''));
    assert.ok(lines.some((l) => /gallery partition choice-small: 5 templates, exact scan/.test(l)));
    // Both answer: the graph finds a shopper of the large partition, the scan one of the small.
    const big = await h.identify(emb(near(person('sh_m3'), 0.2, random)), { partitions: ['choice-big'] });
    assert.equal(big.outcome === 'match' && big.shopperId, 'sh_m3');
    const small = await h.identify(emb(near(person('sh_n3'), 0.2, random)), { partitions: ['choice-small'] });
    assert.equal(small.outcome === 'match' && small.shopperId, 'sh_n3');
    // A partition first seen after start is empty, so it is scanned exactly.
    await h.enrol({ shopperId: 'sh_new_part', embeddings: [emb(person('sh_new_part'))], partitionId: 'choice-new' });
    assert.equal(h.searchStats().partitions.find((p) => p.id === 'choice-new')?.method, 'exact');
  });

  test('a restart loads the encrypted snapshot, replays what changed since, and checks against the database', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gallery-snap-'));
    const g = makeGallery(getDb(), { snapshotDir: dir });
    await g.start();
    for (let i = 0; i < 20; i++) await g.enrol({ shopperId: `sh_s${i}`, embeddings: [emb(person(`sh_s${i}`))], partitionId: 'snap' });
    await g.snapshot();
    const files = readdirSync(dir);
    assert.ok(files.some((f) => f.endsWith('.idx.enc')));
    // After the snapshot: one enrolment and one deletion that only the event log knows about.
    await g.enrol({ shopperId: 'sh_late', embeddings: [emb(person('sh_late'))], partitionId: 'snap' });
    await g.deleteShopper('sh_s3');
    const h = makeGallery(getDb(), { snapshotDir: dir, seed: 9 });
    const report = await h.start();
    const snap = report.partitions.find((p) => p.id === 'snap');
    assert.equal(snap?.source, 'snapshot');
    assert.equal(h.sizes().snap, 20);
    assert.equal((await h.identify(emb(near(person('sh_late'), 0.2, random)), { partitions: ['snap'] })).outcome, 'match');
    const gone = await h.identify(emb(near(person('sh_s3'), 0.2, random)), { partitions: ['snap'] });
    assert.notEqual(gone.outcome === 'match' && gone.shopperId, 'sh_s3');

    // A tampered snapshot fails authentication and the partition is rebuilt from the database.
    const metaFile = join(dir, files.find((f) => f.endsWith('.json') && f.includes('snap')) ?? '');
    const meta = JSON.parse(readFileSync(metaFile, 'utf8')) as { count: number };
    writeFileSync(metaFile, JSON.stringify({ ...meta, count: meta.count + 1 }));
    const k = makeGallery(getDb(), { snapshotDir: dir, seed: 10 });
    const r2 = await k.start();
    assert.equal(r2.partitions.find((p) => p.id === 'snap')?.source, 'rebuild');
    assert.equal(k.sizes().snap, 20);
  });

  test('a partition rebuilt at restart does not stop another one replaying from its snapshot', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gallery-snap2-'));
    const g = makeGallery(getDb(), { snapshotDir: dir });
    await g.start();
    await g.enrol({ shopperId: 'sh_m1', embeddings: [emb(person('sh_m1'))], partitionId: 'mix1' });
    await g.enrol({ shopperId: 'sh_m2', embeddings: [emb(person('sh_m2'))], partitionId: 'mix2' });
    await g.snapshot();
    await g.enrol({ shopperId: 'sh_m3', embeddings: [emb(person('sh_m3'))], partitionId: 'mix1' });
    for (const f of readdirSync(dir).filter((f) => f.includes('mix2') && f.endsWith('.json'))) writeFileSync(join(dir, f), '{}');
    const h = makeGallery(getDb(), { snapshotDir: dir, seed: 11 });
    const report = await h.start();
    assert.equal(report.partitions.find((p) => p.id === 'mix1')?.source, 'snapshot');
    assert.equal(report.partitions.find((p) => p.id === 'mix2')?.source, 'rebuild');
    assert.equal(h.sizes().mix1, 2);
    const d = await h.identify(emb(near(person('sh_m3'), 0.2, random)), { partitions: ['mix1'] });
    assert.equal(d.outcome === 'match' && d.shopperId, 'sh_m3');
  });

  test('the start report counts shoppers enrolled only with another model, whom this gallery cannot find, and says so per shopper', async () => {
    const retiredModel = { name: 'retired-model', version: '3' };
    const currentModel = { name: 'current-model', version: '1' };
    const at = (m: typeof model): Gallery => makeGallery(getDb(), { model: m, calibration: syntheticCalibration({ model: m.name }) });
    const old = at(retiredModel);
    await old.start();
    const both = randomUnit(DIM, random);
    await old.enrol({ shopperId: 'sh_old1', embeddings: [{ model: retiredModel, vector: randomUnit(DIM, random) }] });
    await old.enrol({ shopperId: 'sh_old2', embeddings: [{ model: retiredModel, vector: both }] });
    const current = at(currentModel);
    await current.start();
    await current.enrol({ shopperId: 'sh_old2', embeddings: [{ model: currentModel, vector: both }] });
    const report = await at(currentModel).start();
    const retired = report.unsearchable.find((u) => u.modelName === 'retired-model');
    // sh_old2 enrolled again with the current model; only sh_old1 is lost to it.
    assert.deepEqual(retired, { modelName: 'retired-model', modelVersion: '3', shoppers: 1, templates: 1 });
    assert.equal(report.unsearchable.some((u) => u.modelName === 'current-model'), false);
    assert.equal(await current.searchable('sh_old1'), false);
    assert.equal(await current.searchable('sh_old2'), true);
    assert.equal(await current.searchable('sh_nobody'), false);
    assert.equal(await old.searchable('sh_old1'), true);
  });

  // 512-d templates, like the ArcFace embedder's: the index holds a projection of them.
  const wide = (name: string, extra: Partial<GalleryOptions> & { seed?: number; indexDim?: number } = {}): Gallery =>
    makeGallery(getDb(), {
      model: { name, version: '1' },
      dim: 512,
      calibration: syntheticCalibration({ model: name }),
      ann: { threads: 1, indexDim: extra.indexDim ?? 32, learnAt: 100 },
      ...extra,
    });
  const wideEmb = (name: string, vector: Float32Array): Embedding => ({ model: { name, version: '1' }, vector });

  test('512-d templates: the index learns a projection at the rebuild, a delete is still immediate, and the snapshot keeps the projection', async () => {
    const name = 'test-model-512';
    const dir = mkdtempSync(join(tmpdir(), 'gallery-proj-'));
    const faces = Array.from({ length: 150 }, () => randomUnit(512, random));
    const g = wide(name, { snapshotDir: dir });
    await g.importMany(faces.map((v, i) => ({ shopperId: `sh_w${i}`, embeddings: [wideEmb(name, v)], partitionId: 'p512' })));
    const report = await g.start();
    assert.equal(report.partitions.find((p) => p.id === 'p512')?.source, 'rebuild');
    const info = g.indexInfo().find((p) => p.id === 'p512');
    assert.equal(info?.indexDim, 32);
    assert.equal(info?.projection?.samples, 150);
    const probe = wideEmb(name, near(faces[17] as Float32Array, 0.2, random));
    const d = await g.identify(probe);
    assert.equal(d.outcome === 'match' && d.shopperId, 'sh_w17');

    await g.deleteShopper('sh_w17');
    const after = await g.rank(probe);
    assert.equal(
      after.ranked.some((r) => r.shopperId === 'sh_w17'),
      false,
    );
    assert.equal(g.sizes().p512, 149);

    await g.snapshot();
    assert.ok(readdirSync(dir).some((f) => f.endsWith('.proj.enc')));
    const h = wide(name, { snapshotDir: dir, seed: 21 });
    const r2 = await h.start();
    assert.equal(r2.partitions.find((p) => p.id === 'p512')?.source, 'snapshot');
    assert.equal(h.indexInfo().find((p) => p.id === 'p512')?.projection?.fingerprint, info?.projection?.fingerprint);
    const d2 = await h.identify(wideEmb(name, near(faces[40] as Float32Array, 0.2, random)));
    assert.equal(d2.outcome === 'match' && d2.shopperId, 'sh_w40');
    // Only the projection itself is on disk, and only encrypted: no float of its basis appears in the clear.
    const basis = h.projectionOf('p512')?.basis as Float32Array;
    const projFile = readFileSync(join(dir, readdirSync(dir).find((f) => f.endsWith('.proj.enc')) ?? ''));
    assert.equal(projFile.includes(Buffer.from(basis.buffer, basis.byteOffset, 64)), false);

    // Another shape of projection: the snapshot does not fit and the partition is rebuilt with the new one.
    const k = wide(name, { snapshotDir: dir, seed: 22, indexDim: 48 });
    const r3 = await k.start();
    assert.equal(r3.partitions.find((p) => p.id === 'p512')?.source, 'rebuild');
    assert.equal(k.indexInfo().find((p) => p.id === 'p512')?.indexDim, 48);

    // A projection file that fails authentication makes a rebuild too, with the same projection as before (learning is deterministic).
    const projName = readdirSync(dir).find((f) => f.endsWith('.proj.enc')) ?? '';
    const bytes = readFileSync(join(dir, projName));
    bytes[40] = (bytes[40] ?? 0) ^ 1;
    writeFileSync(join(dir, projName), bytes);
    const m = wide(name, { snapshotDir: dir, seed: 23 });
    const r4 = await m.start();
    assert.equal(r4.partitions.find((p) => p.id === 'p512')?.source, 'rebuild');
    const rebuilt = m.indexInfo().find((p) => p.id === 'p512');
    assert.equal(rebuilt?.projection?.samples, 149);
    const again = wide(name, { seed: 24 });
    await again.start();
    assert.equal(rebuilt?.projection?.fingerprint, again.indexInfo().find((p) => p.id === 'p512')?.projection?.fingerprint);
  });

  test('512-d templates: a partition too small to learn from indexes whole templates until a restart finds enough', async () => {
    const name = 'test-model-512b';
    const dir = mkdtempSync(join(tmpdir(), 'gallery-grow-'));
    const faces = Array.from({ length: 120 }, () => randomUnit(512, random));
    const g = wide(name, { snapshotDir: dir });
    await g.start();
    for (let i = 0; i < 20; i++) await g.enrol({ shopperId: `sh_g${i}`, embeddings: [wideEmb(name, faces[i] as Float32Array)], partitionId: 'grow' });
    assert.deepEqual(
      g.indexInfo().map((p) => [p.id, p.indexDim, p.projection]),
      [['grow', 512, null]],
    );
    await g.snapshot();
    // A restart with a snapshot of a partition still too small keeps it.
    const h = wide(name, { snapshotDir: dir, seed: 31 });
    assert.equal((await h.start()).partitions[0]?.source, 'snapshot');
    await h.importMany(faces.slice(20).map((v, i) => ({ shopperId: `sh_g${20 + i}`, embeddings: [wideEmb(name, v)], partitionId: 'grow' })));
    assert.equal(h.indexInfo()[0]?.indexDim, 512);
    const probe = wideEmb(name, near(faces[99] as Float32Array, 0.2, random));
    assert.equal((await h.identify(probe)).outcome === 'match', true);
    await h.snapshot();
    // The next start finds 120 templates and a snapshot without a projection: it rebuilds and learns one.
    const k = wide(name, { snapshotDir: dir, seed: 32 });
    assert.equal((await k.start()).partitions[0]?.source, 'rebuild');
    assert.equal(k.indexInfo()[0]?.indexDim, 32);
    const d = await k.identify(probe);
    assert.equal(d.outcome === 'match' && d.shopperId, 'sh_g99');
  });

  test('data keys rotate and the master key can be replaced, old rows staying readable', async () => {
    const g = makeGallery(getDb());
    await g.start();
    await g.enrol({ shopperId: 'sh_k1', embeddings: [emb(person('sh_k1'))], partitionId: 'keys' });
    const newKey = await g.rotateDataKey();
    await g.enrol({ shopperId: 'sh_k2', embeddings: [emb(person('sh_k2'))], partitionId: 'keys' });
    const keyIds = await getDb().query<{ key_id: string }>("SELECT key_id FROM gallery_templates WHERE partition_id = 'keys' ORDER BY template_key");
    assert.equal(keyIds[1]?.key_id, newKey);
    assert.notEqual(keyIds[0]?.key_id, newKey);
    const next: MasterKeyring = { current: masterKeyFromBytes(Buffer.alloc(32, 2)), previous: [ring.current] };
    const h = makeGallery(getDb(), { masterKeys: next, seed: 3 });
    await h.start();
    for (const id of ['sh_k1', 'sh_k2']) {
      const d = await h.identify(emb(near(person(id), 0.2, random)), { partitions: ['keys'] });
      assert.equal(d.outcome === 'match' && d.shopperId, id);
    }
    // Every data key is now wrapped by the new master key alone.
    const onlyNew = makeGallery(getDb(), { masterKeys: { current: next.current, previous: [] }, seed: 4 });
    await onlyNew.start();
    const oldOnly = makeGallery(getDb(), { masterKeys: ring, seed: 5 });
    await assert.rejects(oldOnly.start(), { code: 'master_key_missing' });
  });
});

test('PartitionRouter merges partitions by score and reports the searched size', async () => {
  const { PartitionRouter, LocalPartition } = await import('./partition.ts');
  const random = seededRandom(3);
  const router = new PartitionRouter((id) => new LocalPartition(id, { dim: 16, connectivity: 8, expansionAdd: 32, expansionSearch: 32, quantization: 'f32', threads: 1 }));
  const a = randomUnit(16, random);
  const b = randomUnit(16, random);
  await router.get('p1').add([1, 2], Float32Array.from([...a, ...randomUnit(16, random)]));
  await router.get('p2').add([3], b);
  const r = await router.search(b, 2, ['p1', 'p2']);
  assert.equal(r.size, 3);
  assert.equal(r.hits[0]?.key, 3);
  assert.equal(r.hits[0]?.partitionId, 'p2');
  await router.get('p2').remove([3]);
  assert.equal((await router.search(b, 2, ['p2'])).hits.length, 0);
});
