import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ManualClock } from '../platform/index.ts';
import { describeEachDialect } from '../storage/testing.ts';
import { testPlatform, type TestPlatform } from '../testing.ts';

const DAY = 24 * 3600_000;
const T0 = Date.parse('2026-11-01T00:00:00Z');

describeEachDialect('payment intent search (GET /v1/payment_intents)', (dialect) => {
  let p: TestPlatform;
  let other: string;
  const made: { id: string; day: number; amount: number; ref: string; store: string; terminal: string; status: string }[] = [];
  const clock = new ManualClock(new Date(T0));

  const ids = async (query: string): Promise<string[]> => {
    const res = await p.app.inject({ method: 'GET', url: `/v1/payment_intents?limit=100&${query}`, headers: p.liveAuth });
    assert.equal(res.statusCode, 200, res.body);
    return (res.json() as { data: { id: string }[] }).data.map((d) => d.id);
  };
  const expected = (keep: (m: (typeof made)[number]) => boolean): string[] =>
    made
      .filter(keep)
      .map((m) => m.id)
      .reverse();

  before(async () => {
    p = await testPlatform(dialect, { overrides: { clock } });
    other = (await p.services.merchants.createStore(p.merchantId, { name: 'Kiosk' })).id;
    const { payments } = p.services;
    await payments.topUp('shopper_searcher', 1_000_000, 'usd', 'search-seed');
    // Twelve intents, one a day: two stores and terminals, amounts 1,000 to 12,000, three statuses.
    for (let i = 0; i < 12; i++) {
      clock.set(new Date(T0 + i * DAY + 9 * 3600_000));
      const store = i % 2 === 0 ? p.storeId : other;
      const terminal = i % 3 === 0 ? 'trm_a' : 'trm_b';
      const ref = i < 6 ? `INV-2026-${String(i).padStart(3, '0')}` : `WEB_${i}%`;
      const pi = await payments.createIntent(p.merchantId, { amount: (i + 1) * 1000, currency: 'usd', storeId: store, terminalId: terminal, orderReference: ref });
      let status = 'requires_face';
      if (i % 4 === 1) status = (await payments.confirmWithShopper(pi.id, 'shopper_searcher')).status;
      if (i % 4 === 2) status = (await payments.cancel(p.merchantId, pi.id)).status;
      made.push({ id: pi.id, day: i, amount: (i + 1) * 1000, ref, store, terminal, status });
    }
    // Another merchant's intent with the same reference is never found.
    const m2 = await p.services.merchants.createMerchant({ name: 'Other' });
    const s2 = await p.services.merchants.createStore(m2.id, { name: 'Theirs' });
    await payments.createIntent(m2.id, { amount: 5000, currency: 'usd', storeId: s2.id, orderReference: 'INV-2026-000' });
  });
  after(async () => {
    await p?.dispose();
  });

  test('each filter alone', async () => {
    assert.deepEqual(await ids(''), expected(() => true));
    assert.deepEqual(await ids('status=succeeded'), expected((m) => m.status === 'succeeded'));
    assert.deepEqual(await ids('status=cancelled'), expected((m) => m.status === 'cancelled'));
    assert.deepEqual(await ids(`store=${other}`), expected((m) => m.store === other));
    assert.deepEqual(await ids('terminal=trm_a'), expected((m) => m.terminal === 'trm_a'));
    assert.deepEqual(await ids('order_reference=INV-2026-003'), [made[3]!.id]);
    assert.deepEqual(await ids('order_reference=INV-2026'), [], 'order_reference is exact');
    assert.deepEqual(await ids('order_reference_prefix=INV-2026-00'), expected((m) => m.ref.startsWith('INV-2026-00')));
    assert.deepEqual(await ids('order_reference_prefix=inv'), [], 'the prefix is case-sensitive');
    assert.deepEqual(await ids(`order_reference_prefix=${encodeURIComponent('WEB_1')}`), expected((m) => m.ref.startsWith('WEB_1')), '_ is no wildcard');
    assert.deepEqual(await ids('amount_min=3000&amount_max=5000'), expected((m) => m.amount >= 3000 && m.amount <= 5000));
    assert.deepEqual(await ids('amount_min=12000'), [made[11]!.id]);
  });

  test('created_from is inclusive and created_to exclusive, as epoch ms or ISO 8601', async () => {
    const from = T0 + 2 * DAY + 9 * 3600_000;
    assert.deepEqual(await ids(`created_from=${from}&created_to=${from + 3 * DAY}`), expected((m) => m.day >= 2 && m.day < 5));
    assert.deepEqual(await ids('created_from=2026-11-03&created_to=2026-11-06'), expected((m) => m.day >= 2 && m.day < 5));
    // 17:00 on the 3rd in UTC+8 is 09:00 UTC, the moment the third intent was made.
    assert.deepEqual(await ids(`created_from=${encodeURIComponent('2026-11-03T17:00:00+08:00')}`), expected((m) => m.day >= 2));
    assert.deepEqual(await ids('created_to=2026-11-03T09:00:00.001Z'), expected((m) => m.day <= 2));
  });

  test('filters combine, and pages keep them', async () => {
    const want = expected((m) => m.store === p.storeId && m.amount >= 2000 && m.day < 11);
    assert.deepEqual(await ids(`store=${p.storeId}&amount_min=2000&created_to=2026-11-12`), want);
    const seen: string[] = [];
    let cursor = '';
    for (;;) {
      const res = await p.app.inject({ method: 'GET', url: `/v1/payment_intents?limit=2&store=${p.storeId}&amount_min=2000&created_to=2026-11-12${cursor}`, headers: p.liveAuth });
      const body = res.json() as { data: { id: string }[]; has_more: boolean; next_cursor: string | null };
      seen.push(...body.data.map((d) => d.id));
      if (!body.has_more) break;
      cursor = `&cursor=${body.next_cursor}`;
    }
    assert.deepEqual(seen, want);
    assert.deepEqual(await ids('status=succeeded&terminal=trm_b&order_reference_prefix=INV'), expected((m) => m.status === 'succeeded' && m.terminal === 'trm_b' && m.ref.startsWith('INV')));
  });

  test('bad values are refused with a 400 and a stable code', async () => {
    const cases: [string, string, string?][] = [
      ['status=paid', 'parameter_invalid', 'status'],
      ['amount_min=-1', 'parameter_invalid', 'amount_min'],
      ['amount_max=1.5', 'parameter_invalid', 'amount_max'],
      ['order_reference=', 'parameter_invalid', 'order_reference'],
      ['order_reference_prefix=', 'parameter_invalid', 'order_reference_prefix'],
      ['created_from=yesterday', 'created_from_invalid'],
      ['created_from=2026-02-31', 'created_from_invalid'],
      ['created_to=2026-11-01T08:00:00', 'created_to_invalid'],
      ['created_from=2026-11-05&created_to=2026-11-05', 'created_range_invalid'],
      ['amount_min=500&amount_max=100', 'amount_range_invalid'],
      ['colour=red', 'parameter_invalid', 'colour'],
    ];
    for (const [query, code, param] of cases) {
      const res = await p.app.inject({ method: 'GET', url: `/v1/payment_intents?${query}`, headers: p.liveAuth });
      assert.equal(res.statusCode, 400, query);
      const err = (res.json() as { error: { code: string; param?: string } }).error;
      assert.equal(err.code, code, query);
      if (param) assert.equal(err.param, param, query);
    }
  });

  test('the service checks values from callers other than the API', async () => {
    const { payments } = p.services;
    await assert.rejects(payments.listIntents(p.merchantId, { status: 'paid' as never }), { code: 'status_invalid' });
    await assert.rejects(payments.listIntents(p.merchantId, { amountMin: 1.5 }), { code: 'amount_min_invalid' });
    await assert.rejects(payments.listIntents(p.merchantId, { createdFrom: 10, createdTo: 5 }), { code: 'created_range_invalid' });
  });

  test('the OpenAPI document describes the filters', async () => {
    const doc = (await p.app.inject({ method: 'GET', url: '/openapi.json' })).json() as { paths: Record<string, { get?: { parameters?: { name: string }[] } }> };
    const names = (doc.paths['/v1/payment_intents']?.get?.parameters ?? []).map((x) => x.name);
    for (const n of ['status', 'order_reference', 'order_reference_prefix', 'created_from', 'created_to', 'amount_min', 'amount_max', 'store', 'terminal', 'limit', 'cursor'])
      assert.ok(names.includes(n), `${n} in ${names.join(', ')}`);
  });
});
