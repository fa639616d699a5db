import { fundingAccountId, walletAccountId, type Ledger, type Wallets } from '../ledger/index.ts';
import { isTestShopper } from '../payments/index.ts';
import { DomainError, type Clock, type IdGenerator } from '../platform/index.ts';
import type { Db } from '../storage/index.ts';
import { parseRfReference } from './reference.ts';
import * as repo from './repo.ts';
import type { FundingService } from './service.ts';
import type { FundingIntent } from './types.ts';

export const DESK_RAIL = 'service_desk';
const DAY = 86_400_000;
const KEY = /^[\x21-\x7e]{8,255}$/;

/** The desk user making a credit: an operator staff member with the `desk` role and, maybe, caps of their own. */
export interface DeskUser {
  id: string;
  creditCap: number | null;
  dailyCap: number | null;
}

/** Who a desk user may find: the shoppers module answers by e-mail or phone. */
export interface DeskShopperDirectory {
  byId(id: string): Promise<DeskShopper | null>;
  byEmail(email: string): Promise<DeskShopper | null>;
  byPhone(phone: string): Promise<DeskShopper[]>;
}

export interface DeskShopper {
  id: string;
  name: string;
  email: string;
}

/** One credit made at the desk, as the audit shows it: who, when, how much, against what, and its reversal if any. */
export interface DeskCredit {
  id: string;
  staffId: string;
  shopperId: string;
  amount: number;
  currency: string;
  method: 'cash' | 'card';
  intentId: string;
  transferId: string;
  createdAt: number;
  reversal: { id: string; staffId: string; reason: string; transferId: string; at: number } | null;
}

export interface DeskDeps {
  db: Db;
  clock: Clock;
  ids: IdGenerator;
  ledger: Ledger;
  wallets: Wallets;
  funding: FundingService;
  shoppers: DeskShopperDirectory;
  /** The server's caps for every desk user; a user's own caps can only be lower. */
  caps: { perCredit: number; daily: number };
}

function toCredit(r: repo.DeskCreditRow): DeskCredit {
  return {
    id: r.id,
    staffId: r.staff_id,
    shopperId: r.shopper_id,
    amount: r.amount,
    currency: r.currency,
    method: r.method,
    intentId: r.intent_id,
    transferId: r.transfer_id,
    createdAt: r.created_at,
    reversal:
      r.reversal_id === null
        ? null
        : { id: r.reversal_id, staffId: r.reversal_staff_id!, reason: r.reversal_reason!, transferId: r.reversal_transfer_id!, at: r.reversed_at! },
  };
}

function checkKey(key: string): void {
  if (!KEY.test(key)) throw new DomainError('invalid', 'idempotency_key_required', 'Send an Idempotency-Key header (8 to 255 characters) with every desk request.');
}

/**
 * The service desk rail: operator staff take cash or a card payment over the counter and credit
 * the shopper's wallet at once from `funding:service_desk:<currency>`. Each credit is capped per
 * desk user, kept for the audit, and undone only by a reversal: an opposite ledger transfer.
 */
export function createDeskService({ db, clock, ids, ledger, wallets, funding, shoppers, caps }: DeskDeps) {
  async function withReference(s: DeskShopper, currency: string) {
    return {
      ...s,
      reference: await funding.paymentReference(s.id),
      balance: await wallets.balance(s.id, currency),
      currency,
      // What the shopper asked for in the portal and has not paid yet: the desk settles one of these.
      pendingTopUps: await repo.pendingRequested(db, s.id, currency),
    };
  }

  return {
    /** The shoppers a desk user is looking for: by RF payment reference, e-mail or phone (a phone may be shared). */
    async findShopper(q: { reference?: string | undefined; email?: string | undefined; phone?: string | undefined }, currency: string) {
      let found: DeskShopper[] = [];
      if (q.reference !== undefined) {
        const ref = parseRfReference(q.reference);
        if (ref === null) throw new DomainError('invalid', 'reference_invalid', 'That is not an RF payment reference (its check digits do not hold).');
        const id = await funding.shopperOfReference(ref);
        const s = id === null ? null : await shoppers.byId(id);
        found = s ? [s] : [];
      } else if (q.email !== undefined) {
        const s = await shoppers.byEmail(q.email.trim().toLowerCase());
        found = s ? [s] : [];
      } else if (q.phone !== undefined) {
        found = await shoppers.byPhone(q.phone);
      } else {
        throw new DomainError('invalid', 'lookup_missing', 'Look a shopper up by reference, email or phone.');
      }
      return Promise.all(found.map((s) => withReference(s, currency)));
    },

    /** The shopper by id, or null (for operator routes that name a shopper). */
    findShopperById: (id: string): Promise<DeskShopper | null> => (isTestShopper(id) ? Promise.resolve(null) : shoppers.byId(id)),

    /**
     * Credits money taken at the desk. When the shopper has a pending top-up of this amount (the one
     * named by `intentId`, else the oldest), the credit confirms it, so the shopper's request does not
     * stay pending beside the credit; otherwise the credit is a top-up of its own.
     */
    async credit(user: DeskUser, input: { shopperId: string; amount: number; currency: string; method: string; intentId?: string | undefined }, key: string): Promise<DeskCredit> {
      checkKey(key);
      const { shopperId, amount, currency, method } = input;
      if (!Number.isSafeInteger(amount) || amount <= 0) throw new DomainError('invalid', 'amount_invalid', 'amount is a positive integer of minor units');
      if (method !== 'cash' && method !== 'card') throw new DomainError('invalid', 'method_invalid', 'method is cash or card');
      // Live money never goes into a test shopper's wallet.
      if (isTestShopper(shopperId)) throw new DomainError('forbidden', 'test_shopper_not_allowed', 'the desk credits real money: test shoppers get test top-ups only');
      if ((await shoppers.byId(shopperId)) === null) throw new DomainError('not_found', 'shopper_not_found', `no shopper ${shopperId}`);
      const perCredit = Math.min(user.creditCap ?? caps.perCredit, caps.perCredit);
      const daily = Math.min(user.dailyCap ?? caps.daily, caps.daily);
      const requestRef = `${user.id}:${key}`;
      return db.transaction(async (x) => {
        await repo.lockCapped(x, `desk:${user.id}`);
        const seen = await repo.deskCreditByRequest(x, requestRef);
        if (seen) {
          if (seen.shopper_id !== shopperId || seen.amount !== amount || seen.currency !== currency || seen.method !== method) {
            throw new DomainError('conflict', 'idempotency_key_reused', 'this Idempotency-Key was used for another desk credit');
          }
          return toCredit(seen);
        }
        if (amount > perCredit) throw new DomainError('invalid', 'desk_credit_over_cap', `one desk credit is at most ${perCredit}`, { cap: perCredit });
        const now = clock.now().getTime();
        const used = await repo.deskCreditedSince(x, user.id, currency, Math.floor(now / DAY) * DAY);
        if (used + amount > daily) {
          throw new DomainError('invalid', 'desk_daily_cap', `a desk user credits at most ${daily} a day`, { cap: daily, used });
        }
        const id = ids.next('dc');
        let pending: FundingIntent | undefined;
        if (input.intentId !== undefined) {
          const named = await repo.intentById(x, input.intentId, true);
          if (!named || named.shopperId !== shopperId) throw new DomainError('not_found', 'funding_intent_not_found', `no funding intent ${input.intentId} of this shopper`);
          if (named.status !== 'pending') throw new DomainError('conflict', 'funding_intent_not_pending', 'this top-up was paid already');
          if (named.amount !== amount || named.currency !== currency) {
            throw new DomainError('invalid', 'funding_intent_amount_mismatch', `this top-up is for ${named.amount} ${named.currency}`, { amount: named.amount, currency: named.currency });
          }
          pending = named;
        } else {
          pending = (await repo.pendingRequested(x, shopperId, currency)).find((i) => i.amount === amount);
          // Locked and read again: a bank import or a card webhook may be confirming it at this moment.
          if (pending) pending = (await repo.intentById(x, pending.id, true)) ?? undefined;
          if (pending?.status !== 'pending') pending = undefined;
        }
        const intent = pending ? await funding.confirmIn(x, pending.id, DESK_RAIL, id) : await funding.receiveIn(x, { rail: DESK_RAIL, railRef: id, shopperId, amount, currency });
        const row = { id, requestRef, staffId: user.id, shopperId, amount, currency, method, intentId: intent.id, transferId: intent.transferId!, at: now };
        await repo.insertDeskCredit(x, row);
        return toCredit((await repo.deskCreditById(x, id))!);
      });
    },

    /**
     * Undoes a credit by the opposite transfer, wallet to desk funding account, never by editing
     * the credit. Once per credit; refused (insufficient_funds) when the shopper has spent it.
     */
    async reverse(user: { id: string }, creditId: string, reasonInput: string, key: string): Promise<DeskCredit> {
      checkKey(key);
      const reason = reasonInput.trim();
      if (reason.length === 0 || reason.length > 500) throw new DomainError('invalid', 'reason_invalid', 'Say why the credit is reversed (up to 500 characters).');
      const requestRef = `${user.id}:${key}`;
      return db.transaction(async (x) => {
        const seen = await repo.deskReversalByRequest(x, requestRef);
        if (seen) {
          if (seen.credit_id !== creditId) throw new DomainError('conflict', 'idempotency_key_reused', 'this Idempotency-Key was used for another reversal');
          return toCredit((await repo.deskCreditById(x, creditId))!);
        }
        const c = await repo.deskCreditById(x, creditId);
        if (!c) throw new DomainError('not_found', 'desk_credit_not_found', `no desk credit ${creditId}`);
        if (c.reversal_id !== null) throw new DomainError('conflict', 'desk_credit_already_reversed', 'this credit was reversed already');
        const transferId = `desk_reversal:${c.id}`;
        await ledger.createTransfers(
          [
            {
              id: transferId,
              debitAccountId: walletAccountId(c.shopper_id, c.currency),
              creditAccountId: fundingAccountId(DESK_RAIL, c.currency),
              amount: c.amount,
              currency: c.currency,
              code: 'top_up_reversal',
              metadata: { desk_credit: c.id, staff: user.id, reason },
            },
          ],
          x,
        );
        if (!(await repo.insertDeskReversal(x, { id: ids.next('dr'), creditId: c.id, requestRef, staffId: user.id, reason, transferId, at: clock.now().getTime() }))) {
          throw new DomainError('conflict', 'desk_credit_already_reversed', 'this credit was reversed already');
        }
        return toCredit((await repo.deskCreditById(x, c.id))!);
      });
    },

    async get(id: string): Promise<DeskCredit> {
      const c = await repo.deskCreditById(db, id);
      if (!c) throw new DomainError('not_found', 'desk_credit_not_found', `no desk credit ${id}`);
      return toCredit(c);
    },

    /** The audit: credits newest first, of one desk user or shopper if asked, between `from` (inclusive) and `to`. */
    async list(q: { staffId?: string; shopperId?: string; from?: number; to?: number; limit?: number } = {}): Promise<DeskCredit[]> {
      const limit = Math.min(Math.max(q.limit ?? 100, 1), 500);
      return (await repo.listDeskCredits(db, { staffId: q.staffId, shopperId: q.shopperId, from: q.from ?? 0, to: q.to ?? Number.MAX_SAFE_INTEGER, limit })).map(toCredit);
    },
  };
}

export type DeskService = ReturnType<typeof createDeskService>;
