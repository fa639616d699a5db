import {
  DEBITS_MUST_NOT_EXCEED_CREDITS,
  checkShopperId,
  fundingAccountId,
  walletAccountId,
  type FundingSource,
  type Ledger,
  type Transfer,
  type TransferInput,
} from '../ledger/index.ts';
import { DomainError, formatMoney, isCurrency, type Clock, type IdGenerator } from '../platform/index.ts';
import type { Db, SqlExecutor } from '../storage/index.ts';
import { paymentRepo as repo } from './repo.ts';
import {
  intentResource,
  refundResource,
  INTENT_STATUSES,
  PAYMENT_METHODS,
  type CreateIntentInput,
  type CreateRefundInput,
  type IntentFilter,
  type Mode,
  type PaymentIntent,
  type PaymentMethod,
  type PaymentsConfig,
  type Refund,
} from './types.ts';

/** What payments needs from merchants, as a port: wired to the merchants module in the composition root. */
export interface StoreDirectory {
  assertStoreOfMerchant(merchantId: string, storeId: string): Promise<void>;
}

/** The outbox: an event written inside the payment's own transaction. */
export interface EventSink {
  record(tx: SqlExecutor, e: { merchantId: string; mode: Mode; type: string; objectId: string; data: Record<string, unknown> }): Promise<unknown>;
}

/**
 * Told of every refund once it has committed, and again when a retry with the same key answers it,
 * so that what hangs on refunds (the CRM, coupons) can be idempotent on the refund id and catch up.
 */
export type RefundListener = (pi: PaymentIntent, refund: Refund) => Promise<void>;

export interface PaymentsDeps {
  db: Db;
  clock: Clock;
  ids: IdGenerator;
  ledger: Ledger;
  stores: StoreDirectory;
  events: EventSink;
  funding: FundingSource;
  config: PaymentsConfig;
  onRefund?: RefundListener;
  /** Told when an intent is cancelled (a coupon reserved for it goes back); called again on a repeated cancel. */
  onCancel?: (pi: PaymentIntent) => Promise<void>;
  /** The merchant's platform fee rate (basis points) at a moment, read in the payment's transaction; `config.platformFeeBps` without it. */
  feeBps?: (tx: SqlExecutor, merchantId: string, at: number) => Promise<number>;
  /** The shopper limits in effect now (the operator's, which may change at run time); `config`'s without it. */
  limits?: () => Promise<Pick<PaymentsConfig, 'shopperPaymentLimit' | 'shopperDailyLimit'>>;
}

export interface Page<T> {
  data: T[];
  hasMore: boolean;
  nextCursor: string | null;
}

export interface AuditReport {
  ok: boolean;
  intents: number;
  succeeded: number;
  problems: string[];
}

/**
 * The mode a merchant-facing call acts in (its API key's; staff sessions and terminals are live).
 * Absent means live. An object of the other mode is not found (404), exactly as another merchant's.
 */
export interface InMode {
  mode?: Mode | undefined;
}

export interface PaymentService {
  createIntent(merchantId: string, input: CreateIntentInput, opts?: InMode & { idempotencyKey?: string | undefined }): Promise<PaymentIntent>;
  getIntent(merchantId: string, id: string, opts?: InMode): Promise<PaymentIntent>;
  /** A merchant's intents of one mode, newest first, narrowed by every filter given (ranges: from inclusive, to exclusive). */
  listIntents(merchantId: string, q?: IntentFilter & InMode & { limit?: number | undefined; cursor?: string | undefined }): Promise<Page<PaymentIntent>>;
  /** A shopper's own payments, newest first (the portal; never a merchant). */
  listForShopper(shopperId: string, q?: { limit?: number | undefined; cursor?: string | undefined }): Promise<Page<PaymentIntent>>;
  /** One of the shopper's own payments (the portal); another shopper's is not found, as if it did not exist. */
  getForShopper(shopperId: string, id: string): Promise<PaymentIntent>;
  /** The oldest live intent the till created for this terminal that still waits for a face. */
  nextForTerminal(merchantId: string, terminalId: string): Promise<PaymentIntent | undefined>;
  /** The terminal has a face to check: requires_face -> processing. */
  startProcessing(intentId: string, opts?: { merchantId?: string }): Promise<PaymentIntent>;
  /**
   * Moves the money for an identified (and confirmed) shopper: requires_face or processing ->
   * succeeded, or -> failed when the wallet or a limit says no (the error is thrown after the
   * failure is recorded). Confirming a succeeded intent again for the same shopper answers it.
   * With a coupon's `discount` (0 <= discount < amount) the wallet pays amount - discount and the
   * platform fee is taken on that. A test intent is paid only by a test shopper (`test_...`) of its
   * own merchant, from that merchant's test wallet; a live intent never by a test shopper.
   */
  confirmWithShopper(
    intentId: string,
    shopperId: string,
    opts?: InMode & {
      idempotencyKey?: string | undefined;
      merchantId?: string | undefined;
      discount?: number | undefined;
      couponId?: string | undefined;
      /** How the shopper was identified, recorded with the payment (the checkout always says). */
      method?: PaymentMethod | undefined;
      /** Runs inside the payment's transaction just before the money moves (a pay code is used there); never on a repeat. */
      inPayment?: ((tx: SqlExecutor) => Promise<void>) | undefined;
      /**
       * The most this payment may charge (after the discount), from the face flow's risk decision
       * for the factors the shopper passed. Above it the payment is refused and the intent stays
       * payable another way.
       */
      maxAmount?: number | undefined;
    },
  ): Promise<PaymentIntent>;
  /** The face flow gave up (no match, no confirmation): -> failed. */
  fail(intentId: string, code: string, message: string, opts?: { merchantId?: string }): Promise<PaymentIntent>;
  /**
   * With `terminal`, a terminal cancels: only an intent meant for it, or one meant for no terminal
   * in its own store; any other is not found.
   */
  cancel(merchantId: string, intentId: string, opts?: InMode & { terminal?: { storeId: string; terminalId: string } | undefined }): Promise<PaymentIntent>;
  /**
   * With `staffRefundLimit` (a cashier's), everything such staff have refunded of this payment,
   * this refund included, must stay within the limit (checked with the payment locked).
   */
  createRefund(
    merchantId: string,
    input: CreateRefundInput,
    opts?: InMode & { idempotencyKey?: string | undefined; staffRefundLimit?: number | null | undefined },
  ): Promise<Refund>;
  getRefund(merchantId: string, id: string, opts?: InMode): Promise<Refund>;
  listRefunds(merchantId: string, q?: InMode & { limit?: number | undefined; cursor?: string | undefined; paymentIntentId?: string | undefined }): Promise<Page<Refund>>;
  /** Puts money in a shopper's wallet through the funding source; `reference` makes it idempotent. */
  topUp(shopperId: string, amount: number, currency: string, reference: string): Promise<Transfer>;
  walletBalance(shopperId: string, currency: string): Promise<number>;
  /**
   * Test money for a merchant's own test shopper (`test_...`): from the test funding account into
   * a test wallet that only this merchant's test intents can spend. Never a live account.
   */
  testTopUp(merchantId: string, shopperId: string, amount: number, currency: string, reference: string): Promise<Transfer>;
  testWalletBalance(merchantId: string, shopperId: string, currency: string): Promise<number>;
  /** Cross-checks intents and refunds against the ledger, and the ledger's own invariants. */
  audit(): Promise<AuditReport>;
  /** Succeeded payments per time bucket and currency, for the merchant dashboard. */
  salesByBucket(merchantId: string, from: number, to: number, bucketMs: number): Promise<{ bucket: number; currency: string; count: number; amount: number; refunded: number }[]>;
}

/** Platform fee: amount x bps / 10,000, rounded down to the minor unit (BigInt, so no overflow and no float). */
export function platformFee(amount: number, bps: number): number {
  return Number((BigInt(amount) * BigInt(bps)) / 10_000n);
}

/**
 * The fee given back with a refund, pro rata and rounded down on the running total, so the fee
 * refunded over several refunds never exceeds the fee and is all of it once everything is refunded.
 */
export function feeRefund(fee: number, amount: number, refundedBefore: number, refundNow: number): number {
  const share = (refunded: number): bigint => (BigInt(fee) * BigInt(refunded)) / BigInt(amount);
  return Number(share(refundedBefore + refundNow) - share(refundedBefore));
}

/** Live accounts keep the ids they always had; test money has accounts of its own. */
export const merchantAccountId = (merchantId: string, currency: string, mode: Mode = 'live'): string =>
  mode === 'live' ? `merchant:${merchantId}:${currency}` : `merchant:${merchantId}:test:${currency}`;
export const platformFeeAccountId = (currency: string, mode: Mode = 'live'): string =>
  mode === 'live' ? `platform:fees:${currency}` : `platform:fees:test:${currency}`;
/** A test shopper's wallet belongs to one merchant: another merchant's test shopper of the same name is another wallet. */
export const testWalletAccountId = (merchantId: string, shopperId: string, currency: string): string => `wallet:test:${merchantId}:${shopperId}:${currency}`;
const TEST_FUNDING_RAIL = 'test';

export const isTestShopper = (shopperId: string): boolean => shopperId.startsWith('test_');

// Lower case, as stored, and in the ISO 4217 list.
const CURRENCY = { test: (c: string): boolean => /^[a-z]{3}$/.test(c) && isCurrency(c) };
const KEY = /^[\x21-\x7e]{1,255}$/;
const FAILURE_CODES = new Set(['insufficient_funds', 'shopper_payment_limit_exceeded', 'shopper_daily_limit_exceeded']);

function checkMetadata(m: unknown): Record<string, string> {
  if (m === undefined) return {};
  if (m === null || typeof m !== 'object' || Array.isArray(m)) throw new DomainError('invalid', 'metadata_invalid', 'metadata must be an object');
  const entries = Object.entries(m);
  if (entries.length > 20) throw new DomainError('invalid', 'metadata_invalid', 'metadata holds at most 20 keys');
  for (const [k, v] of entries) {
    if (k.length === 0 || k.length > 40 || typeof v !== 'string' || v.length > 500) {
      throw new DomainError('invalid', 'metadata_invalid', 'metadata keys are 1-40 characters and values strings of at most 500');
    }
  }
  return m as Record<string, string>;
}

function optText(v: unknown, field: string, max: number): string | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string' || v.length === 0 || v.length > max) throw new DomainError('invalid', `${field}_invalid`, `${field} must be 1 to ${max} characters`);
  return v;
}

/** A search's values, for callers other than the API (whose schema checks their shape first). */
function checkFilter(f: IntentFilter): void {
  if (f.status !== undefined && !INTENT_STATUSES.includes(f.status)) {
    throw new DomainError('invalid', 'status_invalid', `status is one of ${INTENT_STATUSES.join(', ')}`);
  }
  for (const [name, v] of [['order_reference', f.orderReference], ['order_reference_prefix', f.orderReferencePrefix]] as const) {
    if (v !== undefined) optText(v, name, 200);
  }
  for (const [name, v] of [['created_from', f.createdFrom], ['created_to', f.createdTo], ['amount_min', f.amountMin], ['amount_max', f.amountMax]] as const) {
    if (v !== undefined && (!Number.isSafeInteger(v) || v < 0)) throw new DomainError('invalid', `${name}_invalid`, `${name} must be a non-negative whole number`);
  }
  if (f.createdFrom !== undefined && f.createdTo !== undefined && f.createdFrom >= f.createdTo) {
    throw new DomainError('invalid', 'created_range_invalid', 'created_from must be before created_to');
  }
  if (f.amountMin !== undefined && f.amountMax !== undefined && f.amountMin > f.amountMax) {
    throw new DomainError('invalid', 'amount_range_invalid', 'amount_min must not be above amount_max');
  }
}

function isUniqueViolation(e: unknown): boolean {
  const code = (e as { code?: unknown }).code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

export function createPaymentService(deps: PaymentsDeps): PaymentService {
  const { db, clock, ids, ledger, stores, events, funding, config } = deps;
  // Accounts are never deleted, so once made they are remembered and not asked for again.
  const ensured = new Set<string>();

  /**
   * Makes the merchant's and the fee account inside the payment's transaction when not known to
   * exist; answers their ids, to be remembered only once that transaction has committed.
   */
  async function ensureAccounts(tx: SqlExecutor, pi: PaymentIntent): Promise<string[]> {
    const wanted: [string, string][] = [
      [merchantAccountId(pi.merchantId, pi.currency, pi.mode), 'merchant'],
      [platformFeeAccountId(pi.currency, pi.mode), 'platform_fee'],
    ];
    const made: string[] = [];
    for (const [id, code] of wanted) {
      if (ensured.has(id)) continue;
      await ledger.createAccount({ id, currency: pi.currency, code }, tx);
      made.push(id);
    }
    return made;
  }

  /** A unique-key race on PostgreSQL aborts the transaction: run it again and the loser finds the winner's row. */
  async function retryOnDuplicate<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    try {
      return await db.transaction(fn);
    } catch (e) {
      if (!isUniqueViolation(e)) throw e;
      return db.transaction(fn);
    }
  }

  /** The wallet a shopper pays this intent from (and is refunded to): a test wallet is its merchant's own. */
  function payerWallet(pi: PaymentIntent, shopperId: string): string {
    return pi.mode === 'test' ? testWalletAccountId(pi.merchantId, shopperId, pi.currency) : walletAccountId(shopperId, pi.currency);
  }

  async function loadForUpdate(tx: SqlExecutor, intentId: string, merchantId: string | undefined, mode?: Mode): Promise<PaymentIntent> {
    const pi = await repo.getIntent(tx, intentId, true);
    if (!pi || (merchantId !== undefined && pi.merchantId !== merchantId) || (mode !== undefined && pi.mode !== mode)) {
      throw new DomainError('not_found', 'payment_intent_not_found', `no payment intent ${intentId}`);
    }
    return pi;
  }

  function unexpected(pi: PaymentIntent, action: string): DomainError {
    return new DomainError('conflict', 'payment_intent_unexpected_state', `cannot ${action} a payment intent that is ${pi.status}`, {
      status: pi.status,
    });
  }

  async function transition(
    tx: SqlExecutor,
    pi: PaymentIntent,
    change: Partial<PaymentIntent>,
    eventType: string,
  ): Promise<PaymentIntent> {
    const next: PaymentIntent = { ...pi, ...change, updatedAt: clock.now().getTime() };
    await repo.updateIntent(tx, next);
    await events.record(tx, { merchantId: pi.merchantId, mode: pi.mode, type: eventType, objectId: pi.id, data: intentResource(next) });
    return next;
  }

  async function balanceOf(walletId: string): Promise<number> {
    try {
      const a = await ledger.getAccount(walletId);
      if (!(a.flags & DEBITS_MUST_NOT_EXCEED_CREDITS)) throw new Error(`account ${a.id} is not a wallet`);
      return a.creditsPosted - a.debitsPosted - a.debitsPending;
    } catch (e) {
      if (e instanceof DomainError && e.code === 'account_not_found') return 0;
      throw e;
    }
  }

  function checkKey(key: string | undefined): string | null {
    if (key === undefined) return null;
    if (!KEY.test(key)) throw new DomainError('invalid', 'idempotency_key_invalid', 'an idempotency key is 1 to 255 printable characters');
    return key;
  }

  async function recordFailure(intentId: string, err: DomainError): Promise<void> {
    await db.transaction(async (tx) => {
      const pi = await repo.getIntent(tx, intentId, true);
      if (!pi || (pi.status !== 'requires_face' && pi.status !== 'processing')) return;
      await transition(tx, pi, { status: 'failed', failureCode: err.code, failureMessage: err.message }, 'payment_intent.payment_failed');
    });
  }

  return {
    async createIntent(merchantId, input, opts = {}) {
      const amount = input.amount;
      if (typeof amount !== 'number' || !Number.isSafeInteger(amount) || amount <= 0) {
        throw new DomainError('invalid', 'amount_invalid', 'amount must be a positive integer in minor units');
      }
      const currency = typeof input.currency === 'string' ? input.currency.toLowerCase() : '';
      if (!CURRENCY.test(currency)) throw new DomainError('invalid', 'currency_invalid', 'currency must be an ISO 4217 code, such as usd');
      const key = checkKey(opts.idempotencyKey);
      await stores.assertStoreOfMerchant(merchantId, input.storeId);
      const now = clock.now().getTime();
      const mode = opts.mode ?? 'live';
      const pi: PaymentIntent = {
        id: ids.next('pi'),
        merchantId,
        mode,
        storeId: input.storeId,
        terminalId: optText(input.terminalId, 'terminal', 64),
        amount,
        currency,
        status: 'requires_face',
        orderReference: optText(input.orderReference, 'order_reference', 200),
        description: optText(input.description, 'description', 500),
        metadata: checkMetadata(input.metadata),
        shopperId: null,
        platformFee: null,
        discount: 0,
        couponId: null,
        paymentMethod: null,
        amountRefunded: 0,
        failureCode: null,
        failureMessage: null,
        idempotencyKey: key,
        createdAt: now,
        updatedAt: now,
      };
      return retryOnDuplicate(async (tx) => {
        if (key !== null) {
          const existing = await repo.intentByKey(tx, merchantId, mode, key);
          if (existing) {
            const same =
              existing.amount === pi.amount &&
              existing.currency === pi.currency &&
              existing.storeId === pi.storeId &&
              existing.terminalId === pi.terminalId &&
              existing.orderReference === pi.orderReference &&
              existing.description === pi.description &&
              JSON.stringify(existing.metadata) === JSON.stringify(pi.metadata);
            if (!same) throw new DomainError('conflict', 'idempotency_key_reused', 'this idempotency key was used with other parameters');
            return existing;
          }
        }
        await repo.insertIntent(tx, pi);
        await events.record(tx, { merchantId, mode, type: 'payment_intent.created', objectId: pi.id, data: intentResource(pi) });
        return pi;
      });
    },

    async getIntent(merchantId, id, opts = {}) {
      const pi = await repo.getIntent(db, id);
      if (!pi || pi.merchantId !== merchantId || pi.mode !== (opts.mode ?? 'live')) throw new DomainError('not_found', 'payment_intent_not_found', `no payment intent ${id}`);
      return pi;
    },

    async listIntents(merchantId, q = {}) {
      const limit = q.limit ?? 10;
      const { limit: _limit, cursor, mode, ...filter } = q;
      checkFilter(filter);
      const rows = await repo.listIntents(db, merchantId, mode ?? 'live', filter, cursor, limit + 1);
      const hasMore = rows.length > limit;
      const data = rows.slice(0, limit);
      return { data, hasMore, nextCursor: hasMore ? (data[data.length - 1]?.id ?? null) : null };
    },

    async listForShopper(shopperId, q = {}) {
      const limit = q.limit ?? 50;
      const rows = await repo.listForShopper(db, shopperId, q.cursor, limit + 1);
      const hasMore = rows.length > limit;
      const data = rows.slice(0, limit);
      return { data, hasMore, nextCursor: hasMore ? (data[data.length - 1]?.id ?? null) : null };
    },

    async getForShopper(shopperId, id) {
      const pi = await repo.getIntent(db, id);
      if (!pi || pi.shopperId !== shopperId) throw new DomainError('not_found', 'payment_intent_not_found', `no payment intent ${id}`);
      return pi;
    },

    nextForTerminal(merchantId, terminalId) {
      return repo.oldestWaitingForTerminal(db, merchantId, terminalId);
    },

    startProcessing(intentId, opts = {}) {
      return db.transaction(async (tx) => {
        const pi = await loadForUpdate(tx, intentId, opts.merchantId);
        if (pi.status === 'processing') return pi;
        if (pi.status !== 'requires_face') throw unexpected(pi, 'start processing');
        return transition(tx, pi, { status: 'processing' }, 'payment_intent.processing');
      });
    },

    async confirmWithShopper(intentId, shopperId, opts = {}) {
      checkShopperId(shopperId);
      checkKey(opts.idempotencyKey);
      const discount = opts.discount ?? 0;
      if (!Number.isSafeInteger(discount) || discount < 0) {
        throw new DomainError('invalid', 'discount_invalid', 'a discount is a non-negative integer in minor units');
      }
      const couponId = optText(opts.couponId, 'coupon', 128);
      if (opts.method !== undefined && !PAYMENT_METHODS.includes(opts.method))
        throw new DomainError('invalid', 'payment_method_invalid', `a payment method is one of ${PAYMENT_METHODS.join(', ')}`);
      const method = opts.method ?? null;
      // Read before the transaction begins, so a look-up of the operator's limits never waits behind it.
      const limits = deps.limits ? await deps.limits() : config;
      const made: string[] = [];
      try {
        const result = await db.transaction(async (tx) => {
          const pi = await loadForUpdate(tx, intentId, opts.merchantId, opts.mode);
          if (pi.mode === 'test' && !isTestShopper(shopperId)) {
            throw new DomainError('forbidden', 'test_shopper_required', 'a test payment intent is paid only by a test shopper (test_...)');
          }
          if (pi.mode === 'live' && isTestShopper(shopperId)) {
            throw new DomainError('forbidden', 'test_shopper_in_live_mode', 'test shoppers pay only test payment intents');
          }
          made.push(...(await ensureAccounts(tx, pi)));
          if (pi.status === 'succeeded' && pi.shopperId === shopperId) return pi;
          if (pi.status !== 'requires_face' && pi.status !== 'processing') throw unexpected(pi, 'confirm');
          if (discount >= pi.amount) throw new DomainError('invalid', 'discount_invalid', 'a discount must be less than the amount');
          await opts.inPayment?.(tx);
          const paid = pi.amount - discount;
          if (opts.maxAmount !== undefined && paid > opts.maxAmount) {
            throw new DomainError('unprocessable', 'face_limit_exceeded', 'the amount is above what this face payment may charge: pay another way', {
              max_amount: opts.maxAmount,
            });
          }
          if (paid > limits.shopperPaymentLimit) {
            throw new DomainError('unprocessable', 'shopper_payment_limit_exceeded', 'the amount is above the per-payment limit for face pay');
          }
          const bps = deps.feeBps ? await deps.feeBps(tx, pi.merchantId, clock.now().getTime()) : config.platformFeeBps;
          const fee = platformFee(paid, bps);
          const wallet = payerWallet(pi, shopperId);
          const merchant = merchantAccountId(pi.merchantId, pi.currency, pi.mode);
          const transfers: TransferInput[] = [
            { id: `${pi.id}:payment`, debitAccountId: wallet, creditAccountId: merchant, amount: paid, currency: pi.currency, code: 'payment' },
          ];
          if (fee > 0) {
            // The rate goes with the fee, so the fee audit can check each against the merchant's rate then.
            transfers.push({ id: `${pi.id}:fee`, debitAccountId: merchant, creditAccountId: platformFeeAccountId(pi.currency, pi.mode), amount: fee, currency: pi.currency, code: 'platform_fee', metadata: { bps } });
          }
          // Rows that many payments share are locked last, the busiest (the merchant's and the fee
          // account, updated by the ledger in its fixed order) at the very end, so that each is
          // held for the shortest time before the commit. Every path locks a shopper's day row
          // before the wallet and the wallet before shared accounts, so no two wait in a cycle.
          const done = await transition(
            tx,
            pi,
            { status: 'succeeded', shopperId, platformFee: fee, discount, couponId, paymentMethod: method, failureCode: null, failureMessage: null },
            'payment_intent.succeeded',
          );
          // A test shopper's day is its merchant's own, like its wallet.
          const spender = pi.mode === 'test' ? `test:${pi.merchantId}:${shopperId}` : shopperId;
          const spent = await repo.addDailySpend(tx, spender, pi.currency, utcDay(done.updatedAt), paid);
          if (spent > limits.shopperDailyLimit) {
            throw new DomainError('unprocessable', 'shopper_daily_limit_exceeded', "the payment would exceed the shopper's daily limit");
          }
          try {
            await ledger.createTransfers(transfers, tx);
          } catch (e) {
            // No wallet yet is the same, for the shopper, as an empty one.
            if (e instanceof DomainError && e.code === 'account_not_found') {
              throw new DomainError('unprocessable', 'insufficient_funds', 'the shopper has insufficient funds');
            }
            if (e instanceof DomainError && e.code === 'insufficient_funds') {
              throw new DomainError('unprocessable', 'insufficient_funds', 'the shopper has insufficient funds');
            }
            throw e;
          }
          return done;
        });
        for (const id of made) ensured.add(id);
        return result;
      } catch (e) {
        if (e instanceof DomainError && FAILURE_CODES.has(e.code)) {
          await recordFailure(intentId, e);
          throw new DomainError(e.kind, e.code, e.message, { ...e.details, payment_intent: intentId });
        }
        throw e;
      }
    },

    fail(intentId, code, message, opts = {}) {
      return db.transaction(async (tx) => {
        const pi = await loadForUpdate(tx, intentId, opts.merchantId);
        if (pi.status !== 'requires_face' && pi.status !== 'processing') throw unexpected(pi, 'fail');
        return transition(tx, pi, { status: 'failed', failureCode: code, failureMessage: message }, 'payment_intent.payment_failed');
      });
    },

    async cancel(merchantId, intentId, opts = {}) {
      const cancelled = await db.transaction(async (tx) => {
        const pi = await loadForUpdate(tx, intentId, merchantId, opts.mode ?? 'live');
        const t = opts.terminal;
        if (t !== undefined && (pi.terminalId === null ? pi.storeId !== t.storeId : pi.terminalId !== t.terminalId)) {
          throw new DomainError('not_found', 'payment_intent_not_found', `no payment intent ${intentId}`);
        }
        if (pi.status === 'cancelled') return pi;
        if (pi.status !== 'requires_face' && pi.status !== 'processing') throw unexpected(pi, 'cancel');
        return transition(tx, pi, { status: 'cancelled' }, 'payment_intent.cancelled');
      });
      await deps.onCancel?.(cancelled);
      return cancelled;
    },

    async createRefund(merchantId, input, opts = {}) {
      const key = checkKey(opts.idempotencyKey);
      const mode = opts.mode ?? 'live';
      const staffLimit = opts.staffRefundLimit ?? null;
      if (input.amount !== undefined && (typeof input.amount !== 'number' || !Number.isSafeInteger(input.amount) || input.amount <= 0)) {
        throw new DomainError('invalid', 'amount_invalid', 'amount must be a positive integer in minor units');
      }
      const reason = optText(input.reason, 'reason', 200);
      const metadata = checkMetadata(input.metadata);
      const refund = await retryOnDuplicate(async (tx) => {
        if (key !== null) {
          const existing = await repo.refundByKey(tx, merchantId, mode, key);
          if (existing) {
            const same =
              existing.paymentIntentId === input.paymentIntentId &&
              (input.amount === undefined || existing.amount === input.amount) &&
              existing.reason === reason &&
              JSON.stringify(existing.metadata) === JSON.stringify(metadata);
            if (!same) throw new DomainError('conflict', 'idempotency_key_reused', 'this idempotency key was used with other parameters');
            return existing;
          }
        }
        const pi = await loadForUpdate(tx, input.paymentIntentId, merchantId, mode);
        if (pi.status !== 'succeeded' || pi.shopperId === null || pi.platformFee === null) throw unexpected(pi, 'refund');
        const received = pi.amount - pi.discount;
        const left = received - pi.amountRefunded;
        const amount = input.amount ?? left;
        if (left === 0) throw new DomainError('conflict', 'payment_intent_fully_refunded', 'the payment has been refunded in full');
        if (amount > left) {
          throw new DomainError('conflict', 'refund_exceeds_captured', `at most ${formatMoney(left, pi.currency)} is left to refund`, { refundable: left });
        }
        if (staffLimit !== null) {
          // The payment row is locked, so two cashiers' refunds of it are counted one after the other.
          const before = await repo.staffLimitedRefunded(tx, pi.id);
          if (before + amount > staffLimit) {
            throw new DomainError('forbidden', 'refund_above_staff_limit', `your refund limit is ${formatMoney(staffLimit, pi.currency)} per payment${before > 0 ? ` and ${formatMoney(before, pi.currency)} of this payment was already refunded by staff with a limit` : ''}; ask a manager for this refund`, {
              limit: staffLimit,
              refunded_by_staff: before,
            });
          }
        }
        const feeBack = feeRefund(pi.platformFee, received, pi.amountRefunded, amount);
        const r: Refund = {
          id: ids.next('re'),
          merchantId,
          mode,
          paymentIntentId: pi.id,
          amount,
          currency: pi.currency,
          feeRefunded: feeBack,
          status: 'succeeded',
          reason,
          metadata,
          idempotencyKey: key,
          staffLimited: staffLimit !== null,
          createdAt: clock.now().getTime(),
        };
        const merchant = merchantAccountId(merchantId, pi.currency, pi.mode);
        const transfers: TransferInput[] = [
          { id: `${r.id}:refund`, debitAccountId: merchant, creditAccountId: payerWallet(pi, pi.shopperId), amount, currency: pi.currency, code: 'refund' },
        ];
        if (feeBack > 0) {
          transfers.push({ id: `${r.id}:fee_refund`, debitAccountId: platformFeeAccountId(pi.currency, pi.mode), creditAccountId: merchant, amount: feeBack, currency: pi.currency, code: 'platform_fee_refund' });
        }
        await repo.insertRefund(tx, r);
        await transition(tx, pi, { amountRefunded: pi.amountRefunded + amount }, 'payment_intent.refunded');
        await events.record(tx, { merchantId, mode, type: 'refund.created', objectId: r.id, data: refundResource(r) });
        await ledger.createTransfers(transfers, tx);
        return r;
      });
      if (deps.onRefund) {
        const pi = await repo.getIntent(db, refund.paymentIntentId);
        if (pi) await deps.onRefund(pi, refund);
      }
      return refund;
    },

    async getRefund(merchantId, id, opts = {}) {
      const r = await repo.getRefund(db, merchantId, opts.mode ?? 'live', id);
      if (!r) throw new DomainError('not_found', 'refund_not_found', `no refund ${id}`);
      return r;
    },

    async listRefunds(merchantId, q = {}) {
      const limit = q.limit ?? 10;
      const rows = await repo.listRefunds(db, merchantId, q.mode ?? 'live', q.paymentIntentId, q.cursor, limit + 1);
      const hasMore = rows.length > limit;
      const data = rows.slice(0, limit);
      return { data, hasMore, nextCursor: hasMore ? (data[data.length - 1]?.id ?? null) : null };
    },

    topUp(shopperId, amount, currency, reference) {
      return funding.fund({ shopperId, amount, currency, reference });
    },

    walletBalance(shopperId, currency) {
      return balanceOf(walletAccountId(checkShopperId(shopperId), currency));
    },

    async testTopUp(merchantId, shopperId, amount, currency, reference) {
      checkShopperId(shopperId);
      if (!isTestShopper(shopperId)) throw new DomainError('forbidden', 'test_shopper_required', 'test money goes only to test shoppers (test_...)');
      const funding = fundingAccountId(TEST_FUNDING_RAIL, currency);
      const wallet = testWalletAccountId(merchantId, shopperId, currency);
      for (const a of [
        { id: funding, currency, code: 'funding' },
        { id: wallet, currency, code: 'wallet', flags: DEBITS_MUST_NOT_EXCEED_CREDITS },
      ]) {
        if (ensured.has(a.id)) continue;
        await ledger.createAccount(a);
        ensured.add(a.id);
      }
      const [t] = await ledger.createTransfers([
        { id: `testtopup:${merchantId}:${reference}`, debitAccountId: funding, creditAccountId: wallet, amount, currency, code: 'test_top_up' },
      ]);
      return t!;
    },

    testWalletBalance(merchantId, shopperId, currency) {
      return balanceOf(testWalletAccountId(merchantId, checkShopperId(shopperId), currency));
    },

    salesByBucket(merchantId, from, to, bucketMs) {
      return repo.salesByBucket(db, merchantId, from, to, bucketMs);
    },

    async audit() {
      const problems: string[] = [];
      const ledgerReport = await ledger.verify();
      problems.push(...ledgerReport.problems);
      const intents = await repo.allIntents(db);
      const refunds = await repo.allRefunds(db);
      const refunded = new Map<string, number>();
      for (const r of refunds) {
        refunded.set(r.paymentIntentId, (refunded.get(r.paymentIntentId) ?? 0) + r.amount);
        const t = await ledger.getTransfer(`${r.id}:refund`).catch(() => undefined);
        if (!t || t.amount !== r.amount) problems.push(`refund ${r.id} has no matching ledger transfer`);
      }
      let succeeded = 0;
      for (const pi of intents) {
        const pay = await ledger.getTransfer(`${pi.id}:payment`).catch(() => undefined);
        const fee = await ledger.getTransfer(`${pi.id}:fee`).catch(() => undefined);
        if (pi.status === 'succeeded') {
          succeeded++;
          if (!pay || pay.amount !== pi.amount - pi.discount) problems.push(`intent ${pi.id} succeeded without its payment transfer`);
          if ((pi.platformFee ?? 0) > 0 && fee?.amount !== pi.platformFee) problems.push(`intent ${pi.id} lacks its fee transfer`);
        } else if (pay || fee) {
          problems.push(`intent ${pi.id} is ${pi.status} but money moved`);
        }
        if ((refunded.get(pi.id) ?? 0) !== pi.amountRefunded) problems.push(`intent ${pi.id} refunds do not add up`);
      }
      return { ok: problems.length === 0, intents: intents.length, succeeded, problems };
    },
  };
}
