import { fundingAccountId, walletAccountId, type Ledger, type Wallets } from '../ledger/index.ts';
import { DomainError, type Clock, type IdGenerator } from '../platform/index.ts';
import type { Db } from '../storage/index.ts';
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
}

export interface FundingService {
  /** A shopper asks to top up; in live mode the intent stays pending until `confirm`. `key` is the Idempotency-Key. */
  requestTopUp(shopperId: string, amount: number, currency: string, key: string): Promise<FundingIntent>;
  /**
   * A rail received the money: the wallet grows by a balanced transfer from the rail's funding
   * account. Confirming again (or the same rail reference again) credits nothing more.
   */
  confirm(intentId: string, rail: string, railRef: string): Promise<FundingIntent>;
  getIntent(id: string): Promise<FundingIntent>;
  /** The shopper's bank-transfer reference (ISO 11649 RF), made on first use. */
  paymentReference(shopperId: string): Promise<string>;
  shopperOfReference(reference: string): Promise<string | null>;
}

const DAY = 86_400_000;

export function createFundingService({ db, clock, ids, ledger, wallets, config }: FundingDeps): FundingService {
  async function confirm(intentId: string, rail: string, railRef: string): Promise<FundingIntent> {
    return db.transaction(async (x) => {
      const i = await repo.intentById(x, intentId, true);
      if (!i) throw new DomainError('not_found', 'funding_intent_not_found', `no funding intent ${intentId}`);
      if (i.status === 'confirmed') return i;
      await ledger.createAccount({ id: fundingAccountId(rail, i.currency), currency: i.currency, code: 'funding' }, x);
      await wallets.open(i.shopperId, i.currency, x);
      const transferId = `funding:${i.id}`;
      await ledger.createTransfers(
        [
          {
            id: transferId,
            debitAccountId: fundingAccountId(rail, i.currency),
            creditAccountId: walletAccountId(i.shopperId, i.currency),
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
    });
  }

  return {
    async requestTopUp(shopperId, amount, currency, key) {
      if (!Number.isSafeInteger(amount) || amount <= 0) throw new DomainError('invalid', 'amount_invalid', 'amount is a positive integer of minor units');
      if (amount > config.perTopUpCap) {
        throw new DomainError('invalid', 'top_up_over_cap', `one top-up is at most ${config.perTopUpCap}`, { cap: config.perTopUpCap });
      }
      const requestRef = `${shopperId}:${key}`;
      const now = clock.now().getTime();
      const intent = await db.transaction(async (x) => {
        const seen = await repo.intentByRequest(x, requestRef);
        if (seen) {
          if (seen.amount !== amount || seen.currency !== currency) {
            throw new DomainError('conflict', 'idempotency_key_reused', 'this Idempotency-Key was used for another top-up');
          }
          return seen;
        }
        const day = Math.floor(now / DAY) * DAY;
        const used = await repo.requestedSince(x, shopperId, currency, day);
        if (used + amount > config.dailyCap) {
          throw new DomainError('invalid', 'top_up_daily_cap', `top-ups are at most ${config.dailyCap} a day`, { cap: config.dailyCap, used });
        }
        const i: FundingIntent = {
          id: ids.next('fi'),
          requestRef,
          shopperId,
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
      if (config.mode === 'test' && intent.status === 'pending') return confirm(intent.id, 'test', intent.id);
      return intent;
    },
    confirm,
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
    shopperOfReference: (reference) => repo.shopperOfReference(db, reference.replace(/\s+/g, '').toUpperCase()),
  };
}
