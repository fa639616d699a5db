/**
 * Checkout: what a face payment or a pay-code payment needs of payments, members and marketing,
 * in the facepay module's words (its `Checkout` port), and the steps that follow a payment or a
 * refund once the money has moved (the CRM entry, coupons, the inbox receipt). It sits beside the
 * composition root because it is the one place that knows all four modules at once; none of them
 * learns about the others through it.
 */
import type { Checkout } from './facepay/index.ts';
import { snakeKeys } from './http/index.ts';
import { bestCoupon, type MarketingService } from './marketing/index.ts';
import type { MembersService } from './members/index.ts';
import type { MerchantService, NewEvent } from './merchants/index.ts';
import type { PaymentIntent, PaymentService, RefundListener } from './payments/index.ts';
import { DomainError, isDomainError, type Clock } from './platform/index.ts';
import type { ShopperService } from './shoppers/index.ts';
import type { Migration } from './storage/index.ts';

// Payments made before payments recorded their method get it from their paid face-pay attempt: a
// pay code, or the face (whether the digits helped then was not kept, so "face" is all that is
// known to be true). Payments with no attempt (the API's test helpers) keep none. It touches both
// modules' tables, so it lives here, after both modules' migrations.
const backfillMethod = `UPDATE payment_intents SET payment_method = (
  SELECT MIN(a.method) FROM face_pay_attempts a WHERE a.intent_id = payment_intents.id AND a.state = 'paid'
) WHERE status = 'succeeded' AND payment_method IS NULL;`;

export const checkoutMigrations: Migration[] = [{ id: 'checkout/0001_payment_method_backfill', sqlite: backfillMethod, postgres: backfillMethod }];

/** Where the composition root reports what it cannot hand to a caller (the app's logger, bound late). */
export interface FollowUpLog {
  error(obj: Record<string, unknown>, msg: string): void;
}

/**
 * Steps that follow a change that has already committed (the CRM entry and coupons after a
 * payment, the CRM and redemption after a refund). Each is idempotent on its key, runs at once,
 * runs again whenever the same payment or refund is retried, and when it fails it is logged and
 * tried again by the housekeeping worker (`retryDue`) a few times before it is given up, loudly.
 */
export interface FollowUps {
  run(step: string, key: string, fn: () => Promise<unknown>): Promise<void>;
  retryDue(): Promise<void>;
  pending(): number;
}

export function createFollowUps(log: FollowUpLog, clock: Clock, opts: { maxTries?: number; delayMs?: number } = {}): FollowUps {
  const maxTries = opts.maxTries ?? 5;
  const delayMs = opts.delayMs ?? 5_000;
  const waiting = new Map<string, { step: string; key: string; fn: () => Promise<unknown>; tries: number; dueAt: number }>();
  async function attempt(step: string, key: string, fn: () => Promise<unknown>, tries: number): Promise<void> {
    const id = `${step}:${key}`;
    try {
      await fn();
      waiting.delete(id);
    } catch (e) {
      if (tries >= maxTries) {
        waiting.delete(id);
        log.error({ err: e, step, key, tries }, `${step} for ${key} failed ${tries} times; given up`);
        return;
      }
      log.error({ err: e, step, key, tries }, `${step} for ${key} failed; it will be retried`);
      waiting.set(id, { step, key, fn, tries, dueAt: clock.now().getTime() + delayMs * 2 ** (tries - 1) });
    }
  }
  return {
    run: (step, key, fn) => attempt(step, key, fn, (waiting.get(`${step}:${key}`)?.tries ?? 0) + 1),
    async retryDue() {
      const now = clock.now().getTime();
      for (const w of [...waiting.values()]) if (w.dueAt <= now) await attempt(w.step, w.key, w.fn, w.tries + 1);
    },
    pending: () => waiting.size,
  };
}

export interface CheckoutDeps {
  payments: PaymentService;
  members: MembersService;
  marketing: MarketingService;
  shoppers: ShopperService;
  merchants: Pick<MerchantService, 'getMerchant'>;
  clock: Clock;
  followUps: FollowUps;
}

/** Whether an error is the kind a retry may cure (the caller retries), not an answer about this payment. */
const transient = (e: unknown): boolean => !isDomainError(e) || e.kind === 'unavailable' || e.kind === 'busy';

/**
 * What a face payment needs of payments, members and marketing, in facepay's words. Coupons and
 * programmes are in upper-case currency codes, intents in lower case.
 */
export function checkoutFor(deps: CheckoutDeps): Checkout {
  const { payments, members, marketing, shoppers, merchants, clock, followUps } = deps;

  /** The CRM, coupons for next time and the inbox receipt, once the money has moved. */
  async function afterPayment(pi: PaymentIntent, shopperId: string): Promise<void> {
    const paid = pi.amount - pi.discount;
    const currency = pi.currency.toUpperCase();
    await followUps.run('crm_payment', pi.id, async () => {
      const { memberId } = await members.recordPayment({
        merchantId: pi.merchantId,
        shopperId,
        paymentId: pi.id,
        storeId: pi.storeId,
        amount: paid,
        currency,
        at: pi.updatedAt,
      });
      if (memberId !== null) await marketing.onPayment(pi.merchantId, memberId, { paymentId: pi.id, at: pi.updatedAt });
    });
    await followUps.run('inbox_receipt', pi.id, async () => {
      const merchant = await merchants.getMerchant(pi.merchantId);
      await marketing.addReceipt({ shopperId, merchantId: pi.merchantId, merchantName: merchant.name, paymentId: pi.id, amount: paid, currency, discount: pi.discount, at: pi.updatedAt });
    });
  }

  return {
    async intent(intentId, terminal) {
      const pi = await payments.getIntent(terminal.merchantId, intentId);
      if (pi.terminalId !== null && pi.terminalId !== terminal.terminalId)
        throw new DomainError('not_found', 'payment_intent_not_found', `no payment intent ${intentId}`);
      return { id: pi.id, amount: pi.amount, currency: pi.currency, status: pi.status };
    },

    async offers(terminal, shopperId, basket) {
      const memberId = await members.memberIdFor(terminal.merchantId, shopperId);
      if (memberId === null) {
        const offer = await members.joinOffer(terminal.merchantId, shopperId);
        return { discount: 0, offers: [], ...(offer ? { membership: { programme: offer.programmeName, fields: offer.fields } } : {}) };
      }
      const cart = { amount: basket.amount, currency: basket.currency.toUpperCase(), storeId: terminal.storeId };
      const now = clock.now().getTime();
      const o = await marketing.offersFor(terminal.merchantId, memberId, cart, now);
      // A payment is never free: a coupon worth the whole amount is shown but not applied.
      const usable = o.coupons.filter((h) => h.applicable && h.discount < basket.amount).map((h) => h.coupon);
      const best = bestCoupon(cart, usable, now);
      return {
        discount: best?.discount ?? 0,
        ...(best ? { coupon: { id: best.coupon.id, title: best.coupon.title } } : {}),
        offers: [
          // The applied coupon has its own line on the screen; the others are what the shopper also holds.
          ...o.coupons.filter((h) => h.coupon.id !== best?.coupon.id).map((h) => ({ id: h.coupon.id, title: h.coupon.title })),
          ...o.upcoming.map((u) => ({ id: u.campaignId, title: `With this payment: ${u.title}` })),
        ],
      };
    },

    async pay(intentId, terminal, shopperId, opts) {
      const { merchantId } = terminal;
      if (opts.join && opts.join.length > 0) {
        const offer = await members.joinOffer(merchantId, shopperId);
        if (offer) {
          const s = await shoppers.get(shopperId);
          const values: Record<string, string | null> = { name: s.name, phone: s.phone, email: s.email };
          const fields = Object.fromEntries(opts.join.filter((f) => (offer.fields as string[]).includes(f) && values[f]).map((f) => [f, values[f]!]));
          const joined = await members.join({ merchantId, shopperId, fields, consentVersion: offer.consentVersion, terminalId: terminal.terminalId });
          await followUps.run('welcome', joined.memberId, () => marketing.onJoined(merchantId, joined.memberId));
        }
      }
      const intent = await payments.getIntent(merchantId, intentId);
      // A retry of a payment that already failed answers the same failure (its coupon was given back).
      if (intent.status === 'failed') return { status: 'failed', code: intent.failureCode ?? 'payment_failed', message: intent.failureMessage ?? 'The payment failed.' };
      let discount = 0;
      let couponId: string | undefined;
      if (opts.couponId !== undefined) {
        try {
          const memberId = await members.memberIdFor(merchantId, shopperId);
          if (memberId === null) throw new DomainError('not_found', 'member_not_found', 'The coupon belongs to a membership that has ended.');
          const r = await marketing.redeem({
            merchantId,
            memberId,
            couponId: opts.couponId,
            paymentId: intent.id,
            basket: { amount: intent.amount, currency: intent.currency.toUpperCase(), storeId: terminal.storeId },
          });
          if (r.discount >= intent.amount) {
            await marketing.releaseRedemption(merchantId, intent.id);
            throw new DomainError('unprocessable', 'coupon_not_applicable', 'The coupon would pay the whole amount.');
          }
          discount = r.discount;
          couponId = opts.couponId;
        } catch (e) {
          // The shopper was shown the discounted amount: without the coupon they must be asked again.
          if (isDomainError(e) && !transient(e)) return { status: 'failed', code: e.code, message: e.message };
          throw e;
        }
      }
      let pi: PaymentIntent;
      try {
        pi = await payments.confirmWithShopper(intentId, shopperId, {
          idempotencyKey: opts.paymentId,
          merchantId,
          mode: 'live',
          method: opts.method,
          ...(opts.inPayment ? { inPayment: opts.inPayment } : {}),
          ...(opts.maxAmount !== undefined ? { maxAmount: opts.maxAmount } : {}),
          ...(couponId !== undefined ? { discount, couponId } : {}),
        });
      } catch (e) {
        if (transient(e)) throw e;
        // A final no: the coupon goes back to the shopper. A retry of a failed payment id stays failed.
        if (couponId !== undefined) await followUps.run('coupon_release', intent.id, () => marketing.releaseRedemption(merchantId, intent.id));
        const err = e as DomainError;
        return { status: 'failed', code: err.code, message: err.message };
      }
      // The money has moved: what follows must not turn a paid payment into a failed answer. It is
      // idempotent on the payment id, runs again on the terminal's retry, and is retried if it fails.
      await afterPayment(pi, shopperId);
      return { status: 'succeeded' };
    },
  };
}

/** After each refund: the member's history and, on a full refund, the coupon comes back. */
export function refundFollowUp(members: MembersService, marketing: MarketingService, followUps: FollowUps): RefundListener {
  return (pi, r) =>
    followUps.run('crm_refund', r.id, async () => {
      await members
        .recordRefund({ merchantId: pi.merchantId, paymentId: pi.id, refundId: r.id, amount: r.amount, at: r.createdAt })
        // Payments made outside the terminal (the API's test helpers) were never in the CRM.
        .catch((e: unknown) => (isDomainError(e) && e.code === 'payment_not_found' ? undefined : Promise.reject(e)));
      await marketing.onRefund({ merchantId: pi.merchantId, paymentId: pi.id, fullyRefunded: pi.amountRefunded >= pi.amount - pi.discount, at: r.createdAt });
    });
}

/** Member and marketing events as the webhook outbox keeps them: the API's object, in snake_case. */
export function crmEvent(e: { type: string; merchantId: string; objectId: string; data: object }): NewEvent {
  const object = e.type.slice(0, e.type.indexOf('.'));
  // The object's own id is `id`, as in every API object: `memberId` of a member event, `couponId` of a coupon's.
  const { [`${object}Id`]: _self, ...rest } = e.data as Record<string, unknown>;
  return { merchantId: e.merchantId, type: e.type, objectId: e.objectId, data: { object, id: e.objectId, ...(snakeKeys(rest) as Record<string, unknown>) } };
}
