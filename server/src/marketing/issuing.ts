/**
 * Issuing coupons: the triggers (a join, a member's payment, the schedule, "send now"), the
 * treatment/holdout assignment, and voiding what a leaving member did not use.
 */
import { DomainError } from '../platform/index.ts';
import type { AudienceMember } from '../members/index.ts';
import type { CampaignRow, CouponRow } from './repo.ts';
import { inHoldout } from './rules.ts';
import type { Coupon } from './types.ts';
import { DAY, budgetExhausted, budgetLeft, couponTitle, describeReward, inboxRow, refusalOf, toCampaign, toCoupon, type MarketingContext } from './shared.ts';

export function issuingOps(ctx: MarketingContext) {
  const { repo, members, clock, ids, holdoutSecret, publish, mustCampaign, timeZone, currentMonth } = ctx;

  /**
   * Gives one member a coupon of one campaign if every rule allows it: the campaign is live, the
   * member is in its audience and not in its holdout, under the per-member limit, within budget,
   * and (for scheduled or manual runs) holds no unused coupon of it yet. Eligible members are
   * recorded in the treatment or holdout group at their first eligibility: that is the experiment.
   */
  async function issue(
    campaignRow: CampaignRow,
    member: AudienceMember,
    at: number,
    month: number,
    sourcePaymentId: string | null,
  ): Promise<Coupon | null> {
    const campaign = toCampaign(campaignRow);
    // Read before the transaction: on SQLite a read outside it would wait for it to finish.
    const birthdayTz = campaign.audience.kind === 'birthday_month' ? await timeZone(campaign.merchantId) : null;
    const rule = (row: CampaignRow, held: readonly CouponRow[], holdout: boolean) =>
      refusalOf(campaign, row, { member, at, month, holdout, held, earnedByPayment: sourcePaymentId !== null, birthdayTimeZone: birthdayTz });
    // The rules that need no coupons read first, so members outside the campaign are not exposed.
    if (rule(campaignRow, [], false) !== null) return null;
    const holdout = inHoldout(holdoutSecret, campaign.id, member.memberId, campaign.holdoutPercent);
    const shopperId = holdout ? null : await members.shopperIdFor(campaign.merchantId, member.memberId);
    const muted = shopperId !== null && (await repo.isMuted(shopperId, campaign.merchantId));
    const title = couponTitle(campaign);
    const coupon = await repo.transaction(async (tx) => {
      await tx.expose({ campaign_id: campaign.id, member_id: member.memberId, grp: holdout ? 'holdout' : 'treatment', at });
      if (holdout) return null;
      const locked = (await tx.campaign(campaign.id, true))!;
      if (rule(locked, await tx.memberCampaignCoupons(campaign.id, member.memberId), false) !== null) return null;
      const validTo = campaign.couponDays === null ? campaign.validTo : Math.min(campaign.validTo, at + campaign.couponDays * DAY);
      const row: CouponRow = {
        id: ids.next('cpn'),
        campaign_id: campaign.id,
        merchant_id: campaign.merchantId,
        member_id: member.memberId,
        reward: JSON.stringify(campaign.reward),
        currency: campaign.currency,
        valid_from: at,
        valid_to: validTo,
        status: 'issued',
        issued_at: at,
        source_payment_id: sourcePaymentId,
        redeemed_payment_id: null,
        redeemed_at: null,
      };
      if (!(await tx.insertCoupon(row))) return null;
      await tx.addIssued(campaign.id);
      // A coupon is something the shopper holds, so it reaches the inbox even when they muted the
      // merchant; muting only tells the merchant's own channels not to notify them.
      if (shopperId !== null)
        await tx.insertInbox(
          inboxRow({
            id: ids.next('inb'),
            shopper_id: shopperId,
            merchant_id: campaign.merchantId,
            kind: 'coupon',
            title,
            body: campaign.message?.body ?? describeReward(campaign.reward, campaign.currency),
            coupon_id: row.id,
            created_at: at,
          }),
        );
      await publish(tx, {
        type: 'coupon.issued',
        merchantId: campaign.merchantId,
        objectId: row.id,
        at,
        data: { memberId: member.memberId, couponId: row.id, campaignId: campaign.id, title, reward: campaign.reward, validTo, notify: !muted },
      });
      return row;
    });
    return coupon === null ? null : toCoupon(coupon, title, budgetLeft(campaignRow));
  }

  /** Every live campaign of this trigger offers the member a coupon, at most one each. */
  async function onTrigger(trigger: 'join' | 'payment', merchantId: string, memberId: string, at: number, sourcePaymentId: string | null): Promise<Coupon[]> {
    const member = await members.audienceMember(merchantId, memberId, at);
    if (!member) return [];
    const month = await currentMonth(merchantId, at);
    const out: Coupon[] = [];
    for (const c of await repo.liveCampaigns(trigger, merchantId, at)) {
      const coupon = await issue(c, member, at, month, sourcePaymentId);
      if (coupon) out.push(coupon);
    }
    return out;
  }

  async function runCampaign(c: CampaignRow, at: number): Promise<number> {
    const audience = await members.audience(c.merchant_id, at);
    const month = await currentMonth(c.merchant_id, at);
    let issued = 0;
    for (const m of audience) {
      // Re-read so that budget counters seen by `issue` move as coupons go out.
      const fresh = (await repo.campaign(c.id))!;
      if (budgetExhausted(fresh)) break;
      if (await issue(fresh, m, at, month, null)) issued++;
    }
    return issued;
  }

  return {
    // ---- triggers (platform side) ----

    /** After a join: welcome coupons. */
    async onJoined(merchantId: string, memberId: string, at = clock.now().getTime()): Promise<Coupon[]> {
      return onTrigger('join', merchantId, memberId, at, null);
    },

    /** After a member's payment settles (and members.recordPayment ran): coupons for next time, at most one per campaign and payment. */
    async onPayment(merchantId: string, memberId: string, payment: { paymentId: string; at: number }): Promise<Coupon[]> {
      return onTrigger('payment', merchantId, memberId, payment.at, payment.paymentId);
    },

    /** The server calls this periodically (say hourly): every live scheduled campaign reaches its audience. */
    async runScheduled(now: number): Promise<{ campaigns: number; issued: number }> {
      let issued = 0;
      const live = await repo.liveCampaigns('schedule', null, now);
      for (const c of live) issued += await runCampaign(c, now);
      return { campaigns: live.length, issued };
    },

    /** "Send this coupon to the segment now": a manual or scheduled campaign run once. */
    async issueNow(merchantId: string, campaignId: string, at = clock.now().getTime()): Promise<{ issued: number }> {
      const c = await mustCampaign(merchantId, campaignId);
      if (c.trigger_kind !== 'manual' && c.trigger_kind !== 'schedule')
        throw new DomainError('conflict', 'campaign_not_manual', 'Only manual or scheduled campaigns are sent on demand.');
      return { issued: await runCampaign(c, at) };
    },

    /** Once a member leaves, coupons they did not use die with the membership. */
    async onMemberLeft(merchantId: string, memberId: string): Promise<number> {
      return repo.voidUnused(merchantId, memberId);
    },
  };
}
