/**
 * At the terminal and after: the offers shown before a member confirms, redeeming a coupon with
 * the payment, and reversing that when the payment fails or is fully refunded.
 */
import { DomainError } from '../platform/index.ts';
import { bestCoupon, evaluateCoupon, inHoldout, type Basket } from './rules.ts';
import type { Coupon, HeldCoupon, Offers } from './types.ts';
import { budgetLeft, couponTitle, refusalOf, toCampaign, toCoupon, type MarketingContext } from './shared.ts';

export function redemptionOps(ctx: MarketingContext) {
  const { repo, members, clock, holdoutSecret, publish, timeZone, currentMonth, withTitles } = ctx;

  async function heldCoupons(merchantId: string, memberId: string): Promise<Coupon[]> {
    return withTitles(await repo.couponsOfMember(merchantId, memberId, true));
  }

  async function reverse(paymentId: string, merchantId: string, at: number): Promise<boolean> {
    const found = await repo.redemption(paymentId);
    if (!found || found.merchant_id !== merchantId) return false;
    // A member who left meanwhile gets nothing back: their unused coupons were voided on leaving.
    const live = (await members.shopperIdFor(merchantId, found.member_id)) !== null;
    const reversed = await repo.transaction(async (tx) => {
      const r = await tx.redemption(paymentId, true);
      if (!r || r.merchant_id !== merchantId || r.reversed_at !== null) return null;
      // Coupon before campaign, the order redeem locks them in, so the two never deadlock.
      await tx.coupon(r.coupon_id, true);
      await tx.campaign(r.campaign_id, true);
      await tx.reverseRedemption(paymentId, at);
      await tx.addDiscountUsed(r.campaign_id, -r.discount);
      // The coupon comes back as it was; if it has expired meanwhile, time keeps it unusable.
      await tx.setCouponStatus(r.coupon_id, live ? 'issued' : 'void', null, null);
      await publish(tx, {
        type: 'coupon.redemption_reversed',
        merchantId,
        objectId: r.coupon_id,
        at,
        data: { memberId: r.member_id, couponId: r.coupon_id, campaignId: r.campaign_id, paymentId },
      });
      return r;
    });
    return reversed !== null;
  }

  return {
    // ---- terminal ----

    /** What the terminal shows this member before they confirm: their coupons, what this payment earns, and the coupon applied. */
    async offersFor(merchantId: string, memberId: string, basket: Basket, now = clock.now().getTime()): Promise<Offers> {
      const member = await members.audienceMember(merchantId, memberId, now);
      if (!member) throw new DomainError('not_found', 'member_not_found', 'No such member.');
      const held = await heldCoupons(merchantId, memberId);
      const coupons: HeldCoupon[] = held
        .map((c) => {
          const e = evaluateCoupon(basket, c, now);
          return e.applicable
            ? { coupon: c, applicable: true, discount: e.discount, reason: null, shortBy: null }
            : { coupon: c, applicable: false, discount: 0, reason: e.reason, shortBy: e.shortBy ?? null };
        })
        .filter((h) => h.reason !== 'expired' && h.reason !== 'used');
      const best = bestCoupon(basket, held, now);
      const month = await currentMonth(merchantId, now);
      const upcoming: Offers['upcoming'] = [];
      for (const c of await repo.liveCampaigns('payment', merchantId, now)) {
        const campaign = toCampaign(c);
        const refusal = refusalOf(campaign, c, {
          member,
          at: now,
          month,
          holdout: inHoldout(holdoutSecret, campaign.id, memberId, campaign.holdoutPercent),
          held: await repo.memberCampaignCoupons(c.id, memberId),
          earnedByPayment: true,
          birthdayTimeZone: campaign.audience.kind === 'birthday_month' ? await timeZone(merchantId) : null,
        });
        if (refusal !== null) continue;
        upcoming.push({ campaignId: c.id, name: campaign.name, reward: campaign.reward, title: couponTitle(campaign) });
      }
      return {
        memberId,
        coupons,
        upcoming,
        best: best ? { couponId: best.coupon.id, discount: best.discount, payable: best.payable } : null,
      };
    },

    /**
     * Records that a coupon paid part of a payment. Idempotent per payment id: a retry answers the
     * first result; a different coupon for the same payment is a conflict.
     */
    async redeem(input: { merchantId: string; memberId: string; couponId: string; paymentId: string; basket: Basket; at?: number }): Promise<{
      discount: number;
      payable: number;
    }> {
      const at = input.at ?? clock.now().getTime();
      if ((await members.shopperIdFor(input.merchantId, input.memberId)) === null)
        throw new DomainError('not_found', 'member_not_found', 'No such member.');
      const result = await repo.transaction(async (tx) => {
        const prior = await tx.redemption(input.paymentId, true);
        if (prior) {
          if (prior.coupon_id !== input.couponId || prior.reversed_at !== null)
            throw new DomainError('conflict', 'payment_already_redeemed', 'This payment already used a coupon.');
          return { discount: prior.discount, payable: prior.basket_amount - prior.discount };
        }
        const coupon = await tx.coupon(input.couponId, true);
        if (!coupon || coupon.merchant_id !== input.merchantId || coupon.member_id !== input.memberId)
          throw new DomainError('not_found', 'coupon_not_found', 'No such coupon for this member.');
        const campaign = (await tx.campaign(coupon.campaign_id, true))!;
        const e = evaluateCoupon(input.basket, toCoupon(coupon, '', budgetLeft(campaign)), at);
        if (!e.applicable)
          throw new DomainError('unprocessable', 'coupon_not_applicable', `The coupon cannot be used: ${e.reason}.`, { reason: e.reason });
        await tx.insertRedemption({
          payment_id: input.paymentId,
          coupon_id: coupon.id,
          campaign_id: coupon.campaign_id,
          merchant_id: input.merchantId,
          member_id: input.memberId,
          discount: e.discount,
          basket_amount: input.basket.amount,
          currency: input.basket.currency,
          at,
          reversed_at: null,
        });
        await tx.setCouponStatus(coupon.id, 'redeemed', input.paymentId, at);
        await tx.addDiscountUsed(coupon.campaign_id, e.discount);
        await publish(tx, {
          type: 'coupon.redeemed',
          merchantId: input.merchantId,
          objectId: coupon.id,
          at,
          data: { memberId: input.memberId, couponId: coupon.id, campaignId: coupon.campaign_id, paymentId: input.paymentId, discount: e.discount },
        });
        return { discount: e.discount, payable: input.basket.amount - e.discount };
      });
      return result;
    },

    /**
     * A refund of a payment that used a coupon. A full refund reverses the redemption: the coupon is
     * usable again until it expires and the discount returns to the budget. A partial refund keeps
     * it: the till refunds what was actually paid for the returned items, so the shopper already
     * keeps the discount on what they keep, and handing the coupon back too would let it be used
     * twice. Idempotent.
     */
    async onRefund(input: { merchantId: string; paymentId: string; fullyRefunded: boolean; at?: number }): Promise<{ reversed: boolean }> {
      if (!input.fullyRefunded) return { reversed: false };
      return { reversed: await reverse(input.paymentId, input.merchantId, input.at ?? clock.now().getTime()) };
    },

    /** The payment a coupon was reserved for failed or was cancelled before settling. */
    async releaseRedemption(merchantId: string, paymentId: string): Promise<{ reversed: boolean }> {
      return { reversed: await reverse(paymentId, merchantId, clock.now().getTime()) };
    },

    /** A member's coupons, for the merchant console. */
    async couponsOf(merchantId: string, memberId: string): Promise<Coupon[]> {
      return withTitles(await repo.couponsOfMember(merchantId, memberId));
    },
  };
}
