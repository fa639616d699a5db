/** What a campaign did (treatment against holdout, with the uplift) and how many members an audience reaches now. */
import { checkAudience, inAudience, welchInterval, type Audience } from './rules.ts';
import type { CampaignResults, GroupResult } from './types.ts';
import { DAY, type MarketingContext } from './shared.ts';

export function resultsOps(ctx: MarketingContext) {
  const { repo, members, clock, mustCampaign, currentMonth } = ctx;
  return {
    // ---- results ----

    /**
     * Treatment against holdout. Each member's spend is counted from their assignment for as long
     * as the coupon would last (the campaign's coupon days, else to its end), capped at now: the
     * window in which the coupon can act, the same for both groups, so late joiners are not
     * compared over a longer time than they had. The uplift is the difference in mean spend per
     * member with Welch's 95 % t interval; it includes members who never used a coupon (intent to
     * treat), as an honest uplift must.
     */
    async results(merchantId: string, campaignId: string, now = clock.now().getTime()): Promise<CampaignResults> {
      const c = await mustCampaign(merchantId, campaignId);
      // Windows end exclusively; `now + 1` lets a payment made at this very moment count.
      const horizon = Math.min(c.valid_to, now + 1);
      const exposures = await repo.exposures(campaignId);
      const windows = exposures.map((e) => {
        const to = Math.min(horizon, c.coupon_days === null ? horizon : e.at + c.coupon_days * DAY);
        return { memberId: e.member_id, from: e.at, to: Math.max(e.at, to) };
      });
      const spend = await members.spendInWindows(merchantId, windows);
      const end = windows.reduce((m, w) => Math.max(m, w.to), c.valid_from);
      const redemptions = (await repo.campaignRedemptions(campaignId)).filter((r) => r.reversed_at === null);
      const redeemers = new Set(redemptions.map((r) => r.member_id));
      const groups = { treatment: [] as number[], holdout: [] as number[] };
      const redeemed = { treatment: 0, holdout: 0 };
      for (const e of exposures) {
        const g = e.grp === 'holdout' ? 'holdout' : 'treatment';
        groups[g].push(spend.get(e.member_id) ?? 0);
        if (redeemers.has(e.member_id)) redeemed[g]++;
      }
      const group = (g: 'treatment' | 'holdout'): GroupResult => {
        const xs = groups[g];
        return {
          members: xs.length,
          redeemers: redeemed[g],
          redemptionRate: xs.length ? redeemed[g] / xs.length : null,
          spendPerMember: xs.length ? xs.reduce((s, x) => s + x, 0) / xs.length : null,
        };
      };
      const coupons = await repo.campaignCoupons(campaignId);
      return {
        campaignId,
        window: { from: c.valid_from, to: end },
        treatment: group('treatment'),
        holdout: group('holdout'),
        couponsIssued: coupons.length,
        couponsRedeemed: redemptions.length,
        discountGiven: redemptions.reduce((s, r) => s + r.discount, 0),
        uplift: welchInterval(groups.treatment, groups.holdout, 0.95),
      };
    },

    /** How many live members an audience reaches now (the console shows it before a send). */
    async audienceSize(merchantId: string, audience: Audience, at = clock.now().getTime()): Promise<number> {
      const checked = checkAudience(audience);
      const month = await currentMonth(merchantId, at);
      return (await members.audience(merchantId, at)).filter((m) => inAudience(checked, m, at, month)).length;
    },
  };
}
