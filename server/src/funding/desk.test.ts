import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLedger, createWallets, ledgerMigrations } from '../ledger/index.ts';
import { DomainError, ManualClock, sequentialIds } from '../platform/index.ts';
import { describeEachDb } from '../storage/testing.ts';
import {
  createCardRail,
  createDeskService,
  createFundingService,
  createReconciliation,
  fundingMigrations,
  signCardWebhook,
  verifyCardWebhook,
  type CardAcquirer,
  type CardEvent,
  type DeskShopper,
} from './index.ts';

const code = (c: string) => (e: unknown) => e instanceof DomainError && e.code === c;

const PEOPLE: DeskShopper[] = [
  { id: 'shp_ann', name: 'Ann Lee', email: 'ann@example.com' },
  { id: 'shp_bo', name: 'Bo Lee', email: 'bo@example.com' },
  { id: 'test_tina', name: 'Tina Test', email: 'tina@example.com' },
  { id: 'shp_rec', name: 'Rec Lee', email: 'rec@example.com' },
];
const directory = {
  byId: async (id: string) => PEOPLE.find((p) => p.id === id) ?? null,
  byEmail: async (email: string) => PEOPLE.find((p) => p.email === email) ?? null,
  byPhone: async (phone: string) => (phone === '+15550001' ? PEOPLE.slice(0, 2) : []),
};

describeEachDb('funding: service desk, card port, reconciliation', [...ledgerMigrations, ...fundingMigrations], (getDb) => {
  const clock = new ManualClock(new Date('2026-12-07T10:00:00Z'));
  const ids = sequentialIds();
  function rig(caps = { perCredit: 20_000, daily: 50_000 }) {
    const db = getDb();
    const ledger = createLedger({ db, clock });
    const wallets = createWallets(ledger);
    const funding = createFundingService({ db, clock, ids, ledger, wallets, config: { mode: 'live', perTopUpCap: 50_000, dailyCap: 80_000 } });
    const desk = createDeskService({ db, clock, ids, ledger, wallets, funding, shoppers: directory, caps });
    return { db, ledger, wallets, funding, desk };
  }
  const clerk = { id: 'ops_clerk', creditCap: null, dailyCap: null };

  test('a desk credit grows the wallet at once from the desk funding account, once per Idempotency-Key, audited', async () => {
    const { ledger, wallets, desk } = rig();
    const c = await desk.credit(clerk, { shopperId: 'shp_ann', amount: 5_000, currency: 'eur', method: 'cash' }, 'desk-key-0001');
    assert.equal(await wallets.balance('shp_ann', 'eur'), 5_000);
    const again = await desk.credit(clerk, { shopperId: 'shp_ann', amount: 5_000, currency: 'eur', method: 'cash' }, 'desk-key-0001');
    assert.equal(again.id, c.id);
    assert.equal(await wallets.balance('shp_ann', 'eur'), 5_000);
    await assert.rejects(desk.credit(clerk, { shopperId: 'shp_ann', amount: 6_000, currency: 'eur', method: 'cash' }, 'desk-key-0001'), code('idempotency_key_reused'));
    const t = await ledger.getTransfer(c.transferId);
    assert.deepEqual([t.debitAccountId, t.creditAccountId, t.amount], ['funding:service_desk:eur', 'wallet:shp_ann:eur', 5_000]);
    const audit = await desk.list({ staffId: clerk.id });
    assert.deepEqual(audit.map((a) => [a.id, a.staffId, a.shopperId, a.amount, a.method, a.createdAt]), [[c.id, clerk.id, 'shp_ann', 5_000, 'cash', clock.now().getTime()]]);
    assert.equal((await ledger.verify()).ok, true);
  });

  test('caps hold per credit and per UTC day for each desk user, and a user may carry lower caps than the server', async () => {
    const { desk } = rig();
    const u = { id: 'ops_capped', creditCap: null, dailyCap: null };
    await assert.rejects(desk.credit(u, { shopperId: 'shp_bo', amount: 20_001, currency: 'eur', method: 'card' }, 'cap-key-0001'), code('desk_credit_over_cap'));
    await desk.credit(u, { shopperId: 'shp_bo', amount: 20_000, currency: 'eur', method: 'card' }, 'cap-key-0002');
    await desk.credit(u, { shopperId: 'shp_ann', amount: 20_000, currency: 'eur', method: 'cash' }, 'cap-key-0003');
    await assert.rejects(desk.credit(u, { shopperId: 'shp_bo', amount: 10_001, currency: 'eur', method: 'cash' }, 'cap-key-0004'), code('desk_daily_cap'));
    // Another desk user has a day of their own.
    await desk.credit({ id: 'ops_other', creditCap: null, dailyCap: null }, { shopperId: 'shp_bo', amount: 10_001, currency: 'eur', method: 'cash' }, 'cap-key-0005');
    const low = { id: 'ops_low', creditCap: 1_000, dailyCap: 1_500 };
    await assert.rejects(desk.credit(low, { shopperId: 'shp_bo', amount: 1_001, currency: 'eur', method: 'cash' }, 'cap-key-0006'), code('desk_credit_over_cap'));
    await desk.credit(low, { shopperId: 'shp_bo', amount: 1_000, currency: 'eur', method: 'cash' }, 'cap-key-0007');
    await assert.rejects(desk.credit(low, { shopperId: 'shp_bo', amount: 501, currency: 'eur', method: 'cash' }, 'cap-key-0008'), code('desk_daily_cap'));
    clock.advance(86_400_000);
    await desk.credit(u, { shopperId: 'shp_bo', amount: 20_000, currency: 'eur', method: 'card' }, 'cap-key-0009');
  });

  test('credits made at once by one desk user never pass the daily cap together', async () => {
    const { desk, wallets } = rig({ perCredit: 30_000, daily: 50_000 });
    const u = { id: 'ops_race', creditCap: null, dailyCap: null };
    const results = await Promise.allSettled(
      [1, 2, 3].map((n) => desk.credit(u, { shopperId: 'shp_bo', amount: 20_000, currency: 'eur', method: 'cash' }, `race-key-000${n}`)),
    );
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 2);
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    assert.ok(refused.length === 1 && code('desk_daily_cap')(refused[0]!.reason));
    assert.equal((await desk.list({ staffId: u.id })).reduce((s, c) => s + c.amount, 0), 40_000);
    assert.ok((await wallets.balance('shp_bo', 'eur')) >= 40_000);
  });

  test('bad desk input gets stable codes: 2^53, zero, a test shopper, an unknown shopper, a method, a short key', async () => {
    const { desk } = rig();
    const c = (amount: number, shopperId = 'shp_ann', method = 'cash', key = 'bad-key-0001') => desk.credit(clerk, { shopperId, amount, currency: 'eur', method }, key);
    await assert.rejects(c(2 ** 53), code('amount_invalid'));
    await assert.rejects(c(9_007_199_254_740_991), code('desk_credit_over_cap'));
    await assert.rejects(c(0), code('amount_invalid'));
    await assert.rejects(c(100, 'test_tina'), code('test_shopper_not_allowed'));
    await assert.rejects(c(100, 'shp_nobody'), code('shopper_not_found'));
    await assert.rejects(c(100, 'shp_ann', 'cheque'), code('method_invalid'));
    await assert.rejects(c(100, 'shp_ann', 'cash', 'short'), code('idempotency_key_required'));
  });

  test('a reversal is an opposite transfer, once; the credit stays as it was; spent money cannot be reversed', async () => {
    const { ledger, wallets, desk } = rig();
    const c = await desk.credit(clerk, { shopperId: 'shp_bo', amount: 3_000, currency: 'eur', method: 'card' }, 'rev-key-0001');
    const before = await wallets.balance('shp_bo', 'eur');
    const r = await desk.reverse({ id: 'ops_supervisor' }, c.id, 'card payment declined after the fact', 'rev-key-0002');
    assert.equal(await wallets.balance('shp_bo', 'eur'), before - 3_000);
    assert.equal(r.amount, 3_000, 'the credit itself is not edited');
    assert.equal(r.reversal?.staffId, 'ops_supervisor');
    const t = await ledger.getTransfer(r.reversal!.transferId);
    assert.deepEqual([t.debitAccountId, t.creditAccountId, t.amount, t.code], ['wallet:shp_bo:eur', 'funding:service_desk:eur', 3_000, 'top_up_reversal']);
    // The same request again answers the same; another request is refused.
    assert.equal((await desk.reverse({ id: 'ops_supervisor' }, c.id, 'card payment declined after the fact', 'rev-key-0002')).reversal?.id, r.reversal!.id);
    await assert.rejects(desk.reverse(clerk, c.id, 'again', 'rev-key-0003'), code('desk_credit_already_reversed'));
    await assert.rejects(desk.reverse(clerk, 'dc_nothing', 'why', 'rev-key-0004'), code('desk_credit_not_found'));
    await assert.rejects(desk.reverse(clerk, c.id, '  ', 'rev-key-0005'), code('reason_invalid'));
    // Money the shopper has spent is gone from the wallet: the reversal would overdraw it and is refused.
    const spent = await desk.credit(clerk, { shopperId: 'shp_ann', amount: 2_000, currency: 'eur', method: 'cash' }, 'rev-key-0006');
    await ledger.createAccount({ id: 'merchant:m1:eur', currency: 'eur', code: 'merchant' });
    const balance = await wallets.balance('shp_ann', 'eur');
    await ledger.createTransfers([{ id: 'spend-ann-1', debitAccountId: 'wallet:shp_ann:eur', creditAccountId: 'merchant:m1:eur', amount: balance, currency: 'eur', code: 'payment' }]);
    await assert.rejects(desk.reverse(clerk, spent.id, 'mistake', 'rev-key-0007'), code('insufficient_funds'));
    assert.equal((await desk.get(spent.id)).reversal, null);
    assert.equal((await ledger.verify()).ok, true);
  });

  test("a desk credit settles the shopper's pending top-up of that amount (the named one, else the oldest) instead of leaving it pending", async () => {
    const { funding, desk, wallets } = rig();
    const small = await funding.requestTopUp('shp_rec', 1_500, 'eur', 'pend-key-0001');
    const big = await funding.requestTopUp('shp_rec', 4_000, 'eur', 'pend-key-0002');
    const big2 = await funding.requestTopUp('shp_rec', 4_000, 'eur', 'pend-key-0003');
    const found = await desk.findShopper({ email: 'rec@example.com' }, 'eur');
    assert.deepEqual(found[0]!.pendingTopUps.map((i) => i.id), [small.id, big.id, big2.id]);
    // Without a named intent the oldest of the same amount is settled.
    const c1 = await desk.credit(clerk, { shopperId: 'shp_rec', amount: 4_000, currency: 'eur', method: 'cash' }, 'pend-key-0004');
    assert.equal(c1.intentId, big.id);
    const settled = await funding.getIntent(big.id);
    assert.deepEqual([settled.status, settled.rail, settled.railRef, settled.transferId], ['confirmed', 'service_desk', c1.id, c1.transferId]);
    assert.equal(await wallets.balance('shp_rec', 'eur'), 4_000);
    // A named intent must be the shopper's, pending and of the amount paid.
    await assert.rejects(desk.credit(clerk, { shopperId: 'shp_rec', amount: 1_000, currency: 'eur', method: 'cash', intentId: small.id }, 'pend-key-0005'), code('funding_intent_amount_mismatch'));
    await assert.rejects(desk.credit(clerk, { shopperId: 'shp_rec', amount: 4_000, currency: 'eur', method: 'cash', intentId: big.id }, 'pend-key-0006'), code('funding_intent_not_pending'));
    await assert.rejects(desk.credit(clerk, { shopperId: 'shp_ann', amount: 1_500, currency: 'eur', method: 'cash', intentId: small.id }, 'pend-key-0007'), code('funding_intent_not_found'));
    const c2 = await desk.credit(clerk, { shopperId: 'shp_rec', amount: 1_500, currency: 'eur', method: 'card', intentId: small.id }, 'pend-key-0008');
    assert.equal(c2.intentId, small.id);
    // No pending top-up of the amount: the credit is a top-up of its own, and big2 still waits.
    const c3 = await desk.credit(clerk, { shopperId: 'shp_rec', amount: 700, currency: 'eur', method: 'cash' }, 'pend-key-0009');
    assert.notEqual(c3.intentId, big2.id);
    assert.equal((await funding.getIntent(big2.id)).status, 'pending');
    assert.equal(await wallets.balance('shp_rec', 'eur'), 6_200);
    assert.deepEqual((await desk.findShopper({ email: 'rec@example.com' }, 'eur'))[0]!.pendingTopUps.map((i) => i.id), [big2.id]);
    assert.deepEqual((await funding.audit()).problems, []);
  });

  test('card money captured for a top-up already paid at the desk becomes a top-up of its own, never lost', async () => {
    const { funding, desk, wallets, db } = rig();
    const secret = 'whsec_test_desk_then_card';
    const acquirer: CardAcquirer = {
      rail: 'card_late',
      startPayment: async (i) => ({ paymentRef: `pay_${i.id}`, redirectUrl: 'https://acquirer.example/' }),
      parseEvent: (raw) => JSON.parse(raw.toString('utf8')) as CardEvent,
    };
    const card = createCardRail({ db, clock, funding, acquirer, secret });
    const i = await funding.requestTopUp('shp_bo', 2_500, 'eur', 'both-key-0001');
    await card.start(i.id);
    const before = await wallets.balance('shp_bo', 'eur');
    await desk.credit(clerk, { shopperId: 'shp_bo', amount: 2_500, currency: 'eur', method: 'cash' }, 'both-key-0002');
    const ev: CardEvent = { id: 'evt_late', type: 'payment.captured', intentId: i.id, paymentRef: `pay_${i.id}`, amount: 2_500, currency: 'eur' };
    const raw = Buffer.from(JSON.stringify(ev));
    const out = await card.handleWebhook(raw, signCardWebhook(secret, raw, Math.floor(clock.now().getTime() / 1000)));
    assert.notEqual(out.intent?.id, i.id);
    assert.equal(out.intent?.rail, 'card_late');
    assert.equal(await wallets.balance('shp_bo', 'eur'), before + 5_000, 'both payments reached the wallet');
    assert.deepEqual((await funding.audit()).problems, []);
  });

  test('the desk finds shoppers by RF reference, e-mail or a shared phone', async () => {
    const { desk, funding } = rig();
    const ref = await funding.paymentReference('shp_ann');
    assert.deepEqual((await desk.findShopper({ reference: ref.toLowerCase() }, 'eur')).map((s) => s.id), ['shp_ann']);
    assert.deepEqual((await desk.findShopper({ email: ' Bo@Example.com ' }, 'eur')).map((s) => s.id), ['shp_bo']);
    assert.deepEqual((await desk.findShopper({ phone: '+15550001' }, 'eur')).map((s) => s.id), ['shp_ann', 'shp_bo']);
    await assert.rejects(desk.findShopper({ reference: 'RF00123' }, 'eur'), code('reference_invalid'));
  });

  test('a live portal top-up waits until a signed card webhook confirms it; replays, forged and stale webhooks are refused', async () => {
    const { wallets, funding, db, ledger } = rig();
    const secret = 'whsec_test_0123456789';
    const started: string[] = [];
    // The fake acquirer: what an adapter does, without a network.
    const acquirer: CardAcquirer = {
      rail: 'card',
      async startPayment(i) {
        started.push(i.id);
        return { paymentRef: `pay_${i.id}`, redirectUrl: `https://acquirer.example/pay/${i.id}` };
      },
      parseEvent(raw) {
        const e = JSON.parse(raw.toString('utf8')) as { id: string; type: CardEvent['type']; data: { order: string; payment: string; amount: number; currency: string } };
        return { id: e.id, type: e.type, intentId: e.data.order, paymentRef: e.data.payment, amount: e.data.amount, currency: e.data.currency };
      },
    };
    const card = createCardRail({ db, clock, funding, acquirer, secret });
    const i = await funding.requestTopUp('shp_card', 4_200, 'eur', 'card-topup-0001');
    assert.equal(i.status, 'pending');
    assert.equal((await card.start(i.id)).redirectUrl, `https://acquirer.example/pay/${i.id}`);
    assert.equal(await wallets.balance('shp_card', 'eur'), 0, 'nothing before the acquirer confirms');
    const body = (id: string, type: string, amount = 4_200) => Buffer.from(JSON.stringify({ id, type, data: { order: i.id, payment: `pay_${i.id}`, amount, currency: 'eur' } }));
    const now = () => Math.floor(clock.now().getTime() / 1000);

    const failed = body('evt_1', 'payment.failed');
    assert.equal((await card.handleWebhook(failed, signCardWebhook(secret, failed, now()))).intent, null);
    assert.equal(await wallets.balance('shp_card', 'eur'), 0);

    const forged = body('evt_2', 'payment.captured');
    await assert.rejects(card.handleWebhook(forged, signCardWebhook('another secret', forged, now())), code('webhook_signature_invalid'));
    await assert.rejects(card.handleWebhook(forged, undefined), code('webhook_signature_missing'));
    await assert.rejects(card.handleWebhook(forged, 't=abc,v1=00'), code('webhook_signature_invalid'));
    const tampered = Buffer.from(forged.toString().replace('4200', '9999'));
    await assert.rejects(card.handleWebhook(tampered, signCardWebhook(secret, forged, now())), code('webhook_signature_invalid'));
    await assert.rejects(card.handleWebhook(forged, signCardWebhook(secret, forged, now() - 301)), code('webhook_timestamp_out_of_tolerance'));
    const wrong = body('evt_3', 'payment.captured', 4_201);
    await assert.rejects(card.handleWebhook(wrong, signCardWebhook(secret, wrong, now())), code('card_amount_mismatch'));
    assert.equal(await wallets.balance('shp_card', 'eur'), 0);

    const captured = body('evt_4', 'payment.captured');
    const sig = signCardWebhook(secret, captured, now());
    const ok = await card.handleWebhook(captured, sig);
    assert.equal(ok.intent?.status, 'confirmed');
    assert.equal(ok.intent?.rail, 'card');
    assert.equal(await wallets.balance('shp_card', 'eur'), 4_200);
    await assert.rejects(card.handleWebhook(captured, sig), code('webhook_replayed'));
    // The same capture under a new event id (an acquirer's retry) credits nothing more.
    const retry = body('evt_5', 'payment.captured');
    await card.handleWebhook(retry, signCardWebhook(secret, retry, now()));
    assert.equal(await wallets.balance('shp_card', 'eur'), 4_200);
    assert.equal((await ledger.getAccount('funding:card:eur')).debitsPosted, 4_200);
    assert.deepEqual(started, [i.id]);
  });

  test('the reconciliation sets the float of live wallets against the latest camt.053 closing balance', async () => {
    const { db, ledger, funding, desk } = rig();
    const rec = createReconciliation({ db, ledger, now: () => clock.now().getTime() });
    const before = await rec.report();
    const eurBefore = before.currencies.find((c) => c.currency === 'eur');
    const float0 = BigInt(eurBefore?.float ?? '0');
    const ref = await funding.paymentReference('shp_rec');
    const xml = (id: string, closing: string, date: string, entries: string) => `<?xml version="1.0"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt><GrpHdr><MsgId>${id}</MsgId></GrpHdr>
<Stmt><Id>${id}</Id>
<Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">1.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>${date}</Dt></Dt></Bal>
<Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">${closing}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>${date}</Dt></Dt></Bal>
${entries}</Stmt></BkToCstmrStmt></Document>`;
    const entry = (ref2: string, amount: string, remittance: string) =>
      `<Ntry><Amt Ccy="EUR">${amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts><AcctSvcrRef>${ref2}</AcctSvcrRef><NtryDtls><TxDtls><RmtInf><Ustrd>${remittance}</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>`;
    await funding.importStatement(xml('REC-2', '900.00', '2026-12-08', entry('REC-E2', '10.00', ref)));
    await funding.importStatement(xml('REC-1', '500.00', '2026-12-07', entry('REC-E1', '20.00', ref) + entry('REC-E3', '3.00', 'no reference')));
    await desk.credit(clerk, { shopperId: 'shp_rec', amount: 700, currency: 'eur', method: 'cash' }, 'rec-key-0001');
    // Test money is not float.
    await ledger.createAccount({ id: 'funding:test:eur', currency: 'eur', code: 'funding' });
    await ledger.createAccount({ id: 'wallet:test_tina:eur', currency: 'eur', code: 'wallet' });
    await ledger.createTransfers([{ id: 'rec-test-1', debitAccountId: 'funding:test:eur', creditAccountId: 'wallet:test_tina:eur', amount: 99_999, currency: 'eur', code: 'top_up' }]);
    const eur = (await rec.report()).currencies.find((c) => c.currency === 'eur')!;
    assert.equal(BigInt(eur.float) - float0, 3_700n);
    assert.deepEqual(eur.bank, { balance: '90000', asOf: '2026-12-08', statementId: 'REC-2' }, 'the latest statement by date, not by import');
    assert.equal(eur.difference, String(90_000n - BigInt(eur.float)));
    assert.ok(eur.unmatched.count >= 1 && BigInt(eur.unmatched.total) >= 300n);
    assert.ok(BigInt(eur.fundedByRail.bank_transfer ?? '0') >= 3_000n);
    assert.equal(eur.fundedByRail.test, undefined);
    assert.equal(eur.platformFees, '0');
    assert.ok(eur.feeIncome.length === 0);

    // Fees as payments record them: merchant to fee account, and back on a refund; by merchant and UTC month.
    for (const id of ['merchant:m_a:eur', 'merchant:m_b:eur', 'platform:fees:eur', 'operator:bank:eur']) await ledger.createAccount({ id, currency: 'eur', code: 'x' });
    await ledger.createTransfers([{ id: 'rec-seed-a', debitAccountId: 'operator:bank:eur', creditAccountId: 'merchant:m_a:eur', amount: 10_000, currency: 'eur', code: 'seed' }]);
    await ledger.createTransfers([{ id: 'rec-seed-b', debitAccountId: 'operator:bank:eur', creditAccountId: 'merchant:m_b:eur', amount: 10_000, currency: 'eur', code: 'seed' }]);
    await ledger.createTransfers([{ id: 'rec-fee-a1', debitAccountId: 'merchant:m_a:eur', creditAccountId: 'platform:fees:eur', amount: 120, currency: 'eur', code: 'platform_fee' }]);
    await ledger.createTransfers([{ id: 'rec-fee-b1', debitAccountId: 'merchant:m_b:eur', creditAccountId: 'platform:fees:eur', amount: 50, currency: 'eur', code: 'platform_fee' }]);
    await ledger.createTransfers([{ id: 'rec-fee-a1r', debitAccountId: 'platform:fees:eur', creditAccountId: 'merchant:m_a:eur', amount: 20, currency: 'eur', code: 'platform_fee_refund' }]);
    clock.set(new Date('2027-01-03T00:00:00Z'));
    await ledger.createTransfers([{ id: 'rec-fee-a2', debitAccountId: 'merchant:m_a:eur', creditAccountId: 'platform:fees:eur', amount: 30, currency: 'eur', code: 'platform_fee' }]);
    // A collection out of the fee account is no fee income.
    await ledger.createTransfers([{ id: 'rec-fee-out', debitAccountId: 'platform:fees:eur', creditAccountId: 'operator:bank:eur', amount: 100, currency: 'eur', code: 'fee_collection' }]);
    const withFees = (await rec.report()).currencies.find((c) => c.currency === 'eur')!;
    assert.deepEqual(withFees.feeIncome, [
      { merchantId: 'm_a', month: '2026-12', fees: '100' },
      { merchantId: 'm_b', month: '2026-12', fees: '50' },
      { merchantId: 'm_a', month: '2027-01', fees: '30' },
    ]);
    assert.equal(withFees.platformFees, '80');
    assert.equal(withFees.feesMovedOut, '100');
    assert.equal(BigInt(withFees.merchantPayable) - BigInt(eur.merchantPayable), BigInt(20_000 - 200 + 20));
    assert.equal((await ledger.verify()).ok, true);
    assert.deepEqual((await funding.audit()).problems, []);
  });
});

test('a webhook signature is an HMAC over the timestamp and the raw body', () => {
  const raw = Buffer.from('{"a":1}');
  const h = signCardWebhook('s3cret', raw, 1_700_000_000);
  assert.match(h, /^t=1700000000,v1=[0-9a-f]{64}$/);
  verifyCardWebhook('s3cret', raw, h, 1_700_000_000_000 + 299_000, 300_000);
  // A rotated secret: the header may carry both signatures.
  verifyCardWebhook('s3cret', raw, `${signCardWebhook('old', raw, 1_700_000_000)},v1=${h.split('v1=')[1]}`, 1_700_000_000_000, 300_000);
  assert.throws(() => verifyCardWebhook('s3cret', Buffer.from('{"a":2}'), h, 1_700_000_000_000, 300_000), code('webhook_signature_invalid'));
});

