/**
 * The console's view of payments over HTTP: the list and a payment name the terminal, the member
 * id and the coupon's campaign; the payments CSV (decimals and minor units, escaping, formula
 * cells made safe, the list's filters, page by page) is for owners and managers only.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { describeEachDialect } from '../../storage/testing.ts';
import { testPlatform, type TestPlatform } from '../../testing.ts';

const DAY = 86_400_000;

/** RFC 4180 lines into cells, enough for these files (quoted cells may hold commas, quotes and newlines). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') (cell += '"'), i++;
      else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') row.push(cell), (cell = '');
    else if (ch === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      (row = []), (cell = ''), i++;
    } else cell += ch;
  }
  assert.equal(cell + row.join(''), '', 'the file ends with a line break');
  return rows;
}

describeEachDialect('payments in the console: terminal, member, coupon; the CSV export', (dialect) => {
  let p: TestPlatform;
  const cookies: Record<string, string> = {};
  let memberId: string;
  let memberPayment: string;
  let plainPayment: string;
  let pendingPayment: string;

  const get = (url: string, headers: Record<string, string>) => p.app.inject({ method: 'GET', url, headers });

  before(async () => {
    p = await testPlatform(dialect);
    const { members, marketing, payments, devices, staff } = p.services;
    for (const [role, email] of [['owner', 'owner@shop.test'], ['manager', 'manager@shop.test'], ['cashier', 'cashier@shop.test']] as const) {
      await staff!.create(p.merchantId, { email, name: role, password: `${role}-password-1`, role });
      const r = await p.app.inject({ method: 'POST', url: '/v1/staff/login', payload: { email, password: `${role}-password-1` } });
      assert.equal(r.statusCode, 200, r.body);
      cookies[role] = String(r.headers['set-cookie']).split(';')[0]!;
    }
    await members.setProgramme(p.merchantId, { name: 'Club', benefits: '', fields: ['name', 'email'], currency: 'EUR', timeZone: 'UTC' });
    memberId = (await members.join({ merchantId: p.merchantId, shopperId: 'shopper_rita', fields: { name: 'Rita Private', email: 'rita@example.com' }, consentVersion: members.consent.version, terminalId: null })).memberId;
    const campaign = await marketing.createCampaign(p.merchantId, {
      name: 'Winter, "warm" treat',
      trigger: 'manual',
      audience: { kind: 'all' },
      reward: { kind: 'amount_off', amount: 300 },
      currency: 'EUR',
      validFrom: p.clock.now().getTime(),
      validTo: p.clock.now().getTime() + 30 * DAY,
      holdoutPercent: 0,
    });
    await marketing.issueNow(p.merchantId, campaign.id);
    const [coupon] = await marketing.couponsOf(p.merchantId, memberId);
    assert.ok(coupon, 'the member holds the campaign coupon');
    const { terminal } = await devices!.createTerminal({ merchantId: p.merchantId, storeId: p.storeId, label: 'Till 3' });

    await payments.topUp('shopper_rita', 10_000, 'eur', 'rita-1');
    await payments.topUp('shopper_sam', 10_000, 'eur', 'sam-1');
    const a = await payments.createIntent(p.merchantId, { amount: 2400, currency: 'eur', storeId: p.storeId, terminalId: terminal.id, orderReference: '=HYPERLINK("http://x","y")', description: 'Two loaves, one "seeded"' });
    await payments.confirmWithShopper(a.id, 'shopper_rita', { discount: 300, couponId: coupon.id, method: 'face_pin' });
    // What the checkout's CRM step does once the payment has settled.
    await members.recordPayment({ merchantId: p.merchantId, shopperId: 'shopper_rita', paymentId: a.id, storeId: p.storeId, amount: 2100, currency: 'EUR', at: p.clock.now().getTime() });
    memberPayment = a.id;
    const b = await payments.createIntent(p.merchantId, { amount: 905, currency: 'eur', storeId: p.storeId, orderReference: '-2+3' });
    await payments.confirmWithShopper(b.id, 'shopper_sam', { method: 'pay_code' });
    await members.recordPayment({ merchantId: p.merchantId, shopperId: 'shopper_sam', paymentId: b.id, storeId: p.storeId, amount: 905, currency: 'EUR', at: p.clock.now().getTime() });
    plainPayment = b.id;
    pendingPayment = (await payments.createIntent(p.merchantId, { amount: 50, currency: 'eur', storeId: p.storeId, orderReference: 'Order 3' })).id;
  });
  after(async () => {
    await p?.dispose();
  });

  test('the list and a payment name the terminal, the member id and the coupon campaign, and keep every field they had', async () => {
    const list = await get('/v1/payment_intents?limit=10', { cookie: cookies.cashier! });
    assert.equal(list.statusCode, 200, list.body);
    const byId = new Map((list.json().data as Record<string, unknown>[]).map((x) => [x.id, x]));
    const a = byId.get(memberPayment)!;
    assert.equal(a.terminal_name, 'Till 3');
    assert.equal(a.member, memberId);
    assert.equal(a.payment_method, 'face_pin');
    assert.equal(a.discount, 300);
    assert.equal(a.amount_received, 2100);
    assert.match(String(a.coupon), /\S/);
    assert.deepEqual((a.coupon_campaign as { name: string }).name, 'Winter, "warm" treat');
    const b = byId.get(plainPayment)!;
    assert.deepEqual([b.member, b.terminal_name, b.coupon_campaign, b.payment_method], [null, null, null, 'pay_code']);
    // A cashier reads the member id, never what the member shares.
    assert.ok(!list.body.includes('Rita Private') && !list.body.includes('rita@example.com'));

    const one = await get(`/v1/payment_intents/${memberPayment}`, p.liveAuth);
    assert.equal(one.statusCode, 200, one.body);
    assert.deepEqual([one.json().terminal_name, one.json().member, one.json().coupon_campaign.name], ['Till 3', memberId, 'Winter, "warm" treat']);
    assert.equal(one.json().object, 'payment_intent');
  });

  test('the CSV: decimals with the currency and minor units, quoted cells, formulas made safe', async () => {
    const r = await get('/v1/payment_intents/export.csv', { cookie: cookies.owner! });
    assert.equal(r.statusCode, 200, r.body);
    assert.match(String(r.headers['content-type']), /^text\/csv; charset=utf-8/);
    assert.match(String(r.headers['content-disposition']), /^attachment; filename="payments-\d{4}-\d{2}-\d{2}\.csv"$/);
    const [header, ...rows] = parseCsv(r.body);
    const col = (row: string[], name: string): string => row[header!.indexOf(name)]!;
    assert.deepEqual(rows.map((x) => x[0]), [pendingPayment, plainPayment, memberPayment], 'every payment, newest first');
    const a = rows.find((x) => x[0] === memberPayment)!;
    assert.deepEqual(
      ['currency', 'amount', 'discount', 'amount_received', 'amount_minor', 'discount_minor', 'amount_received_minor', 'payment_method', 'store_name', 'terminal_name', 'member', 'coupon_campaign'].map((c) => col(a, c)),
      ['EUR', '24.00', '3.00', '21.00', '2400', '300', '2100', 'face_pin', 'Main street', 'Till 3', memberId, 'Winter, "warm" treat'],
    );
    assert.equal(col(a, 'order_reference'), `'=HYPERLINK("http://x","y")`, 'a formula is text');
    assert.equal(col(a, 'description'), 'Two loaves, one "seeded"');
    const b = rows.find((x) => x[0] === plainPayment)!;
    assert.deepEqual([col(b, 'amount'), col(b, 'amount_minor'), col(b, 'order_reference'), col(b, 'member')], ['9.05', '905', "'-2+3", '']);
    // On the wire the quotes are doubled inside a quoted cell.
    assert.ok(r.body.includes(`"'=HYPERLINK(""http://x"",""y"")"`));
  });

  test("the CSV takes the list's filters and refuses a bad one with the list's 400, before any line", async () => {
    const ids = async (q: string): Promise<string[]> => {
      const r = await get(`/v1/payment_intents/export.csv?${q}`, { cookie: cookies.manager! });
      assert.equal(r.statusCode, 200, r.body);
      return parseCsv(r.body).slice(1).map((x) => x[0]!);
    };
    assert.deepEqual(await ids('status=succeeded'), [plainPayment, memberPayment]);
    assert.deepEqual(await ids('amount_min=900&amount_max=1000'), [plainPayment]);
    assert.deepEqual(await ids(`created_from=${p.clock.now().getTime() + DAY}`), []);
    assert.deepEqual(await ids('order_reference_prefix=Order'), [pendingPayment]);
    const bad = await get('/v1/payment_intents/export.csv?created_from=2026-02-31', { cookie: cookies.owner! });
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json().error.code, 'created_from_invalid');
    const range = await get('/v1/payment_intents/export.csv?amount_min=10&amount_max=5', { cookie: cookies.owner! });
    assert.equal(range.statusCode, 400);
    assert.equal(range.json().error.code, 'amount_range_invalid');
    const unknown = await get('/v1/payment_intents/export.csv?format=xlsx', { cookie: cookies.owner! });
    assert.equal(unknown.statusCode, 400);
  });

  test('a cashier, and a key without payments:export, are refused the CSV', async () => {
    const cashier = await get('/v1/payment_intents/export.csv', { cookie: cookies.cashier! });
    assert.equal(cashier.statusCode, 403, cashier.body);
    assert.equal(cashier.json().error.code, 'staff_role_insufficient');
    const { secret } = await p.services.merchants.createApiKey(p.merchantId, { mode: 'live', scopes: ['payments:write'] });
    const key = await get('/v1/payment_intents/export.csv', { authorization: `Bearer ${secret}` });
    assert.equal(key.statusCode, 403, key.body);
    assert.equal(key.json().error.code, 'api_key_scope_insufficient');
    assert.equal((await get('/v1/payment_intents/export.csv', p.liveAuth)).statusCode, 200, 'a key with every scope exports');
  });

  test('the export reads the payments a page at a time and loses none between pages', async () => {
    const lines = await p.services.paymentViews!.exportCsv(p.merchantId, { mode: 'live' }, 2);
    let text = '';
    let chunks = 0;
    for await (const chunk of lines) (text += chunk), chunks++;
    assert.deepEqual(parseCsv(text).slice(1).map((x) => x[0]), [pendingPayment, plainPayment, memberPayment]);
    assert.equal(chunks, 3, 'the header, then a chunk for each page of two');
  });
});
