import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLedger, createWallets, ledgerMigrations } from '../ledger/index.ts';
import { DomainError, ManualClock, sequentialIds } from '../platform/index.ts';
import { describeEachDb } from '../storage/testing.ts';
import { createFundingService, fundingMigrations, parseRfReference, rfReference, type FundingConfig } from './index.ts';

function code(c: string) {
  return (e: unknown) => e instanceof DomainError && e.code === c;
}

test('RF creditor references carry ISO 11649 check digits', () => {
  // The worked example of ISO 11649.
  assert.equal(rfReference('539007547034'), 'RF18539007547034');
  assert.equal(parseRfReference('RF18 5390 0754 7034'), 'RF18539007547034');
  assert.equal(parseRfReference('RF19539007547034'), null);
  assert.equal(parseRfReference('hello'), null);
});

describeEachDb('funding', [...ledgerMigrations, ...fundingMigrations], (getDb) => {
  const clock = new ManualClock();
  const ids = sequentialIds();
  function service(config: Partial<FundingConfig> = {}) {
    const ledger = createLedger({ db: getDb(), clock });
    const wallets = createWallets(ledger);
    const funding = createFundingService({
      db: getDb(),
      clock,
      ids,
      ledger,
      wallets,
      config: { mode: 'live', perTopUpCap: 50_000, dailyCap: 80_000, ...config },
    });
    return { ledger, wallets, funding };
  }

  test('a live-mode top-up credits nothing until its rail confirms it, and confirming twice credits once', async () => {
    const { ledger, wallets, funding } = service();
    const i = await funding.requestTopUp('shp_live1', 10_000, 'usd', 'key-00000001');
    assert.equal(i.status, 'pending');
    assert.equal(await wallets.balance('shp_live1', 'usd'), 0);
    const again = await funding.requestTopUp('shp_live1', 10_000, 'usd', 'key-00000001');
    assert.equal(again.id, i.id);
    const c = await funding.confirm(i.id, 'bank_transfer', 'ACCT-SVCR-1');
    assert.equal(c.status, 'confirmed');
    await funding.confirm(i.id, 'bank_transfer', 'ACCT-SVCR-1');
    assert.equal(await wallets.balance('shp_live1', 'usd'), 10_000);
    const fundingAcc = await ledger.getAccount('funding:bank_transfer:usd');
    assert.equal(fundingAcc.debitsPosted, 10_000);
    assert.equal((await ledger.verify()).ok, true);
  });

  test('a reused key with another amount is a conflict', async () => {
    const { funding } = service();
    await funding.requestTopUp('shp_live2', 1_000, 'usd', 'key-00000002');
    await assert.rejects(funding.requestTopUp('shp_live2', 2_000, 'usd', 'key-00000002'), code('idempotency_key_reused'));
  });

  test('caps per top-up and per day hold', async () => {
    const { funding } = service();
    await assert.rejects(funding.requestTopUp('shp_cap', 50_001, 'usd', 'key-cap-0001'), code('top_up_over_cap'));
    await funding.requestTopUp('shp_cap', 50_000, 'usd', 'key-cap-0002');
    await assert.rejects(funding.requestTopUp('shp_cap', 30_001, 'usd', 'key-cap-0003'), code('top_up_daily_cap'));
    await funding.requestTopUp('shp_cap', 30_000, 'usd', 'key-cap-0004');
    clock.advance(86_400_000);
    await funding.requestTopUp('shp_cap', 30_000, 'usd', 'key-cap-0005');
  });

  test('test mode credits a test shopper at once, and nobody else', async () => {
    const { ledger, wallets, funding } = service({ mode: 'test' });
    await assert.rejects(funding.requestTopUp('test_shopper', 700, 'usd', 'key-test-0000'), code('merchant_required'));
    const i = await funding.requestTopUp('test_shopper', 700, 'usd', 'key-test-0001', { merchantId: 'mer_t' });
    assert.equal(i.status, 'confirmed');
    // Into the merchant's test wallet for the shopper, which its test payments spend; never a live wallet.
    assert.equal((await ledger.getAccount('wallet:test:mer_t:test_shopper:usd')).creditsPosted, 700);
    assert.equal(await wallets.balance('test_shopper', 'usd'), 0);
    assert.equal((await funding.requestTopUp('test_shopper', 700, 'usd', 'key-test-0001', { merchantId: 'mer_t' })).id, i.id, 'a retry funds once');
    const elsewhere = await funding.requestTopUp('test_shopper', 300, 'usd', 'key-test-0001', { merchantId: 'mer_u' });
    assert.notEqual(elsewhere.id, i.id, "another merchant's test shopper of the same name is another wallet");
    assert.equal((await ledger.getAccount('wallet:test:mer_u:test_shopper:usd')).creditsPosted, 300);
    assert.deepEqual((await funding.audit()).problems, []);
    const real = await funding.requestTopUp('shp_real', 700, 'usd', 'key-test-0002');
    assert.equal(real.status, 'pending', 'a real shopper waits for a rail even in test mode');
    assert.equal(await wallets.balance('shp_real', 'usd'), 0);
    await assert.rejects(funding.confirm(real.id, 'test', 'x'), code('funding_rail_invalid'));
  });

  test('a test shopper gets no top-up on a live server, and no real rail can confirm a test top-up', async () => {
    const { funding } = service();
    await assert.rejects(funding.requestTopUp('test_live', 700, 'usd', 'key-tl-0001'), code('test_top_up_in_live_mode'));
    const { funding: testMode } = service({ mode: 'test' });
    const i = await testMode.requestTopUp('test_live', 700, 'usd', 'key-tl-0002', { merchantId: 'mer_t' });
    assert.equal(i.status, 'confirmed');
    const other = await testMode.requestTopUp('shp_x', 700, 'usd', 'key-tl-0003');
    await assert.rejects(testMode.confirm(other.id, 'test', 'x'), code('funding_rail_invalid'));
  });

  test('a huge top-up is refused before anything is written', async () => {
    const { funding } = service();
    await assert.rejects(funding.requestTopUp('shp_huge', 9_007_199_254_740_991, 'usd', 'key-huge-0001'), code('top_up_over_cap'));
    await assert.rejects(funding.requestTopUp('shp_huge', 2 ** 53, 'usd', 'key-huge-0002'), code('amount_invalid'));
  });

  test('each shopper has one stable RF payment reference that finds the shopper', async () => {
    const { funding } = service();
    const r = await funding.paymentReference('shp_ref');
    assert.equal(await funding.paymentReference('shp_ref'), r);
    assert.equal(parseRfReference(r), r);
    assert.notEqual(await funding.paymentReference('shp_ref2'), r);
    assert.equal(await funding.shopperOfReference(r.toLowerCase()), 'shp_ref');
  });
});

/** A camt.053 statement as a bank sends it: one booked credit per given entry, plus a debit and a pending credit that must be ignored. */
function camt053(entries: { ref: string; amount: string; remittance: string }[]): string {
  const ntry = entries
    .map(
      (e, i) => `
      <Ntry><NtryRef>${i + 1}</NtryRef><Amt Ccy="EUR">${e.amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>
        <BookgDt><Dt>2026-12-07</Dt></BookgDt><AcctSvcrRef>${e.ref}</AcctSvcrRef>
        <NtryDtls><TxDtls><RmtInf><Strd><CdtrRefInf><Ref>${e.remittance}</Ref></CdtrRefInf></Strd></RmtInf></TxDtls></NtryDtls></Ntry>`,
    )
    .join('');
  return `<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">
  <BkToCstmrStmt>
    <GrpHdr><MsgId>STMT-20261207</MsgId><CreDtTm>2026-12-07T18:00:00Z</CreDtTm></GrpHdr>
    <Stmt><Id>STMT-20261207-1</Id>
      ${ntry}
      <Ntry><Amt Ccy="EUR">99.00</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts><AcctSvcrRef>DEBIT-1</AcctSvcrRef></Ntry>
      <Ntry><Amt Ccy="EUR">55.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>PDNG</Cd></Sts><AcctSvcrRef>PENDING-1</AcctSvcrRef></Ntry>
    </Stmt>
  </BkToCstmrStmt>
</Document>`;
}

describeEachDb('funding by bank statement', [...ledgerMigrations, ...fundingMigrations], (getDb) => {
  const clock = new ManualClock();
  const ids = sequentialIds();

  test('a camt.053 file credits its booked credits by reference once, however often it is imported; the rest wait for a person', async () => {
    const ledger = createLedger({ db: getDb(), clock });
    const wallets = createWallets(ledger);
    const funding = createFundingService({ db: getDb(), clock, ids, ledger, wallets, config: { mode: 'live', perTopUpCap: 50_000, dailyCap: 80_000 } });
    const ref = await funding.paymentReference('shp_bank1');
    const xml = camt053([
      { ref: 'BANK-0001', amount: '25.50', remittance: ref },
      // A payer who typed the reference with spaces, as printed on the portal.
      { ref: 'BANK-0002', amount: '10', remittance: ref.replace(/(.{4})/g, '$1 ').trim() },
      { ref: 'BANK-0003', amount: '7.00', remittance: 'invoice 42' },
    ]);
    const first = await funding.importStatement(xml);
    assert.deepEqual(first, { credited: 2, unmatched: 1, duplicates: 0 });
    assert.equal(await wallets.balance('shp_bank1', 'eur'), 3_550);
    const second = await funding.importStatement(xml);
    assert.equal(second.credited, 0);
    assert.equal(await wallets.balance('shp_bank1', 'eur'), 3_550);
    const waiting = await funding.unmatched();
    assert.deepEqual(waiting.map((w) => [w.entryRef, w.amount]), [['BANK-0003', 700]]);
    assert.equal((await ledger.verify()).ok, true);
  });

  test('a bank credit of the amount a shopper asked for pays that request; two imports at once credit once; an assignment by hand pays a request too', async () => {
    const ledger = createLedger({ db: getDb(), clock });
    const wallets = createWallets(ledger);
    const funding = createFundingService({ db: getDb(), clock, ids, ledger, wallets, config: { mode: 'live', perTopUpCap: 50_000, dailyCap: 80_000 } });
    const ref = await funding.paymentReference('shp_asker');
    const asked = await funding.requestTopUp('shp_asker', 4_000, 'eur', 'ask-key-0001');
    const other = await funding.requestTopUp('shp_asker', 900, 'eur', 'ask-key-0002');
    const xml = camt053([
      { ref: 'ASK-0001', amount: '40.00', remittance: ref },
      { ref: 'ASK-0002', amount: '12.00', remittance: ref },
    ]);
    const results = await Promise.all([funding.importStatement(xml), funding.importStatement(xml)]);
    assert.equal(results.reduce((n, r) => n + r.credited, 0), 2, 'two imports at once credit each entry once');
    assert.equal(await wallets.balance('shp_asker', 'eur'), 5_200);
    const paid = await funding.getIntent(asked.id);
    assert.deepEqual([paid.status, paid.rail, paid.railRef], ['confirmed', 'bank_transfer', 'ASK-0001']);
    assert.equal((await funding.getIntent(other.id)).status, 'pending', 'a credit of another amount pays no request');
    // A payer who forgot the reference: resolved by hand, it pays the 9.00 request.
    await funding.importStatement(camt053([{ ref: 'ASK-0003', amount: '9.00', remittance: 'for my wallet' }]));
    const assigned = await funding.assignUnmatched('ASK-0003', 'shp_asker');
    assert.equal(assigned.id, other.id);
    assert.equal((await funding.getIntent(other.id)).status, 'confirmed');
    assert.equal(await wallets.balance('shp_asker', 'eur'), 6_100);
    assert.deepEqual((await funding.audit()).problems, []);
    assert.equal((await ledger.verify()).ok, true);
  });

  test("real money sent with a test shopper's reference waits for a person instead of reaching a test wallet", async () => {
    const ledger = createLedger({ db: getDb(), clock });
    const wallets = createWallets(ledger);
    const funding = createFundingService({ db: getDb(), clock, ids, ledger, wallets, config: { mode: 'test', perTopUpCap: 50_000, dailyCap: 80_000 } });
    const ref = await funding.paymentReference('test_bank');
    assert.deepEqual(await funding.importStatement(camt053([{ ref: 'BANK-TEST-1', amount: '5.00', remittance: ref }])), { credited: 0, unmatched: 1, duplicates: 0 });
    assert.equal(await wallets.balance('test_bank', 'eur'), 0);
  });

  test('a file that is not a camt statement is refused with a stable code', async () => {
    const ledger = createLedger({ db: getDb(), clock });
    const funding = createFundingService({ db: getDb(), clock, ids, ledger, wallets: createWallets(ledger), config: { mode: 'live', perTopUpCap: 1, dailyCap: 1 } });
    await assert.rejects(funding.importStatement('<Document><Other/></Document>'), code('statement_unsupported'));
    await assert.rejects(funding.importStatement('<Document><unclosed>'), code('statement_unreadable'));
  });
});
