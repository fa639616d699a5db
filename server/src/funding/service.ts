import { DEBITS_MUST_NOT_EXCEED_CREDITS, fundingAccountId, walletAccountId, type Ledger, type Wallets } from '../ledger/index.ts';
import { isTestShopper, testWalletAccountId } from '../payments/index.ts';
import { DomainError, type Clock, type IdGenerator } from '../platform/index.ts';
import type { Db, SqlExecutor } from '../storage/index.ts';
import { parseCamt, parseCamtBalances } from './camt.ts';
import { referenceBody, rfReference } from './reference.ts';
import * as repo from './repo.ts';
import type { FundingConfig, FundingIntent } from './types.ts';

export interface FundingDeps {
  db: Db;
  clock: Clock;
  ids: IdGenerator;
  ledger: Ledger;
  wallets: Wallets;
  config: FundingConfig;
  /** The top-up caps in effect now (the operator's, which may change at run time); `config`'s without it. */
  caps?: () => Promise<Pick<FundingConfig, 'perTopUpCap' | 'dailyCap'>>;
}

export interface FundingService {
  /**
   * A shopper asks to top up; in live mode the intent stays pending until `confirm`. `key` is the
   * Idempotency-Key. A test shopper's top-up (test mode only) names the merchant whose test
   * wallet it fills, the one that merchant's test payments spend from.
   */
  requestTopUp(shopperId: string, amount: number, currency: string, key: string, opts?: { merchantId?: string }): Promise<FundingIntent>;
  /**
   * A rail received the money: the wallet grows by a balanced transfer from the rail's funding
   * account. Confirming again (or the same rail reference again) credits nothing more.
   */
  confirm(intentId: string, rail: string, railRef: string): Promise<FundingIntent>;
  /** `confirm` inside the caller's transaction. */
  confirmIn(x: SqlExecutor, intentId: string, rail: string, railRef: string): Promise<FundingIntent>;
  /** Money a rail already received for a shopper, credited at once (deduped on the rail's reference); inside the caller's transaction. */
  receiveIn(x: SqlExecutor, r: { rail: string; railRef: string; shopperId: string; amount: number; currency: string }): Promise<FundingIntent>;
  getIntent(id: string): Promise<FundingIntent>;
  /** The shopper's bank-transfer reference (ISO 11649 RF), made on first use. */
  paymentReference(shopperId: string): Promise<string>;
  shopperOfReference(reference: string): Promise<string | null>;
  /**
   * Imports a camt.053/camt.054 file: each booked credit with a known reference becomes a confirmed
   * top-up, the rest wait in `unmatched`. Entries are keyed by the bank's id, so a second import credits nothing.
   * A credit of the amount of a top-up the shopper asked for and has not paid pays that request.
   */
  importStatement(xml: string): Promise<{ credited: number; unmatched: number; duplicates: number }>;
  /**
   * A person resolved an unmatched bank credit: it becomes the named shopper's top-up. Once per
   * entry; assigning it again to the same shopper answers the same intent, to another is a conflict.
   */
  assignUnmatched(entryRef: string, shopperId: string): Promise<FundingIntent>;
  /**
   * A person resolved an unmatched bank credit by sending it back to the payer (no wallet holds it,
   * so no ledger money moves; the bank's next statement shows it leaving). Once per entry: returning
   * it again answers the same, and a returned entry can no longer be assigned, nor an assigned one returned.
   */
  returnUnmatched(entryRef: string, note: string): Promise<{ entryRef: string; amount: number; currency: string; returnedAt: number; note: string }>;
  /** Checks every intent, desk credit, reversal and matched bank entry against its ledger transfer (reads everything). */
  audit(): Promise<{ problems: string[] }>;
  unmatched(): Promise<{ entryRef: string; statementId: string; amount: number; currency: string; reference: string | null }[]>;
  /** Every top-up the shopper asked for or received (their data export). */
  intentsOf(shopperId: string): Promise<FundingIntent[]>;
  /**
   * The shopper deleted the account: pending top-ups are canceled and the RF reference is retired,
   * so a bank transfer still arriving with it waits as unmatched for a person to send back.
   * Repeatable; answers how many top-ups were canceled.
   */
  retireShopper(shopperId: string): Promise<{ canceled: number }>;
}

const DAY = 86_400_000;

/** The wallet an intent fills: a test top-up its merchant's test wallet for the shopper, real money the shopper's wallet. */
const walletOf = (i: FundingIntent): string => (i.merchantId !== null ? testWalletAccountId(i.merchantId, i.shopperId, i.currency) : walletAccountId(i.shopperId, i.currency));

export function createFundingService({ db, clock, ids, ledger, wallets, config, caps: currentCaps }: FundingDeps): FundingService {
  /** Confirms inside the caller's transaction, so a rail's own record commits with the money. */
  async function confirmIn(x: SqlExecutor, intentId: string, rail: string, railRef: string): Promise<FundingIntent> {
    const i = await repo.intentById(x, intentId, true);
    if (!i) throw new DomainError('not_found', 'funding_intent_not_found', `no funding intent ${intentId}`);
    if (i.status === 'confirmed') return i;
    if (i.status === 'canceled') throw new DomainError('conflict', 'funding_intent_canceled', `funding intent ${intentId} was canceled (its account was deleted)`);
    // Test money only for test shoppers, and real money never for them: the two never meet in one wallet.
    if (!/^[a-z_]{1,32}$/.test(rail) || (rail === 'test') !== isTestShopper(i.shopperId)) {
      throw new DomainError('invalid', 'funding_rail_invalid', `rail ${rail} cannot confirm this top-up`);
    }
    if ((i.merchantId !== null) !== (rail === 'test')) throw new DomainError('invalid', 'funding_rail_invalid', `rail ${rail} cannot confirm this top-up`);
    await ledger.createAccount({ id: fundingAccountId(rail, i.currency), currency: i.currency, code: 'funding' }, x);
    if (i.merchantId !== null) await ledger.createAccount({ id: walletOf(i), currency: i.currency, code: 'wallet', flags: DEBITS_MUST_NOT_EXCEED_CREDITS }, x);
    else await wallets.open(i.shopperId, i.currency, x);
    const transferId = `funding:${i.id}`;
    await ledger.createTransfers(
      [
        {
          id: transferId,
          debitAccountId: fundingAccountId(rail, i.currency),
          creditAccountId: walletOf(i),
          amount: i.amount,
          currency: i.currency,
          code: 'top_up',
          metadata: { rail, rail_ref: railRef, intent: i.id },
        },
      ],
      x,
    );
    const at = clock.now().getTime();
    await repo.markConfirmed(x, i.id, rail, railRef, transferId, at);
    return { ...i, status: 'confirmed', rail, railRef, transferId, confirmedAt: at };
  }

  const confirm = (intentId: string, rail: string, railRef: string): Promise<FundingIntent> => db.transaction((x) => confirmIn(x, intentId, rail, railRef));

  /**
   * Money a rail already holds, for a shopper it names (a bank credit, a desk payment, a card
   * capture): an intent made and confirmed at once. It is not capped by the shopper's caps, since
   * refusing money already received would only strand it; the rail caps itself. `(rail, railRef)`
   * is the dedupe key: the same receipt again answers the same intent.
   */
  async function receiveIn(x: SqlExecutor, r: { rail: string; railRef: string; shopperId: string; amount: number; currency: string }): Promise<FundingIntent> {
    if (!Number.isSafeInteger(r.amount) || r.amount <= 0) throw new DomainError('invalid', 'amount_invalid', 'amount is a positive integer of minor units');
    const requestRef = `${r.rail}:${r.railRef}`;
    const seen = await repo.intentByRequest(x, requestRef);
    if (seen) {
      if (seen.shopperId !== r.shopperId || seen.amount !== r.amount || seen.currency !== r.currency) {
        throw new DomainError('conflict', 'rail_reference_reused', `${r.rail} reference ${r.railRef} was received for another amount or shopper`);
      }
      return confirmIn(x, seen.id, r.rail, r.railRef);
    }
    const at = clock.now().getTime();
    const i: FundingIntent = {
      id: ids.next('fi'), requestRef, shopperId: r.shopperId, merchantId: null, amount: r.amount, currency: r.currency,
      status: 'pending', rail: null, railRef: null, transferId: null, createdAt: at, confirmedAt: null,
    };
    await repo.insertIntent(x, i);
    return confirmIn(x, i.id, r.rail, r.railRef);
  }

  /**
   * Money a rail received for a shopper who asked for a top-up of that amount: it pays the oldest
   * such pending request (locked, so no other rail confirms it at the same time), so the request
   * does not stay pending beside a second top-up. Null when no request waits for that amount.
   */
  async function settlePendingIn(x: SqlExecutor, r: { rail: string; railRef: string; shopperId: string; amount: number; currency: string }): Promise<FundingIntent | null> {
    for (const candidate of await repo.pendingRequested(x, r.shopperId, r.currency)) {
      if (candidate.amount !== r.amount) continue;
      const locked = await repo.intentById(x, candidate.id, true);
      if (locked?.status === 'pending') return confirmIn(x, locked.id, r.rail, r.railRef);
    }
    return null;
  }

  return {
    async requestTopUp(shopperId, amount, currency, key, opts = {}) {
      if (!Number.isSafeInteger(amount) || amount <= 0) throw new DomainError('invalid', 'amount_invalid', 'amount is a positive integer of minor units');
      const test = isTestShopper(shopperId);
      if (test && config.mode !== 'test') {
        throw new DomainError('forbidden', 'test_top_up_in_live_mode', 'test shoppers get test money only, on a server in test mode');
      }
      const merchantId = test ? (opts.merchantId ?? null) : null;
      if (test && (merchantId === null || !/^[\x21-\x7e]{1,64}$/.test(merchantId) || merchantId.includes(':'))) {
        throw new DomainError('invalid', 'merchant_required', "a test shopper's money is one merchant's test money: name the merchant whose test payments spend it");
      }
      const caps = currentCaps ? await currentCaps() : config;
      if (amount > caps.perTopUpCap) {
        throw new DomainError('invalid', 'top_up_over_cap', `one top-up is at most ${caps.perTopUpCap}`, { cap: caps.perTopUpCap });
      }
      // The same test shopper id at two merchants is two wallets, and two sets of keys.
      const requestRef = merchantId !== null ? `test:${merchantId}:${shopperId}:${key}` : `${shopperId}:${key}`;
      const now = clock.now().getTime();
      const intent = await db.transaction(async (x) => {
        await repo.lockCapped(x, `shopper:${shopperId}`);
        const seen = await repo.intentByRequest(x, requestRef);
        if (seen) {
          if (seen.amount !== amount || seen.currency !== currency) {
            throw new DomainError('conflict', 'idempotency_key_reused', 'this Idempotency-Key was used for another top-up');
          }
          return seen;
        }
        const day = Math.floor(now / DAY) * DAY;
        const used = await repo.requestedSince(x, shopperId, currency, day);
        if (used + amount > caps.dailyCap) {
          throw new DomainError('invalid', 'top_up_daily_cap', `top-ups are at most ${caps.dailyCap} a day`, { cap: caps.dailyCap, used });
        }
        const i: FundingIntent = {
          id: ids.next('fi'),
          requestRef,
          shopperId,
          merchantId,
          amount,
          currency,
          status: 'pending',
          rail: null,
          railRef: null,
          transferId: null,
          createdAt: now,
          confirmedAt: null,
        };
        if (!(await repo.insertIntent(x, i))) throw new DomainError('conflict', 'top_up_in_progress', 'a top-up with this key is being made: retry');
        return i;
      });
      // Money from nowhere is only ever test money: a test shopper (`test_...`, who can pay only
      // test payment intents) in a server run in test mode. Everyone else waits for a rail.
      if (config.mode === 'test' && test && intent.status === 'pending') return confirm(intent.id, 'test', intent.id);
      return intent;
    },
    confirm,
    confirmIn,
    receiveIn,
    async getIntent(id) {
      const i = await repo.intentById(db, id);
      if (!i) throw new DomainError('not_found', 'funding_intent_not_found', `no funding intent ${id}`);
      return i;
    },
    async paymentReference(shopperId) {
      const known = await repo.referenceOf(db, shopperId);
      if (known) return known;
      await repo.insertReference(db, shopperId, rfReference(referenceBody(shopperId)));
      return (await repo.referenceOf(db, shopperId))!;
    },
    async importStatement(xml) {
      const credits = parseCamt(xml);
      const balances = parseCamtBalances(xml);
      const at0 = clock.now().getTime();
      // A statement's closing balance is kept once (by statement id), for the reconciliation.
      for (const b of balances) await repo.insertBankBalance(db, { ...b, at: at0 });
      let credited = 0;
      let unmatched = 0;
      let duplicates = 0;
      for (const c of credits) {
        const at = clock.now().getTime();
        const known = c.reference ? await repo.shopperOfReference(db, c.reference) : null;
        // Real money for a test shopper's reference waits for a person, like an unknown one.
        const shopperId = known !== null && isTestShopper(known) ? null : known;
        await db.transaction(async (x) => {
          const seen = await repo.bankEntry(x, c.entryRef);
          if (seen) {
            duplicates++;
            // A matched entry whose credit did not happen (a crash of an older version between two transactions) is credited now.
            if (seen.status === 'matched' && seen.intent_id !== null) await confirmIn(x, seen.intent_id, 'bank_transfer', c.entryRef);
            return;
          }
          // Written first, as unmatched: a second import at the same moment waits on this row and then finds it, so it credits nothing.
          if (!(await repo.insertBankEntry(x, { ...c, status: 'unmatched', intentId: null, at }))) {
            duplicates++;
            return;
          }
          if (!shopperId) {
            unmatched++;
            return;
          }
          // The entry and its credit commit together: the entry is never matched without its money.
          const receipt = { rail: 'bank_transfer', railRef: c.entryRef, shopperId, amount: c.amount, currency: c.currency };
          const settled = await settlePendingIn(x, receipt);
          let id = settled?.id;
          if (!id) {
            id = ids.next('fi');
            // Money the bank already holds is not capped: refusing it would only strand it.
            await repo.insertIntent(x, {
              id, requestRef: `bank:${c.entryRef}`, shopperId, merchantId: null, amount: c.amount, currency: c.currency,
              status: 'pending', rail: null, railRef: null, transferId: null, createdAt: at, confirmedAt: null,
            });
            await confirmIn(x, id, 'bank_transfer', c.entryRef);
          }
          await repo.markBankEntryMatched(x, c.entryRef, id);
          credited++;
        });
      }
      return { credited, unmatched, duplicates };
    },
    async assignUnmatched(entryRef, shopperId) {
      return db.transaction(async (x) => {
        const e = await repo.bankEntryForUpdate(x, entryRef);
        if (!e) throw new DomainError('not_found', 'bank_entry_not_found', `no bank entry ${entryRef}`);
        if (e.status === 'returned') throw new DomainError('conflict', 'bank_entry_returned', 'this bank credit was sent back to the payer');
        if (e.status === 'matched') {
          const i = e.intent_id === null ? null : await repo.intentById(x, e.intent_id);
          if (i && i.shopperId === shopperId) return i.status === 'confirmed' ? i : confirmIn(x, i.id, 'bank_transfer', entryRef);
          throw new DomainError('conflict', 'bank_entry_already_matched', 'this bank credit already went to another shopper');
        }
        const receipt = { rail: 'bank_transfer', railRef: entryRef, shopperId, amount: e.amount, currency: e.currency };
        const i = (await settlePendingIn(x, receipt)) ?? (await receiveIn(x, receipt));
        await repo.markBankEntryMatched(x, entryRef, i.id);
        return i;
      });
    },
    async returnUnmatched(entryRef, noteInput) {
      const note = noteInput.trim();
      if (note.length === 0 || note.length > 500) throw new DomainError('invalid', 'note_invalid', 'Say in up to 500 characters why the credit goes back (for the audit).');
      return db.transaction(async (x) => {
        const e = await repo.bankEntryForUpdate(x, entryRef);
        if (!e) throw new DomainError('not_found', 'bank_entry_not_found', `no bank entry ${entryRef}`);
        if (e.status === 'matched') throw new DomainError('conflict', 'bank_entry_already_matched', 'this bank credit already went to a shopper');
        if (e.status !== 'returned') await repo.markBankEntryReturned(x, entryRef, clock.now().getTime(), note);
        const r = (await repo.bankEntryReturn(x, entryRef))!;
        return { entryRef, amount: e.amount, currency: e.currency, returnedAt: r.returnedAt, note: r.note };
      });
    },
    intentsOf(shopperId) {
      return repo.intentsOfShopper(db, shopperId);
    },
    async retireShopper(shopperId) {
      return db.transaction(async (x) => {
        const canceled = await repo.cancelPendingOf(x, shopperId);
        await repo.deleteReference(x, shopperId);
        return { canceled };
      });
    },
    async audit() {
      const problems: string[] = [];
      const transfer = (id: string) => ledger.getTransfer(id).catch(() => undefined);
      const intents = new Map((await repo.allIntents(db)).map((i) => [i.id, i]));
      for (const i of intents.values()) {
        const t = await transfer(`funding:${i.id}`);
        if (i.status === 'pending' || i.status === 'canceled') {
          if (t) problems.push(`funding intent ${i.id} is ${i.status} but its money moved`);
          continue;
        }
        if (!t || t.amount !== i.amount || t.creditAccountId !== walletOf(i) || t.debitAccountId !== fundingAccountId(i.rail ?? '', i.currency)) {
          problems.push(`funding intent ${i.id} is confirmed without its matching transfer`);
        }
      }
      for (const c of await repo.allDeskCredits(db)) {
        const i = intents.get(c.intent_id);
        if (!i || i.status !== 'confirmed' || i.rail !== 'service_desk' || i.railRef !== c.id || i.amount !== c.amount || i.shopperId !== c.shopper_id) {
          problems.push(`desk credit ${c.id} has no matching confirmed intent`);
        }
        if (c.reversal_transfer_id !== null) {
          const t = await transfer(c.reversal_transfer_id);
          if (!t || t.amount !== c.amount || t.debitAccountId !== walletAccountId(c.shopper_id, c.currency)) problems.push(`desk reversal of ${c.id} has no matching transfer`);
        }
      }
      for (const e of await repo.matchedBankEntries(db)) {
        const i = e.intent_id === null ? undefined : intents.get(e.intent_id);
        if (!i || i.status !== 'confirmed') problems.push(`bank entry ${e.entry_ref} is matched but not credited (import the file again)`);
      }
      return { problems };
    },
    async unmatched() {
      return (await repo.unmatchedEntries(db)).map((r) => ({ entryRef: r.entry_ref, statementId: r.statement_id, amount: Number(r.amount), currency: r.currency, reference: r.reference }));
    },
    shopperOfReference: (reference) => repo.shopperOfReference(db, reference.replace(/\s+/g, '').toUpperCase()),
  };
}
