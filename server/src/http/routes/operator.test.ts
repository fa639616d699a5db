/**
 * The operator's API over HTTP: a live top-up waits; a desk user finds the shopper by her RF
 * reference and credits cash (capped, idempotent, audited); an admin imports the bank statement
 * and reads the reconciliation; a reversal is an opposite transfer. Roles are kept apart.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { describeEachDialect } from '../../storage/testing.ts';
import { testPlatform, type TestPlatform } from '../../testing.ts';

function camt(id: string, closing: string, entries: { ref: string; amount: string; remittance: string }[]): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt><GrpHdr><MsgId>${id}</MsgId><CreDtTm>2026-12-07T18:00:00Z</CreDtTm></GrpHdr>
<Stmt><Id>${id}</Id>
<Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">${closing}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-12-07</Dt></Dt></Bal>
${entries
  .map(
    (e) =>
      `<Ntry><Amt Ccy="EUR">${e.amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts><AcctSvcrRef>${e.ref}</AcctSvcrRef><NtryDtls><TxDtls><RmtInf><Strd><CdtrRefInf><Ref>${e.remittance}</Ref></CdtrRefInf></Strd></RmtInf></TxDtls></NtryDtls></Ntry>`,
  )
  .join('\n')}
</Stmt></BkToCstmrStmt></Document>`;
}

describeEachDialect('operator API: service desk, bank statements, reconciliation', (dialect) => {
  let p: TestPlatform;
  let cookie = '';
  let shopperId = '';
  let reference = '';
  let deskToken = '';
  let adminToken = '';

  before(async () => {
    p = await testPlatform(dialect, { env: { FACEPAY_DESK_TOP_UP_CAP: '20000', FACEPAY_DESK_DAILY_CAP: '30000' } });
    await p.services.operators!.create({ email: 'desk@operator.example', name: 'Dana Desk', password: 'desk password 1', role: 'desk' });
    await p.services.operators!.create({ email: 'admin@operator.example', name: 'Ada Admin', password: 'admin password 1', role: 'admin' });
  });
  after(async () => {
    await p.dispose();
  });

  const call = async (method: string, url: string, opts: { body?: unknown; token?: string; key?: string; headers?: Record<string, string> } = {}) => {
    const res = await p.app.inject({
      method: method as 'GET',
      url,
      headers: {
        ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
        ...(opts.key ? { 'idempotency-key': opts.key } : {}),
        ...(cookie && url.startsWith('/v1/shopper') ? { cookie } : {}),
        ...opts.headers,
      },
      ...(opts.body === undefined ? {} : { payload: opts.body as object }),
    });
    return { status: res.statusCode, body: res.json() as Record<string, any> };
  };

  test('a live portal top-up is a pending intent with the shopper\'s RF reference; an absurd amount is a 400', async () => {
    const up = await p.app.inject({ method: 'POST', url: '/v1/shopper/signup', payload: { email: 'mia@example.com', password: 'a long passphrase', name: 'Mia Ono', phone: '+44 7700 900123' } });
    assert.equal(up.statusCode, 202);
    const res = await p.app.inject({ method: 'POST', url: '/v1/shopper/login', payload: { email: 'mia@example.com', password: 'a long passphrase' } });
    assert.equal(res.statusCode, 200);
    cookie = String(res.headers['set-cookie']).split(';')[0]!;
    shopperId = res.json().id;
    const t = await call('POST', '/v1/shopper/topups', { body: { amount: 5_000, currency: 'eur' }, key: 'portal-topup-0001' });
    assert.equal(t.status, 200);
    assert.equal(t.body.top_up.status, 'pending');
    assert.equal(t.body.wallet.balance, 0);
    reference = t.body.payment_reference;
    for (const amount of [9_007_199_254_740_991, 2 ** 53]) {
      const huge = await p.app.inject({ method: 'POST', url: '/v1/shopper/topups', headers: { cookie, 'idempotency-key': `portal-huge-${amount}`, 'content-type': 'application/json' }, payload: `{"amount":${amount},"currency":"eur"}` });
      assert.equal(huge.statusCode, 400, huge.body);
    }
    assert.equal((await call('GET', '/v1/shopper/me')).body.wallet.balance, 0);
  });

  test('operator staff sign in; nobody else gets in, and roles are kept apart', async () => {
    assert.equal((await call('POST', '/v1/operator/login', { body: { email: 'desk@operator.example', password: 'wrong password' } })).status, 401);
    deskToken = (await call('POST', '/v1/operator/login', { body: { email: 'desk@operator.example', password: 'desk password 1' } })).body.token;
    adminToken = (await call('POST', '/v1/operator/login', { body: { email: 'admin@operator.example', password: 'admin password 1' } })).body.token;
    assert.match(deskToken, /^ops_/);
    assert.equal((await call('GET', '/v1/operator/desk/credits')).body.error.code, 'operator_session_missing');
    assert.equal((await call('GET', '/v1/operator/desk/credits', { headers: p.liveAuth })).status, 401, 'a merchant key is no operator');
    assert.equal((await call('GET', '/v1/operator/desk/credits', { token: 'ops_forged' })).status, 401);
    assert.equal((await call('GET', '/v1/operator/funding/reconciliation', { token: deskToken })).body.error.code, 'operator_role_insufficient');
    const byAdmin = await call('POST', '/v1/operator/desk/credits', { token: adminToken, key: 'admin-credit-0001', body: { shopper_id: shopperId, amount: 100, currency: 'eur', method: 'cash' } });
    assert.equal(byAdmin.status, 403, 'only desk users take money over the counter');
  });

  test('the desk finds her by reference and credits cash once per key, within its caps', async () => {
    const found = await call('GET', `/v1/operator/desk/shoppers?reference=${encodeURIComponent(reference.replace(/(.{4})/g, '$1 ').trim())}`, { token: deskToken });
    assert.deepEqual(found.body.data.map((s: { id: string }) => s.id), [shopperId]);
    assert.deepEqual((await call('GET', '/v1/operator/desk/shoppers?phone=%2B44%207700%20900123', { token: deskToken })).body.data.map((s: { id: string }) => s.id), [shopperId]);
    assert.deepEqual((await call('GET', '/v1/operator/desk/shoppers?email=nobody@example.com', { token: deskToken })).body.data, []);
    const body = { shopper_id: shopperId, amount: 15_000, currency: 'eur', method: 'cash' };
    assert.equal((await call('POST', '/v1/operator/desk/credits', { token: deskToken, body })).body.error.code, 'idempotency_key_required');
    const c = await call('POST', '/v1/operator/desk/credits', { token: deskToken, key: 'desk-credit-0001', body });
    assert.equal(c.status, 201, JSON.stringify(c.body));
    assert.equal((await call('POST', '/v1/operator/desk/credits', { token: deskToken, key: 'desk-credit-0001', body })).body.id, c.body.id);
    assert.equal((await call('GET', '/v1/shopper/me')).body.wallet.balance, 15_000);
    const over = await call('POST', '/v1/operator/desk/credits', { token: deskToken, key: 'desk-credit-0002', body: { ...body, amount: 20_001 } });
    assert.deepEqual([over.status, over.body.error.code], [400, 'desk_credit_over_cap']);
    const daily = await call('POST', '/v1/operator/desk/credits', { token: deskToken, key: 'desk-credit-0003', body: { ...body, amount: 15_001 } });
    assert.deepEqual([daily.status, daily.body.error.code], [400, 'desk_daily_cap']);
    const huge = await p.app.inject({ method: 'POST', url: '/v1/operator/desk/credits', headers: { authorization: `Bearer ${deskToken}`, 'idempotency-key': 'desk-huge-0001', 'content-type': 'application/json' }, payload: `{"shopper_id":"${shopperId}","amount":9007199254740993,"currency":"eur","method":"cash"}` });
    assert.equal(huge.statusCode, 400);
    const audit = await call('GET', '/v1/operator/desk/credits', { token: adminToken });
    assert.deepEqual(audit.body.data.map((a: { id: string; amount: number; method: string }) => [a.id, a.amount, a.method]), [[c.body.id, 15_000, 'cash']]);
    assert.match(audit.body.data[0].staff_id, /^ops_/);
  });

  test('an admin imports the bank statement (twice: credited once) and the reconciliation adds up', async () => {
    const xml = camt('STMT-OPS-1', '1234.56', [
      { ref: 'OPS-BANK-1', amount: '50.00', remittance: reference },
      { ref: 'OPS-BANK-2', amount: '7.00', remittance: 'unknown' },
    ]);
    assert.equal((await call('POST', '/v1/operator/funding/statements', { token: deskToken, body: { xml } })).status, 403);
    const first = await call('POST', '/v1/operator/funding/statements', { token: adminToken, body: { xml } });
    assert.deepEqual([first.body.credited, first.body.unmatched], [1, 1]);
    const second = await call('POST', '/v1/operator/funding/statements', { token: adminToken, body: { xml } });
    assert.deepEqual([second.body.credited, second.body.duplicates], [0, 2]);
    assert.equal((await call('GET', '/v1/shopper/me')).body.wallet.balance, 20_000);
    assert.deepEqual((await call('GET', '/v1/operator/funding/unmatched', { token: adminToken })).body.data.map((u: { entry_ref: string }) => u.entry_ref), ['OPS-BANK-2']);
    const rec = await call('GET', '/v1/operator/funding/reconciliation', { token: adminToken });
    assert.equal(rec.status, 200);
    const eur = rec.body.currencies.find((c: { currency: string }) => c.currency === 'eur');
    assert.equal(eur.float, '20000');
    assert.deepEqual(eur.bank, { balance: '123456', as_of: '2026-12-07', statement_id: 'STMT-OPS-1' });
    assert.equal(eur.difference, '103456');
    assert.deepEqual(eur.funded_by_rail, { bank_transfer: '5000', service_desk: '15000' });
    assert.deepEqual(eur.unmatched, { count: 1, total: '700' });
  });

  test('an admin resolves the unmatched credit by hand, once', async () => {
    const url = '/v1/operator/funding/unmatched/OPS-BANK-2/assignment';
    assert.equal((await call('POST', url, { token: deskToken, body: { shopper_id: shopperId } })).status, 403);
    assert.equal((await call('POST', url, { token: adminToken, body: { shopper_id: 'shp_nobody' } })).body.error.code, 'shopper_not_found');
    const a = await call('POST', url, { token: adminToken, body: { shopper_id: shopperId } });
    assert.deepEqual([a.status, a.body.status, a.body.amount, a.body.rail], [200, 'confirmed', 700, 'bank_transfer']);
    assert.equal((await call('POST', url, { token: adminToken, body: { shopper_id: shopperId } })).body.id, a.body.id, 'again: the same top-up');
    assert.equal((await call('GET', '/v1/shopper/me')).body.wallet.balance, 20_700);
    assert.deepEqual((await call('GET', '/v1/operator/funding/unmatched', { token: adminToken })).body.data, []);
    assert.equal((await call('POST', '/v1/operator/funding/unmatched/NO-SUCH/assignment', { token: adminToken, body: { shopper_id: shopperId } })).body.error.code, 'bank_entry_not_found');
  });

  test('a reversal is an opposite transfer made once, and the platform audit stays clean', async () => {
    const [credit] = (await call('GET', '/v1/operator/desk/credits', { token: deskToken })).body.data;
    const r = await call('POST', `/v1/operator/desk/credits/${credit.id}/reversal`, { token: deskToken, key: 'desk-reverse-0001', body: { reason: 'counted the cash twice' } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.reversal.reason, 'counted the cash twice');
    assert.equal((await call('GET', '/v1/shopper/me')).body.wallet.balance, 5_700);
    const again = await call('POST', `/v1/operator/desk/credits/${credit.id}/reversal`, { token: adminToken, key: 'desk-reverse-0002', body: { reason: 'again' } });
    assert.deepEqual([again.status, again.body.error.code], [409, 'desk_credit_already_reversed']);
    assert.deepEqual((await p.services.payments.audit()).problems, []);
    assert.deepEqual((await p.services.fundingService!.audit()).problems, []);
  });
  test("an admin sets a merchant's fee rate from a day to come and reads its history; desk users cannot", async () => {
    const url = `/v1/operator/merchants/${p.merchantId}/fee_rates`;
    const tomorrow = new Date(p.clock.now().getTime() + 86_400_000).toISOString().slice(0, 10);
    const body = { bps: 80, effective_from: tomorrow, reason: 'canteen contract, 0.8 %' };
    assert.equal((await call('POST', url, { token: deskToken, key: 'fee-rate-0001', body })).status, 403);
    assert.equal((await call('POST', url, { token: adminToken, body })).body.error.code, 'idempotency_key_required');
    const bad = await call('POST', url, { token: adminToken, key: 'fee-rate-0002', body: { ...body, effective_from: '2020-01-01' } });
    assert.deepEqual([bad.status, bad.body.error.code], [400, 'effective_from_not_future']);
    assert.equal((await call('POST', url, { token: adminToken, key: 'fee-rate-0003', body: { ...body, bps: 10_001 } })).status, 400);
    const set = await call('POST', url, { token: adminToken, key: 'fee-rate-0004', body });
    assert.equal(set.status, 201, JSON.stringify(set.body));
    assert.deepEqual([set.body.bps, set.body.effective_from, set.body.reason], [80, tomorrow, 'canteen contract, 0.8 %']);
    assert.match(set.body.set_by, /^ops_/);
    const got = await call('GET', url, { token: adminToken });
    assert.deepEqual([got.body.bps, got.body.source, got.body.scheduled.map((r: { id: string }) => r.id), got.body.history.length], [p.config.platformFeeBps, 'default', [set.body.id], 1]);
    assert.equal((await call('GET', '/v1/operator/merchants/mer_nobody/fee_rates', { token: adminToken })).body.history.length, 0);
    assert.equal((await call('POST', '/v1/operator/merchants/mer_nobody/fee_rates', { token: adminToken, key: 'fee-rate-0005', body })).status, 404);
  });

  test("an admin lists shoppers' withdrawals and approves or rejects them; payout runs are listed", async () => {
    const ask = (key: string, amount: number) => call('POST', '/v1/shopper/withdrawals', { key, body: { amount, iban: 'DE89 3704 0044 0532 0130 00', holder_name: 'Mia Ono' } });
    const a = await ask('withdraw-0001', 1_000);
    const b = await ask('withdraw-0002', 700);
    assert.deepEqual([a.status, b.status], [201, 201]);
    assert.equal((await call('GET', '/v1/operator/withdrawals', { token: deskToken })).status, 403);
    const pending = await call('GET', '/v1/operator/withdrawals?status=pending', { token: adminToken });
    assert.deepEqual(pending.body.data.map((w: { id: string }) => w.id).sort(), [a.body.id, b.body.id].sort());
    const ok = await call('POST', `/v1/operator/withdrawals/${a.body.id}/approval`, { token: adminToken });
    assert.deepEqual([ok.status, ok.body.status, ok.body.iban], [200, 'approved', 'DE89370400440532013000']);
    const no = await call('POST', `/v1/operator/withdrawals/${b.body.id}/rejection`, { token: adminToken });
    assert.equal(no.body.status, 'rejected');
    assert.equal((await call('POST', `/v1/operator/withdrawals/${b.body.id}/approval`, { token: adminToken })).status, 409);
    assert.equal((await call('POST', '/v1/operator/withdrawals/wd_nothing/approval', { token: adminToken })).body.error.code, 'withdrawal_not_found');
    assert.equal((await call('GET', '/v1/shopper/me')).body.wallet.balance, 4_700, 'the rejected one came back, the approved one is held');
    assert.deepEqual((await call('GET', '/v1/operator/payouts', { token: adminToken })).body.data, []);
    assert.equal((await call('GET', '/v1/operator/payouts/po_nothing', { token: adminToken })).body.error.code, 'payout_run_not_found');
    assert.deepEqual((await p.services.settlement!.audit()).problems, []);
  });
});
