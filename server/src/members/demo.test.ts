import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock, seededRandom, sequentialIds } from '../platform/index.ts';
import { freshDb } from '../storage/testing.ts';
import { createMarketingService, MarketingRepo, marketingMigrations } from '../marketing/index.ts';
import { createMembersService, MemberRepo, memberMigrations, seedDemoCrm, SEGMENTS } from './index.ts';

async function seeded(seed: number, memberCount = 300) {
  const db = await freshDb('sqlite', [...memberMigrations, ...marketingMigrations]);
  const clock = new ManualClock('2026-11-25T10:00:00Z');
  const members = createMembersService({ repo: new MemberRepo(db), clock, random: seededRandom(seed) });
  const marketing = createMarketingService({ repo: new MarketingRepo(db), members, clock, ids: sequentialIds(), holdoutSecret: 'demo' });
  const started = performance.now();
  const seededResult = await seedDemoCrm({ members, marketing, clock, random: seededRandom(seed + 1000), merchantId: 'mer_demo', storeIds: ['sto_a', 'sto_b'], memberCount });
  const ms = performance.now() - started;
  assert.ok(seededResult);
  const again = await seedDemoCrm({ members, marketing, clock, random: seededRandom(seed), merchantId: 'mer_demo', storeIds: ['sto_a'], memberCount });
  assert.equal(again, null, 'a second start seeds nothing');
  return { db, members, marketing, result: seededResult, ms };
}

test('the demo CRM: a few hundred members, months of purchases, every segment, campaigns with results; fast', async () => {
  const { db, members, marketing, result, ms } = await seeded(1);
  console.log(`# demo seed: ${result.memberIds.length} members, ${result.purchases} purchases, ${result.nonMemberPayments} non-member payments, ${result.redemptions} redemptions in ${ms.toFixed(0)} ms`);
  assert.ok(ms < 10_000, `seeding took ${ms} ms`);
  assert.equal(result.memberIds.length, 300);
  assert.ok(result.purchases > 300 * 3, `${result.purchases} purchases`);
  assert.ok(result.redemptions > 0);
  const overview = await members.overview('mer_demo');
  assert.equal(overview.members + overview.left, 300);
  assert.equal(overview.left, result.left);
  for (const s of SEGMENTS) assert.ok(overview.segments[s] > 0, `segment ${s} is empty: ${JSON.stringify(overview.segments)}`);

  // Visit counts are over-dispersed (gamma-Poisson): the variance well above the mean.
  const list = await members.listMembers('mer_demo', { status: 'all' }, { limit: 200 });
  const all = [...list.items, ...(await members.listMembers('mer_demo', { status: 'all' }, { limit: 200, cursor: list.nextCursor! })).items];
  const visits = all.map((m) => m.visits);
  const mean = visits.reduce((a, b) => a + b, 0) / visits.length;
  const variance = visits.reduce((a, b) => a + (b - mean) ** 2, 0) / (visits.length - 1);
  assert.ok(variance > 2 * mean, `mean ${mean}, variance ${variance}`);

  const welcome = await marketing.results('mer_demo', result.campaigns.welcome);
  assert.ok(welcome.treatment.members > 0 && welcome.holdout.members > 0);
  assert.equal(welcome.treatment.members + welcome.holdout.members, 300);
  assert.ok(welcome.treatment.redemptionRate! > 0);
  assert.ok(welcome.uplift !== null);
  const winBack = await marketing.results('mer_demo', result.campaigns.winBack);
  assert.ok(winBack.treatment.members > 0);

  // The one-member path (database ranks) agrees with the whole-merchant path (ranks in memory).
  const audience = new Map((await members.audience('mer_demo')).map((a) => [a.memberId, a]));
  for (const m of all.slice(0, 120)) {
    const one = await members.getMember('mer_demo', m.memberId);
    assert.deepEqual([one.rfm, one.segment], [m.rfm, m.segment], m.memberId);
    if (m.status === 'active') assert.deepEqual(await members.audienceMember('mer_demo', m.memberId), audience.get(m.memberId));
  }

  const profile = await members.getMember('mer_demo', all.find((m) => m.visits >= 5)!.memberId);
  assert.ok(profile.usualHours.length > 0 && profile.usualDays.length > 0);
  assert.ok(profile.stores.length > 0);
  await db.dispose();
});

test('the demo is deterministic for a seed', async () => {
  const a = await seeded(5, 40);
  const b = await seeded(5, 40);
  const c = await seeded(6, 40);
  const csvA = await a.members.exportCsv('mer_demo', { status: 'all' });
  assert.equal(csvA, await b.members.exportCsv('mer_demo', { status: 'all' }));
  assert.notEqual(csvA, await c.members.exportCsv('mer_demo', { status: 'all' }));
  for (const x of [a, b, c]) await x.db.dispose();
});
