import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { XMLParser } from 'fast-xml-parser';
import { validateXML } from 'xmllint-wasm';
import { walletAccountId } from '../ledger/index.ts';
import { merchantAccountId } from '../payments/index.ts';
import { DomainError, ManualClock } from '../platform/index.ts';
import { describeEachDialect } from '../storage/testing.ts';
import { testPlatform, type TestPlatform } from '../testing.ts';
import { checkIban, createSettlementService, decimalAmount, payoutClearingAccountId, type PayoutItem, type SettlementService } from './index.ts';

/** The EPC's SEPA credit transfer profile of pain.001.001.09 as published (EPC132-08, 2023): schema/README.md. */
const XSD = process.env.FACEPAY_PAIN001_XSD ?? fileURLToPath(new URL('./schema/pain.001.001.09.xsd', import.meta.url));
const code = (c: string) => (e: unknown) => e instanceof DomainError && e.code === c;

test('IBANs are checked by their mod-97 check digits and country length', () => {
  assert.equal(checkIban('de89 3704 0044 0532 0130 00'), 'DE89370400440532013000');
  assert.throws(() => checkIban('DE89370400440532013001'), code('iban_invalid'));
  assert.throws(() => checkIban('DE8937040044053201300'), code('iban_invalid'));
  assert.throws(() => checkIban(42), code('iban_invalid'));
});

test('amounts are written exactly, in integer arithmetic', () => {
  assert.equal(decimalAmount(5), '0.05');
  assert.equal(decimalAmount(123_456), '1234.56');
  assert.equal(decimalAmount(Number.MAX_SAFE_INTEGER), '90071992547409.91');
});

describeEachDialect('settlement, withdrawals and payouts', (dialect) => {
  let p: TestPlatform;
  let s: SettlementService;
  const clock = new ManualClock('2026-03-02T08:00:00Z');
  let crashAfter: number | null = null;
  let moved = 0;
  before(async () => {
    p = await testPlatform(dialect, { env: { FACEPAY_PLATFORM_FEE_BPS: '250', FACEPAY_WALLET_CURRENCY: 'eur' }, overrides: { clock } });
    s = createSettlementService({
      db: p.db,
      clock,
      ids: p.ids,
      ledger: p.services.ledger,
      events: p.services.webhooks,
      timeZoneOf: async () => 'Europe/Paris',
      config: { debtor: { name: 'Campus Wallet Operator GmbH', iban: 'DE89370400440532013000', bic: 'COBADEFFXXX' }, closeGraceMs: 0 },
      afterItemMoved: async (_item: PayoutItem) => {
        moved++;
        if (crashAfter !== null && moved >= crashAfter) throw new Error('simulated crash');
      },
    });
  });
  after(async () => {
    await p.dispose();
  });

  const pay = async (shopper: string, amount: number, discount = 0) => {
    const pi = await p.services.payments.createIntent(p.merchantId, { amount, currency: 'eur', storeId: p.storeId });
    return p.services.payments.confirmWithShopper(pi.id, shopper, { discount });
  };
  const audits = async () => {
    assert.deepEqual((await s.audit()).problems, []);
    assert.deepEqual((await p.services.payments.audit()).problems, []);
    assert.deepEqual((await p.services.ledger.verify()).problems, []);
  };
  let day1 = '';
  let firstPayment = '';

  test('a merchant day closes into a statement equal to the sum of its transfers, in its own time zone', async () => {
    await assert.rejects(s.setPayoutAccount(p.merchantId, { iban: 'FR7630006000011234567890188', holderName: 'Test Shop' }), code('iban_invalid'));
    await s.setPayoutAccount(p.merchantId, { iban: 'FR76 3000 6000 0112 3456 7890 189', holderName: 'Test Shop SARL' });
    await p.services.payments.topUp('shp_a', 100_000, 'eur', 'seed-a');
    firstPayment = (await pay('shp_a', 10_000)).id; // fee 250
    await pay('shp_a', 5_000, 1_000); // wallet pays 4,000; fee 100
    await pay('shp_a', 2_500); // fee 62.5 rounded down: 62
    await p.services.payments.createRefund(p.merchantId, { paymentIntentId: firstPayment, amount: 1_000 }); // fee back 25
    // Test money never reaches a statement.
    await p.services.payments.testTopUp(p.merchantId, 'test_t', 9_000, 'eur', 'seed-t');
    const tpi = await p.services.payments.createIntent(p.merchantId, { amount: 3_000, currency: 'eur', storeId: p.storeId }, { mode: 'test' });
    await p.services.payments.confirmWithShopper(tpi.id, 'test_t', { mode: 'test' });

    clock.set('2026-03-02T22:30:00Z'); // 23:30 in Paris: the day has not ended
    assert.deepEqual(await s.closeDays(), []);
    clock.set('2026-03-02T23:00:01Z');
    // Two closers at once (two API processes): one statement.
    const [st, ...more] = (await Promise.all([s.closeDays(), s.closeDays()])).flat();
    assert.equal(more.length, 0);
    assert.ok(st);
    day1 = st.id;
    assert.equal(st.day, '2026-03-02');
    assert.equal(st.timeZone, 'Europe/Paris');
    assert.deepEqual(
      { gross: st.gross, discounts: st.discounts, refunds: st.refunds, fees: st.fees, net: st.net, count: st.transferCount, status: st.status },
      { gross: 17_500, discounts: 1_000, refunds: 1_000, fees: 250 + 100 + 62 - 25, net: 17_500 - 1_000 - 1_000 - 387, count: 8, status: 'closed' },
    );
    const lines = await s.lines(p.merchantId, st.id, { limit: 1000 });
    assert.equal(lines.length, st.transferCount);
    assert.equal(lines.reduce((a, l) => a + l.amount, 0), st.net);
    for (const l of lines) assert.equal((await p.services.ledger.getTransfer(l.transferId)).amount, Math.abs(l.amount));
    assert.equal(await s.payable(p.merchantId, 'eur'), st.net);
    // Closing again closes nothing, and the webhook was written once.
    assert.deepEqual(await s.closeDays(), []);
    const events = await p.services.webhooks.listEvents(p.merchantId, { mode: 'live', objectId: st.id });
    assert.deepEqual(events.data.map((e) => e.type), ['settlement.closed']);
    assert.equal(events.data[0]!.data.net, st.net);
    const csv = await s.statementCsv(p.merchantId, st.id);
    assert.equal(csv.split('\n').filter((l) => /^[a-z0-9_]+:/.test(l)).length, 8);
    assert.match(csv, new RegExp(`^net,${st.net}$`, 'm'));
    await audits();
  });

  test('a withdrawal holds the money at once; a retry holds it once; a rejection gives it back', async () => {
    await p.services.payments.topUp('shp_b', 5_000, 'eur', 'seed-b');
    const w = await s.requestWithdrawal('shp_b', { amount: 3_000, currency: 'eur', iban: 'DE02120300000000202051', holderName: 'Bea Müller' }, 'wd-key-0001');
    const again = await s.requestWithdrawal('shp_b', { amount: 3_000, currency: 'eur', iban: 'DE02 1203 0000 0000 2020 51', holderName: 'Bea Müller' }, 'wd-key-0001');
    assert.equal(again.id, w.id);
    assert.equal(await p.services.payments.walletBalance('shp_b', 'eur'), 2_000);
    await assert.rejects(s.requestWithdrawal('shp_b', { amount: 2_001, currency: 'eur', iban: 'DE02120300000000202051', holderName: 'Bea' }, 'wd-key-0002'), code('insufficient_funds'));
    await assert.rejects(s.requestWithdrawal('shp_b', { amount: 100, currency: 'eur', iban: 'DE02120300000000202052', holderName: 'Bea' }, 'wd-key-0003'), code('iban_invalid'));
    await assert.rejects(s.requestWithdrawal('shp_b', { amount: 2_000, currency: 'eur', iban: 'DE02120300000000202051', holderName: 'Bea' }, 'wd-key-0001'), code('idempotency_key_reused'));
    const r = await s.requestWithdrawal('shp_b', { amount: 500, currency: 'eur', iban: 'DE02120300000000202051', holderName: 'Bea' }, 'wd-key-0004');
    assert.equal(await p.services.payments.walletBalance('shp_b', 'eur'), 1_500);
    assert.equal((await s.rejectWithdrawal(r.id)).status, 'rejected');
    assert.equal((await s.rejectWithdrawal(r.id)).status, 'rejected');
    assert.equal(await p.services.payments.walletBalance('shp_b', 'eur'), 2_000);
    await assert.rejects(s.approveWithdrawal(r.id), code('withdrawal_rejected'));
    assert.equal((await s.approveWithdrawal(w.id)).status, 'approved');
    await audits();
  });

  let runId = '';
  test('a payout run that crashes half way is resumed; its file validates against the XSD and totals the statements', async () => {
    crashAfter = 1;
    await assert.rejects(s.createPayoutRun('run-key-0001'), /simulated crash/);
    crashAfter = null;
    const [open] = await s.listPayoutRuns();
    assert.equal(open!.status, 'moving');
    await audits();
    assert.equal(await s.resumeOpenRuns(), 1);
    const run = await s.createPayoutRun('run-key-0001'); // the same key answers the same run
    assert.equal(run.id, open!.id);
    runId = run.id;
    assert.equal(run.status, 'ready');
    const st = await s.getStatement(p.merchantId, day1);
    assert.equal(st.status, 'in_payout');
    assert.equal(run.total, st.net + 3_000);
    assert.equal(await s.payable(p.merchantId, 'eur'), 0);
    assert.equal((await p.services.ledger.getAccount(payoutClearingAccountId('eur'))).creditsPosted, run.total);

    const xml = await s.payoutFile(run.id);
    const doc = new XMLParser({ ignoreAttributes: false }).parse(xml).Document.CstmrCdtTrfInitn;
    assert.equal(doc.GrpHdr.NbOfTxs, 2);
    assert.equal(String(doc.GrpHdr.CtrlSum), decimalAmount(run.total).replace(/0$/, '').replace(/\.$/, ''));
    const txs = doc.PmtInf.CdtTrfTxInf as { Amt: { InstdAmt: { '#text': number } }; CdtrAcct: { Id: { IBAN: string } } }[];
    const toMerchant = txs.find((t) => t.CdtrAcct.Id.IBAN === 'FR7630006000011234567890189')!;
    assert.equal(Math.round(toMerchant.Amt.InstdAmt['#text'] * 100), st.net);
    assert.ok(txs.some((t) => t.CdtrAcct.Id.IBAN === 'DE02120300000000202051'));
    const v = await validateXML({ xml: [{ fileName: 'payout.xml', contents: xml }], schema: [{ fileName: 'pain.001.001.09.xsd', contents: readFileSync(XSD, 'utf8') }] });
    assert.deepEqual(v.errors.map((e) => e.message), []);
    assert.equal(v.valid, true);
    // And the schema does reject a broken file: the check can fail.
    const bad = await validateXML({ xml: [{ fileName: 'bad.xml', contents: xml.replace('<ChrgBr>SLEV</ChrgBr>', '<ChrgBr>DEBT</ChrgBr>') }], schema: [{ fileName: 'pain.001.001.09.xsd', contents: readFileSync(XSD, 'utf8') }] });
    assert.equal(bad.valid, false);
    await audits();
  });

  test('a second run pays nothing twice; sent moves the money on', async () => {
    await assert.rejects(s.createPayoutRun('run-key-0002'), code('payout_nothing_to_pay'));
    assert.equal((await s.markPayoutSent(runId)).status, 'sent');
    assert.equal((await s.markPayoutSent(runId)).status, 'sent');
    await assert.rejects(s.markPayoutReturned(runId), code('payout_run_sent'));
    assert.equal((await s.getStatement(p.merchantId, day1)).status, 'paid');
    assert.equal((await p.services.ledger.getAccount(payoutClearingAccountId('eur'))).creditsPosted, (await p.services.ledger.getAccount(payoutClearingAccountId('eur'))).debitsPosted);
    await audits();
  });

  test('a refund after the payout makes the payable negative, and the next statement recovers it', async () => {
    clock.set('2026-03-03T10:00:00Z');
    await p.services.payments.createRefund(p.merchantId, { paymentIntentId: firstPayment }); // the 9,000 left; fee back 225
    assert.equal(await s.payable(p.merchantId, 'eur'), -9_000 + 225);
    clock.set('2026-03-03T23:00:00Z');
    const [neg] = await s.closeDays();
    assert.equal(neg!.net, -8_775);
    assert.equal(neg!.status, 'carried');
    await assert.rejects(s.createPayoutRun('run-key-0003'), code('payout_nothing_to_pay'));
    clock.set('2026-03-05T09:00:00Z'); // a day without sales in between gets no statement
    await pay('shp_a', 20_000); // fee 500
    clock.set('2026-03-06T00:00:00Z');
    const [next, ...none] = await s.closeDays();
    assert.equal(none.length, 0);
    assert.equal(next!.day, '2026-03-05');
    assert.equal(next!.carriedIn, -8_775);
    assert.equal(next!.net, 20_000 - 500 - 8_775);
    assert.equal((await s.getStatement(p.merchantId, neg!.id)).carriedInto, next!.id);
    await audits();

    // Returned by the bank: the money comes back and the next run pays it (once).
    // Two runs at once: one takes the statement, the other finds nothing to pay.
    const both = await Promise.allSettled([s.createPayoutRun('run-key-0004'), s.createPayoutRun('run-key-0004b')]);
    const won = both.filter((r): r is PromiseFulfilledResult<Awaited<ReturnType<typeof s.createPayoutRun>>> => r.status === 'fulfilled');
    assert.equal(won.length, 1);
    for (const r of both) if (r.status === 'rejected') assert.ok(code('payout_nothing_to_pay')(r.reason), String(r.reason));
    const run = won[0]!.value;
    assert.equal(run.total, next!.net);
    assert.equal((await s.markPayoutReturned(run.id)).status, 'returned');
    assert.equal(await s.payable(p.merchantId, 'eur'), next!.net);
    await audits();
    const again = await s.createPayoutRun('run-key-0005');
    assert.equal(again.total, next!.net);
    await s.markPayoutSent(again.id);
    await assert.rejects(s.createPayoutRun('run-key-0006'), code('payout_nothing_to_pay'));
    assert.equal(await s.payable(p.merchantId, 'eur'), 0);
    assert.equal((await p.services.ledger.getAccount(merchantAccountId(p.merchantId, 'eur'))).code, 'merchant');
    assert.equal(await p.services.payments.walletBalance('shp_b', 'eur'), 2_000);
    assert.ok((await p.services.ledger.getAccount(walletAccountId('shp_b', 'eur'))).debitsPosted >= 3_000);
    await audits();
  });

  test('the API lists statements to live keys only, with its transfers and a CSV', async () => {
    const list = await p.app.inject({ method: 'GET', url: '/v1/settlements?limit=100', headers: p.liveAuth });
    assert.equal(list.statusCode, 200);
    const body = list.json() as { data: { id: string; net: number }[] };
    assert.equal(body.data.length, 3);
    const one = await p.app.inject({ method: 'GET', url: `/v1/settlements/${day1}`, headers: p.liveAuth });
    assert.equal(one.statusCode, 200);
    const st = one.json() as { net: number; transfers: { amount: number }[] };
    assert.equal(st.transfers.reduce((a, t) => a + t.amount, 0), st.net);
    const csv = await p.app.inject({ method: 'GET', url: `/v1/settlements/${day1}/csv`, headers: p.liveAuth });
    assert.equal(csv.statusCode, 200);
    assert.match(String(csv.headers['content-type']), /text\/csv/);
    const test = await p.app.inject({ method: 'GET', url: '/v1/settlements', headers: p.auth });
    assert.deepEqual((test.json() as { data: unknown[] }).data, []);
    assert.equal((await p.app.inject({ method: 'GET', url: `/v1/settlements/${day1}`, headers: p.auth })).statusCode, 404);
    const bad = await p.app.inject({ method: 'POST', url: '/v1/settlements/payout_account', headers: { ...p.liveAuth, 'idempotency-key': 'pa-0001' }, payload: { iban: 'DE00123', holder_name: 'X' } });
    assert.equal(bad.statusCode, 400);
    assert.equal((bad.json() as { error: { code: string } }).error.code, 'iban_invalid');
    const set = { iban: 'FR7630006000011234567890189', holder_name: 'Test Shop SARL' };
    const byTestKey = await p.app.inject({ method: 'POST', url: '/v1/settlements/payout_account', headers: { ...p.auth, 'idempotency-key': 'pa-0002' }, payload: set });
    assert.equal(byTestKey.statusCode, 403);
    const ok = await p.app.inject({ method: 'POST', url: '/v1/settlements/payout_account', headers: { ...p.liveAuth, 'idempotency-key': 'pa-0003' }, payload: set });
    assert.equal(ok.statusCode, 200);
    const replay = await p.app.inject({ method: 'POST', url: '/v1/settlements/payout_account', headers: { ...p.liveAuth, 'idempotency-key': 'pa-0003' }, payload: set });
    assert.equal(replay.headers['idempotent-replayed'], 'true');
    const balance = await p.app.inject({ method: 'GET', url: '/v1/settlements/balance', headers: p.liveAuth });
    assert.equal((balance.json() as { payable: number }).payable, await s.payable(p.merchantId, 'eur'));
  });

  test('a shopper asks for her balance back through the portal, held once per Idempotency-Key', async () => {
    const id = (await p.services.shoppers.signUp({ email: 'wanda@example.com', password: 'a long passphrase', name: 'Wanda' })).shopper.id;
    const su = await p.app.inject({ method: 'POST', url: '/v1/shopper/login', payload: { email: 'wanda@example.com', password: 'a long passphrase' } });
    assert.equal(su.statusCode, 200, su.body);
    const cookie = String(su.headers['set-cookie']).split(';')[0]!;
    await p.services.payments.topUp(id, 4_000, 'eur', 'seed-wanda');
    const ask = (key?: string, amount = 1_500) =>
      p.app.inject({ method: 'POST', url: '/v1/shopper/withdrawals', headers: { cookie, ...(key ? { 'idempotency-key': key } : {}) }, payload: { amount, iban: 'NL91ABNA0417164300', holder_name: 'Wanda W' } });
    const none = await ask();
    assert.equal(none.statusCode, 400);
    assert.equal((none.json() as { error: { code: string } }).error.code, 'idempotency_key_required');
    const first = await ask('portal-wd-0001');
    assert.equal(first.statusCode, 201, first.body);
    const again = await ask('portal-wd-0001');
    assert.equal((again.json() as { id: string }).id, (first.json() as { id: string }).id);
    assert.equal((first.json() as { iban_last4: string }).iban_last4, '4300');
    assert.equal(await p.services.payments.walletBalance(id, 'eur'), 2_500);
    const tooMuch = await ask('portal-wd-0002', 2_501);
    assert.equal(tooMuch.statusCode, 402);
    const list = await p.app.inject({ method: 'GET', url: '/v1/shopper/withdrawals', headers: { cookie } });
    assert.equal((list.json() as { data: unknown[] }).data.length, 1);
    assert.equal((await p.app.inject({ method: 'POST', url: '/v1/shopper/withdrawals', payload: { amount: 1, iban: 'NL91ABNA0417164300', holder_name: 'X' }, headers: { 'idempotency-key': 'portal-wd-0003' } })).statusCode, 401);
    await audits();
  });
});
