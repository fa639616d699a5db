import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock, seededRandom } from '../platform/index.ts';
import { describeEachDb } from '../storage/testing.ts';
import { createMembersService, MEMBERSHIP_CONSENT, MemberRepo, memberMigrations, type MemberEvent } from './index.ts';

const DAY = 24 * 3600 * 1000;
const V = MEMBERSHIP_CONSENT.version;

describeEachDb('members', memberMigrations, (getDb) => {
  let seed = 1;
  let n = 0;
  const setup = async (opts: { fields?: string[]; timeZone?: string } = {}) => {
    const clock = new ManualClock('2026-11-25T10:00:00Z');
    const events: MemberEvent[] = [];
    const service = createMembersService({ repo: new MemberRepo(getDb()), clock, random: seededRandom(seed++), events: { publish: (_tx, e) => void events.push(e) } });
    const merchantId = `mer_${n++}`;
    await service.setProgramme(merchantId, {
      name: 'Tea Club',
      benefits: 'Ten percent off Tuesdays',
      fields: opts.fields ?? ['name', 'phone', 'email', 'birthday'],
      currency: 'EUR',
      timeZone: opts.timeZone ?? 'Europe/Berlin',
    });
    let pay = 0;
    const payment = (shopperId: string | null, amount: number, at = clock.now().getTime(), storeId = 'sto_1') =>
      service.recordPayment({ merchantId, shopperId, paymentId: `pay_${merchantId}_${pay++}`, storeId, amount, currency: 'EUR', at });
    return { clock, events, service, merchantId, payment };
  };
  const shopper = () => `shp_${n++}`;

  test('the programme is validated', async () => {
    const { service, merchantId } = await setup();
    await assert.rejects(service.setProgramme(merchantId, { name: 'X', benefits: '', fields: ['shoe_size'], currency: 'EUR', timeZone: 'UTC' }), { code: 'field_unknown' });
    await assert.rejects(service.setProgramme(merchantId, { name: 'X', benefits: '', fields: [], currency: 'EUR', timeZone: 'Mars/Base' }), { code: 'time_zone_invalid' });
    await assert.rejects(service.setProgramme(merchantId, { name: ' ', benefits: '', fields: [], currency: 'EUR', timeZone: 'UTC' }), { code: 'programme_name_invalid' });
    const p = await service.programme(merchantId);
    assert.deepEqual(p.fields, ['name', 'phone', 'birthday', 'email']);
    await assert.rejects(service.programme('mer_none'), { code: 'programme_not_found' });
  });

  test('join: one tap gives a random member id per merchant; the consent is recorded; joining again answers the same member', async () => {
    const { service, merchantId, events } = await setup();
    const other = await setup();
    const s = shopper();
    const offer = await service.joinOffer(merchantId, s);
    assert.ok(offer);
    assert.deepEqual(offer.fields, ['name', 'phone', 'birthday', 'email']);
    assert.match(offer.consentText, /phone/);
    const joined = await service.join({ merchantId, shopperId: s, fields: { name: 'Ann Lee', email: 'ANN@example.com' }, consentVersion: V, terminalId: 'term_1' });
    assert.equal(joined.created, true);
    assert.match(joined.memberId, /^mem_[a-z2-9]{20}$/);
    assert.ok(!joined.memberId.includes(s.slice(4)));
    assert.deepEqual(joined.fields, { name: 'Ann Lee', email: 'ann@example.com' });
    const elsewhere = await other.service.join({ merchantId: other.merchantId, shopperId: s, fields: {}, consentVersion: V, terminalId: null });
    assert.notEqual(elsewhere.memberId, joined.memberId);

    const again = await service.join({ merchantId, shopperId: s, fields: { name: 'Ann Lee' }, consentVersion: V, terminalId: 'term_1' });
    assert.deepEqual(again, { ...joined, created: false });
    assert.equal(await service.joinOffer(merchantId, s), null);
    const consents = await service.consents(s, merchantId);
    assert.equal(consents.length, 1);
    assert.deepEqual(consents[0], { fields: ['name', 'email'], textVersion: V, terminalId: 'term_1', acceptedAt: Date.parse('2026-11-25T10:00:00Z'), withdrawnAt: null });
    assert.deepEqual(events.map((e) => [e.type, e.objectId]), [['member.joined', joined.memberId]]);
    assert.ok(!JSON.stringify(events).includes(s), 'no event carries the shopper id');
    assert.deepEqual(
      (await service.memberships(s)).map((m) => [m.merchantId, m.memberId, m.programmeName]).sort(),
      [
        [merchantId, joined.memberId, 'Tea Club'],
        [other.merchantId, elsewhere.memberId, 'Tea Club'],
      ].sort(),
    );
  });

  test('events are written in the transaction of the change: a failing sink undoes the join', async () => {
    const clock = new ManualClock('2026-11-25T10:00:00Z');
    const merchantId = `mer_${n++}`;
    const written: string[] = [];
    const failing = createMembersService({
      repo: new MemberRepo(getDb()),
      clock,
      random: seededRandom(seed++),
      events: {
        publish: async (tx, e) => {
          await tx.query('SELECT 1');
          written.push(e.objectId);
          throw new Error('outbox full');
        },
      },
    });
    await failing.setProgramme(merchantId, { name: 'P', benefits: '', fields: [], currency: 'EUR', timeZone: 'UTC' });
    const s = shopper();
    await assert.rejects(failing.join({ merchantId, shopperId: s, fields: {}, consentVersion: V, terminalId: null }), /outbox full/);
    assert.equal(written.length, 1);
    assert.equal(await failing.memberIdFor(merchantId, s), null, 'the join was rolled back with its event');
  });

  test('join refuses fields the programme does not ask for, bad values and an outdated consent', async () => {
    const { service, merchantId } = await setup({ fields: ['name'] });
    const s = shopper();
    await assert.rejects(service.join({ merchantId, shopperId: s, fields: { phone: '0123456789' }, consentVersion: V, terminalId: null }), { code: 'field_not_asked' });
    await assert.rejects(service.join({ merchantId, shopperId: s, fields: { name: '' }, consentVersion: V, terminalId: null }), { code: 'field_invalid' });
    await assert.rejects(service.join({ merchantId, shopperId: s, fields: {}, consentVersion: '2001-01-01', terminalId: null }), { code: 'consent_version_outdated' });
    await assert.rejects(service.join({ merchantId: 'mer_none', shopperId: s, fields: {}, consentVersion: V, terminalId: null }), { code: 'programme_not_found' });
    assert.equal(await service.memberIdFor(merchantId, s), null);
  });

  test("a non-member's payments reach the merchant only as daily counts and amounts", async () => {
    const { service, merchantId, payment, clock } = await setup();
    const member = shopper();
    const stranger = shopper();
    await service.join({ merchantId, shopperId: member, fields: { name: 'Mia Wong' }, consentVersion: V, terminalId: null });
    const r1 = await payment(stranger, 1200);
    const r2 = await payment(stranger, 800);
    assert.deepEqual([r1.memberId, r2.memberId], [null, null]);
    await payment(member, 500);
    clock.advance(DAY);
    await payment(stranger, 300);

    const list = await service.listMembers(merchantId, { status: 'all' });
    assert.equal(list.total, 1);
    const exported = await service.exportCsv(merchantId, { status: 'all' });
    const profile = await service.getMember(merchantId, list.items[0]!.memberId);
    const overview = await service.overview(merchantId);
    const daily = await service.nonMemberDaily(merchantId, '2026-11-01', '2026-11-30');
    assert.deepEqual(daily, [
      { day: '2026-11-25', currency: 'EUR', payments: 2, amount: 2000 },
      { day: '2026-11-26', currency: 'EUR', payments: 1, amount: 300 },
    ]);
    const merchantSide = JSON.stringify([list, exported, profile, overview, daily]);
    assert.ok(!merchantSide.includes(stranger), 'no stranger id');
    assert.ok(!merchantSide.includes(member), 'no shopper id at all, even of members');
    assert.equal(profile.visits, 1);
  });

  test('leaving cuts the merchant off the shared fields at once; the history stays under the member id', async () => {
    const { service, merchantId, payment, events, clock } = await setup();
    const s = shopper();
    const { memberId } = await service.join({ merchantId, shopperId: s, fields: { name: 'Lena Berg', phone: '+49 151 2345678', email: 'lena@example.com' }, consentVersion: V, terminalId: null });
    await payment(s, 2500);
    await service.addTag(merchantId, memberId, 'vip');
    assert.equal((await service.getMember(merchantId, memberId)).fields.name, 'Lena Berg');
    assert.equal((await service.listMembers(merchantId, { q: 'lena' })).total, 1);

    await service.leave(s, merchantId);
    const after = await service.getMember(merchantId, memberId);
    assert.deepEqual(after.fields, {});
    assert.equal(after.status, 'left');
    assert.equal(after.visits, 1);
    assert.equal(after.spend, 2500);
    assert.equal((await service.listMembers(merchantId, { q: 'lena', status: 'all' })).total, 0);
    assert.equal((await service.listMembers(merchantId, { q: '2345678', status: 'all' })).total, 0);
    const csv = await service.exportCsv(merchantId, { status: 'all' });
    assert.ok(!/lena|2345678/i.test(csv));
    assert.ok(csv.includes(memberId));
    assert.deepEqual(await service.memberships(s), []);
    assert.equal(await service.memberIdFor(merchantId, s), null);
    assert.equal(await service.shopperIdFor(merchantId, memberId), null);
    assert.ok((await service.audience(merchantId)).every((m) => m.memberId !== memberId));
    assert.deepEqual(events.map((e) => e.type), ['member.joined', 'member.left']);
    await assert.rejects(service.leave(s, merchantId), { code: 'membership_not_found' });

    // Paying after leaving is a non-member's payment; joining again starts a new member id.
    clock.advance(1000);
    assert.equal((await payment(s, 100)).memberId, null);
    const rejoined = await service.join({ merchantId, shopperId: s, fields: {}, consentVersion: V, terminalId: null });
    assert.notEqual(rejoined.memberId, memberId);
    assert.equal((await service.getMember(merchantId, rejoined.memberId)).visits, 0);
  });

  test("another merchant cannot read or tag a member; it looks like a missing one", async () => {
    const a = await setup();
    const b = await setup();
    const s = shopper();
    const { memberId } = await a.service.join({ merchantId: a.merchantId, shopperId: s, fields: { name: 'Omar Khan' }, consentVersion: V, terminalId: null });
    await assert.rejects(b.service.getMember(b.merchantId, memberId), { code: 'member_not_found' });
    await assert.rejects(b.service.addTag(b.merchantId, memberId, 'x'), { code: 'member_not_found' });
    assert.equal((await b.service.listMembers(b.merchantId)).total, 0);
    assert.equal(await b.service.shopperIdFor(b.merchantId, memberId), null);
  });

  test('the shopper can change what they share, with a new consent record', async () => {
    const { service, merchantId, events } = await setup();
    const s = shopper();
    const { memberId } = await service.join({ merchantId, shopperId: s, fields: { name: 'Sam Ng', phone: '0123456789' }, consentVersion: V, terminalId: null });
    const m = await service.updateSharing(s, merchantId, { name: 'Sam Ng' }, V);
    assert.deepEqual(m.sharedFields, { name: 'Sam Ng' });
    assert.deepEqual((await service.getMember(merchantId, memberId)).fields, { name: 'Sam Ng' });
    const consents = await service.consents(s, merchantId);
    assert.equal(consents.length, 2);
    assert.notEqual(consents[0]!.withdrawnAt, null);
    assert.equal(consents[1]!.withdrawnAt, null);
    assert.equal(events.at(-1)?.type, 'member.updated');
  });

  test('purchases and refunds: spend, visits, average ticket; a full refund removes the visit; retries are no-ops', async () => {
    const { service, merchantId, clock } = await setup();
    const s = shopper();
    const { memberId } = await service.join({ merchantId, shopperId: s, fields: {}, consentVersion: V, terminalId: null });
    const at = clock.now().getTime();
    const pay = (paymentId: string, amount: number, t: number) => service.recordPayment({ merchantId, shopperId: s, paymentId, storeId: 'sto_a', amount, currency: 'EUR', at: t });
    assert.deepEqual(await pay(`p1_${memberId}`, 1000, at), { memberId, recorded: true });
    assert.deepEqual(await pay(`p1_${memberId}`, 1000, at), { memberId, recorded: false });
    await pay(`p2_${memberId}`, 3000, at + DAY);
    let p = await service.getMember(merchantId, memberId);
    assert.deepEqual([p.visits, p.spend, p.averageTicket, p.lastVisitAt], [2, 4000, 2000, at + DAY]);

    assert.deepEqual(await service.recordRefund({ merchantId, paymentId: `p2_${memberId}`, refundId: 'r1', amount: 1000, at }), { memberId, remaining: 2000 });
    assert.deepEqual(await service.recordRefund({ merchantId, paymentId: `p2_${memberId}`, refundId: 'r1', amount: 1000, at }), { memberId, remaining: 2000 });
    await assert.rejects(service.recordRefund({ merchantId, paymentId: `p2_${memberId}`, refundId: 'r2', amount: 2001, at }), { code: 'refund_exceeds_payment' });
    p = await service.getMember(merchantId, memberId);
    assert.deepEqual([p.visits, p.spend], [2, 3000]);
    await service.recordRefund({ merchantId, paymentId: `p2_${memberId}`, refundId: 'r3', amount: 2000, at });
    p = await service.getMember(merchantId, memberId);
    assert.deepEqual([p.visits, p.spend, p.lastVisitAt], [1, 1000, at]);
    await assert.rejects(service.recordRefund({ merchantId: 'mer_other', paymentId: `p1_${memberId}`, refundId: 'r4', amount: 1, at }), { code: 'payment_not_found' });
    await assert.rejects(pay('p3', 0, at), { code: 'amount_invalid' });
    await assert.rejects(pay('p3', 1.5, at), { code: 'amount_invalid' });
  });

  test("a non-member's refund lowers the aggregate; a full one removes the payment from the count", async () => {
    const { service, merchantId, payment } = await setup();
    await payment(shopper(), 1000);
    await payment(null, 500);
    const before = await service.nonMemberDaily(merchantId, '2026-11-25', '2026-11-25');
    assert.deepEqual(before, [{ day: '2026-11-25', currency: 'EUR', payments: 2, amount: 1500 }]);
    await service.recordRefund({ merchantId, paymentId: `pay_${merchantId}_0`, refundId: `rf_${merchantId}_a`, amount: 400, at: 0 });
    await service.recordRefund({ merchantId, paymentId: `pay_${merchantId}_1`, refundId: `rf_${merchantId}_b`, amount: 500, at: 0 });
    assert.deepEqual(await service.nonMemberDaily(merchantId, '2026-11-25', '2026-11-25'), [{ day: '2026-11-25', currency: 'EUR', payments: 1, amount: 600 }]);
  });

  test('profile: usual days and hours in the merchant time zone, stores visited', async () => {
    const { service, merchantId, payment } = await setup({ timeZone: 'Asia/Shanghai' });
    const s = shopper();
    const { memberId } = await service.join({ merchantId, shopperId: s, fields: {}, consentVersion: V, terminalId: null });
    // Tuesdays 00:30 UTC are Tuesdays 08:30 in Shanghai; one Saturday lunch elsewhere.
    for (const d of ['2026-11-03', '2026-11-10', '2026-11-17', '2026-11-24']) await payment(s, 450, Date.parse(`${d}T00:30:00Z`), 'sto_home');
    await payment(s, 2000, Date.parse('2026-11-21T04:00:00Z'), 'sto_mall');
    const p = await service.getMember(merchantId, memberId, Date.parse('2026-11-25T00:00:00Z'));
    assert.deepEqual(p.usualDays, ['tue']);
    assert.deepEqual(p.usualHours, [8]);
    assert.equal(p.weekdays[5], 1);
    assert.equal(p.hours[12], 1);
    assert.deepEqual(p.stores, [
      { storeId: 'sto_home', visits: 4, spend: 1800 },
      { storeId: 'sto_mall', visits: 1, spend: 2000 },
    ]);
    assert.equal(p.recentPurchases[0]?.at, Date.parse('2026-11-24T00:30:00Z'));
  });

  test('search, filters and cursor pagination over segments, tags, last visit and spend', async () => {
    const { service, merchantId, clock } = await setup();
    const now = clock.now().getTime();
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) {
      const s = shopper();
      const { memberId } = await service.join({
        merchantId,
        shopperId: s,
        fields: { name: i === 3 ? 'Zara Costa' : `Member ${i}`, phone: `+3160000${String(i).padStart(4, '0')}` },
        consentVersion: V,
        terminalId: null,
        at: now - (200 - i) * DAY,
      });
      ids.push(memberId);
      // Member i last came i * 10 days ago and spent (i + 1) × 10.00.
      await service.recordPayment({ merchantId, shopperId: s, paymentId: `pp_${memberId}`, storeId: 'sto_1', amount: (i + 1) * 1000, currency: 'EUR', at: now - i * 10 * DAY });
    }
    await service.addTag(merchantId, ids[2]!, 'oat milk');
    await service.addTag(merchantId, ids[5]!, 'oat milk');
    await assert.rejects(service.addTag(merchantId, ids[5]!, '=evil()'), { code: 'tag_invalid' });

    const idsOf = async (f: Parameters<typeof service.listMembers>[1]) => (await service.listMembers(merchantId, f, { limit: 100 })).items.map((m) => m.memberId).sort();
    assert.deepEqual(await idsOf({ tag: 'oat milk' }), [ids[2], ids[5]].sort());
    assert.deepEqual(await idsOf({ q: 'zara' }), [ids[3]]);
    assert.deepEqual(await idsOf({ q: '00011' }), [ids[11]]);
    assert.deepEqual(await idsOf({ spendMin: 10_000, spendMax: 11_000 }), [ids[9], ids[10]].sort());
    assert.deepEqual(await idsOf({ lastVisitFrom: now - 25 * DAY, lastVisitTo: now - 5 * DAY }), [ids[1], ids[2]].sort());
    // 46 to 90 days idle is at risk (members 5 to 9), more than 90 lapsed (10 and 11).
    assert.deepEqual(await idsOf({ segment: 'at_risk' }), [5, 6, 7, 8, 9].map((i) => ids[i]).sort());
    assert.deepEqual(await idsOf({ segment: 'lapsed' }), [ids[10], ids[11]].sort());
    await assert.rejects(service.listMembers(merchantId, { segment: 'vip' as never }), { code: 'segment_invalid' });
    const overview = await service.overview(merchantId);
    assert.equal(overview.members, 12);
    assert.equal(overview.segments.at_risk, 5);

    const seen: string[] = [];
    let cursor: string | undefined;
    for (let pages = 0; pages < 10; pages++) {
      const page = await service.listMembers(merchantId, {}, cursor === undefined ? { limit: 5 } : { limit: 5, cursor });
      assert.ok(page.items.length <= 5);
      seen.push(...page.items.map((m) => m.memberId));
      if (page.nextCursor === null) break;
      cursor = page.nextCursor;
    }
    assert.deepEqual(seen, [...ids].reverse(), 'newest first, each once');
    // A page scores only its own members, against the whole population: the same scores as each member's profile, which the database ranks.
    const page = await service.listMembers(merchantId, { status: 'all' }, { limit: 4, cursor: (await service.listMembers(merchantId, {}, { limit: 4 })).nextCursor! });
    assert.equal(page.items.length, 4);
    for (const m of page.items) {
      const one = await service.getMember(merchantId, m.memberId);
      assert.deepEqual([m.rfm, m.segment], [one.rfm, one.segment], m.memberId);
    }
    await assert.rejects(service.listMembers(merchantId, {}, { cursor: 'garbage' }), { code: 'cursor_invalid' });
  });

  test('CSV export: only consented fields, escaped, formulas neutralised', async () => {
    const { service, merchantId } = await setup({ fields: ['name', 'phone', 'gender'] });
    const a = shopper();
    const b = shopper();
    const { memberId: ma } = await service.join({ merchantId, shopperId: a, fields: { name: '=HYPERLINK("http://evil","x")' }, consentVersion: V, terminalId: null });
    const { memberId: mb } = await service.join({ merchantId, shopperId: b, fields: { name: 'Lee, "Jo"', phone: '+44 7700 900123' }, consentVersion: V, terminalId: null });
    await service.addTag(merchantId, mb, 'regular');
    const csv = await service.exportCsv(merchantId);
    const lines = csv.split('\r\n');
    assert.equal(lines[0], 'member_id,status,joined_at,name,phone,gender,visits,spend,average_ticket,last_visit_at,recency,frequency,monetary,segment,tags');
    const rowA = lines.find((l) => l.startsWith(ma))!;
    const rowB = lines.find((l) => l.startsWith(mb))!;
    assert.ok(rowA.includes(`"'=HYPERLINK(""http://evil"",""x"")",,,`), rowA);
    assert.ok(rowB.includes(`"Lee, ""Jo""",'+447700900123,,`), rowB);
    assert.ok(rowB.endsWith(',new,regular'));
    assert.equal(lines.at(-1), '');
  });
});

test('member ids do not depend on the shopper: same shopper, different random, different id', async () => {
  const { freshDb } = await import('../storage/testing.ts');
  const ids = [];
  for (const seed of [1, 2]) {
    const db = await freshDb('sqlite', memberMigrations);
    const service = createMembersService({ repo: new MemberRepo(db), clock: new ManualClock(), random: seededRandom(seed) });
    await service.setProgramme('mer_x', { name: 'P', benefits: '', fields: [], currency: 'EUR', timeZone: 'UTC' });
    ids.push((await service.join({ merchantId: 'mer_x', shopperId: 'shp_same', fields: {}, consentVersion: V, terminalId: null })).memberId);
    await db.dispose();
  }
  assert.notEqual(ids[0], ids[1]);
});
