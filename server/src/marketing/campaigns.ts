/** The merchant's campaigns: creating one from checked input, listing, reading and its status. */
import { DomainError, isCurrency } from '../platform/index.ts';
import type { CampaignRow } from './repo.ts';
import { checkAudience, checkReward } from './rules.ts';
import { TRIGGERS, type Campaign, type CampaignInput, type CampaignStatus } from './types.ts';
import { checkMessage, toCampaign, type MarketingContext } from './shared.ts';

function positiveInt(n: unknown, code: string, what: string, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 1 || n > max) throw new DomainError('invalid', code, `${what} must be a whole number from 1 to ${max}.`);
  return n;
}

export function campaignOps(ctx: MarketingContext) {
  const { repo, members, clock, ids, mustCampaign } = ctx;
  return {
    // ---- campaigns (merchant side) ----

    async createCampaign(merchantId: string, input: CampaignInput): Promise<Campaign> {
      const name = input.name?.trim() ?? '';
      if (name.length === 0 || name.length > 80) throw new DomainError('invalid', 'campaign_name_invalid', 'Name the campaign (up to 80 characters).');
      if (!TRIGGERS.includes(input.trigger)) throw new DomainError('invalid', 'trigger_invalid', `A trigger is one of ${TRIGGERS.join(', ')}.`);
      if (!/^[A-Z]{3}$/.test(input.currency) || !isCurrency(input.currency)) throw new DomainError('invalid', 'currency_invalid', 'A currency is a three-letter ISO 4217 code.');
      const programmeCurrency = await members.programme(merchantId).then(
        (p) => p.currency,
        () => null,
      );
      if (programmeCurrency !== null && programmeCurrency !== input.currency)
        throw new DomainError('invalid', 'currency_mismatch', `Coupons of this merchant are in ${programmeCurrency}.`);
      if (!Number.isSafeInteger(input.validFrom) || !Number.isSafeInteger(input.validTo) || input.validTo <= input.validFrom)
        throw new DomainError('invalid', 'validity_invalid', 'The campaign must end after it starts (epoch ms).');
      const holdout = input.holdoutPercent ?? 10;
      if (!Number.isInteger(holdout) || holdout < 0 || holdout > 50)
        throw new DomainError('invalid', 'holdout_invalid', 'The holdout is a whole percentage from 0 to 50.');
      const message = input.message ?? null;
      if (message !== null) checkMessage(message.title, message.body);
      const row: CampaignRow = {
        id: ids.next('cmp'),
        merchant_id: merchantId,
        name,
        status: 'active',
        trigger_kind: input.trigger,
        audience: JSON.stringify(checkAudience(input.audience)),
        reward: JSON.stringify(checkReward(input.reward)),
        currency: input.currency,
        valid_from: input.validFrom,
        valid_to: input.validTo,
        coupon_days: input.couponDays == null ? null : positiveInt(input.couponDays, 'coupon_days_invalid', 'Coupon days', 3650),
        max_discount: input.budget?.maxDiscount == null ? null : positiveInt(input.budget.maxDiscount, 'budget_invalid', 'The discount budget'),
        max_coupons: input.budget?.maxCoupons == null ? null : positiveInt(input.budget.maxCoupons, 'budget_invalid', 'The coupon budget'),
        per_member_limit: positiveInt(input.perMemberLimit ?? 1, 'per_member_limit_invalid', 'The per-member limit', 1000),
        holdout_percent: holdout,
        message_title: message?.title.trim() ?? null,
        message_body: message?.body ?? null,
        issued_count: 0,
        discount_used: 0,
        created_at: clock.now().getTime(),
      };
      await repo.insertCampaign(row);
      return toCampaign(row);
    },

    async campaigns(merchantId: string): Promise<Campaign[]> {
      return (await repo.campaignsOf(merchantId)).map(toCampaign);
    },

    async campaign(merchantId: string, campaignId: string): Promise<Campaign> {
      return toCampaign(await mustCampaign(merchantId, campaignId));
    },

    /** The campaign behind each of these coupons, for the merchant's lists of payments; another merchant's coupon is left out. */
    async couponCampaigns(merchantId: string, couponIds: readonly string[]): Promise<Map<string, { campaignId: string; campaignName: string }>> {
      const rows = await repo.couponCampaigns(merchantId, [...new Set(couponIds)]);
      return new Map(rows.map((r) => [r.id, { campaignId: r.campaign_id, campaignName: r.campaign_name }]));
    },

    async setCampaignStatus(merchantId: string, campaignId: string, status: CampaignStatus): Promise<Campaign> {
      const c = await mustCampaign(merchantId, campaignId);
      if (!['active', 'paused', 'ended'].includes(status)) throw new DomainError('invalid', 'status_invalid', 'A status is active, paused or ended.');
      if (c.status === 'ended' && status !== 'ended') throw new DomainError('conflict', 'campaign_ended', 'An ended campaign cannot restart.');
      await repo.setCampaignStatus(campaignId, status);
      return toCampaign((await repo.campaign(campaignId))!);
    },
  };
}
