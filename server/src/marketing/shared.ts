/** The marketing service's shared helpers and context (internal to the module). */
import { DomainError, formatMoney } from '../platform/index.ts';
import { localTime, type AudienceMember } from '../members/index.ts';
import type { CampaignRow, CouponRow, InboxRow, MarketingRepo } from './repo.ts';
import { couponRefusal, type Audience, type CouponRefusal, type Reward } from './rules.ts';
import type { Campaign, CampaignStatus, Coupon, MarketingEvent, MarketingServiceDeps, Trigger } from './types.ts';

export const DAY = 24 * 3600 * 1000;
export const MAX_INBOX_PAGE = 100;

/** An amount in minor units as the currency writes it (two decimals for EUR, none for JPY). */
export const money = formatMoney;

/** A plain description of a reward for the inbox and the terminal. */
export function describeReward(r: Reward, currency: string): string {
  switch (r.kind) {
    case 'amount_off':
      return `${money(r.amount, currency)} off${r.minSpend ? ` when you spend ${money(r.minSpend, currency)}` : ''}`;
    case 'percent_off':
      return `${r.percent}% off${r.cap !== null ? ` (up to ${money(r.cap, currency)})` : ''}${r.minSpend ? ` when you spend ${money(r.minSpend, currency)}` : ''}`;
    case 'spend_save':
      return `Spend ${money(r.threshold, currency)}, save ${money(r.amount, currency)}`;
    case 'free_item':
      return `Free ${r.label} (code ${r.code})`;
  }
}

export function toCampaign(r: CampaignRow): Campaign {
  return {
    id: r.id,
    merchantId: r.merchant_id,
    name: r.name,
    status: r.status as CampaignStatus,
    trigger: r.trigger_kind as Trigger,
    audience: JSON.parse(r.audience) as Audience,
    reward: JSON.parse(r.reward) as Reward,
    currency: r.currency,
    validFrom: r.valid_from,
    validTo: r.valid_to,
    couponDays: r.coupon_days,
    budget: { maxDiscount: r.max_discount, maxCoupons: r.max_coupons },
    perMemberLimit: r.per_member_limit,
    holdoutPercent: r.holdout_percent,
    message: r.message_title !== null ? { title: r.message_title, body: r.message_body ?? '' } : null,
    issuedCount: r.issued_count,
    discountUsed: r.discount_used,
    createdAt: r.created_at,
  };
}

export function couponTitle(c: Campaign): string {
  return c.message?.title ?? describeReward(c.reward, c.currency);
}

export function toCoupon(r: CouponRow, title: string, budgetLeft: number | null): Coupon {
  return {
    id: r.id,
    campaignId: r.campaign_id,
    memberId: r.member_id,
    reward: JSON.parse(r.reward) as Reward,
    currency: r.currency,
    validFrom: r.valid_from,
    validTo: r.valid_to,
    status: r.status as Coupon['status'],
    issuedAt: r.issued_at,
    budgetLeft,
    title,
  };
}

export function budgetLeft(c: CampaignRow): number | null {
  return c.max_discount === null ? null : c.max_discount - c.discount_used;
}

export function budgetExhausted(c: CampaignRow): boolean {
  return (c.max_coupons !== null && c.issued_count >= c.max_coupons) || (c.max_discount !== null && c.discount_used >= c.max_discount);
}

/**
 * Why a campaign would not give this member a coupon now, or null if it would. Issuing and the
 * terminal's "you will receive" both ask this, so the terminal never promises what issuing refuses.
 * The budget and per-member limit come from `row`, which issuing re-reads under lock.
 */
export function refusalOf(
  campaign: Campaign,
  row: CampaignRow,
  e: {
    member: AudienceMember;
    at: number;
    month: number;
    holdout: boolean;
    held: readonly CouponRow[];
    earnedByPayment: boolean;
    birthdayTimeZone: string | null;
  },
): CouponRefusal | null {
  return couponRefusal({
    campaign,
    budgetExhausted: budgetExhausted(row),
    perMemberLimit: row.per_member_limit,
    member: e.member,
    at: e.at,
    month: e.month,
    holdout: e.holdout,
    held: e.held.map((c) => ({ status: c.status, validTo: c.valid_to, issuedAt: c.issued_at })),
    earnedByPayment: e.earnedByPayment,
    birthdayTimeZone: e.birthdayTimeZone,
  });
}

/** An inbox row: only what the item says is given; the rest is empty and unread. */
export function inboxRow(
  item: Pick<InboxRow, 'id' | 'shopper_id' | 'merchant_id' | 'kind' | 'title' | 'body' | 'created_at'> &
    Partial<Pick<InboxRow, 'coupon_id' | 'payment_id' | 'amount' | 'discount' | 'currency'>>,
): InboxRow {
  return { coupon_id: null, payment_id: null, amount: null, discount: 0, currency: null, read_at: null, ...item };
}

/** A campaign's or a message's text: a title of up to 80 characters and a body of up to 1000. */
export function checkMessage(title: string, body: string): void {
  if (title.trim() === '' || title.length > 80 || body.length > 1000)
    throw new DomainError('invalid', 'message_invalid', 'A message has a title (up to 80 characters) and a body (up to 1000).');
}

/**
 * What every part of the marketing service shares: its dependencies, the events sink, the
 * campaign lookup that answers not_found, the merchant's time zone and month, and coupon titles.
 */
export function createContext(deps: MarketingServiceDeps) {
  const { repo, members, clock, ids, holdoutSecret } = deps;
  const publish = async (tx: MarketingRepo, e: MarketingEvent): Promise<void> => {
    await deps.events?.publish(tx.executor, e);
  };

  async function mustCampaign(merchantId: string, id: string): Promise<CampaignRow> {
    const c = await repo.campaign(id);
    if (!c || c.merchant_id !== merchantId) throw new DomainError('not_found', 'campaign_not_found', 'No such campaign.');
    return c;
  }

  async function timeZone(merchantId: string): Promise<string> {
    return members.programme(merchantId).then(
      (p) => p.timeZone,
      () => 'UTC',
    );
  }

  async function currentMonth(merchantId: string, at: number): Promise<number> {
    return localTime(at, await timeZone(merchantId)).month;
  }

  /** Coupons with their campaign's title and budget left. */
  async function withTitles(rows: CouponRow[]): Promise<Coupon[]> {
    const campaigns = new Map<string, CampaignRow>();
    const out: Coupon[] = [];
    for (const r of rows) {
      let c = campaigns.get(r.campaign_id);
      if (!c) {
        c = (await repo.campaign(r.campaign_id))!;
        campaigns.set(c.id, c);
      }
      out.push(toCoupon(r, couponTitle(toCampaign(c)), budgetLeft(c)));
    }
    return out;
  }

  return { repo, members, clock, ids, holdoutSecret, publish, mustCampaign, timeZone, currentMonth, withTitles };
}

export type MarketingContext = ReturnType<typeof createContext>;
