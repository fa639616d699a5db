import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock, seededRandom, sequentialIds } from '../platform/index.ts';
import { describeEachDb } from '../storage/testing.ts';
import { createMembersService, MEMBERSHIP_CONSENT, MemberRepo, memberMigrations } from '../members/index.ts';
import { createMarketingService, describeReward, inHoldout, MarketingRepo, marketingMigrations, type CampaignInput, type MarketingEvent } from './index.ts';

const DAY = 24 * 3600 * 1000;
const V = MEMBERSHIP_CONSENT.version;
const SECRET = 'test holdout secret';

describeEachDb('marketing', [...memberMigrations, ...marketingMigrations], (getDb) => {
  let n = 0;
  const setup = async () => {
    const clock = new ManualClock('2026-11-25T10:00:00Z');
    const ids = sequentialIds();
    const merchantId = `mer_${n++}`;
    const events: MarketingEvent[] = [];
    const members = createMembersService({ repo: new MemberRepo(getDb()), clock, random: seededRandom(n) });
    const marketing = createMarketingService({
      repo: new MarketingRepo(getDb()),
      members,
      clock,
      ids: { next: (p) => `${ids.next(p)}_${merchantId}` },
      holdoutSecret: SECRET,
      events: { publish: (_tx, e) => void events.push(e) },
    });
    await members.setProgramme(merchantId, { name: 'Bean Club', benefits: '', fields: ['name', 'birthday'], currency: 'EUR', timeZone: 'Europe/Paris' });
    const now = () => clock.now().getTime();
    const base = (over: Partial<CampaignInput> = {}): CampaignInput => ({
      name: 'Welcome',
      trigger: 'join',
      audience: { kind: 'all' },
      reward: { kind: 'amount_off', amount: 500, minSpend: 1000 },
      currency: 'EUR',
      validFrom: now() - DAY,
      validTo: now() + 60 * DAY,
      couponDays: 30,
      holdoutPercent: 0,
      ...over,
    });
    let s = 0;
    /** A shopper joins (and the welcome trigger runs, as the lead will wire it). */
    const join = async (fields: Record<string, string> = {}, at = now()) => {
      const shopperId = `shp_${merchantId}_${s++}`;
      const { memberId } = await members.join({ merchantId, shopperId, fields, consentVersion: V, terminalId: 'term_1', at });
      const coupons = await marketing.onJoined(merchantId, memberId, at);
      return { shopperId, memberId, coupons };
    };
    let p = 0;
    const pay = async (shopperId: string, amount: number, at = now()) => {
      const paymentId = `pay_${merchantId}_${p++}`;
      await members.recordPayment({ merchantId, shopperId, paymentId, storeId: 'sto_1', amount, currency: 'EUR', at });
      return paymentId;
    };
    return { clock, merchantId, members, marketing, events, base, join, pay, now };
  };

  test('a welcome coupon on joining lands in the inbox and goes out as an event without the shopper id', async () => {
    const { marketing, merchantId, base, join, events } = await setup();
    const campaign = await marketing.createCampaign(merchantId, base({ message: { title: 'Welcome!', body: '5.00 off from 10.00' } }));
    const { shopperId, memberId, coupons } = await join();
    assert.equal(coupons.length, 1);
    assert.equal(coupons[0]!.campaignId, campaign.id);
    const inbox = await marketing.inbox(shopperId);
    assert.equal(inbox.items.length, 1);
    assert.equal(inbox.items[0]!.kind, 'coupon');
    assert.equal(inbox.items[0]!.title, 'Welcome!');
    assert.equal(inbox.items[0]!.coupon?.status, 'issued');
    assert.deepEqual(events.map((e) => e.type), ['coupon.issued']);
    assert.equal(events[0]!.data.memberId, memberId);
    assert.ok(!JSON.stringify(events).includes(shopperId));
    assert.equal((await marketing.campaign(merchantId, campaign.id)).issuedCount, 1);
    // The per-member limit (1) stops a second welcome.
    assert.deepEqual(await marketing.onJoined(merchantId, memberId), []);
  });

  test("the issue's story at the domain level: pay as a stranger, join with one tap, the next payment applies the welcome coupon", async () => {
    const { marketing, members, merchantId, base, clock } = await setup();
    await marketing.createCampaign(merchantId, base({ reward: { kind: 'amount_off', amount: 500 }, message: { title: 'Welcome', body: '5.00 off next time' } }));
    const shopperId = `shp_story_${merchantId}`;
    // 1. A face payment by a non-member: only the aggregate learns of it; the terminal offers to join.
    assert.equal(await members.memberIdFor(merchantId, shopperId), null);
    assert.equal((await members.recordPayment({ merchantId, shopperId, paymentId: `story1_${merchantId}`, storeId: 'sto_1', amount: 1800, currency: 'EUR', at: clock.now().getTime() })).memberId, null);
    const offer = await members.joinOffer(merchantId, shopperId);
    assert.ok(offer);
    // 2. One tap: join with the fields the shopper ticked; the welcome coupon follows.
    const { memberId } = await members.join({ merchantId, shopperId, fields: { name: 'Yuki Sato' }, consentVersion: offer.consentVersion, terminalId: 'term_1' });
    const welcome = await marketing.onJoined(merchantId, memberId);
    assert.equal(welcome.length, 1);
    // 3. Next visit: the terminal shows the coupon and the amount after it; confirming redeems it.
    clock.advance(DAY);
    const basket = { amount: 2400, currency: 'EUR' };
    const offers = await marketing.offersFor(merchantId, (await members.memberIdFor(merchantId, shopperId))!, basket);
    assert.deepEqual(offers.best, { couponId: welcome[0]!.id, discount: 500, payable: 1900 });
    const paymentId = `story2_${merchantId}`;
    const redeemed = await marketing.redeem({ merchantId, memberId, couponId: offers.best.couponId, paymentId, basket });
    await members.recordPayment({ merchantId, shopperId, paymentId, storeId: 'sto_1', amount: redeemed.payable, currency: 'EUR', at: clock.now().getTime() });
    await marketing.addReceipt({ shopperId, merchantId, merchantName: 'Bean Bar', paymentId, amount: redeemed.payable, currency: 'EUR', discount: redeemed.discount, at: clock.now().getTime() });
    const profile = await members.getMember(merchantId, memberId);
    assert.deepEqual([profile.visits, profile.spend, profile.fields], [1, 1900, { name: 'Yuki Sato' }]);
    const inbox = await marketing.inbox(shopperId);
    assert.deepEqual(inbox.items.map((i) => [i.kind, i.coupon?.status ?? null]), [
      ['receipt', null],
      ['coupon', 'redeemed'],
    ]);
  });

  test('the terminal shows each member their own coupons, applies the best, and the redemption is idempotent per payment', async () => {
    const { marketing, merchantId, base, join, events } = await setup();
    await marketing.createCampaign(merchantId, base());
    await marketing.createCampaign(merchantId, base({ name: 'Ten off', reward: { kind: 'percent_off', percent: 10, cap: 300 } }));
    const ann = await join();
    const bob = await join();
    const offers = await marketing.offersFor(merchantId, ann.memberId, { amount: 2500, currency: 'EUR' });
    assert.equal(offers.coupons.length, 2);
    assert.ok(offers.coupons.every((c) => c.coupon.memberId === ann.memberId), 'only her own coupons');
    const fiveOff = ann.coupons.find((c) => c.reward.kind === 'amount_off')!;
    assert.deepEqual(offers.best, { couponId: fiveOff.id, discount: 500, payable: 2000 });
    const small = await marketing.offersFor(merchantId, ann.memberId, { amount: 800, currency: 'EUR' });
    assert.equal(small.best?.discount, 80);
    assert.deepEqual(small.coupons.find((c) => c.coupon.id === fiveOff.id)?.shortBy, 200);

    const r = await marketing.redeem({ merchantId, memberId: ann.memberId, couponId: fiveOff.id, paymentId: 'pay_x', basket: { amount: 2500, currency: 'EUR' } });
    assert.deepEqual(r, { discount: 500, payable: 2000 });
    assert.deepEqual(await marketing.redeem({ merchantId, memberId: ann.memberId, couponId: fiveOff.id, paymentId: 'pay_x', basket: { amount: 2500, currency: 'EUR' } }), r);
    const other = ann.coupons.find((c) => c.id !== fiveOff.id)!;
    await assert.rejects(
      marketing.redeem({ merchantId, memberId: ann.memberId, couponId: other.id, paymentId: 'pay_x', basket: { amount: 2500, currency: 'EUR' } }),
      { code: 'payment_already_redeemed' },
    );
    await assert.rejects(
      marketing.redeem({ merchantId, memberId: ann.memberId, couponId: fiveOff.id, paymentId: 'pay_y', basket: { amount: 2500, currency: 'EUR' } }),
      { code: 'coupon_not_applicable' },
    );
    await assert.rejects(
      marketing.redeem({ merchantId, memberId: bob.memberId, couponId: other.id, paymentId: 'pay_z', basket: { amount: 2500, currency: 'EUR' } }),
      { code: 'coupon_not_found' },
    );
    assert.equal(events.filter((e) => e.type === 'coupon.redeemed').length, 1);
    const after = await marketing.offersFor(merchantId, ann.memberId, { amount: 2500, currency: 'EUR' });
    assert.deepEqual(after.coupons.map((c) => c.coupon.id), [other.id]);
  });

  test('a full refund reverses the redemption; a partial refund keeps it', async () => {
    const { marketing, merchantId, base, join, events } = await setup();
    const campaign = await marketing.createCampaign(merchantId, base({ budget: { maxDiscount: 10_000 } }));
    const a = await join();
    const b = await join();
    const basket = { amount: 3000, currency: 'EUR' };
    await marketing.redeem({ merchantId, memberId: a.memberId, couponId: a.coupons[0]!.id, paymentId: 'pay_full', basket });
    await marketing.redeem({ merchantId, memberId: b.memberId, couponId: b.coupons[0]!.id, paymentId: 'pay_part', basket });
    assert.equal((await marketing.campaign(merchantId, campaign.id)).discountUsed, 1000);

    assert.deepEqual(await marketing.onRefund({ merchantId, paymentId: 'pay_part', fullyRefunded: false }), { reversed: false });
    assert.deepEqual(await marketing.onRefund({ merchantId, paymentId: 'pay_full', fullyRefunded: true }), { reversed: true });
    assert.deepEqual(await marketing.onRefund({ merchantId, paymentId: 'pay_full', fullyRefunded: true }), { reversed: false });
    assert.deepEqual(await marketing.onRefund({ merchantId: 'mer_other', paymentId: 'pay_part', fullyRefunded: true }), { reversed: false });
    assert.equal((await marketing.campaign(merchantId, campaign.id)).discountUsed, 500);
    assert.equal(events.filter((e) => e.type === 'coupon.redemption_reversed').length, 1);
    // The coupon is usable again on a new payment; b's is still used.
    const again = await marketing.offersFor(merchantId, a.memberId, basket);
    assert.equal(again.best?.couponId, a.coupons[0]!.id);
    assert.equal((await marketing.offersFor(merchantId, b.memberId, basket)).best, null);
    // The refunded payment id cannot be redeemed again; a new payment can.
    await assert.rejects(marketing.redeem({ merchantId, memberId: a.memberId, couponId: a.coupons[0]!.id, paymentId: 'pay_full', basket }), {
      code: 'payment_already_redeemed',
    });
    assert.equal((await marketing.redeem({ merchantId, memberId: a.memberId, couponId: a.coupons[0]!.id, paymentId: 'pay_new', basket })).discount, 500);
  });

  test('budgets: the discount budget caps the last redemption; the coupon budget stops issuance', async () => {
    const { marketing, merchantId, base, join } = await setup();
    const capped = await marketing.createCampaign(merchantId, base({ reward: { kind: 'amount_off', amount: 600 }, budget: { maxDiscount: 1000, maxCoupons: 3 } }));
    const a = await join();
    const b = await join();
    const c = await join();
    const d = await join();
    assert.deepEqual([a, b, c, d].map((x) => x.coupons.length), [1, 1, 1, 0]);
    const basket = { amount: 5000, currency: 'EUR' };
    assert.equal((await marketing.redeem({ merchantId, memberId: a.memberId, couponId: a.coupons[0]!.id, paymentId: 'p1', basket })).discount, 600);
    assert.equal((await marketing.offersFor(merchantId, b.memberId, basket)).best?.discount, 400);
    assert.equal((await marketing.redeem({ merchantId, memberId: b.memberId, couponId: b.coupons[0]!.id, paymentId: 'p2', basket })).discount, 400);
    assert.equal((await marketing.offersFor(merchantId, c.memberId, basket)).best, null);
    await assert.rejects(marketing.redeem({ merchantId, memberId: c.memberId, couponId: c.coupons[0]!.id, paymentId: 'p3', basket }), {
      code: 'coupon_not_applicable',
      details: { reason: 'budget_exhausted' },
    });
    assert.equal((await marketing.campaign(merchantId, capped.id)).discountUsed, 1000);
  });

  test('holdout members are recorded but get nothing; the share is stable per member', async () => {
    const { marketing, merchantId, base, join } = await setup();
    const campaign = await marketing.createCampaign(merchantId, base({ holdoutPercent: 50 }));
    const joined = [];
    for (let i = 0; i < 30; i++) joined.push(await join());
    for (const j of joined) assert.equal(j.coupons.length === 0, inHoldout(SECRET, campaign.id, j.memberId, 50));
    const held = joined.filter((j) => j.coupons.length === 0).length;
    assert.ok(held > 0 && held < 30, `holdout ${held} of 30`);
    const results = await marketing.results(merchantId, campaign.id);
    assert.equal(results.holdout.members, held);
    assert.equal(results.treatment.members, 30 - held);
    assert.equal(results.couponsIssued, 30 - held);
    // Offers never show a holdout member a coupon, not even as an upcoming one.
    const out = joined.find((j) => j.coupons.length === 0)!;
    assert.deepEqual((await marketing.offersFor(merchantId, out.memberId, { amount: 5000, currency: 'EUR' })).coupons, []);
  });

  test('payment-triggered coupons: one per payment and campaign, shown before as upcoming', async () => {
    const { marketing, merchantId, base, join, pay } = await setup();
    const c = await marketing.createCampaign(merchantId, base({ name: 'Next time', trigger: 'payment', perMemberLimit: 2, reward: { kind: 'spend_save', threshold: 3000, amount: 600 } }));
    const m = await join();
    const offers = await marketing.offersFor(merchantId, m.memberId, { amount: 1000, currency: 'EUR' });
    assert.deepEqual(offers.upcoming.map((u) => u.campaignId), [c.id]);
    const p1 = await pay(m.shopperId, 1000);
    assert.equal((await marketing.onPayment(merchantId, m.memberId, { paymentId: p1, at: Date.parse('2027-06-01T00:00:00Z') })).length, 0, 'outside the validity');
    const at = Date.parse('2026-11-25T10:00:00Z');
    assert.equal((await marketing.onPayment(merchantId, m.memberId, { paymentId: p1, at })).length, 1);
    assert.equal((await marketing.onPayment(merchantId, m.memberId, { paymentId: p1, at })).length, 0, 'retry');
    const p2 = await pay(m.shopperId, 1000);
    assert.equal((await marketing.onPayment(merchantId, m.memberId, { paymentId: p2, at })).length, 1);
    const p3 = await pay(m.shopperId, 1000);
    assert.equal((await marketing.onPayment(merchantId, m.memberId, { paymentId: p3, at })).length, 0, 'per-member limit');
    assert.deepEqual((await marketing.offersFor(merchantId, m.memberId, { amount: 1000, currency: 'EUR' })).upcoming, []);
  });

  test('scheduled campaigns: birthday this month and lapsed members, each once while a coupon is held', async () => {
    const { marketing, merchantId, base, join, pay, clock, now } = await setup();
    const bday = await marketing.createCampaign(merchantId, base({ name: 'Birthday', trigger: 'schedule', audience: { kind: 'birthday_month' }, reward: { kind: 'free_item', code: 'CAKE', label: 'cake' } }));
    const lapsed = await marketing.createCampaign(merchantId, base({ name: 'Win back', trigger: 'schedule', audience: { kind: 'lapsed', days: 30 }, perMemberLimit: 3 }));
    const nov = await join({ birthday: '1990-11-02' });
    const may = await join({ birthday: '1985-05-20' });
    const hidden = await join();
    const old = await join({}, now() - 50 * DAY);
    await pay(old.shopperId, 1000, now() - 40 * DAY);
    await pay(may.shopperId, 1000);
    const r = await marketing.runScheduled(now());
    assert.deepEqual(r, { campaigns: 2, issued: 2 });
    const held = async (memberId: string) => (await marketing.couponsOf(merchantId, memberId)).map((c) => c.campaignId).sort();
    assert.deepEqual(await held(nov.memberId), [bday.id]);
    assert.deepEqual(await held(old.memberId), [lapsed.id]);
    assert.deepEqual(await held(may.memberId), []);
    assert.deepEqual(await held(hidden.memberId), []);
    // Running again the next hour gives nobody a second coupon while the first is unused.
    clock.advance(3600_000);
    assert.deepEqual(await marketing.runScheduled(now()), { campaigns: 2, issued: 0 });
    await assert.rejects(marketing.issueNow(merchantId, (await marketing.createCampaign(merchantId, base())).id), { code: 'campaign_not_manual' });
  });

  test('a birthday treat comes once per birthday month, even when used and the limit allows more', async () => {
    const { marketing, merchantId, base, join, clock, now } = await setup();
    const bday = await marketing.createCampaign(
      merchantId,
      base({ name: 'Birthday', trigger: 'schedule', audience: { kind: 'birthday_month' }, perMemberLimit: 5, couponDays: null, validTo: now() + 400 * DAY }),
    );
    const m = await join({ birthday: '1990-11-02' });
    assert.equal((await marketing.runScheduled(now())).issued, 1);
    const [coupon] = await marketing.couponsOf(merchantId, m.memberId);
    await marketing.redeem({ merchantId, memberId: m.memberId, couponId: coupon!.id, paymentId: `bd_${merchantId}`, basket: { amount: 3000, currency: 'EUR' } });
    clock.advance(DAY);
    assert.equal((await marketing.runScheduled(now())).issued, 0, 'used, but still the same birthday month');
    clock.set('2027-11-10T10:00:00Z');
    assert.equal((await marketing.runScheduled(now())).issued, 1, 'next year');
    assert.equal((await marketing.couponsOf(merchantId, m.memberId)).filter((c) => c.campaignId === bday.id).length, 2);
  });

  test('the terminal never offers what issuing refuses: a birthday treat earned by a payment, once per birthday month', async () => {
    const { marketing, merchantId, base, join, pay, now } = await setup();
    const c = await marketing.createCampaign(
      merchantId,
      base({ name: 'Birthday coffee', trigger: 'payment', audience: { kind: 'birthday_month' }, perMemberLimit: 5, reward: { kind: 'free_item', code: 'COFFEE', label: 'a coffee' } }),
    );
    const m = await join({ birthday: '1990-11-02' });
    const offered = async () => (await marketing.offersFor(merchantId, m.memberId, { amount: 1000, currency: 'EUR' })).upcoming.map((u) => u.campaignId);
    assert.deepEqual(await offered(), [c.id]);
    assert.equal((await marketing.onPayment(merchantId, m.memberId, { paymentId: await pay(m.shopperId, 1000), at: now() })).length, 1);
    // The limit allows four more, but the treat was given this birthday month: issuing refuses, so the terminal must not offer it.
    assert.deepEqual(await offered(), []);
    assert.equal((await marketing.onPayment(merchantId, m.memberId, { paymentId: await pay(m.shopperId, 1000), at: now() })).length, 0);
  });

  test('messages reach the inbox and the webhook, except for shoppers who muted the merchant; their coupons still work', async () => {
    const { marketing, members, merchantId, base, join, events } = await setup();
    const a = await join();
    const muted = await join();
    await marketing.mute(muted.shopperId, merchantId);
    assert.deepEqual((await marketing.mutes(muted.shopperId)).map((m) => m.merchantId), [merchantId]);
    const sent = await marketing.sendMessage(merchantId, { audience: { kind: 'all' }, title: 'New menu', body: 'Try the matcha.' });
    assert.deepEqual([sent.recipients, sent.muted], [1, 1]);
    assert.equal((await marketing.inbox(a.shopperId)).items[0]?.title, 'New menu');
    assert.equal((await marketing.inbox(muted.shopperId)).items.length, 0);
    assert.deepEqual(events.filter((e) => e.type === 'message.sent').map((e) => e.data.memberId), [a.memberId]);

    const campaign = await marketing.createCampaign(merchantId, base({ trigger: 'manual' }));
    assert.deepEqual(await marketing.issueNow(merchantId, campaign.id), { issued: 2 });
    const issued = events.filter((e) => e.type === 'coupon.issued');
    assert.deepEqual(issued.map((e) => [e.data.memberId, e.type === 'coupon.issued' && e.data.notify]).sort(), [
      [a.memberId, true],
      [muted.memberId, false],
    ].sort());
    const coupons = await marketing.shopperCoupons(muted.shopperId);
    assert.equal(coupons.length, 1);
    const r = await marketing.redeem({ merchantId, memberId: muted.memberId, couponId: coupons[0]!.coupon!.couponId, paymentId: 'pm', basket: { amount: 1000, currency: 'EUR' } });
    assert.equal(r.discount, 500);
    await marketing.unmute(muted.shopperId, merchantId);
    assert.equal((await marketing.sendMessage(merchantId, { audience: { kind: 'all' }, title: 'Hi', body: '' })).recipients, 2);
    assert.ok(!JSON.stringify(events).includes(a.shopperId) && !JSON.stringify(events).includes(muted.shopperId));
    void members;
  });

  test('receipts are idempotent per payment; the inbox pages newest first and items can be marked read', async () => {
    const { marketing, merchantId, clock, now } = await setup();
    const shopperId = `shp_receipts_${merchantId}`;
    for (let i = 0; i < 5; i++) {
      await marketing.addReceipt({ shopperId, merchantId, merchantName: 'Bean Bar', paymentId: `rc_${merchantId}_${i}`, amount: 1250, currency: 'EUR', discount: i === 0 ? 250 : 0, at: now() });
      clock.advance(1000);
    }
    await marketing.addReceipt({ shopperId, merchantId, merchantName: 'Bean Bar', paymentId: `rc_${merchantId}_0`, amount: 1250, currency: 'EUR', at: now() });
    const first = await marketing.inbox(shopperId, { limit: 3 });
    assert.equal(first.items.length, 3);
    assert.equal(first.items[0]!.payment?.paymentId, `rc_${merchantId}_4`);
    const second = await marketing.inbox(shopperId, { limit: 3, cursor: first.nextCursor! });
    assert.deepEqual(second.items.map((i) => i.payment?.paymentId), [`rc_${merchantId}_1`, `rc_${merchantId}_0`]);
    assert.equal(second.nextCursor, null);
    assert.match(second.items[1]!.body, /saved you €2\.50/);
    await marketing.markRead(shopperId, second.items[1]!.id);
    assert.notEqual((await marketing.inbox(shopperId, { limit: 10 })).items[4]!.readAt, null);
    await assert.rejects(marketing.markRead('shp_nobody', second.items[1]!.id), { code: 'inbox_item_not_found' });
  });

  test('leaving voids unused coupons and the terminal no longer knows the member', async () => {
    const { marketing, members, merchantId, base, join } = await setup();
    await marketing.createCampaign(merchantId, base());
    const m = await join();
    await members.leave(m.shopperId, merchantId);
    assert.equal(await marketing.onMemberLeft(merchantId, m.memberId), 1);
    await assert.rejects(marketing.offersFor(merchantId, m.memberId, { amount: 2000, currency: 'EUR' }), { code: 'member_not_found' });
    await assert.rejects(
      marketing.redeem({ merchantId, memberId: m.memberId, couponId: m.coupons[0]!.id, paymentId: 'pl', basket: { amount: 2000, currency: 'EUR' } }),
      { code: 'member_not_found' },
    );
    assert.equal((await marketing.shopperCoupons(m.shopperId)).length, 0);
  });

  test('deleting the shopper account ends every membership, voids coupons and empties the inbox', async () => {
    const { marketing, members, merchantId, base, join } = await setup();
    await marketing.createCampaign(merchantId, base());
    const m = await join({ name: 'Ines Costa' });
    await marketing.addReceipt({ shopperId: m.shopperId, merchantId, merchantName: 'Bean Bar', paymentId: `del_${merchantId}`, amount: 100, currency: 'EUR', at: 0 });
    await marketing.mute(m.shopperId, merchantId);
    const ended = await members.forgetShopper(m.shopperId);
    assert.deepEqual(ended, [{ merchantId, memberId: m.memberId }]);
    await marketing.forgetShopper(m.shopperId, ended);
    assert.deepEqual(await members.memberships(m.shopperId), []);
    assert.deepEqual((await members.getMember(merchantId, m.memberId)).fields, {});
    assert.deepEqual((await marketing.couponsOf(merchantId, m.memberId)).map((c) => c.status), ['void']);
    assert.equal((await marketing.inbox(m.shopperId)).items.length, 0);
    assert.deepEqual(await marketing.mutes(m.shopperId), []);
    // A new account with the same id (ids are never reused, but even so) starts with no history.
    assert.equal(await members.memberIdFor(merchantId, m.shopperId), null);
  });

  test('a full refund after the member left does not bring their coupon back', async () => {
    const { marketing, members, merchantId, base, join } = await setup();
    await marketing.createCampaign(merchantId, base());
    const m = await join();
    await marketing.redeem({ merchantId, memberId: m.memberId, couponId: m.coupons[0]!.id, paymentId: `pl_${merchantId}`, basket: { amount: 2000, currency: 'EUR' } });
    await members.leave(m.shopperId, merchantId);
    await marketing.onMemberLeft(merchantId, m.memberId);
    assert.deepEqual(await marketing.onRefund({ merchantId, paymentId: `pl_${merchantId}`, fullyRefunded: true }), { reversed: true });
    assert.deepEqual((await marketing.couponsOf(merchantId, m.memberId)).map((c) => c.status), ['void']);
  });

  test('concurrent use: a coupon pays for one payment only; the discount budget is never overspent; joins do not duplicate', async () => {
    const { marketing, members, merchantId, base, join } = await setup();
    await marketing.createCampaign(merchantId, base({ reward: { kind: 'amount_off', amount: 400 }, budget: { maxDiscount: 1000 } }));
    const m = await join();
    const basket = { amount: 2000, currency: 'EUR' };
    const same = await Promise.allSettled(
      [1, 2, 3, 4].map((i) => marketing.redeem({ merchantId, memberId: m.memberId, couponId: m.coupons[0]!.id, paymentId: `race_${merchantId}_${i}`, basket })),
    );
    assert.equal(same.filter((r) => r.status === 'fulfilled').length, 1);
    const others = [];
    for (let i = 0; i < 5; i++) others.push(await join());
    const many = await Promise.allSettled(
      others.map((o, i) => marketing.redeem({ merchantId, memberId: o.memberId, couponId: o.coupons[0]!.id, paymentId: `budget_${merchantId}_${i}`, basket })),
    );
    const given = many.reduce((s, r) => s + (r.status === 'fulfilled' ? r.value.discount : 0), 0);
    assert.equal(given, 600, 'the 1000 budget minus the first 400');
    const campaign = (await marketing.campaigns(merchantId))[0]!;
    assert.equal(campaign.discountUsed, 1000);

    const shopperId = `shp_race_${merchantId}`;
    const joins = await Promise.all(
      [1, 2, 3].map(() => members.join({ merchantId, shopperId, fields: {}, consentVersion: V, terminalId: null })),
    );
    assert.equal(new Set(joins.map((j) => j.memberId)).size, 1);
    assert.equal(joins.filter((j) => j.created).length, 1);
  });

  test('a redemption and its event commit together: a failing sink leaves the coupon unused', async () => {
    const { members, merchantId, base, join, clock } = await setup();
    const failing = createMarketingService({
      repo: new MarketingRepo(getDb()),
      members,
      clock,
      ids: sequentialIds(),
      holdoutSecret: SECRET,
      events: {
        publish: (_tx, e) => {
          if (e.type === 'coupon.redeemed') throw new Error('outbox down');
        },
      },
    });
    await failing.createCampaign(merchantId, base({ name: `Sink ${merchantId}` }));
    const { memberId, coupons } = await join();
    const coupon = coupons[0];
    const basket = { amount: 2000, currency: 'EUR' };
    await assert.rejects(failing.redeem({ merchantId, memberId, couponId: coupon!.id, paymentId: `sink_${merchantId}`, basket }), /outbox down/);
    assert.equal((await failing.offersFor(merchantId, memberId, basket)).best?.couponId, coupon!.id);
  });

  test('campaign input is validated and campaigns are scoped to their merchant', async () => {
    const { marketing, merchantId, base } = await setup();
    await assert.rejects(marketing.createCampaign(merchantId, base({ validTo: 0 })), { code: 'validity_invalid' });
    await assert.rejects(marketing.createCampaign(merchantId, base({ holdoutPercent: 80 })), { code: 'holdout_invalid' });
    await assert.rejects(marketing.createCampaign(merchantId, base({ audience: { kind: 'lapsed', days: 0 } })), { code: 'audience_invalid' });
    await assert.rejects(marketing.createCampaign(merchantId, base({ trigger: 'sometimes' as never })), { code: 'trigger_invalid' });
    await assert.rejects(marketing.createCampaign(merchantId, base({ currency: 'USD' })), { code: 'currency_mismatch' });
    const c = await marketing.createCampaign(merchantId, base());
    assert.equal(c.holdoutPercent, 0);
    assert.equal((await marketing.createCampaign(merchantId, { ...base(), holdoutPercent: undefined } as CampaignInput)).holdoutPercent, 10);
    await assert.rejects(marketing.campaign('mer_other', c.id), { code: 'campaign_not_found' });
    await marketing.setCampaignStatus(merchantId, c.id, 'ended');
    await assert.rejects(marketing.setCampaignStatus(merchantId, c.id, 'active'), { code: 'campaign_ended' });
  });

  test('results: spend per member from assignment, redemption rate, and an uplift interval', async () => {
    const { marketing, merchantId, base, join, pay, clock, now } = await setup();
    const campaign = await marketing.createCampaign(merchantId, base({ holdoutPercent: 50 }));
    const people = [];
    for (let i = 0; i < 40; i++) people.push(await join());
    const rnd = seededRandom(7);
    clock.advance(DAY);
    let treatedSpend = 0;
    for (const p of people) {
      const treated = p.coupons.length > 0;
      const amount = 1000 + rnd.int(1000) + (treated ? 1500 : 0);
      const paymentId = await pay(p.shopperId, amount);
      if (treated) {
        await marketing.redeem({ merchantId, memberId: p.memberId, couponId: p.coupons[0]!.id, paymentId, basket: { amount, currency: 'EUR' } });
        treatedSpend += amount;
      }
    }
    const r = await marketing.results(merchantId, campaign.id, now());
    const nTreated = people.filter((p) => p.coupons.length > 0).length;
    assert.equal(r.treatment.members, nTreated);
    assert.equal(r.treatment.redemptionRate, 1);
    assert.equal(r.holdout.redemptionRate, 0);
    assert.equal(r.treatment.spendPerMember, treatedSpend / nTreated);
    assert.equal(r.couponsRedeemed, nTreated);
    assert.equal(r.discountGiven, 500 * nTreated);
    assert.ok(r.uplift && r.uplift.low > 0 && r.uplift.high > r.uplift.low, JSON.stringify(r.uplift));
    assert.ok(Math.abs(r.uplift.difference - (r.treatment.spendPerMember! - r.holdout.spendPerMember!)) < 1e-9);
  });
});

test('rewards read in the minor unit of their currency', () => {
  assert.equal(describeReward({ kind: 'amount_off', amount: 500, minSpend: 2000 }, 'EUR'), '€5.00 off when you spend €20.00');
  assert.equal(describeReward({ kind: 'amount_off', amount: 500 }, 'JPY'), 'JP¥500 off');
  assert.equal(describeReward({ kind: 'percent_off', percent: 20, cap: 1500 }, 'CNY'), '20% off (up to CN¥15.00)');
  assert.equal(describeReward({ kind: 'spend_save', threshold: 5000, amount: 800 }, 'GBP'), 'Spend £50.00, save £8.00');
  assert.equal(describeReward({ kind: 'free_item', code: 'CAKE', label: 'cake' }, 'EUR'), 'Free cake (code CAKE)');
});

test('the holdout secret is required to reproduce assignment: another secret, other groups', () => {
  const ids = Array.from({ length: 200 }, (_, i) => `mem_${i}`);
  const a = ids.map((id) => inHoldout('one', 'cmp', id, 50));
  const b = ids.map((id) => inHoldout('two', 'cmp', id, 50));
  assert.ok(a.some((x, i) => x !== b[i]));
});
