import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { seedDemo, type DemoResult } from './demo.ts';
import type { PaymentIntent } from './payments/index.ts';
import { ManualClock, seededRandom } from './platform/index.ts';
import { describeEachDialect } from './storage/testing.ts';
import { testPlatform, type TestPlatform } from './testing.ts';

const NOW = '2026-11-25T10:00:00Z';

async function demoPlatform(dialect: 'sqlite' | 'postgres', file?: string) {
  const p = await testPlatform(dialect, { overrides: { clock: new ManualClock(NOW) }, ...(file ? { file } : {}) });
  const kiosk = await p.services.merchants.createStore(p.merchantId, { name: 'Kiosk' });
  const tills = [];
  for (const storeId of [p.storeId, kiosk.id]) tills.push({ storeId, terminalId: (await p.services.devices!.createTerminal({ merchantId: p.merchantId, storeId })).terminal.id });
  return { p, tills };
}

async function allIntents(p: TestPlatform): Promise<PaymentIntent[]> {
  const out: PaymentIntent[] = [];
  let cursor: string | undefined;
  for (;;) {
    const page = await p.services.payments.listIntents(p.merchantId, { limit: 100, ...(cursor ? { cursor } : {}) });
    out.push(...page.data);
    if (!page.hasMore) return out;
    cursor = page.nextCursor!;
  }
}

describeEachDialect('the demo: every purchase a real payment', (dialect) => {
  let p: TestPlatform;
  let result: DemoResult;
  before(async () => {
    const made = await demoPlatform(dialect);
    p = made.p;
    const r = await seedDemo(p, { merchantId: p.merchantId, tills: made.tills, random: seededRandom(7), timeZone: 'Asia/Shanghai', memberCount: 40, days: 60, nonMembersPerDay: 3 });
    assert.ok(r);
    result = r;
  });
  after(async () => {
    await p?.dispose();
  });

  test('it seeds once', async () => {
    assert.equal(await seedDemo(p, { merchantId: p.merchantId, tills: [], random: seededRandom(7), timeZone: 'Asia/Shanghai' }), null);
  });

  test('the books are clean and every payment succeeded, at its purchase time, most by face', async () => {
    const audit = await p.services.payments.audit();
    assert.deepEqual(audit.problems, []);
    assert.equal(audit.succeeded, result.payments);
    assert.equal(result.payments, result.purchases + result.nonMemberPayments);
    const intents = await allIntents(p);
    assert.equal(intents.length, result.payments);
    assert.ok(intents.every((pi) => pi.status === 'succeeded' && pi.terminalId !== null && (pi.platformFee ?? 0) > 0));
    assert.ok(intents.every((pi) => /^\d{8}-\d{5}$/.test(pi.orderReference ?? '')), 'receipt numbers start with their day');
    const times = intents.map((pi) => pi.createdAt);
    assert.ok(Math.max(...times) < Date.parse(NOW) && Math.min(...times) < Date.parse(NOW) - 50 * 24 * 3600_000, 'payments spread over the past');
    assert.ok(intents.some((pi) => pi.discount > 0 && pi.couponId !== null), 'some payments used a coupon');
    assert.ok(result.byFace > result.byPayCode && result.byPayCode > 0);
    // Each payment records how it was made, through the real checkout: the same split as the attempts.
    assert.equal(intents.filter((pi) => pi.paymentMethod === 'face').length, result.byFace);
    assert.equal(intents.filter((pi) => pi.paymentMethod === 'pay_code').length, result.byPayCode);
    assert.ok(result.refunds > 0);
    const refunds = await p.services.payments.listRefunds(p.merchantId, { limit: 100 });
    assert.equal(refunds.data.length, result.refunds);
    assert.equal(intents.filter((pi) => pi.amountRefunded > 0).length, result.refunds);
  });

  test('the money came in through the bank-transfer rail, so the fresh demo reconciles clean', async () => {
    const report = await p.services.reconciliation!.report();
    assert.deepEqual(report.notes, []);
    const line = report.currencies.find((c) => c.currency === p.config.walletCurrency)!;
    assert.deepEqual(Object.keys(line.fundedByRail), ['bank_transfer']);
    assert.deepEqual(line.unmatched, { count: 0, total: '0' });
    assert.ok(line.bank, 'the demo imports a statement with a closing balance');
    // The bank holds every top-up; what is not in wallets is owed to the merchant or is fee income.
    assert.equal(line.bank.balance, line.fundedByRail.bank_transfer);
    assert.equal(BigInt(line.difference!), BigInt(line.merchantPayable) + BigInt(line.platformFees));
    assert.ok(result.topUps > 0);
    assert.deepEqual((await p.services.fundingService!.audit()).problems, []);
    assert.deepEqual((await p.services.ledger.verify()).problems, []);
  });

  test('the dashboard shows sales this month and the face share', async () => {
    const d = await p.services.reports!.dashboard(p.merchantId);
    assert.ok(d.month.sales > 0 && d.month.payments > 0);
    assert.ok(d.month.faceShare !== null && d.month.faceShare > 0.6 && d.month.faceShare < 1, `face share ${d.month.faceShare}`);
    assert.equal(d.month.byFace + d.month.byPayCode, d.month.payments);
    assert.ok(d.month.newMembers > 0);
  });

  test("each member's spend is the sum of their payments less refunds; non-members only in aggregate", async () => {
    const { members } = p.services;
    const net = new Map<string, number>();
    for (const pi of await allIntents(p)) net.set(pi.shopperId!, (net.get(pi.shopperId!) ?? 0) + pi.amount - pi.discount - pi.amountRefunded);
    const list = await members.listMembers(p.merchantId, { status: 'active' }, { limit: 200 });
    assert.equal(list.items.length, result.memberIds.length - result.left);
    for (const m of list.items) {
      const shopperId = await members.shopperIdFor(p.merchantId, m.memberId);
      assert.ok(shopperId);
      assert.equal(m.spend, net.get(shopperId), m.memberId);
    }
    // The members demo names its non-member shoppers so; their payments count only in the daily aggregates.
    const guests = [...net].filter(([shopperId]) => shopperId.startsWith(`shp_demo_${p.merchantId}_g`));
    assert.ok(guests.length > 10);
    const days = await members.nonMemberDaily(p.merchantId, '2026-01-01', '2026-12-31');
    assert.equal(days.reduce((a, d) => a + d.amount, 0), guests.reduce((a, [, n]) => a + n, 0));
  });
});

// CI does not time: the seed's duration is printed for a reader, and `npm start` shows it too.
test('the full demo on SQLite seeds its 300 members with their payments, refunds and redemptions', async () => {
  const { p, tills } = await demoPlatform('sqlite');
  try {
    const started = performance.now();
    const r = await seedDemo(p, { merchantId: p.merchantId, tills, random: seededRandom(20261125), timeZone: 'Asia/Shanghai' });
    const ms = performance.now() - started;
    assert.ok(r);
    console.log(`# full demo: ${r.memberIds.length} members, ${r.payments} payments (${r.purchases} by members, ${r.byFace} by face), ${r.refunds} refunds, ${r.redemptions} redemptions in ${ms.toFixed(0)} ms`);
    assert.equal(r.memberIds.length, 300);
    assert.ok(r.payments >= r.purchases && r.purchases > 0 && r.refunds > 0 && r.redemptions > 0, 'members pay, and some refund and redeem');
  } finally {
    await p.dispose();
  }
});
