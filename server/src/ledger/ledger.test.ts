import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DomainError, ManualClock } from '../platform/index.ts';
import { describeEachDb } from '../storage/testing.ts';
import { createLedger, createWallets, ledgerMigrations, topUpFundingSource, walletAccountId, DEBITS_MUST_NOT_EXCEED_CREDITS } from './index.ts';

function code(c: string) {
  return (e: unknown) => e instanceof DomainError && e.code === c;
}

describeEachDb('ledger', ledgerMigrations, (getDb) => {
  const clock = new ManualClock();
  const ledger = () => createLedger({ db: getDb(), clock });

  test('creating an existing account with the same fields answers it; other fields are a conflict', async () => {
    const l = ledger();
    const a = await l.createAccount({ id: 'acc_a', currency: 'usd', code: 'merchant' });
    const again = await l.createAccount({ id: 'acc_a', currency: 'usd', code: 'merchant' });
    assert.deepEqual(again, a);
    await assert.rejects(l.createAccount({ id: 'acc_a', currency: 'eur', code: 'merchant' }), code('account_exists_with_different_fields'));
  });

  test('transfers are idempotent by id, conflicting on other fields, and move balances once', async () => {
    const l = ledger();
    await l.createAccount({ id: 'src', currency: 'usd', code: 'funding' });
    await l.createAccount({ id: 'dst', currency: 'usd', code: 'merchant' });
    const t = { id: 't1', debitAccountId: 'src', creditAccountId: 'dst', amount: 250, currency: 'usd', code: 'test' };
    await l.createTransfers([t]);
    await l.createTransfers([t]);
    await assert.rejects(l.createTransfers([{ ...t, amount: 251 }]), code('transfer_exists_with_different_fields'));
    const dst = await l.getAccount('dst');
    assert.equal(dst.creditsPosted, 250);
    assert.equal((await l.getAccount('src')).debitsPosted, 250);
  });

  test('no account total passes 2^53 - 1: large top-ups near the bound are refused with amount_too_large and the audit stays clean', async () => {
    const l = ledger();
    const wallets = createWallets(l);
    const fund = topUpFundingSource(l, wallets);
    const max = Number.MAX_SAFE_INTEGER;
    await fund.fund({ shopperId: 'big_one', amount: max - 2, currency: 'jpy', reference: 'big-1' });
    await assert.rejects(fund.fund({ shopperId: 'big_one', amount: 3, currency: 'jpy', reference: 'big-2' }), code('amount_too_large'));
    // The funding account's debits are at the bound as well: another wallet cannot be filled past it either.
    await assert.rejects(fund.fund({ shopperId: 'big_two', amount: 3, currency: 'jpy', reference: 'big-3' }), code('amount_too_large'));
    await fund.fund({ shopperId: 'big_one', amount: 2, currency: 'jpy', reference: 'big-4' });
    assert.equal(await wallets.balance('big_one', 'jpy'), max);
    await assert.rejects(fund.fund({ shopperId: 'big_one', amount: 1, currency: 'jpy', reference: 'big-5' }), code('amount_too_large'));
    const report = await l.verify();
    assert.deepEqual(report.problems, []);
    assert.equal(report.sums.jpy!.posted, 0);
  });

  test('the audit sums exactly: a total stored past 2^53 by hand is found, not rounded away', async () => {
    const db = getDb();
    const l = ledger();
    await l.createAccount({ id: 'exact_a', currency: 'chf', code: 'funding' });
    await l.createAccount({ id: 'exact_b', currency: 'chf', code: 'merchant' });
    await l.createTransfers([{ id: 'exact_t', debitAccountId: 'exact_a', creditAccountId: 'exact_b', amount: Number.MAX_SAFE_INTEGER, currency: 'chf', code: 'test' }]);
    assert.deepEqual((await l.verify()).problems, []);
    // 2^53 + 1 reads back as the number 2^53: only an exact sum tells it from what the transfers say.
    await db.execute("UPDATE ledger_accounts SET credits_posted = credits_posted + 2 WHERE id = 'exact_b'");
    const problems = (await l.verify()).problems;
    assert.ok(problems.some((p) => p.includes('exact_b')), problems.join('; '));
    await db.execute("UPDATE ledger_accounts SET credits_posted = credits_posted - 2 WHERE id = 'exact_b'");
  });

  test('bad input is refused with a coded error', async () => {
    const l = ledger();
    const base = { id: 'bad', debitAccountId: 'src', creditAccountId: 'dst', amount: 1, currency: 'usd', code: 'x' };
    await assert.rejects(l.createTransfers([{ ...base, amount: 0 }]), code('amount_invalid'));
    await assert.rejects(l.createTransfers([{ ...base, amount: 1.5 }]), code('amount_invalid'));
    await assert.rejects(l.createTransfers([{ ...base, amount: 2 ** 53 }]), code('amount_invalid'));
    await assert.rejects(l.createTransfers([{ ...base, currency: 'USD' }]), code('currency_invalid'));
    await assert.rejects(l.createTransfers([{ ...base, creditAccountId: 'src' }]), code('accounts_must_differ'));
    await assert.rejects(l.createTransfers([{ ...base, creditAccountId: 'nope' }]), code('account_not_found'));
    await assert.rejects(l.createTransfers([{ ...base, currency: 'eur' }]), code('currency_mismatch'));
  });

  test('a wallet never goes negative and a failed batch leaves nothing behind', async () => {
    const l = ledger();
    const w = createWallets(l);
    const funding = topUpFundingSource(l, w);
    await funding.fund({ shopperId: 'shopper1', amount: 1000, currency: 'usd', reference: 'r1' });
    await funding.fund({ shopperId: 'shopper1', amount: 1000, currency: 'usd', reference: 'r1' });
    assert.equal(await w.balance('shopper1', 'usd'), 1000);
    const wallet = walletAccountId('shopper1', 'usd');
    await assert.rejects(
      l.createTransfers([
        { id: 'p1', debitAccountId: wallet, creditAccountId: 'dst', amount: 600, currency: 'usd', code: 'payment' },
        { id: 'p2', debitAccountId: wallet, creditAccountId: 'dst', amount: 600, currency: 'usd', code: 'payment' },
      ]),
      code('insufficient_funds'),
    );
    assert.equal(await w.balance('shopper1', 'usd'), 1000);
    await assert.rejects(l.getTransfer('p1'), code('transfer_not_found'));
    assert.equal((await l.getAccount(wallet)).flags, DEBITS_MUST_NOT_EXCEED_CREDITS);
  });

  test('pending transfers reserve funds, then post (in part), void or expire exactly once', async () => {
    const l = ledger();
    const w = createWallets(l);
    await topUpFundingSource(l, w).fund({ shopperId: 'shopper2', amount: 1000, currency: 'usd', reference: 'r2' });
    const wallet = walletAccountId('shopper2', 'usd');
    const auth = (id: string, amount: number, timeoutMs?: number) =>
      l.createTransfers([{ id, debitAccountId: wallet, creditAccountId: 'dst', amount, currency: 'usd', code: 'auth', pending: true, ...(timeoutMs ? { timeoutMs } : {}) }]);
    await auth('a1', 700);
    assert.equal(await w.balance('shopper2', 'usd'), 300);
    await assert.rejects(auth('a2', 400), code('insufficient_funds'));
    const posted = await l.postPending({ id: 'a1_post', pendingId: 'a1', amount: 500 });
    assert.equal(posted.amount, 500);
    assert.equal(await w.balance('shopper2', 'usd'), 500);
    assert.equal(await l.pendingState('a1'), 'posted');
    await assert.rejects(l.voidPending({ id: 'a1_void', pendingId: 'a1' }), code('pending_transfer_already_posted'));
    await l.postPending({ id: 'a1_post', pendingId: 'a1', amount: 500 });

    await auth('a3', 100);
    await l.voidPending({ id: 'a3_void', pendingId: 'a3' });
    assert.equal(await l.pendingState('a3'), 'voided');
    assert.equal(await w.balance('shopper2', 'usd'), 500);

    await auth('a4', 200, 60_000);
    clock.advance(60_000);
    await assert.rejects(l.postPending({ id: 'a4_post', pendingId: 'a4' }), code('pending_transfer_expired'));
    assert.equal(await l.expirePending(), 1);
    assert.equal(await l.pendingState('a4'), 'expired');
    assert.equal(await w.balance('shopper2', 'usd'), 500);
    assert.equal(await l.expirePending(), 0);
  });

  test('concurrent transfers from one wallet never overdraw it, and the books balance', async () => {
    const l = ledger();
    const w = createWallets(l);
    await topUpFundingSource(l, w).fund({ shopperId: 'shopper3', amount: 5000, currency: 'usd', reference: 'r3' });
    const wallet = walletAccountId('shopper3', 'usd');
    const results = await Promise.allSettled(
      Array.from({ length: 120 }, (_, i) =>
        l.createTransfers([{ id: `c${i}`, debitAccountId: wallet, creditAccountId: 'dst', amount: 100, currency: 'usd', code: 'payment' }]),
      ),
    );
    const ok = results.filter((r) => r.status === 'fulfilled').length;
    assert.equal(ok, 50);
    for (const r of results) if (r.status === 'rejected') assert.ok(code('insufficient_funds')(r.reason));
    assert.equal(await w.balance('shopper3', 'usd'), 0);
    const report = await l.verify();
    assert.deepEqual(report.problems, []);
    assert.equal(report.sums.usd?.posted, 0);
  });
});
